"""Samples of the broker's gauges and counters over time, for `/monitor`."""

from __future__ import annotations

from typing import Any


class Monitor:
    """The sample history of one broker (filled in for issue 3)."""

    def __init__(self) -> None:
        self.samples: list[dict[str, Any]] = []
