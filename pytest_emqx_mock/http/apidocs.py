"""A flavour's own OpenAPI 3.0 document, and a page to read it, as EMQX 5.8's dashboard serves
them (`GET /api-docs/swagger.json`, `GET /api-docs/index.html`: minirest_trails adds
cowboy_swagger's routes unless `swagger_support` is off).

Everything comes from what the flavour serves, nothing is listed by hand: each route is one
operation, described by its schema in the flavour's catalog (parameters, request body and media,
responses by status and media, `x-deviations`, `x-not-in-spec`), tagged as the spec tags it.
The members around the operations (info, servers, security) are the flavour's
(`Flavour.api_docs_frame`), and so are the answers its framework gives undeclared
(`Flavour.framework_answers`: minirest 1.x's few errors any operation may answer, EMQX 4's
text refusals), which the document declares where the operation can meet them, so that it says
exactly what the fake answers. A path parameter the schema does not describe (EMQX 4's, whose
minirest checks none) is declared as the text any segment is.

The catalog is JSON Schema 2020-12; the document is OpenAPI 3.0, whose schema objects lack some
of it: `schema_object` converts (a `$ref` beside other keywords becomes an `allOf`, `const` a
one-value `enum`, a list of types an `anyOf` and `nullable`, `prefixItems` the union of its
members, kept whole in `x-prefixItems`; `propertyNames`, only in a raw config's echo, where
`x-propertyNames` says it), and refuses a keyword it has no form for.

A route outside the server url (EMQX 5's bare `/status`, a cowboy handler) is placed with its
own `servers` (the root); where its prefixed twin serves the same operation, it is named in the
twin's `x-also-served-at` instead (as EMQX's spec mentions that alias in the twin's description).

A document is built once per process for a flavour, edition and frame, on its first request,
and kept as bytes (`document_bytes`, `page_bytes`).
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .replies import encode_text
from .schemas import generated_index

if TYPE_CHECKING:
    from ..state.broker import Broker
    from .flavour import Flavour
    from .routing import Route
    from .schemas import SchemaCatalog

JSON = "application/json"
_COMPONENTS = "#/components/schemas/"
_PARAMETER = re.compile(r"{([^}]+)}")

#: The keywords an OpenAPI 3.0 schema object shares with JSON Schema, kept as they are.
_SAME_IN_OPENAPI_30 = frozenset(
    {"title", "multipleOf", "maximum", "minimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
     "uniqueItems", "maxProperties", "minProperties", "required", "enum", "format", "default", "description",
     "readOnly", "writeOnly", "deprecated"}
)  # fmt: skip
#: What a schema object's subschemas are under: one schema, a list of them, a map of them.
_ONE_SCHEMA = ("items", "not", "additionalProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def schema_object(schema: Any, refs: set[str]) -> Any:
    """The OpenAPI 3.0 schema object accepting what the JSON Schema 2020-12 `schema` accepts;
    the names of the `$defs` it refers to are added to `refs` (they become components)."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    converted: dict[str, Any] = {}
    for name, value in schema.items():
        if name.startswith("x-"):
            if name != "x-ref":  # the catalog's own mark of an inlined reference
                converted[name] = value
        elif name in _SAME_IN_OPENAPI_30:
            converted[name] = value
        elif name == "items" and "prefixItems" in schema:
            continue  # the items beyond the tuple: `_tuple_items`
        elif name in _ONE_SCHEMA:
            converted[name] = value if name == "additionalProperties" and isinstance(value, bool) else schema_object(value, refs)
        elif name in _SCHEMA_LISTS:
            converted[name] = [schema_object(member, refs) for member in value]
        elif name == "properties":
            converted[name] = {key: schema_object(member, refs) for key, member in value.items()}
        elif name == "const":
            converted["enum"] = [value]
        elif name in ("exclusiveMinimum", "exclusiveMaximum"):  # a bound in 2020-12, a flag in 3.0
            converted[name.replace("exclusiveM", "m")] = value
            converted[name] = True
        elif name == "examples":
            converted["example"] = value[0]
        elif name == "prefixItems":
            _tuple_items(schema, converted, refs)
        elif name == "propertyNames":  # 3.0 cannot check names beyond `properties`: kept, unchecked
            converted["x-propertyNames"] = schema_object(value, refs)
        elif name not in ("type", "$ref", "$comment"):
            raise ValueError(f"no OpenAPI 3.0 form for the JSON Schema keyword {name!r}")
    _types(schema.get("type"), converted)
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        refs.add(name)
        reference = {"$ref": _COMPONENTS + name}
        return {"allOf": [reference, converted]} if converted else reference
    return converted


