"""A flavour: one of EMQX's front doors (EMQX 5, 6, 4.x, Cloud...) over the one state.

What differs between front doors is all here: where the door is mounted (`prefix`), its
operations (`routes`), who may call (`authenticate`), how a body is decoded, what a path it does
not serve and a method it does not allow answer, how its input is checked, and how its answers
and refusals are shaped. The pipeline (`http.app`) runs the same stages for every flavour and
asks the request's flavour at each of them; a server may mount several flavours side by side.

A flavour is made for one server, from its state (`Callable[[Broker], Flavour]`: a flavour class
taking the broker, as EMQX 5's `Emqx5` does), so that it may prepare what depends on the state,
such as the schemas of the server's edition.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, Collection, Sequence

from ..erlang.nesting import check_json
from .principal import Principal
from .replies import ApiError, RawReply, Reply
from .schemas import ANY_CODE_STATUSES, GENERIC_ERRORS

if TYPE_CHECKING:
    from werkzeug import Request
    from werkzeug.datastructures import MultiDict

    from ..state.broker import Broker
    from ..state.errors import ModelError
    from .routing import Route
    from .schemas import SchemaCatalog


#: `cowboy_req:read_body/1`'s default `length`. minirest's JSON decoder reads a body once and
#: matches `{ok, Body, Req}` (`minirest_body:json_decoder/1`): a longer body comes back as
#: `{more, ...}`, the handler crashes, and cowboy answers a bare 500 (`cowboy_stream_h:info/3`
#: on the handler's exit). Other bodies are read in a loop, whole.
READ_BODY_LENGTH = 8_000_000


class Flavour(ABC):
    """One front door. The hooks without a default are what makes a door; the defaults are
    minirest's ways, which every EMQX front door shares unless it says otherwise."""

    #: Where the door is mounted: a route's path is the prefix and its template, a route that
    #: is `absolute` excepted. Journal and fault matchers take `/clients` for `<prefix>/clients`.
    prefix: str
    #: Its operations, each answered with `ok` or a Reply of the handler's own.
    routes: Sequence[Route]
    #: Its schemas, given to handlers (`Call.catalog`).
    catalog: SchemaCatalog
    #: Who calls with the credentials a server has ready (`EmqxServer.auth`): "api_key", the
    #: bootstrap administrator key, or "app", an EMQX 4 / Cloud application's AppID and secret.
    credentials: str = "api_key"
    #: Where, from the root, the door serves its own OpenAPI document (`<api_docs_at>/swagger.json`)
    #: and a page to read it (`<api_docs_at>/index.html`), built by `http.apidocs` from `routes`
    #: and `catalog`; None (the default): it serves none.
    api_docs_at: str | None = None
    #: The door also serves EMQX 6's API description for readers and agents from the root
    #: (`/api-spec.json`, ...: `http.apispec`) at the lines that have it, and owns `api_docs_at`
    #: there from 6.3 on.
    api_spec: bool = False
    #: The door is an EMQX Cloud deployment's: a server mounting it serves HTTPS only, and starts
    #: with no application (EMQX 4's default `admin`/`public`) unless given one.
    cloud: bool = False
    #: The door is a Cloud deployment's API, of this kind (`deploymentType`, `version` as the
    #: EMQX Platform lists it): it answers only while the deployment runs, as the Platform
    #: accounts listing it say (`EmqxServer.link_deployment`). None: no deployment's.
    deployment: tuple[str, str] | None = None

    def api_docs_frame(self, broker: Broker) -> dict[str, Any]:
        """The members of the door's OpenAPI document around its operations: `openapi`, `info`,
        `servers`, `components` (its `securitySchemes`) and `security`, which every operation
        not public gets (a public one gets `[]`). The default: OpenAPI 3.0.0 at the door's prefix,
        with no security."""
        return {"openapi": "3.0.0", "info": {"title": "EMQX API", "version": broker.config.release}, "servers": [{"url": self.prefix}]}

    def needs_credentials(self, route: Route) -> bool:
        """Whether a call of `route` at its own path needs credentials (its OpenAPI document
        says `security: []` where not); the default: unless the route is public."""
        return not route.public

    def framework_answers(self, route: Route) -> dict[int, dict[str, Any]]:
        """What the door may answer on `route` beyond what its schema declares (its framework's
        own refusals), as its OpenAPI document declares them: by status, the schema of each
        media type (an empty map: no body). The default is minirest 1.x's, which lets any
        operation answer a few errors undeclared (`http.schemas.ANY_CODE_STATUSES`,
        `GENERIC_ERRORS`): those the fake can meet on it, BAD_REQUEST (a body that is not JSON,
        a parameter refused), credentials refused (401, 403) where it needs them, a body not
        declared JSON (415) where it checks one, in the catalog's error shape (`$defs/error`, as
        `SchemaCatalog.check_response` checks them); a catalog without one declares none. A 500
        is the fake's bug unless declared (an EMQX handler's crash the fake emulates)."""
        if "error" not in self.catalog.defs:
            return {}
        error: dict[str, Any] = {"$ref": "#/$defs/error"}
        answers = {status: {"application/json": {**error, "properties": {"code": {"enum": [code]}}}} for status, code in GENERIC_ERRORS if status < 500}
        checks_body = self.catalog.operations[route.key].request_body is not None
        for status in ANY_CODE_STATUSES:
            if checks_body if status == 415 else self.needs_credentials(route):
                answers[status] = {"application/json": error}
        return answers

    @staticmethod
    def decode_json(data: bytes) -> Any:
        """A body declared JSON, decoded; ValueError when it is not JSON."""
        return json.loads(data)

    def decode_body(self, request: Request) -> Any:
        """minirest decodes a body only when it is declared JSON; other bodies stay text (the
        body check then refuses one where JSON is expected). One nested too deep for the fake to
        walk is refused as not JSON (`nesting`: EMQX's check refuses it with a 400 too); one
        longer than READ_BODY_LENGTH is EMQX's crash."""
        data = request.get_data(cache=True)
        if not data:
            return None
        if request.mimetype == "application/json":
            if len(data) > READ_BODY_LENGTH:
                raise RawReply(Reply(500))
            try:
                check_json(data)
                return self.decode_json(data)
            except ValueError:
                raise ApiError(400, "BAD_REQUEST", "Invalid json message received") from None
        return data.decode(errors="replace")

    @abstractmethod
    def authenticate(self, request: Request, route: Route, broker: Broker) -> Principal:
        """Who calls a non-public route; raises ApiError (or RawReply) to refuse the request."""

    def identify(self, request: Request, broker: Broker) -> Principal | None:
        """Who a request no route serves calls as, when its credentials are valid; None
        otherwise, refusing nothing (such a request needs none: a stub's `credential=` and the
        journal read this). The default: a door that cannot tell, None."""
        return None

    @abstractmethod
    def not_found(self, request: Request) -> Reply:
        """The answer to a path under the door (or, for the first flavour, anywhere) that no
        route serves."""

    def error_codes(self) -> Collection[str] | None:
        """The error codes the door answers with, which a fault's error must be one of; None
        (the default): any code."""
        return None

    def wrong_method(self, request: Request, allowed: Collection[str]) -> Reply:
        """The answer to a method that the path's routes do not serve."""
        return Reply(405, None, {"allow": ", ".join(sorted(allowed))})

    def check_request(
        self, route: Route, path_args: dict[str, str], query: MultiDict[str, str], body: Any
    ) -> tuple[dict[str, str], dict[str, Any], Any]:
        """The path parameters, query and body as the handler gets them, checked and converted;
        raises ApiError to refuse the request. Unchecked by default: each query parameter's last
        value."""
        return path_args, {key: query.getlist(key)[-1] for key in query}, body

    def ok(self, result: Any) -> Reply:
        """A handler's result (anything but a Reply) in the door's envelope."""
        return Reply(200, result)

    @abstractmethod
    def refusal(self, error: ApiError) -> Reply:
        """A refusal (of authentication, decoding, checks or a handler) in the door's shape."""

    @abstractmethod
    def model_error(self, route: Route, error: ModelError) -> Reply:
        """A refusal of the state model's, as `route` answers it."""

    def faulted(self, reply: Reply) -> Reply:
        """A fault's error (`{"code", "message"}` with its status) as the door answers it; the
        default: as it is."""
        return reply

    def internal_error(self, text: str) -> Reply:
        """The answer when the fake itself fails (`text`: the exception)."""
        return self.refusal(ApiError(500, "INTERNAL_ERROR", text))

    def check_response(self, route: Route, reply: Reply) -> None:
        """Raise when `reply` is not what `route` may answer (a bug in the fake)."""


#: What a server mounts: a flavour made from the server's state (a Flavour class, typically).
FlavourFactory = Callable[["Broker"], Flavour]
