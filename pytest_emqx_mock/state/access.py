"""Who may call the management API: API keys, dashboard users and their bearer tokens.

Mirrors `emqx_mgmt_auth` (API keys), `emqx_dashboard_admin` (users, password policy) and
`emqx_dashboard_token` (the token table that decides whether a bearer token is valid).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import warnings
from dataclasses import dataclass, field
from typing import Iterator

from .clock import now
from .errors import AlreadyExists, Invalid, LimitReached, NotFound

ADMINISTRATOR = "administrator"
VIEWER = "viewer"
PUBLISHER = "publisher"
API_KEY_ROLES = (ADMINISTRATOR, VIEWER, PUBLISHER)
USER_ROLES = (ADMINISTRATOR, VIEWER)

MAX_API_KEYS = 100
TOKEN_TTL_SECONDS = 60 * 60
BOOTSTRAP_DESC = "Bootstrapped From File"

#: `emqx_base62`'s alphabet: 6-bit values 0-60 are one character, 61-63 two ("9A".."9C").
_BASE62 = [*"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345678", "9A", "9B", "9C"]


def _sha512_hex16(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()[:16]


def base62_secret() -> str:
    """A secret as EMQX makes one: `emqx_base62:encode` of 32 random bytes, 43 symbols
    (6 bits each, the last 4 bits) of one or two characters."""
    bits = int.from_bytes(secrets.token_bytes(32), "big")
    sizes = [6] * 42 + [4]
    symbols, shift = [], 256
    for size in sizes:
        shift -= size
        symbols.append(_BASE62[(bits >> shift) & ((1 << size) - 1)])
    return "".join(symbols)


def _hash_password(password: str, salt: str) -> str:
    return hashlib.sha256((salt + password).encode()).hexdigest()


@dataclass(eq=False)
class ApiKey:
    name: str
    api_key: str
    api_secret: str
    desc: str = ""
    enable: bool = True
    expired_at: float | None = None  # epoch seconds; None is EMQX's "infinity"
    created_at: float = field(default_factory=now)
    role: str = ADMINISTRATOR

    def is_expired(self, at: float | None = None) -> bool:
        return self.expired_at is not None and self.expired_at < (now() if at is None else at)


class ApiKeyTaken(AlreadyExists):
    """An `api_key` given for a new key that another key has (EMQX derives each from its
    name, so only a seeded one can be taken)."""

    def __init__(self, api_key: str, holder: str) -> None:
        super().__init__(f"api_key {api_key!r} is the API key {holder!r}'s")
        self.api_key = api_key
        self.holder = holder


class ApiKeys:
    """The API key table; `api_key` of a named key is the first 16 hex of SHA-512(name)."""

    def __init__(self) -> None:
        self._by_name: dict[str, ApiKey] = {}
        self._by_key: dict[str, ApiKey] = {}

    def __iter__(self):
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> ApiKey:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFound("Name NOT FOUND") from None

    def create(
        self,
        name: str,
        *,
        desc: str = "",
        enable: bool = True,
        expired_at: float | None = None,
        role: str = ADMINISTRATOR,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> ApiKey:
        if len(self._by_name) >= MAX_API_KEYS:
            raise LimitReached('"Maximum number of ApiKeys reached."')
        if name in self._by_name:
            raise AlreadyExists("name_already_existed")
        if role not in API_KEY_ROLES:
            raise Invalid("Role does not exist")
        api_key = api_key or _sha512_hex16(name)
        holder = self._by_key.get(api_key)
        if holder is not None:  # one key, one row: authentication finds a key by it
            raise ApiKeyTaken(api_key, holder.name)
        key = ApiKey(
            name=name,
            api_key=api_key,
            api_secret=api_secret or base62_secret(),
            desc=desc,
            enable=enable,
            expired_at=expired_at,
            role=role,
        )
        self._by_name[name] = key
        self._by_key[key.api_key] = key
        return key

    def update(
        self,
        name: str,
        *,
        desc: str | None = None,
        enable: bool | None = None,
        expired_at: float | None = None,
        role: str = ADMINISTRATOR,
    ) -> ApiKey:
        """EMQX's PUT: absent `desc`/`enable` keep their value; `expired_at` and `role` reset."""
        key = self.get(name)
        if role not in API_KEY_ROLES:
            raise Invalid("Role does not exist")
        if desc is not None:
            key.desc = desc
        if enable is not None:
            key.enable = enable
        key.expired_at = expired_at
        key.role = role
        return key

    def delete(self, name: str) -> None:
        key = self.get(name)
        del self._by_name[name]
        self._by_key.pop(key.api_key, None)

    def authenticate(self, api_key: str, api_secret: str) -> ApiKey | None:
        """The key whose key and secret these are, if it is enabled and unexpired."""
        key = self._by_key.get(api_key)
        if key is None or not key.enable or key.is_expired():
            return None
        if not hmac.compare_digest(key.api_secret.encode(), api_secret.encode()):
            return None
        return key

    def bootstrap(self, entries: list[BootstrapEntry]) -> None:
        """Load `key:secret[:role]` lines the way EMQX loads its bootstrap file: a key seen
        again takes the later secret."""
        for entry in entries:
            name = "from_bootstrap_file_" + _sha512_hex16(entry.api_key)
            existing = self._by_name.get(name)
            if existing is not None:
                existing.api_secret = entry.api_secret
                existing.role = entry.role
                continue
            self.create(
                name,
                desc=BOOTSTRAP_DESC,
                role=entry.role,
                api_key=entry.api_key,
                api_secret=entry.api_secret,
            )