def _types(kind: Any, converted: dict[str, Any]) -> None:
    """A list of types, which 3.0 lacks: `nullable` for "null", an `anyOf` for several others."""
    if not isinstance(kind, list):
        if kind == "null":
            converted.update(nullable=True, enum=[None])
        elif kind is not None:
            converted["type"] = kind
        return
    kinds = [name for name in kind if name != "null"]
    if "null" in kind:
        converted["nullable"] = True
    if len(kinds) == 1:
        converted["type"] = kinds[0]
    elif kinds:
        alternatives = [{"type": name} for name in kinds]
        if "null" in kind:
            for alternative in alternatives:
                alternative["nullable"] = True
        if "anyOf" in converted:
            converted["allOf"] = [*converted.get("allOf", []), {"anyOf": alternatives}]
        else:
            converted["anyOf"] = alternatives


def _tuple_items(schema: dict[str, Any], converted: dict[str, Any], refs: set[str]) -> None:
    """`prefixItems` (a tuple), which 3.0 lacks: each item may be any member (and any further
    item what `items` allows); the tuple itself stays in `x-prefixItems`."""
    members = [schema_object(member, refs) for member in schema["prefixItems"]]
    converted["x-prefixItems"] = members
    extra = schema.get("items")
    bounded = extra is False or schema.get("maxItems", len(members) + 1) <= len(members)
    if bounded or extra is not None:
        union = members + ([] if bounded else [schema_object(extra, refs)])
        unique = list({encode_text(member): member for member in union}.values())
        converted["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}


def build_document(flavour: Flavour, frame: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of every operation `flavour` serves, in `frame`
    (`Flavour.api_docs_frame`)."""
    catalog = flavour.catalog
    refs: set[str] = set()
    tag_of = _tagger(catalog, [route.key for route in flavour.routes])
    prefixed = {route.key for route in flavour.routes if not route.absolute}
    paths: dict[str, dict[str, Any]] = {}
    aliases: dict[str, list[str]] = {}
    for route in flavour.routes:
        if route.absolute and route.key in prefixed:  # the twin's operation, also served there
            aliases.setdefault(route.key, []).append(route.template)
            continue
        operation = {"tags": [tag_of(route.key)], **_operation(flavour, route, frame, refs)}
        if route.absolute:  # outside the server url: from the root
            operation["servers"] = [{"url": "/"}]
        paths.setdefault(route.template, {})[route.method.lower()] = operation
    for key, where in aliases.items():
        method, template = key.split(" ", 1)
        paths[template][method.lower()]["x-also-served-at"] = where
    components = dict(frame.get("components", {}))
    components["schemas"] = _components(catalog, refs)
    return {**{name: value for name, value in frame.items() if name != "components"}, "paths": paths, "components": components}


def _operation(flavour: Flavour, route: Route, frame: Mapping[str, Any], refs: set[str]) -> dict[str, Any]:
    catalog = flavour.catalog
    schema = catalog.operations[route.key]
    extensions = dict(schema.extensions)
    request_media = extensions.pop("x-request-media", {})
    response_media = extensions.pop("x-response-media", {})
    described = {parameter.name for parameter in schema.parameters if parameter.location == "path"}
    operation: dict[str, Any] = {
        "parameters": [
            {"name": parameter.name, "in": parameter.location, "required": parameter.location == "path", "schema": schema_object(parameter.schema, refs)}
            for parameter in schema.parameters
        ]
        + [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in _PARAMETER.findall(route.template) if name not in described]
    }
    body = _content({JSON: schema.request_body} if schema.request_body is not None else {}, request_media, refs)
    if body:
        operation["requestBody"] = {"content": body}
    responses: dict[str, Any] = {}
    for status in sorted(schema.responses):
        answer = catalog.answer_schema(route.key, status)
        media = response_media.get(str(status))  # the whole content where declared
        content = _content({JSON: answer} if answer is not None and media is None else {}, media or {}, refs)
        responses[str(status)] = {"description": "", **({"content": content} if content else {})}
    for status, media in flavour.framework_answers(route).items():
        declared = responses.setdefault(str(status), {"description": ""})
        for kind, answer in media.items():
            content = declared.setdefault("content", {})
            given = content.get(kind)
            content[kind] = {"schema": schema_object(answer, refs) if given is None else {"anyOf": [given["schema"], schema_object(answer, refs)]}}
    operation["responses"] = responses
    guarded = flavour.needs_credentials(route)
    if not guarded or "security" in frame:  # minirest_trails:generate_api/2: the global one unless its own `[]`
        operation["security"] = frame["security"] if guarded else []
    operation.update(extensions)
    return operation


def _content(json_body: dict[str, Any], media: Mapping[str, Any], refs: set[str]) -> dict[str, Any]:
    """Content by media type: the JSON schema, and the other media the operation declares (a
    response's declared media are its whole content, an `application/json` among them replacing
    the JSON schema: the catalog's checks cannot tell media apart, as for `/status`'s text or
    JSON, or EMQX 4's text alone)."""
    return {kind: {"schema": schema_object(schema, refs)} for kind, schema in {**json_body, **media}.items()}


def _components(catalog: SchemaCatalog, refs: set[str]) -> dict[str, Any]:
    """Every definition the operations refer to, and those they refer to."""
    schemas: dict[str, Any] = {}
    pending = sorted(refs)
    while pending:
        name = pending.pop()
        if name not in schemas:
            found: set[str] = set()
            schemas[name] = schema_object(catalog.defs[name], found)
            pending.extend(sorted(found - set(schemas)))
    return dict(sorted(schemas.items()))


def _tagger(catalog: SchemaCatalog, keys: list[str]) -> Callable[[str], str]:
    """An operation's tag: the spec's (the generated index names it), else that of the other
    operations described in its schema file (one EMQX module), else the file's name."""
    tagged = {key: tag for tag, group in generated_index(catalog.folder).items() for key in group["operations"]}
    by_file: dict[str, Counter[str]] = {}
    for key in keys:
        if key in tagged:
            by_file.setdefault(catalog.operations[key].source, Counter())[tagged[key]] += 1

    def tag_of(key: str) -> str:
        if key in tagged:
            return tagged[key]
        source = catalog.operations[key].source
        siblings = by_file.get(source)
        return siblings.most_common(1)[0][0] if siblings else source.removesuffix(".json")

    return tag_of


# -- built once per process ----------------------------------------------------------------

_built: dict[tuple[Any, ...], Any] = {}
_building = threading.RLock()  # a view's build reads the document, itself built once


def document_bytes(flavour: Flavour, broker: Broker) -> bytes:
    """The flavour's document as served (JSON), built on the first call for its kind, edition and frame."""
    return _once("swagger.json", flavour, broker, lambda document: json.dumps(document).encode())


def page_bytes(flavour: Flavour, broker: Broker) -> bytes:
    """The page showing the flavour's document, built on the first call for its kind, edition and frame."""
    return _once("index.html", flavour, broker, lambda document: render_page(document).encode())


#: What a flavour serves under `Flavour.api_docs_at`, by name: the media type, and the bytes.
FILES: dict[str, tuple[str, Callable[[Flavour, Broker], bytes]]] = {
    "swagger.json": ("application/json", document_bytes),
    "index.html": ("text/html; charset=utf-8", page_bytes),
}


def document(flavour: Flavour, broker: Broker) -> dict[str, Any]:
    """The flavour's document, built on the first call for its kind, edition and frame (not to
    be changed: it is shared, as `http.apispec`'s views of it are)."""
    return once(("document",), flavour, broker, lambda: build_document(flavour, flavour.api_docs_frame(broker)))


def once(what: tuple[Any, ...], flavour: Flavour, broker: Broker, build: Callable[[], Any]) -> Any:
    """`what` of the flavour's document, built by `build` on the first call for the flavour's
    kind, edition and frame, and kept for the process."""
    key = (*what, type(flavour), flavour.catalog.edition, encode_text(flavour.api_docs_frame(broker)))
    found = _built.get(key)
    if found is None:
        with _building:
            found = _built.get(key)
            if found is None:
                found = _built[key] = build()
    return found


def _once(what: str, flavour: Flavour, broker: Broker, render: Callable[[dict[str, Any]], bytes]) -> bytes:
    return once((what,), flavour, broker, lambda: render(document(flavour, broker)))  # type: ignore[no-any-return]


# -- the page ------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70em;padding:1em 2em;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em} summary{cursor:pointer;padding:.2em 0}
details.op{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.2em .6em}
.m{display:inline-block;width:4.5em;font-weight:bold;font-family:monospace}
.get{color:#1769aa}.post{color:#2e7d32}.put{color:#b26a00}.delete{color:#c62828}
.note{font-size:12px;color:#666;margin-left:.5em} pre{background:#f6f8fa;padding:.5em;overflow:auto;font-size:12px}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
"""
#: Following a link to a schema opens it (and the sections it is in).
_SCRIPT = """
function openTarget(){var e=document.getElementById(decodeURIComponent(location.hash.slice(1)));
for(;e;e=e.parentElement){if(e.tagName==="DETAILS"){e.open=true}}}
window.addEventListener("hashchange",openTarget);openTarget();
"""
_REFERENCE = re.compile(r"&quot;#/components/schemas/([^&]+)&quot;")


def render_page(document: dict[str, Any], document_url: str = "swagger.json") -> str:
    """The document as one self-contained page: tags, their operations (parameters, request
    body, responses), then the schemas, each to unfold; no script or style from elsewhere.
    `document_url`: where the page links to the document itself."""
    info = document["info"]
    by_tag: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            by_tag.setdefault(operation["tags"][0], []).append(_operation_html(method, path, operation))
    server = html.escape(document["servers"][0]["url"]) if document.get("servers") else "/"
    schemes = ", ".join(
        f"{html.escape(name)} ({html.escape(scheme.get('scheme', scheme.get('type', '')))})"
        for name, scheme in document.get("components", {}).get("securitySchemes", {}).items()
    )
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(info['title'])} {html.escape(info['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(info['title'])} <small>{html.escape(info['version'])}</small></h1>",
        f"<p>Paths are under <code>{server}</code>. Credentials: {schemes or 'none'}; <em>public</em> operations need none. "
        f"<a href='{html.escape(document_url)}'>The OpenAPI document</a>.</p>",
        "<nav><p>" + " · ".join(f"<a href='#tag-{_anchor(tag)}'>{html.escape(tag)}</a>" for tag in sorted(by_tag)) + " · <a href='#schemas'>Schemas</a></p></nav>",
    ]
    for tag in sorted(by_tag):
        parts.append(f"<section id='tag-{_anchor(tag)}'><h2>{html.escape(tag)}</h2>{''.join(by_tag[tag])}</section>")
    parts.append("<section id=schemas><h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        parts.append(f"<details id='schema-{_anchor(name)}'><summary><code>{html.escape(name)}</code></summary>{_json_html(schema)}</details>")
    parts.append(f"</section><script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _operation_html(method: str, path: str, operation: dict[str, Any]) -> str:
    notes = []
    if operation.get("security") == []:
        notes.append("public")
    if "servers" in operation:
        notes.append("from the root, not under the server url")
    if "x-also-served-at" in operation:
        notes.append("also at " + ", ".join(operation["x-also-served-at"]))
    if "x-not-in-spec" in operation:
        notes.append("not in EMQX's spec")
    note = "".join(f"<span class=note>{html.escape(text)}</span>" for text in notes)
    parts = [f"<details class=op><summary><span class='m {method}'>{method.upper()}</span> <code>{html.escape(path)}</code>{note}</summary>"]
    if "x-not-in-spec" in operation:
        parts.append(f"<p>Not in the spec: {html.escape(operation['x-not-in-spec'])}</p>")
    if operation["parameters"]:
        rows = "".join(
            f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{p['in']}</td><td>{'yes' if p['required'] else 'no'}</td><td>{_json_html(p['schema'])}</td></tr>"
            for p in operation["parameters"]
        )
        parts.append(f"<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>{rows}</table>")
    if "requestBody" in operation:
        parts.append("<h4>Request body</h4>" + _content_html(operation["requestBody"]["content"]))
    parts.append("<h4>Responses</h4>")
    for status, response in operation["responses"].items():
        content = response.get("content")
        parts.append(f"<details><summary>{status}{'' if content else ' (no body)'}</summary>{_content_html(content or {})}</details>")
    deviations = operation.get("x-deviations")
    if deviations:
        items = "".join(f"<li><code>{html.escape(where)}</code>: {html.escape(why)}</li>" for where, why in deviations.items())
        parts.append(f"<h4>Where the fake knowingly differs from the spec</h4><ul>{items}</ul>")
    return "".join(parts) + "</details>"


def _content_html(content: dict[str, Any]) -> str:
    return "".join(f"<p><code>{html.escape(kind)}</code></p>{_json_html(media['schema'])}" for kind, media in content.items())


def _json_html(schema: Any) -> str:
    """A schema as indented JSON, each reference a link to its schema."""
    text = html.escape(json.dumps(schema, indent=1))
    return "<pre>" + _REFERENCE.sub(lambda m: f"<a href='#schema-{_anchor(html.unescape(m[1]))}'>{m[0]}</a>", text) + "</pre>"


def _anchor(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)
