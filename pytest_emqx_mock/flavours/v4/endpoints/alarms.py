"""`emqx_mgmt_api_alarms`: each running node's alarms (`emqx_mgmt:get_alarms/2`), activated,
deactivated or all; deactivating one by node and name; clearing the deactivated ones.

An alarm shows its times in microseconds, `deactivate_at` as "infinity" while it is active, and
`duration` (`add_duration_field/1`: until now, or until it was deactivated). A node lists its
activated alarms, then the deactivated ones (`ets:tab2list/1` of each table), each list built
in reverse (the accumulator of `add_duration_field/3`)."""

from __future__ import annotations

import time
from typing import Any

from ....http.routing import Call, Handler
from ....state.alarms import deactivate, delete_deactivated, microseconds, node_alarms
from ....state.broker import Broker
from ....state.cluster import Alarm
from ..api import RestApi, crash, failed_without_code, param, params

api = RestApi()
routes = api.routes


def alarm_row(alarm: Alarm, now_us: int) -> dict[str, Any]:
    activated = alarm.deactivate_at is None
    activate_at = microseconds(alarm.activate_at)
    end = now_us if activated else microseconds(alarm.deactivate_at or 0)
    return {
        "name": alarm.name,
        "details": dict(alarm.details),
        "message": alarm.message,
        "activate_at": activate_at,
        "deactivate_at": "infinity" if activated else end,
        "activated": activated,
        "duration": end - activate_at,
    }


def _alarms(broker: Broker, node: str, which: str) -> list[dict[str, Any]]:
    """`emqx_mgmt:get_alarms(Node, Type)`: `ets:tab2list/1` (ascending keys) of the activated
    table, then the deactivated one, reversed by the accumulator."""
    now_us = microseconds(time.time())
    found: list[Alarm] = []
    if which in ("all", "activated"):
        found += node_alarms(broker, node, activated=True)[::-1]
    if which in ("all", "deactivated"):
        found += node_alarms(broker, node, activated=False)[::-1]
    return [alarm_row(alarm, now_us) for alarm in reversed(found)]


def _running(call: Call) -> str:
    """The path's node: one that is down fails the call, which cannot be encoded: a crash."""
    node = call.path["node"]
    if not call.broker.nodes[node].running:
        raise crash()
    return node


def _cluster_listing(which: str) -> Handler:
    return lambda call: [{"node": node, "alarms": _alarms(call.broker, node, which)} for node in call.broker.running_nodes]


def _node_listing(which: str) -> Handler:
    return lambda call: _alarms(call.broker, _running(call), which)


#: The listings, as EMQX declares them: each table (or both), of the cluster and of a node.
for _which, _suffix, _cluster, _node in (
    ("all", "", ("list_all_alarms", "List all alarms in the cluster"), ("list_node_alarms", "List all alarms on a node")),
    ("activated", "/activated", ("list_all_activated_alarms", "List all activated alarm in the cluster"), ("list_node_activated_alarms", "List all activated alarm on a node")),
    ("deactivated", "/deactivated", ("list_all_deactivated_alarms", "List all deactivated alarm in the cluster"), ("list_node_deactivated_alarms", "List all deactivated alarm on a node")),
):  # fmt: skip
    api.rest(_cluster[0], "GET", f"/alarms{_suffix}", _cluster[1])(_cluster_listing(_which))
    api.rest(_node[0], "GET", f"nodes/:atom:node/alarms{_suffix}", _node[1])(_node_listing(_which))


@api.rest("deactivate_alarm", "POST", "/alarms/deactivated", "Delete the special alarm on a node")
def deactivate_alarm(call: Call) -> None:
    """`deactivate/2`: `node` and `name` are text (`binary_to_atom/2` crashes on anything
    else, a missing one included); a node that is no running node fails its call, an alarm that
    is not active there is `not_found`; either way without a code."""
    pairs = params(call)
    node, name = param(pairs, "node"), param(pairs, "name")
    if not isinstance(node, str) or not isinstance(name, str):
        raise crash()
    if node not in call.broker.running_nodes:
        raise failed_without_code("nodedown")
    found = [alarm for alarm in node_alarms(call.broker, node, activated=True) if alarm.name == name]
    if not found:
        raise failed_without_code("not_found")
    for alarm in found:
        deactivate(call.broker, alarm)


@api.rest("delete_all_deactivated_alarms", "DELETE", "/alarms/deactivated", "Delete all deactivated alarm in the cluster")
def delete_all_deactivated_alarms(call: Call) -> None:
    delete_deactivated(call.broker)


@api.rest("delete_node_deactivated_alarms", "DELETE", "nodes/:atom:node/alarms/deactivated", "Delete all deactivated alarm on a node")
def delete_node_deactivated_alarms(call: Call) -> None:
    """`emqx_mgmt:delete_all_deactivated_alarms/1`: its result is not looked at."""
    delete_deactivated(call.broker, call.path["node"])
