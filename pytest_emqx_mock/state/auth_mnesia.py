"""EMQX 4.4's `emqx_auth_mnesia` plugin: its `emqx_user` table (clientid and username logins,
salted password hashes) and its `emqx_acl2` table (rules per clientid, per username, and for
`$all`), with the checks its hooks make on a CONNECT (`emqx_auth_mnesia:check/3`) and on a
PUBLISH or SUBSCRIBE (`emqx_acl_mnesia:check_acl/5`).

They are sources of the one model: the authentication chain asks the user table before its
authenticators, the authorization check asks the ACL table before its sources (in 4.4 the
plugin's `client.check_acl` hook runs before `emqx_mod_acl_internal`'s acl.conf, which is
hooked at priority -1). Empty tables decide nothing, so they change nothing for a fake that
never uses the 4.x API.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from .authz import PUBLISH, SUBSCRIBE, topic_matches
from .clock import now
from .errors import AlreadyExists, Invalid, NotFound

if TYPE_CHECKING:
    from .sessions import Session

#: `auth.mnesia.password_hash` (`emqx_auth_mnesia.schema`), sha256 by default.
HASH_TYPES = ("plain", "md5", "sha", "sha256", "sha512")
DEFAULT_HASH_TYPE = "sha256"
_HASHLIB = {"md5": "md5", "sha": "sha1", "sha256": "sha256", "sha512": "sha512"}
#: `emqx_auth_mnesia:len/1`: a stored hash this long has no salt (one written by 4.2 and older).
_UNSALTED_LENGTH = {"md5": 32, "sha": 40, "sha256": 64, "sha512": 128}
LOGIN_TYPES = ("clientid", "username")
ALL = "all"
ACTIONS = ("pub", "sub", "pubsub")
ACCESSES = ("allow", "deny")
IGNORE, SUCCESS, PASSWORD_ERROR = "ignore", "success", "password_error"
#: The kind of target, in Erlang term order (the atom `all` sorts before the tuples).
_TARGET_ORDER = {ALL: 0, "clientid": 1, "username": 2}


class Refused(Invalid):
    """A value `validate/2` refuses: `str()` is the field's name (`login`, `password`,
    `topic`, `action`, `access`), as the API's `{error, Field}` prints it."""


def _valid_text(value: Any) -> bool:
    """`do_validation/2`'s binary of at least one byte."""
    return isinstance(value, str) and value != ""


def digest(hash_type: str, data: bytes) -> bytes:
    """`emqx_passwd:hash/2`: the data itself (`plain`) or its lower-case hex digest."""
    if hash_type == "plain":
        return data
    return hashlib.new(_HASHLIB[hash_type], data).hexdigest().encode()


def encrypted(hash_type: str, password: str) -> bytes:
    """`emqx_auth_mnesia_cli:encrypted_data/1`: a 4-byte salt (`rand:uniform(16#ffffffff)`),
    then the hash of salt and password."""
    salt = (secrets.randbelow(0xFFFFFFFF) + 1).to_bytes(4, "big")
    return salt + digest(hash_type, salt + password.encode())


def password_matches(hash_type: str, password: str | None, stored: bytes) -> bool:
    """`emqx_auth_mnesia:match_password/3` for one stored secret (no password hashes as an
    empty one)."""
    given = (password or "").encode()
    if hash_type == "plain" or len(stored) != _UNSALTED_LENGTH[hash_type]:
        return stored[4:] == digest(hash_type, stored[:4] + given)
    return stored == digest(hash_type, given)


@dataclass
class MnesiaUser:
    """One `emqx_user` record: `{Type, Login}`, the stored secret, `created_at` (ms)."""

    login_type: str
    login: str
    password: bytes
    created_at: int

    def view(self) -> dict[str, Any]:
        """`emqx_auth_mnesia_api:format/1`."""
        return {self.login_type: self.login, "created_at": self.created_at}


