"""The `emqx-mock` command, run as a subprocess like a developer or another test suite would."""

from __future__ import annotations

import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command() -> list[str]:
    installed = shutil.which("emqx-mock")
    return [installed] if installed else [sys.executable, "-m", "pytest_emqx_mock.cli"]


class _Running:
    """The command started with `args`, its banner read up to "Press Ctrl-C"."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.banner: list[str] = []
        deadline = time.monotonic() + 30
        with selectors.DefaultSelector() as selector:
            assert self.process.stdout is not None
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while not any("Press Ctrl-C" in line for line in self.banner):
                if time.monotonic() > deadline or not selector.select(timeout=1) and self.process.poll() is not None:
                    self.stop()
                    raise AssertionError(f"emqx-mock did not start: {self.banner} {self.process.stderr.read()}")  # type: ignore[union-attr]
                line = self.process.stdout.readline()
                if line:
                    self.banner.append(line.rstrip("\n"))

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=30)
        return self.process.returncode, out


def test_defaults_print_working_credentials_and_ctrl_c_stops_cleanly() -> None:
    port = _free_port()
    running = _Running("--port", str(port))
    try:
        banner = "\n".join(running.banner)
        assert f"listening on http://127.0.0.1:{port}" in banner
        assert "API key:         pytest-emqx-mock:pytest-emqx-mock-secret" in banner
        assert "Dashboard user:  admin / public" in banner
        assert f"curl -u pytest-emqx-mock:pytest-emqx-mock-secret http://127.0.0.1:{port}/api/v5/clients" in banner
        response = requests.get(f"http://127.0.0.1:{port}/api/v5/clients", auth=("pytest-emqx-mock", "pytest-emqx-mock-secret"))
        assert response.json() == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}
        login = requests.post(f"http://127.0.0.1:{port}/api/v5/login", json={"username": "admin", "password": "public"})
        assert login.json()["license"] == {"edition": "ce"}
    finally:
        code, out = running.stop()
    assert code == 0
    assert "emqx-mock stopped." in out
    assert "GET /api/v5" not in out  # quiet: no access log


def test_bootstrap_file_and_edition(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("viewer-key:viewer-secret:viewer\nadmin-key:admin-secret\n")
    port = _free_port()
    running = _Running("--port", str(port), "--edition", "ee", "--bootstrap-api-keys", str(keys))
    try:
        banner = "\n".join(running.banner)
        assert "(ee)" in banner
        assert "viewer-key:viewer-secret  (viewer)" in banner
        assert "pytest-emqx-mock" not in banner  # the file's keys replace the default key
        url = f"http://127.0.0.1:{port}/api/v5/clients"
        assert requests.get(url, auth=("viewer-key", "viewer-secret")).status_code == 200
        assert requests.get(url, auth=("pytest-emqx-mock", "pytest-emqx-mock-secret")).status_code == 401
        kick = requests.delete(url + "/c1", auth=("viewer-key", "viewer-secret"))
        assert kick.status_code == 403
        assert requests.delete(url + "/c1", auth=("admin-key", "admin-secret")).status_code == 404
    finally:
        assert running.stop()[0] == 0


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
    assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr


@pytest.mark.parametrize("option", ["--help"])
def test_help_lists_the_options(option: str) -> None:
    result = subprocess.run([*_command(), option], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for name in ("--host", "--port", "--edition", "--bootstrap-api-keys", "--seed"):
        assert name in result.stdout
