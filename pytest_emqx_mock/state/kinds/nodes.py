"""The cluster's nodes: the config's after a reset; a scenario may describe another cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cluster import RUNNING, STOPPED, Node
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    describe,
    integer,
    node_name,
    non_empty,
    number,
    timestamp,
)
from ..registry import Building, Kind, Section, Seeding, register

if TYPE_CHECKING:
    from ..broker import Broker

NODE_CHECKS: dict[str, Check] = {
    "name": node_name,
    "status": choice(RUNNING, STOPPED),
    "role": choice("core", "replicant"),
    "version": non_empty,
    "otp_release": non_empty,
    "started_at": timestamp,
    "memory_total": non_empty,
    "memory_used": non_empty,
    "max_fds": integer(),
    "process_available": integer(),
    "load1": number,
    "load5": number,
    "load15": number,
}


def _reset(broker: Broker) -> None:
    broker.nodes = {name: Node(name, version=broker.config.version) for name in broker.config.nodes}


def _load(building: Building, value: Any) -> None:
    """Names, or objects with a `name` and any other `Node` field; they replace the config's."""
    nodes: dict[str, Node] = {}
    for index, item in enumerate(a_list(value)):
        try:
            fields = {"name": node_name(item)} if isinstance(item, str) else checked(item, NODE_CHECKS, required=("name",))
            name = fields.pop("name")
            if name in nodes:
                raise Problem(f"{describe(name)} is listed twice", *([] if isinstance(item, str) else ["name"]))
        except Problem as problem:
            raise problem.within(index) from None
        nodes[name] = Node(name, **{"version": building.config.version, **fields})
    if not nodes:
        raise Problem("a cluster needs at least one node")
    building.state.nodes = nodes


def _dump(broker: Broker) -> list[dict[str, Any]]:
    return [{key: getattr(node, key) for key in NODE_CHECKS} for node in broker.nodes.values()]


register(
    Kind("nodes", _reset, sections=(Section("nodes", _load, _dump, snapshot_rank=1),)),
    Seeding("node_status", "set_node_status", rank=10, checks={"node": non_empty, "status": NODE_CHECKS["status"]}, required=("node", "status")),
)
