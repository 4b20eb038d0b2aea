"""The WSGI application: one request pipeline in EMQX's own order (minirest_handler:handle/2),
the same for every flavour mounted, each stage asking the request's flavour (`http.flavour`).

route and method (404/405) → authentication (401/403) → body decoding (400/415) → fault →
parameter and body checks (400) → handler (under the state lock) → response validation → journal.
"""

from __future__ import annotations

import time
import traceback
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from werkzeug import Request
from werkzeug.http import HTTP_STATUS_CODES

from ..scripting.faults import TRICKLE_PIECES, Fault, Faults, break_connection
from ..scripting.journal import Journal, JournalEntry
from ..state.broker import Broker
from ..state.errors import ModelError
from .flavour import Flavour, FlavourFactory
from .principal import Principal
from .replies import ApiError, RawReply, Reply, encode
from .routing import Call, Route, Router, normalized_path, raw_path, split_path

ErrorSink = Callable[[BaseException], None]


class Endpoint(NamedTuple):
    """What a path and method lead to: an operation of a mounted flavour."""

    flavour: Flavour
    route: Route


def _probe(request: Request, flavour: Flavour, route: Route, principal: Principal | None, body: Any) -> JournalEntry:
    """The request as a fault's matcher sees it: what the journal will record, unanswered, but on
    the path it was routed on (a fault on `/publish` meets `/./%70ublish` too)."""
    return JournalEntry(
        method=request.method,
        path=normalized_path(raw_path(request.environ)),
        query={key: request.args.getlist(key) for key in request.args},
        headers={},
        body=body,
        credential=str(principal) if principal else None,
        status=0,
        response_body=b"",
        operation=route.key,
        mount=flavour.prefix,
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

    __slots__ = ("flavour", "route", "principal", "body", "fault")

    def __init__(self, flavour: Flavour) -> None:
        self.flavour = flavour  # the flavour answering: the route's, else the door the path is under
        self.route: Route | None = None
        self.principal: Principal | None = None
        self.body: Any = None
        self.fault: Fault | None = None


class EmqxApp:
    """The operations of the mounted flavours over one state. A path that no route serves is
    answered by the flavour whose prefix it is under (the longest), else by the first one."""

    def __init__(
        self,
        broker: Broker,
        *,
        flavours: Sequence[FlavourFactory],
        journal: Journal | None = None,
        faults: Faults | None = None,
        validate_responses: bool = True,
        on_error: ErrorSink | None = None,
    ) -> None:
        if not flavours:
            raise ValueError("mount at least one flavour")
        self.broker = broker
        self.journal = journal if journal is not None else Journal()
        self.faults = faults if faults is not None else Faults(broker)
        self.validate_responses = validate_responses
        self.on_error = on_error
        self.flavours = [make(broker) for make in flavours]
        self.router: Router[Endpoint] = Router(
            (route.method, route.path_under(flavour.prefix), Endpoint(flavour, route))
            for flavour in self.flavours
            for route in flavour.routes
        )
        self._doors = sorted(self.flavours, key=lambda flavour: -len(_segments(flavour.prefix)))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
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
        if payload:
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
            match = self.router.match(sent)
            if match is None:
                exchange.flavour = self._door(sent)
                return exchange.flavour.not_found(request)
            endpoints, path_args = match
            endpoint = endpoints.get(request.method)
            if endpoint is None:
                exchange.flavour = next(iter(endpoints.values())).flavour
                return exchange.flavour.wrong_method(request, endpoints)
            flavour, route = endpoint
            exchange.flavour, exchange.route = endpoint
            if not route.public:
                exchange.principal = flavour.authenticate(request, route, self.broker)
            body = exchange.body = flavour.decode_body(request)
            if self.faults:
                fault = exchange.fault = self.faults.take(_probe(request, flavour, route, exchange.principal, body))
                if fault is not None and fault.replaces_handler:  # no handler, so no change
                    return fault.reply or Reply(0)
            path, query, checked_body = flavour.check_request(route, path_args, request.args, body)
        except ApiError as error:
            return exchange.flavour.refusal(error)
        except RawReply as raw:
            return raw.reply
        except Exception as error:  # a bug in the fake's own pipeline
            return self._internal_error(exchange.flavour, error)
        call = Call(self.broker, flavour.catalog, path, query, checked_body, exchange.principal, request, body)
        return self._handle(flavour, route, call)

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
