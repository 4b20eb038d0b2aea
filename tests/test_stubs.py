"""Stubs: answers of a test's own on any method and path, served by the fake or not, set from
Python, the marker, scenario files and the control API; and faults refused where nothing
answers, or with an error code EMQX does not have."""

from __future__ import annotations

import datetime
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from api import delete, get, post, put

from pytest_emqx_mock import EmqxServer, ScenarioError, StubRequest, StubResponse
from pytest_emqx_mock.server import FakeServerError

#: the tests ask for 404s on purpose, to show where a stub ends
pytestmark = pytest.mark.filterwarnings("ignore::pytest_emqx_mock.plugin.UnmatchedRequestWarning")

RULES = [{"id": "rule-1", "sql": 'SELECT * FROM "t/#"', "enable": True}]
ROOT = Path(__file__).resolve().parents[1]


def control(server: EmqxServer, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, server.control_url + path, json=body, timeout=30)


# -- the bar: a path the fake does not serve, stubbed from a test -----------------------


def test_a_test_stubs_a_path_the_fake_does_not_serve(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import requests

        RULES = [{"id": "rule-1", "enable": True}]

        @pytest.mark.emqx(stubs=[{"request": "GET /api/v5/rules", "json": RULES}])
        def test_from_the_marker(emqx_server):
            response = requests.get(emqx_server.api_url + "/rules", auth=emqx_server.auth)
            assert (response.status_code, response.json()) == (200, RULES)
            assert emqx_server.unmatched_requests() == []

        def test_from_python(emqx_server):
            emqx_server.stub("GET /api/v5/rules", json=RULES)
            response = requests.get(emqx_server.api_url + "/rules", auth=emqx_server.auth)
            assert (response.status_code, response.json()) == (200, RULES)
            assert emqx_server.unmatched_requests() == []

        def test_gone_after_the_test(emqx_server):
            assert list(emqx_server.stubs) == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


# -- canned responses ----------------------------------------------------------------------------


def test_a_canned_response_needs_no_credentials_on_a_path_the_fake_does_not_serve(emqx_server: EmqxServer) -> None:
    emqx_server.stub("GET /rules", json=RULES, headers={"X-Trace": "t1"})
    response = get(emqx_server, "/rules", auth=None)
    assert (response.status_code, response.json(), response.headers["content-type"], response.headers["x-trace"]) == (
        200, RULES, "application/json", "t1",
    )  # fmt: skip
    emqx_server.stub("GET /listeners", status=503, content="down for maintenance")
    text = get(emqx_server, "/listeners")
    assert (text.status_code, text.text, text.headers["content-type"]) == (503, "down for maintenance", "text/plain; charset=utf-8")
    emqx_server.stub("GET /data_backup/files/x", content=b"\x00\x01", content_type="application/octet-stream")
    assert get(emqx_server, "/data_backup/files/x").content == b"\x00\x01"
    assert emqx_server.unmatched_requests() == []


CANNOT_BE_SENT = [
    ({"json": {1, 2}}, "json must be JSON-encodable: Object of type set is not JSON serializable"),
    ({"json": {"since": datetime.date(2020, 1, 1)}}, "json must be JSON-encodable: Object of type date is not JSON serializable"),
    ({"json": [float("nan")]}, "json must be JSON-encodable: Out of range float values are not JSON compliant"),
    ({"json": {("a", "b"): 1}}, "json must be JSON-encodable: keys must be str, int, float, bool or None, not tuple"),
    ({"responses": [{"json": []}, {"json": {1}}]}, "responses[1]: json must be JSON-encodable: Object of type set is not JSON serializable"),
    ({"headers": {"X Trace": "t1"}}, "headers: 'X Trace' is not a header name"),
    ({"headers": {"X-Trace": "t1\r\nX-Injected: 1"}}, "headers: the value of X-Trace must be one line of Latin-1 text"),
    ({"headers": {"X-Trace": "€"}}, "headers: the value of X-Trace must be one line of Latin-1 text"),
    ({"content": "x", "content_type": "text/plain\n"}, "content_type must be one line of Latin-1 text"),
]


@pytest.mark.parametrize(("arguments", "message"), CANNOT_BE_SENT)
def test_a_canned_response_that_cannot_be_sent_is_refused_when_set(emqx_server: EmqxServer, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        emqx_server.stub("GET /rules", **arguments)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        emqx_server.stubs.add({"request": "GET /rules", **arguments})
    assert list(emqx_server.stubs) == []
    assert get(emqx_server, "/rules").status_code == 404


def test_a_response_that_cannot_be_sent_is_refused_from_a_scenario_and_the_control_api(emqx_server: EmqxServer, tmp_path: Path) -> None:
    scenario = tmp_path / "rules.yaml"
    scenario.write_text("clients: [{clientid: c1}]\nstubs:\n  - {request: GET /rules, json: {since: 2020-01-01}}\n")  # YAML reads a date
    with pytest.raises(ScenarioError) as refused:
        emqx_server.load_scenario(scenario)
    assert str(refused.value) == f"{scenario}: stubs[0]: json must be JSON-encodable: Object of type date is not JSON serializable"
    over_http = control(emqx_server, "POST", "/stubs", {"request": "GET /rules", "headers": {"Location": "/a\r\nSet-Cookie: x=1"}})
    assert (over_http.status_code, over_http.json()) == (400, {"code": "BAD_REQUEST", "message": "headers: the value of Location must be one line of Latin-1 text"})
    assert (list(emqx_server.broker.sessions), list(emqx_server.stubs)) == ([], [])


def test_a_stub_on_a_method_the_path_is_not_served_with(emqx_server: EmqxServer) -> None:
    assert get(emqx_server, "/nodes", auth=None).status_code == 401
    emqx_server.stub("PUT /nodes", status=202, json={"accepted": True})
    response = requests.put(emqx_server.api_url + "/nodes", json={"x": 1}, timeout=30)  # no credentials: no operation to need them
    assert (response.status_code, response.json()) == (202, {"accepted": True})
    assert get(emqx_server, "/nodes").status_code == 200  # GET is still the fake's own


def test_a_stub_on_a_served_operation_replaces_its_handler(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.stub("DELETE /clients/{id}", status=500, json={"code": "INTERNAL_ERROR", "message": "kaboom"})
    refused = delete(emqx_server, "/clients/c1")
    assert (refused.status_code, refused.json()) == (500, {"code": "INTERNAL_ERROR", "message": "kaboom"})
    assert "c1" in emqx_server.broker.sessions  # the handler never ran
    assert delete(emqx_server, "/clients/c1", auth=None).status_code == 401  # credentials are the operation's, and checked first
    assert emqx_server.errors == []  # a stub may answer what the schemas forbid


def test_a_template_names_paths_the_fake_does_not_serve(emqx_server: EmqxServer) -> None:
    emqx_server.stub("GET /rules/{id}", json={"id": "any"})
    assert get(emqx_server, "/rules/r1").json() == {"id": "any"}
    assert get(emqx_server, "/rules/r1/metrics").status_code == 404
    emqx_server.journal.assert_called("GET /rules/{rule}", times=1)


# -- callables and sequences ---------------------------------------------------------------------


def test_a_callable_is_given_the_request(emqx_server: EmqxServer) -> None:
    seen: list[StubRequest] = []

    def create_rule(request: StubRequest) -> Any:
        seen.append(request)
        if request.body.get("sql") is None:
            return 400, {"code": "BAD_REQUEST", "message": "sql is required"}
        return 201, {"id": "new", **request.body}, {"location": "/api/v5/rules/new"}

    emqx_server.stub("POST /rules", create_rule)
    created = post(emqx_server, "/rules", {"sql": "SELECT 1"}, params={"dry": "1"})
    assert (created.status_code, created.json(), created.headers["location"]) == (201, {"id": "new", "sql": "SELECT 1"}, "/api/v5/rules/new")
    refused = post(emqx_server, "/rules", {"enable": True})
    assert (refused.status_code, refused.json()) == (400, {"code": "BAD_REQUEST", "message": "sql is required"})
    first = seen[0]
    assert (first.method, first.path, first.query, first.body, first.data, first.credential) == (
        "POST", "/api/v5/rules", {"dry": ["1"]}, {"sql": "SELECT 1"}, b'{"sql": "SELECT 1"}', "api_key:pytest-emqx-mock",
    )  # fmt: skip
    assert first.headers["Content-Type"] == "application/json"


def test_what_a_callable_may_return(emqx_server: EmqxServer) -> None:
    answers = iter([RULES, "plain", (204, None), StubResponse(418, content="teapot", content_type="text/x-tea")])
    emqx_server.stub("GET /rules", lambda request: next(answers))
    replies = [get(emqx_server, "/rules") for _ in range(4)]
    assert [(r.status_code, r.headers.get("content-type"), r.content) for r in replies] == [
        (200, "application/json", b'[{"id":"rule-1","sql":"SELECT * FROM \\"t/#\\"","enable":true}]'),
        (200, "text/plain; charset=utf-8", b"plain"),
        (204, None, b""),
        (418, "text/x-tea", b"teapot"),
    ]


def test_a_callable_that_fails_is_the_tests_error(emqx_server: EmqxServer) -> None:
    emqx_server.stub("GET /rules", lambda request: 1 / 0)
    emqx_server.stub("GET /listeners", lambda request: (999, "no such status"))
    failed = get(emqx_server, "/rules")
    assert (failed.status_code, failed.json()) == (500, {"code": "INTERNAL_ERROR", "message": "ZeroDivisionError: division by zero"})
    wrong = get(emqx_server, "/listeners")
    assert wrong.json() == {"code": "INTERNAL_ERROR", "message": "ValueError: status must be an HTTP status from 100 to 599"}
    assert [type(error) for error in emqx_server.errors] == [ZeroDivisionError, ValueError]
    with pytest.raises(FakeServerError):  # as the plugin fails the test that meets them
        emqx_server.check_errors()


def test_a_callable_whose_answer_cannot_be_sent_is_the_tests_error(emqx_server: EmqxServer) -> None:
    emqx_server.stub("GET /rules", lambda request: object())
    emqx_server.stub("GET /listeners", lambda request: (200, {"ids": {1, 2}}))
    emqx_server.stub("GET /nodes", lambda request: ([], 200))  # (status, body) the wrong way round
    emqx_server.stub("GET /stats", lambda request: (200, [], {"X-Trace": "a\nb"}))  # on a served path too
    answers = [get(emqx_server, path) for path in ("/rules", "/listeners", "/nodes", "/stats")]
    messages = [
        "json must be JSON-encodable: Object of type object is not JSON serializable",
        "json must be JSON-encodable: Object of type set is not JSON serializable",
        "status must be an HTTP status from 100 to 599",
        "headers: the value of X-Trace must be one line of Latin-1 text",
    ]
    assert [(r.status_code, r.headers["content-type"], r.json()) for r in answers] == [
        (500, "application/json", {"code": "INTERNAL_ERROR", "message": f"ValueError: {message}"}) for message in messages
    ]
    assert [(type(error), str(error)) for error in emqx_server.take_errors()] == [(ValueError, message) for message in messages]


def test_a_callable_whose_answer_cannot_be_sent_fails_its_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_a_rule_listing(emqx_server):
            emqx_server.stub("GET /rules", lambda request: {"ids": {1, 2}})
            response = requests.get(emqx_server.api_url + "/rules", auth=emqx_server.auth)
            assert response.status_code == 500  # the body passes: the fake's error fails it
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*FakeServerError: the fake EMQX server failed while serving a request: json must be JSON-encodable: Object of type set is not JSON serializable"]
    )


def test_responses_in_turn_the_last_repeating_and_times_ending_them(emqx_server: EmqxServer) -> None:
    emqx_server.stub("GET /rules", responses=[{"status": 503}, {"json": []}, StubResponse(json=RULES)])
    assert [(r.status_code, r.content) for r in (get(emqx_server, "/rules") for _ in range(4))] == [
        (503, b""), (200, b"[]"), (200, b'[{"id":"rule-1","sql":"SELECT * FROM \\"t/#\\"","enable":true}]'),
        (200, b'[{"id":"rule-1","sql":"SELECT * FROM \\"t/#\\"","enable":true}]'),
    ]  # fmt: skip
    emqx_server.stub("GET /listeners", responses=[{"status": 503}, {"json": []}], times=2)
    assert [get(emqx_server, "/listeners").status_code for _ in range(3)] == [503, 200, 404]


# -- scoping, faults on stubs, the journal -------------------------------------------------------


def test_stubs_are_scoped_as_faults_are(emqx_server: EmqxServer) -> None:
    emqx_server.stub("GET /rules", json=["first"], times=1)
    emqx_server.stub("GET /rules", json=["later"], query={"enable": "true"})
    emqx_server.stub("GET /rules", json=["as admin"], credential="api_key:pytest-emqx-mock")
    assert get(emqx_server, "/rules").json() == ["first"]
    assert get(emqx_server, "/rules", {"enable": "true"}).json() == ["later"]
    assert get(emqx_server, "/rules").json() == ["as admin"]
    assert get(emqx_server, "/rules", auth=None).status_code == 404
    emqx_server.stub("GET /nodes", json=[], credential="token:admin")
    token = {"Authorization": f"Bearer {emqx_server.login()}"}
    assert (get(emqx_server, "/nodes", auth=None, headers=token).json(), len(get(emqx_server, "/nodes").json())) == ([], 1)
    emqx_server.stub("GET /listeners", json=[], duration=0)  # already over
    assert get(emqx_server, "/listeners").status_code == 404

    patterns = []
    for _ in range(2):
        emqx_server.stubs.clear()
        emqx_server.stub("GET /rules", json=[], probability=0.5, seed=7)
        patterns.append([get(emqx_server, "/rules").status_code for _ in range(20)])
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {200, 404}


def test_credentials_on_a_path_the_fake_does_not_serve_are_identified_never_required(emqx_server: EmqxServer) -> None:
    seen: list[str | None] = []
    emqx_server.stub("GET /rules", json=["as the key"], credential="api_key:pytest-emqx-mock")
    emqx_server.stub("GET /rules", json=["as admin"], credential="token:admin")
    emqx_server.stub("GET /rules", lambda request: seen.append(request.credential) or ["anyone"])
    token = {"Authorization": f"Bearer {emqx_server.login()}"}
    nobody = [
        {"auth": ("pytest-emqx-mock", "wrong secret")},
        {"auth": None, "headers": {"Authorization": "Bearer no-such-token"}},
        {"auth": None, "headers": {"Authorization": "Digest realm=x"}},
        {"auth": None, "headers": {"Authorization": "Basic !!"}},
        {"auth": None},
    ]
    answers = [get(emqx_server, "/rules", **options).json() for options in [{}, {"auth": None, "headers": token}, *nobody]]
    assert answers == [["as the key"], ["as admin"], *[["anyone"]] * len(nobody)]  # nothing refused: no operation needs them
    assert seen == [None] * len(nobody)
    emqx_server.stub("PUT /nodes", lambda request: request.credential)  # a method the path is not served with
    assert put(emqx_server, "/nodes", {}).text == "api_key:pytest-emqx-mock"
    assert get(emqx_server, "/listeners", auth=None, headers=token).status_code == 404  # no stub: the 404 names them too
    assert [entry.credential for entry in emqx_server.journal] == [
        "api_key:pytest-emqx-mock", "token:admin", None, None, None, None, None, "api_key:pytest-emqx-mock", "token:admin",
    ]  # fmt: skip
    emqx_server.journal.assert_called("GET /listeners", credential="token:admin", times=1)


def test_an_expected_stub_never_met_fails_the_test(emqx_server: EmqxServer) -> None:
    met = emqx_server.stub("GET /rules", json=[], expect=True)
    emqx_server.stub("POST /rules", json={}, expect=True)
    emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE", expect=True)
    get(emqx_server, "/rules")
    assert met.triggered == 1
    with pytest.raises(AssertionError) as missed:
        emqx_server.check_expectations()
    assert str(missed.value) == (
        "expected faults never triggered: 503 SERVICE_UNAVAILABLE on GET /nodes\n"
        "expected stubs never triggered: 200 response on POST /rules"
    )
    emqx_server.reset()
    assert list(emqx_server.stubs) == []
    emqx_server.check_expectations()


def test_faults_apply_to_a_stubbed_path(emqx_server: EmqxServer) -> None:
    stub = emqx_server.stub("GET /rules", json=RULES)
    emqx_server.faults.error("GET /rules", 503, "SERVICE_UNAVAILABLE", times=1)
    emqx_server.faults.delay("/rules", 0.01, times=1)
    emqx_server.faults.transport("GET /rules", "empty", times=1)
    unavailable = get(emqx_server, "/rules")
    assert (unavailable.status_code, unavailable.json()) == (503, {"code": "SERVICE_UNAVAILABLE", "message": "Service unavailable"})
    assert stub.triggered == 0  # the error answered in its place
    assert get(emqx_server, "/rules").json() == RULES  # late, but the stub's
    with pytest.raises(requests.ConnectionError):
        get(emqx_server, "/rules")
    assert stub.triggered == 1
    assert [str(entry) for entry in emqx_server.journal] == [
        "GET /api/v5/rules -> 503 (fault: 503 SERVICE_UNAVAILABLE on GET /rules)",
        "GET /api/v5/rules -> 200 (stub: 200 response on GET /rules) (fault: delay 0.01 s on * /rules)",
        "GET /api/v5/rules -> 0 (fault: connection empty on GET /rules)",
    ]


def test_stubbed_requests_are_journaled_and_not_unmatched(emqx_server: EmqxServer) -> None:
    emqx_server.stub("POST /rules", status=201, json={"id": "r1"})
    post(emqx_server, "/rules", {"sql": "SELECT 1"}, auth=None)
    get(emqx_server, "/listeners")
    (entry,) = emqx_server.journal.requests("POST /rules")
    assert (entry.stub, entry.fault, entry.operation, entry.body, entry.response) == (
        "201 response on POST /rules", None, None, {"sql": "SELECT 1"}, {"id": "r1"},
    )  # fmt: skip
    assert [(e.method, e.path) for e in emqx_server.unmatched_requests()] == [("GET", "/api/v5/listeners")]
    shown = control(emqx_server, "GET", "/journal").json()
    assert [(e["path"], e["status"], e["stub"]) for e in shown] == [("/api/v5/rules", 201, "201 response on POST /rules"), ("/api/v5/listeners", 404, None)]


def test_the_stubs_and_faults_print_the_rules_they_hold(emqx_server: EmqxServer) -> None:
    assert (repr(emqx_server.stubs), str(emqx_server.faults)) == ("<Stubs: none>", "<Faults: none>")
    stubs = [emqx_server.stub("GET /rules", json=[]), emqx_server.stub("PUT /rules/{id}", responses=[{"status": 503}, {"status": 204}])]
    faults = [emqx_server.faults.error("GET /rules", 503, "SERVICE_UNAVAILABLE", times=1), emqx_server.faults.node_down("emqx@127.0.0.1")]
    assert repr(emqx_server.stubs) == str(emqx_server.stubs) == (
        f"<Stubs: #{stubs[0].id} 200 response on GET /rules; #{stubs[1].id} 2 responses in turn on PUT /rules/{{id}}>"
    )
    assert repr(emqx_server.faults) == f"<Faults: #{faults[0].id} 503 SERVICE_UNAVAILABLE on GET /rules; #{faults[1].id} node emqx@127.0.0.1 down>"


# -- the control API -----------------------------------------------------------------------------


def test_stubs_over_the_control_api(emqx_server: EmqxServer) -> None:
    assert control(emqx_server, "GET", "/stubs").json() == []
    one = control(emqx_server, "POST", "/stubs", {"request": "GET /rules", "json": RULES, "times": 2})
    first = one.json()["id"]
    assert (one.status_code, one.json()) == (200, {"id": first, "stub": "200 response on GET /rules", "triggered": 0, "remaining": 2})
    more = control(
        emqx_server, "POST", "/stubs",
        [{"request": {"method": "GET", "path_regex": "^/api/v5/listeners"}, "content": "up"}, {"request": "PUT /rules/{id}", "responses": [{"status": 503}, {"status": 204}]}],
    )  # fmt: skip
    assert [stub["stub"] for stub in more.json()] == ["200 response on GET ^/api/v5/listeners", "2 responses in turn on PUT /rules/{id}"]
    assert get(emqx_server, "/rules").json() == RULES
    assert [(s["id"], s["triggered"], s["remaining"]) for s in control(emqx_server, "GET", "/stubs").json()] == [
        (first, 1, 1), (more.json()[0]["id"], 0, None), (more.json()[1]["id"], 0, None),
    ]  # fmt: skip
    removed = control(emqx_server, "DELETE", f"/stubs/{first}")
    assert (removed.status_code, removed.content) == (204, b"")
    assert get(emqx_server, "/rules").status_code == 404
    unknown = control(emqx_server, "DELETE", f"/stubs/{first}")
    assert (unknown.status_code, unknown.json()) == (404, {"code": "NOT_FOUND", "message": f"no stub {first}"})
    assert control(emqx_server, "DELETE", "/stubs").status_code == 204
    assert list(emqx_server.stubs) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"request": "GET /rules", "json": []}, {"request": "GET /rules", "status": 0}], "item 1: status must be an HTTP status from 100 to 599"),
        ({"json": []}, "a stub names its request"),
        ({"request": "GET /rules", "colour": "red"}, "colour: unknown field (one of: handler, status, json, content, content_type, headers, responses, times, duration, probability, seed, expect, credential, body, query)"),
        ({"request": "GET /rules", "stauts": 201}, "stauts: unknown field (did you mean status?)"),
        ([{"request": "GET /rules"}, 5], "item 1: a stub description must be an object"),
        ({"request": "GET clients"}, "a path starts with /, not 'clients'"),
        ({"request": ""}, 'a request is "METHOD /path", a path, or a pattern, not empty'),
        ({"request": "GET"}, "a path starts with /, not 'GET'"),
        ({"request": "get rules"}, "a path starts with /, not 'rules'"),
        ({"request": {"method": "FETCH", "path": "/rules"}}, "FETCH is not an HTTP method (one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH)"),
        ({"request": {"path": "rules"}}, "a path starts with /, not 'rules'"),
        ({"request": "GET /rules", "headers": {"Transfer-Encoding": "chunked"}}, "headers: Transfer-Encoding is the server's to set (it frames the response), not a stub's"),
        ({"request": "GET /rules", "headers": {"content-length": "5"}}, "headers: content-length is the server's to set (it frames the response), not a stub's"),
        ({"request": "GET /rules", "responses": [{"headers": {"Connection": "close"}}]}, "responses[0]: headers: Connection is the server's to set (it frames the response), not a stub's"),
        ({"request": "GET /rules", "duration": 1e308}, f"duration must be a number of seconds from 0 to {threading.TIMEOUT_MAX:.0f}"),
        ({"request": "GET /rules", "json": [], "content": "x"}, "a response has json or content, not both"),
        ({"request": "GET /rules", "responses": []}, "responses must be a non-empty list"),
        ({"request": "GET /rules", "responses": [{"json": []}, {"body": "x"}]}, "responses[1]: a response has no field body"),
        ({"request": "GET /rules", "status": 201, "responses": [{"json": []}]}, "a stub answers with a handler, with responses, or with its own status, json, content, content_type and headers: one of them"),
        ({"request": "GET /rules", "headers": {"x": 1}}, "headers must map names to strings"),
    ],
)
def test_a_bad_stub_sets_none(emqx_server: EmqxServer, body: Any, message: str) -> None:
    refused = control(emqx_server, "POST", "/stubs", body)
    assert (refused.status_code, refused.json()) == (400, {"code": "BAD_REQUEST", "message": message})
    assert list(emqx_server.stubs) == []


