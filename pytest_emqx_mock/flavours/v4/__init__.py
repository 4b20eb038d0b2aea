"""EMQX 4.4's front door: the management listener's `/api/v4` (minirest 0.3.12) and its
`/status`. HTTP Basic with an application's AppID / AppSecret (`admin`/`public` by default);
every answer a handler gives is HTTP 200 in minirest's envelope (`{"code": 0, "data": ...}`,
`meta` for pages, a result code 101-116 with a `message` for a refusal, or a `message` alone);
the framework's own refusals are text: 401 `UNAUTHORIZED` (checked before the route, so an
unknown path needs credentials too), 404 `Not found.` (no route for the method and path: no
405), 400 `Bad Request` (a body that is not JSON, whatever its content type), 500
`Internal Error` (a handler that crashed). A path outside `/api/v4` and `/status` gets the
router's bare 404."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from ...erlang.nesting import check_json
from ...http.flavour import Flavour
from ...http.principal import Principal
from ...http.replies import ApiError, RawReply, Reply
from ...http.routing import Call, Routes, raw_path, split_path
from ...http.schemas import SchemaCatalog
from . import auth
from .api import RESULT_CODES, Declaration
from .endpoints import (
    acl_mnesia,
    alarms,
    auth_mnesia,
    banned,
    brokers,
    clients,
    listeners,
    metrics,
    nodes,
    prometheus,
    pubsub,
    routes,
    stats,
    status,
    subscriptions,
)
from .endpoints.nodes import VERSION

if TYPE_CHECKING:
    from werkzeug import Request
    from werkzeug.datastructures import MultiDict

    from ...http.routing import Route
    from ...state.broker import Broker
    from ...state.errors import ModelError

#: The API modules served, in the order `GET /api/v4` lists their routes (the plugins sorted
#: by name, `emqx_plugins:list/0`, then each application's module list: alphabetical).
API_MODULES = (acl_mnesia, auth_mnesia, alarms, banned, brokers, clients, listeners, metrics, nodes, pubsub, routes, stats, subscriptions, prometheus)

SCHEMAS = resources.files(__name__) / "schemas"

_TEXT = {"content-type": "text/plain"}
#: The one path of `/api/v4` that needs no credentials (for a GET).
PROMETHEUS_PATH = "/api/v4/emqx_prometheus"
#: Who calls that path without credentials, as the journal records it.
_ANONYMOUS = Principal("anonymous", "", "")
#: The framework's texts by status (400's is the refusal's own: `Bad Request`, `Not found.`).
_TEXTS = {404: "Not found.", 500: "Internal Error"}

root = Routes()


def declarations() -> list[Declaration]:
    return [declaration for module in API_MODULES for declaration in module.api.declarations]


@root.get("/")
def list_routes(call: Call) -> list[dict[str, str]]:
    """`minirest_handler:dispatch("/", ...)`: every route, its path without binding types."""
    return [declaration.listed() for declaration in declarations()]


def served_operations() -> frozenset[str]:
    return frozenset(route.key for route in _routes())


def _routes() -> list[Route]:
    return [*root.routes, *status.routes.routes, *(route for module in API_MODULES for route in module.routes.routes)]


@functools.lru_cache(maxsize=None)
def schemas(edition: str) -> SchemaCatalog:
    """EMQX 4.4's schemas for `edition`, loaded once."""
    return SchemaCatalog(edition, SCHEMAS)


def _text(status: int, text: str) -> Reply:
    return Reply(status, text, dict(_TEXT))


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


#: The framework's text answers as the fake's document declares them (`text/plain`).
_TEXT_ANSWERS = {status: {"text/plain": {"const": text}} for status, text in {400: "Bad Request", **_TEXTS}.items()}


