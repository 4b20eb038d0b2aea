"""The pytest plugin: one fake EMQX per test session (per xdist worker), reset before each
test, handed to the test as the `emqx_server` fixture."""

from __future__ import annotations

import os
from typing import Generator

import pytest

from .model.broker import EDITIONS
from .server import EmqxServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emqx-mock", "fake EMQX server (pytest-emqx-mock)")
    group.addoption("--emqx-edition", choices=EDITIONS, default=None, help="EMQX edition to emulate: ce (default) or ee")
    group.addoption("--emqx-port", type=int, default=None, help="port for the fake EMQX (default: any free port)")
    parser.addini("emqx_edition", "EMQX edition to emulate: ce (default) or ee", default="ce")
    parser.addini("emqx_port", "port for the fake EMQX (default: any free port)", default="0")


def _port(config: pytest.Config) -> int:
    port = config.getoption("--emqx-port")
    port = int(config.getini("emqx_port")) if port is None else port
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if port and worker.startswith("gw"):
        port += int(worker[2:])  # each xdist worker needs a port of its own
    return port


@pytest.fixture(scope="session")
def emqx_session_server(pytestconfig: pytest.Config) -> Generator[EmqxServer, None, None]:
    """The session's fake EMQX, started once; most tests want `emqx_server` instead."""
    edition = pytestconfig.getoption("--emqx-edition") or pytestconfig.getini("emqx_edition")
    if edition not in EDITIONS:
        raise pytest.UsageError(f"emqx_edition must be one of {', '.join(EDITIONS)}, not {edition!r}")
    with EmqxServer(edition=edition, port=_port(pytestconfig)) as server:
        yield server


@pytest.fixture
def emqx_server(emqx_session_server: EmqxServer) -> EmqxServer:
    """The fake EMQX in its initial state: the ready administrator API key
    (`emqx_server.auth`), the dashboard user admin/public, one node, no clients."""
    emqx_session_server.reset()
    return emqx_session_server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Fail the test whose requests raised inside the fake, with that traceback."""
    result = yield
    server = getattr(item, "funcargs", {}).get("emqx_server")
    if isinstance(server, EmqxServer):
        server.check_errors()
    return result
