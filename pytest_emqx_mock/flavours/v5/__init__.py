"""EMQX 5.8's front door: `/api/v5` (and the un-prefixed `/status`), API keys and dashboard
tokens, jsx-decoded bodies, hocon-style request checks, `{"code", "message"}` refusals, the
dashboard's 404 page and minirest's 405."""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterator

from ...erlang import jsx
from ...http.flavour import Flavour
from ...http.principal import Principal
from ...http.replies import ApiError, Reply
from ...http.schemas import SchemaCatalog, generated_file, generated_index, schema_files
from ...state.broker import EE
from ...versions import serves
from . import auth, errors
from .endpoints import (
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
from .validation import RequestChecker

if TYPE_CHECKING:
    from werkzeug import Request
    from werkzeug.datastructures import MultiDict

    from ...http.routing import Route
    from ...state.broker import Broker
    from ...state.errors import ModelError

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

SCHEMAS = resources.files(__name__) / "schemas"


def served_operations() -> frozenset[str]:
    """The operations EMQX 5's flavour serves, named as its schema catalog names them (`"GET /clients"`)."""
    return frozenset(route.key for module in API_MODULES for route in module.routes.routes)


_NOT_FOUND_PAGE = "<html><head><title>404 - NOT FOUND</title></head><body><h1>404 - NOT FOUND</h1></body></html>"
_NOT_FOUND_JSON = '{"code": "NOT_FOUND", "message": "Request Path Not Found"}'


@functools.lru_cache(maxsize=None)
def schemas(edition: str) -> SchemaCatalog:
    """EMQX 5's schemas for `edition` (`"ce"` or `"ee"`), loaded once."""
    return SchemaCatalog(edition, SCHEMAS)


@functools.lru_cache(maxsize=None)
def known_error_codes() -> frozenset[str]:
    """Every code EMQX 5.8 answers with: `?ERROR_CODES`, the codes its API spec declares for
    any operation (served here or not: the rule engine's `RULE_NOT_FOUND`...), and its
    authentication's."""
    documents = [*schema_files(SCHEMAS).values(), *(generated_file(tag["file"], SCHEMAS) for tag in generated_index(SCHEMAS).values())]
    return frozenset({code for code, _ in error_codes.ERROR_CODES}.union(auth.CODES, *(_declared_codes(document) for document in documents)))


def _declared_codes(value: Any) -> Iterator[str]:
    """The values of every `code` property's enum in a schema document."""
    if isinstance(value, dict):
        code = value.get("properties", {}).get("code") if isinstance(value.get("properties"), dict) else None
        if isinstance(code, dict):
            yield from code.get("enum", ())
        for item in value.values():
            yield from _declared_codes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _declared_codes(item)


#: `emqx_dashboard:minirest_option/1`: the global spec's security schemes, and the security
#: minirest_trails gives every operation that does not say `security => []`.
_SECURITY_SCHEMES = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "Authorize with [API Keys](https://www.emqx.io/docs/en/v5.0/admin/api.html#api-keys)",
    },
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Authorize with Bearer Token"},
}
_SECURITY: list[dict[str, list[str]]] = [{"basicAuth": []}, {"bearerAuth": []}]


class Emqx5(Flavour):
    prefix = "/api/v5"
    decode_json = staticmethod(jsx.decode)
    #: cowboy_swagger's routes, which minirest_trails adds unless `swagger_support` is off.
    api_docs_at = "/api-docs"
    #: `emqx_dashboard:api_spec_dispatch/0`'s routes, beside cowboy_swagger's.
    api_spec = True

    def __init__(self, broker: Broker) -> None:
        self.catalog = schemas(broker.edition)
        self.checker = RequestChecker(self.catalog)
        # the operations the version serves, the others left to the router's miss (`versions`)
        self.routes = [route for module in API_MODULES for route in module.routes.routes if serves(broker.config.version, route.key)]
        missing = {key for key in served_operations() if key not in self.catalog.operations}
        if missing:
            raise RuntimeError(f"operations without a schema: {sorted(missing)}")

    def api_docs_frame(self, broker: Broker) -> dict[str, Any]:
        """`emqx_dashboard:minirest_option/1`'s global spec: the title is `emqx_release:description()`
        and " API", the version `emqx_release:version()`, the server `emqx_dashboard_swagger:base_path()`."""
        return {
            "openapi": "3.0.0",
            "info": {"title": "EMQX Enterprise API" if broker.edition == EE else "EMQX API", "version": broker.config.release},
            "servers": [{"url": self.prefix}],
            "security": _SECURITY,
            "components": {"securitySchemes": _SECURITY_SCHEMES},
        }

    def error_codes(self) -> frozenset[str]:
        return known_error_codes()

    def authenticate(self, request: Request, route: Route, broker: Broker) -> Principal:
        return auth.authenticate(request, route, broker, self.prefix)

    def identify(self, request: Request, broker: Broker) -> Principal | None:
        return auth.identify(request, broker)

    def not_found(self, request: Request) -> Reply:
        """`emqx_dashboard_not_found`: the body follows the Accept header's prefix."""
        accept = request.headers.get("Accept", "text/html")
        if accept.startswith("text/plain"):
            return Reply(404, "404 - NOT FOUND", {"content-type": "text/plain"})
        if accept.startswith("application/json"):
            return Reply(404, _NOT_FOUND_JSON, {"content-type": "application/json"})
        return Reply(404, _NOT_FOUND_PAGE, {"content-type": "text/html"})

    def check_request(
        self, route: Route, path_args: dict[str, str], query: MultiDict[str, str], body: Any
    ) -> tuple[dict[str, str], dict[str, Any], Any]:
        operation = self.catalog.operations[route.key]
        path, checked_query = self.checker.parameters(operation, path_args, query)
        return path, checked_query, self.checker.body(operation, body)

    def refusal(self, error: ApiError) -> Reply:
        return error.reply()

    def model_error(self, route: Route, error: ModelError) -> Reply:
        return errors.model_error(route, error).reply()

    def check_response(self, route: Route, reply: Reply) -> None:
        self.catalog.check_response(route.key, reply.status, reply.body)
