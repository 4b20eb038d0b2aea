"""The pytest plugin from a user's side: it costs nothing until a test asks for a fake, what
goes wrong inside the fake is reported whatever the test's outcome, and what it cannot honour
(a marker without the fake, a busy port, a bad ini value) is one clear message."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

import pytest_emqx_mock
from pytest_emqx_mock import plugin
from pytest_emqx_mock.state import registry
from pytest_emqx_mock.state.broker import EDITIONS

# -- a plugin that costs nothing when unused ----------------------------------------------------

HEAVY = ("werkzeug", "jsonschema", "yaml", "faker", "pytest_emqx_mock.server", "pytest_emqx_mock.state")


def test_importing_the_plugin_imports_neither_the_server_nor_its_libraries() -> None:
    script = (
        "import sys, pytest_emqx_mock.plugin\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
        "from pytest_emqx_mock import EmqxServer\n"  # the names are there, imported on first use
        "print(EmqxServer.__module__, 'pytest_emqx_mock.server' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.splitlines() == ["[]", "pytest_emqx_mock.server True"]


def test_the_package_exports_every_name_it_lists() -> None:
    assert set(pytest_emqx_mock.__all__) == {"__version__", *pytest_emqx_mock._MODULE_OF}
    assert set(pytest_emqx_mock.__all__) <= set(dir(pytest_emqx_mock))
    for name in pytest_emqx_mock.__all__:
        assert getattr(pytest_emqx_mock, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'EmqxSever'"):
        pytest_emqx_mock.EmqxSever  # noqa: B018


def test_the_plugin_s_own_lists_are_the_registry_s() -> None:
    """The plugin writes these out so as not to import the state at start-up."""
    assert plugin._SEEDED_OPTIONS == tuple(name for name, seeding in registry.SEEDINGS.items() if seeding.marker)
    assert plugin._EDITIONS == EDITIONS


# -- diagnostics that survive ---------------------------------------------------------------------

BROKEN_FAKE = """
import pytest
import requests


def refresh_that_breaks(broker):
    raise RuntimeError("the fake broke")


@pytest.fixture
def broken(emqx_server, monkeypatch):
    monkeypatch.setattr(emqx_server.broker.monitor.stats, "refresh", refresh_that_breaks)
    return emqx_server


def test_body_fails(broken):
    requests.get(broken.api_url + "/no/such/api", auth=broken.auth)
    response = requests.get(broken.api_url + "/nodes", auth=broken.auth)
    assert response.status_code == 200, "the client saw " + response.json()["code"]


def test_body_passes(broken):
    assert requests.get(broken.api_url + "/nodes", auth=broken.auth).status_code == 500
"""


def test_the_fake_s_traceback_is_reported_whether_the_body_failed_or_passed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN_FAKE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            # the body failed: its report has the fake's traceback and the unserved request
            "*AssertionError: the client saw INTERNAL_ERROR",
            "*- fake EMQX errors -*",
            "Traceback (most recent call last):",
            '*test_broken.py", line 6, in refresh_that_breaks',
            "RuntimeError: the fake broke",
            "*- requests to paths the fake EMQX does not serve -*",
            "GET /api/v5/no/such/api",
            # the body passed: the test fails with the fake's exception as the cause
            "*_ test_body_passes _*",
            "    def refresh_that_breaks(broker):",
            "*RuntimeError: the fake broke",
            "test_broken.py:6: RuntimeError",
            "*direct cause of the following exception*",
            "*FakeServerError: the fake EMQX server failed while serving a request: the fake broke",
            # ... and its report has the whole traceback, the fake's own frames included, which
            # pytest trims from the failure (from the test file's last frame on)
            "*- fake EMQX errors -*",
            "Traceback (most recent call last):",
            '*endpoints/nodes.py", line *, in list_nodes',
            '*test_broken.py", line 6, in refresh_that_breaks',
            "RuntimeError: the fake broke",
        ]
    )
    output = result.stdout.str()
    assert output.count("- fake EMQX errors -") == 2
    assert "UnmatchedRequestWarning" not in output  # reported with the failure instead


def test_tests_on_the_session_server_are_diagnosed_too(pytester: pytest.Pytester) -> None:
    """The session server is not reset between tests: each is told only of its own requests."""
    pytester.makepyfile(
        """
        import requests


        def refresh_that_breaks(broker):
            raise RuntimeError("the fake broke")


        def test_breaks_it(emqx_session_server, monkeypatch):
            monkeypatch.setattr(emqx_session_server.broker.monitor.stats, "refresh", refresh_that_breaks)
            requests.get(emqx_session_server.api_url + "/nodes", auth=emqx_session_server.auth)
            requests.get(emqx_session_server.api_url + "/no/such/api", auth=emqx_session_server.auth)
            requests.get(emqx_session_server.api_url + "/nodes", auth=emqx_session_server.auth)


        def test_after_it(emqx_session_server):
            assert requests.get(emqx_session_server.api_url + "/nodes", auth=emqx_session_server.auth).status_code == 200
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, warnings=0)  # the next test is not told of the first one's
    result.stdout.fnmatch_lines(
        [
            "*FakeServerError: the fake EMQX server failed while serving a request (and 1 more): the fake broke",
            "*- fake EMQX errors -*",  # both, whole
            '*test_tests_on_the_session_server_are_diagnosed_too.py", line 5, in refresh_that_breaks',
            "*- requests to paths the fake EMQX does not serve -*",
            "GET /api/v5/no/such/api",
        ]
    )


