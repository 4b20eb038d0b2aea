"""The auth matrix: every non-public route the router serves, probed with every credential EMQX
refuses, generated from the routes (a route added later is probed with no extra work).

Each probe asserts EMQX 5.8.9's exact answer (`emqx_dashboard:authorize/1`: the header's
scheme, then `emqx_mgmt_auth:authorize/3` for an API key, `emqx_dashboard_token:verify/2` for a
token, then `emqx_dashboard_rbac:check_rbac/3` in EE) and that the state is the one before the
probes, snapshot for snapshot. The paths a router can be fooled with reach the plain path's
decision. The expected answers are those tests/test_auth.py pins one by one.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
from conftest import every_door

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.cloud import CloudV5
from pytest_emqx_mock.flavours.platform import EmqxPlatform
from pytest_emqx_mock.flavours.v4 import Emqx4
from pytest_emqx_mock.flavours.v5 import API_MODULES
from pytest_emqx_mock.http.flavour import Flavour
from pytest_emqx_mock.http.routing import Route

CHALLENGE = 'Basic Realm="emqx-dashboard"'
PREFIX = "/api/v5"
PUBLISH = ("POST /publish", "POST /publish/bulk")
#: The users the probes' tokens were issued to: an EE viewer, one deleted, one whose password changed.
VIEWER, GONE, CHANGED = "viewer1", "gone1", "changed1"

#: The mounted flavour's routes, read from a fake that is never started.
ROUTES = [route for flavour in EmqxServer().app.flavours for route in flavour.routes]
GUARDED = [route for route in ROUTES if not route.public]


def concrete(route: Route, prefix: str = PREFIX) -> str:
    """The route's path with a placeholder in each parameter."""
    return route.path_under(prefix).replace("{", "").replace("}", "")  # "{clientid}" -> "clientid"


# -- the answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    challenge: bool  # a WWW-Authenticate header, EMQX's `?WWW_AUTHENTICATE` (API keys only)


def _error(status: int, code: str, message: str, challenge: bool) -> Answer:
    return Answer(status, json.dumps({"code": code, "message": message}, separators=(",", ":")).encode(), challenge)


HEADER_ERROR = _error(401, "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic/bearer ", True)
MALFORMED = Answer(400, b"", False)  # cowboy cannot parse the header: a bodiless 400
BAD_KEY = _error(401, "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret", True)
BAD_TOKEN = _error(401, "BAD_TOKEN", "Get a token by POST /login", False)
TOKEN_TIME_OUT = _error(401, "TOKEN_TIME_OUT", "Token expired, get new token by POST /login", False)
KEY_ROLE_DENIED = _error(403, "UNAUTHORIZED_ROLE", "This API Key don't have permission to access this resource", False)
USER_ROLE_DENIED = _error(403, "UNAUTHORIZED_ROLE", "You don't have permission to access this resource", False)


def key_not_allowed(route: Route) -> Answer:
    message = f"Please use bearer Token instead, using API key/secret in {route.api_key_block} path is not permitted"
    return _error(401, "API_KEY_NOT_ALLOW", message, True)


def for_an_api_key(refusal: Answer) -> Callable[[Route], Answer]:
    """A Basic credential's answer: the paths that refuse API keys say so before any key is
    looked up (`emqx_dashboard:authorize/1` checks `api_key_not_allowed` first)."""
    return lambda route: key_not_allowed(route) if route.api_key_block else refusal


# -- the credentials -------------------------------------------------------------------------------


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass(frozen=True)
class Credential:
    name: str
    #: The Authorization header (None: none sent), from the server's prepared credentials.
    header: Callable[[dict[str, str]], str | None]
    #: The answer on a route; None when this credential may use it (not a probe).
    answer: Callable[[Route], Answer | None]
    edition: str | None = None  # None: both


def _viewer_user(route: Route) -> Answer | None:
    """A viewer may GET, log out, and change its own password (`emqx_dashboard_rbac`); the
    placeholder user of `/users/{username}/change_pwd` is another user."""
    return None if route.method == "GET" or route.key == "POST /logout" else USER_ROLE_DENIED


