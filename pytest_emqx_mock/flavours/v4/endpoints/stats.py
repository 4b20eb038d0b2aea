"""`emqx_mgmt_api_stats`: each running node's `emqx_stats:getstats/0`, in EMQX 4.4's names:
no `cluster_sessions` and `delayed` (EMQX 5's), and `routes` beside `topics`, which
`emqx_router_helper` sets to the same size."""

from __future__ import annotations

from typing import Any

from ....http.routing import Call
from ....state.broker import Broker
from ..api import RestApi, reachable

api = RestApi()
routes = api.routes

#: The stats of EMQX 4.4.19 (`emqx_stats`' `?CONNECTION_STATS` ... `?RETAINED_STATS`), without
#: their `.count` / `.max` suffix.
COUNTED = (
    "connections", "live_connections", "channels", "sessions", "topics", "suboptions",
    "subscribers", "subscriptions", "subscriptions.shared", "routes", "retained",
)  # fmt: skip


def node_stats(broker: Broker, node: str) -> dict[str, int]:
    table = broker.monitor.stats.refresh(broker)[node]
    return {f"{name}.{kind}": table[f"{'topics' if name == 'routes' else name}.{kind}"] for name in COUNTED for kind in ("count", "max")}


@api.rest("list_stats", "GET", "/stats/", "A list of stats of all nodes in the cluster")
def list_stats(call: Call) -> list[dict[str, Any]]:
    return [{"node": node, "stats": node_stats(call.broker, node)} for node in call.broker.running_nodes]


@api.rest("lookup_node_stats", "GET", "/nodes/:atom:node/stats/", "A list of stats of a node")
def lookup_node_stats(call: Call) -> dict[str, int]:
    return node_stats(call.broker, reachable(call))
