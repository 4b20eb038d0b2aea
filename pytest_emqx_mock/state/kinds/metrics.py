"""The nodes' metrics counters, in EMQX's names (a snapshot writes those that are not 0)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..fields import checked, counter_map
from ..metrics import REPORTED_METRICS, Metrics
from ..registry import Building, Kind, Section, register

if TYPE_CHECKING:
    from ..broker import Broker


def _reset(broker: Broker) -> None:
    broker.metrics = Metrics()


def _wire(broker: Broker) -> None:
    broker.metrics.before_read = broker.settle  # the counters count what the filter logs hold


def _load(building: Building, value: Any) -> None:
    counters = counter_map(REPORTED_METRICS)
    for node, values in checked(value, dict.fromkeys(building.state.nodes, counters)).items():
        for name, amount in values.items():
            if amount:
                building.state.metrics.inc(node, name, amount)


def _dump(broker: Broker) -> dict[str, dict[str, int]]:
    document = {}
    for node in broker.nodes:
        counters = {name: value for name, value in broker.metrics.node(node).items() if value}
        if counters:
            document[node] = counters
    return document


register(Kind("metrics", _reset, _wire, sections=(Section("metrics", _load, _dump, snapshot_rank=12),)))
