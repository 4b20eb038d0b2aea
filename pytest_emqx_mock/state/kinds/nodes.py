"""The cluster's nodes: the config's after a reset; a scenario may describe another cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..cluster import RUNNING, STOPPED, Node
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    describe,
    expected_of,
    expecting,
    integer,
    must,
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
    broker.nodes = {name: Node(name, version=broker.config.release) for name in broker.config.nodes}


def _load(building: Building, value: Any) -> None:
    """Names, or objects with a `name` and any other `Node` field; they replace the config's."""
    listed = _listed(value, _node_fields)
    building.state.nodes = {name: Node(name, **{"version": building.config.release, **fields}) for name, fields in listed.items()}


def _node_fields(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": node_name(item)}
    if not isinstance(item, Mapping):
        raise must(f"{expected_of(node_name)} or an object", item)
    return checked(item, NODE_CHECKS, required=("name",))


@expecting("a list of node names (name@host)")
def node_names(value: Any) -> tuple[str, ...]:
    """A cluster's nodes by name (`EmqxServer(nodes=...)`, the marker's `nodes`), checked as
    a scenario's `nodes` are."""
    return tuple(_listed(value, lambda item: {"name": node_name(item)}))


def _listed(value: Any, fields_of: Callable[[Any], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A cluster's nodes, each item's fields (`fields_of`) by its name: at least one, each once."""
    nodes: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(a_list(value)):
        try:
            fields = fields_of(item)
            name = fields.pop("name")
            if name in nodes:
                raise Problem(f"{describe(name)} is listed twice", *([] if isinstance(item, str) else ["name"]))
        except Problem as problem:
            raise problem.within(index) from None
        nodes[name] = fields
    if not nodes:
        raise Problem("a cluster needs at least one node")
    return nodes


def _dump(broker: Broker) -> list[dict[str, Any]]:
    return [{key: getattr(node, key) for key in NODE_CHECKS} for node in broker.nodes.values()]


register(
    Kind("nodes", _reset, sections=(Section("nodes", _load, _dump, snapshot_rank=1),)),
    Seeding("node_status", "set_node_status", rank=10, checks={"node": non_empty, "status": NODE_CHECKS["status"]}, required=("node", "status")),
)
