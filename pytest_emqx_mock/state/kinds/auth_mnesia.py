"""EMQX 4.4's `emqx_auth_mnesia` records: the users of clientids and usernames (a plain
`password`, or the stored secret as `password_hash`: hex of the 4-byte salt and the hash), the
ACL rules of clientids, usernames and `$all`, and `auth.mnesia.password_hash`. The tables are
sources of the one authentication chain and authorization check (`state.auth_mnesia`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..auth_mnesia import (
    ACCESSES,
    ACTIONS,
    ALL,
    HASH_TYPES,
    MnesiaAcl,
    MnesiaUser,
    MnesiaUsers,
    target_of,
)
from ..errors import AlreadyExists, Invalid, ModelError
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    describe,
    integer,
    non_empty,
    text,
)
from ..registry import Building, Kind, Section, Seeding, register

if TYPE_CHECKING:
    from ..broker import Broker

LOGIN_CHECKS: dict[str, Check] = {"clientid": non_empty, "username": non_empty}
USER_CHECKS: dict[str, Check] = {**LOGIN_CHECKS, "password": non_empty, "password_hash": text, "created_at": integer()}
ACL_CHECKS: dict[str, Check] = {
    **LOGIN_CHECKS,
    "topic": non_empty,
    "action": choice(*ACTIONS),
    "access": choice(*ACCESSES),
    "created_at": integer(),
}
HASH_CHECKS: dict[str, Check] = {"password_hash": choice(*HASH_TYPES)}


def _reset(broker: Broker) -> None:
    broker.authn.mnesia = MnesiaUsers()
    broker.authz.mnesia = MnesiaAcl()


def _login(fields: Mapping[str, Any]) -> tuple[str, str]:
    target = target_of(fields.get("clientid"), fields.get("username"))
    if target is None or target[0] == ALL:
        raise Problem("needs a clientid or a username (one of them)")
    return target


def _refused(fields: Mapping[str, Any], error: ModelError) -> Problem | None:
    """A login taken, placed on it; a user or rule of neither or both logins, on the rule."""
    if isinstance(error, AlreadyExists):
        field = "clientid" if "clientid" in fields else "username"
        return Problem(f"the emqx_auth_mnesia user {describe(fields[field])} exists already", field)
    return Problem(str(error)) if isinstance(error, Invalid) else None


def _load_user(users: MnesiaUsers, item: Any) -> None:
    fields = checked(item, USER_CHECKS)
    kind, login = _login(fields)
    if (kind, login) in users.users:
        raise Problem(f"{describe(login)} is listed twice", kind)
    if ("password" in fields) == ("password_hash" in fields):
        raise Problem("needs either a plain password or a password_hash")
    if "password" in fields:
        users.add(kind, login, fields["password"], created_at=fields.get("created_at"))
        return
    try:
        secret = bytes.fromhex(fields["password_hash"])
    except ValueError:
        raise Problem("must be hexadecimal", "password_hash") from None
    users.put(MnesiaUser(kind, login, secret, fields.get("created_at", 0)))


def _load_rule(acl: MnesiaAcl, item: Any) -> None:
    fields = checked(item, ACL_CHECKS, required=("topic", "action", "access"))
    target = target_of(fields.get("clientid"), fields.get("username"))
    if target is None:
        raise Problem("is a clientid's, a username's or (neither) $all's rule, not both")
    acl.add(target, fields["topic"], fields["action"], fields["access"], created_at=fields.get("created_at"))


def _load(building: Building, value: Any) -> None:
    sections = checked(value, {"password_hash": choice(*HASH_TYPES), "users": a_list, "acl": a_list})
    users, acl = building.state.authn.mnesia, building.state.authz.mnesia
    users.set_hash_type(sections.get("password_hash", users.hash_type))
    for index, item in enumerate(sections.get("users", ())):
        _within("users", index, lambda: _load_user(users, item))
    for index, item in enumerate(sections.get("acl", ())):
        _within("acl", index, lambda: _load_rule(acl, item))


def _within(name: str, index: int, load: Callable[[], None]) -> None:
    try:
        load()
    except Problem as problem:
        raise problem.within(name, index) from None


def _dump(broker: Broker) -> dict[str, Any]:
    """The users as written; each target's rules oldest first (loading adds them in turn)."""
    users, acl = broker.authn.mnesia, broker.authz.mnesia
    return {
        "password_hash": users.hash_type,
        "users": [
            {user.login_type: user.login, "password_hash": user.password.hex(), "created_at": user.created_at} for user in users
        ],
        "acl": [
            {**({} if rule.target[0] == ALL else {rule.target[0]: rule.target[1]}), "topic": rule.topic, "action": rule.action,
             "access": rule.access, "created_at": rule.created_at}
            for rules in acl.rules.values() for rule in reversed(rules)
        ],
    }  # fmt: skip


register(
    Kind("auth_mnesia", _reset, sections=(Section("auth_mnesia", _load, _dump, snapshot_rank=14),)),
    Seeding(
        "auth_mnesia_users", "add_auth_mnesia_user", rank=18,
        checks={**LOGIN_CHECKS, "password": non_empty}, required=("password",), marker=True, refused=_refused,
    ),
    Seeding(
        "auth_mnesia_acl", "add_auth_mnesia_acl", rank=19,
        checks={key: ACL_CHECKS[key] for key in ("clientid", "username", "topic", "action", "access")},
        required=("topic", "action", "access"), marker=True, refused=_refused,
    ),
    Seeding("auth_mnesia_password_hash", "set_auth_mnesia_password_hash", rank=20, checks=HASH_CHECKS, required=("password_hash",)),
)  # fmt: skip
