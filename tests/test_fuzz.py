"""Property-based fuzzing (schemathesis) of every operation each front door serves, against
the door's OWN OpenAPI document as the fake serves it (`<api_docs_at>/swagger.json`): an
operation, or a door, added later is fuzzed with no work here. The doors are EMQX 5 in each
edition, then every other flavour (`FLAVOUR_NAMES`, each `cloud-v5` deployment) with an app
of its own. Each operation is one test (xdist spreads them), but an operation a door's document
describes as a door before it does, served by the same code over the same state at start (the
door's flavour is that door's, or made from it), is fuzzed there; here it is not (EMQX
Enterprise's), or, on a door of a flavour of its own, only the first of each tag is, for the
door's layer (prefix, credentials, envelope); all of them on a deeper run
(`EMQX_MOCK_FUZZ_EXAMPLES` set). A stateful run per EMQX 5 edition chains operations through the
links schemathesis infers from the document (a response's fields feeding another operation's
parameters).

Bounded and reproducible: a fixed number of examples per operation and of stateful scenarios,
from a fixed seed, with no example database. For a deeper local run, raise them:
`EMQX_MOCK_FUZZ_EXAMPLES=200 EMQX_MOCK_FUZZ_SCENARIOS=200 pytest tests/test_fuzz.py -n 2`.

Every answer must be declared by the document (status and content type), conform to its
schema, be shaped as the door shapes errors (`error_shape`), and be a 500 only where EMQX
itself answers one (`EMQX_500S`, `EMQX4_500S`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import hypothesis
import pytest
import requests
import schemathesis
from conftest import every_door
from schemathesis import Case, CheckContext, Response
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v4 import Emqx4
from pytest_emqx_mock.flavours.v5 import API_MODULES, Emqx5
from pytest_emqx_mock.http.flavour import Flavour

EXAMPLES = int(os.environ.get("EMQX_MOCK_FUZZ_EXAMPLES", "10"))
SCENARIOS = int(os.environ.get("EMQX_MOCK_FUZZ_SCENARIOS", "30"))
SEED = 20261203
EDITIONS = ("ce", "ee")
#: The credential (an app, a Platform key) each door but EMQX 5's is called with.
APP = ("fuzzer", "fuzz-secret")


@dataclass
class Door:
    """A front door as it is fuzzed: the options of its server, its document, and the door
    before it whose fuzzing covers the operations described alike (`like`)."""

    name: str
    options: dict[str, Any]
    like: str | None = None
    document: dict[str, Any] = field(default_factory=dict)
    flavour: type[Flavour] = Flavour
    #: Its state at start, as `like`'s is compared to it.
    state: dict[str, Any] = field(default_factory=dict)


def _doors() -> list[Door]:
    """EMQX 5 in each edition, then every other door (`every_door`), its callers' credential `APP`."""
    return [Door(edition, {"edition": edition}) for edition in EDITIONS] + [Door(name, options) for name, options in every_door(APP)]


def _documented(door: Door) -> None:
    """The door's document, fetched as any tool would fetch it, and its state at start."""
    with EmqxServer(**door.options) as server:
        flavour = server.app.flavours[0]
        answer = requests.get(f"{server.url}{flavour.api_docs_at}/swagger.json", verify=server.ca_file or True, timeout=30)
        answer.raise_for_status()
        door.document, door.flavour, door.state = answer.json(), type(flavour), _state(server)


def _state(server: EmqxServer) -> dict[str, Any]:
    """The state, but for the credentials (each door's own, and salted), and the nodes by name
    (their start times differ)."""
    snapshot = server.snapshot()
    kept = {kind: rows for kind, rows in snapshot.items() if kind not in ("apps", "api_keys", "users", "nodes")}
    return {**kept, "nodes": [node["name"] for node in snapshot["nodes"]]}


def _liken(doors: list[Door]) -> None:
    """Each door's `like`: the nearest door before it whose flavour its own is (or is made
    from), when it starts with the same state."""
    for index, door in enumerate(doors):
        before = [other for other in doors[:index] if issubclass(door.flavour, other.flavour)]
        nearest = max(before, key=lambda other: len(other.flavour.__mro__), default=None)
        if nearest is not None and nearest.state == door.state:
            door.like = nearest.name