def _key(name: str, secret: str, answer: Callable[[Route], Answer | None], edition: str | None = None) -> Credential:
    """A Basic credential: the prepared API key `name` (or `name` itself when none is) and `secret`."""
    return Credential(name, lambda prepared: basic(prepared.get(name, name), secret), answer, edition)


def _token(name: str, answer: Callable[[Route], Answer | None], edition: str | None = None) -> Credential:
    """A bearer credential: the prepared token `name`."""
    return Credential(name, lambda prepared: "Bearer " + prepared[name], answer, edition)


CREDENTIALS = [
    Credential("no header", lambda prepared: None, lambda route: HEADER_ERROR),
    Credential("malformed header", lambda prepared: "Bearer a b", lambda route: MALFORMED),
    _key("unknown key", "secret", for_an_api_key(BAD_KEY)),
    _key("wrong secret", "wrong-secret", for_an_api_key(BAD_KEY)),
    _key("disabled key", "s3cret", for_an_api_key(BAD_KEY)),
    _key("expired key", "s3cret", for_an_api_key(BAD_KEY)),
    _token("revoked token", lambda route: BAD_TOKEN),
    _token("expired token", lambda route: TOKEN_TIME_OUT),
    _token("deleted user's token", lambda route: BAD_TOKEN),
    _token("token before a password change", lambda route: BAD_TOKEN),
    _key(
        "viewer key",
        "vsecret",
        lambda route: None if route.method == "GET" and not route.api_key_block else for_an_api_key(KEY_ROLE_DENIED)(route),
        "ee",
    ),
    _token("viewer user", _viewer_user, "ee"),
    _key(
        "publisher key", "psecret", lambda route: None if route.key in PUBLISH else for_an_api_key(KEY_ROLE_DENIED)(route), "ee"
    ),
]


def _api(server: EmqxServer, method: str, path: str, token: str, body: Any) -> None:
    status, *_ = send(server, method, PREFIX + path, "Bearer " + token, json.dumps(body).encode())
    assert status == 204, (method, path, status)


def prepare(server: EmqxServer) -> dict[str, str]:
    """Every credential the probes use, made the way a user would; the state is then settled."""
    server.add_api_key("disabled", api_secret="s3cret", enable=False)
    server.add_api_key("expired", api_secret="s3cret", expired_at=time.time() - 3600)
    for username in (GONE, CHANGED):
        server.add_user(username, "userpass1")
    admin = server.login()
    revoked, expired = server.login(), server.login()
    _api(server, "POST", "/logout", revoked, {"username": "admin"})
    token = server.broker.tokens.lookup(expired)
    assert token is not None
    token.expires_at = time.time() - 1  # as test_auth.py's: EMQX's tokens last an hour
    gone, old = server.login(GONE, "userpass1"), server.login(CHANGED, "userpass1")
    _api(server, "DELETE", f"/users/{GONE}", admin, None)
    _api(server, "POST", f"/users/{CHANGED}/change_pwd", admin, {"old_pwd": "userpass1", "new_pwd": "userpass2"})
    keys = {key.name: key.api_key for key in server.broker.api_keys}
    prepared = {
        "wrong secret": server.api_key,  # with another secret
        "disabled key": keys["disabled"],
        "expired key": keys["expired"],
        "revoked token": revoked,
        "expired token": expired,
        "deleted user's token": gone,
        "token before a password change": old,
    }
    if server.edition == "ee":
        prepared["viewer key"] = server.add_api_key("viewerkey", role="viewer", api_secret="vsecret").api_key
        prepared["publisher key"] = server.add_api_key("pubkey", role="publisher", api_secret="psecret").api_key
        server.add_user(VIEWER, "viewpass1", role="viewer")
        prepared["viewer user"] = server.login(VIEWER, "viewpass1")
    server.add_client("clientid", subscriptions=["t"])  # a target the probes must not touch
    return prepared


