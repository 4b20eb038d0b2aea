"""The pytest plugin: one fake EMQX per test session (per xdist worker), reset before each
test, handed to the test as the `emqx_server` fixture; `@pytest.mark.emqx(...)` sets one test
up (its own server where the edition, nodes or seed differ), and `--emqx-fresh` gives every
test a server of its own.

pytest imports this module in every run where the package is installed, so it imports nothing
but pytest and the standard library: the server, its schemas and Faker load when a test first
asks for a fake (`tests/test_plugin.py` pins it)."""

from __future__ import annotations

import argparse
import os
import traceback
import warnings
from typing import TYPE_CHECKING, Any, Generator, Mapping, NamedTuple

import pytest

if TYPE_CHECKING:
    from .scripting.journal import JournalEntry
    from .server import EmqxServer

#: `state.broker.EDITIONS`, `versions.VERSIONS` and `flavours.FLAVOUR_NAMES`, written out so
#: that reading the options imports no state.
_EDITIONS = ("ce", "ee")
_VERSIONS = ("5.8", "6.0", "6.1", "6.2", "6.3")
_FLAVOURS = ("v5", "v4", "cloud-v4", "cloud-v5", "platform")
_DEPLOYMENTS = ("dedicated", "serverless")  # flavours.DEPLOYMENTS, not imported: this module stays light
#: The marker options that seed, as the kinds of state register them (`state.registry.SEEDINGS`,
#: those with `marker=True`), written out for the marker's help text.
_SEEDED_OPTIONS = ("clients", "api_keys", "users", "retained", "apps", "auth_mnesia_users", "auth_mnesia_acl", "deployments", "platform_keys")
#: Marker options that need a server of the test's own.
_SERVER_OPTIONS = ("edition", "version", "nodes", "seed", "flavour", "https", "app", "deployment", "platform_key")


def _port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number, 0 for any free port, not {text!r}")
    return port


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emqx-mock", "fake EMQX server (pytest-emqx-mock)")
    group.addoption("--emqx-edition", choices=_EDITIONS, default=None, help="EMQX edition to emulate at 5.8: ce (default) or ee")
    group.addoption("--emqx-version", choices=_VERSIONS, default=None, help=f"EMQX version to emulate: {', '.join(_VERSIONS)} (default: 5.8)")
    group.addoption(
        "--emqx-flavour", default=None, help="the front doors to serve: v5 (default), v4, cloud-v4, cloud-v5, platform, or several separated by commas (v5,v4)"
    )
    group.addoption("--emqx-port", type=_port_number, default=None, help="port for the fake EMQX (default: any free port)")
    group.addoption(
        "--emqx-fresh", action="store_true", default=None, help="a new fake EMQX for every test instead of a reset one"
    )
    parser.addini("emqx_edition", "EMQX edition to emulate at 5.8: ce (default) or ee (6.x has one edition, the enterprise build)", default="")
    parser.addini("emqx_version", f"EMQX version to emulate: {', '.join(_VERSIONS)} (default: 5.8)", default="5.8")
    parser.addini("emqx_flavour", "the front doors to serve: v5 (default), v4, cloud-v4, cloud-v5, platform, or several separated by commas (v5,v4)", default="v5")
    parser.addini("emqx_port", "port for the fake EMQX (default: any free port)", default="0")
    # read as text and judged here: pytest's own "bool" ini type refuses a bad value (since 9.2,
    # before any plugin runs) without naming the option
    parser.addini("emqx_fresh", "a new fake EMQX for every test instead of a reset one (true or false)", default="false")
    parser.addini(
        "emqx_swagger_support",
        "serve the OpenAPI document and its page at /api-docs, as EMQX's dashboard.swagger_support (true or false)",
        default="true",
    )
    parser.addini(
        "emqx_https",
        "serve HTTPS with a certificate made at start (emqx_server.ca_file verifies it) (true or false)",
        default="false",
    )
    parser.addini(
        "emqx_app",
        "the application every reset starts with, as ID:SECRET: EMQX 4's default app (admin:public unless given), "
        "a Cloud deployment's App ID and App Secret (none unless given)",
        default="",
    )
    parser.addini("emqx_deployment", "a cloud-v5 deployment: dedicated (the whole EMQX 5 API, default) or serverless", default="dedicated")
    parser.addini("emqx_platform_key", "the EMQX Platform API key every reset starts with, as KEY:SECRET (none unless given)", default="")


