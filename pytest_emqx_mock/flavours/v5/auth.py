"""Who is calling: Basic API keys and bearer tokens, with EMQX's 401/403 answers
(`emqx_dashboard:authorize/2`, `emqx_mgmt_auth`, `emqx_dashboard_token`)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from ...http.principal import Principal
from ...http.replies import ApiError, RawReply, Reply
from ...http.routing import raw_path
from ...state.access import ADMINISTRATOR, PUBLISHER, VIEWER, Token
from ...state.broker import EE
from ...state.clock import now

if TYPE_CHECKING:
    from werkzeug import Request

    from ...http.routing import Route
    from ...state.broker import Broker

CHALLENGE = {"WWW-Authenticate": 'Basic Realm="emqx-dashboard"'}
#: The codes of the refusals below, which no operation's spec declares.
CODES = ("AUTHORIZATION_HEADER_ERROR", "API_KEY_NOT_ALLOW", "BAD_API_KEY_OR_SECRET", "BAD_TOKEN", "TOKEN_TIME_OUT", "UNAUTHORIZED_ROLE")
_PUBLISH_PATHS = ("/publish", "/publish/bulk")


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, dict(CHALLENGE))


_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def _malformed_header() -> RawReply:
    """cowboy cannot parse the header, crashes, and answers 400 with no body."""
    return RawReply(Reply(400))


def authenticate(request: Request, route: Route, broker: Broker, prefix: str) -> Principal:
    """A principal of kind "api_key" or "token"; `prefix`: where the API is mounted. The role
    checks read the path under it as sent (`emqx_dashboard_rbac:check_rbac/3` reads
    `cowboy_req:path/1`), not as routed: `/api/v5/%70ublish` reaches the publish handler, yet
    no publisher may use it (nor `/api/v5/publish/../banned`, which is `/banned`)."""
    path = raw_path(request.environ).removeprefix(prefix)
    scheme, credentials = authorization(request)
    if scheme == "basic":
        api_key = basic_credentials(credentials)
        if route.api_key_block:
            raise _unauthorized(
                "API_KEY_NOT_ALLOW",
                "Please use bearer Token instead, using API key/secret in "
                f"{route.api_key_block} path is not permitted",
            )
        principal = _key_holder(api_key, broker)
        if broker.edition == EE and not _api_key_role_allows(principal.role, request.method, path):
            raise ApiError(403, "UNAUTHORIZED_ROLE", "This API Key don't have permission to access this resource")
        return principal
    with broker.lock:  # checked and renewed in one hold
        principal = _token_holder(credentials, broker)
        assert principal.token is not None
        if broker.edition == EE and not _user_role_allows(principal.token, request.method, path):
            raise ApiError(403, "UNAUTHORIZED_ROLE", "You don't have permission to access this resource")
        broker.tokens.touch(principal.token)
    return principal


def identify(request: Request, broker: Broker) -> Principal | None:
    """Who a request's credentials name: a valid API key and secret, or a live token; None
    when they name no one or are missing. It refuses nothing, checks no role and renews no
    token: it is for a request no operation serves, which EMQX's router answers before any
    authentication runs."""
    try:
        scheme, credentials = authorization(request)
        if scheme == "basic":
            return _key_holder(basic_credentials(credentials), broker)
        with broker.lock:
            return _token_holder(credentials, broker)
    except (ApiError, RawReply):
        return None


def authorization(request: Request) -> tuple[str, str]:
    """The Authorization header's scheme ("basic" or "bearer") and credentials; raises the
    refusal of a header EMQX cannot use (`emqx_dashboard:authorize/2`)."""
    header = request.headers.get("Authorization")
    if header is None:
        raise _unauthorized("AUTHORIZATION_HEADER_ERROR", "Support authorization: basic/bearer ")
    scheme, _, credentials = header.strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "basic" or (scheme == "bearer" and _TOKEN68.match(credentials)):
        return scheme, credentials
    if scheme == "digest" and credentials:
        raise _unauthorized("AUTHORIZATION_HEADER_ERROR", "Support authorization: basic/bearer ")
    raise _malformed_header()


def basic_credentials(credentials: str) -> tuple[str, str]:
    """Decode `key:secret` like Erlang's base64 (padding required, white space ignored)."""
    try:
        decoded = base64.b64decode("".join(credentials.split()), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _malformed_header() from None
    api_key, sep, secret = decoded.partition(":")
    if not credentials or not sep:
        raise _malformed_header()
    return api_key, secret


def _key_holder(credentials: tuple[str, str], broker: Broker) -> Principal:
    """The API key these are the key and secret of (`emqx_mgmt_auth:authorize`)."""
    with broker.lock:
        key = broker.api_keys.authenticate(*credentials)
    if key is None:
        raise _unauthorized("BAD_API_KEY_OR_SECRET", "Check api_key/api_secret")
    return Principal("api_key", key.api_key, key.role)


def _api_key_role_allows(role: str, method: str, path: str) -> bool:
    if role == ADMINISTRATOR:
        return True
    if role == VIEWER:
        return method == "GET"
    if role == PUBLISHER:
        return method == "POST" and path in _PUBLISH_PATHS
    return False


def _token_holder(token_text: str, broker: Broker) -> Principal:
    """The user a live token was issued to (`emqx_dashboard_token:verify`); the caller holds
    the state lock."""
    token = broker.tokens.lookup(token_text)
    if token is None:
        raise ApiError(401, "BAD_TOKEN", "Get a token by POST /login")
    if token.expires_at <= now():
        raise ApiError(401, "TOKEN_TIME_OUT", "Token expired, get new token by POST /login")
    return Principal("token", token.username, token.role, token)


def _user_role_allows(token: Token, method: str, path: str) -> bool:
    """Everyone may log out and change their own password."""
    if token.role == ADMINISTRATOR or method == "GET":
        return True
    return method == "POST" and path in ("/logout", f"/users/{token.username}/change_pwd")