# -- sending ---------------------------------------------------------------------------------------


def send(
    server: EmqxServer, method: str, path: str, authorization: str | None, body: bytes = b""
) -> tuple[int, bytes, str | None, str | None]:
    """`path` exactly as written (an HTTP client library would normalize `..` and `//`), over
    HTTPS where the server serves it."""
    connection: http.client.HTTPConnection
    if server.ca_file:
        context = ssl.create_default_context(cafile=server.ca_file)
        connection = http.client.HTTPSConnection(server.host, server.port, timeout=30, context=context)
    else:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("WWW-Authenticate"), response.getheader("Content-Type")
    finally:
        connection.close()


@dataclass
class Fake:
    server: EmqxServer
    credentials: dict[str, Any]
    before: dict[str, Any]

    def probe(self, credential: Credential, method: str, path: str) -> tuple[int, bytes, str | None, str | None]:
        answer = send(self.server, method, path, credential.header(self.credentials), b'{"x": 1}' if method != "GET" else b"")
        assert self.server.snapshot() == self.before  # a refused request changes nothing
        return answer


class LazyFakes(dict):  # type: ignore[type-arg]
    """Fakes by name, each made (started, its credentials prepared) when a probe first needs it."""

    def __init__(self, make: Callable[[str], Fake]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, name: str) -> Fake:
        fake = self[name] = self.make(name)
        fake.before = fake.server.snapshot()
        return fake

    def stop(self) -> None:
        for fake in self.values():
            fake.server.stop()
            fake.server.check_errors()


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Fake]]:
    """One fake per edition, started when a probe first needs it, for the whole module."""

    def make(edition: str) -> Fake:
        server = EmqxServer(edition=edition).start()
        return Fake(server, prepare(server), {})

    started = LazyFakes(make)
    yield started
    started.stop()


def _edition(credential: Credential) -> str:
    """Where a credential is probed: the role checks in EE; the rest, which EE runs as CE does
    before its role check (`emqx_dashboard:authorize/1`), in CE."""
    return credential.edition or "ce"


def _cases() -> Iterator[Any]:
    for credential in CREDENTIALS:
        for route in GUARDED:
            if credential.answer(route) is not None:
                yield pytest.param(credential, route, id=f"{credential.name}-{route.key}")


CASES = list(_cases())


# -- the matrix ------------------------------------------------------------------------------------


def test_the_matrix_covers_every_route_the_router_serves() -> None:
    """Every route of every API module is either public or probed; a new one is probed with no
    extra work, and its placeholder path is routed back to it."""
    server = EmqxServer()
    served = [(route.method, route.path_under(flavour.prefix)) for flavour in server.app.flavours for route in flavour.routes]
    declared = [(route.method, route.path_under(PREFIX)) for module in API_MODULES for route in module.routes.routes]
    assert sorted(served) == sorted(declared)
    probed = {(route.method, route.path_under(PREFIX)) for _, route in (case.values for case in CASES)}
    public = {(route.method, route.path_under(PREFIX)) for route in ROUTES if route.public}
    assert probed | public == set(served) and not probed & public
    assert {route.key for route in ROUTES if route.public} == {
        "POST /login",
        "GET /status",
        "POST /status",
        "PUT /status",
        "DELETE /status",
        "GET /error_codes",
        "GET /error_codes/{code}",
    }
    for route in GUARDED:
        endpoints, _ = server.app.router.match(concrete(route)) or ({}, {})
        assert endpoints[route.method].route is route, route.key


@pytest.mark.parametrize(("credential", "route"), CASES)
def test_refused(fakes: dict[str, Fake], credential: Credential, route: Route) -> None:
    expected = credential.answer(route)
    assert expected is not None
    status, body, challenge, _ = fakes[_edition(credential)].probe(credential, route.method, concrete(route))
    assert (status, body) == (expected.status, expected.body)
    assert challenge == (CHALLENGE if expected.challenge else None)


# -- the paths that could fool a router ------------------------------------------------------------