class _Settings(NamedTuple):  # not a dataclass: making one would double this module's import time
    edition: str | None  # None: the version's (`versions.edition_at`)
    version: str
    flavour: str
    port: int
    fresh: bool
    swagger_support: bool
    https: bool
    app: tuple[str, str] | None
    deployment: str
    platform_key: tuple[str, str] | None


_SETTINGS: pytest.StashKey[_Settings] = pytest.StashKey()
_SESSION_SERVER: pytest.StashKey[EmqxServer] = pytest.StashKey()
#: The session server's requests to unserved paths from before the test (it is not reset for
#: every test): they were reported already.
_UNMATCHED_BEFORE: pytest.StashKey[list[JournalEntry]] = pytest.StashKey()
#: What the report of the test's call gets: (title, text).
_SECTIONS: pytest.StashKey[list[tuple[str, str]]] = pytest.StashKey()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"emqx(edition=None, version=None, nodes=None, seed=None, flavour=None, https=None, app=None, deployment=None, platform_key=None, scenario=None, {''.join(f'{name}=(), ' for name in _SEEDED_OPTIONS)}"
        "stubs=(), faults=()): set the fake EMQX of the test's emqx_server up (scenario: a scenario "
        "file, relative to the test's folder or the rootdir, the name of a packaged one, or a dict)",
    )
    config.stash[_SETTINGS] = _read_settings(config)


def _read_settings(config: pytest.Config) -> _Settings:
    """The options, checked once at start-up: a bad ini value is one usage error naming it."""
    edition = config.getoption("--emqx-edition") or config.getini("emqx_edition").strip() or None
    if edition not in (None, *_EDITIONS):
        raise pytest.UsageError(f"emqx_edition must be one of {', '.join(_EDITIONS)}, not {edition!r}")
    version = config.getoption("--emqx-version") or config.getini("emqx_version").strip()
    if version not in _VERSIONS:
        raise pytest.UsageError(f"emqx_version must be one of {', '.join(_VERSIONS)}, not {version!r}")
    if edition == "ce" and version != "5.8":
        raise pytest.UsageError(f"emqx_edition ce applies to EMQX 5.8 only: EMQX {version} has one edition, the enterprise build")
    flavour = config.getoption("--emqx-flavour") or config.getini("emqx_flavour")
    names = [name.strip() for name in flavour.split(",")]
    if not names or any(name not in _FLAVOURS for name in names) or len(set(names)) != len(names):
        raise pytest.UsageError(f"emqx_flavour must name each of its flavours once, of {', '.join(_FLAVOURS)}, not {flavour!r}")
    port = config.getoption("--emqx-port")
    if port is None:
        try:
            port = _port_number(config.getini("emqx_port"))
        except argparse.ArgumentTypeError as error:
            raise pytest.UsageError(f"emqx_port {error}") from None
    fresh = config.getoption("--emqx-fresh") or _truth("emqx_fresh", config.getini("emqx_fresh"))
    swagger_support = _truth("emqx_swagger_support", config.getini("emqx_swagger_support"))
    https = _truth("emqx_https", config.getini("emqx_https"))
    app = _pair(config, "emqx_app", "ID:SECRET")
    platform_key = _pair(config, "emqx_platform_key", "KEY:SECRET")
    deployment = config.getini("emqx_deployment").strip()
    if deployment not in _DEPLOYMENTS:
        raise pytest.UsageError(f"emqx_deployment must be one of {', '.join(_DEPLOYMENTS)}, not {deployment!r}")
    return _Settings(edition, version, flavour, port, fresh, swagger_support, https, app, deployment, platform_key)


