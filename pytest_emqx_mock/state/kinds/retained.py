"""Retained messages and the retainer's config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ...erlang.hocon import bytesize, duration_ms, valid_rate
from ..errors import Invalid
from ..fields import (
    Check,
    Problem,
    checked,
    choice,
    describe,
    each,
    integer,
    must,
    plain,
    timestamp,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register
from ..retainer import RetainedMessages, default_raw_config
from ..sessions import Message
from .messages import MESSAGE_CHECKS, message_document, payload

if TYPE_CHECKING:
    from ..broker import Broker

RETAINED_CHECKS: dict[str, Check] = {key: check for key, check in MESSAGE_CHECKS.items() if key != "retain"}
RETAINED_CHECKS["expires_at"] = timestamp
#: A message published from Python: the fields of its own that a publisher chooses.
PUBLISH_CHECKS: dict[str, Check] = {key: check for key, check in MESSAGE_CHECKS.items() if key not in ("publish_at", "msgid")}


def _reset(broker: Broker) -> None:
    broker.retained = RetainedMessages()


def retainer_config(value: Any) -> dict[str, Any]:
    """The retainer's raw config, merged over the defaults two levels deep; each value of the
    type its default has, durations, sizes and rates in forms EMQX parses."""
    defaults = default_raw_config()

    def like(default: Any) -> Check:
        expected = {bool: "true or false", int: "an integer", str: "a string", list: "a list", dict: "an object"}[type(default)]

        def check(item: Any) -> Any:
            if type(item) is not type(default):
                raise must(expected, item)
            return item

        return check

    backend_checks = {key: like(default) for key, default in defaults["backend"].items()}
    backend_checks["type"] = choice("built_in_database")
    backend_checks["storage_type"] = choice("ram", "disc")
    backend_checks["max_retained_messages"] = integer()
    backend_checks["index_specs"] = lambda item: each(item, lambda spec: each(spec, integer(1)))
    checks: dict[str, Check] = {key: like(default) for key, default in defaults.items()}
    checks["backend"] = lambda item: {**defaults["backend"], **checked(item, backend_checks)}
    config = {**defaults, **checked(value, checks)}
    parsers: dict[str, Callable[[Any], Any]] = {
        "msg_expiry_interval": duration_ms,
        "msg_clear_interval": duration_ms,
        "max_payload_size": bytesize,
        "delivery_rate": lambda rate: rate if valid_rate(rate) else None,
        "max_publish_rate": lambda rate: rate if valid_rate(rate) else None,
        "msg_expiry_interval_override": lambda interval: interval if interval == "disabled" else duration_ms(interval),
    }
    for key, parse in parsers.items():
        if parse(config[key]) is None:
            raise Problem(f"cannot be parsed: {describe(config[key])}", key)
    return config


def _load_retainer(building: Building, value: Any) -> None:
    try:
        building.state.retained.update_config(retainer_config(value))
    except Invalid as error:  # what EMQX's root validator refuses
        raise Problem(f"is refused: {error}", "backend", "enable") from None


def _load_message(building: Building, item: Any) -> None:
    fields = checked(item, RETAINED_CHECKS, required=("topic", "payload"))
    content = payload(fields)
    if not content:
        raise Problem("must not be empty (an empty retained payload deletes the topic's message)", "payload")
    expires_at = fields.pop("expires_at", None)
    message = Message(payload=content, retain=True, **fields)
    retained = building.state.retained
    if retained.holds(message.topic):
        raise Problem(f"{describe(message.topic)} is listed twice", "topic")
    retained.put_as_stored(message, expires_at)


def _dump_messages(broker: Broker) -> list[dict[str, Any]]:
    return [
        {**message_document(message, with_retain=False), "expires_at": expires_at}
        for message, expires_at in broker.retained.entries()
    ]


register(
    Kind(
        "retained",
        _reset,
        sections=(
            Section("retainer", _load_retainer, lambda broker: plain(broker.retained.raw_config), snapshot_rank=3),
            Section("retained", each_item(_load_message), _dump_messages, snapshot_rank=4),
        ),
    ),
    Seeding("retained", "add_retained", rank=3, checks=RETAINED_CHECKS, required=("topic", "payload"), marker=True),
    Seeding("publish", "publish", rank=6, checks=PUBLISH_CHECKS, required=("topic",)),
)
