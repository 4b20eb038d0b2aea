"""The WSGI application: one request pipeline in EMQX's own order (minirest_handler:handle/2).

route and method (404/405) → authentication (401/403) → body parsing (400/415) → parameter
and body checks (400) → handler (under the state lock) → response validation → journal.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from typing import Any, Callable, Iterable, Iterator

from werkzeug import Request
from werkzeug.http import HTTP_STATUS_CODES

from ..flavours.v5.auth import Principal, authenticate
from ..flavours.v5.endpoints import (
    alarms,
    api_keys,
    authentication,
    authorization,
    authorization_rules,
    banned,
    clients,
    cluster,
    dashboard,
    error_codes,
    metrics,
    nodes,
    publish,
    retainer,
    status,
    subscriptions,
    topics,
)
from ..flavours.v5.errors import model_error
from ..flavours.v5.validation import RequestChecker
from ..scripting.faults import TRICKLE_PIECES, Fault, Faults, break_connection
from ..scripting.journal import Journal, JournalEntry
from ..state.broker import Broker
from ..state.errors import ModelError
from .replies import ApiError, RawReply, Reply, encode
from .routing import Call, Route, Router, normalized_path, raw_path
from .schemas import catalog

#: Every EMQX API module the fake serves, each a thin translation of its EMQX namesake.
API_MODULES = (
    dashboard,
    api_keys,
    clients,
    subscriptions,
    topics,
    publish,
    retainer,
    banned,
    nodes,
    metrics,
    status,
    cluster,
    alarms,
    error_codes,
    authentication,
    authorization,
    authorization_rules,
)

_NOT_FOUND_PAGE = "<html><head><title>404 - NOT FOUND</title></head><body><h1>404 - NOT FOUND</h1></body></html>"
_NOT_FOUND_JSON = '{"code": "NOT_FOUND", "message": "Request Path Not Found"}'

ErrorSink = Callable[[BaseException], None]


def _not_found(request: Request) -> Reply:
    """`emqx_dashboard_not_found`: the body follows the Accept header's prefix."""
    accept = request.headers.get("Accept", "text/html")
    if accept.startswith("text/plain"):
        return Reply(404, "404 - NOT FOUND", {"content-type": "text/plain"})
    if accept.startswith("application/json"):
        return Reply(404, _NOT_FOUND_JSON, {"content-type": "application/json"})
    return Reply(404, _NOT_FOUND_PAGE, {"content-type": "text/html"})


def _probe(request: Request, route: Route, principal: Principal | None, body: Any) -> JournalEntry:
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
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} does not fit a float")
    return number


def _decode_like_jsx(data: bytes) -> Any:
    """Decode a body the way minirest's jsx does: invalid UTF-8 replaced, a BOM, comments and
    trailing commas tolerated; NaN, Infinity and numbers out of float range refused."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    options: dict[str, Any] = {"parse_constant": _no_constants, "parse_float": _finite_float}
    try:
        value = json.loads(text, **options)
    except ValueError:
        value = json.loads(_without_comments_and_trailing_commas(text), **options)
    return _without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _without_lone_surrogates(value: Any) -> Any:
    """jsx turns a `\\ud800` escape without its pair into U+FFFD (a pair is one character)."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _without_comments_and_trailing_commas(text: str) -> str:
    kept: list[str] = []
    index, in_string = 0, False
    while index < len(text):
        char = text[index]
        if in_string:
            kept.append(char)
            if char == "\\":
                kept.append(text[index + 1 : index + 2])
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            kept.append(char)
        elif text.startswith("//", index):
            index = text.find("\n", index)
            index = len(text) if index < 0 else index
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            index = end + 2
            continue
        elif char == "," and text[index + 1 :].lstrip()[:1] in ("]", "}"):
            pass  # a trailing comma
        else:
            kept.append(char)
        index += 1
    return "".join(kept)


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