def _pair(config: pytest.Config, option: str, form: str) -> tuple[str, str] | None:
    """A credential ini setting, `ID:SECRET`; None when unset."""
    name, colon, secret = config.getini(option).strip().partition(":")
    if name and not (colon and secret):
        raise pytest.UsageError(f"{option} must be {form}, not {config.getini(option)!r}")
    return (name, secret) if name else None


#: The words pytest's "bool" ini values take (`_pytest.config._strtobool`).
_TRUTHS = {"y": True, "yes": True, "t": True, "true": True, "on": True, "1": True,
           "n": False, "no": False, "f": False, "false": False, "off": False, "0": False}  # fmt: skip


def _truth(option: str, value: str) -> bool:
    try:
        return _TRUTHS[value.strip().lower()]
    except KeyError:
        raise pytest.UsageError(f"{option} must be true or false: invalid truth value {value!r}") from None


def _port(config: pytest.Config) -> int:
    port = config.stash[_SETTINGS].port
    # xdist's own record, not $PYTEST_XDIST_WORKER: a pytest run started from a worker inherits that
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    if port and worker.startswith("gw"):
        port += int(worker[2:])  # each xdist worker needs a port of its own
    return port


@pytest.fixture(scope="session")
def emqx_session_server(request: pytest.FixtureRequest) -> Generator[EmqxServer, None, None]:
    """The session's fake EMQX, started once; most tests want `emqx_server` instead."""
    from .server import EmqxServer, PortInUse

    config = request.config
    settings = config.stash[_SETTINGS]
    server = EmqxServer(
        edition=settings.edition,
        version=settings.version,
        flavour=settings.flavour,
        port=_port(config),
        swagger_support=settings.swagger_support,
        https=settings.https or None,  # unset: a flavour with HTTPS only still gets it
        app=settings.app,
        deployment=settings.deployment,
        platform_key=settings.platform_key,
    )
    try:
        server.start()
    except PortInUse as error:
        # Every test would fail alike: this one errors with one line, and the run stops after
        # it (`shouldstop`, which xdist's workers pass on; `pytest.exit` would crash them).
        message = f"fake EMQX: {error.strerror} (--emqx-port, emqx_port): choose another, or 0 for any free port"
        request.session.shouldstop = message
        raise pytest.fail.Exception(message, pytrace=False) from None
    config.stash[_SESSION_SERVER] = server
    try:
        yield server
    finally:
        del config.stash[_SESSION_SERVER]
        server.stop()


