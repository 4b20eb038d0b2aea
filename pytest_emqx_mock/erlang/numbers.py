"""Erlang's arithmetic where it differs from Python's."""

from __future__ import annotations

import math


def erlang_round(value: float) -> int:
    """Erlang's `round/1`: halves away from zero (Python's `round` goes to the even one)."""
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)
