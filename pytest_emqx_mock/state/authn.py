"""The global authentication chain (`emqx_authn_chains`) and the built-in database backend
(`emqx_authn_mnesia`, `emqx_authn_password_hashing`, `emqx_passwd`), EMQX 5.8.9.

* The chain starts empty, as EMQX's `authentication = []`: every client is let in anonymously.
  Authenticators are appended; one per id (`<mechanism>:<backend>`); only
  `password_based:built_in_database` is modelled.
* Users belong to their authenticator and go with it. Passwords are stored hashed with the
  algorithm configured when they were written; changing the algorithm re-hashes nothing, so old
  users then verify only if their stored hash happens to match the new one (as in EMQX).
* Simple algorithms and pbkdf2 compare hex digests case-insensitively (so `plain` passwords are
  case-insensitive). bcrypt uses the C library's `crypt(3)` through Python's `crypt` module where
  it exists; elsewhere bcrypt hashes are refused with `HashingUnavailable`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..erlang.nesting import check_json
from ..erlang.terms import binary
from .auth_mnesia import PASSWORD_ERROR, SUCCESS
from .errors import AlreadyExists, Invalid, ModelError, NotFound
from .ordering import reordered

if TYPE_CHECKING:
    from .auth_mnesia import MnesiaUsers

BUILTIN_DB_ID = "password_based:built_in_database"
DEFAULT_BOOTSTRAP_FILE = "${EMQX_ETC_DIR}/auth-built-in-db-bootstrap.csv"
SIMPLE_ALGORITHMS = {"plain": None, "md5": "md5", "sha": "sha1", "sha256": "sha256", "sha512": "sha512"}
#: pbkdf2's derived key length when `dk_length` is not set (`emqx_passwd:dk_length/1`).
PBKDF2_DK_LENGTH = {"sha": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}
_PBKDF2_HASHLIB = {"sha": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class NoChain(NotFound):
    """No authenticator at all: EMQX has no chain record to look in."""

    def __init__(self) -> None:
        super().__init__("Authenticator not found in the 'global' scope")


class AuthenticatorNotFound(NotFound):
    def __init__(self, authenticator_id: str) -> None:
        super().__init__(f"Authenticator '{authenticator_id}' does not exist")
        self.authenticator_id = authenticator_id


class HashingUnavailable(ModelError, ValueError):
    """A hash this Python cannot compute (bcrypt without `crypt`, pbkdf2 over md4/md5/ripemd160)."""


class NotAuthorized(Invalid):
    """A CONNECT the authentication chain refuses; `reason` is EMQX's (`bad_username_or_password`
    or `not_authorized`), `reason_code` the MQTT 5 CONNACK code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_code = 0x86 if reason == "bad_username_or_password" else 0x87


# -- hashing ----------------------------------------------------------------------------------


def _bcrypt(password: str, salt: str) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # deprecated, removed in Python 3.13
    except ImportError:
        raise HashingUnavailable("bcrypt needs Python's crypt module (Python 3.12 or older)") from None
    result = crypt.crypt(password, salt)
    if not result or not result.startswith("$2"):
        return ""  # a malformed stored hash: it never matches
    return result


def new_salt(algorithm: dict[str, Any]) -> str:
    """`emqx_authn_password_hashing:gen_salt/1`."""
    name = algorithm["name"]
    if name == "bcrypt":
        rounds = algorithm.get("salt_rounds", 10)
        return f"$2a${rounds:02d}$" + "".join(secrets.choice(_BCRYPT_ALPHABET) for _ in range(21)) + "e"
    if name == "plain" or algorithm.get("salt_position", "prefix") == "disable":
        return ""
    return secrets.token_hex(16)