@pytest.fixture
def emqx_server(request: pytest.FixtureRequest, emqx_session_server: EmqxServer) -> Generator[EmqxServer, None, None]:
    """The fake EMQX in its initial state: the ready administrator API key
    (`emqx_server.auth`), the dashboard user admin/public, one node, no clients; then what the
    test's `@pytest.mark.emqx(...)` asks for."""
    from .scripting.scenario import locate
    from .server import EmqxServer
    from .state.fields import SeedError
    from .versions import checked_version, edition_at, has_editions

    positional = [arg for mark in request.node.iter_markers("emqx") for arg in mark.args]
    if positional:
        raise pytest.UsageError(
            f"{request.node.nodeid}: @pytest.mark.emqx takes keyword options only "
            f"(such as scenario=...), not {', '.join(map(repr, positional))}"
        )
    marker = request.node.get_closest_marker("emqx")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - {*_SERVER_OPTIONS, "scenario", *_seeded(), "stubs", "faults"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.emqx has no option {', '.join(sorted(unknown))}")
    if "scenario" in options and not isinstance(options["scenario"], Mapping):
        if not isinstance(options["scenario"], (str, os.PathLike)):
            raise _usage_error("scenario", "a scenario file's path, a packaged scenario's name or an object", options["scenario"])
        options["scenario"] = locate(options["scenario"], (request.node.path.parent, request.config.rootpath))
    own = {name: options[name] for name in _SERVER_OPTIONS if name in options}
    if "scenario" in options and "flavour" not in own:
        _take_the_scenario_s_doors(own, options["scenario"], emqx_session_server, request.config.stash[_SETTINGS].fresh)
    if own or request.config.stash[_SETTINGS].fresh:
        version = own.setdefault("version", emqx_session_server.version)
        try:  # the session's edition is for a line with editions (5.8): 6.x has its one
            session_edition = request.config.stash[_SETTINGS].edition if has_editions(checked_version(version)) else None
            own["edition"] = edition_at(version, own.get("edition", session_edition))
        except ValueError as error:  # `no EMQX version '7': one of 5.8, ...`
            raise pytest.UsageError(f"@pytest.mark.emqx {error}") from None
        own.setdefault("flavour", request.config.stash[_SETTINGS].flavour)
        own.setdefault("https", request.config.stash[_SETTINGS].https or None)
        own.setdefault("app", request.config.stash[_SETTINGS].app)
        own.setdefault("deployment", request.config.stash[_SETTINGS].deployment)
        own.setdefault("platform_key", request.config.stash[_SETTINGS].platform_key)
        own["swagger_support"] = request.config.stash[_SETTINGS].swagger_support
        try:
            server = EmqxServer(**own)
        except SeedError as error:  # `nodes[0]: must be a node name (name@host), not "bad"`
            raise pytest.UsageError(f"@pytest.mark.emqx {error}") from None
        except ValueError as error:  # `no flavour 'v3': one of v5, v4`
            raise pytest.UsageError(f"@pytest.mark.emqx flavour: {error}") from None
        with server:
            _set_up(server, options)
            yield server
        return
    emqx_session_server.reset()
    _set_up(emqx_session_server, options)
    yield emqx_session_server


def _take_the_scenario_s_doors(own: dict[str, Any], source: Any, session: EmqxServer, fresh: bool) -> None:
    """A scenario's `flavour` (and `deployment`) pick the doors of the server the marker
    starts, when the session server does not serve them (or every test gets its own)."""
    from .scripting import scenario

    wanted = scenario.doors(*scenario.read(source))
    if wanted is None or (not fresh and session.serves(wanted.flavours, own.get("deployment", wanted.deployment))):
        return
    own["flavour"] = list(wanted.flavours)
    own.setdefault("deployment", wanted.deployment)


def _usage_error(option: str, expected: str, value: Any) -> pytest.UsageError:
    """A marker option's bad value, in the words of the seeding vocabulary's checks."""
    from .state.fields import must

    return pytest.UsageError(f"@pytest.mark.emqx {option}: {must(expected, value).problem}")


def _seeded() -> dict[str, Any]:
    """The marker options that seed, with their registrations (`state.kinds`)."""
    from .state import registry

    return {name: seeding for name, seeding in registry.SEEDINGS.items() if seeding.marker}


def _set_up(server: EmqxServer, options: Mapping[str, Any]) -> None:
    """Load the marker's scenario (a file, its path found by `scripting.scenario.locate`, or a
    dict), then seed what the marker lists: clients (client ids, or `add_client` keyword dicts;
    with `count`, `add_clients`),
    API keys (names or `add_api_key` dicts), users (`add_user` dicts), retained messages
    (`add_retained` dicts), stubs (descriptions for `Stubs.add`: `{"request": "GET /rules",
    "json": []}`, a callable as `handler`) and faults (descriptions for `Faults.add`:
    `{"error": spec, "status": 503, "code": "SERVICE_UNAVAILABLE"}`, `{"node_down": "emqx@n2"}`...)."""
    from .state.errors import ModelError
    from .state.fields import Problem, SeedError

    if "scenario" in options:
        server.load_scenario(options["scenario"])
    for name, seeding in _seeded().items():
        for index, item in enumerate(_each(name, options.get(name, ()))):
            try:
                seeding.apply(server, seeding.fields_of(item))
            except (Problem, SeedError, ModelError) as error:  # placed as a scenario places it: `clients[0].usrname`
                problem, segments = (error.problem, error.segments) if isinstance(error, (Problem, SeedError)) else (str(error), [])
                raise pytest.UsageError(f"@pytest.mark.emqx {Problem(problem, name, index, *segments).path}: {problem}") from None
    for kind, rules in (("stub", server.stubs), ("fault", server.faults)):
        for description in _each(f"{kind}s", options.get(f"{kind}s", ())):
            try:
                rules.add(description)
            except ValueError as error:
                raise pytest.UsageError(f"@pytest.mark.emqx {kind} {description}: {error}") from None


def _each(option: str, items: Any) -> list[Any]:
    """A listing option's items: a list of them, or one (a string or an object) on its own."""
    if isinstance(items, (str, Mapping)):
        return [items]
    if not isinstance(items, (list, tuple)):
        raise _usage_error(option, "a list", items)
    return list(items)


class UnmatchedRequestWarning(UserWarning):
    """A test sent requests to paths the fake does not serve (it answered 404)."""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Refuse a marker that cannot be honoured, and note the session server's requests so far."""
    fixtures = getattr(item, "fixturenames", ())
    if "emqx_server" not in fixtures and any(own.name == "emqx" for own in item.own_markers):
        # A marker on a module or class sets up the tests in it that use `emqx_server`: the
        # others are left alone; one on the test itself asks for what cannot be done.
        uses = "only emqx_session_server, which no marker changes" if "emqx_session_server" in fixtures else "no fake EMQX"
        pytest.fail(
            f"{item.nodeid}: @pytest.mark.emqx sets up the emqx_server fixture, but this test uses {uses}: "
            "ask for emqx_server, or remove the marker",
            pytrace=False,
        )
    session_server = item.config.stash.get(_SESSION_SERVER, None)
    if session_server is not None and "emqx_session_server" in fixtures:
        item.stash[_UNMATCHED_BEFORE] = session_server.unmatched_requests()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Whatever the test's outcome, report what went wrong inside its fakes: when the body
    passed, fail it with the first exception the fake raised (and its traceback), or for
    expected faults that never triggered; add every exception's full traceback to the report; report requests to paths the fake does not serve, with the failure of a
    failing test, as a warning otherwise."""
    __tracebackhide__ = True  # the failure is the fake's, not the plugin's
    try:
        result = yield
    except BaseException:
        _diagnose(item, passed=False)
        raise
    _diagnose(item, passed=True)
    return result


def _diagnose(item: pytest.Item, passed: bool) -> None:
    __tracebackhide__ = True
    fakes = _fakes(item)
    if not fakes:
        return
    from .server import FakeServerError

    errors = [error for fake in fakes for error in fake.take_errors()]
    before = {id(entry) for entry in item.stash.get(_UNMATCHED_BEFORE, [])}
    unmatched = [entry for fake in fakes for entry in fake.unmatched_requests() if id(entry) not in before]
    sections = item.stash.setdefault(_SECTIONS, [])
    if errors:  # whole, here too: pytest trims a failure's traceback from the test file's last frame
        tracebacks = "\n".join("".join(traceback.format_exception(type(error), error, error.__traceback__)) for error in errors)
        sections.append(("fake EMQX errors", tracebacks))
    if unmatched:
        listing = ", ".join(f"{entry.method} {entry.path}" for entry in unmatched)
        if passed and not errors:
            warnings.warn(UnmatchedRequestWarning(f"requests to paths the fake EMQX does not serve: {listing}"), stacklevel=1)
        else:
            sections.append(("requests to paths the fake EMQX does not serve", listing))
    if not passed:
        return
    if errors:
        raise FakeServerError.about(errors)
    # Only `emqx_server` is reset for each test: faults expected on the session server may be
    # meant for a later test.
    emqx_server = getattr(item, "funcargs", {}).get("emqx_server")
    if emqx_server in fakes:
        emqx_server.check_expectations()


def _fakes(item: pytest.Item) -> list[EmqxServer]:
    """The fakes the test used (its own `emqx_server` and the session's, or the one both are)."""
    funcargs = getattr(item, "funcargs", {})
    used = [funcargs[name] for name in ("emqx_server", "emqx_session_server") if name in funcargs]
    if not used:
        return []
    from .server import EmqxServer

    return [fake for index, fake in enumerate(used) if isinstance(fake, EmqxServer) and fake not in used[:index]]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    sections = item.stash.get(_SECTIONS, None) if call.when == "call" else None
    if sections:
        report.sections.extend(sections)
    return report
