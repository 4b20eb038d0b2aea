"""MQTT topic names and filters as EMQX validates and matches them (`emqx_topic`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..erlang.terms import binary
from .errors import Invalid

MAX_TOPIC_LEN = 65535


@dataclass(frozen=True)
class TopicFilter:
    """A subscription's filter split the way EMQX stores it: `$share/g/t/#` is group `g`
    and filter `t/#`; `$queue/t` is group `$queue`."""

    filter: str
    share_group: str | None = None


def _check_levels(topic: str, wildcards_allowed: bool) -> None:
    if not topic:
        raise Invalid("empty_topic")
    if len(topic.encode()) > MAX_TOPIC_LEN:
        raise Invalid("topic_too_long")
    if "\x00" in topic:
        raise Invalid("topic_invalid_char")
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level:
            if not wildcards_allowed:
                raise Invalid("topic_name_error")
            if level != "#" or index != len(levels) - 1:
                raise Invalid("topic_invalid_#")
        if "+" in level:
            if not wildcards_allowed:
                raise Invalid("topic_name_error")
            if level != "+":
                raise Invalid("topic_invalid_char")


class InvalidFilter(Invalid):
    """A filter `emqx_topic:parse` rejects: the API fails the request (500 UNKNOWN_ERROR)."""


def validate_name(topic: str) -> None:
    """A topic name one may publish to: no wildcards."""
    _check_levels(topic, wildcards_allowed=False)


@functools.lru_cache(maxsize=65536)
def parse_filter(text: str) -> TopicFilter:
    """Split a subscription filter's `$share/<group>/` or `$queue/` prefix off, as
    `emqx_topic:parse` does; it checks the prefix, not the levels (see `validate_filter`)."""
    if text.startswith("$queue/"):
        return TopicFilter(text[len("$queue/") :], "$queue")
    if text.startswith("$share/"):
        group, sep, rest = text[len("$share/") :].partition("/")
        if not sep or not rest or not group or "+" in group or "#" in group or rest.startswith(("$share/", "$queue/")):
            raise InvalidFilter('{invalid_topic_filter,' + binary(text.encode()) + '}')
        return TopicFilter(rest, group)
    if text.startswith("$exclusive/"):  # exclusive subscriptions are off by default
        raise InvalidFilter('{invalid_topic_filter,' + binary(text.encode()) + '}')
    return TopicFilter(text)


def validate_filter(topic_filter: TopicFilter) -> None:
    """The level rules a session applies before it accepts a subscription."""
    _check_levels(topic_filter.filter, wildcards_allowed=True)


def is_wildcard(topic_filter: str) -> bool:
    """`emqx_topic:wildcard/1`: some level is `+` or `#`."""
    if "+" not in topic_filter and "#" not in topic_filter:
        return False
    return any(level in ("+", "#") for level in topic_filter.split("/"))


def matches(name: str, topic_filter: str) -> bool:
    """`emqx_topic:match/2`: whether topic `name` matches `topic_filter` (no `$share/`
    prefix). `+` is one level, `#` the rest but only as the last level (a malformed `a/#/b`
    matches nothing), and a name starting with `$` is not matched by a leading wildcard."""
    names, filters = name.split("/"), topic_filter.split("/")
    if name[:1] == "$" and filters[0] in ("+", "#"):
        return False
    for index, level in enumerate(filters):
        if level == "#":
            return index == len(filters) - 1
        if index >= len(names) or (level != "+" and level != names[index]):
            return False
    return len(names) == len(filters)
