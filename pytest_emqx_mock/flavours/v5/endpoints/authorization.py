"""`emqx_authz_api_settings`, `emqx_authz_api_cache` and `emqx_authz_api_sources`: the
authorization settings, the cluster-wide cache drain, and the chain of sources.

* Sources: the fake runs `file` (an acl.conf text, returned byte for byte) and
  `built_in_database`. A new source goes to the FRONT of the chain. Every change of the
  sources empties every client's cache; a settings change does not.
* A source body is checked by its `type` first, as hocon's union selector does: an unknown
  type is `unknown_authz_type`, and a body without `type` crashes hocon (500, empty body).
* `PUT /authorization/settings` needs `cache` (400) and `no_match` and `deny_action` (the
  handler crashes without them: 500). Values are stored and echoed as sent (a config root).
"""

from __future__ import annotations

from typing import Any

from ....http.replies import ApiError, RawReply, Reply, handler_crash
from ....http.routing import Call, Routes
from ....resources.config import ConfigOperation, serve_config
from ....state.authz import (
    SERVED_TYPES,
    SOURCE_METRICS,
    SOURCE_TYPES,
    AclError,
    Source,
)
from ....state.errors import Invalid, NotFound
from ..validation import check_definition, invalid

routes = Routes()

#: The request schema of each source type the fake runs, and the name hocon gives its member.
_REQUEST_SCHEMAS = {"file": "authz_file_request", "built_in_database": "authz_builtin_db_request"}
_MATCHED_TYPE = {"authz_file_request": "authz:api_file", "authz_builtin_db_request": "authz:builtin_db"}


# -- settings and the cache -----------------------------------------------------------------------


def _check_settings(call: Call, body: Any) -> None:
    """The body's fields checked one at a time in order, `required` on, the first failing
    field's errors reported with paths that have no `root.` (`emqx_dashboard_swagger:592-601`);
    then the handler's match needs `no_match` and `deny_action`."""
    _, errors = check_definition(call.catalog, "authz_settings_request", body)
    if errors:
        errors = [{**item, "path": item["path"].removeprefix("root.")} for item in errors]
        field = errors[0]["path"].split(".")[0]
        first = [item for item in errors if item["path"].split(".")[0] == field]
        raise invalid(first[0] if len(first) == 1 else first)
    if body.get("no_match") is None or body.get("deny_action") is None:
        raise handler_crash("function_clause")


serve_config(routes, ConfigOperation("/authorization/settings", lambda broker: broker.authz.settings_config, check_body=_check_settings))


@routes.delete("/authorization/cache")
def drain_cache(call: Call) -> Reply:
    call.broker.clear_authz_cache()
    return Reply(204)


# -- sources --------------------------------------------------------------------------------------


def source_view(source: Source) -> dict[str, Any]:
    return dict(source.config)


def _configured(call: Call, kind: str) -> Source:
    source = call.broker.authz.source(kind)
    if source is None:
        raise ApiError(404, "NOT_FOUND", f"Not found: {kind}")
    return source


def _source_config(call: Call) -> dict[str, Any]:
    """The body checked as hocon checks the `authz` union: the member its `type` selects."""
    body = call.raw_body or {}
    if "type" not in body:
        raise RawReply(Reply(500, None))  # the union selector's throw crashes hocon
    kind = body["type"]
    if kind not in SERVED_TYPES:
        raise invalid({"kind": "validation_error", "path": "root", "reason": "unknown_authz_type", "got": kind})
    definition = _REQUEST_SCHEMAS[kind]
    config, errors = check_definition(call.catalog, definition, body)
    matched = _MATCHED_TYPE[definition]
    if len(errors) > 1:  # several errors inside the member: nested under its path
        raise invalid({"kind": "validation_error", "path": "root", "matched_type": matched, "errors": errors})
    if errors:
        raise invalid({**errors[0], "matched_type": matched})
    return dict(config)


@routes.get("/authorization/sources")
def list_sources(call: Call) -> dict[str, Any]:
    return {"sources": [source_view(source) for source in call.broker.authz.sources]}


@routes.post("/authorization/sources")
def create_source(call: Call) -> Reply:
    config = _source_config(call)
    try:
        call.broker.authz.add_source(config)
    except (AclError, Invalid) as error:
        raise ApiError(400, "BAD_REQUEST", str(error)) from None
    return Reply(204)


@routes.get("/authorization/sources/{type}")
def get_source(call: Call) -> dict[str, Any]:
    return source_view(_configured(call, call.path["type"]))


@routes.put("/authorization/sources/{type}")
def update_source(call: Call) -> Reply:
    config = _source_config(call)
    _configured(call, call.path["type"])
    if config["type"] != call.path["type"]:
        raise ApiError(400, "BAD_REQUEST", "Type mismatch")
    try:
        call.broker.authz.replace_source(config)
    except (AclError, Invalid) as error:
        raise ApiError(400, "BAD_REQUEST", str(error)) from None
    return Reply(204)


@routes.delete("/authorization/sources/{type}")
def delete_source(call: Call) -> Reply:
    try:
        call.broker.authz.delete_source(call.path["type"])
    except NotFound as error:
        raise ApiError(404, "NOT_FOUND", str(error)) from None
    return Reply(204)


@routes.get("/authorization/sources/{type}/status")
def source_status(call: Call) -> dict[str, Any]:
    source = _configured(call, call.path["type"])
    rates = {"rate": 0.0, "rate_last5m": 0.0, "rate_max": 0.0}
    nodes = call.broker.running_nodes
    per_node = {node: source.node_metrics(node) for node in nodes}
    total = {name: sum(counters[name] for counters in per_node.values()) for name in SOURCE_METRICS}
    return {
        "metrics": {**total, **rates},
        "node_error": [],
        "node_metrics": [{"metrics": {**counters, **rates}, "node": node} for node, counters in per_node.items()],
        "node_resource_metrics": [{"metrics": {}, "node": node} for node in nodes],
        "node_status": [{"node": node, "status": "connected"} for node in nodes],
        "resource_metrics": {},
        "status": "connected",
    }


#: The names EMQX's source registry knows (a `before:`/`after:` target outside them crashes).
_REGISTERED_TYPES = (*SOURCE_TYPES, "client_info")


@routes.post("/authorization/sources/{type}/move")
def move_source(call: Call) -> Reply:
    kind, position = call.path["type"], str(call.body["position"])
    _configured(call, kind)
    where, _, target = position.partition(":")
    if where in ("before", "after") and target and target not in _REGISTERED_TYPES:
        # the source registry throws, and the handler catches only errors
        raise ApiError(500, "INTERNAL_ERROR", f'throw, {{unknown_authz_source_type,<<"{target}">>}}, []')
    try:
        call.broker.authz.move_source(kind, position)
    except Invalid as error:
        raise ApiError(400, "BAD_REQUEST", str(error)) from None
    return Reply(204)


@routes.put("/authorization/sources/order")
def order_sources(call: Call) -> Reply:
    try:
        call.broker.authz.order_sources([item["type"] for item in call.body])
    except Invalid as error:
        raise ApiError(400, "BAD_REQUEST", str(error)) from None
    return Reply(204)
