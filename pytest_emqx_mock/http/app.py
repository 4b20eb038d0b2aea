"""The WSGI application: one request pipeline in EMQX's own order (minirest_handler:handle/2),
the same for every flavour mounted, each stage asking the request's flavour (`http.flavour`).

route and method (404/405) → authentication (401/403) → body decoding (400/415) → fault →
stub → parameter and body checks (400) → handler (under the state lock) → response validation →
journal.

A stub answers in place of the handler; on a path or method no route serves, a stub (met by a
fault first, as an operation is) answers in place of the 404/405, needing no credentials and
meeting no checks: those are the operation's, and there is none. Valid credentials such a
request carries are still identified (refusing nothing), for a stub's `credential=` and the
journal.
"""

from __future__ import annotations

import difflib
import time
import traceback
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from werkzeug import Request
from werkzeug.http import HTTP_STATUS_CODES

from ..scripting.faults import (
    TRICKLE_PIECES,
    Fault,
    Faults,
    break_connection,
    cut_connection,
)
from ..scripting.journal import Journal, JournalEntry
from ..scripting.matching import RequestMatcher, template_pattern, template_shape
from ..scripting.stubs import Stub, StubRequest, Stubs
from ..state.broker import Broker
from ..state.errors import ModelError
from .flavour import Flavour, FlavourFactory
from .principal import Principal
from .replies import ApiError, RawReply, Reply, encode
from .routing import Call, Route, Router, normalized_path, raw_path, split_path

ErrorSink = Callable[[BaseException], None]
#: A WSGI application, as the layers around the app (control API, CORS, request log) wrap it.
WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def _routes_to(route_path: str, path: str) -> bool:
    """A path as written (decoded, as the journal's) may be one routed to `route_path`: each
    parameter holds one or more characters, an escaped `/` included."""
    return template_pattern(route_path, ".+").fullmatch(path) is not None


#: How a test makes a path answerable, from each place it may set a stub.
_STUB_WAYS = 'emqx_server.stub(...), a "stubs" entry in the marker or a scenario, or POST /_mock/stubs'


def _closest(path: str, served: Iterable[str]) -> list[str]:
    """The (up to 3) served paths closest to `path`, compared segment by segment: as many
    segments, each the same, a parameter on either side, or a near spelling (difflib's ratio
    0.75 or more: `/clientz` finds `/clients`, `/rules` finds no `/users`); the path itself,
    served for other methods, excluded."""
    mine = path.strip("/").split("/")
    scored: list[tuple[float, str]] = []
    for candidate in served:
        theirs = candidate.strip("/").split("/")
        if len(theirs) != len(mine):
            continue
        ratios = [1.0 if a == b or "{" in a or "{" in b else difflib.SequenceMatcher(None, a, b).ratio() for a, b in zip(mine, theirs)]
        if 0.75 <= min(ratios) < 1.0:
            scored.append((sum(ratios), candidate))
    return [candidate for _, candidate in sorted(scored, key=lambda item: -item[0])[:3]]


def _joined(words: Sequence[str]) -> str:
    """`A`, `A and B`, `A, B and C`."""
    return f"{', '.join(words[:-1])} and {words[-1]}" if len(words) > 1 else words[0]


class Endpoint(NamedTuple):
    """What a path and method lead to: an operation of a mounted flavour."""

    flavour: Flavour
    route: Route


def _served(flavours: Sequence[Flavour]) -> Iterator[tuple[str, str, Endpoint]]:
    """Every route of the mounted flavours; an un-prefixed path that two of them serve (EMQX 5's
    and EMQX 4's `/status`, on different ports in EMQX) is the first one's."""
    absolute: set[tuple[str, str]] = set()
    for flavour in flavours:
        for route in flavour.routes:
            path = route.path_under(flavour.prefix)
            if route.absolute:
                if (route.method, path) in absolute:
                    continue
                absolute.add((route.method, path))
            yield route.method, path, Endpoint(flavour, route)


def _probe(request: Request, flavour: Flavour, route: Route | None, principal: Principal | None, body: Any) -> JournalEntry:
    """The request as a fault's or stub's matcher sees it: what the journal will record,
    unanswered, but on the path it was routed on (a fault on `/publish` meets `/./%70ublish` too)."""
    return JournalEntry(
        method=request.method,
        path=normalized_path(raw_path(request.environ)),
        query={key: request.args.getlist(key) for key in request.args},
        headers={},
        body=body,
        credential=str(principal) if principal else None,
        status=0,
        response_body=b"",
        operation=route.key if route is not None else None,
        mount=flavour.prefix,
    )