DOORS = {door.name: door for door in _doors()}
for _door in DOORS.values():
    _documented(_door)
_liken(list(DOORS.values()))


# -- the checks ------------------------------------------------------------------------------

#: Every 500 EMQX 5.8.9 answers, by operation: the codes of its bodies (None: no body). The
#: document declares each (the overlays' `x-deviations` say why); no other 500 is allowed.
EMQX_500S: dict[str, set[str | None]] = {
    # emqx_mgmt_api:cluster_query/5: a node= naming no node fails its rpc (NODE_DOWN)...
    "GET /clients": {"NODE_DOWN", "INTERNAL_ERROR"},  # ...and emqx_mgmt_api_clients:run_fuzzy_filter/2 crashes on an empty like_*
    "GET /subscriptions": {"NODE_DOWN"},
    # emqx_mgmt_api_clients:subscribe/2: emqx_topic:parse/1's error, unmatched (UNKNOWN_ERROR)
    "POST /clients/{clientid}/subscribe": {"UNKNOWN_ERROR"},
    # emqx_mgmt_api_clients:unsubscribe/2: no topic ({badkey,_}), or a filter parse/1 refuses
    "POST /clients/{clientid}/unsubscribe": {"INTERNAL_ERROR"},
    # emqx_mgmt_api_publish:publish_batch/2: no clause for its own misspelt {errror, empty_batch}
    "POST /publish/bulk": {"INTERNAL_ERROR"},
    # emqx_mgmt_api_banned:delete_banned/2: a peerhost(_net) it cannot parse (function_clause)
    "DELETE /banned/{as}/{who}": {"INTERNAL_ERROR"},
    # emqx_mgmt_api_api_keys:api_key/2 matches the body on name, desc and enable (badmatch)
    "POST /api_key": {"INTERNAL_ERROR"},
    # emqx_dashboard_api:login/2, logout/2, users/2, user/2, change_pwd/2: a missing key ({badkey,_})
    "POST /login": {"INTERNAL_ERROR"},
    "POST /logout": {"INTERNAL_ERROR"},
    "POST /users": {"INTERNAL_ERROR"},
    "PUT /users/{username}": {"INTERNAL_ERROR"},
    "POST /users/{username}/change_pwd": {"INTERNAL_ERROR"},
    # emqx_authn_api:authenticator_status/2 for an authenticator without metrics (badmatch)
    "GET /authentication/{id}/status": {"INTERNAL_ERROR"},
    # emqx_authn_api:import_users/2: two files in the one `filename` part (badmatch)
    "POST /authentication/{id}/import_users": {"INTERNAL_ERROR"},
    # emqx_authz_api_settings:settings/2: no clause without no_match, deny_action or cache
    "PUT /authorization/settings": {"INTERNAL_ERROR"},
    # emqx_authz_schema's union selector throws inside hocon on a body with no known type
    "POST /authorization/sources": {None},
    "PUT /authorization/sources/{type}": {None},
    # emqx_authz_api_sources:move_source/2 lets emqx_authz:move/2's throw escape
    "POST /authorization/sources/{type}/move": {"INTERNAL_ERROR"},
    # emqx_authz_api_mnesia:run_fuzzy_filter/2: an empty like_* (binary:match/2 badarg)
    "GET /authorization/sources/built_in_database/rules/users": {"INTERNAL_ERROR"},
    "GET /authorization/sources/built_in_database/rules/clients": {"INTERNAL_ERROR"},
    # emqx_authz_api_mnesia:users/2, clients/2: a body not a list of owners with rules (badmatch)
    "POST /authorization/sources/built_in_database/rules/users": {"INTERNAL_ERROR"},
    "POST /authorization/sources/built_in_database/rules/clients": {"INTERNAL_ERROR"},
    # emqx_authz_api_mnesia:user/2, client/2, all/2: no clause for a body without rules
    "PUT /authorization/sources/built_in_database/rules/users/{username}": {"INTERNAL_ERROR"},
    "PUT /authorization/sources/built_in_database/rules/clients/{clientid}": {"INTERNAL_ERROR"},
    "POST /authorization/sources/built_in_database/rules/all": {"INTERNAL_ERROR"},
}