# -- scenario files ------------------------------------------------------------------------------


def test_a_scenarios_stubs_and_the_faults_on_them(emqx_server: EmqxServer, tmp_path: Path) -> None:
    scenario = tmp_path / "rules.yaml"
    scenario.write_text(
        "clients: [{clientid: c1}]\n"
        "stubs:\n"
        "  - {request: GET /rules, json: [{id: rule-1}]}\n"
        "faults:\n"
        "  - {delay: GET /rules, seconds: 0, times: 1}\n"
    )
    emqx_server.load_scenario(scenario)
    assert get(emqx_server, "/rules").json() == [{"id": "rule-1"}]
    assert [str(entry) for entry in emqx_server.journal] == ["GET /api/v5/rules -> 200 (stub: 200 response on GET /rules) (fault: delay 0 s on GET /rules)"]
    assert "stubs" not in emqx_server.snapshot()  # stubs are not state


def test_a_bad_stub_in_a_scenario_loads_nothing(emqx_server: EmqxServer) -> None:
    with pytest.raises(ScenarioError) as refused:
        emqx_server.load_scenario({"clients": [{"clientid": "c1"}], "stubs": [{"request": "GET /rules", "json": []}, {"request": "GET /rules", "status": "ok"}]})
    assert str(refused.value) == "<scenario>: stubs[1]: status must be an HTTP status from 100 to 599"
    assert (list(emqx_server.broker.sessions), list(emqx_server.stubs)) == ([], [])


