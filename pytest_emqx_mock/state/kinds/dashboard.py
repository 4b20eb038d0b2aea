"""Dashboard users and their bearer tokens. The config's default user is there after a reset;
a scenario's users are added to it (one of the same name replaces it). Hand-written files give
a plain `password`, snapshots the stored `password_hash` and `salt`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..access import (
    ADMINISTRATOR,
    USER_ROLES,
    DashboardUsers,
    Token,
    Tokens,
    username_problem,
)
from ..errors import Invalid, ModelError
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    describe,
    edition_choice,
    hex_digits,
    must,
    non_empty,
    text,
    timestamp,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register

if TYPE_CHECKING:
    from ..broker import Broker, BrokerConfig

USER_CHECKS: dict[str, Check] = {
    "username": non_empty,
    "password": non_empty,
    "password_hash": hex_digits(64),
    "salt": non_empty,
    "description": text,
    # and `role`, one of the edition's: `_edition_checks`
}


def _edition_checks(config: BrokerConfig) -> dict[str, Check]:
    """The roles Enterprise's `emqx_dashboard_rbac:valid_dashboard_role/1` takes; EMQX CE's
    dashboard users are all administrators (`emqx_dashboard_admin`)."""
    return {"role": edition_choice(config.user_roles, config.edition)}


TOKEN_CHECKS: dict[str, Check] = {"token": non_empty, "username": non_empty, "role": choice(*USER_ROLES), "expires_at": timestamp}


def _reset(broker: Broker) -> None:
    config = broker.config
    broker.users = DashboardUsers()
    broker.users.add(config.default_username, config.default_password, description="administrator", check_policy=False)
    broker.tokens = Tokens()


def _load_users(building: Building, value: Any) -> None:
    listed = DashboardUsers()
    checks = {**USER_CHECKS, **_edition_checks(building.config)}
    for index, item in enumerate(a_list(value)):
        try:
            _load_user(building, listed, checked(item, checks, required=("username",)))
        except Problem as problem:
            raise problem.within(index) from None
    kept = [user for user in building.state.users if user.username not in listed]
    table = DashboardUsers()
    for user in [*kept, *listed]:
        # a table takes users by password: the stored form is set after
        copied = table.add(user.username, "", description=user.description, role=user.role, check_policy=False)
        copied.password_hash, copied.salt = user.password_hash, user.salt
    building.state.users = table


def _load_user(building: Building, listed: DashboardUsers, fields: dict[str, Any]) -> None:
    username, role = fields["username"], fields.get("role", ADMINISTRATOR)
    if username in listed:
        raise Problem(f"{describe(username)} is listed twice", "username")
    stored = [key for key in ("password_hash", "salt") if key in fields]
    if stored and "password" in fields:
        raise Problem("is given with its stored form (password_hash, salt): give one", "password")
    if len(stored) == 1:
        raise Problem(f"is required with {stored[0]}", "salt" if stored == ["password_hash"] else "password_hash")
    if not stored and "password" not in fields:
        raise Problem("is required (or password_hash and salt)", "password")
    # The password policy holds for users as the API creates them; the default user is
    # created at boot without it, as in EMQX.
    check_policy = not stored and username != building.config.default_username
    try:
        user = listed.add(username, fields.get("password", ""), description=fields.get("description", ""), role=role, check_policy=check_policy)
    except Invalid as error:
        raise _refused(fields, error) from None
    if stored:
        user.password_hash, user.salt = fields["password_hash"], fields["salt"]


def _refused(fields: Mapping[str, Any], error: ModelError) -> Problem:
    """A user the model refuses (`DashboardUsers.add`), placed: on its username when EMQX's
    rules for one refuse it or it is taken, else on its password (the password policy)."""
    on_password = isinstance(error, Invalid) and not username_problem(fields["username"])
    return Problem(str(error), "password" if on_password else "username")


def _load_token(building: Building, item: Any) -> None:
    fields = checked(item, TOKEN_CHECKS, required=("token", "username", "expires_at"))
    users = building.state.users
    if fields["username"] not in users:
        raise must("a dashboard user of the scenario", fields["username"], "username")
    role = fields.get("role", users.get(fields["username"]).role)
    building.state.tokens.put(Token(fields["token"], fields["username"], role, fields["expires_at"]))


def _dump_users(broker: Broker) -> list[dict[str, Any]]:
    return [
        {"username": user.username, "password_hash": user.password_hash, "salt": user.salt, "description": user.description, "role": user.role}
        for user in broker.users
    ]


def _dump_tokens(broker: Broker) -> list[dict[str, Any]]:
    return [{"token": token.token, "username": token.username, "role": token.role, "expires_at": token.expires_at} for token in broker.tokens]


register(
    Kind(
        "dashboard",
        _reset,
        sections=(
            Section("users", _load_users, _dump_users, snapshot_rank=8),
            Section("tokens", each_item(_load_token), _dump_tokens, snapshot_rank=9),
        ),
    ),
    # a user seeded from Python gives its password; its stored form is for snapshots
    Seeding(
        "users", "add_user", rank=2, checks={key: USER_CHECKS[key] for key in ("username", "password", "description")},
        required=("username", "password"), marker=True, edition_checks=_edition_checks, refused=_refused,
    ),  # fmt: skip
)
