"""Bans, in EMQX's words: `as`, `who`, `by`, `reason`, `at`, `until`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..banned import BAN_KINDS, Ban, Bans
from ..errors import Invalid
from ..fields import (
    Check,
    Problem,
    checked,
    choice,
    describe,
    non_empty,
    optional,
    text,
    timestamp,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register

if TYPE_CHECKING:
    from ..broker import Broker

BAN_CHECKS: dict[str, Check] = {
    "as": choice(*BAN_KINDS),
    "who": non_empty,
    "by": text,
    "reason": text,
    "at": timestamp,
    "until": optional(timestamp),
}


def _reset(broker: Broker) -> None:
    broker.bans = Bans()


def _load(building: Building, item: Any) -> None:
    fields = checked(item, BAN_CHECKS, required=("as", "who"))
    kind = fields.pop("as")
    try:
        ban = Ban(kind, **fields)
    except Invalid as error:
        raise Problem(f"cannot be parsed as a {kind}: {error}", "who") from None
    if building.state.bans.get(ban.kind, ban.who) is not None:
        raise Problem(f"{ban.kind} {describe(ban.who)} is banned twice", "who")
    building.state.bans.add(ban)  # kicking no one: the clients listed are the ones the state holds


def _dump(broker: Broker) -> list[dict[str, Any]]:
    return [{"as": ban.kind, "who": ban.who, "by": ban.by, "reason": ban.reason, "at": ban.at, "until": ban.until} for ban in broker.bans]


register(
    Kind("bans", _reset, sections=(Section("bans", each_item(_load), _dump, snapshot_rank=6),)),
    # `as` is a Python keyword: the handle's `add_ban` calls it `kind`
    Seeding("bans", "add_ban", rank=4, checks=BAN_CHECKS, required=("as", "who"), parameters={"as": "kind"}),
)
