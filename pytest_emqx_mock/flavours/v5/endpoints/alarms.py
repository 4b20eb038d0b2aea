"""`emqx_mgmt_api_alarms` (with `emqx_alarm` for the alarm tables and their formatting).

EMQX keeps two node-local tables, both `ordered_set`: activated alarms keyed by name and
deactivated ("historical") alarms keyed by their activation time in microseconds. `GET /alarms`
is a cluster query (`emqx_mgmt_api:cluster_query/5`) over the running nodes, each table read
backwards in chunks of `limit` rows: so activated alarms come in descending name order and
deactivated ones newest activation first, node by node, and `hasnext` follows that scan (it is
true when a page ends exactly where a chunk or a node ends but the scan has not yet seen the end).
"""

from __future__ import annotations

from typing import Any

from ....http.replies import ApiError, Reply
from ....http.routing import Call, Routes
from ....state.broker import Broker
from ....state.clock import now, rfc3339_ms
from ....state.cluster import Alarm
from ....state.paging import ets_page

routes = Routes()


#: `alarm.size_limit`: deactivating an alarm on a node that already holds this many
#: deactivated alarms first drops the one activated earliest.
SIZE_LIMIT = 1000


def _us(epoch_seconds: float) -> int:
    """EMQX stores alarm times as integer microseconds."""
    return round(epoch_seconds * 1_000_000)


def _div(numerator: int, denominator: int) -> int:
    """Erlang's `div`: truncates toward zero."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def _rfc3339(microseconds: int) -> str:
    """`emqx_alarm:to_rfc3339/1`: milliseconds precision, with offset."""
    return rfc3339_ms(_div(microseconds, 1000) / 1000)


def alarm_view(alarm: Alarm, now_us: int) -> dict[str, Any]:
    """`emqx_alarm:format/2`: `duration` in milliseconds, up to now while active."""
    activate_at = _us(alarm.activate_at)
    view: dict[str, Any] = {
        "node": alarm.node,
        "name": alarm.name,
        "message": alarm.message,
        "details": dict(alarm.details),
        "activate_at": _rfc3339(activate_at),
    }
    if alarm.deactivate_at is None:
        view["duration"] = _div(now_us - activate_at, 1000)
    else:
        deactivate_at = _us(alarm.deactivate_at)
        view["duration"] = _div(deactivate_at - activate_at, 1000)
        view["deactivate_at"] = _rfc3339(deactivate_at)
    return view


def node_alarms(broker: Broker, node: str, activated: bool) -> list[Alarm]:
    """One node's table of activated or deactivated alarms, in the order EMQX reads it
    (`ets:select_reverse`): names descending, or activation times descending."""
    alarms = [a for a in broker.alarms if a.node == node and a.activated is activated]
    if activated:
        return sorted(alarms, key=lambda a: a.name, reverse=True)
    return sorted(alarms, key=lambda a: _us(a.activate_at), reverse=True)


@routes.get("/alarms")
def list_alarms(call: Call) -> dict[str, Any]:
    broker, query = call.broker, call.query
    page, limit = query["page"], query["limit"]
    activated = query.get("activated", True)
    tables = [node_alarms(broker, node, activated) for node in broker.running_nodes]
    rows, hasnext = ets_page(tables, page, limit)
    now_us = _us(now())
    meta = {"page": page, "limit": limit, "count": sum(len(table) for table in tables), "hasnext": hasnext}
    return {"data": [alarm_view(alarm, now_us) for alarm in rows], "meta": meta}


def delete_deactivated(broker: Broker) -> None:
    """`emqx_mgmt:delete_all_deactivated_alarms/0`: on every running node."""
    running = set(broker.running_nodes)
    broker.alarms[:] = [a for a in broker.alarms if a.activated or a.node not in running]


def deactivate(broker: Broker, alarm: Alarm) -> None:
    """`emqx_alarm:deactivate/1`: the alarm moves to its node's history (which holds at most
    SIZE_LIMIT alarms), keeping its message and details."""
    history = node_alarms(broker, alarm.node, activated=False)
    if len(history) >= SIZE_LIMIT:
        broker.alarms.remove(history[-1])  # the earliest activated
    alarm.deactivate_at = now()


@routes.delete("/alarms")
def delete_alarms(call: Call) -> Reply:
    delete_deactivated(call.broker)
    return Reply(204)


@routes.post("/alarms/force_deactivate")
def force_deactivate(call: Call) -> Reply:
    """Deactivate the named alarm of the node serving the request (the tables are node-local)."""
    name = call.body.get("name")
    if name is None or name == "":
        raise ApiError(400, "INVALID_PARAMETER", "name is required")
    broker = call.broker
    found = [a for a in node_alarms(broker, broker.api_node, activated=True) if a.name == name]
    if not found:
        raise ApiError(400, "NOT_FOUND", "Alarm not found or already deactivated")
    for alarm in found:
        deactivate(broker, alarm)
    return Reply(204)
