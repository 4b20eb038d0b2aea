"""EMQX 6's API description for readers and agents, from the root of the dashboard listener
(`emqx_dashboard:api_spec_dispatch/0`, `emqx_dashboard_api_spec_handler`, EMQX 6.0.3, 6.1.2,
6.2.0 on): `/api-spec.json` (an index: help, the tags and the url of each one's document, the
drill-down url templates), `/api-spec.md` (the same for reading), `/api-spec/{tag}` (the
OpenAPI 3.0 document of one tag's operations, with the schemas they use and no other),
`/api-spec/{tag}/{name}` (that document with each `oneOf` narrowed to the members `name`
matches) and `/api-spec.html` (a page to read the document).

Every one is a view of the flavour's own OpenAPI document (`http.apidocs`, the same source as
`/api-docs/swagger.json`): nothing is listed by hand, so each operation the fake serves at a
line is in that line's views, and no other. Built once per process for a flavour, edition and
frame (which names the release), on its first request, and kept as bytes; a drill-down by a
name is built on each request (names are the caller's).

The text of the help is the fake's own, in EMQX's layout (sections, titles, field names); so
are the bodies of the 401 at 6.3, in the shapes `emqx_dashboard_api_spec_handler` gives them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .. import versions
from . import apidocs
from .replies import Reply

if TYPE_CHECKING:
    from werkzeug import Request

    from ..state.broker import Broker
    from .flavour import Flavour

_SPEC = "/api-spec"
_JSON = "application/json"
_MARKDOWN = "text/markdown"
_HTML = "text/html"
_COMPONENTS = "#/components/schemas/"
#: The unions a caller may drill into (`drill_down_info/0`), where the fake serves their tag.
DRILL_DOWN = ("actions", "sources", "connectors", "authentication", "authorization", "listeners")
#: The challenge of a 401 (`?WWW_AUTHENTICATE_FULL`), and the page's: Bearer only, so that a
#: browser shows the page's own sign-in instead of its Basic dialog (`?WWW_AUTHENTICATE_BEARER`).
CHALLENGE = 'Basic realm="emqx-api-spec", Bearer realm="emqx-api-spec"'
PAGE_CHALLENGE = 'Bearer realm="emqx-api-spec"'


# -- which line does what --------------------------------------------------------------------


def served(broker: Broker) -> bool:
    """Whether the broker's line has the endpoints (EMQX 5.8.9 has none: its 404)."""
    return versions.serves(broker.config.version, "GET /api-spec.json")


def guarded(broker: Broker) -> bool:
    """Whether they need credentials at the broker's line (6.3 on)."""
    return versions.behaves(broker.config.version, versions.API_SPEC_CREDENTIALS)


# -- answering -------------------------------------------------------------------------------


def answer(flavour: Flavour, broker: Broker, request: Request, path: str) -> Reply | None:
    """The answer to a GET of `path` (decoded, as cowboy's router matches it) that the spec
    endpoints give at the broker's line; None where they do not serve it."""
    if not served(broker):
        return None
    docs = flavour.api_docs_at
    segments = path.split("/")[1:]
    if docs is not None and (path == docs or path.startswith(docs + "/")) and versions.behaves(broker.config.version, versions.SWAGGER_UI_GONE):
        name = path[len(docs) :]
        if name in ("", "/index.html"):  # `emqx_dashboard_redirect_handler`: Swagger UI is gone
            return Reply(308, None, {"location": _SPEC + ".html", "cache-control": "no-store"})
        if name != "/swagger.json":
            return flavour.not_found(request)  # its assets, removed with cowboy_swagger 3.0.0
        return _signed_in(flavour, broker, request, path) or Reply(200, apidocs.document_bytes(flavour, broker), {"content-type": _JSON})
    if path in _FILES:
        media, render = _FILES[path]
        refusal = _signed_in(flavour, broker, request, path) if guarded(broker) else None
        return refusal or Reply(200, apidocs.once((path,), flavour, broker, lambda: render(apidocs.document(flavour, broker), guarded(broker))), {"content-type": media})
    if segments[0] != _SPEC[1:] or len(segments) not in (2, 3) or not all(segments):
        return None
    refusal = _signed_in(flavour, broker, request, path) if guarded(broker) else None
    if refusal is not None:
        return refusal
    tag = tag_key(segments[1])
    document = apidocs.document(flavour, broker)
    if tag not in apidocs.once((_SPEC, "tags"), flavour, broker, lambda: {name.lower() for name in tags(document)}):
        return Reply(404)  # `resource_exists/2` false: cowboy_rest's 404, with no body
    tagged = apidocs.once((_SPEC, tag), flavour, broker, lambda: tag_document(document, tag))
    if len(segments) == 2:
        return Reply(200, apidocs.once((_SPEC, tag, "bytes"), flavour, broker, lambda: pretty(tagged)), {"content-type": _JSON})
    narrowed = named_document(tagged, segments[2])
    if narrowed is None:
        return Reply(404, pretty({"error": "not_found"}), {"content-type": _JSON})
    return Reply(200, pretty(narrowed), {"content-type": _JSON})