class Emqx4(Flavour):
    prefix = "/api/v4"
    credentials = "app"
    #: EMQX 4.4 serves no OpenAPI document: the fake's own description of `/api/v4` is served
    #: under EMQX 5's `/api-docs`, which nothing of EMQX 4 serves (every path under `/api/v4` is
    #: minirest's: a document there would change what that path answers), named for the door,
    #: so that it is served beside EMQX 5's and every other door's.
    api_docs_at = "/api-docs/v4"
    #: The door, as its document's title names it.
    title = "EMQX 4.4 API"

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.catalog = schemas(broker.edition)
        self.routes = _routes()
        missing = {key for key in served_operations() if key not in self.catalog.operations}
        if missing:
            raise RuntimeError(f"operations without a schema: {sorted(missing)}")

    def api_docs_frame(self, broker: Broker) -> dict[str, Any]:
        return auth.app_frame(self.title, VERSION, self.prefix)

    def framework_answers(self, route: Route) -> dict[int, dict[str, Any]]:
        """minirest 0.3's texts: `Bad Request` for any body that is not JSON (it decodes every
        body), `Not found.` where a path binding may not convert (an unknown `:atom:` node), and
        the 401 `UNAUTHORIZED` where credentials are needed (declared without content: it has
        no content type). A 500 `Internal Error` is the fake's bug unless the operation's schema
        says where EMQX 4.4.19's handler crashes (`x-crashes`)."""
        answers: dict[int, dict[str, Any]] = {400: _TEXT_ANSWERS[400]}
        if "x-crashes" in self.catalog.operations[route.key].extensions:
            answers[500] = _TEXT_ANSWERS[500]
        if "{" in route.template:
            answers[404] = _TEXT_ANSWERS[404]
        if self.needs_credentials(route):
            answers[401] = {}
        return answers

    def needs_credentials(self, route: Route) -> bool:
        """`GET /api/v4/emqx_prometheus` needs none at that path (`authenticate`)."""
        return not route.public and not (route.method == "GET" and route.path_under(self.prefix) == PROMETHEUS_PATH)

    @staticmethod
    def decode_json(data: bytes) -> Any:
        """jiffy: no NaN or Infinity."""
        return json.loads(data, parse_constant=_reject_constant)

    def decode_body(self, request: Request) -> Any:
        """`minirest_handler:parse_params/1` decodes any body as JSON, whatever its content
        type: one that is not JSON is 400 `Bad Request`."""
        data = request.get_data(cache=True)
        if not data:
            return None
        try:
            check_json(data)
            return self.decode_json(data)
        except ValueError:
            raise ApiError(400, "BAD_REQUEST", "Bad Request") from None

    def authenticate(self, request: Request, route: Route, broker: Broker) -> Principal:
        """`emqx_mgmt_http:authorize_appid/3` lets `GET /api/v4/emqx_prometheus` (that raw
        path exactly: not with a trailing slash) through without looking at credentials."""
        if request.method == "GET" and raw_path(request.environ) == PROMETHEUS_PATH:
            return _ANONYMOUS
        principal = self.identify(request, broker)
        if principal is None:
            raise self.unauthorized()
        return principal

    def identify(self, request: Request, broker: Broker) -> Principal | None:
        return auth.identify(request, broker)

    def _under_prefix(self, request: Request) -> bool:
        prefix = split_path(self.prefix)
        return split_path(raw_path(request.environ))[: len(prefix)] == prefix

    def not_found(self, request: Request) -> Reply:
        """Under `/api/v4`: minirest authenticates first, then finds no route; elsewhere the
        listener's router answers an empty 404."""
        if not self._under_prefix(request):
            return Reply(404)
        if self.identify(request, self.broker) is None:
            return self.unauthorized().reply
        return _text(404, _TEXTS[404])

    def unauthorized(self) -> RawReply:
        """minirest's 401, for credentials that name no app that may call."""
        return auth.unauthorized()

    def wrong_method(self, request: Request, allowed: Any) -> Reply:
        """No 405 in minirest: a method the path does not serve is no route (404), the root
        listing's `Bad Request` excepted; `/status` answers any method but GET with its 400."""
        if split_path(raw_path(request.environ)) == ["status"]:
            return _text(400, "Not found.")
        if self.identify(request, self.broker) is None:
            return self.unauthorized().reply
        if split_path(raw_path(request.environ)) == split_path(self.prefix):
            return _text(400, "Bad Request")
        return _text(404, _TEXTS[404])

    def check_request(
        self, route: Route, path_args: dict[str, str], query: MultiDict[str, str], body: Any
    ) -> tuple[dict[str, str], dict[str, Any], Any]:
        """minirest checks nothing: handlers read the parameters themselves (`api.params`)."""
        return path_args, {key: query.getlist(key)[0] for key in query}, body

    def ok(self, result: Any) -> Reply:
        """`minirest:return/1`: `return()` (None here) is `{"code": 0}`."""
        return Reply(200, {"code": 0} if result is None else {"code": 0, "data": result})

    def refusal(self, error: ApiError) -> Reply:
        """A result code (HTTP 200, the code an integer; no code for `return({error, Msg})`),
        or the framework's text for its status."""
        if error.status == 200:
            body: dict[str, Any] = {"message": error.message}
            if error.code:
                body["code"] = int(error.code)
            return Reply(200, body, delay=error.delay)
        return Reply(error.status, _TEXTS.get(error.status, error.message), dict(_TEXT), delay=error.delay)

    def model_error(self, route: Route, error: ModelError) -> Reply:
        """The handlers answer the model's refusals themselves: one that slips through is a
        crash, as an unmatched `{error, _}` is in EMQX."""
        return self.refusal(ApiError(500, "INTERNAL_ERROR", str(error)))

    def error_codes(self) -> frozenset[str]:
        return frozenset(str(code) for code in RESULT_CODES)

    def faulted(self, reply: Reply) -> Reply:
        """A fault's result code answers in the envelope (`{"code": 101, "message"}` with the
        status given, 200 as EMQX's); any other code is the framework's text for the status."""
        code, message = reply.body["code"], reply.body["message"]
        if code.isdigit():
            return Reply(reply.status, {"code": int(code), "message": message})
        return Reply(reply.status, _TEXTS.get(reply.status, message), dict(_TEXT))

    def check_response(self, route: Route, reply: Reply) -> None:
        """The framework's texts are any operation's; the handlers' answers their schema's."""
        if isinstance(reply.body, str) and reply.status in (400, 404, 500):
            return
        self.catalog.check_response(route.key, reply.status, reply.body)
