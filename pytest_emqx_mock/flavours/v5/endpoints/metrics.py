"""`emqx_mgmt_api_metrics` (`/metrics`), `emqx_mgmt_api_stats` (`/stats`) and
`emqx_dashboard_monitor_api` (`/monitor`, `/monitor_current`): the broker's counters, its
stats, and the dashboard's samples of both over time."""

from __future__ import annotations

from typing import Any

from ....http.replies import ApiError, Reply
from ....http.routing import Call, Routes
from ....state.broker import Broker

routes = Routes()


def node_metrics(broker: Broker, node: str) -> dict[str, int]:
    """`emqx_metrics:all/0` of one node."""
    return broker.metrics.node(node)


def running_node(broker: Broker, name: str) -> str:
    """`emqx_utils_api:with_node/2`: a running node of the cluster, or 404."""
    if name not in broker.running_nodes:
        raise ApiError(404, "NOT_FOUND", f"Node not found: {name}")
    return name


def answering_node(broker: Broker, name: str) -> str:
    """A running node whose rpc answers: one that hangs fails the call after the wait, and
    `with_node/2` turns its `{error, timeout}` into 400 BAD_REQUEST."""
    timeout = broker.nodes[running_node(broker, name)].rpc_timeout
    if timeout is not None:
        raise ApiError(400, "BAD_REQUEST", "timeout", delay=timeout)
    return name


# -- /metrics -------------------------------------------------------------------------------


@routes.get("/metrics")
def metrics(call: Call) -> Any:
    """`aggregate=true`: every running node's counters summed (`node` ignored); otherwise
    one object per node, each with its `node` - only the named node's when `node` is given,
    and none when that is not a running node (EMQX's RPC to it fails and is skipped)."""
    broker = call.broker
    if call.query.get("aggregate", False):
        total = dict.fromkeys(node_metrics(broker, broker.api_node), 0)
        for node in broker.running_nodes:
            for name, value in node_metrics(broker, node).items():
                total[name] += value
        return total
    nodes = broker.running_nodes
    if "node" in call.query:
        nodes = [call.query["node"]] if call.query["node"] in nodes else []
    return [{"node": node, **node_metrics(broker, node)} for node in nodes]


# -- /stats ---------------------------------------------------------------------------------


@routes.get("/stats")
def stats(call: Call) -> Any:
    """`aggregate=true`: `emqx_mgmt:get_stats/0`; otherwise one object per running node, each
    with its `node`, the last running node first (EMQX folds them into a list head first)."""
    broker = call.broker
    if call.query.get("aggregate"):
        return broker.monitor.stats.aggregate(broker)
    tables = broker.monitor.stats.refresh(broker)
    return [{"node": node, **tables[node]} for node in reversed(broker.running_nodes)]


# -- /monitor -------------------------------------------------------------------------------


@routes.get("/monitor")
def monitor(call: Call) -> list[dict[str, int]]:
    return call.broker.monitor.samplers(call.broker, None, call.query.get("latest"))


@routes.delete("/monitor")
def clear_monitor(call: Call) -> Reply:
    call.broker.monitor.clear(call.broker)
    return Reply(204)


@routes.get("/monitor/nodes/{node}")
def monitor_node(call: Call) -> list[dict[str, int]]:
    broker = call.broker
    return broker.monitor.samplers(broker, running_node(broker, call.path["node"]), call.query.get("latest"))


@routes.get("/monitor_current")
def monitor_current(call: Call) -> dict[str, int]:
    return call.broker.monitor.current(call.broker, None)


@routes.get("/monitor_current/nodes/{node}")
def monitor_current_node(call: Call) -> dict[str, int]:
    broker = call.broker
    return broker.monitor.current(broker, running_node(broker, call.path["node"]))
