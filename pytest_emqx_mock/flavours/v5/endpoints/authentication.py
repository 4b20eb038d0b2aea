"""`emqx_authn_api` and `emqx_authn_user_import_api`: the global authentication chain and
its built-in database users (EMQX 5.8.9).

* An authenticator body is a union chosen by `mechanism` and `backend`, and its
  `password_hash_algorithm` a union chosen by `name`; the member is picked here and checked
  with the pipeline's own validator, its errors naming the member as `matched_type`. Only
  `password_based:built_in_database` is served: other mechanisms are `unsupported_mechanism`.
* The API schema gives `password_hash_algorithm` no default, so a body without it is refused
  (`required_field` at `root.password_hash_algorithm.name`, as hocon reports the first member).
* User operations: no chain → 404 `Authenticator not found in the 'global' scope`; an id not in
  the chain → 400 `User error: {not_found,{authenticator,<<"id">>}}`. The import reports that
  case as 404 instead, and answers 200 with its counts (5.8.9; the 5.8.1 spec says 204).
* Configs are written as jsx writes them: `id` (an atom key) first, then the others sorted.
* User lists are in descending user id; a full page says `hasnext: true` even when nothing
  follows (EMQX reads ETS in chunks); `like_user_id` drops `count`.
"""

from __future__ import annotations

from typing import Any

from ....erlang.terms import binary
from ....http.replies import ApiError, Reply, handler_crash
from ....http.routing import Call, Routes
from ....http.schemas import SchemaCatalog
from ....resources.collection import Collection
from ....state.authn import (
    Authenticator,
    AuthenticatorNotFound,
    AuthnMetrics,
    HashingUnavailable,
    NoChain,
    parse_import_file,
    parse_import_list,
)
from ....state.broker import Broker
from ....state.paging import ets_listing
from ..validation import check_definition, invalid

routes = Routes()

_BUILTIN_DB = "authn:builtin_db_api"
#: `password_hash_algorithm` members by `name` (any other name is checked as `simple`).
_HASH_MEMBERS = {"pbkdf2": ("authn_hash_pbkdf2", "pbkdf2"), "bcrypt": ("authn_hash_bcrypt", "bcrypt_rw_api")}
_HASH_PATH = "root.password_hash_algorithm"


# -- the authenticator body ---------------------------------------------------------------


def _in_member(errors: list[dict[str, Any]], path: str, matched_type: str) -> dict[str, Any]:
    """hocon's report from the union member it chose (`ensure_type_path`): a lone error gets
    the member's name (after any inner member's), several are wrapped under the member's path."""
    if len(errors) == 1:
        inner = errors[0].get("matched_type")
        return {**errors[0], "matched_type": matched_type if inner is None else f"{matched_type}/{inner}"}
    return {"path": path, "matched_type": matched_type, "kind": "validation_error", "errors": errors}