def _signed_in(flavour: Flavour, broker: Broker, request: Request, path: str) -> Reply | None:
    """None when the request carries a valid API key or a live token (`authenticate/1`: no
    role or scope is checked), the token also as the dashboard's `emqx_auth` cookie, which the
    page's sign-in sets (`authenticate_via_cookie/1`); else the 401 of `reply_unauthorized/1`,
    in the path's media."""
    cookie = request.cookies.get("emqx_auth") if "Authorization" not in request.headers else None
    if cookie:  # checked as the same token in a header would be
        request = type(request)({**request.environ, "HTTP_AUTHORIZATION": f"Bearer {cookie}"})
    if flavour.identify(request, broker) is not None:
        return None
    if path == _SPEC + ".md":
        media, body = _MARKDOWN + "; charset=utf-8", _UNAUTHORIZED_MARKDOWN
    elif path == _SPEC + ".html":
        media, body = _HTML + "; charset=utf-8", _UNAUTHORIZED_PAGE
    else:
        media, body = _JSON, pretty(_unauthorized_document(flavour.prefix)).decode()
    challenge = PAGE_CHALLENGE if path == _SPEC + ".html" else CHALLENGE
    return Reply(401, body.encode(), {"content-type": media, "www-authenticate": challenge})


def pretty(value: Any) -> bytes:
    """`encode_pretty/1`: jiffy's pretty form (two spaces), small maps in key order."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode()


# -- the views -------------------------------------------------------------------------------


def tag_key(segment: str) -> str:
    """`url_tag_lower/1`: a tag in a url has `_` for its spaces, and any case."""
    return segment.replace("_", " ").lower()


def tag_url(tag: str) -> str:
    """`tag_url/1`: the tag's document, lower case, `_` for its spaces."""
    return f"{_SPEC}/{tag.lower().replace(' ', '_')}"


def tags(document: dict[str, Any]) -> list[str]:
    """`collect_all_tags/0`: every tag an operation has, sorted."""
    return sorted({tag for item in document["paths"].values() for operation in item.values() for tag in operation.get("tags", [])})


def tag_document(document: dict[str, Any], tag: str) -> dict[str, Any] | None:
    """`filter_trails_by_tag/2` and `trim_schemas/1`: the paths with an operation tagged `tag`
    (lower case; the path's other operations too), and the schemas they reach; None when no
    operation has that tag."""
    paths = {
        path: item
        for path, item in document["paths"].items()
        if any(tag == name.lower() for operation in item.values() for name in operation.get("tags", []))
    }
    return _trimmed({**document, "paths": paths}) if paths else None


