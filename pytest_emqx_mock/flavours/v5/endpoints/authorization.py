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

from ....erlang.terms import binary
from ....http.replies import ApiError, RawReply, Reply, handler_crash
from ....http.routing import Call, Routes
from ....resources.collection import Collection
from ....resources.config import ConfigOperation, serve_config
from ....state.authz import (
    SERVED_TYPES,
    SOURCE_TYPES,
    Source,
)
from ..validation import check_definition, invalid

routes = Routes()

#: The request schema of each source type the fake runs, and the name hocon gives its member.
_REQUEST_SCHEMAS = {"file": "authz_file_request", "built_in_database": "authz_builtin_db_request"}
_MATCHED_TYPE = {"authz_file_request": "authz:api_file", "authz_builtin_db_request": "authz:builtin_db"}


# -- settings and the cache -----------------------------------------------------------------------


def _check_settings(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    """The body's fields checked one at a time in order, `required` on, the first failing
    field's errors reported with paths that have no `root.` (`emqx_dashboard_swagger:592-601`);
    then the handler's match needs `no_match` and `deny_action` (a null matches: the field
    then falls back to its default, as hocon drops a null). Each field is checked as a root of
    its own, and hocon_tconf:map/4 keeps only the roots it checks (`filter_by_roots`): any
    other field is dropped, unchecked."""
    _, errors = check_definition(call.catalog, "authz_settings_request", body)
    if errors:
        errors = [{**item, "path": item["path"].removeprefix("root.")} for item in errors]
        field = errors[0]["path"].split(".")[0]
        first = [item for item in errors if item["path"].split(".")[0] == field]
        raise invalid(first[0] if len(first) == 1 else first)
    if "no_match" not in body or "deny_action" not in body:
        raise handler_crash("function_clause")
    fields = call.catalog.defs["authz_settings_request"]["properties"]
    return {name: value for name, value in body.items() if name in fields}


serve_config(routes, ConfigOperation("/authorization/settings", lambda broker: broker.authz.settings_config, check_body=_check_settings))


@routes.delete("/authorization/cache")
def drain_cache(call: Call) -> Reply:
    call.broker.clear_authz_cache()
    return Reply(204)


# -- sources --------------------------------------------------------------------------------------


def source_view(source: Source) -> dict[str, Any]:
    return dict(source.config)


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


def _create_source(call: Call) -> None:
    call.broker.authz.add_source(_source_config(call))


def _update_source(call: Call, kind: str) -> None:
    call.broker.authz.replace_source(kind, _source_config(call))


SOURCES: Collection[Source] = Collection(
    "/authorization/sources",
    "type",
    items=lambda broker: broker.authz.sources,
    find=lambda broker, kind: broker.authz.configured(kind),
    view=lambda call, source: source_view(source),
    listing=lambda views: {"sources": views},
    create=_create_source,
    update=_update_source,
    delete=lambda call, kind: call.broker.authz.delete_source(kind),
    node_counters=lambda broker, source: {node: source.node_metrics(node) for node in broker.running_nodes},
)
SOURCES.serve(routes)


#: The names EMQX's source registry knows (a `before:`/`after:` target outside them crashes).
_REGISTERED_TYPES = (*SOURCE_TYPES, "client_info")


@routes.post("/authorization/sources/{type}/move")
def move_source(call: Call) -> Reply:
    kind, position = call.path["type"], str(call.body["position"])
    call.broker.authz.configured(kind)
    where, _, target = position.partition(":")
    if where in ("before", "after") and target and target not in _REGISTERED_TYPES:
        # the source registry throws, and the handler catches only errors
        raise ApiError(500, "INTERNAL_ERROR", 'throw, {unknown_authz_source_type,' + binary(target.encode()) + '}, []')
    call.broker.authz.move_source(kind, position)
    return Reply(204)


@routes.put("/authorization/sources/order")
def order_sources(call: Call) -> Reply:
    call.broker.authz.order_sources([item["type"] for item in call.body])
    return Reply(204)
