"""Retained messages (`emqx_retainer`, built-in database backend) and the retainer's config.

The raw config is what `emqx:get_raw_config([retainer])` returns on a node left at its
defaults: every field of `emqx_retainer_schema` except the hidden ones (`msg_clear_limit`,
`flow_control`, `external_backends`), values in their raw (text) form. An update is merged
into it one level deep, as EMQX's config handler does.

Reading follows `emqx_retainer_mnesia:page_read/5`: messages that have expired are skipped,
the rest sorted by publish time (ties in topic-level order); the count is the table size,
expired messages included (nothing clears them while `msg_clear_interval` is `0s`).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any, Iterator

from .clock import now
from .errors import Invalid
from .sessions import Message
from .topics import is_wildcard, matches

DEFAULT_INDEX_SPECS = [[1, 2, 3], [1, 3], [2, 3], [3]]


def default_raw_config() -> dict[str, Any]:
    """The retainer's raw config on a node left at EMQX 5.8.9's defaults."""
    return {
        "enable": True,
        "msg_expiry_interval": "0s",
        "msg_expiry_interval_override": "disabled",
        "allow_never_expire": True,
        "msg_clear_interval": "0s",
        "max_payload_size": "1MB",
        "stop_publish_clear_msg": False,
        "delivery_rate": "1000/s",
        "max_publish_rate": "1000/s",
        "backend": {
            "type": "built_in_database",
            "storage_type": "ram",
            "max_retained_messages": 0,
            "index_specs": copy.deepcopy(DEFAULT_INDEX_SPECS),
            "enable": True,
        },
    }


# -- hocon value parsers (hocon_postprocess, emqx_schema, emqx_limiter_schema) -----------------

_DURATION_UNITS = {"f": 14 * 86400_000, "w": 7 * 86400_000, "d": 86400_000, "h": 3600_000, "m": 60_000, "s": 1000, "ms": 1}
_DURATION_PART = re.compile(r"([0-9.]+)(ms|MS|f|F|w|W|d|D|h|H|m|M|s|S)")
_BYTESIZE = re.compile(r"^\s*([0-9]+)(b|B|kb|KB|mb|MB|gb|GB)$")
_BYTE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
_INTEGER = re.compile(r"^\s*[+-]?[0-9]+\s*$")
_RATE = re.compile(r"^\s*(?:([0-9]+[a-zA-Z]*)(?:/([0-9]*)([msh dMSHD]{1,2}))?\s*$)|^infinity\s*$")


def duration_ms(value: Any) -> int | None:
    """`emqx_schema:to_duration_ms/1`: `1h30m`, `500ms`, `1.5s` or an integer of ms; None if
    the text is none of these."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    text, total = value, 0.0
    while text:
        match = _DURATION_PART.match(text)
        if match is None:
            break
        number = match.group(1)
        try:
            amount = float("0" + number if number.startswith(".") else number)
        except ValueError:
            break
        total += amount * _DURATION_UNITS[match.group(2).lower()]
        text = text[match.end() :]
    else:
        if value:
            return math.floor(total + 0.5)  # hocon rounds half away from zero
    return int(value) if _INTEGER.match(value) else None


