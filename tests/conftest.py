from __future__ import annotations

import socket
from typing import Any, Iterator

import pytest

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours import DEPLOYMENTS, FLAVOUR_NAMES, flavour_named

pytest_plugins = ["pytester"]


def _hold(port: int) -> int:
    """Leave `port` (0: one the kernel picks) in TIME_WAIT for a minute; return it."""
    with socket.create_server(("127.0.0.1", port)) as listener:
        port = int(listener.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            accepted.close()  # closed from the listening side first: the TIME_WAIT stays on this port
    return port


def reserve_ports(count: int = 1) -> int:
    """The first of `count` consecutive ports to start servers on by number. A port only
    probed free (bound to 0, then closed) may go to another xdist worker's server or outgoing
    connection before ours binds it; these are held in TIME_WAIT for a minute, which the
    kernel's own choice of a port skips while a server binding one with SO_REUSEADDR
    (`EmqxServer`, `emqx-mock`) may take it."""
    for _ in range(50):
        first = _hold(0)
        try:
            for port in range(first + 1, first + count):
                _hold(port)
        except OSError:
            continue  # a neighbour is in use: look elsewhere
        return first
    raise RuntimeError(f"found no {count} consecutive free ports")


#: The option of `EmqxServer` that gives a door's callers their credential, by `Flavour.credentials`.
CREDENTIAL_OPTIONS = {"app": "app", "platform_key": "platform_key"}


def every_door(credential: tuple[str, str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each front door but EMQX 5's own (the default flavour): every other flavour, each
    `cloud-v5` deployment kind, once; by name (`cloud-v5-serverless`), with its server's options
    (`flavour`, `deployment`, and `credential` as its callers' app or key). A flavour added
    later is a door here with no work in the tests that walk them (its document, fuzzing, the
    auth matrix)."""
    made = {flavour_named(FLAVOUR_NAMES[0])}
    for name in FLAVOUR_NAMES[1:]:
        for deployment in DEPLOYMENTS:
            flavour = flavour_named(name, deployment)
            if flavour not in made:
                made.add(flavour)
                options = {"flavour": name, "deployment": deployment, CREDENTIAL_OPTIONS[flavour.credentials]: credential}  # type: ignore[attr-defined]
                yield (name if deployment == DEPLOYMENTS[0] else f"{name}-{deployment}"), options


@pytest.fixture
def free_port() -> int:
    """A port to start a server on by number (see `reserve_ports`)."""
    return reserve_ports()


@pytest.fixture(scope="session")
def ee_server() -> Iterator[EmqxServer]:
    """An Enterprise-edition fake beside the plugin's (CE) one."""
    with EmqxServer(edition="ee") as server:
        yield server


def reset_for_a_test(server: EmqxServer) -> Iterator[EmqxServer]:
    """A private fake, reset; like `emqx_server`, the test fails if the fake failed."""
    server.reset()
    yield server
    server.check_errors()


@pytest.fixture
def ee(ee_server: EmqxServer) -> Iterator[EmqxServer]:
    """The Enterprise fake, reset."""
    yield from reset_for_a_test(ee_server)


@pytest.fixture(scope="session")
def cluster_server() -> Iterator[EmqxServer]:
    """A fake cluster of two nodes, `emqx@n1` and `emqx@n2`."""
    with EmqxServer(nodes=["emqx@n1", "emqx@n2"]) as server:
        yield server


@pytest.fixture
def cluster(cluster_server: EmqxServer) -> Iterator[EmqxServer]:
    """The two-node fake, reset."""
    yield from reset_for_a_test(cluster_server)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fuzzing's figures (tests/test_fuzz.py records each test's cases), for the README."""
    tests = cases = 0
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == "fuzz_cases" and getattr(report, "when", None) == "teardown":
                    tests += 1
                    cases += value
    if tests:
        terminalreporter.write_line(f"fuzzing: {tests} tests, {cases} cases")


class ManualClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, start: float) -> None:
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += seconds


def manual_clock(monkeypatch: pytest.MonkeyPatch, module: Any, start: float = 1_700_000_000.0) -> ManualClock:
    """A ManualClock read as `module.now` (a state module's clock) for the rest of the test."""
    clock = ManualClock(start)
    monkeypatch.setattr(module, "now", lambda: clock.now)
    return clock