# -- faults where nothing answers, or with codes EMQX does not have -------------------------------

STUB_IT = 'to fault a request the fake does not serve, stub it first (emqx_server.stub(...), a "stubs" entry in the marker or a scenario, or POST /_mock/stubs)'
NOWHERE = f"no route or stub answers GET /rules; {STUB_IT}"


def test_a_fault_where_nothing_answers_is_refused_from_python(emqx_server: EmqxServer) -> None:
    for spec, hint in [
        ("GET /rules", ""),  # nothing served is close: no served path is offered
        ("GET /rulez3", ""),
        ("GET /api/v5/rulez", ""),
        ("GET /clients/{id}/x", ""),
        ("POST /nodes", "/nodes is served for GET only; "),
        ("DELETE /api/v5/nodes", "/api/v5/nodes is served for GET only; "),
        ("PUT /clients/{id}", "/clients/{id} is served for DELETE and GET only; "),
        ("GET /clientz", "closest served paths: /clients; "),
        ("GET /api/v5/nodez", "closest served paths: /api/v5/nodes; "),
        ("GET /clientz/{id}/subscriptons", "closest served paths: /clients/{clientid}/subscriptions; "),
        ("POST /clients/{id}/unsubscrib", "closest served paths: /clients/{clientid}/unsubscribe, /clients/{clientid}/subscribe; "),
    ]:
        message = f"no route or stub answers {spec}; {hint}{STUB_IT}"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            emqx_server.faults.error(spec, 503, "SERVICE_UNAVAILABLE")
    with pytest.raises(ValueError, match=f"^delay: {re.escape(NOWHERE)}$"):
        emqx_server.faults.add({"delay": "GET /rules", "seconds": 1})
    assert list(emqx_server.faults) == []
    emqx_server.stub("/rules", json=[])  # now something answers
    emqx_server.faults.error("GET /rules", 503, "SERVICE_UNAVAILABLE", times=1)
    emqx_server.faults.delay("/api/v5/rules", 0)
    assert [get(emqx_server, "/rules").status_code for _ in range(2)] == [503, 200]


