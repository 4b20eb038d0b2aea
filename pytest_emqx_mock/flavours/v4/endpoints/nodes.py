"""`emqx_mgmt_api_nodes`: the cluster's nodes as `emqx_mgmt:node_info/1` describes them."""

from __future__ import annotations

import time
from typing import Any

from ....http.routing import Call
from ....state.broker import Broker
from ...v5.endpoints.nodes import BASE_PROCESSES
from ..api import RestApi

api = RestApi()
routes = api.routes

#: EMQX 4.4.19's release, and the OTP / ERTS versions it is built with (`emqx_mgmt:otp_rel/0`).
VERSION = "4.4.19"
OTP_RELEASE = "24.3.4.2/12.3.2.2"


def uptime(started_at: float) -> str:
    """`emqx_sys:uptime/1`: days, hours, minutes and seconds, the leading zero ones left out."""
    seconds = max(0, int(time.time() - started_at))
    parts = [(seconds // 86400, " days"), (seconds // 3600 % 24, " hours"), (seconds // 60 % 60, " minutes"), (seconds % 60, " seconds")]
    while parts and parts[0][0] == 0:
        parts.pop(0)
    return ", ".join(f"{value}{unit}" for value, unit in parts)


def node_info(broker: Broker, name: str) -> dict[str, Any]:
    """A running node (`emqx_mgmt:node_info/1`): loads as `~.2f` text, memory as
    `emqx_mgmt_util:kmg/1` writes it, the node's channels and connected clients."""
    node = broker.nodes[name]
    table = broker.monitor.stats.refresh(broker)[name]
    return {
        "node": name,
        "node_status": "Running",
        "version": VERSION,
        "uptime": uptime(node.started_at),
        "otp_release": OTP_RELEASE,
        "memory_total": node.memory_total,
        "memory_used": node.memory_used,
        "process_available": node.process_available,
        "process_used": BASE_PROCESSES + table["channels.count"],
        "max_fds": node.max_fds,
        "connections": table["channels.count"],
        "live_connections": table["live_connections.count"],
        "load1": f"{node.load1:.2f}",
        "load5": f"{node.load5:.2f}",
        "load15": f"{node.load15:.2f}",
    }


@api.rest("list_nodes", "GET", "/nodes/", "A list of nodes in the cluster")
def list_nodes(call: Call) -> list[dict[str, Any]]:
    """The running nodes, then the stopped ones (`stopped_node_info/1`: `name`, not `node`)."""
    broker = call.broker
    found = [node_info(broker, name) for name in broker.running_nodes]
    return found + [{"name": name, "node_status": "Stopped"} for name, node in broker.nodes.items() if not node.running]


@api.rest("get_node", "GET", "/nodes/:atom:node", "Lookup a node in the cluster")
def get_node(call: Call) -> dict[str, Any]:
    """A node that is down answers the failed call's reason in place of its info."""
    name = call.path["node"]
    if not call.broker.nodes[name].running:
        return {"node": name, "error": "nodedown"}
    return node_info(call.broker, name)