def hash_password(algorithm: dict[str, Any], password: str, salt: str) -> str:
    """The stored form of `password` under `algorithm` with `salt` (`emqx_passwd:hash/2`)."""
    name = algorithm["name"]
    if name == "bcrypt":
        return _bcrypt(password, salt)
    if name == "pbkdf2":
        mac = _PBKDF2_HASHLIB.get(algorithm["mac_fun"])
        if mac is None:
            raise HashingUnavailable(f"pbkdf2 over {algorithm['mac_fun']} is not supported (EMQX 5.8.3+)")
        length = algorithm.get("dk_length") or PBKDF2_DK_LENGTH[algorithm["mac_fun"]]
        return hashlib.pbkdf2_hmac(mac, password.encode(), salt.encode(), algorithm["iterations"], length).hex()
    position = algorithm.get("salt_position", "prefix")
    data = salt + password if position == "prefix" else password + salt if position == "suffix" else password
    digest = SIMPLE_ALGORITHMS[name]
    return data if digest is None else hashlib.new(digest, data.encode()).hexdigest()


def check_password(algorithm: dict[str, Any], password: str, password_hash: str, salt: str) -> bool:
    """`emqx_passwd:check_pass/3`: recompute under the *current* algorithm and compare."""
    if algorithm["name"] == "bcrypt":
        return bool(password_hash) and _bcrypt(password, password_hash) == password_hash
    return hash_password(algorithm, password, salt).lower() == password_hash.lower()


# -- authenticators ---------------------------------------------------------------------------


@dataclass
class BuiltinUser:
    user_id: str
    password_hash: str
    salt: str
    is_superuser: bool = False

    def view(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "is_superuser": self.is_superuser}


@dataclass
class AuthnMetrics:
    total: int = 0
    success: int = 0
    failed: int = 0
    nomatch: int = 0

    def view(self) -> dict[str, Any]:
        # rates are per-second figures over ticks the fake does not run
        return {**self.__dict__, "rate": 0.0, "rate_last5m": 0.0, "rate_max": 0.0}

    def __add__(self, other: AuthnMetrics) -> AuthnMetrics:
        return AuthnMetrics(*(a + b for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True)))


def builtin_db_config(
    password_hash_algorithm: dict[str, Any] | None = None,
    *,
    user_id_type: str = "username",
    enable: bool = True,
    bootstrap_file: str = DEFAULT_BOOTSTRAP_FILE,
    bootstrap_type: str = "plain",
) -> dict[str, Any]:
    """A `password_based:built_in_database` config as EMQX renders it, defaults filled."""
    algorithm = dict(password_hash_algorithm or {"name": "sha256"})
    name = algorithm.get("name")
    if name in SIMPLE_ALGORITHMS:
        algorithm.setdefault("salt_position", "prefix")
        if algorithm["salt_position"] not in ("disable", "prefix", "suffix"):
            raise Invalid(f"salt_position must be disable, prefix or suffix, not {algorithm['salt_position']!r}")
    elif name == "bcrypt":
        algorithm.setdefault("salt_rounds", 10)
    elif name == "pbkdf2":
        if "mac_fun" not in algorithm or "iterations" not in algorithm:
            raise Invalid("pbkdf2 needs mac_fun and iterations")
    else:
        raise Invalid(f"unknown password_hash_algorithm {name!r}")
    if user_id_type not in ("clientid", "username"):
        raise Invalid(f"user_id_type must be clientid or username, not {user_id_type!r}")
    return {
        "mechanism": "password_based",
        "backend": "built_in_database",
        "user_id_type": user_id_type,
        "password_hash_algorithm": algorithm,
        "bootstrap_file": bootstrap_file,
        "bootstrap_type": bootstrap_type,
        "enable": enable,
    }


def config_id(config: dict[str, Any]) -> str:
    """`emqx_authn_config:authenticator_id/1`."""
    return f"{config['mechanism']}:{config['backend']}" if "backend" in config else str(config["mechanism"])