def _stub_request(request: Request, exchange: _Exchange) -> Callable[[], StubRequest]:
    """What a stub's callable is given, made only for one that has a callable."""
    return lambda: StubRequest(
        method=request.method,
        path=request.path,
        query={key: request.args.getlist(key) for key in request.args},
        headers=dict(request.headers),
        body=exchange.body,
        data=request.get_data(cache=True),
        credential=str(exchange.principal) if exchange.principal else None,
    )


def _segments(prefix: str) -> list[str]:
    return [part for part in prefix.split("/") if part]  # a prefix as written: no dot segment, no escape


def _trickle(payload: bytes, seconds: float) -> Iterator[bytes]:
    """The body in pieces spread over `seconds`: the headers and the first piece at once (the
    server sends headers with the first piece), each next one after an equal pause."""
    size = max(1, -(-len(payload) // TRICKLE_PIECES))
    starts = range(0, len(payload), size)
    if len(starts) < 2:  # nothing to spread: wait, then send it whole
        time.sleep(seconds)
        yield payload
        return
    for start in starts:
        if start:
            time.sleep(seconds / (len(starts) - 1))
        yield payload[start : start + size]


class _Exchange:
    """One request's way through the stages, as the journal records it."""

    __slots__ = ("flavour", "route", "principal", "body", "fault", "stub")

    def __init__(self, flavour: Flavour) -> None:
        self.flavour = flavour  # the flavour answering: the route's, else the door the path is under
        self.route: Route | None = None
        self.principal: Principal | None = None
        self.body: Any = None
        self.fault: Fault | None = None
        self.stub: Stub | None = None


class EmqxApp:
    """The operations of the mounted flavours over one state. A path that no route serves is
    answered by the flavour whose prefix it is under (the longest), else by the first one."""

    def __init__(
        self,
        broker: Broker,
        *,
        flavours: Sequence[FlavourFactory],
        journal: Journal | None = None,
        validate_responses: bool = True,
        on_error: ErrorSink | None = None,
        swagger_support: bool = True,
    ) -> None:
        """`swagger_support`: each flavour serves its own OpenAPI document and page
        (`Flavour.api_docs_at`, `http.apidocs`), as EMQX's `dashboard.swagger_support`."""
        if not flavours:
            raise ValueError("mount at least one flavour")
        self.broker = broker
        self.journal = journal if journal is not None else Journal()
        #: Answers of the test's own, and the faults, which are told what the app serves.
        self.stubs = Stubs()
        self.faults = Faults(broker, self.stubs, served=self)
        self.validate_responses = validate_responses
        self.on_error = on_error
        self.flavours = [make(broker) for make in flavours]
        self.router: Router[Endpoint] = Router(_served(self.flavours))
        self._doors = sorted(self.flavours, key=lambda flavour: -len(_segments(flavour.prefix)))
        #: Whether the deployment this server's Cloud doors serve runs, as each EMQX Platform
        #: account listing it says (`EmqxServer.link_deployment`); none: it runs.
        self.deployment_gates: list[Callable[[], bool]] = []
        #: The flavours serving their documents, by where (the first mounted wins).
        self._api_docs: dict[str, Flavour] = {}
        #: The flavour serving EMQX 6's API description from the root (`http.apispec`).
        self._api_spec: Flavour | None = None
        if swagger_support:
            for flavour in reversed(self.flavours):
                if flavour.api_docs_at is not None:
                    self._api_docs[flavour.api_docs_at] = flavour
            self._api_spec = next((flavour for flavour in self.flavours if flavour.api_spec), None)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.deployment_gates and self._door(raw_path(environ)).deployment is not None and not all(gate() for gate in self.deployment_gates):
            # A stopped (or starting) deployment's host refuses connections: the closest this
            # shared server can do is a TCP reset, what a client meets on a refused connection
            # too; a 503 would be an answer no stopped deployment gives. Nothing is journaled:
            # no request reached EMQX.
            return cut_connection(environ, "reset", None, "the deployment is not running")
        request = Request(environ)
        exchange = _Exchange(self.flavours[0])
        reply = self._answer(request, environ, exchange)
        if isinstance(reply.body, bytes):
            payload = reply.body  # a fault's response, as given
        elif isinstance(reply.body, str) and "content-type" in reply.headers:
            payload = reply.body.encode()  # a literal text body (the 404 page)
        else:
            payload = b"" if reply.body is None else encode(reply.body, reply.keep_order)
        headers = dict(reply.headers)
        if payload and reply.typed:
            headers.setdefault("content-type", "application/json")
        headers["content-length"] = str(len(payload))
        fault = exchange.fault
        self.journal.record(
            JournalEntry(
                method=request.method,
                path=request.path,
                query={key: request.args.getlist(key) for key in request.args},
                headers=dict(request.headers),
                body=exchange.body,
                credential=str(exchange.principal) if exchange.principal else None,
                status=reply.status,
                response_body=payload,
                operation=exchange.route.key if exchange.route else None,
                fault=str(fault) if fault else None,
                mount=exchange.flavour.prefix,
                stub=str(exchange.stub) if exchange.stub else None,
            )
        )
        # held back outside the state lock: other requests go on meanwhile
        delay = reply.delay + (fault.latency() if fault is not None else 0.0)
        if fault is not None and fault.transport is not None:
            time.sleep(delay)
            return break_connection(fault, environ)
        start_response(f"{reply.status} {HTTP_STATUS_CODES.get(reply.status, 'UNKNOWN')}", list(headers.items()))
        if fault is not None and fault.trickle:
            return _trickle(payload, delay)
        time.sleep(delay)
        return [payload]

    def _answer(self, request: Request, environ: dict[str, Any], exchange: _Exchange) -> Reply:
        try:
            sent = raw_path(environ)
            endpoints, path_args = self.router.match(sent) or ({}, {})
            endpoint = endpoints.get(request.method)
            if endpoint is None:
                exchange.flavour = next(iter(endpoints.values())).flavour if endpoints else self._door(sent)
                exchange.principal = exchange.flavour.identify(request, self.broker)
                reply = self._unserved(request, exchange) if self.stubs else None
                if reply is not None:
                    return reply
                if endpoints:
                    return exchange.flavour.wrong_method(request, endpoints)
                return self._api_document(request, sent) or exchange.flavour.not_found(request)
            flavour, route = endpoint
            exchange.flavour, exchange.route = endpoint
            if not route.public:
                exchange.principal = flavour.authenticate(request, route, self.broker)
            body = exchange.body = flavour.decode_body(request)
            if self.faults or self.stubs:
                reply = self._scripted(request, exchange, _probe(request, flavour, route, exchange.principal, body))
                if reply is not None:
                    return reply
            path, query, checked_body = flavour.check_request(route, path_args, request.args, body)
        except ApiError as error:
            return exchange.flavour.refusal(error)
        except RawReply as raw:
            return raw.reply
        except Exception as error:  # a bug in the fake's own pipeline, or in a stub's callable
            return self._internal_error(exchange.flavour, error)
        call = Call(self.broker, flavour.catalog, path, query, checked_body, exchange.principal, request, body)
        return self._handle(flavour, route, call)

    def _api_document(self, request: Request, sent: str) -> Reply | None:
        """A flavour's OpenAPI document or its page, at a path no route serves; None elsewhere.
        Public, as cowboy_swagger's handlers are (the same body with or without credentials);
        EMQX 6's views of it first (`http.apispec`), which own `/api-docs` from 6.3 on."""
        if not self._api_docs or request.method != "GET":
            return None
        path = normalized_path(sent)
        # imported on the first request for a document: nothing at start-up
        from . import apidocs, apispec

        if self._api_spec is not None:
            described = apispec.answer(self._api_spec, self.broker, request, path)
            if described is not None:
                return described
        where, _, name = path.rpartition("/")
        flavour = self._api_docs.get(where)
        if flavour is None:
            return None

        served = apidocs.FILES.get(name)
        if served is None:
            return None
        media, render = served
        return Reply(200, render(flavour, self.broker), {"content-type": media})

    def _unserved(self, request: Request, exchange: _Exchange) -> Reply | None:
        """A stub's answer to a path or method no route serves; None when no stub answers it."""
        try:
            body = exchange.flavour.decode_body(request)
        except ApiError:  # declared JSON, and not: a stub gets it as it came
            body = request.get_data(cache=True).decode(errors="replace")
        probe = _probe(request, exchange.flavour, None, exchange.principal, body)
        if self.stubs.first(probe) is None:  # no fault meets a request that no stub answers
            return None
        exchange.body = body
        return self._scripted(request, exchange, probe)

    def _scripted(self, request: Request, exchange: _Exchange, probe: JournalEntry) -> Reply | None:
        """The answer of a fault that replaces the answer, else of a stub; None when neither does
        (a delay fault stays noted in `exchange`)."""
        if self.faults:
            fault = exchange.fault = self.faults.take(probe)
            if fault is not None and fault.replaces_handler:  # no handler, so no change
                return exchange.flavour.faulted(fault.reply) if fault.reply is not None else Reply(0)
        if self.stubs:
            stub = exchange.stub = self.stubs.take(probe)
            if stub is not None:
                return stub.answer(_stub_request(request, exchange))
        return None

    def _handle(self, flavour: Flavour, route: Route, call: Call) -> Reply:
        try:
            with self.broker.lock:
                result = route.handler(call)
                reply = result if isinstance(result, Reply) else flavour.ok(result)
        except ApiError as error:
            reply = flavour.refusal(error)
        except ModelError as error:  # a refusal of the state model's, in this operation's words
            reply = flavour.model_error(route, error)
        except RawReply as raw:
            return raw.reply
        except Exception as error:
            return self._internal_error(flavour, error)
        if self.validate_responses:
            try:
                flavour.check_response(route, reply)
            except Exception as error:  # a schema violation, or a fault in checking one
                return self._internal_error(flavour, error)
        return reply

    # -- what faults are told (`scripting.faults.Served`) ----------------------------------

    def trial(self, broker: Broker) -> tuple[Stubs, Faults]:
        """Stubs and faults to try descriptions on before setting them: a copy of the stubs,
        and faults over `broker` (a scratch state: a cluster fault changes its nodes) checked
        against this app's routes and those stubs."""
        stubs = self.stubs.copy()
        return stubs, Faults(broker, stubs, served=self)

    def require_answer(self, matcher: RequestMatcher, stubs: Stubs) -> None:
        """ValueError when no route and none of `stubs` answers a request `matcher` names (a
        fault there would never apply), saying how to make it answerable, the methods the path
        is served with when it is, and the served paths close to it. A pattern cannot be checked."""
        path = matcher.path
        if not isinstance(path, str):
            return
        methods = sorted(self._methods_serving(path))
        if methods and (matcher.method is None or matcher.method in methods):
            return
        prefixes = [flavour.prefix for flavour in self.flavours]
        if any(stub.matcher is not None and stub.matcher.overlaps(matcher, prefixes) for stub in stubs):
            return
        written_under = any(path.startswith(prefix + "/") for prefix in prefixes)
        served = dict.fromkeys(
            route.path_under(flavour.prefix) if written_under else route.template for flavour in self.flavours for route in flavour.routes
        )
        notes = []
        if methods:
            notes.append(f"{path} is served for {_joined(methods)} only")
        closest = _closest(path, served)
        if closest:
            notes.append(f"closest served paths: {', '.join(closest)}")
        notes.append(f"to fault a request the fake does not serve, stub it first ({_STUB_WAYS})")
        raise ValueError(f"no route or stub answers {matcher.method or '*'} {path}; " + "; ".join(notes))

    def _methods_serving(self, path: str) -> set[str]:
        """The methods of the routes serving a path `path` names, written under its flavour's
        prefix or not (a template: the route's own, its parameters named as they may be)."""
        methods: set[str] = set()
        for flavour in self.flavours:
            for route in flavour.routes:
                if "{" in path:
                    shape = template_shape(route.template)
                    if template_shape(path) in (shape, flavour.prefix + shape):
                        methods.add(route.method)
                elif any(_routes_to(route.path_under(flavour.prefix), form) for form in (path, flavour.prefix + path)):
                    methods.add(route.method)
        return methods

    def require_error_code(self, code: str) -> None:
        """ValueError for a code that no mounted flavour answers with (a flavour that knows no
        list accepts any)."""
        known: set[str] = set()
        for flavour in self.flavours:
            codes = flavour.error_codes()
            if codes is None or code in codes:
                return
            known.update(codes)
        close = difflib.get_close_matches(code, sorted(known), n=1)
        raise ValueError(f"unknown error code {code!r}" + (f" (did you mean {close[0]}?)" if close else ""))

    def _door(self, raw: str) -> Flavour:
        """The flavour whose prefix the raw path `raw` is under (the longest), else the first mounted."""
        segments = split_path(raw)
        for flavour in self._doors:
            prefix = _segments(flavour.prefix)
            if segments[: len(prefix)] == prefix:
                return flavour
        return self.flavours[0]

    def _internal_error(self, flavour: Flavour, error: BaseException) -> Reply:
        if self.on_error is not None:
            self.on_error(error)
        return flavour.internal_error("".join(traceback.format_exception_only(type(error), error)).strip())
