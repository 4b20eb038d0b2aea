"""hocon's value types as EMQX 5.8.9 (hocon 0.44) parses them: durations, byte sizes,
booleans and rates. Each parser answers the converted value, or None where EMQX refuses the text.

`emqx_schema:to_duration_ms/1` and friends first try `hocon_postprocess:duration/1`, then
`string:to_integer/1` on the whole text: so `"1h30m"`, `"500ms"`, `"1.5s"` (decimals are
allowed, the total is rounded) and `"1500"` are all durations, while `"1.5"`, `" 1s"` and
`"1 s"` are not. Byte sizes (`to_bytesize/1`) take an integer, or an integer with a `b`, `kb`,
`mb` or `gb` unit (all lower or all upper case) after optional spaces.
"""

from __future__ import annotations

import re
from typing import Any

from .numbers import erlang_round

_DURATION_UNITS = {"f": 14 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
# hocon_postprocess's regex, one `<number><unit>` at a time; PCRE's `$` (and Python's) also
# matches before a final newline, so "1s\n" is a duration in EMQX too.
_DURATION_PART = re.compile(r"([0-9.]+)(ms|MS|f|F|w|W|d|D|h|H|m|M|s|S)")
_DURATION = re.compile(r"(?:[0-9.]+(?:ms|MS|f|F|w|W|d|D|h|H|m|M|s|S))+$")
# The Erlang source writes "^\s*...": inside an Erlang string `\s` is a plain space.
_BYTESIZE = re.compile(r"^ *([0-9]+)(b|B|kb|KB|mb|MB|gb|GB)$")
_BYTE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
# `string:to_integer/1` must consume the whole text: a sign and digits, nothing around them.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_RATE = re.compile(r"^\s*(?:([0-9]+[a-zA-Z]*)(?:/([0-9]*)([msh dMSHD]{1,2}))?\s*$)|^infinity\s*$")
#: `?MAX_INT_TIMEOUT_MS`: the largest `timeout_duration_ms()`.
MAX_TIMEOUT_MS = 4294967295


def _to_integer(text: str) -> int | None:
    return int(text) if _INTEGER.fullmatch(text) else None


def duration_ms(value: Any) -> int | None:
    """`emqx_schema:to_duration_ms/1` (and `to_duration/1`, which agrees on every text): an
    integer of milliseconds as is, a text like `1h30m`, `500ms` or `1.5s`, or a text integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    if _DURATION.match(value):
        total = 0.0
        for number, unit in _DURATION_PART.findall(value):
            # `get_decimal/1`: ".5" reads as 0.5; a number with two dots crashes hocon's
            # parser, which the fake reports as the text not being a duration
            try:
                total += float("0" + number if number.startswith(".") else number) * _DURATION_UNITS[unit.lower()]
            except ValueError:
                return None
        return erlang_round(total)
    return _to_integer(value)


def timeout_duration_ms(value: Any) -> int | str | None:
    """`emqx_schema:to_timeout_duration_ms/1`: a duration up to MAX_TIMEOUT_MS; above it, the
    text EMQX refuses it with (a str), and None for no duration at all."""
    parsed = duration_ms(value)
    if parsed is not None and parsed > MAX_TIMEOUT_MS:
        return f"timeout value too large (max: {MAX_TIMEOUT_MS} ms)"
    return parsed


def bytesize(value: Any) -> int | None:
    """`emqx_schema:to_bytesize/1`: an integer of bytes as is, `1MB`, `512kb`, or a text integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    match = _BYTESIZE.match(value)
    if match:
        return int(match.group(1)) * _BYTE_UNITS[match.group(2).lower()]
    return _to_integer(value)


def boolean(value: Any) -> bool | None:
    """typerefl's `boolean()`: true and false, or their texts (white space around ignored)."""
    if value is True or value is False:
        return value
    if isinstance(value, str) and value.strip() in ("true", "false"):
        return value.strip() == "true"
    return None


def valid_rate(value: Any) -> bool:
    """Whether `emqx_limiter_schema:to_rate/1` accepts the text (`1000/s`, `10/1m`, `infinity`)."""
    if not isinstance(value, str):
        return False
    match = _RATE.match(value)
    if match is None:
        return False
    if value.strip() == "infinity":
        return True
    quota, period, unit = match.groups()
    amount = re.match(r"^([0-9]+)", quota)
    if amount is None or int(amount.group(1)) == 0:
        return False
    if unit is None:
        return True
    interval = duration_ms((period or "1") + unit)
    return interval is not None and interval > 0
