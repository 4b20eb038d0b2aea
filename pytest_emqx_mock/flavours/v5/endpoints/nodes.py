"""`emqx_mgmt_api_nodes`: the cluster's nodes, and one node's metrics and stats."""

from __future__ import annotations

from typing import Any

from ....http.routing import Call, Routes
from ....state.broker import EE, Broker
from ....state.monitor import uptime_ms
from .metrics import answering_node, node_metrics, running_node

routes = Routes()

#: `code:root_dir()` of EMQX's release as its Docker image installs it, and its log folder.
SYS_PATH = "/opt/emqx"
LOG_PATH = "/opt/emqx/log"
#: Erlang processes a node runs besides one per client connection.
BASE_PROCESSES = 574


def node_info(broker: Broker, name: str, stats: dict[str, dict[str, int]]) -> dict[str, Any]:
    """`emqx_mgmt:node_info/0` of a running node, memory as `emqx_mgmt_util:kmg/1` writes it."""
    node = broker.nodes[name]
    table = stats[name]
    return {
        "node": name,
        "connections": table["channels.count"],
        "live_connections": table["live_connections.count"],
        "cluster_sessions": table["cluster_sessions.count"],
        "load1": node.load1,
        "load5": node.load5,
        "load15": node.load15,
        "max_fds": node.max_fds,
        "memory_total": node.memory_total,
        "memory_used": node.memory_used,
        "node_status": "running",
        "otp_release": node.otp_release,
        "process_available": node.process_available,
        "process_used": BASE_PROCESSES + table["channels.count"],
        "uptime": uptime_ms(node.started_at),
        "version": node.version,
        "edition": "Enterprise" if broker.edition == EE else "Opensource",
        "role": node.role,
        "log_path": LOG_PATH,
        "sys_path": SYS_PATH,
    }


@routes.get("/nodes")
def list_nodes(call: Call) -> list[dict[str, Any]]:
    """Running nodes, then the stopped core nodes (a stopped replicant is not a member)."""
    broker = call.broker
    stats = broker.monitor.stats.refresh(broker)
    found = [node_info(broker, name, stats) for name in broker.running_nodes]
    found += [
        {"node": name, "node_status": "stopped", "role": "core"}
        for name, node in broker.nodes.items()
        if not node.running and node.role == "core"
    ]
    return found


@routes.get("/nodes/{node}")
def get_node(call: Call) -> dict[str, Any]:
    broker = call.broker
    name = running_node(broker, call.path["node"])
    return node_info(broker, name, broker.monitor.stats.refresh(broker))


@routes.get("/nodes/{node}/metrics")
def get_node_metrics(call: Call) -> dict[str, int]:
    return node_metrics(call.broker, answering_node(call.broker, call.path["node"]))


@routes.get("/nodes/{node}/stats")
def get_node_stats(call: Call) -> dict[str, int]:
    broker = call.broker
    name = answering_node(broker, call.path["node"])
    return broker.monitor.stats.refresh(broker)[name]