def _escaped(path: str) -> str:
    """The first literal after the prefix with its first letter percent-encoded (`%70ublish`)."""
    rest = path.removeprefix(PREFIX)
    return PREFIX + "/%" + format(ord(rest[1]), "02X") + rest[2:]


FOOLING = {
    "escaped": _escaped,
    "dot-dot": lambda path: PREFIX + "/publish/.." + path.removeprefix(PREFIX),
    "double slash": lambda path: PREFIX + "/" + path.removeprefix(PREFIX),
    "trailing slash": lambda path: path + "/",
}


def _representative() -> list[Route]:
    """One route per EMQX API module (a write where it has one), and both publish routes."""
    chosen = {route.key: route for route in GUARDED if route.key in PUBLISH}
    for module in API_MODULES:
        guarded = [route for route in module.routes.routes if not route.public]
        writes = [route for route in guarded if route.method != "GET"]
        if guarded:
            route = (writes or guarded)[0]
            chosen[route.key] = route
    return sorted(chosen.values(), key=lambda route: route.key)


REPRESENTATIVE = _representative()


@pytest.mark.parametrize(
    ("route", "credential"),
    [
        pytest.param(route, credential, id=f"{route.key}-{credential.name}")
        for route in REPRESENTATIVE
        for credential in CREDENTIALS
        if credential.answer(route) is not None  # refused on the plain path
    ],
)
def test_a_fooling_path_reaches_the_plain_decision(fakes: dict[str, Fake], route: Route, credential: Credential) -> None:
    """A credential refused on the plain path is refused the same way on each of its disguises,
    in EE (the role checks included). A publisher allowed on the plain `/publish` is refused on
    any other spelling: EMQX checks roles on the path as sent (`emqx_dashboard_rbac:check_rbac/3`;
    tests/test_http.py)."""
    fake, plain = fakes["ee"], concrete(route)
    decision = fake.probe(credential, route.method, plain)
    for form, disguise in FOOLING.items():
        assert fake.probe(credential, route.method, disguise(plain)) == decision, form


# -- every other door: EMQX 4, the Cloud deployments, the Platform --------------------------------
#
# Every door but EMQX 5's own, generated from the flavours (`every_door`): every route it guards,
# probed with every credential such a door refuses, answers the door's exact refusal and changes
# nothing. Its callers hold an application (`Flavour.credentials == "app"`: one disabled and one
# expired are probed too) or a key of their own (the Platform's).

ISSUED = ("deployment1", "s3cret")


def _door_credentials(server: EmqxServer) -> dict[str, str | None]:
    """The Authorization header of each credential the door refuses."""
    refused = {
        "no header": None,
        "wrong secret": basic(ISSUED[0], "wrong"),
        "unknown id": basic("ghost", ISSUED[1]),
        "API key of EMQX 5": basic(server.api_key, server.api_secret),
        "bearer": "Bearer abc",
        "digest": f'Digest username="{ISSUED[0]}", realm="emqx", nonce="n", uri="/", response="r"',
        "not base64": "Basic %%%",
        "no colon": "Basic " + base64.b64encode(ISSUED[0].encode()).decode(),
    }
    if server.app.flavours[0].credentials == "app":
        refused.update({"disabled app": basic("off", "s"), "expired app": basic("old", "s")})
    return refused


#: An answer as probed: status, WWW-Authenticate, content type, body.
Refusal = tuple[int, str | None, str | None, bytes]
#: minirest 0.3's 401 for anything but an app's Basic credentials (`emqx_mgmt_http:authorize_appid/1`),
#: before any route is looked up.
MINIREST_UNAUTHORIZED: Refusal = (401, 'Basic Realm="minirest-server"', None, b"UNAUTHORIZED")
#: The Platform's 401, in its documents' words.
PLATFORM_UNAUTHORIZED: Refusal = (401, 'Basic realm="EMQX Platform API"', "application/json", b'{"message":"API Key authentication failed"}')


