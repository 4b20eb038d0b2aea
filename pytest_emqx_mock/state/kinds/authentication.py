"""The authentication chain: `password_based:built_in_database` authenticators, their users
(a plain `password`, or the stored `password_hash` and `salt`) and their metrics by node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..authn import (
    Authenticator,
    AuthnChain,
    AuthnMetrics,
    builtin_db_config,
    config_id,
)
from ..errors import ModelError
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    describe,
    flag,
    integer,
    json_object,
    non_empty,
    plain,
    text,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register

if TYPE_CHECKING:
    from ..broker import Broker

AUTHENTICATOR_CHECKS: dict[str, Check] = {
    "mechanism": choice("password_based"),
    "backend": choice("built_in_database"),
    "password_hash_algorithm": json_object,
    "user_id_type": choice("clientid", "username"),
    "enable": flag,
    "bootstrap_file": text,
    "bootstrap_type": choice("hash", "plain"),
    "users": a_list,
    "metrics": json_object,
}
AUTHN_USER_CHECKS: dict[str, Check] = {
    "user_id": non_empty,
    "password": text,
    "password_hash": text,
    "salt": text,
    "is_superuser": flag,
}


def _reset(broker: Broker) -> None:
    broker.authn = AuthnChain()
    if broker.config.builtin_database:
        broker.authn.create(builtin_db_config({"name": "sha256"}))


def _load(building: Building, item: Any) -> None:
    fields = checked(item, AUTHENTICATOR_CHECKS)
    users, metrics = fields.pop("users", ()), fields.pop("metrics", {})
    fields.pop("mechanism", None), fields.pop("backend", None)
    try:
        config = builtin_db_config(fields.pop("password_hash_algorithm", None), **fields)
        chain = building.state.authn
        if building.state.config.builtin_database:  # the scenario's replaces the one every reset makes
            chain.authenticators = [existing for existing in chain if existing.id != config_id(config)]
        authenticator = chain.create(config)
    except ModelError as error:
        raise Problem(str(error), "password_hash_algorithm") from None
    for index, user in enumerate(users):
        try:
            _load_user(authenticator, user)
        except Problem as problem:
            raise problem.within("users", index) from None
    for node, counters in metrics.items():
        name = building.node(node, "metrics", node)
        found = checked(counters, dict.fromkeys(("total", "success", "failed", "nomatch"), integer()))
        authenticator.metrics[name] = AuthnMetrics(**found)


def _load_user(authenticator: Authenticator, item: Any) -> None:
    fields = checked(item, AUTHN_USER_CHECKS, required=("user_id",))
    user_id, is_superuser = fields["user_id"], fields.get("is_superuser", False)
    if user_id in authenticator.users:
        raise Problem(f"{describe(user_id)} is listed twice", "user_id")
    if ("password" in fields) == ("password_hash" in fields):
        raise Problem("needs either a plain password or a password_hash (with its salt)")
    try:
        if "password" in fields:
            authenticator.add_user(user_id, fields["password"], is_superuser)
        else:
            authenticator.import_users([{**fields, "is_superuser": is_superuser}], plain=False)
    except ModelError as error:
        raise Problem(str(error)) from None


def _document(authenticator: Authenticator) -> dict[str, Any]:
    return {
        **plain(authenticator.config),
        "users": [
            {"user_id": user.user_id, "password_hash": user.password_hash, "salt": user.salt, "is_superuser": user.is_superuser}
            for user in authenticator.users.values()
        ],
        "metrics": {node: dict(vars(counters)) for node, counters in authenticator.metrics.items()},
    }


register(
    Kind(
        "authentication",
        _reset,
        sections=(Section("authentication", each_item(_load), lambda broker: [_document(item) for item in broker.authn], snapshot_rank=5),),
    ),
    # from Python: the one mechanism and backend the fake runs, users and metrics seeded apart
    Seeding(
        "authenticators", "add_authenticator", rank=11,
        checks={key: check for key, check in AUTHENTICATOR_CHECKS.items() if key not in ("mechanism", "backend", "users", "metrics")},
    ),
    Seeding(
        "authn_users", "add_authn_user", rank=12,
        checks={**{key: AUTHN_USER_CHECKS[key] for key in ("user_id", "password", "is_superuser")}, "authenticator": non_empty},
        required=("user_id", "password"),
    ),  # fmt: skip
)