#: emqx_mgmt_api_publish answers a refused or undelivered message with its MQTT reason code.
REASON_CODE_ERRORS = ("/publish", "/publish/bulk")

#: Every 500 EMQX 4.4.19 answers (minirest's `Internal Error`, a handler that crashed), by
#: operation, with the function that crashes. The document declares each; no other 500 is allowed.
EMQX4_500S: dict[str, str] = {
    # emqx_mgmt_api:page/1, limit/1: a `_page` or `_limit` that is no integer (binary_to_integer/1)
    "GET /clients": "emqx_mgmt_api:page/1",  # and emqx_mgmt_api_clients:run_fuzzy_match/2 on an empty _like_*
    "GET /nodes/{node}/clients": "emqx_mgmt_api:page/1",
    "GET /subscriptions": "emqx_mgmt_api:page/1",  # and emqx_mgmt_api_subscriptions:list/2 on a qos that is no integer
    "GET /nodes/{node}/subscriptions": "emqx_mgmt_api:page/1",
    "GET /routes": "emqx_mgmt_api:page/1",
    "GET /banned": "emqx_mgmt_api:page/1",
    "GET /auth_clientid": "emqx_mgmt_api:page/1",
    "GET /auth_username": "emqx_mgmt_api:page/1",
    "GET /acl/clientid": "emqx_mgmt_api:page/1",
    "GET /acl/username": "emqx_mgmt_api:page/1",
    "GET /acl/$all": "emqx_mgmt_api:page/1",
    # a node that is down: the handler cannot encode the failed call's reply
    "GET /nodes/{node}/clients/{clientid}": "emqx_mgmt_api_clients:lookup/2",
    "GET /nodes/{node}/clients/username/{username}": "emqx_mgmt_api_clients:lookup/2",
    "GET /nodes/{node}/subscriptions/{clientid}": "emqx_mgmt_api_subscriptions:lookup/2",
    "GET /nodes/{node}/alarms": "emqx_mgmt_api_alarms:list/2",
    "GET /nodes/{node}/alarms/activated": "emqx_mgmt_api_alarms:list/2",
    "GET /nodes/{node}/alarms/deactivated": "emqx_mgmt_api_alarms:list/2",
    # a body that is not an object (its parameters no proplist), or fields of the wrong type
    "POST /banned": "emqx_mgmt_api_banned:create/2",  # no `reason`: pack_banned/1's match
    "POST /mqtt/subscribe": "emqx_mgmt_api_pubsub:subscribe/2",
    "POST /mqtt/unsubscribe": "emqx_mgmt_api_pubsub:unsubscribe/2",
    "POST /mqtt/publish": "emqx_mgmt_api_pubsub:publish/2",  # and emqx_message:make/6's guard on qos
    "POST /mqtt/subscribe_batch": "emqx_mgmt_api_pubsub:subscribe_batch/2",
    "POST /mqtt/unsubscribe_batch": "emqx_mgmt_api_pubsub:unsubscribe_batch/2",
    "POST /mqtt/publish_batch": "emqx_mgmt_api_pubsub:publish_batch/2",
    "POST /auth_clientid": "emqx_auth_mnesia_api:add/2",  # `[P | _] = Params` with no parameter
    "POST /auth_username": "emqx_auth_mnesia_api:add/2",
    "PUT /auth_clientid/{clientid}": "emqx_auth_mnesia_api:update/2",
    "PUT /auth_username/{username}": "emqx_auth_mnesia_api:update/2",
    "POST /acl": "emqx_acl_mnesia_api:add/2",  # do_add/1's case clause: no clientid, username or login
    "POST /alarms/deactivated": "emqx_mgmt_api_alarms:deactivate/2",  # binary_to_atom/2
    # a peerhost inet:parse_address/1 refuses (badmatch)
    "DELETE /banned/{as}/{who}": "emqx_mgmt_api_banned:delete/2",
    # a `type` other than json or prometheus: collect/1's match
    "GET /emqx_prometheus": "emqx_prometheus_api:stats/2",
}