class EmqxApp:
    def __init__(
        self,
        broker: Broker,
        *,
        journal: Journal | None = None,
        faults: Faults | None = None,
        validate_responses: bool = True,
        on_error: ErrorSink | None = None,
    ) -> None:
        self.broker = broker
        self.journal = journal if journal is not None else Journal()
        self.faults = faults if faults is not None else Faults(broker)
        self.validate_responses = validate_responses
        self.on_error = on_error
        self.catalog = catalog(broker.edition)
        self.checker = RequestChecker(self.catalog)
        self.router = Router([route for module in API_MODULES for route in module.routes.routes])
        missing = {r.key for m in API_MODULES for r in m.routes.routes} - set(self.catalog.operations)
        if missing:
            raise RuntimeError(f"operations without a schema: {sorted(missing)}")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        route, principal, body, reply, fault = self._answer(request, environ)
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
        self.journal.record(
            JournalEntry(
                method=request.method,
                path=request.path,
                query={key: request.args.getlist(key) for key in request.args},
                headers=dict(request.headers),
                body=body,
                credential=str(principal) if principal else None,
                status=reply.status,
                response_body=payload,
                operation=route.key if route else None,
                fault=str(fault) if fault else None,
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

    def _answer(
        self, request: Request, environ: dict[str, Any]
    ) -> tuple[Route | None, Principal | None, Any, Reply, Fault | None]:
        route: Route | None = None
        principal: Principal | None = None
        body: Any = None
        fault: Fault | None = None
        try:
            match = self.router.match(raw_path(environ))
            if match is None:
                return None, None, None, _not_found(request), None
            methods, path_args = match
            route = methods.get(request.method)
            if route is None:
                return None, None, None, Reply(405, None, {"allow": ", ".join(sorted(methods))}), None
            if not route.public:
                principal = authenticate(request, route, self.broker)
            operation = self.catalog.operations[route.key]
            body = self._parse_body(request)
            fault = self.faults.take(_probe(request, route, principal, body)) if self.faults else None
            if fault is not None and fault.replaces_handler:  # no handler, so no change
                return route, principal, body, fault.reply or Reply(0), fault
            path, query = self.checker.parameters(operation, path_args, request.args)
            checked_body = self.checker.body(operation, body)
        except ApiError as error:
            return route, principal, body, error.reply(), fault
        except RawReply as raw:
            return route, principal, body, raw.reply, fault
        except Exception as error:  # a bug in the fake's own pipeline
            return route, principal, body, self._internal_error(error), fault
        call = Call(self.broker, self.catalog, path, query, checked_body, principal, request, body)
        return route, principal, body, self._handle(route, call), fault

    def _handle(self, route: Route, call: Call) -> Reply:
        try:
            with self.broker.lock:
                result = route.handler(call)
                reply = result if isinstance(result, Reply) else Reply(200, result)
        except ApiError as error:
            reply = error.reply()
        except ModelError as error:  # a refusal of the state model's, in this operation's words
            reply = model_error(route, error).reply()
        except RawReply as raw:
            return raw.reply
        except Exception as error:
            return self._internal_error(error)
        if self.validate_responses:
            try:
                self.catalog.check_response(route.key, reply.status, reply.body)
            except Exception as error:  # a schema violation, or a fault in checking one
                return self._internal_error(error)
        return reply

    @staticmethod
    def _parse_body(request: Request) -> Any:
        """minirest decodes a body only when it is declared JSON; other bodies stay text
        (the body check then answers 415 where a JSON body is expected)."""
        data = request.get_data(cache=True)
        if not data:
            return None
        if request.mimetype == "application/json":
            try:
                return _decode_like_jsx(data)
            except ValueError:
                raise ApiError(400, "BAD_REQUEST", "Invalid json message received") from None
        return data.decode(errors="replace")

    def _internal_error(self, error: BaseException) -> Reply:
        if self.on_error is not None:
            self.on_error(error)
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        return Reply(500, {"code": "INTERNAL_ERROR", "message": text})
