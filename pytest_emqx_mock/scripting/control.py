"""The control API: the handle's seeding, faults, journal, snapshot and reset over HTTP under
`/_mock`, so a test suite in any language (or a developer with curl) can drive a standalone
fake. It sits in front of the EMQX app and passes it every other request.

Control requests are not EMQX requests: they need no credentials, are not journaled and meet
no faults or stubs. JSON in, JSON out; an answer with nothing to say is 204. Errors are
`{"code", "message"}`: 400 for bad input, 404 for an unknown path or id, 405 for a wrong method,
409 when a journal verification does not hold.
"""

from __future__ import annotations

import inspect
import json
import re
import traceback
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Callable, Iterable

import yaml
from werkzeug import Request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as NoRoute
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule

from ..erlang.nesting import check_json, check_yaml
from ..flavours.v5 import schemas
from ..flavours.v5.endpoints.alarms import alarm_view
from ..flavours.v5.endpoints.api_keys import key_view
from ..flavours.v5.endpoints.authorization import source_view
from ..flavours.v5.endpoints.clients import client_row
from ..flavours.v5.endpoints.dashboard import user_view
from ..flavours.v5.endpoints.retainer import message_detail
from ..http.app import WsgiApp
from ..http.replies import encode
from ..http.routing import Call
from ..state import registry
from ..state.access import ApiKey, DashboardUser
from ..state.apps import App
from ..state.authn import Authenticator, BuiltinUser
from ..state.authz import Decision, Source
from ..state.banned import Ban
from ..state.broker import Broker, Published
from ..state.clock import now
from ..state.cluster import Alarm, Node
from ..state.errors import NotFound
from ..state.fields import SeedError
from ..state.platform import Deployment, PlatformKey
from ..state.sessions import Message, Session
from . import scenario
from .faults import Faults
from .journal import JournalEntry
from .matching import RequestMatcher
from .stubs import Stubs

if TYPE_CHECKING:
    from ..server import EmqxServer

PREFIX = "/_mock"

#: `POST /_mock/seed/<kind>`: the handle's method each kind calls, with the body as its keyword
#: arguments (the kinds of state register them and their vocabularies, `state.kinds`).
#: `{"count": N, ...}` on clients calls `add_clients` (`Seeding.many`).
SEEDING = {name: seeding.method for name, seeding in registry.SEEDINGS.items()}

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
_VERIFY_FIELDS = {"request", "times", "at_least", "at_most", "never", "body", "query", "credential", "in_order"}



class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message}
        self.headers = headers or {}


def _bad_request(message: str) -> ControlError:
    return ControlError(400, "BAD_REQUEST", message)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _body(request: Request, *, yaml_allowed: bool = False) -> Any:
    """The request body decoded: JSON whatever the content type (curl's `-d` sends a form
    type), YAML where allowed and declared."""
    data = request.get_data()
    if not data:
        raise _bad_request("a body is required")
    is_yaml = yaml_allowed and request.mimetype in _YAML_TYPES
    try:
        (check_yaml if is_yaml else check_json)(data)  # before any recursive walk: see `nesting`
        return yaml.safe_load(data) if is_yaml else json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, yaml.YAMLError) as error:
        raise _bad_request(f"the body is not valid {'YAML' if is_yaml else 'JSON'}: {error}") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad_request(f"{what} must be an object")
    return value


def _objects(body: Any, what: str) -> list[dict[str, Any]]:
    """A body that is one object, or a list of them (a bad item of several named by its index,
    as the list's other refusals name it)."""
    items = body if isinstance(body, list) else [body]
    if not items or (len(items) == 1 and not isinstance(items[0], dict)):
        raise _bad_request(f"the body must be {what} (an object), or a list of them")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad_request(f"item {index}: {what} must be an object")
    return items