def bytesize(value: Any) -> int | None:
    """`emqx_schema:to_bytesize/1`: `1MB`, `512kb`, or an integer of bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    match = _BYTESIZE.match(value)
    if match:
        return int(match.group(1)) * _BYTE_UNITS[match.group(2).lower()]
    return int(value) if _INTEGER.match(value) else None


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


# -- the store ---------------------------------------------------------------------------------


@dataclass
class _Retained:
    message: Message
    expires_at: float  # epoch seconds; 0 is never

    @property
    def sort_key(self) -> tuple[int, list[str]]:
        return (int(self.message.publish_at * 1000), self.message.topic.split("/"))

    def live(self, at: float) -> bool:
        return self.expires_at == 0 or self.expires_at > at


def _expiry_interval(message: Message) -> int | None:
    for key in ("Message-Expiry-Interval", "message_expiry_interval"):
        if key in message.properties:
            return int(message.properties[key])
    return None


class RetainedMessages:
    """One retained message per topic, and the retainer's config; publishing an empty retained
    payload deletes the topic's message."""

    def __init__(self) -> None:
        self._by_topic: dict[str, _Retained] = {}
        self.raw_config: dict[str, Any] = default_raw_config()

    # -- config --------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """A disabled retainer stores nothing and reads as empty (its table is kept)."""
        return self.raw_config.get("enable") is not False

    def update_config(self, update: dict[str, Any]) -> dict[str, Any]:
        """Merge an (already type-checked) update into the raw config one level deep, as
        `emqx_conf:update([retainer], Update, _)` does; Invalid (the root validator's reason)
        leaves the config as it was."""
        merged = {**self.raw_config, **copy.deepcopy(update)}
        backend = merged.get("backend", {})
        if isinstance(backend, dict) and backend.get("enable") is False:
            raise Invalid("no_enabled_backend")
        self.raw_config = merged
        return self.raw_config

    def _setting(self, key: str, default: Any) -> Any:
        value = self.raw_config.get(key, default)
        return default if value is None else value

    def _expiry(self, message: Message) -> float:
        """`emqx_retainer:get_expiry_time/1`: the message's own expiry interval wins."""
        interval = _expiry_interval(message)
        if interval is not None:
            return 0 if interval == 0 else message.publish_at + interval
        default_ms = duration_ms(self._setting("msg_expiry_interval", "0s")) or 0
        return 0 if default_ms == 0 else message.publish_at + default_ms / 1000

    # -- the table -----------------------------------------------------------------------

    def holds(self, topic: str) -> bool:
        """Whether the table has a message for `topic`, live, expired or disabled."""
        return topic in self._by_topic

    def entries(self) -> Iterator[tuple[Message, float]]:
        """Every stored message with its expiry (epoch seconds, 0 for never), in the table's
        order: expired ones until cleared, and a disabled retainer's too (it keeps its table)."""
        return ((entry.message, entry.expires_at) for entry in self._by_topic.values())

    def put_as_stored(self, message: Message, expires_at: float | None = None) -> None:
        """The message as a state holds it, past what `store` would refuse now: a state may
        hold messages stored before its config changed (a lower size limit, a disabled
        retainer). Without `expires_at`, it expires as a message stored now would."""
        self._by_topic[message.topic] = _Retained(message, self._expiry(message) if expires_at is None else expires_at)

    def __len__(self) -> int:
        """The table size (`emqx_retainer:retained_count/0`): expired messages count until
        they are cleared; a disabled retainer counts 0."""
        return len(self._by_topic) if self.enabled else 0

    def __iter__(self) -> Iterator[Message]:
        """The live messages in EMQX's listing order."""
        return iter(self.matching(None))

    def store(self, message: Message) -> None:
        """A retained publish: stored (or, with an empty payload, the topic's message deleted)
        unless the retainer is disabled, the payload is over `max_payload_size`, or the
        table is full (`max_retained_messages`) and the topic is new."""
        if not self.enabled:
            return
        if not message.payload:
            self._by_topic.pop(message.topic, None)
            return
        limit = bytesize(self._setting("max_payload_size", "1MB")) or 0
        if 0 < limit < len(message.payload):
            return
        backend = self._setting("backend", {})
        most = backend.get("max_retained_messages", 0) if isinstance(backend, dict) else 0
        if most and len(self._by_topic) >= most and message.topic not in self._by_topic:
            return
        self._by_topic[message.topic] = _Retained(message, self._expiry(message))

    def get(self, topic: str) -> Message | None:
        entry = self._by_topic.get(topic)
        return entry.message if entry is not None and self.enabled and entry.live(now()) else None

    def delete(self, topic: str) -> bool:
        """`emqx_retainer:delete/1`: a topic's message, or every message a wildcard filter
        matches (expired ones too). True if any was deleted."""
        if not is_wildcard(topic):
            return self._by_topic.pop(topic, None) is not None
        doomed = [name for name in self._by_topic if matches(name, topic)]
        for name in doomed:
            del self._by_topic[name]
        return bool(doomed)

    def clear(self) -> None:
        self._by_topic.clear()

    def matching(self, topic_filter: str | None) -> list[Message]:
        """The live messages a filter matches (all of them for None), oldest first."""
        if not self.enabled:
            return []
        at = now()
        entries = [
            entry
            for name, entry in self._by_topic.items()
            if entry.live(at) and (topic_filter is None or matches(name, topic_filter))
        ]
        return [entry.message for entry in sorted(entries, key=lambda e: e.sort_key)]

    def page(self, topic_filter: str | None, page: int, limit: int) -> tuple[bool, list[Message]]:
        """`page_read/3`: one page, and `hasnext` as EMQX computes it: true whenever the page
        is full, even when nothing follows."""
        start = (page - 1) * limit
        rows = self.matching(topic_filter)[start : start + limit]
        return len(rows) == limit, rows
