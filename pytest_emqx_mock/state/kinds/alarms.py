"""Alarms, active and deactivated (the history `GET /alarms?activated=false` lists)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cluster import Alarm
from ..fields import (
    Check,
    checked,
    json_object,
    non_empty,
    optional,
    plain,
    text,
    timestamp,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register

if TYPE_CHECKING:
    from ..broker import Broker

ALARM_CHECKS: dict[str, Check] = {
    "name": non_empty,
    "node": non_empty,
    "message": text,
    "details": json_object,
    "activate_at": timestamp,
    "deactivate_at": optional(timestamp),
}


def _reset(broker: Broker) -> None:
    broker.alarms = []


def _load(building: Building, item: Any) -> None:
    fields = checked(item, ALARM_CHECKS, required=("name",))
    node = building.node(fields.pop("node", building.state.api_node), "node")
    building.state.alarms.append(Alarm(fields.pop("name"), node, **fields))


def _dump(broker: Broker) -> list[dict[str, Any]]:
    return [
        {
            "name": alarm.name, "node": alarm.node, "message": alarm.message, "details": plain(alarm.details),
            "activate_at": alarm.activate_at, "deactivate_at": alarm.deactivate_at,
        }  # fmt: skip
        for alarm in broker.alarms
    ]


register(
    Kind("alarms", _reset, sections=(Section("alarms", each_item(_load), _dump, snapshot_rank=10),)),
    Seeding("alarms", "add_alarm", rank=5, checks=ALARM_CHECKS, required=("name",)),
)