def _count(value: Any, name: str) -> Any:
    """`value`, unless it is given and not a count (an integer >= 0)."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise _bad_request(f"{name} must be an integer >= 0")
    return value


# -- what the handle's methods return, shown as EMQX shows it ----------------------------

#: The EMQX view of each seeded object, and the schema definition that view must meet.
_VIEWS: dict[type, tuple[str, Callable[[Call, Any], Any]]] = {
    Session: ("client", lambda call, session: client_row(session, call.broker.config.serverless)),
    ApiKey: ("api_key_with_secret", lambda call, key: {**key_view(call, key), "api_secret": key.api_secret}),
    DashboardUser: ("dashboard_user", user_view),
    Message: ("retained_message", lambda call, message: message_detail(message)),
    Ban: ("ban", lambda call, ban: ban.view()),
    Alarm: ("alarm", lambda call, alarm: alarm_view(alarm, round(now() * 1_000_000))),
    Authenticator: ("authenticator", lambda call, authenticator: authenticator.view()),
    BuiltinUser: ("authn_user", lambda call, user: user.view()),
    Source: ("authz_source", lambda call, source: source_view(source)),
}


def _show(call: Call, value: Any, check: bool = False) -> Any:
    """`value` as JSON; with `check`, each object's view must meet its EMQX schema (what the
    EMQX API would show of it later), else ResponseSchemaError."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_show(call, item, check) for item in value]
    if isinstance(value, Published):
        message = _show(call, value.message, check)
        return {"message": message, "matched": value.matched, "delivered": value.delivered, "failed": value.failed}
    if isinstance(value, Node):
        return {"node": value.name, "node_status": value.status, "role": value.role}
    if isinstance(value, Decision):
        return {"result": value.result, "from_cache": value.from_cache}
    if isinstance(value, (App, PlatformKey)):  # views no API of the fake serves: as a scenario writes them
        return value.document()
    if isinstance(value, Deployment):
        return value.view(now())  # as the Platform API lists it
    ref, view = _VIEWS[type(value)]
    shown = view(call, value)
    if check:
        call.catalog.fragment(ref, shown)
    return shown


def _seeding_error(error: Exception, index: int | None) -> ControlError:
    """A seeding call's refusal; `index`: its place in a list of calls."""
    message = str(error) if index is None else f"item {index}: {error}"
    return ControlError(404, "NOT_FOUND", message) if isinstance(error, NotFound) else _bad_request(message)


#: Journal fields the control API leaves out: the raw response (shown decoded) and the mount
#: (`path` is the real path already).
_UNSHOWN = ("response_body", "mount")