@dataclass(frozen=True)
class BootstrapEntry:
    api_key: str
    api_secret: str
    role: str = ADMINISTRATOR


#: `emqx_mgmt_auth`'s line pattern `(.+):(.+)(?::(.+))?$`, compiled `ungreedy`: `a:b:c:d` is
#: key a, secret b, role "c:d"; `k::s` is secret ":s"; `k:s:` is secret "s:".
_BOOTSTRAP_LINE = re.compile(r"(.+?):(.+?)(?::(.+?))?$")
#: What `string:trim/1` strips from each line: Unicode's Pattern_White_Space.
_TRIMMED = " \t\n\v\f\r\x85\u200e\u200f\u2028\u2029"


class BootstrapFileWarning(UserWarning):
    """A bootstrap API-key file line EMQX refuses: it logs `failed_to_load_bootstrap_file`
    and loads no key from that line on (the keys before it stay), then starts anyway."""


def parse_bootstrap_file(text: str, roles: tuple[str, ...], source: str = "bootstrap file") -> list[BootstrapEntry]:
    """Parse EMQX's bootstrap API-key file (`emqx_mgmt_auth:add_bootstrap_file/4`): lines split
    at newlines as `file:read_line/1` does, blank lines skipped, no comments. The first
    malformed line (or role the edition does not know, `parse_bootstrap_line/2`) stops the
    load: the entries before it are kept, the rest are not read, and a BootstrapFileWarning
    names `source`, the line's number and EMQX's reason."""
    entries: list[BootstrapEntry] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip(_TRIMMED)
        if not line:
            continue
        match = _BOOTSTRAP_LINE.search(line)
        if match is None:
            problem = f"invalid_format {line!r} (not key:secret[:role])"
        else:
            key, secret, role = match.group(1), match.group(2), match.group(3) or ADMINISTRATOR
            if role in roles:
                entries.append(BootstrapEntry(key, secret, role))
                continue
            problem = f"invalid_role {role!r} (this edition's roles: {', '.join(roles)})"
        warnings.warn(
            f"{source}, line {number}: {problem}: EMQX logs failed_to_load_bootstrap_file and loads no key from this line on",
            BootstrapFileWarning,
            stacklevel=2,
        )
        break
    return entries


@dataclass(eq=False)
class DashboardUser:
    username: str
    password_hash: str
    salt: str
    description: str = ""
    role: str = ADMINISTRATOR

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(self.password_hash, _hash_password(password, self.salt))

    def set_password(self, password: str) -> None:
        self.salt = secrets.token_hex(4)
        self.password_hash = _hash_password(password, self.salt)


