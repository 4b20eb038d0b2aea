"""Retained messages (`emqx_retainer`, built-in database backend) and the retainer's config.

The raw config is what `emqx:get_raw_config([retainer])` returns on a node left at its
defaults: every field of `emqx_retainer_schema` except the hidden ones (`msg_clear_limit`,
`flow_control`, `external_backends`), values in their raw (text) form, kept in a `RawConfig`
(an update is merged into it one level deep, as EMQX's config handler does).

Reading follows `emqx_retainer_mnesia:page_read/5`: messages that have expired are skipped,
the rest sorted by publish time (ties in topic-level order); the count is the table size,
expired messages included (nothing clears them while `msg_clear_interval` is `0s`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterator

from ..erlang.hocon import boolean, bytesize, duration_ms
from .clock import now
from .config import RawConfig
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


def _check_root(raw: dict[str, Any]) -> None:
    """`emqx_retainer_schema`'s root validator: a config needs an enabled backend."""
    backend = raw.get("backend", {})
    if isinstance(backend, dict) and backend.get("enable") is False:
        raise Invalid("no_enabled_backend")


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


#: Shared by every reset: a RawConfig never changes a tree in place.
_DEFAULT_RAW_CONFIG = default_raw_config()


class RetainedMessages:
    """One retained message per topic, and the retainer's config; publishing an empty retained
    payload deletes the topic's message."""

    def __init__(self) -> None:
        self._by_topic: dict[str, _Retained] = {}
        self._max_payload = 0  # bytes; 0 is no limit
        self._max_messages = 0  # 0 is no limit
        self._default_expiry_ms = 0  # 0 is never
        #: A disabled retainer stores nothing and reads as empty (its table is kept).
        self.enabled = True
        self.config = RawConfig(_DEFAULT_RAW_CONFIG, check=_check_root, on_change=self._configure)

    # -- config --------------------------------------------------------------------------

    @property
    def raw_config(self) -> dict[str, Any]:
        return self.config.raw

    def update_config(self, update: dict[str, Any]) -> dict[str, Any]:
        """`emqx_conf:update([retainer], Update, _)`: merged one level deep; Invalid (the root
        validator's reason) leaves the config as it was."""
        return self.config.update(update)

    def _configure(self, raw: dict[str, Any]) -> None:
        """What the retainer runs with, from a new raw config (checked already)."""
        self.enabled = boolean(raw["enable"]) is not False
        self._max_payload = bytesize(raw["max_payload_size"]) or 0
        self._default_expiry_ms = duration_ms(raw["msg_expiry_interval"]) or 0
        backend = raw["backend"]
        self._max_messages = backend.get("max_retained_messages", 0) if isinstance(backend, dict) else 0

    def _expiry(self, message: Message) -> float:
        """`emqx_retainer:get_expiry_time/1`: the message's own expiry interval wins."""
        interval = _expiry_interval(message)
        if interval is not None:
            return 0 if interval == 0 else message.publish_at + interval
        return 0 if self._default_expiry_ms == 0 else message.publish_at + self._default_expiry_ms / 1000

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

    def store(self, message: Message, expires_at: float | None = None) -> None:
        """A retained publish: stored (or, with an empty payload, the topic's message deleted)
        unless the retainer is disabled, the payload is over `max_payload_size`, or the
        table is full (`max_retained_messages`) and the topic is new. `expires_at`: the expiry
        a seeded message is given, else the one `_expiry` computes."""
        if not self.enabled:
            return
        if not message.payload:
            self._by_topic.pop(message.topic, None)
            return
        if 0 < self._max_payload < len(message.payload):
            return
        most = self._max_messages
        if most and len(self._by_topic) >= most and message.topic not in self._by_topic:
            return
        self._by_topic[message.topic] = _Retained(message, self._expiry(message) if expires_at is None else expires_at)

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