def _entry_json(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as JSON: its fields, the response decoded."""
    shown = {item.name: getattr(entry, item.name) for item in fields(entry) if item.name not in _UNSHOWN}
    shown["response"] = entry.response
    return shown


# -- the WSGI layer ------------------------------------------------------------------------


#: The endpoints, each named by the ControlApi method that serves it.
_URLS = Map(
    [
        Rule(PREFIX, methods=["GET"], endpoint="index"),
        Rule(f"{PREFIX}/reset", methods=["POST"], endpoint="reset"),
        Rule(f"{PREFIX}/seed/<kind>", methods=["POST"], endpoint="seed"),
        Rule(f"{PREFIX}/clients/<path:clientid>", methods=["GET"], endpoint="client"),
        Rule(f"{PREFIX}/faults", methods=["GET"], endpoint="faults"),
        Rule(f"{PREFIX}/faults", methods=["POST"], endpoint="add_faults"),
        Rule(f"{PREFIX}/faults", methods=["DELETE"], endpoint="clear_faults"),
        Rule(f"{PREFIX}/faults/<int:fault_id>", methods=["DELETE"], endpoint="remove_fault"),
        Rule(f"{PREFIX}/stubs", methods=["GET"], endpoint="stubs"),
        Rule(f"{PREFIX}/stubs", methods=["POST"], endpoint="add_stubs"),
        Rule(f"{PREFIX}/stubs", methods=["DELETE"], endpoint="clear_stubs"),
        Rule(f"{PREFIX}/stubs/<int:stub_id>", methods=["DELETE"], endpoint="remove_stub"),
        Rule(f"{PREFIX}/journal", methods=["GET"], endpoint="journal"),
        Rule(f"{PREFIX}/journal", methods=["DELETE"], endpoint="clear_journal"),
        Rule(f"{PREFIX}/journal/verify", methods=["POST"], endpoint="verify"),
        Rule(f"{PREFIX}/snapshot", methods=["GET"], endpoint="snapshot"),
        Rule(f"{PREFIX}/snapshot", methods=["PUT"], endpoint="restore"),
        Rule(f"{PREFIX}/scenario", methods=["POST"], endpoint="scenario"),
    ],
    merge_slashes=False,  # `/_mock//reset` is unknown, not a redirect
)


class ControlApi:
    """`/_mock/...` served here, every other request passed to `emqx` (the EMQX app)."""

    def __init__(self, server: EmqxServer, emqx: WsgiApp, on_error: Callable[[BaseException], None] | None = None) -> None:
        self.server = server
        self.emqx = emqx
        self.on_error = on_error

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith(PREFIX):  # the one check EMQX requests pay for
            return self._serve(environ, start_response)
        return self.emqx(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.emqx(environ, start_response)  # `/_mockery` is an EMQX path
        request = Request(environ)
        status, body, headers = self._answer(request)
        payload = b"" if status == 204 else encode(body)
        headers = {**headers, "content-length": str(len(payload))}
        if payload:
            headers["content-type"] = "application/json"
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}", list(headers.items()))
        return [payload]

    def _answer(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        try:
            endpoint, arguments = _URLS.bind_to_environ(request.environ).match()
            result = getattr(self, endpoint)(request, **arguments)
        except ControlError as error:
            return error.status, error.body, error.headers
        except NoRoute:
            return 404, {"code": "NOT_FOUND", "message": f"no control endpoint {request.path}; GET {PREFIX} lists them"}, {}
        except MethodNotAllowed as error:
            allowed = ", ".join(sorted(error.valid_methods or ()))
            body = {"code": "METHOD_NOT_ALLOWED", "message": f"{request.method} {request.path}: allowed {allowed}"}
            return 405, body, {"allow": allowed}
        except NotFound as error:
            return 404, {"code": "NOT_FOUND", "message": str(error)}, {}
        except (ValueError, TypeError) as error:  # the Python API refusing its arguments
            return 400, {"code": "BAD_REQUEST", "message": str(error)}, {}
        except Exception as error:  # a bug in the fake
            if self.on_error is not None:
                self.on_error(error)
            text = "".join(traceback.format_exception_only(type(error), error)).strip()
            return 500, {"code": "INTERNAL_ERROR", "message": text}, {}
        return (204, None, {}) if result is None else (200, result, {})

    def _call(self, broker: Broker, request: Request) -> Call:
        """What the EMQX API's view functions are given (they read the edition from it)."""
        return Call(broker, schemas(broker.edition), {}, {}, None, None, request)

    # -- endpoints (their docstrings' first lines are the index) ---------------------------

    def index(self, request: Request) -> dict[str, Any]:
        """This list of the control endpoints."""
        endpoints = []
        for rule in _URLS.iter_rules():
            doc = inspect.getdoc(getattr(self, str(rule.endpoint))) or ""
            for method in sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}):
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
                endpoints.append({"method": method, "path": path, "description": doc.splitlines()[0]})
        config = self.server.broker.config
        kinds = {name: seeding.describe(config) for name, seeding in registry.SEEDINGS.items()}
        return {"endpoints": endpoints, "seed_kinds": kinds}

    def reset(self, request: Request) -> None:
        """Back to the initial state: no clients, no faults, no stubs, an empty journal."""
        self.server.reset()

    def seed(self, request: Request, kind: str) -> Any:
        """Seed: the body is the keyword arguments of the handle's method for {kind}, or a list of them."""
        if kind not in SEEDING:
            raise ControlError(404, "NOT_FOUND", f"no seeding kind {kind!r}; one of {', '.join(SEEDING)}")
        body = _body(request)
        calls = _objects(body, "keyword arguments")
        several = len(calls) > 1
        broker = self.server.broker
        with broker.lock:  # a list is seen, and applied, whole
            back = self._checked_whole(kind, calls) if several else None
            results = []
            for index, arguments in enumerate(calls):
                try:
                    results.append(registry.SEEDINGS[kind].apply(self.server, arguments))
                except (NotFound, ValueError) as error:  # the call refused before it changed anything
                    if back is not None:  # and its list goes back to where it began
                        back()
                    raise _seeding_error(error, index if several else None) from None
            return _show(self._call(broker, request), results if isinstance(body, list) else results[0])

    def _checked_whole(self, kind: str, calls: list[dict[str, Any]]) -> Callable[[], None]:
        """A list's every call checked by the kind's vocabulary before any is made, then a
        way back for a refusal that only the state can give part-way (a ban, a name taken, a
        client that is not there). One call needs neither: each refuses before it changes
        anything."""
        seeding = registry.SEEDINGS[kind]
        config = self.server.broker.config
        for index, arguments in enumerate(calls):
            try:
                seeding.check(config, arguments)
            except SeedError as error:
                raise _seeding_error(error, index) from None
        return scenario.checkpoint(self.server.broker)

    def _scratch(self) -> EmqxServer:
        """A fresh fake like this one: its edition and version, its nodes (a scenario may have changed
        them), its bootstrap API keys."""
        broker = self.server.broker
        with broker.lock:
            nodes = tuple(broker.nodes)
        return type(self.server)(
            edition=broker.edition,
            version=broker.config.version,
            nodes=nodes,
            bootstrap_api_keys=broker.config.bootstrap_api_keys,
            admin_api_key=None,
            control_api=False,
        )

    def client(self, request: Request, clientid: str) -> Any:
        """One client session as the EMQX API shows it."""
        with self.server.broker.lock:
            return _show(self._call(self.server.broker, request), self.server.client(clientid))

    def faults(self, request: Request) -> list[dict[str, Any]]:
        """The faults set, in the order they apply."""
        return [fault.as_json() for fault in self.server.faults]

    def add_faults(self, request: Request) -> Any:
        """Set a fault (a description as the marker takes), or a list of them."""
        _, faults = self.server.app.trial(self._scratch().broker)  # a cluster fault changes the scratch nodes
        return self._add_all(request, "a fault description", faults, self.server.faults)

    def _add_all(self, request: Request, what: str, trial: Faults | Stubs, real: Faults | Stubs) -> Any:
        """Set the body's descriptions (one, or a list) on `real` once `trial` took them all:
        a bad one sets none of them."""
        body = _body(request)
        descriptions = _objects(body, what)
        for index, description in enumerate(descriptions):
            try:
                trial.add(description)
            except ValueError as error:
                raise _bad_request(f"item {index}: {error}" if len(descriptions) > 1 else str(error)) from None
        added = [real.add(description).as_json() for description in descriptions]
        return added if isinstance(body, list) else added[0]

    def clear_faults(self, request: Request) -> None:
        """Remove every fault."""
        self.server.faults.clear()

    def remove_fault(self, request: Request, fault_id: int) -> None:
        """Remove one fault by its id."""
        if not self.server.faults.remove(fault_id):
            raise ControlError(404, "NOT_FOUND", f"no fault {fault_id}")

    def stubs(self, request: Request) -> list[dict[str, Any]]:
        """The stubs set, in the order they apply."""
        return [stub.as_json() for stub in self.server.stubs]

    def add_stubs(self, request: Request) -> Any:
        """Set a stub ({"request": "GET /rules", "json": [...]}, as the marker takes), or a list of them."""
        return self._add_all(request, "a stub description", self.server.stubs.copy(), self.server.stubs)

    def clear_stubs(self, request: Request) -> None:
        """Remove every stub."""
        self.server.stubs.clear()

    def remove_stub(self, request: Request, stub_id: int) -> None:
        """Remove one stub by its id."""
        if not self.server.stubs.remove(stub_id):
            raise ControlError(404, "NOT_FOUND", f"no stub {stub_id}")

    def journal(self, request: Request) -> list[dict[str, Any]]:
        """The recorded EMQX requests, oldest first; ?request= and ?credential= filter them."""
        unknown = set(request.args) - {"request", "credential"}
        if unknown:
            raise _bad_request(f"unknown query parameter {', '.join(sorted(unknown))}")
        entries = self.server.journal.requests(request.args.get("request"), credential=request.args.get("credential"))
        return [_entry_json(entry) for entry in entries]

    def clear_journal(self, request: Request) -> None:
        """Forget the recorded requests."""
        self.server.journal.clear()

    def verify(self, request: Request) -> Any:
        """Assert on the journal: {"request", "times" | "at_least" | "at_most" | "never"} or {"in_order": [...]}."""
        criteria = _object(_body(request), "a verification")
        unknown = set(criteria) - _VERIFY_FIELDS
        if unknown:
            raise _bad_request(f"unknown field {', '.join(sorted(unknown))}")
        journal = self.server.journal
        try:
            if "in_order" in criteria:
                return self._verify_order(criteria)
            if "request" not in criteria:
                raise _bad_request("request is required: the request to look for")
            times, at_least, at_most = (_count(criteria.get(name), name) for name in ("times", "at_least", "at_most"))
            never = criteria.get("never", False)
            if not isinstance(never, bool):
                raise _bad_request("never must be true or false")
            if sum((times is not None, never, at_least is not None or at_most is not None)) > 1:
                raise _bad_request("times, never and at_least/at_most exclude each other")
            matcher = RequestMatcher.parse(criteria["request"], **{name: criteria.get(name) for name in ("body", "query", "credential")})
            found = journal.assert_called(matcher, times=0 if never else times, at_least=at_least, at_most=at_most)
        except AssertionError as error:
            raise ControlError(409, "VERIFICATION_FAILED", str(error)) from None
        return [_entry_json(entry) for entry in found]

    def _verify_order(self, criteria: dict[str, Any]) -> None:
        specs = criteria["in_order"]
        if set(criteria) != {"in_order"}:
            raise _bad_request("in_order goes alone")
        if not isinstance(specs, list) or not specs:
            raise _bad_request("in_order must be a list of requests")
        self.server.journal.assert_called_in_order(*(RequestMatcher.parse(spec) for spec in specs))

    def snapshot(self, request: Request) -> Any:
        """The whole state as JSON, for PUT /_mock/snapshot to restore."""
        return self.server.snapshot()

    def restore(self, request: Request) -> None:
        """Restore a snapshot taken with GET /_mock/snapshot."""
        self.server.restore(_object(_body(request), "a snapshot"))

    def scenario(self, request: Request) -> None:
        """Load a scenario: JSON, or YAML with content-type application/yaml."""
        self.server.load_scenario(_object(_body(request, yaml_allowed=True), "a scenario"))
