"""The handle (start, stop, reset, URLs, credentials) and the pytest plugin around it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import requests
from conftest import reserve_ports

from pytest_emqx_mock import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    EmqxServer,
    FakeServerError,
)


def test_handle_starts_on_a_free_port_and_stops() -> None:
    server = EmqxServer().start()
    try:
        api_url = server.api_url
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert api_url == server.url + "/api/v5"
        assert requests.get(api_url + "/clients", auth=server.auth).status_code == 200
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(api_url + "/clients", auth=server.auth, timeout=2)


def test_handle_is_a_context_manager_and_can_restart_on_the_same_port(free_port: int) -> None:
    server = EmqxServer(port=free_port)
    for _ in range(2):
        with server:
            assert server.port == free_port
            response = requests.get(server.api_url + "/clients", auth=server.auth)
            assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 0, "hasnext": False}


def test_starting_twice_is_refused() -> None:
    with EmqxServer() as server, pytest.raises(RuntimeError):
        server.start()


def test_the_ready_administrator_key() -> None:
    with EmqxServer() as server:
        assert server.auth == (DEFAULT_API_KEY, DEFAULT_API_SECRET)
        assert requests.get(server.api_url + "/clients", auth=server.auth).status_code == 200
    with EmqxServer(admin_api_key=("k1", "s1")) as server:
        assert requests.get(server.api_url + "/clients", auth=("k1", "s1")).status_code == 200
    with EmqxServer(admin_api_key=None) as server, pytest.raises(RuntimeError, match="without the ready administrator key"):
        _ = server.auth


def test_reset_restores_the_initial_state() -> None:
    with EmqxServer() as server:
        token = server.login()
        server.add_client("c1")
        server.add_api_key("extra")
        server.add_user("bob", "bob12345")
        requests.get(server.api_url + "/clients", auth=server.auth)
        server.reset()
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.get(server.api_url + "/clients", headers=bearer).json() == {
            "code": "BAD_TOKEN",
            "message": "Get a token by POST /login",
        }
        bearer = {"Authorization": f"Bearer {server.login()}"}
        keys = requests.get(server.api_url + "/api_key", headers=bearer).json()
        assert [key["api_key"] for key in keys] == [DEFAULT_API_KEY]
        users = requests.get(server.api_url + "/users", headers=bearer).json()
        assert users == [{"description": "administrator", "username": "admin"}]
        assert requests.get(server.api_url + "/clients", auth=server.auth).json()["data"] == []
        assert [entry.path for entry in server.journal] == ["/api/v5/clients", "/api/v5/api_key", "/api/v5/users", "/api/v5/clients"]


def test_a_response_that_breaks_its_schema_is_a_500_and_a_recorded_error() -> None:
    with EmqxServer() as server:
        server.add_client("c1", proto_ver=7)  # no such MQTT version: the client row breaks its schema
        response = requests.get(server.api_url + "/clients/c1", auth=server.auth)
        assert response.status_code == 500
        assert response.json()["code"] == "INTERNAL_ERROR"
        with pytest.raises(FakeServerError, match="proto_ver") as raised:
            server.check_errors()
        assert "ResponseSchemaError" in type(raised.value.__cause__).__name__
        server.check_errors()  # reported once


def test_the_seeding_api_is_visible_at_once(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("c1", subscriptions=["a/b", {"topic": "c/#", "qos": 1}], mqueue=["m1"])
    assert emqx_server.client("c1") is session
    row = requests.get(emqx_server.api_url + "/clients/c1", auth=emqx_server.auth).json()
    assert (row["subscriptions_cnt"], row["mqueue_len"], row["inflight_cnt"]) == (2, 1, 0)


PLUGIN_TESTS = """
import requests

def test_seeds(emqx_server):
    emqx_server.add_client("left-over")
    assert requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth).json()["meta"]["count"] == 1

def test_starts_clean(emqx_server):
    assert requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth).json()["data"] == []

def test_edition(emqx_server):
    token = requests.post(emqx_server.api_url + "/login", json={"username": "admin", "password": "public"}).json()
    print("EDITION", emqx_server.edition, token["license"]["edition"], "role" in token)
