"""API keys: the config's bootstrap keys after a reset; a scenario's keys are added to them
(one listed by the same name or `api_key` replaces it), so tests can still authenticate.
Secrets are written as the model keeps them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..access import ApiKeys, ApiKeyTaken
from ..errors import AlreadyExists, ModelError
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    describe,
    edition_choice,
    flag,
    non_empty,
    optional,
    text,
    timestamp,
    twice,
)
from ..registry import Building, Kind, Section, Seeding, register

if TYPE_CHECKING:
    from ..broker import Broker, BrokerConfig

API_KEY_CHECKS: dict[str, Check] = {
    "name": non_empty,
    "api_key": non_empty,
    "api_secret": non_empty,
    "desc": text,
    "enable": flag,
    "expired_at": optional(timestamp),
    "created_at": timestamp,
    # and `role`, one of the edition's: `_edition_checks`
}


def _edition_checks(config: BrokerConfig) -> dict[str, Check]:
    """The roles Enterprise's `emqx_dashboard_rbac:valid_api_role/1` takes; EMQX CE has none
    (`emqx_mgmt_auth`): every key is an administrator."""
    return {"role": edition_choice(config.api_key_roles, config.edition)}


def _refused(fields: Mapping[str, Any], error: ModelError) -> Problem | None:
    """A key the model refuses for its name or its `api_key`, placed there: the scenario's
    words for a taken `api_key` (its name's are EMQX's, `emqx_mgmt_auth:create_app/1`)."""
    if isinstance(error, ApiKeyTaken):
        return twice(error.api_key, f"the API key {describe(error.holder)}", "api_key")
    if isinstance(error, AlreadyExists):
        return Problem(str(error), "name")
    return None


def _reset(broker: Broker) -> None:
    broker.api_keys = ApiKeys()
    broker.api_keys.bootstrap(list(broker.config.bootstrap_api_keys))


def _load(building: Building, value: Any) -> None:
    listed = ApiKeys()
    first_with_key: dict[str, int] = {}
    checks = {**API_KEY_CHECKS, **_edition_checks(building.config)}
    for index, item in enumerate(a_list(value)):
        try:
            fields = checked(item, checks, required=("name",))
            created_at = fields.pop("created_at", None)
            name = fields.pop("name")
            if name in {key.name for key in listed}:
                raise Problem(f"{describe(name)} is listed twice", "name")
            try:
                key = listed.create(name, **fields)
            except ModelError as error:
                raise Problem(f"cannot be created: {error}") from None
            if key.api_key in first_with_key:
                raise twice(key.api_key, f"api_keys[{first_with_key[key.api_key]}]", "api_key")
        except Problem as problem:
            raise problem.within(index) from None
        first_with_key[key.api_key] = index
        if created_at is not None:
            key.created_at = created_at
    names = {key.name for key in listed}
    kept = [key for key in building.state.api_keys if key.name not in names and key.api_key not in first_with_key]
    table = ApiKeys()
    for key in [*kept, *listed]:
        try:
            copied = table.create(
                key.name, desc=key.desc, enable=key.enable, expired_at=key.expired_at, role=key.role,
                api_key=key.api_key, api_secret=key.api_secret,
            )  # fmt: skip
        except ModelError as error:  # over the limit, with the config's keys counted
            raise Problem(f"cannot be created: {error}") from None
        copied.created_at = key.created_at
    building.state.api_keys = table


def _dump(broker: Broker) -> list[dict[str, Any]]:
    return [
        {
            "name": key.name, "api_key": key.api_key, "api_secret": key.api_secret, "desc": key.desc,
            "enable": key.enable, "expired_at": key.expired_at, "created_at": key.created_at, "role": key.role,
        }  # fmt: skip
        for key in broker.api_keys
    ]


register(
    Kind("api_keys", _reset, sections=(Section("api_keys", _load, _dump, snapshot_rank=7),)),
    Seeding(
        "api_keys", "add_api_key", rank=1, checks=API_KEY_CHECKS, required=("name",), marker=True, shorthand="name",
        edition_checks=_edition_checks, refused=_refused,
    ),  # fmt: skip
)