class MnesiaUsers:
    """The `emqx_user` table (a set: listed in the order written) and the hash type."""

    def __init__(self) -> None:
        self.hash_type = DEFAULT_HASH_TYPE
        self.users: dict[tuple[str, str], MnesiaUser] = {}

    def __iter__(self) -> Iterator[MnesiaUser]:
        return iter(self.users.values())

    def set_hash_type(self, hash_type: str) -> None:
        """`auth.mnesia.password_hash`: new secrets are hashed with it, and every check uses it
        (secrets written under another type then fail, as in EMQX)."""
        if hash_type not in HASH_TYPES:
            raise Invalid(f"password_hash must be one of {', '.join(HASH_TYPES)}, not {hash_type!r}")
        self.hash_type = hash_type

    def add(self, login_type: str, login: Any, password: Any, *, created_at: int | None = None) -> MnesiaUser:
        """`do_add_clientid/1` / `do_add_username/1`: login then password validated, then
        `add_user/2`, which aborts with `existed` for a login present."""
        self._validate(login, password)
        if (login_type, login) in self.users:
            raise AlreadyExists("existed")
        stamp = int(now() * 1000) if created_at is None else created_at
        return self.put(MnesiaUser(login_type, login, encrypted(self.hash_type, password), stamp))

    def put(self, user: MnesiaUser) -> MnesiaUser:
        """A record written as it is (a scenario's stored secret)."""
        self.users[(user.login_type, user.login)] = user
        return user

    def update(self, login_type: str, login: str, password: Any) -> MnesiaUser:
        """`update_clientid/2`: the password validated, then `update_user/2` (`noexisted`)."""
        if not _valid_text(password):
            raise Refused("password")
        user = self.users.get((login_type, login))
        if user is None:
            raise NotFound("noexisted")
        user.password = encrypted(self.hash_type, password)
        return user

    def remove(self, login_type: str, login: str) -> None:
        """`remove_user/1`: a delete that finds nothing succeeds too."""
        self.users.pop((login_type, login), None)

    def lookup(self, login_type: str, login: str) -> MnesiaUser | None:
        return self.users.get((login_type, login))

    def of_type(self, login_type: str) -> list[MnesiaUser]:
        return [user for user in self.users.values() if user.login_type == login_type]

    def authenticate(self, clientid: str, username: str | None, password: str | None) -> str:
        """`emqx_auth_mnesia:check/3`: the secrets of the client's clientid and username (an
        unset username has none); none → ignore, any of them matching → success."""
        secrets_found = [
            user.password
            for user in (self.users.get(("clientid", clientid)), self.users.get(("username", username)) if username is not None else None)
            if user is not None
        ]
        if not secrets_found:
            return IGNORE
        if any(password_matches(self.hash_type, password, secret) for secret in secrets_found):
            return SUCCESS
        return PASSWORD_ERROR

    @staticmethod
    def _validate(login: Any, password: Any) -> None:
        if not _valid_text(login):
            raise Refused("login")
        if not _valid_text(password):
            raise Refused("password")


# -- the ACL ----------------------------------------------------------------------------------

#: A rule's target: `(ALL, "")`, `("clientid", id)` or `("username", name)`.
Target = tuple[str, str]


@dataclass(frozen=True)
class AclRecord:
    """`acl_record()`: one stored rule (`pubsub` is stored as a `pub` and a `sub` rule)."""

    target: Target
    topic: str
    action: str  # pub | sub
    access: str  # allow | deny
    created_at: int

    def view(self) -> dict[str, Any]:
        """`emqx_acl_mnesia_api:format/1`."""
        kind, login = self.target
        who: dict[str, str] = {"all": "$all"} if kind == ALL else {kind: login}
        return {**who, "topic": self.topic, "action": self.action, "access": self.access}

    def newest_first(self) -> tuple[Any, ...]:
        """The sort key of `emqx_acl_mnesia_db:comparing/2`, reversed: `created_at` descending,
        then the whole record in Erlang term order, descending."""
        return (self.created_at, target_order(self.target), self.topic.encode(), self.action, self.access)


