"""Property-based fuzzing (schemathesis) of every operation the fake serves, against the fake's
OWN OpenAPI document as it serves it (`GET /api-docs/swagger.json`): an operation added later
is fuzzed with no work here. Each CE operation is one test (xdist spreads them), and each EE
operation its document describes differently from CE's (`_as_in_ce`); a stateful run per
edition chains operations through the links schemathesis infers from the document (a
response's fields feeding another operation's parameters).

Bounded and reproducible: a fixed number of examples per operation and of stateful scenarios,
from a fixed seed, with no example database. For a deeper local run, raise them:
`EMQX_MOCK_FUZZ_EXAMPLES=200 EMQX_MOCK_FUZZ_SCENARIOS=200 pytest tests/test_fuzz.py -n 2`.

Every answer must be declared by the document (status and content type), conform to its
schema, be EMQX-shaped when it is an error (`emqx_error_shape`), and be a 500 only where EMQX
itself answers one (`EMQX_500S`)."""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import Case, CheckContext, Response

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v5 import API_MODULES

EXAMPLES = int(os.environ.get("EMQX_MOCK_FUZZ_EXAMPLES", "10"))
SCENARIOS = int(os.environ.get("EMQX_MOCK_FUZZ_SCENARIOS", "30"))
SEED = 20261203
EDITIONS = ("ce", "ee")


def _document(edition: str) -> dict[str, Any]:
    """The fake's own OpenAPI document, fetched as any tool would fetch it."""
    with EmqxServer(edition=edition) as server:
        answer = requests.get(f"{server.url}/api-docs/swagger.json", timeout=30)
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]


def _config(document: dict[str, Any]) -> schemathesis.Config:
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
    """An operation's description, with every schema it refers to."""
    operation = document["paths"][path][method]
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


DOCUMENTS = {edition: _document(edition) for edition in EDITIONS}
SCHEMAS = {edition: schemathesis.openapi.from_dict(DOCUMENTS[edition], config=_config(DOCUMENTS[edition])) for edition in EDITIONS}


def _as_in_ce(ctx: Any) -> bool:
    """Enterprise's operations are fuzzed where its document describes them differently from
    CE's (the others run the same code with the same credentials), all of them on a deeper run
    (`EMQX_MOCK_FUZZ_EXAMPLES` set)."""
    path, method = ctx.operation.path, ctx.operation.method.lower()
    if "EMQX_MOCK_FUZZ_EXAMPLES" in os.environ or method not in DOCUMENTS["ce"]["paths"].get(path, {}):
        return False
    return _described(DOCUMENTS["ee"], path, method) == _described(DOCUMENTS["ce"], path, method)


EE_UNLIKE_CE = SCHEMAS["ee"].exclude(_as_in_ce)


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


def _operation(case: Case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def _json(response: Response) -> Any:
    kind = response.headers.get("content-type", [""])[0]
    return json.loads(response.content) if response.content and kind.startswith("application/json") else None


@schemathesis.check
def emqx_500s_only(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """No server error but those EMQX answers (`EMQX_500S`)."""
    if response.status_code == 500:  # other 5xx are EMQX's deliberate answers, held to the document
        body = _json(response)
        code = body.get("code") if isinstance(body, dict) else None
        assert code in EMQX_500S.get(_operation(case), ()), f"server error {response.status_code}: {response.text[:300]}"
    return None


@schemathesis.check
def emqx_error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error answered in JSON is EMQX 5's `{"code", "message"}`, both texts (on /publish, its
    reason codes: `{"reason_code", "message"}`, or a list of them); the other error bodies are
    the documented non-JSON answers (the 404 page, `/status`'s text), which the content-type
    check holds to the document."""
    body = _json(response)
    if response.status_code < 400 or body is None:
        return None
    if case.operation.path in REASON_CODE_ERRORS:
        for item in body if isinstance(body, list) else [body]:
            assert isinstance(item, dict) and isinstance(item.get("message"), str), f"not EMQX-shaped: {response.text[:300]}"
        return None
    assert isinstance(body, dict) and set(body) == {"code", "message"}, f"not EMQX-shaped: {response.text[:300]}"
    assert isinstance(body["code"], str) and isinstance(body["message"], str), f"not EMQX-shaped: {response.text[:300]}"
    return None


# -- calling a fake --------------------------------------------------------------------------


#: The operations EMQX refuses API keys on (`emqx_dashboard:authorize/2`), as the router marks
#: them: called with a token (an API key only ever meets 401 there; tests/test_auth_matrix.py).
BEARER_ONLY = frozenset(route.key for module in API_MODULES for route in module.routes.routes if route.api_key_block)


class Caller:
    """Calls one fake as its document says, at the operation's server: with the seeded API key,
    or its administrator's token where EMQX refuses API keys; counting the calls."""

    def __init__(self, server: EmqxServer, document: dict[str, Any]) -> None:
        self.server = server
        self.document = document
        self.calls = 0
        self.token = ""
        self.session = requests.Session()  # one connection kept alive, not one per call

    def start(self) -> None:
        """A fresh fake: the state as at start, a token of its administrator."""
        self.server.reset()
        self.token = self.server.login()

    def kwargs(self, case: Case) -> dict[str, Any]:
        self.calls += 1
        raw = case.operation.definition.raw
        servers = raw.get("servers") or self.document["servers"]
        kwargs: dict[str, Any] = {"base_url": self.server.url + servers[0]["url"].rstrip("/"), "session": self.session}
        if _operation(case) in BEARER_ONLY:
            kwargs["headers"] = {"Authorization": f"Bearer {self.token}"}
        elif raw.get("security", True):
            kwargs["auth"] = self.server.auth
        return kwargs


def _fake(edition: str, request: pytest.FixtureRequest) -> EmqxServer:
    return request.getfixturevalue("emqx_server" if edition == "ce" else "ee")  # type: ignore[no-any-return]


def _caller(edition: str, request: pytest.FixtureRequest) -> Iterator[Caller]:
    caller = Caller(_fake(edition, request), DOCUMENTS[edition])
    caller.start()
    yield caller
    caller.session.close()
    request.node.user_properties.append(("fuzz_cases", caller.calls))  # summed up by conftest.py


@pytest.fixture
def ce_caller(request: pytest.FixtureRequest) -> Iterator[Caller]:
    yield from _caller("ce", request)


@pytest.fixture
def ee_caller(request: pytest.FixtureRequest) -> Iterator[Caller]:
    yield from _caller("ee", request)


# -- the tests -------------------------------------------------------------------------------


@SCHEMAS["ce"].parametrize()
def test_ce_operation(case: Case, ce_caller: Caller) -> None:
    case.call_and_validate(**ce_caller.kwargs(case))


@EE_UNLIKE_CE.parametrize()
def test_ee_operation(case: Case, ee_caller: Caller) -> None:
    case.call_and_validate(**ee_caller.kwargs(case))


@pytest.mark.parametrize("edition", EDITIONS)
def test_stateful(edition: str, request: pytest.FixtureRequest) -> None:
    """Sequences of calls, each scenario on a fresh fake, each call's answer checked as above."""
    caller: Caller = request.getfixturevalue(f"{edition}_caller")

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


def test_the_document_declares_exactly_the_500s_emqx_answers() -> None:
    for edition, document in DOCUMENTS.items():
        declared = {
            f"{method.upper()} {path}"
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if "500" in operation["responses"]
        }
        assert declared == set(EMQX_500S), edition
