"""EMQX 4.x's applications (AppID / AppSecret): the default app (`admin`/`public` unless the
config names another, or none) after a reset; a scenario's apps are added to it (one listed with the same `app_id` replaces it, as
`emqx_mgmt_auth:force_add_app/6` does for a bootstrapped app). Secrets are written as kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..apps import default_apps
from ..errors import AlreadyExists, Invalid, ModelError
from ..fields import (
    Check,
    Problem,
    checked,
    describe,
    flag,
    non_empty,
    optional,
    text,
    timestamp,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register

if TYPE_CHECKING:
    from ..broker import Broker

APP_CHECKS: dict[str, Check] = {
    "app_id": non_empty,
    "secret": non_empty,
    "name": text,
    "desc": text,
    "status": flag,
    "expired": optional(timestamp),
}


def _insane(error: Invalid) -> Problem:
    return Problem(f"is not an AppID EMQX accepts: {error}", "app_id")


def _refused(fields: Mapping[str, Any], error: ModelError) -> Problem | None:
    """An AppID the model refuses (not sane, or taken), placed on `app_id`."""
    if isinstance(error, AlreadyExists):
        return Problem(f"the app {describe(fields['app_id'])} exists already", "app_id")
    return _insane(error) if isinstance(error, Invalid) else None


def _reset(broker: Broker) -> None:
    broker.apps = default_apps(broker.config.default_app)


def _load(building: Building, item: Any) -> None:
    fields = checked(item, APP_CHECKS, required=("app_id",))
    try:
        building.state.apps.add(fields.pop("app_id"), fields.pop("secret", None), replace=True, **fields)
    except Invalid as error:
        raise _insane(error) from None


def _dump(broker: Broker) -> list[dict[str, Any]]:
    return [app.document() for app in broker.apps]


register(
    Kind("apps", _reset, sections=(Section("apps", each_item(_load), _dump, snapshot_rank=13),)),
    Seeding("apps", "add_app", rank=17, checks=APP_CHECKS, required=("app_id",), marker=True, shorthand="app_id", refused=_refused),
)