@dataclass(eq=False)
class Authenticator:
    config: dict[str, Any]
    #: counters by node (each node counts the CONNECTs it handles)
    metrics: dict[str, AuthnMetrics] = field(default_factory=dict)
    users: dict[str, BuiltinUser] = field(default_factory=dict)
    #: the users in listing order (descending id), rebuilt after a change: pages are the hot path
    _listing: list[BuiltinUser] | None = None

    @property
    def id(self) -> str:
        return config_id(self.config)

    @property
    def enabled(self) -> bool:
        return bool(self.config.get("enable", True))

    @property
    def algorithm(self) -> dict[str, Any]:
        return dict(self.config["password_hash_algorithm"])

    def view(self) -> dict[str, Any]:
        """The config with its id (EMQX puts `id` first: an atom key sorts before the others)."""
        def ordered(value: Any) -> Any:
            return {key: ordered(value[key]) for key in sorted(value)} if isinstance(value, dict) else value

        return {"id": self.id, **ordered(self.config)}

    # -- users

    def user(self, user_id: str) -> BuiltinUser:
        found = self.users.get(user_id)
        if found is None:
            raise NotFound("User not found")
        return found

    def hashed(self, password: str) -> tuple[str, str]:
        algorithm = self.algorithm
        salt = new_salt(algorithm)
        return hash_password(algorithm, password, salt), salt

    def add_user(self, user_id: str, password: str, is_superuser: bool = False) -> BuiltinUser:
        if user_id == "":
            raise Invalid("invalid_user_id")
        if user_id in self.users:
            raise AlreadyExists("User already exists")
        password_hash, salt = self.hashed(password)
        return self._put(BuiltinUser(user_id, password_hash, salt, is_superuser))

    def update_user(self, user_id: str, password: str, is_superuser: bool | None = None) -> BuiltinUser:
        user = self.user(user_id)
        password_hash, salt = self.hashed(password)
        user.password_hash, user.salt = password_hash, salt
        if is_superuser is not None:
            user.is_superuser = is_superuser
        return user

    def delete_user(self, user_id: str) -> None:
        self.user(user_id)
        del self.users[user_id]
        self._listing = None

    def _put(self, user: BuiltinUser) -> BuiltinUser:
        self._listing = None
        self.users[user.user_id] = user
        return user

    def listing(self, is_superuser: bool | None = None) -> list[BuiltinUser]:
        """Users in EMQX's order (descending user id: `ets:select_reverse` on an ordered set)."""
        if self._listing is None:
            self._listing = [self.users[user_id] for user_id in sorted(self.users, reverse=True)]
        if is_superuser is None:
            return self._listing
        return [user for user in self._listing if user.is_superuser is is_superuser]

    def import_users(self, rows: list[dict[str, Any]], plain: bool) -> dict[str, int]:
        """Write parsed rows in one go (override on): new → success, same hash/salt/superuser →
        skipped, otherwise replaced → override (`emqx_authn_mnesia:import_users/3`)."""
        prepared = []
        for row in rows:
            if plain:
                password_hash, salt = self.hashed(row["password"])
            else:
                password_hash, salt = row["password_hash"], row.get("salt", "")
            prepared.append(BuiltinUser(row["user_id"], password_hash, salt, row["is_superuser"]))
        result = {"total": len(rows), "success": 0, "override": 0, "skipped": 0, "failed": 0}
        for user in prepared:
            old = self.users.get(user.user_id)
            if old is None:
                result["success"] += 1
            elif (old.password_hash, old.salt, old.is_superuser) == (user.password_hash, user.salt, user.is_superuser):
                result["skipped"] += 1
                continue
            else:
                result["override"] += 1
            self._put(user)
        return result

    # -- CONNECT

    def authenticate(self, username: str | None, clientid: str, password: str | None) -> str | bool:
        """`emqx_authn_mnesia:authenticate/2`: "ignore", "bad_username_or_password", or the
        user's `is_superuser` on success."""
        if password is None:
            return "bad_username_or_password"
        user_id = clientid if self.config.get("user_id_type", "username") == "clientid" else username
        user = self.users.get(user_id) if user_id is not None else None
        if user is None:
            return "ignore"
        if not check_password(self.algorithm, password, user.password_hash, user.salt):
            return "bad_username_or_password"
        return user.is_superuser