def named_document(document: dict[str, Any], name: str) -> dict[str, Any] | None:
    """`filter_by_name/2` and `trim_schemas/1`: each `oneOf` keeps the members `name` matches
    (all of them where none does); None when no member anywhere matches. EMQX's own 404 test
    (`has_name_match/2`) looks for the name among the kept schemas' names and the paths'
    references, which finds nothing in a union whose members are inline, as the fake's
    authorization sources are; EMQX's aliases of its data-integration types
    (`ref_alias_candidates/1`) name types the fake has none of."""
    schemas = document["components"]["schemas"]
    found: list[bool] = []

    def narrow(value: Any) -> Any:
        if isinstance(value, list):
            return [narrow(item) for item in value]
        if not isinstance(value, dict):
            return value
        members = value.get("oneOf")
        if isinstance(members, list):
            kept = [member for member in members if _member_matches(member, name, schemas)]
            if kept:
                found.append(True)
                value = {**value, "oneOf": kept}
        return {key: narrow(item) for key, item in value.items()}

    narrowed = narrow(document)
    return _trimmed(narrowed) if found else None


def _member_matches(member: Any, name: str, schemas: dict[str, Any]) -> bool:
    """`oneof_member_matches_name/3`: a reference by its name or by the schema it names, a
    composition by any of its parts, any other schema by `_schema_matches`."""
    if not isinstance(member, dict):
        return False
    if "$ref" in member:
        reference = member["$ref"]
        target = schemas.get(reference.removeprefix(_COMPONENTS)) if reference.startswith(_COMPONENTS) else None
        return names_match(reference, name) or (target is not None and _schema_matches(target, name))
    for composition in ("oneOf", "anyOf", "allOf"):
        if isinstance(member.get(composition), list):
            return any(_member_matches(part, name, schemas) for part in member[composition])
    return _schema_matches(member, name)


def _schema_matches(schema: Any, name: str) -> bool:
    """`schema_matches_name/2`: an `enum` value or a `type` the name matches, here or deeper."""
    if isinstance(schema, list):
        return any(_schema_matches(item, name) for item in schema)
    if not isinstance(schema, dict):
        return False
    values = schema.get("enum")
    if isinstance(values, list) and any(names_match(value, name) for value in values):
        return True
    kind = schema.get("type")
    if isinstance(kind, str) and names_match(kind, name):
        return True
    return any(_schema_matches(item, name) for item in schema.values())


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def names_match(one: Any, other: Any) -> bool:
    """`type_name_matches/2`: either contains the other, as written or in the canonical form
    (`canonical_type_name/1`: lower case, letters and digits, db, pgsql, mongo)."""
    a, b = _lower(one), _lower(other)
    a2, b2 = _canonical(a), _canonical(b)
    return b in a or a in b or b2 in a2 or a2 in b2


def _lower(value: Any) -> str:
    """`to_lower/1`: a value that is not text as Erlang prints it (`true`, `null`, `1`)."""
    return (value if isinstance(value, str) else json.dumps(value)).lower()


def _canonical(text: str) -> str:
    return _NOT_ALNUM.sub("", text.replace("database", "db").replace("postgresql", "pgsql").replace("mongodb", "mongo"))


def _trimmed(document: dict[str, Any]) -> dict[str, Any]:
    """`trim_schemas/1`: only the schemas the paths reach, directly or through others."""
    schemas = document["components"]["schemas"]
    reached: set[str] = set()
    pending = list(_references(document["paths"]))
    while pending:
        name = pending.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            pending.extend(_references(schemas[name]))
    components = {**document["components"], "schemas": {name: schema for name, schema in schemas.items() if name in reached}}
    return {**document, "components": components}


def _references(value: Any) -> Iterable[str]:
    """`collect_refs/2`: the schema names a value refers to."""
    if isinstance(value, dict):
        reference = value.get("$ref")
        if isinstance(reference, str) and reference.startswith(_COMPONENTS):
            yield reference.removeprefix(_COMPONENTS)
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def drill_down(document: dict[str, Any]) -> dict[str, Any]:
    """`drill_down_info/0`, for the unions whose tag the fake serves: the url template, and the
    names the drill-down narrows by, each with its display form (`display_name/1`): the schemas
    a `oneOf` refers to, and the `type` of its inline members."""
    served_tags = {tag.lower().replace(" ", "_"): tag for tag in tags(document)}
    found: dict[str, Any] = {}
    for union in DRILL_DOWN:
        if union in served_tags:
            tagged = tag_document(document, tag_key(union))
            names = sorted(set(_member_names(tagged)))
            found[union] = {
                "url_template": f"{_SPEC}/{union}/{{name}}",
                "names": [{"name": name, "display": " ".join(word[:1].upper() + word[1:] for word in name.split("_"))} for name in names],
            }
    return found


