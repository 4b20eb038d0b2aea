"""Time as EMQX shows it: RFC 3339 text with an explicit offset, epoch integers on input."""

from __future__ import annotations

import time
from datetime import datetime, timezone

now = time.time


def rfc3339_ms(epoch_seconds: float) -> str:
    """`2024-01-01T12:34:56.789+00:00`: client times (EMQX never writes `Z`)."""
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).isoformat(timespec="milliseconds")


def rfc3339_s(epoch_seconds: float) -> str:
    """`2024-01-01T12:34:56+00:00`: API key, ban and alarm times."""
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).isoformat(timespec="seconds")


def parse_rfc3339(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 date-time, or None when `text` is not one."""
    if len(text) < 20 or text[10] not in "Tt ":
        return None
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()
