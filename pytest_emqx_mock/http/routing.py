"""Routes as EMQX's HTTP layer (cowboy + minirest) matches them (`cowboy_router:split_path/1`):
the raw path is split at its slashes first and each segment percent-decoded after, so a client
id like `a%2Fb` is one path segment holding `a/b`, while `%70ublish` is the literal `publish`;
then the dot segments are removed (RFC 3986 §5.2.4), a decoded `%2E` included. An escape that
is not one is cowboy's bare 400. Empty segments are dropped: a trailing slash is ignored as in
cowboy, and `/api//v5` routes as `/api/v5` (cowboy would keep that empty segment)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Mapping, TypeVar
from urllib.parse import quote, unquote

from .replies import RawReply, Reply

if TYPE_CHECKING:
    from werkzeug import Request

    from ..state.broker import Broker
    from .principal import Principal
    from .replies import Reply
    from .schemas import SchemaCatalog


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
    template: str  # relative to its flavour's prefix, e.g. "/clients/{clientid}"
    handler: Handler
    public: bool = False  # EMQX's `security: []`: no credentials needed
    #: EMQX refuses API keys here, naming this resource in the 401 message.
    api_key_block: str | None = None
    #: The template is the whole path, not one under the prefix (EMQX 5's un-prefixed `/status`).
    absolute: bool = False
    #: How this operation answers the state model's refusals, by error class (the nearest class
    #: of a raised error wins): `(status, code)`; a class not named gets its flavour's default.
    errors: Mapping[type, tuple[int, str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The operation's name in the schema files: `"GET /clients/{clientid}"`; an absolute
        route shares the schema of its prefixed twin."""
        return f"{self.method} {self.template}"

    def path_under(self, prefix: str) -> str:
        """The route's path when its flavour is mounted at `prefix`."""
        return self.template if self.absolute else prefix + self.template


@dataclass
class Routes:
    """The operations of one EMQX API module, registered with decorators."""

    routes: list[Route] = field(default_factory=list)
    #: Answers to the model's refusals shared by the module's operations (EMQX's module-wide
    #: codes, such as `CLIENTID_NOT_FOUND`); an operation's own `errors` win.
    errors: Mapping[type, tuple[int, str]] = field(default_factory=dict)

    def route(self, method: str, template: str, **options: Any) -> Callable[[Handler], Handler]:
        options["errors"] = {**self.errors, **options.get("errors", {})}

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


#: What a path and method lead to (a route, or a route with its flavour).
Target = TypeVar("Target")


@dataclass
class _Template(Generic[Target]):
    segments: tuple[str, ...]  # literal segments, or "{name}" for a parameter
    methods: dict[str, Target]

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


class Router(Generic[Target]):
    def __init__(self, routes: Iterable[tuple[str, str, Target]]) -> None:
        """`routes`: `(method, path template, target)`."""
        by_template: dict[str, _Template[Target]] = {}
        for method, path, target in routes:
            template = by_template.setdefault(path, _Template(tuple(path.strip("/").split("/")), {}))
            if method in template.methods:
                raise ValueError(f"{method} {path} is registered twice")
            template.methods[method] = target
        self._by_length: dict[int, list[_Template[Target]]] = {}
        # Literal segments win over parameters: /clients/kickout/bulk is not a client.
        for template in sorted(by_template.values(), key=lambda t: -t.literal_count):
            self._by_length.setdefault(len(template.segments), []).append(template)

    def match(self, raw: str) -> tuple[dict[str, Target], dict[str, str]] | None:
        """The targets (by method) and decoded path parameters for a raw request path."""
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