def _member_names(value: Any) -> Iterable[str]:
    """The names of the `oneOf` members in `value`, at any depth (`_member_name`)."""
    if isinstance(value, list):
        for item in value:
            yield from _member_names(item)
    elif isinstance(value, dict):
        members = value.get("oneOf")
        for member in members if isinstance(members, list) else []:
            name = _member_name(member)
            if name is not None:
                yield name
        for item in value.values():
            yield from _member_names(item)


def _member_name(member: Any) -> str | None:
    """A member's name: the schema it refers to, else the one `type` it has (an inline member
    of a union told apart by `type`); None for any other."""
    if not isinstance(member, dict):
        return None
    reference = member.get("$ref")
    if isinstance(reference, str) and reference.startswith(_COMPONENTS):
        return reference.removeprefix(_COMPONENTS)
    kind = member.get("properties", {}).get("type", {}).get("enum")
    return kind[0] if isinstance(kind, list) and len(kind) == 1 and isinstance(kind[0], str) else None


# -- the index, the overview, the page --------------------------------------------------------


def _sections(document: dict[str, Any], needs_credentials: bool) -> list[tuple[str, list[str]]]:
    """`overview_sections/0`'s sections, in the fake's words; the public operations are the
    document's (`security: []`)."""
    server = document["servers"][0]["url"]
    public = [
        f"`{method.upper()} {operation['servers'][0]['url'].rstrip('/') if 'servers' in operation else server}{path}`"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security") == []
    ]
    spec_access = (
        "The `/api-spec.md`, `/api-spec.json`, `/api-spec/...` and `/api-docs/swagger.json` endpoints need credentials too; "
        "without them they answer 401 with a minimal OpenAPI document saying how to authenticate."
        if needs_credentials
        else "The `/api-spec.md`, `/api-spec.json`, `/api-spec/...` and `/api-spec.html` endpoints need no credentials."
    )
    return [
        (
            "Authentication And Bootstrap",
            [
                f"Every `{server}/*` operation needs credentials but these: {', '.join(public)}.",
                "- API key: `Authorization: Basic base64(api_key:api_secret)`.",
                f"- Bearer token: `POST {server}/login` with `{{\"username\": \"...\", \"password\": \"...\"}}`, then `Authorization: Bearer <token>`.",
                spec_access,
            ],
        ),
        (
            "Common Terms",
            [
                "A tag groups the operations of one EMQX API module, as the OpenAPI document tags them.",
                "A union is a schema with `oneOf` members: one of several shapes, told apart by a `type` or by the shape itself.",
            ],
        ),
        (
            "Resource IDs And Drill-Downs",
            [
                "Drill-down endpoints return OpenAPI 3.0 JSON documents.",
                "`/api-spec/<tag>`: the operations of one tag (any case, `_` for a space) and the schemas they use.",
                "`/api-spec/<tag>/<name>`: the same, each union narrowed to the members matching `<name>`.",
            ],
        ),
    ]


def _plain(lines: list[str]) -> str:
    """`render_plain_text/1`: the lines without links' targets and code marks."""
    return "\n".join(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line).replace("`", "") for line in lines)


def render_index(document: dict[str, Any], needs_credentials: bool) -> bytes:
    """`index_json/0`."""
    sections = _sections(document, needs_credentials)
    return pretty(
        {
            "bootstrap_help": [{"title": title, "text": _plain(lines)} for title, lines in sections],
            "api_auth": _plain(sections[0][1]),
            "tags": {tag: {"url": tag_url(tag)} for tag in tags(document)},
            "drill_down": drill_down(document),
        }
    )