def _cloud_v5_refusal(header: str | None) -> Refusal:
    """EMQX 5's answers, Basic only (`flavours.cloud._app_holder`): another scheme is the header
    error, a Basic header that does not decode cowboy's bare 400, credentials naming no app 401."""
    scheme, _, credentials = (header or "").partition(" ")
    if scheme != "Basic":
        return _v5_refusal(HEADER_ERROR_BASIC)
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if ":" not in decoded:  # cowboy_req:parse_header/2 fails: no `id:secret`
        return (MALFORMED.status, None, None, MALFORMED.body)
    return _v5_refusal(BAD_KEY)


def _v5_refusal(answer: Answer) -> Refusal:
    return (answer.status, CHALLENGE if answer.challenge else None, "application/json", answer.body)


HEADER_ERROR_BASIC = _error(401, "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic", True)


@dataclass(frozen=True)
class DoorRules:
    #: The answer to a credential's header.
    refusal: Callable[[str | None], Refusal]
    #: Credentials are checked before the route is looked up: a path no route serves is refused too.
    before_routing: bool


#: By the flavour each family of doors is made from (a door of another flavour must say its own).
DOOR_RULES: dict[type[Flavour], DoorRules] = {
    Emqx4: DoorRules(lambda header: MINIREST_UNAUTHORIZED, before_routing=True),
    CloudV5: DoorRules(_cloud_v5_refusal, before_routing=False),
    EmqxPlatform: DoorRules(lambda header: PLATFORM_UNAUTHORIZED, before_routing=False),
}


def door_rules(flavour: type[Flavour]) -> DoorRules:
    found = next((rules for family, rules in DOOR_RULES.items() if issubclass(flavour, family)), None)
    assert found is not None, f"{flavour.__name__}: say how its door refuses credentials in DOOR_RULES"
    return found


#: Every other door, its options and its mounted flavour (read from a fake never started).
DOORS = {name: (options, EmqxServer(**options).app.flavours[0]) for name, options in every_door(ISSUED)}


def _door_cases() -> Iterator[Any]:
    for name, (_, flavour) in DOORS.items():
        guarded = [route for route in flavour.routes if flavour.needs_credentials(route)]
        if door_rules(type(flavour)).before_routing:
            guarded.append(Route("GET", "/no/such/path", lambda call: None))
        for route in guarded:
            yield pytest.param(name, route, id=f"{name}-{route.key}")


@pytest.fixture(scope="module")
def doors() -> Iterator[dict[str, Fake]]:
    """One fake per door, started when a probe first needs it, with an app disabled and one
    expired beside the deployment's, and a client the probes must not touch."""

    def make(name: str) -> Fake:
        server = EmqxServer(**DOORS[name][0]).start()
        server.add_app("off", secret="s", status=False)
        server.add_app("old", secret="s", expired=1_000_000)
        server.add_client("clientid", subscriptions=["t/1"])
        return Fake(server, _door_credentials(server), {})

    started = LazyFakes(make)
    yield started
    started.stop()


def test_every_other_door_is_probed() -> None:
    assert {"v4", "cloud-v4", "cloud-v5", "cloud-v5-serverless", "platform"} <= set(DOORS)
    assert len([case for case in _door_cases() if case.values[0] == "v4"]) >= 25


@pytest.mark.parametrize(("door", "route"), list(_door_cases()))
def test_every_other_door_refuses_every_bad_credential(doors: dict[str, Fake], door: str, route: Route) -> None:
    fake = doors[door]
    flavour = fake.server.app.flavours[0]
    path = concrete(route, flavour.prefix)
    if route in flavour.routes:  # the placeholder path is routed back to the route
        endpoints, _ = fake.server.app.router.match(path) or ({}, {})
        assert endpoints[route.method].route is route
    rules = door_rules(type(flavour))
    for name, header in fake.credentials.items():
        body = b'{"who":"clientid","as":"clientid","reason":"r"}'
        status, answer, challenge, kind = send(fake.server, route.method, path, header, body)
        assert (status, challenge, kind, answer) == rules.refusal(header), name
        assert fake.server.snapshot() == fake.before, name  # a refused request changes nothing
