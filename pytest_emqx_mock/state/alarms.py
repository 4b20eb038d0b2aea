"""The alarm operations of `emqx_alarm` and `emqx_mgmt` over the cluster's alarm tables.

EMQX keeps two node-local tables, both `ordered_set`: activated alarms keyed by name and
deactivated ("historical") alarms keyed by their activation time in microseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .clock import now
from .cluster import Alarm
from .errors import Invalid, NotFound

if TYPE_CHECKING:
    from .broker import Broker

#: `alarm.size_limit`: deactivating an alarm on a node that already holds this many
#: deactivated alarms first drops the one activated earliest.
SIZE_LIMIT = 1000


def microseconds(epoch_seconds: float) -> int:
    """EMQX stores alarm times as integer microseconds."""
    return round(epoch_seconds * 1_000_000)


def node_alarms(broker: Broker, node: str, activated: bool) -> list[Alarm]:
    """One node's table of activated or deactivated alarms, in the order EMQX reads it
    (`ets:select_reverse`): names descending, or activation times descending."""
    alarms = [a for a in broker.alarms if a.node == node and a.activated is activated]
    if activated:
        return sorted(alarms, key=lambda a: a.name, reverse=True)
    return sorted(alarms, key=lambda a: microseconds(a.activate_at), reverse=True)


def delete_deactivated(broker: Broker, node: str | None = None) -> None:
    """`emqx_mgmt:delete_all_deactivated_alarms/0`: on every running node (`/1`: on `node`,
    when it runs)."""
    with broker.lock:
        nodes = set(broker.running_nodes) if node is None else set(broker.running_nodes) & {node}
        broker.alarms[:] = [a for a in broker.alarms if a.activated or a.node not in nodes]


def deactivate(broker: Broker, alarm: Alarm) -> None:
    """`emqx_alarm:deactivate/1`: the alarm moves to its node's history (which holds at most
    SIZE_LIMIT alarms), keeping its message and details."""
    with broker.lock:
        history = node_alarms(broker, alarm.node, activated=False)
        if len(history) >= SIZE_LIMIT:
            broker.alarms.remove(history[-1])  # the earliest activated
        alarm.deactivate_at = now()


def force_deactivate(broker: Broker, name: str | None) -> None:
    """`emqx_mgmt_api_alarms:force_deactivate`: the named alarm of the node serving the
    request (the tables are node-local)."""
    if name is None or name == "":
        raise Invalid("name is required")
    with broker.lock:
        found = [a for a in node_alarms(broker, broker.api_node, activated=True) if a.name == name]
        if not found:
            raise NotFound("Alarm not found or already deactivated")
        for alarm in found:
            deactivate(broker, alarm)