def _operation(case: Case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def _json(response: Response) -> Any:
    kind = response.headers.get("content-type", [""])[0]
    return json.loads(response.content) if response.content and kind.startswith("application/json") else None


def _emqx5_500(response: Response, case: Case) -> bool:
    body = _json(response)
    return (body.get("code") if isinstance(body, dict) else None) in EMQX_500S.get(_operation(case), ())


def _emqx4_500(response: Response, case: Case) -> bool:
    return _operation(case) in EMQX4_500S and response.content == b"Internal Error"


def _emqx5_error(response: Response, case: Case) -> None:
    """An error answered in JSON is EMQX 5's `{"code", "message"}`, both texts (on /publish, its
    reason codes: `{"reason_code", "message"}`, or a list of them); the other error bodies are
    the documented non-JSON answers (the 404 page, `/status`'s text), which the content-type
    check holds to the document."""
    body = _json(response)
    if response.status_code < 400 or body is None:
        return
    if case.operation.path in REASON_CODE_ERRORS:
        for item in body if isinstance(body, list) else [body]:
            assert isinstance(item, dict) and isinstance(item.get("message"), str), f"not EMQX-shaped: {response.text[:300]}"
        return
    assert isinstance(body, dict) and set(body) == {"code", "message"}, f"not EMQX-shaped: {response.text[:300]}"
    assert isinstance(body["code"], str) and isinstance(body["message"], str), f"not EMQX-shaped: {response.text[:300]}"


#: minirest 0.3's own refusals: text by status (401's without a content type).
EMQX4_TEXTS = {400: (b"Bad Request", "text/plain"), 401: (b"UNAUTHORIZED", None), 404: (b"Not found.", "text/plain"), 500: (b"Internal Error", "text/plain")}


def _emqx4_error(response: Response, case: Case) -> None:
    """A business error is HTTP 200 in the envelope, a result code (an integer) and a message,
    or a message alone (`minirest:return({error, Msg})`); the framework's refusals are its texts
    (`EMQX4_TEXTS`); `/status` answers text of its own."""
    kind = response.headers.get("content-type", [None])[0]
    if response.status_code in EMQX4_TEXTS and case.operation.path != "/status":
        assert (response.content, kind) == EMQX4_TEXTS[response.status_code], f"not minirest's: {response.text[:300]}"
        return
    body = _json(response)
    if response.status_code == 200 and isinstance(body, dict) and body.get("code", 1) != 0:
        assert set(body) in ({"code", "message"}, {"message"}), f"not EMQX 4-shaped: {response.text[:300]}"
        assert isinstance(body["message"], str) and type(body.get("code", 0)) is int, f"not EMQX 4-shaped: {response.text[:300]}"


@dataclass(frozen=True)
class Rules:
    """How a family of doors answers: the 500s EMQX answers, and the shape of its errors."""

    emqx_500: Callable[[Response, Case], bool]
    error_shape: Callable[[Response, Case], None]
    #: The operations declaring a 500.
    crashing: frozenset[str]
    #: schemathesis' checks that do not hold for the family, and why.
    unchecked: tuple[str, ...] = ()


#: By the flavour each family of doors is made from. A door made from none of them may answer no 500.
RULES = {
    Emqx5: Rules(_emqx5_500, _emqx5_error, frozenset(EMQX_500S)),
    # minirest 0.3 has no 405: a method a path does not serve is no route, 404 `Not found.`
    Emqx4: Rules(_emqx4_500, _emqx4_error, frozenset(EMQX4_500S), unchecked=("unsupported_method",)),
}
NO_RULES = Rules(lambda response, case: False, lambda response, case: None, frozenset())


def rules(door: Door) -> Rules:
    return next((found for flavour, found in RULES.items() if issubclass(door.flavour, flavour)), NO_RULES)


def _door(case: Case) -> Door:
    return BY_TITLE[case.operation.schema.raw_schema["info"]["title"]]


@schemathesis.check
def emqx_500s_only(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """No server error but those EMQX answers (other 5xx are EMQX's deliberate answers, held to
    the document)."""
    if response.status_code == 500:
        assert rules(_door(case)).emqx_500(response, case), f"server error {response.status_code}: {response.text[:300]}"
    return None


@schemathesis.check
def error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Errors shaped as the door shapes them."""
    rules(_door(case)).error_shape(response, case)
    return None


# -- calling a fake --------------------------------------------------------------------------


#: The operations EMQX refuses API keys on (`emqx_dashboard:authorize/2`), as the router marks
#: them: called with a token (an API key only ever meets 401 there; tests/test_auth_matrix.py).
BEARER_ONLY = frozenset(route.key for module in API_MODULES for route in module.routes.routes if route.api_key_block)


class Caller:
    """Calls one fake as its document says, at the operation's server: with the credentials
    its first door takes (`EmqxServer.auth`), or, on EMQX 5, its administrator's token where
    EMQX refuses API keys; counting the calls."""

    def __init__(self, server: EmqxServer, door: Door) -> None:
        self.server = server
        self.door = door
        self.calls = 0
        self.token = ""
        self.session = requests.Session()  # one connection kept alive, not one per call

    def start(self) -> None:
        """A fresh fake: the state as at start (and a token of its administrator, on EMQX 5)."""
        self.server.reset()
        if self.server.app.flavours[0].credentials == "api_key":
            self.token = self.server.login()

    def kwargs(self, case: Case) -> dict[str, Any]:
        self.calls += 1
        raw = case.operation.definition.raw
        servers = raw.get("servers") or self.door.document["servers"]
        kwargs: dict[str, Any] = {"base_url": self.server.url + servers[0]["url"].rstrip("/"), "session": self.session}
        if self.server.ca_file:
            kwargs["verify"] = self.server.ca_file
        if self.token and _operation(case) in BEARER_ONLY:
            kwargs["headers"] = {"Authorization": f"Bearer {self.token}"}
        elif raw.get("security", True) and not _withholds_credentials(case):
            kwargs["auth"] = self.server.auth
        return kwargs


@pytest.fixture(scope="module")
def fakes(request: pytest.FixtureRequest) -> Iterator[dict[str, EmqxServer]]:
    """The fake of each door, started when a test first needs it: the session's for EMQX 5."""
    started: list[EmqxServer] = []

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, name: str) -> EmqxServer:
            if name in EDITIONS:
                self[name] = request.getfixturevalue("emqx_session_server" if name == "ce" else "ee_server")
            else:
                self[name] = EmqxServer(**DOORS[name].options).start()
                started.append(self[name])
            return self[name]  # type: ignore[no-any-return]

    yield Lazy()
    for server in started:
        server.stop()


def _withholds_credentials(case: Case) -> bool:
    """The case probes the operation without its `Authorization` header (for the door's 401)."""
    data = case.meta.phase.data if case.meta is not None else None
    return (
        isinstance(data, CoveragePhaseData)
        and (data.parameter or "").lower() == "authorization"
        and data.scenario == CoverageScenario.MISSING_PARAMETER
    )


@pytest.fixture
def caller(fakes: dict[str, EmqxServer], request: pytest.FixtureRequest) -> Iterator[Caller]:
    """A caller of the fake of the door the test fuzzes (the operation test's `door`, the
    stateful test's `edition`), from a fresh state; its calls counted for the summary."""
    name = getattr(request.function, "door", None) or request.node.callspec.params["edition"]
    made = Caller(fakes[name], DOORS[name])
    made.start()
    yield made
    made.session.close()
    request.node.user_properties.append(("fuzz_cases", made.calls))  # summed up by conftest.py
    made.server.check_errors()  # the fake's own failures (an answer its schema forbids)


# -- the tests -------------------------------------------------------------------------------


def _config(door: Door) -> schemathesis.Config:
    document = door.document
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["all"],
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            # cowboy_http:parse_request/3 answers TRACE and CONNECT 501 before any route is
            # read: the other methods an operation lacks are probed for minirest's 405
            "phases": {"coverage": {"unexpected-methods": ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]}},
            "checks": {
                # ours instead: a 500 only where EMQX answers one (`emqx_500s_only`)
                "not_a_server_error": {"enabled": False},
                # EMQX checks more than a schema can say (a password's length, a name in use, a
                # client that must exist), so a request the document allows may still be refused
                "positive_data_acceptance": {"enabled": False},
                # and accepts more than its canonical form, as hocon_tconf does: a null is an
                # absent field, "true" a boolean, "10" an integer, {"1": x} an array
                "negative_data_rejection": {"enabled": False},
                **{check: {"enabled": False} for check in rules(door).unchecked},
            },
            # schemathesis reads a path's methods whatever their servers: on a path whose
            # operations are at different servers (`/status`: GET under /api/v5 too, the rest
            # at the root only), `Allow` lists those served where the request went
            "operations": [
                {"include-path": path, "checks": {"allow_header_conformance": {"enabled": False}}}
                for path, item in document["paths"].items()
                if len({json.dumps(operation.get("servers")) for operation in item.values()}) > 1
            ],
        }
    )


