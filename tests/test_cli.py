"""The `emqx-mock` command, run as a subprocess like a developer or another test suite would."""

from __future__ import annotations

import importlib.metadata
import json
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

import pytest_emqx_mock
from pytest_emqx_mock.scripting.scenario import PACKAGED


def _command() -> list[str]:
    """The installed script of the Python running the tests (a virtual environment's need not be
    on PATH), else the module."""
    installed = Path(sys.executable).parent / "emqx-mock"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "pytest_emqx_mock.cli"]


class _Running:
    """The command started with `args`, its banner read up to "Press Ctrl-C"; `options` go to Popen."""

    def __init__(self, *args: str, **options: Any) -> None:
        self.process = subprocess.Popen(
            [*_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options
        )
        self.banner: list[str] = []
        assert self.process.stdout is not None
        watchdog = threading.Timer(30, self.process.kill)  # a command that never gets ready fails the test, not hangs it
        watchdog.start()
        try:
            for line in self.process.stdout:
                self.banner.append(line.rstrip("\n"))
                if line.startswith("Press Ctrl-C"):
                    return
        finally:
            watchdog.cancel()
        code, _, err = self.stop()
        raise AssertionError(f"emqx-mock did not start (exit {code}): {self.banner} {err}")

    def banner_value(self, label: str) -> str:
        """The value the banner prints after `label` (its line's first word after it)."""
        prefix = f"  {label}"
        return next(line[len(prefix) :].split()[0] for line in self.banner if line.startswith(prefix))

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, str, str]:
        """Send `signum` (unless it has ended); the exit code, then the rest of stdout and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # the signal did not stop it: fail without leaving it running
            self.process.kill()
            self.process.communicate()
            raise
        return self.process.returncode, out, err


def test_defaults_print_working_credentials_and_ctrl_c_stops_cleanly() -> None:
    running = _Running("--port", "0")  # a free port, which the banner names
    try:
        banner = "\n".join(running.banner)
        listening = re.search(r"listening on http://127\.0\.0\.1:([1-9][0-9]*)$", banner, flags=re.M)
        assert listening is not None, banner
        port = int(listening.group(1))
        assert "API key:         pytest-emqx-mock:pytest-emqx-mock-secret" in banner
        assert "Dashboard user:  admin / public" in banner
        assert f"curl -u pytest-emqx-mock:pytest-emqx-mock-secret http://127.0.0.1:{port}/api/v5/clients" in banner
        response = requests.get(f"http://127.0.0.1:{port}/api/v5/clients", auth=("pytest-emqx-mock", "pytest-emqx-mock-secret"), timeout=30)
        assert response.json() == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}
        login = requests.post(f"http://127.0.0.1:{port}/api/v5/login", json={"username": "admin", "password": "public"}, timeout=30)
        assert login.json()["license"] == {"edition": "ce"}
    finally:
        code, out, _ = running.stop()
    assert code == 0
    assert "emqx-mock stopped." in out
    assert "GET /api/v5" not in out  # quiet: no access log


def test_bootstrap_file_and_edition_on_a_given_port_and_sigterm_stops_cleanly(tmp_path: Path, free_port: int) -> None:
    keys = tmp_path / "keys"
    keys.write_text("viewer-key:viewer-secret:viewer\nadmin-key:admin-secret\n")
    running = _Running("--port", str(free_port), "--edition", "ee", "--bootstrap-api-keys", str(keys))
    try:
        banner = "\n".join(running.banner)
        assert f"listening on http://127.0.0.1:{free_port}" in banner
        assert "(ee)" in banner
        assert "viewer-key:viewer-secret  (viewer)" in banner
        assert "pytest-emqx-mock" not in banner  # the file's keys replace the default key
        url = f"http://127.0.0.1:{free_port}/api/v5/clients"
        assert requests.get(url, auth=("viewer-key", "viewer-secret"), timeout=30).status_code == 200
        assert requests.get(url, auth=("pytest-emqx-mock", "pytest-emqx-mock-secret"), timeout=30).status_code == 401
        kick = requests.delete(url + "/c1", auth=("viewer-key", "viewer-secret"), timeout=30)
        assert kick.status_code == 403
        assert requests.delete(url + "/c1", auth=("admin-key", "admin-secret"), timeout=30).status_code == 404
    finally:
        code, out, _ = running.stop(signal.SIGTERM)
    assert code == 0
    assert "emqx-mock stopped." in out


def test_unreadable_bootstrap_file_and_busy_port(tmp_path: Path) -> None:
    missing = subprocess.run([*_command(), "--bootstrap-api-keys", str(tmp_path / "nope")], capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = subprocess.run([*_command(), "--port", str(port)], capture_output=True, text=True, timeout=30)
    assert taken.returncode == 1
    assert taken.stderr == (
        f"emqx-mock: cannot listen on 127.0.0.1:{port}: the port is in use; choose another with --port, or --port 0 for a free one\n"
    )


@pytest.mark.parametrize("option", ["--help"])
def test_help_lists_the_options(option: str) -> None:
    result = subprocess.run([*_command(), option], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for name in ("--host", "--port", "--edition", "--bootstrap-api-keys", "--random-seed", "--seed", "--state", "-v, --log-requests", "--cors"):
        assert name in result.stdout


def test_version_is_the_package_s_in_one_place() -> None:
    """`--version`, `__version__` and the installed metadata say the same version."""
    result = subprocess.run([*_command(), "--version"], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout) == (0, f"emqx-mock {pytest_emqx_mock.__version__}\n")
    assert importlib.metadata.version("pytest-emqx-mock") == pytest_emqx_mock.__version__




def _api_url(running: _Running) -> str:
    listening = re.search(r"listening on (http://127\.0\.0\.1:[1-9][0-9]*)$", "\n".join(running.banner), flags=re.M)
    assert listening is not None, running.banner
    return listening.group(1) + "/api/v5"


AUTH = ("pytest-emqx-mock", "pytest-emqx-mock-secret")


@pytest.mark.parametrize("fleet", [str(PACKAGED / "small-fleet.yaml"), "small-fleet"])
def test_seed_loads_a_scenario_file(fleet: str) -> None:
    """A scenario file, or a packaged scenario by its name."""
    running = _Running("--port", "0", "--seed", fleet)
    try:
        assert f"  Scenario:        {fleet}" in running.banner
        clients = requests.get(_api_url(running) + "/clients", auth=AUTH, timeout=30).json()
        assert clients["meta"]["count"] == 14
    finally:
        assert running.stop()[0] == 0


def test_a_bad_seed_file_names_file_and_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text("clients:\n  - {clientid: a, subscriptions: [{topic: t, qos: 7}]}\n")
    result = subprocess.run([*_command(), "--port", "0", "--seed", str(bad)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr == f"emqx-mock: {bad}: clients[0].subscriptions[0].qos: must be 0, 1 or 2, not 7\n"
    assert "listening" not in result.stdout
    unwritable = subprocess.run([*_command(), "--port", "0", "--state", str(tmp_path / "state.txt")], capture_output=True, text=True, timeout=30)
    assert unwritable.returncode == 2
    assert unwritable.stderr == f"emqx-mock: {tmp_path / 'state.txt'}: a scenario file is .json, .yaml or .yml\n"


def test_a_seed_that_is_no_file_and_no_packaged_scenario_says_what_was_tried(tmp_path: Path) -> None:
    result = subprocess.run([*_command(), "--seed", "small-flet"], capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"emqx-mock: small-flet: no such file (tried {tmp_path / 'small-flet'}), "
        "nor a packaged scenario (failing-cluster, offline-queues, small-fleet)\n"
    )


def test_state_is_kept_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = _Running("--port", "0", "--state", str(state))
    try:
        assert f"  State file:      {state}  (saved on exit)" in first.banner
        url = _api_url(first)
        assert requests.post(url + "/banned", json={"as": "clientid", "who": "rogue-1", "reason": "abuse"}, auth=AUTH, timeout=30).status_code == 200
        retain = {"topic": "config/site", "payload": "v2", "retain": True}
        assert requests.post(url + "/publish", json=retain, auth=AUTH, timeout=30).status_code == 202  # no subscribers
    finally:
        code, out, _ = first.stop(signal.SIGTERM)
    assert code == 0
    assert f"State saved to {state}." in out
    assert [ban["who"] for ban in json.loads(state.read_text())["bans"]] == ["rogue-1"]

    # the state file wins over a seed scenario: the seed is for the first start only
    second = _Running("--port", "0", "--seed", str(PACKAGED / "small-fleet.yaml"), "--state", str(state))
    try:
        assert f"  State file:      {state}  (loaded, saved on exit)" in second.banner
        url = _api_url(second)
        assert [ban["who"] for ban in requests.get(url + "/banned", auth=AUTH, timeout=30).json()["data"]] == ["rogue-1"]
        retained = requests.get(url + "/mqtt/retainer/message/config%2Fsite", auth=AUTH, timeout=30).json()
        assert retained["payload"] == "djI="  # "v2"
        assert requests.get(url + "/clients", auth=AUTH, timeout=30).json()["meta"]["count"] == 0
    finally:
        assert second.stop()[0] == 0


def test_log_requests_prints_a_line_per_request_with_its_fault() -> None:
    running = _Running("--port", "0", "--log-requests")
    try:
        assert "  Request log:     on, one line per request below" in running.banner
        url = _api_url(running)
        control = url.removesuffix("/api/v5") + "/_mock"
        assert requests.get(url + "/clients?limit=1&page=1", auth=AUTH, timeout=30).status_code == 200
        assert requests.get(url + "/clients", auth=("who", "nope"), timeout=30).status_code == 401
        fault = {"error": "GET /nodes", "status": 503, "code": "SERVICE_UNAVAILABLE", "times": 1}
        assert requests.post(control + "/faults", json=fault, timeout=30).status_code == 200
        assert requests.get(url + "/nodes", auth=AUTH, timeout=30).status_code == 503
        assert requests.get(url + "/no/such/path", auth=AUTH, timeout=30).status_code == 404
        assert requests.post(control + "/stubs", json={"request": "GET /rules", "json": []}, timeout=30).status_code == 200
        assert requests.get(url + "/rules", timeout=30).status_code == 200
    finally:
        code, out, err = running.stop()
    assert code == 0
    lines = [re.sub(r" [0-9]+\.[0-9] ms", " <t> ms", line) for line in out.splitlines()[:-1]]
    assert lines == [
        "GET /api/v5/clients?limit=1&page=1 200 <t> ms",
        "GET /api/v5/clients 401 <t> ms",
        "POST /_mock/faults 200 <t> ms (control API)",
        "GET /api/v5/nodes 503 <t> ms fault: 503 SERVICE_UNAVAILABLE on GET /nodes",
        "GET /api/v5/no/such/path 404 <t> ms",
        "POST /_mock/stubs 200 <t> ms (control API)",
        "GET /api/v5/rules 200 <t> ms stub: 200 response on GET /rules",
    ]
    assert out.splitlines()[-1] == "emqx-mock stopped."
    assert err == ""


def test_v_is_the_short_form_and_the_log_is_off_by_default() -> None:
    quiet, verbose = _Running("--port", "0"), _Running("--port", "0", "-v")
    try:
        for running in (quiet, verbose):
            assert requests.get(_api_url(running) + "/clients", auth=AUTH, timeout=30).status_code == 200
    finally:
        quiet_out, verbose_out = quiet.stop()[1], verbose.stop()[1]
    assert quiet_out == "emqx-mock stopped.\n"
    assert re.fullmatch(r"GET /api/v5/clients 200 [0-9]+\.[0-9] ms\nemqx-mock stopped\.\n", verbose_out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_state_and_stops_even_with_sigint_ignored_and_no_terminal(tmp_path: Path, signum: int) -> None:
    """As a background job of a non-interactive shell: SIGINT ignored at start, no tty."""
    state = tmp_path / "state.json"
    running = _Running(
        "--port", "0", "--state", str(state),
        stdin=subprocess.DEVNULL, start_new_session=True,  # no controlling terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    try:
        control = _api_url(running).removesuffix("/api/v5") + "/_mock"
        assert requests.post(control + "/seed/clients", json={"clientid": "meter-7"}, timeout=30).status_code == 200
    finally:
        code, out, err = running.stop(signum)
    assert (code, err) == (0, "")
    assert out == f"State saved to {state}.\nemqx-mock stopped.\n"
    assert [client["clientid"] for client in json.loads(state.read_text())["clients"]] == ["meter-7"]


@pytest.mark.parametrize(
    ("text", "loaded", "problem"),
    [
        ("k1:s1\n\nnot a key line\nk2:s2\n", ["k1:s1"], "line 3: invalid_format 'not a key line' (not key:secret[:role])"),
        # ce has administrators only: EMQX refuses the viewer key and stops there
        ("viewer-key:vs:viewer\nk2:s2\n", [], "line 1: invalid_role 'viewer' (this edition's roles: administrator)"),
    ],
)
def test_a_bootstrap_line_emqx_refuses_warns_as_emqx_logs_and_the_keys_before_it_load(
    tmp_path: Path, text: str, loaded: list[str], problem: str
) -> None:
    keys = tmp_path / "keys"
    keys.write_text(text)
    running = _Running("--port", "0", "--bootstrap-api-keys", str(keys))
    try:
        assert [line.split()[-1] for line in running.banner if line.startswith("  API key:")] == loaded
        url = _api_url(running)
        for key in loaded:
            assert requests.get(url + "/clients", auth=tuple(key.split(":")), timeout=30).status_code == 200
        assert requests.get(url + "/clients", auth=("k2", "s2"), timeout=30).status_code == 401
    finally:
        code, _, err = running.stop()
    assert code == 0
    assert err == f"emqx-mock: warning: {keys}, {problem}: EMQX logs failed_to_load_bootstrap_file and loads no key from this line on\n"


def test_cors_option_allows_any_origin_as_emqx_dashboard_cors() -> None:
    running = _Running("--port", "0", "--cors")
    try:
        response = requests.get(_api_url(running) + "/clients", auth=AUTH, headers={"Origin": "http://tool.example"}, timeout=30)
    finally:
        assert running.stop()[0] == 0
    assert (response.status_code, response.headers["Access-Control-Allow-Origin"]) == (200, "*")


def test_no_swagger_support_option_serves_no_document() -> None:
    running = _Running("--port", "0", "--no-swagger-support")
    try:
        root = _api_url(running).removesuffix("/api/v5")
        answers = [requests.get(root + path, timeout=30).status_code for path in ("/api-docs/swagger.json", "/api-docs/index.html")]
    finally:
        assert running.stop()[0] == 0
    assert answers == [404, 404]


def test_a_seed_scenario_s_flavour_picks_the_doors_unless_they_are_given(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("flavour: v4\nclients:\n  - {clientid: old-meter}\n")
    running = _Running("--port", "0", "--seed", str(fleet))
    try:
        url = _api_url(running).replace("/api/v5", "/api/v4")
        clients = requests.get(url + "/clients", auth=("admin", "public"), timeout=30).json()
        assert [client["clientid"] for client in clients["data"]] == ["old-meter"]
    finally:
        assert running.stop()[0] == 0
    given = subprocess.run([*_command(), "--port", "0", "--flavour", "v5", "--seed", str(fleet)], capture_output=True, text=True, timeout=30)
    assert given.returncode == 2
    assert given.stderr == (
        f"emqx-mock: {fleet}: flavour: the scenario is for v4, and this server serves v5: start one with its doors "
        "(EmqxServer(flavour=...), the marker's flavour=, emqx-mock --flavour)\n"
    )
    fleet.write_text("flavour: v3\n")
    bad = subprocess.run([*_command(), "--port", "0", "--seed", str(fleet)], capture_output=True, text=True, timeout=30)
    assert (bad.returncode, bad.stderr) == (2, f"emqx-mock: {fleet}: flavour: no flavour 'v3': one of v5, v4, cloud-v4, cloud-v5, platform\n")