@pytest.mark.parametrize(
    "spec",
    [
        "GET /clients", "GET /api/v5/clients", "/clients/c1", "/api/v5/clients/a/b", "DELETE /clients/{clientid}",
        "DELETE /clients/{id}", "/api/v5/clients/{clientid}", "/status", "POST /publish", re.compile("^/api/v5/nowhere"),
        {"method": "GET", "path_regex": "anything"},
    ],
)  # fmt: skip
def test_faults_are_accepted_wherever_a_route_answers(emqx_server: EmqxServer, spec: Any) -> None:
    emqx_server.faults.add({"delay": spec, "seconds": 0})
    assert len(list(emqx_server.faults)) == 1


def test_a_fault_on_an_unescaped_client_id_path_still_meets_it(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a/b")
    emqx_server.faults.error("GET /clients/a/b", 503, "SERVICE_UNAVAILABLE")
    assert get(emqx_server, "/clients/a%2Fb").status_code == 503


def test_a_fault_where_nothing_answers_is_refused_from_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.emqx(faults=[{"error": "GET /rules", "status": 503, "code": "SERVICE_UNAVAILABLE"}])
        def test_nothing_answers(emqx_server):
            pass

        @pytest.mark.emqx(stubs=[{"request": "GET /rules", "json": []}], faults=[{"error": "GET /rules", "status": 503, "code": "SERVICE_UNAVAILABLE"}])
        def test_a_stub_answers(emqx_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.emqx fault {{'error': 'GET /rules', 'status': 503, 'code': 'SERVICE_UNAVAILABLE'}}: error: {NOWHERE}*"])


def test_a_fault_where_nothing_answers_is_refused_from_a_scenario(emqx_server: EmqxServer) -> None:
    with pytest.raises(ScenarioError) as refused:
        emqx_server.load_scenario({"clients": [{"clientid": "c1"}], "faults": [{"error": "GET /rules", "status": 503, "code": "SERVICE_UNAVAILABLE"}]})
    assert str(refused.value) == f"<scenario>: faults[0]: error: {NOWHERE}"
    assert list(emqx_server.broker.sessions) == []


def test_a_fault_where_nothing_answers_is_refused_from_the_control_api(emqx_server: EmqxServer) -> None:
    fault = {"error": "GET /rules", "status": 503, "code": "SERVICE_UNAVAILABLE"}
    refused = control(emqx_server, "POST", "/faults", fault)
    assert (refused.status_code, refused.json()) == (400, {"code": "BAD_REQUEST", "message": f"error: {NOWHERE}"})
    in_a_list = control(emqx_server, "POST", "/faults", [{"delay": "GET /nodes", "seconds": 0}, fault])
    assert in_a_list.json() == {"code": "BAD_REQUEST", "message": f"item 1: error: {NOWHERE}"}
    assert list(emqx_server.faults) == []
    # a stub set before, or earlier in the same list, answers the path
    assert control(emqx_server, "POST", "/faults", [{"respond": "GET /rules", "body": []}, fault]).status_code == 200
    assert [str(stub) for stub in emqx_server.stubs] == ["200 response on GET /rules"]
    assert get(emqx_server, "/rules").status_code == 503
    control(emqx_server, "DELETE", "/faults")
    control(emqx_server, "POST", "/stubs", {"request": "GET /listeners", "json": []})
    assert control(emqx_server, "POST", "/faults", {**fault, "error": "GET /listeners"}).status_code == 200


def test_faults_respond_serves_a_path_the_fake_does_not(emqx_server: EmqxServer) -> None:
    stub = emqx_server.faults.respond("GET /rules", 200, RULES)
    assert get(emqx_server, "/rules").json() == RULES
    assert [str(s) for s in emqx_server.stubs] == ["200 response on GET /rules"] and list(emqx_server.faults) == []
    assert emqx_server.stubs.remove(stub.id)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("SERVICE_UNAVAILBLE", "unknown error code 'SERVICE_UNAVAILBLE' (did you mean SERVICE_UNAVAILABLE?)"),
        ("NOT_FUOND", "unknown error code 'NOT_FUOND' (did you mean NOT_FOUND?)"),
        ("TEAPOT", "unknown error code 'TEAPOT'"),
    ],
)
def test_an_unknown_error_code_is_refused(emqx_server: EmqxServer, code: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        emqx_server.faults.error("GET /clients", 503, code)
    refused = control(emqx_server, "POST", "/faults", {"error": "GET /clients", "status": 503, "code": code})
    assert refused.json() == {"code": "BAD_REQUEST", "message": f"error: {message}"}
    assert list(emqx_server.faults) == []


def test_every_code_the_fake_answers_with_and_emqx_declares_is_accepted(emqx_server: EmqxServer) -> None:
    folders = [ROOT / "pytest_emqx_mock" / name for name in ("http", "resources", "flavours")]
    source = "\n".join(path.read_text() for folder in folders for path in folder.rglob("*.py"))
    emitted = set(re.findall(r'(?:ApiError\(\d{3}, |_unauthorized\(\s*|\(\d{3}, )"([A-Z][A-Z_]+)"', source))
    assert {"NODE_DOWN", "UNAUTHORIZED_ROLE", "BAD_TOKEN", "INVALID_PARAMTER", "ERROR_PWD_NOT_MATCH", "UNKNOWN_ERROR"} <= emitted
    declared = {"RULE_NOT_FOUND", "BAD_CONFIG", "NOT_IMPLEMENTED"}  # in EMQX's spec, for operations the fake does not serve
    for code in sorted(emitted | declared):
        emqx_server.faults.error("GET /clients", 500, code)
    assert len(list(emqx_server.faults)) == len(emitted | declared)


def test_a_framing_header_is_refused_from_python_and_from_a_callable(emqx_server: EmqxServer) -> None:
    """A stub's own `Transfer-Encoding: chunked` once left the client waiting for chunks until its read timeout."""
    with pytest.raises(ValueError, match=r"^headers: Transfer-Encoding is the server's to set \(it frames the response\), not a stub's$"):
        emqx_server.stub("GET /rules", json=[], headers={"Transfer-Encoding": "chunked"})
    with pytest.raises(ValueError, match=r"^headers: Content-Length is the server's to set"):
        emqx_server.faults.respond("GET /rules", 200, [], headers={"Content-Length": "2"})
    assert list(emqx_server.stubs) == []
    emqx_server.stub("GET /rules", lambda request: (200, [], {"connection": "keep-alive"}))
    assert get(emqx_server, "/rules").status_code == 500
    (error,) = emqx_server.take_errors()
    assert str(error) == "headers: connection is the server's to set (it frames the response), not a stub's"


def test_stubs_like_faults_stay_through_a_scenario_and_a_snapshot(emqx_server: EmqxServer) -> None:
    """They are not state: the README says so of both."""
    snapshot = control(emqx_server, "GET", "/snapshot").json()
    emqx_server.stub("GET /rules", json=[{"id": "rule-1"}])
    emqx_server.faults.delay("GET /rules", 0)
    assert control(emqx_server, "POST", "/scenario", {"clients": [{"clientid": "c1"}]}).status_code == 204
    assert control(emqx_server, "PUT", "/snapshot", snapshot).status_code == 204
    assert [str(stub) for stub in emqx_server.stubs] == ["200 response on GET /rules"]
    assert [str(fault) for fault in emqx_server.faults] == ["delay 0 s on GET /rules"]
    assert get(emqx_server, "/rules").json() == [{"id": "rule-1"}]