def _described(document: dict[str, Any], path: str, method: str) -> str:
    """An operation's description, with every schema it refers to, but the credentials it
    asks for (the door's own)."""
    operation = {name: value for name, value in document["paths"][path][method].items() if name != "security"}
    refs: dict[str, Any] = {}
    pending = [operation]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if ref is not None and ref not in refs:
                refs[ref] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
                pending.append(refs[ref])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return json.dumps([operation, refs], sort_keys=True)


def _fuzzed(door: Door) -> Any:
    """The door's schema, without the operations described alike before it (`like`) but, on a
    door of another flavour, the first of each tag."""
    schema = schemathesis.openapi.from_dict(door.document, config=_config(door))
    if door.like is None or "EMQX_MOCK_FUZZ_EXAMPLES" in os.environ:
        return schema
    like = DOORS[door.like].document
    alike = {
        (path, method)
        for path, item in door.document["paths"].items()
        for method, operation in item.items()
        if method in like["paths"].get(path, {}) and _described(door.document, path, method) == _described(like, path, method)
    }
    first_of_tag: dict[str, tuple[str, str]] = {}
    if door.flavour is not DOORS[door.like].flavour:  # a door of its own: its layer is fuzzed
        for path, item in door.document["paths"].items():
            for method, operation in item.items():
                first_of_tag.setdefault(operation["tags"][0], (path, method))
    sampled = alike - set(first_of_tag.values())
    return schema.exclude(lambda ctx: (ctx.operation.path, ctx.operation.method.lower()) in sampled)