def render_overview(document: dict[str, Any], needs_credentials: bool) -> bytes:
    """`overview_markdown/0`: the sections, then a line per tag (with its drill-down's template)."""
    parts = ["# EMQX HTTP API\n\n"]
    for title, lines in _sections(document, needs_credentials):
        parts.append(f"## {title}\n\n" + "".join(line + "\n" for line in lines) + "\n")
    parts.append("## Tags\n\n")
    unions = drill_down(document)
    for tag in tags(document):
        union = unions.get(tag.lower().replace(" ", "_"))
        parts.append(f"- [`{tag}`]({tag_url(tag)})" + (f"\n  Drill-down: {union['url_template']}" if union else "") + "\n")
    return "".join(parts).encode()


def render_explorer(document: dict[str, Any], needs_credentials: bool) -> bytes:
    """The page (`priv/api-spec.html` in EMQX, a script reading the index): the document read
    as `/api-docs/index.html` shows it, self-contained."""
    return apidocs.render_page(document, document_url="/api-docs/swagger.json").encode()


#: The views at fixed paths: the media type, and how the bytes are made.
_FILES: dict[str, tuple[str, Callable[[dict[str, Any], bool], bytes]]] = {
    _SPEC + ".json": (_JSON, render_index),
    _SPEC + ".md": (_MARKDOWN, render_overview),
    _SPEC + ".html": (_HTML, render_explorer),
}


# -- the 401 at 6.3 --------------------------------------------------------------------------


def _unauthorized_document(prefix: str) -> dict[str, Any]:
    """`unauthorized_openapi_doc/0`: no release or edition (a generic title, version "unknown"),
    the two schemes, and the public operations a caller signs in with."""
    public = {"security": [], "responses": {"200": {"description": "OK."}}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "EMQX API", "version": "unknown", "description": "Sign in with one of the security schemes to read the specification."},
        "servers": [{"url": prefix}],
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic", "description": "An API key and its secret."},
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": f"A token from POST {prefix}/login."},
            }
        },
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "paths": {
            "/login": {"post": {"summary": "Obtain a bearer token.", "tags": ["Authentication"], **public}},
            "/status": {"get": {"summary": "Broker health check.", "tags": ["Status"], **public}},
        },
    }


_UNAUTHORIZED_MARKDOWN = (
    "# EMQX API - Authentication Required\n\n"
    "Sign in with one of the security schemes to read the specification.\n\n"
    "## Authentication\n\n"
    "- API key: `Authorization: Basic base64(api_key:api_secret)`\n"
    "- Bearer token: `POST /api/v5/login`, then `Authorization: Bearer <token>`\n\n"
    "## Public endpoints\n\n"
    "- `POST /api/v5/login` - sign in (answers a bearer token).\n"
    "- `GET  /api/v5/status` - broker health check.\n"
)
#: `unauthorized_html/0`: a sign-in form that logs in, keeps the token in the `emqx_auth`
#: cookie and reloads; self-contained.
_UNAUTHORIZED_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>EMQX API - Sign in</title>
<meta name="robots" content="noindex,nofollow"></head><body>
<form id="sign-in"><h1>Sign in to view the API specification</h1><p id="problem"></p>
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>
<script>
document.getElementById("sign-in").addEventListener("submit", async function (event) {
  event.preventDefault();
  var form = event.target, problem = document.getElementById("problem");
  var answer = await fetch("/api/v5/login", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: form.username.value, password: form.password.value})});
  var body = await answer.json().catch(function () { return {}; });
  if (!answer.ok || !body.token) { problem.textContent = body.message || "Sign-in failed (HTTP " + answer.status + ")."; return; }
  document.cookie = "emqx_auth=" + encodeURIComponent(body.token) + "; Path=/; SameSite=Strict";
  location.reload();
});
</script></body></html>
"""