# -- the chain --------------------------------------------------------------------------------


class AuthnChain:
    """The `'mqtt:global'` chain. Empty means no chain at all (EMQX deletes the record).
    EMQX 4.4's `emqx_auth_mnesia` users (`mnesia`, set by their kind's reset) are asked first."""

    mnesia: MnesiaUsers

    def __init__(self) -> None:
        self.authenticators: list[Authenticator] = []

    def __iter__(self) -> Iterator[Authenticator]:
        return iter(self.authenticators)

    def __len__(self) -> int:
        return len(self.authenticators)

    def get(self, authenticator_id: str) -> Authenticator:
        for authenticator in self.authenticators:
            if authenticator.id == authenticator_id:
                return authenticator
        raise AuthenticatorNotFound(authenticator_id)

    def for_users(self, authenticator_id: str) -> Authenticator:
        """The authenticator a user operation targets; no chain → `NoChain` (404 in EMQX),
        an id not in it → `AuthenticatorNotFound` (EMQX wraps it as a 400 user error)."""
        if not self.authenticators:
            raise NoChain()
        return self.get(authenticator_id)

    def create(self, config: dict[str, Any]) -> Authenticator:
        authenticator = Authenticator(dict(config))
        if any(existing.id == authenticator.id for existing in self.authenticators):
            raise AlreadyExists(f"Authenticator '{authenticator.id}' already exist")
        self.authenticators.append(authenticator)
        return authenticator

    def update(self, authenticator_id: str, config: dict[str, Any]) -> Authenticator:
        """Full replacement of the config; users and metrics stay."""
        authenticator = self.get(authenticator_id)
        if config_id(config) != authenticator_id:
            raise Invalid("Change of authentication type is not allowed")
        authenticator.config = dict(config)
        return authenticator

    def delete(self, authenticator_id: str) -> None:
        """Idempotent while a chain exists; its users and metrics go with it."""
        if not self.authenticators:
            raise NoChain()
        self.authenticators = [a for a in self.authenticators if a.id != authenticator_id]

    def move(self, authenticator_id: str, position: str) -> None:
        """`front`, `rear`, `before:<id>` or `after:<id>` (`emqx_authn_config`)."""
        kind, _, related = position.partition(":")
        if position not in ("front", "rear") and (kind not in ("before", "after") or not related):
            raise Invalid("Invalid value for 'position'")
        moved = self.get(authenticator_id)
        rest = [a for a in self.authenticators if a is not moved]
        if position == "front":
            index = 0
        elif position == "rear":
            index = len(rest)
        else:
            index = next((i for i, a in enumerate(rest) if a.id == related), -1)
            if index < 0:
                raise AuthenticatorNotFound(related)
            index += kind == "after"
        rest.insert(index, moved)
        self.authenticators = rest

    def reorder(self, ids: list[str]) -> None:
        """An exact permutation of the configured ids, or a 400 naming the differences."""
        self.authenticators = reordered(self.authenticators, ids, lambda a: a.id, "authenticators")

    def authenticate(self, node: str, username: str | None, clientid: str, password: str | None) -> bool | None:
        """Run the chain for one CONNECT (`emqx_authn_chains:authenticate/2`): None when no
        authenticator is enabled (anonymous), else the user's `is_superuser`; refusals raise
        NotAuthorized. Each authenticator that runs counts in its own metrics. First the 4.4
        `emqx_auth_mnesia` users: one of the client's logins there decides (its hook stops the
        chain on success and on `password_error`); none lets the chain run."""
        found = self.mnesia.authenticate(clientid, username, password)
        if found == PASSWORD_ERROR:
            raise NotAuthorized("bad_username_or_password")
        if found == SUCCESS:
            return False
        enabled = [a for a in self.authenticators if a.enabled]
        if not enabled:
            return None
        for authenticator in enabled:
            metrics = authenticator.metrics.setdefault(node, AuthnMetrics())
            metrics.total += 1
            result = authenticator.authenticate(username, clientid, password)
            if result == "ignore":
                metrics.nomatch += 1
                continue
            if result == "bad_username_or_password":
                metrics.failed += 1
                raise NotAuthorized("bad_username_or_password")
            metrics.success += 1
            return bool(result)
        raise NotAuthorized("not_authorized")