SCHEMAS = {name: _fuzzed(door) for name, door in DOORS.items()}
BY_TITLE = {door.document["info"]["title"]: door for door in DOORS.values()}


def _operation_test(name: str) -> Callable[..., None]:
    @SCHEMAS[name].parametrize()
    def test(case: Case, caller: Caller) -> None:
        case.call_and_validate(**caller.kwargs(case))

    test.door = name  # type: ignore[attr-defined]
    return test


for _name in DOORS:
    globals()[f"test_{_name.replace('-', '_')}_operation"] = _operation_test(_name)


@pytest.mark.parametrize("edition", EDITIONS)
def test_stateful(edition: str, caller: Caller) -> None:
    """Sequences of calls, each scenario on a fresh fake, each call's answer checked as above."""

    class Workflow(SCHEMAS[edition].as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            caller.start()

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return caller.kwargs(case)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=10,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def test_every_door_is_fuzzed_from_its_own_document() -> None:
    """Each flavour (each deployment kind) is a door, told apart by its document's title; a door
    made from another over the same state is fuzzed where it differs."""
    assert len(BY_TITLE) == len(DOORS)
    likes = {"ce": None, "ee": "ce", "v4": None, "cloud-v4": "v4", "cloud-v5": "ce", "cloud-v5-serverless": None}
    assert {name: DOORS[name].like for name in likes} == likes


@pytest.mark.parametrize("name", list(DOORS))
def test_the_document_declares_exactly_the_500s_emqx_answers(name: str) -> None:
    door = DOORS[name]
    declared = {
        f"{method.upper()} {path}" for path, item in door.document["paths"].items() for method, operation in item.items() if "500" in operation["responses"]
    }
    served = {f"{method.upper()} {path}" for path, item in door.document["paths"].items() for method in item}
    assert declared == rules(door).crashing & served