_USERNAME_RE = re.compile(r"^[_a-zA-Z0-9]*$")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_SPECIALS = frozenset("!@#$%^&*()_+-=[]{}\"|;':,./<>?`~ ")
BAD_PASSWORD = (
    "Bad password. At least two different kind of characters from groups of letters, numbers, "
    "and special characters. For example, if password is composed from letters, it must contain "
    "at least one number or a special character."
)


class PasswordMismatch(Invalid):
    """A password change whose old password is not the user's."""


def password_problem(password: str) -> str | None:
    """EMQX's dashboard password policy (`legal_password/1`), checked in its order; the
    length is counted in bytes, and a backslash is no special character."""
    if not 8 <= len(password.encode()) <= 64:
        return "The range of password length is 8~64"
    chars = set(password)
    kinds = sum(bool(chars & group) for group in (_DIGITS, _LETTERS, _SPECIALS))
    if kinds < 2:
        return BAD_PASSWORD
    if not password.isascii():
        return "Only ascii characters are allowed in the password"
    return None


def username_problem(username: str) -> str | None:
    if not username:
        return "Username cannot be empty"
    if not _USERNAME_RE.match(username):
        return "Bad Username. Only upper and lower case letters, numbers and underscores are supported"
    return None


class DashboardUsers:
    def __init__(self) -> None:
        self._users: dict[str, DashboardUser] = {}

    def __iter__(self):
        return iter(list(self._users.values()))

    def __contains__(self, username: str) -> bool:
        return username in self._users

    def get(self, username: str) -> DashboardUser:
        try:
            return self._users[username]
        except KeyError:
            raise NotFound("username_not_found") from None

    def add(
        self,
        username: str,
        password: str,
        *,
        description: str = "",
        role: str = ADMINISTRATOR,
        check_policy: bool = True,
    ) -> DashboardUser:
        """Add a user; the default user is created at boot without the password policy."""
        problem = username_problem(username) or (password_problem(password) if check_policy else None)
        if problem:
            raise Invalid(problem)
        if role not in USER_ROLES:
            raise Invalid("Role does not exist")
        if username in self._users:
            raise AlreadyExists("username_already_exists")
        user = DashboardUser(username, "", "", description, role)
        user.set_password(password)
        self._users[username] = user
        return user

    def delete(self, username: str) -> None:
        self.get(username)
        del self._users[username]

    def login(self, username: str, password: str) -> DashboardUser | None:
        user = self._users.get(username)
        return user if user is not None and user.check_password(password) else None


@dataclass(eq=False)
class Token:
    token: str
    username: str
    role: str
    expires_at: float


class Tokens:
    """EMQX's token table: a token is valid while its row is here and unexpired; each
    authorized use slides its expiry forward."""

    def __init__(self, ttl: float = TOKEN_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._tokens: dict[str, Token] = {}

    def issue(self, user: DashboardUser) -> Token:
        expires_at = now() + self.ttl
        token = Token(_jws(expires_at), user.username, user.role, expires_at)
        self._tokens[token.token] = token
        return token

    def lookup(self, token: str) -> Token | None:
        return self._tokens.get(token)

    def put(self, token: Token) -> None:
        """A token as a saved state holds it (`issue` makes new ones)."""
        self._tokens[token.token] = token

    def __iter__(self) -> Iterator[Token]:
        return iter(self._tokens.values())

    def touch(self, token: Token) -> None:
        token.expires_at = now() + self.ttl

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def revoke_user(self, username: str) -> None:
        for token in [t for t in self._tokens.values() if t.username == username]:
            del self._tokens[token.token]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jws(expires_at: float) -> str:
    """A compact HS256 JWS like EMQX's (`iss: EMQX`, `exp` in ms). EMQX never verifies the
    signature, only the table row, so the key is random (and makes each token unique)."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"exp": int(expires_at * 1000), "iss": "EMQX"}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secrets.token_bytes(32), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"
