"""The pytest plugin: one fake EMQX per test session (per xdist worker), reset before each
test, handed to the test as the `emqx_server` fixture; `@pytest.mark.emqx(...)` sets one test
up (its own server where the edition, nodes or seed differ), and `--emqx-fresh` gives every
test a server of its own."""

from __future__ import annotations

import os
import warnings
from typing import Any, Generator, Iterable, Mapping

import pytest

from .server import EmqxServer
from .state import registry
from .state.broker import EDITIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emqx-mock", "fake EMQX server (pytest-emqx-mock)")
    group.addoption("--emqx-edition", choices=EDITIONS, default=None, help="EMQX edition to emulate: ce (default) or ee")
    group.addoption("--emqx-port", type=int, default=None, help="port for the fake EMQX (default: any free port)")
    group.addoption(
        "--emqx-fresh", action="store_true", default=None, help="a new fake EMQX for every test instead of a reset one"
    )
    parser.addini("emqx_edition", "EMQX edition to emulate: ce (default) or ee", default="ce")
    parser.addini("emqx_port", "port for the fake EMQX (default: any free port)", default="0")
    parser.addini("emqx_fresh", "a new fake EMQX for every test instead of a reset one", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"emqx(edition=None, nodes=None, seed=None, scenario=None, {''.join(f'{name}=(), ' for name in _SEEDED)}"
        "stubs=(), faults=()): set the fake EMQX up for this test (scenario: a scenario file, "
        "relative to the rootdir, or a dict)",
    )


def _port(config: pytest.Config) -> int:
    port = config.getoption("--emqx-port")
    port = int(config.getini("emqx_port")) if port is None else port
    # xdist's own record, not $PYTEST_XDIST_WORKER: a pytest run started from a worker inherits that
    worker = getattr(config, "workerinput", {}).get("workerid", "")
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


#: Marker options that need a server of the test's own.
_SERVER_OPTIONS = ("edition", "nodes", "seed")
#: Marker options that seed, as the kinds of state register them (`state.kinds`).
_SEEDED = {name: seeding for name, seeding in registry.SEEDINGS.items() if seeding.marker}


@pytest.fixture
def emqx_server(request: pytest.FixtureRequest, emqx_session_server: EmqxServer) -> Generator[EmqxServer, None, None]:
    """The fake EMQX in its initial state: the ready administrator API key
    (`emqx_server.auth`), the dashboard user admin/public, one node, no clients; then what the
    test's `@pytest.mark.emqx(...)` asks for."""
    marker = request.node.get_closest_marker("emqx")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - {*_SERVER_OPTIONS, "scenario", *_SEEDED, "stubs", "faults"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.emqx has no option {', '.join(sorted(unknown))}")
    if isinstance(options.get("scenario"), (str, os.PathLike)):
        options["scenario"] = request.config.rootpath / options["scenario"]
    own = {name: options[name] for name in _SERVER_OPTIONS if name in options}
    fresh = request.config.getoption("--emqx-fresh") or request.config.getini("emqx_fresh")
    if own or fresh:
        own.setdefault("edition", emqx_session_server.edition)
        with EmqxServer(**own) as server:
            _set_up(server, options)
            yield server
        return
    emqx_session_server.reset()
    _set_up(emqx_session_server, options)
    yield emqx_session_server


def _set_up(server: EmqxServer, options: Mapping[str, Any]) -> None:
    """Load the marker's scenario (a file, its path made absolute from the rootdir, or a dict),
    then seed what the marker lists: clients (client ids, or `add_client` keyword dicts), API
    keys (names or `add_api_key` dicts), users (`add_user` dicts), retained messages
    (`add_retained` dicts), stubs (descriptions for `Stubs.add`: `{"request": "GET /rules",
    "json": []}`, a callable as `handler`) and faults (descriptions for `Faults.add`:
    `{"error": spec, "status": 503, "code": "SERVICE_UNAVAILABLE"}`, `{"node_down": "emqx@n2"}`...)."""
    from .state.fields import Problem, SeedError

    if "scenario" in options:
        server.load_scenario(options["scenario"])
    for name, seeding in _SEEDED.items():
        for index, item in enumerate(_each(options.get(name, ()))):
            try:
                seeding.apply(server, {seeding.shorthand: item} if isinstance(item, str) and seeding.shorthand else dict(item))
            except SeedError as error:  # placed as a scenario places it: `clients[0].usrname`
                raise pytest.UsageError(f"@pytest.mark.emqx {Problem(error.problem, name, index, *error.segments).path}: {error.problem}") from None
    for kind, rules in (("stub", server.stubs), ("fault", server.faults)):
        for description in _each(options.get(f"{kind}s", ())):
            try:
                rules.add(description)
            except ValueError as error:
                raise pytest.UsageError(f"@pytest.mark.emqx {kind} {description}: {error}") from None


def _each(items: Iterable[Any] | str | Mapping[str, Any]) -> list[Any]:
    return [items] if isinstance(items, (str, Mapping)) else list(items)


class UnmatchedRequestWarning(UserWarning):
    """A test sent requests to paths the fake does not serve (it answered 404)."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Fail the test whose requests raised inside the fake (with that traceback), or whose
    expected faults never triggered; warn of requests to paths the fake does not serve."""
    result = yield
    server = getattr(item, "funcargs", {}).get("emqx_server")
    if isinstance(server, EmqxServer):
        server.check_errors()
        server.check_expectations()
        unmatched = server.unmatched_requests()
        if unmatched:
            listing = ", ".join(f"{entry.method} {entry.path}" for entry in unmatched)
            warnings.warn(UnmatchedRequestWarning(f"requests to paths the fake EMQX does not serve: {listing}"), stacklevel=1)
    return result