# -- loud where the user's intent cannot be honoured ----------------------------------------------


def test_a_marker_on_a_test_without_emqx_server_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest


        @pytest.mark.emqx(clients=["c1"])
        def test_on_the_session_server(emqx_session_server):
            pass


        @pytest.mark.emqx(clients=["c1"])
        def test_without_a_fake():
            pass


        @pytest.mark.emqx(clients=["c1"])
        class TestMarkedAsAGroup:
            def test_with_the_fake(self, emqx_server):
                assert [session.clientid for session in emqx_server.broker.sessions] == ["c1"]

            def test_without_a_fake(self):  # the group's marker is for the tests that use the fake
                pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_on_the_session_server*",
            "test_a_marker*.py::test_on_the_session_server: @pytest.mark.emqx sets up the emqx_server fixture, "
            "but this test uses only emqx_session_server, which no marker changes: ask for emqx_server, or remove the marker",
            "*ERROR at setup of test_without_a_fake*",
            "test_a_marker*.py::test_without_a_fake: @pytest.mark.emqx sets up the emqx_server fixture, "
            "but this test uses no fake EMQX: ask for emqx_server, or remove the marker",
        ]
    )


def test_a_group_s_marker_leaves_a_test_on_the_session_server_alone(pytester: pytest.Pytester) -> None:
    """On a module or a class the marker sets up the tests in it that use `emqx_server` (as
    the README says): one using only the session server runs as it would without it."""
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.emqx(clients=["c1"])


        def test_on_the_session_server(emqx_session_server):
            pass


        @pytest.mark.emqx(clients=["c2"])
        class TestMarkedAsAGroup:
            def test_with_the_fake(self, emqx_server):
                assert [session.clientid for session in emqx_server.broker.sessions] == ["c2"]

            def test_on_the_session_server(self, emqx_session_server):
                pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


#: Each marker option's bad value, and the one usage error it gets.
BAD_MARKER_OPTIONS = {
    "clients=5": "clients: must be a list, not 5",
    "faults=5": "faults: must be a list, not 5",
    "stubs=None": "stubs: must be a list, not null",
    "clients=[5]": "clients[0]: must be a string (its clientid) or an object, not 5",
    "clients=[None]": "clients[0]: must be a string (its clientid) or an object, not null",
    'users=["bob"]': 'users[0]: must be an object, not "bob"',
    'retained=["a/b"]': 'retained[0]: must be an object, not "a/b"',
    "scenario=5": "scenario: must be a scenario file's path, a packaged scenario's name or an object, not 5",
    'edition="xe"': 'edition: must be "ce" or "ee", not "xe"',
    'nodes="emqx@n1"': 'nodes: must be a list, not "emqx@n1"',
    'nodes=["bad"]': 'nodes[0]: must be a node name (name@host), not "bad"',
    'users=[{"username": "u", "password": "x"}]': "users[0].password: The range of password length is 8~64",
    'api_keys=["k", "k"]': "api_keys[1].name: name_already_existed",
    'clients=[{"count": 2, "clientid": "z"}]': "clients[0].clientid: cannot be given with count: each of the clients gets its own",
}


def test_every_marker_option_s_bad_value_is_one_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n"
        + "".join(
            f"\n@pytest.mark.emqx({options})\ndef test_{index}(emqx_server):\n    pass\n" for index, options in enumerate(BAD_MARKER_OPTIONS)
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=len(BAD_MARKER_OPTIONS))
    for message in BAD_MARKER_OPTIONS.values():
        escaped = re.sub(r"[][*?]", lambda found: f"[{found.group()}]", message)
        result.stdout.fnmatch_lines([f"E *pytest.UsageError: @pytest.mark.emqx {escaped}"])


def test_a_busy_port_stops_the_run_with_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one(emqx_server):\n    pass\n\ndef test_two(emqx_server):\n    pass\n")
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--emqx-port", str(port))
    result.assert_outcomes(errors=1)  # the first test; the run stops there
    message = f"fake EMQX: port {port} on 127.0.0.1 is in use (--emqx-port, emqx_port): choose another, or 0 for any free port"
    result.stdout.fnmatch_lines(["*ERROR at setup of test_one*", message, f"! Interrupted: {message} !"])
    assert "Traceback" not in result.stdout.str() and "Errno" not in result.stdout.str()


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("emqx_port = abc", "emqx_port must be a port number, 0 for any free port, not 'abc'"),
        ("emqx_port = 70000", "emqx_port must be a port number, 0 for any free port, not '70000'"),
        ("emqx_edition = xe", "emqx_edition must be one of ce, ee, not 'xe'"),
        ("emqx_version = 6.4", "emqx_version must be one of 5.8, 6.0, 6.1, 6.2, 6.3, not '6.4'"),
        ("emqx_version = 6.0\nemqx_edition = ce", "emqx_edition ce applies to EMQX 5.8 only: EMQX 6.0 has one edition, the enterprise build"),
        ("emqx_fresh = sometimes", "emqx_fresh must be true or false: invalid truth value 'sometimes'"),
        ("emqx_swagger_support = maybe", "emqx_swagger_support must be true or false: invalid truth value 'maybe'"),
    ],
)
def test_a_bad_ini_value_is_one_usage_error_naming_it(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_one(emqx_server):\n    pass\n\ndef test_two(emqx_server):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.str().strip() == f"ERROR: {message}"


def test_a_bad_port_option_names_it(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--emqx-port", "-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --emqx-port: must be a port number, 0 for any free port, not '-1'"])