def _hash_algorithm(catalog: SchemaCatalog, value: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The `password_hash_algorithm` union: (converted, its errors)."""
    if value is None:  # no default in the API schema: hocon checks the first member, bcrypt
        return None, [
            {"kind": "validation_error", "path": f"{_HASH_PATH}.name", "reason": "required_field", "matched_type": "authn_hash:bcrypt_rw_api"}
        ]
    if not isinstance(value, dict) or "name" not in value:  # the member selector throws
        return None, [{"kind": "validation_error", "path": _HASH_PATH, "reason": "algorithm_name_missing"}]
    # `union_selector/1` picks by the name as sent: any other value (a null, an object) picks
    # `simple`, whose struct then refuses it (a null is absent there: `required_field`)
    name = value["name"]
    definition, member = _HASH_MEMBERS.get(name if isinstance(name, str) else "", ("authn_hash_simple", "simple"))
    converted, errors = check_definition(catalog, definition, value)
    for error in errors:
        error["path"] = _HASH_PATH + error["path"].removeprefix("root")
    return converted, [_in_member(errors, _HASH_PATH, f"authn_hash:{member}")] if errors else []


def authenticator_config(call: Call) -> dict[str, Any]:
    """The request's authenticator config, checked as hocon checks it, defaults filled."""
    body = call.raw_body if isinstance(call.raw_body, dict) else {}  # the pipeline let only objects by
    if "mechanism" not in body:
        raise invalid({"kind": "validation_error", "path": "root", "reason": "missing_mechanism_field"})
    if body["mechanism"] != "password_based" or body.get("backend") != "built_in_database":
        selector = {key: body[key] for key in ("mechanism", "backend") if key in body}
        raise invalid({"kind": "validation_error", "path": "root", "reason": "unsupported_mechanism", **selector})
    converted, errors = check_definition(call.catalog, "authn_builtin_db_request", body)
    if errors and errors[0]["reason"] == "unknown_fields":  # reported before any field is checked
        raise invalid(_in_member(errors, "root", _BUILTIN_DB))
    # the struct sees the algorithm as any map; the union below is what checks it
    errors = [error for error in errors if not error["path"].startswith(_HASH_PATH)]
    algorithm, algorithm_errors = _hash_algorithm(call.catalog, body.get("password_hash_algorithm"))
    errors = algorithm_errors + errors  # the algorithm comes first in hocon's field order
    if errors:
        raise invalid(_in_member(errors, "root", _BUILTIN_DB))
    return {**converted, "password_hash_algorithm": algorithm}


# -- authenticators -------------------------------------------------------------------------


def _update_authenticator(call: Call, authenticator_id: str) -> None:
    call.broker.authn.update(authenticator_id, authenticator_config(call))


def _node_counters(broker: Broker, authenticator: Authenticator) -> dict[str, dict[str, int]]:
    """`built_in_database` has no resource: only the chain's counters, nodes in name order."""
    return {node: vars(authenticator.metrics.get(node, AuthnMetrics())) for node in sorted(broker.running_nodes)}


AUTHENTICATORS: Collection[Authenticator] = Collection(
    "/authentication",
    "id",
    items=lambda broker: broker.authn,
    find=lambda broker, authenticator_id: broker.authn.get(authenticator_id),
    view=lambda call, authenticator: authenticator.view(),
    keep_order=True,
    create=lambda call: call.broker.authn.create(authenticator_config(call)).view(),
    update=_update_authenticator,
    delete=lambda call, authenticator_id: call.broker.authn.delete(authenticator_id),
    node_counters=_node_counters,
)
AUTHENTICATORS.serve(routes)


@routes.put("/authentication/{id}/position/{position}")
def move_authenticator(call: Call) -> Reply:
    call.broker.authn.move(call.path["id"], call.path["position"])
    return Reply(204)


@routes.put("/authentication/order")
def reorder_authenticators(call: Call) -> Reply:
    call.broker.authn.reorder([item["id"] for item in call.body])
    return Reply(204)


# -- built-in database users ------------------------------------------------------------------


def _user_store(call: Call) -> Authenticator:
    try:
        return call.broker.authn.for_users(call.path["id"])
    except NoChain as error:
        raise ApiError(404, "NOT_FOUND", str(error)) from None
    except AuthenticatorNotFound as error:
        reason = f"{{not_found,{{authenticator,{binary(error.authenticator_id.encode())}}}}}"
        raise ApiError(400, "BAD_REQUEST", f"User error: {reason}") from None


def _hashing_failed(error: HashingUnavailable) -> ApiError:
    return ApiError(400, "BAD_REQUEST", f"User error: {{exception,{error}}}")


@routes.get("/authentication/{id}/users")
def list_users(call: Call) -> dict[str, Any]:
    query = call.query
    authenticator = _user_store(call)
    page, limit, like = query["page"], query["limit"], query.get("like_user_id")
    if like == "":  # `binary:match/2` with an empty pattern raises inside the chain server
        raise ApiError(400, "BAD_REQUEST", "User error: {exception,{error,badarg,[{binary,match,[],[]}]}}")
    rows = authenticator.listing(query.get("is_superuser"))
    found, meta = ets_listing([rows], page, limit, None if like is None else lambda user: like in user.user_id)
    return {"data": [user.view() for user in found], "meta": meta}


@routes.post("/authentication/{id}/users")
def create_user(call: Call) -> Reply:
    body = call.body
    if body["user_id"] == "":  # checked before the chain is looked at
        raise ApiError(400, "BAD_REQUEST", "User error: invalid_user_id")
    authenticator = _user_store(call)
    try:
        user = authenticator.add_user(body["user_id"], body["password"], body["is_superuser"])
    except HashingUnavailable as error:
        raise _hashing_failed(error) from None
    return Reply(201, user.view())


@routes.get("/authentication/{id}/users/{user_id}")
def get_user(call: Call) -> dict[str, Any]:
    return _user_store(call).user(call.path["user_id"]).view()


@routes.put("/authentication/{id}/users/{user_id}")
def update_user(call: Call) -> dict[str, Any]:
    authenticator = _user_store(call)
    try:
        user = authenticator.update_user(call.path["user_id"], call.body["password"], call.body.get("is_superuser"))
    except HashingUnavailable as error:
        raise _hashing_failed(error) from None
    return user.view()


@routes.delete("/authentication/{id}/users/{user_id}")
def delete_user(call: Call) -> Reply:
    _user_store(call).delete_user(call.path["user_id"])
    return Reply(204)


# -- import (`emqx_authn_user_import_api`: no schema check at all) ----------------------------


@routes.post("/authentication/{id}/import_users")
def import_users(call: Call) -> dict[str, Any]:
    plain = call.query.get("type") == "plain"  # anything else, or nothing, is a hash import
    request = call.request
    if request.headers.get("Content-Type", "").startswith("application/json"):
        upload: tuple[str, bytes] | None = None
    else:
        files = request.files.getlist("filename")
        if not files:
            raise ApiError(400, "BAD_REQUEST", "Missing required parameter: filename")
        if len(files) > 1:
            raise handler_crash("{badmatch,[...]}")
        upload = (files[0].filename or "", files[0].read())
    chain = call.broker.authn
    if not len(chain):
        raise ApiError(404, "NOT_FOUND", str(NoChain()))
    authenticator = chain.get(call.path["id"])
    try:
        rows = parse_import_list(call.raw_body, plain) if upload is None else parse_import_file(*upload, plain)
        return authenticator.import_users(rows, plain)
    except HashingUnavailable as error:
        raise _hashing_failed(error) from None