"""


def test_plugin_resets_before_each_test_and_is_quiet(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*EDITION ce ce False*"])
    output = result.stdout.str() + result.stderr.str()
    assert "GET /api/v5" not in output and "HTTP/1.1" not in output  # no access log


@pytest.mark.parametrize("how", ["option", "ini"])
def test_plugin_edition_option(pytester: pytest.Pytester, how: str) -> None:
    test = f"{pytester.makepyfile(PLUGIN_TESTS).name}::test_edition"
    if how == "ini":
        pytester.makeini("[pytest]\nemqx_edition = ee\n")
        result = pytester.runpytest_subprocess("-s", test)
    else:
        result = pytester.runpytest_subprocess("-s", test, "--emqx-edition", "ee")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*EDITION ee ee True*"])


@pytest.mark.parametrize("inherited_worker", [None, "gw3"])
def test_plugin_port_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, free_port: int, inherited_worker: str | None
) -> None:
    """`--emqx-port N` is the port, also in a pytest run started from an xdist worker (such a
    run inherits the worker's $PYTEST_XDIST_WORKER but is no worker)."""
    if inherited_worker is None:
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    else:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", inherited_worker)
    pytester.makepyfile(f"def test_port(emqx_server):\n    assert emqx_server.port == {free_port}\n")
    pytester.runpytest_subprocess("--emqx-port", str(free_port)).assert_outcomes(passed=1)


def test_each_xdist_worker_has_a_fake_of_its_own(pytester: pytest.Pytester) -> None:
    """Under `-n 2 --emqx-port N`, worker gwK serves on N + K and resets its fake between its tests."""
    port = reserve_ports(2)
    pytester.makepyfile(
        f"""
        import os
        from pathlib import Path

        import pytest
        import requests

        @pytest.mark.parametrize("n", range(3))
        def test_seed(emqx_server, n):
            emqx_server.add_client(f"c{{n}}")
            assert requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth).json()["meta"]["count"] == 1
            Path(r"{pytester.path}", os.environ["PYTEST_XDIST_WORKER"] + f"-{{n}}").write_text(str(emqx_server.port))
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "each", "--emqx-port", str(port), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    ports = {worker: {(pytester.path / f"{worker}-{n}").read_text() for n in range(3)} for worker in ("gw0", "gw1")}
    assert ports == {"gw0": {str(port)}, "gw1": {str(port + 1)}}


def test_plugin_fails_the_test_whose_request_broke_the_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_broken(emqx_server):
            emqx_server.add_client("c1", proto_ver=7)
            response = requests.get(emqx_server.api_url + "/clients/c1", auth=emqx_server.auth)
            assert response.status_code == 500

        def test_next_one_is_fine(emqx_server):
            assert requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth).status_code == 200
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ResponseSchemaError: #/$defs/client: at proto_ver: 7 is not one of [[]3, 4, 5[]]",
            "*direct cause of the following exception*",
            "*FakeServerError: the fake EMQX server failed while serving a request*",
            "FAILED*test_broken*",
        ]
    )


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(("edition", "loaded"), [("ee", ["ci-admin", "dashboard-reader", "publisher-bot"]), ("ce", ["ci-admin"])])
def test_shipped_bootstrap_key_file_loads(edition: str, loaded: list[str]) -> None:
    keys = FIXTURES / "bootstrap-api-keys.txt"
    with warnings.catch_warnings(record=True) as problems:
        warnings.simplefilter("always")
        server = EmqxServer(edition=edition, bootstrap_api_keys=keys, admin_api_key=None)
    # ce knows no viewer: EMQX logs that line and loads nothing from there on, and the fake warns
    refused = f"{keys}, line 2: invalid_role 'viewer' (this edition's roles: administrator): "
    refused += "EMQX logs failed_to_load_bootstrap_file and loads no key from this line on"
    assert [str(problem.message) for problem in problems] == ([refused] if edition == "ce" else [])
    with server:
        assert [key.api_key for key in server.broker.api_keys] == loaded
        assert requests.get(server.api_url + "/clients", auth=("ci-admin", "ci-admin-secret")).status_code == 200


MARKER_TESTS = """
import pytest
import requests


@pytest.mark.emqx(
    clients=["c1", {"clientid": "c2", "connected": False}],
    api_keys=["ci"],
    retained=[{"topic": "r/1", "payload": "kept"}],
    faults=[{"error": "GET /nodes", "status": 503, "code": "SERVICE_UNAVAILABLE"}],
)
def test_seeded(emqx_server):
    url, auth = emqx_server.api_url, emqx_server.auth
    assert requests.get(url + "/clients", auth=auth).json()["meta"]["count"] == 2
    assert requests.get(url + "/nodes", auth=auth).status_code == 503
    assert [m.topic for m in emqx_server.broker.retained] == ["r/1"]
    assert [k.name for k in emqx_server.broker.api_keys][-1] == "ci"


def test_next_test_is_clean(emqx_server):
    assert requests.get(emqx_server.api_url + "/nodes", auth=emqx_server.auth).status_code == 200
    assert emqx_server.edition == "ce"


@pytest.mark.emqx(edition="ee", nodes=["emqx@n1", "emqx@n2"])
def test_own_server(emqx_server, emqx_session_server):
    assert emqx_server is not emqx_session_server
    assert (emqx_server.edition, emqx_server.broker.running_nodes) == ("ee", ["emqx@n1", "emqx@n2"])


@pytest.mark.emqx(colour="blue")
def test_unknown_option(emqx_server):
    pass
"""


def test_the_emqx_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.emqx has no option colour*"])


@pytest.mark.parametrize("how", ["option", "ini"])
def test_a_fresh_server_per_test(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(
        """
        servers = []

        def test_one(emqx_server, emqx_session_server):
            assert emqx_server is not emqx_session_server
            servers.append(emqx_server)

        def test_two(emqx_server, emqx_session_server):
            assert emqx_server is not emqx_session_server and emqx_server is not servers[0]
            assert not servers[0].running  # the first test's server was stopped
        """
    )
    if how == "ini":
        pytester.makeini("[pytest]\nemqx_fresh = true\n")
        result = pytester.runpytest_subprocess()
    else:
        result = pytester.runpytest_subprocess("--emqx-fresh")
    result.assert_outcomes(passed=2)


def test_teardown_reports_missed_expectations_and_unmatched_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_expected_fault_never_met(emqx_server):
            emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE", expect=True)

        def test_expected_fault_met(emqx_server):
            emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE", expect=True)
            requests.get(emqx_server.api_url + "/nodes", auth=emqx_server.auth)

        def test_a_path_the_fake_does_not_serve(emqx_server):
            requests.get(emqx_server.api_url + "/no/such/api", auth=emqx_server.auth)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expected faults never triggered: 503 SERVICE_UNAVAILABLE on GET /nodes",
            "*UnmatchedRequestWarning: requests to paths the fake EMQX does not serve: GET /api/v5/no/such/api",
            "FAILED*test_expected_fault_never_met*",
        ]
    )