def target_order(target: Target) -> tuple[int, bytes]:
    """`emqx_acl2` is an ordered set keyed by target: Erlang term order."""
    return _TARGET_ORDER[target[0]], target[1].encode()


def target_of(clientid: Any, username: Any) -> Target | None:
    """`do_add/1`'s login: neither → all, one of them → that one; both → None (EMQX's case
    clause fails: the handler crashes). Absent values are None."""
    if clientid is None and username is None:
        return ALL, ""
    if username is None:
        return "clientid", clientid
    if clientid is None:
        return "username", username
    return None


class MnesiaAcl:
    """The `emqx_acl2` table: each target's rules, newest first."""

    def __init__(self) -> None:
        self.rules: dict[Target, list[AclRecord]] = {}

    def add(self, target: tuple[str, Any], topic: Any, action: Any, access: Any, *, created_at: int | None = None) -> None:
        """`do_add/1`'s validation (login, topic, action, access, in that order), then
        `add_acl_new/4`: `pubsub` is a `pub` and a `sub` rule; a rule with the same topic and
        action for the target replaces the old one; the new ones go first."""
        kind, login = target
        if kind != ALL and not _valid_text(login):
            raise Refused("login")
        if not _valid_text(topic):
            raise Refused("topic")
        if action not in ACTIONS:
            raise Refused("action")
        if access not in ACCESSES:
            raise Refused("access")
        stamp = int(now() * 1000) if created_at is None else created_at
        new_target = (kind, login) not in self.rules
        rules = list(self.rules.get((kind, login), []))
        for single in ("pub", "sub") if action == "pubsub" else (action,):
            rules = [AclRecord((kind, login), topic, single, access, stamp)] + [
                rule for rule in rules if (rule.action, rule.topic) != (single, topic)
            ]
        self.rules[(kind, login)] = rules
        if new_target:
            self.rules = dict(sorted(self.rules.items(), key=lambda item: target_order(item[0])))

    def remove(self, target: Target, topic: str) -> None:
        """`remove_acl/2`: every action of the topic goes; nothing found is success too."""
        remaining = [rule for rule in self.rules.get(target, []) if rule.topic != topic]
        if remaining:
            self.rules[target] = remaining
        else:
            self.rules.pop(target, None)

    def lookup(self, target: Target) -> list[AclRecord]:
        """`lookup_acl/1`: the target's rules, newest first."""
        return sorted(self.rules.get(target, []), key=AclRecord.newest_first, reverse=True)

    def records(self, kind: str) -> list[AclRecord]:
        """The table traversed (targets in key order, each one's rules as stored) for one kind
        of target (`login_acl_table/2`)."""
        return [rule for target, rules in self.rules.items() if target[0] == kind for rule in rules]

    def __iter__(self) -> Iterator[AclRecord]:
        return (rule for rules in self.rules.values() for rule in rules)

    def check(self, session: Session, action: str, topic: str) -> str:
        """`emqx_acl_mnesia:check_acl/5`: the clientid's rules, the username's (when it is
        set), then `$all`'s, each newest first; the first whose action and topic match
        decides, else nomatch."""
        targets: list[Target] = [("clientid", session.clientid)]
        if session.username is not None:
            targets.append(("username", session.username))
        targets.append((ALL, ""))
        wanted = {PUBLISH: "pub", SUBSCRIBE: "sub"}[action]
        words = tuple(topic.split("/"))
        for target in targets:
            for rule in self.lookup(target):
                if rule.action == wanted and topic_matches(words, _fed(rule.topic, session)):
                    return rule.access
        return "nomatch"


def _fed(pattern: str, session: Session) -> tuple[str, ...]:
    """`emqx_acl_mnesia:feed_var/2`: a whole word `%c` is the clientid, `%u` the username
    (left as it is when the client has none)."""
    values = {"%c": session.clientid, "%u": session.username}
    return tuple("/".join(values.get(word) or word for word in pattern.split("/")).split("/"))