# -- import file parsing (`emqx_authn_mnesia:parse_import_users/3`) ----------------------------


class BadImport(Invalid):
    """A file the import refuses as a whole; `str()` is EMQX's `~0p` of the reason."""


def _superuser(value: Any) -> bool:
    return value is True or value == "true"


def _row(raw: Any, plain: bool) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str):
        # EMQX stores a JSON number id as it is; the fake keeps ids (and hashes) text only
        raise BadImport("bad_format")
    row: dict[str, Any] = {"user_id": raw["user_id"], "is_superuser": _superuser(raw.get("is_superuser", False))}
    if plain:
        if "password" not in raw:
            raise BadImport('"plain_import_requires_password_field"')
        if not isinstance(raw["password"], str):
            raise BadImport(f"{{password_not_string,{json.dumps(raw['password'])}}}")
        row["password"] = raw["password"]
    else:
        if "password_hash" not in raw:
            raise BadImport('"hash_import_requires_password_hash_field"')
        row["password_hash"], row["salt"] = raw["password_hash"], raw.get("salt", "")
        if not isinstance(row["password_hash"], str) or not isinstance(row["salt"], str):
            raise BadImport("bad_format")
    return row


def _rows(raws: Iterable[Any], plain: bool) -> list[dict[str, Any]]:
    rows = [_row(raw, plain) for raw in raws]
    if not rows:
        raise BadImport("empty_users")
    return rows


def parse_import_list(users: Any, plain: bool) -> list[dict[str, Any]]:
    """An `application/json` body: it must be an array."""
    if not isinstance(users, list):
        raise BadImport("function_clause")
    return _rows(users, plain)


def parse_import_file(filename: str, content: bytes, plain: bool) -> list[dict[str, Any]]:
    """An uploaded `.csv` or `.json` file, judged by its (case-sensitive) extension."""
    _, dot, extension = filename.rpartition(".")
    if not dot:
        raise BadImport("unknown_file_format")
    if extension == "json":
        try:
            text = content.decode("utf-8", errors="replace")
            check_json(text)  # before any recursive walk (see `nesting`): refused as {1,invalid_json}
            users = json.loads(text)
        except ValueError as error:
            # jiffy's error term: the 1-based position it stopped at
            raise BadImport(f"{{{getattr(error, 'pos', 0) + 1},invalid_json}}") from None
        if not isinstance(users, list):
            raise BadImport("unknown_file_format")
        return _rows(users, plain)
    if extension == "csv":
        return _rows(_csv_records(content.decode("utf-8", errors="replace")), plain)
    raise BadImport('{unsupported_file_format,' + binary(f'.{extension}'.encode()) + '}')


def _csv_records(text: str) -> Iterator[dict[str, str]]:
    """EMQX's CSV reader: lines split on CR and LF (blank ones dropped), fields on `,` and
    space (empty ones dropped); no quoting. The first line names the columns."""
    lines = [line for line in text.replace("\r", "\n").split("\n") if line]
    if not lines:
        return
    header = _csv_fields(lines[0])
    for line in lines[1:]:
        fields = _csv_fields(line)
        if len(fields) != len(header):
            raise BadImport("bad_format")
        yield dict(zip(header, fields, strict=True))


def _csv_fields(line: str) -> list[str]:
    return [value for value in line.replace(" ", ",").split(",") if value]


