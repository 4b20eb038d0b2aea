"""`emqx_mgmt_api_alarms` (with `emqx_alarm:format/2`); the tables and their operations are in
`state/alarms.py`. `GET /alarms` is a cluster query (`emqx_mgmt_api:cluster_query/5`) over the
running nodes, each table read backwards in chunks of `limit` rows: so activated alarms come in descending name order and
deactivated ones newest activation first, node by node, and `hasnext` follows that scan (it is
true when a page ends exactly where a chunk or a node ends but the scan has not yet seen the end).
"""

from __future__ import annotations

from typing import Any

from ....http.replies import Reply
from ....http.routing import Call, Routes
from ....state.alarms import (
    delete_deactivated,
    force_deactivate,
    microseconds,
    node_alarms,
)
from ....state.clock import now, rfc3339_ms
from ....state.cluster import Alarm
from ....state.errors import Invalid, NotFound
from ....state.paging import ets_listing

routes = Routes()


def _div(numerator: int, denominator: int) -> int:
    """Erlang's `div`: truncates toward zero."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def _rfc3339(at_us: int) -> str:
    """`emqx_alarm:to_rfc3339/1`: milliseconds precision, with offset."""
    return rfc3339_ms(_div(at_us, 1000) / 1000)


def alarm_view(alarm: Alarm, now_us: int) -> dict[str, Any]:
    """`emqx_alarm:format/2`: `duration` in milliseconds, up to now while active."""
    activate_at = microseconds(alarm.activate_at)
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
        deactivate_at = microseconds(alarm.deactivate_at)
        view["duration"] = _div(deactivate_at - activate_at, 1000)
        view["deactivate_at"] = _rfc3339(deactivate_at)
    return view


@routes.get("/alarms")
def list_alarms(call: Call) -> dict[str, Any]:
    broker, query = call.broker, call.query
    page, limit = query["page"], query["limit"]
    activated = query.get("activated", True)
    tables = [node_alarms(broker, node, activated) for node in broker.running_nodes]
    rows, meta = ets_listing(tables, page, limit)
    now_us = microseconds(now())
    return {"data": [alarm_view(alarm, now_us) for alarm in rows], "meta": meta}


@routes.delete("/alarms")
def delete_alarms(call: Call) -> Reply:
    delete_deactivated(call.broker)
    return Reply(204)


@routes.post("/alarms/force_deactivate", errors={Invalid: (400, "INVALID_PARAMETER"), NotFound: (400, "NOT_FOUND")})
def deactivate_alarm(call: Call) -> Reply:
    force_deactivate(call.broker, call.body.get("name"))
    return Reply(204)
