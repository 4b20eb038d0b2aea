"""Routes as EMQX's HTTP layer (cowboy + minirest) matches them (`cowboy_router:split_path/1`):
the raw path is split at its slashes first and each segment percent-decoded after, so a client
id like `a%2Fb` is one path segment holding `a/b`, while `%70ublish` is the literal `publish`;
then the dot segments are removed (RFC 3986 §5.2.4), a decoded `%2E` included. An escape that
is not one is cowboy's bare 400. Empty segments are dropped: a trailing slash is ignored as in
cowboy, and `/api//v5` routes as `/api/v5` (cowboy would keep that empty segment)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import quote, unquote

from .replies import RawReply, Reply

if TYPE_CHECKING:
    from werkzeug import Request

    from ..flavours.v5.auth import Principal
    from ..state.broker import Broker
    from .replies import Reply
    from .schemas import SchemaCatalog

BASE_PATH = "/api/v5"


@dataclass
class Call:
    """Everything a handler gets: the state, the validated input and who is calling."""

    broker: Broker
    catalog: SchemaCatalog
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    principal: Principal | None
    request: Request
    #: The body as sent (decoded JSON, before conversion): what EMQX merges into raw config.
    raw_body: Any = None


Handler = Callable[[Call], "Reply | Any"]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # relative to /api/v5, e.g. "/clients/{clientid}"
    handler: Handler
    public: bool = False  # EMQX's `security: []`: no credentials needed
    #: EMQX refuses API keys here, naming this resource in the 401 message.
    api_key_block: str | None = None
    #: The template is the whole path, not one under /api/v5 (EMQX's un-prefixed `/status`).
    absolute: bool = False
    #: How this operation answers the state model's refusals, by error class (the nearest class
    #: of a raised error wins): `(status, code)`; a class not named gets its flavour's default.
    errors: Mapping[type, tuple[int, str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The operation's name in the schema files: `"GET /clients/{clientid}"`; an absolute
        route shares the schema of its /api/v5 twin."""
        return f"{self.method} {self.template}"

    @property
    def path(self) -> str:
        return self.template if self.absolute else BASE_PATH + self.template


@dataclass
class Routes:
    """The operations of one EMQX API module, registered with decorators."""

    routes: list[Route] = field(default_factory=list)

    def route(self, method: str, template: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, template, handler, **options))
            return handler

        return register

    def get(self, template: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", template, **options)

    def post(self, template: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", template, **options)

    def put(self, template: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", template, **options)

    def delete(self, template: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", template, **options)


@dataclass
class _Template:
    segments: tuple[str, ...]  # literal segments, or "{name}" for a parameter
    methods: dict[str, Route]

    @property
    def literal_count(self) -> int:
        return sum(not s.startswith("{") for s in self.segments)


_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")
_ABSOLUTE_FORM = re.compile("^https?://[^/?#]*", re.IGNORECASE)


def raw_path(environ: Mapping[str, Any]) -> str:
    """The request target's path as sent, still encoded (`cowboy_req:path/1`): no query, no
    fragment, and no scheme and host when the target is an absolute URI."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        return quote(environ.get("PATH_INFO", "/"))  # a WSGI server that keeps no raw path
    path = _ABSOLUTE_FORM.sub("", raw.split("?", 1)[0].split("#", 1)[0], count=1)
    return path or "/"


def split_path(raw: str) -> list[str]:
    """The decoded segments a raw path routes on; RawReply (a bare 400) when it is not a path."""
    if not raw.startswith("/") or _BAD_ESCAPE.search(raw):
        raise RawReply(Reply(400))
    segments: list[str] = []
    for part in raw.split("/"):
        segment = unquote(part) if "%" in part else part
        if segment == "..":
            del segments[-1:]
        elif segment not in ("", "."):
            segments.append(segment)
    return segments


def normalized_path(raw: str) -> str:
    """The path a request was routed on, for matching it against a path as written: `a%2Fb`
    reads `a/b` there, as in the journal's paths."""
    return "/" + "/".join(split_path(raw))


class Router:
    def __init__(self, routes: list[Route]) -> None:
        by_template: dict[str, _Template] = {}
        for route in routes:
            template = by_template.setdefault(route.path, _Template(tuple(route.path.strip("/").split("/")), {}))
            if route.method in template.methods:
                raise ValueError(f"{route.method} {route.path} is registered twice")
            template.methods[route.method] = route
        self._by_length: dict[int, list[_Template]] = {}
        # Literal segments win over parameters: /clients/kickout/bulk is not a client.
        for template in sorted(by_template.values(), key=lambda t: -t.literal_count):
            self._by_length.setdefault(len(template.segments), []).append(template)

    def match(self, raw: str) -> tuple[dict[str, Route], dict[str, str]] | None:
        """The routes (by method) and decoded path parameters for a raw request path."""
        segments = split_path(raw)
        for template in self._by_length.get(len(segments), ()):
            args: dict[str, str] = {}
            for pattern, segment in zip(template.segments, segments, strict=True):
                if pattern.startswith("{"):
                    args[pattern[1:-1]] = segment
                elif pattern != segment:
                    break
            else:
                return template.methods, args
        return None
