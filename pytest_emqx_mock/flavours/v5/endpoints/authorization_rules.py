"""`emqx_authz_api_mnesia`: the built-in database's rules, per username, per clientid and for
all clients.

* Every path answers 404 `Not found: built_in_database` while that source is not configured
  (enabled or not), after the request's own schema check.
* Lists are in descending username/clientid order; `hasnext` is true whenever the page is full
  (EMQX's ETS continuation), and `count` is left out under a `like_*` filter.
* `max_rules` (the source's) bounds the rules of one entry; `POST` is all or nothing, the first
  bad item deciding (409 for an entry already stored, 400 for too many rules).
* Writing rules does not empty the clients' caches (EMQX's rules API does not drain them).
"""

from __future__ import annotations

from typing import Any

from ....http.replies import ApiError, Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.authz import RuleTable, normalize_rule
from ....state.paging import ets_page

routes = Routes()

BASE = "/authorization/sources/built_in_database/rules"
#: Per kind: the name field, the table attribute, and the words of its messages.
_KINDS = {
    "users": ("username", "User", "Username Not Found"),
    "clients": ("clientid", "Client", "ClientID Not Found"),
}


def _source_max_rules(call: Call) -> int:
    """`is_configured_authz_source`: 404 unless the built-in database source exists."""
    source = call.broker.authz.source("built_in_database")
    if source is None:
        raise ApiError(404, "NOT_FOUND", "Not found: built_in_database")
    return int(source.config["max_rules"])


def _table(call: Call, kind: str) -> dict[str, list[dict[str, Any]]]:
    rules: RuleTable = call.broker.authz.rules
    return rules.users if kind == "users" else rules.clients


def _normalized(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [normalize_rule({key: value for key, value in rule.items() if value is not None}) for rule in rules]


def _list(call: Call, kind: str) -> dict[str, Any]:
    _source_max_rules(call)
    name, _, _ = _KINDS[kind]
    table = _table(call, kind)
    page, limit = call.query["page"], call.query["limit"]
    like = call.query.get(f"like_{name}")
    if like == "":
        raise handler_crash("badarg")  # an empty pattern crashes `binary:match/2`
    keys = sorted(table, reverse=True)
    keep = None if like is None else (lambda key: like in key)
    found, hasnext = ets_page([keys], page, limit, keep)
    meta: dict[str, Any] = {"hasnext": hasnext, "limit": limit, "page": page}
    if like is None:
        meta["count"] = len(keys)
    return {"data": [{name: key, "rules": table[key]} for key in found], "meta": meta}


def _create(call: Call, kind: str) -> Reply:
    max_rules = _source_max_rules(call)
    name, label, _ = _KINDS[kind]
    if not isinstance(call.raw_body, list) or any(item.get("rules") is None for item in call.body):
        raise handler_crash("badmatch")
    table = _table(call, kind)
    stored: dict[str, list[dict[str, Any]]] = {}
    for item in call.body:
        if item[name] in table:
            raise ApiError(409, "ALREADY_EXISTS", f"{label} '{item[name]}' already exist")
        if len(item["rules"]) > max_rules:
            raise ApiError(400, "BAD_REQUEST", f"The rules length of {label} '{item[name]}' exceeds the maximum limit.")
        stored[item[name]] = _normalized(item["rules"])
    for key, rules in stored.items():
        call.broker.authz.rules.set(kind, key, rules)
    return Reply(204)


def _one(call: Call, kind: str) -> dict[str, Any]:
    _source_max_rules(call)
    name, _, _ = _KINDS[kind]
    key = call.path[name]
    table = _table(call, kind)
    if key not in table:
        raise ApiError(404, "NOT_FOUND", "Not Found")
    return {name: key, "rules": table[key]}


def _replace(call: Call, kind: str) -> Reply:
    max_rules = _source_max_rules(call)
    name, _, _ = _KINDS[kind]
    key = call.path[name]
    if call.body.get(name) != key or call.body.get("rules") is None:
        raise handler_crash("function_clause")
    if len(call.body["rules"]) > max_rules:
        raise ApiError(400, "BAD_REQUEST", "The rules length exceeds the maximum limit.")
    call.broker.authz.rules.set(kind, key, _normalized(call.body["rules"]))
    return Reply(204)


def _delete(call: Call, kind: str) -> Reply:
    _source_max_rules(call)
    name, _, missing = _KINDS[kind]
    key = call.path[name]
    if key not in _table(call, kind):
        raise ApiError(404, "NOT_FOUND", missing)
    call.broker.authz.rules.delete(kind, key)
    return Reply(204)


@routes.get(BASE + "/users")
def list_user_rules(call: Call) -> dict[str, Any]:
    return _list(call, "users")


@routes.post(BASE + "/users")
def create_user_rules(call: Call) -> Reply:
    return _create(call, "users")


@routes.get(BASE + "/users/{username}")
def get_user_rules(call: Call) -> dict[str, Any]:
    return _one(call, "users")


@routes.put(BASE + "/users/{username}")
def put_user_rules(call: Call) -> Reply:
    return _replace(call, "users")


@routes.delete(BASE + "/users/{username}")
def delete_user_rules(call: Call) -> Reply:
    return _delete(call, "users")


@routes.get(BASE + "/clients")
def list_client_rules(call: Call) -> dict[str, Any]:
    return _list(call, "clients")


@routes.post(BASE + "/clients")
def create_client_rules(call: Call) -> Reply:
    return _create(call, "clients")


@routes.get(BASE + "/clients/{clientid}")
def get_client_rules(call: Call) -> dict[str, Any]:
    return _one(call, "clients")


@routes.put(BASE + "/clients/{clientid}")
def put_client_rules(call: Call) -> Reply:
    return _replace(call, "clients")


@routes.delete(BASE + "/clients/{clientid}")
def delete_client_rules(call: Call) -> Reply:
    return _delete(call, "clients")


@routes.get(BASE + "/all")
def get_all_rules(call: Call) -> dict[str, Any]:
    _source_max_rules(call)
    return {"rules": call.broker.authz.rules.all}


@routes.post(BASE + "/all")
def set_all_rules(call: Call) -> Reply:
    max_rules = _source_max_rules(call)
    if call.body.get("rules") is None:
        raise handler_crash("function_clause")
    if len(call.body["rules"]) > max_rules:
        raise ApiError(400, "BAD_REQUEST", "The length of rules exceeds the maximum limit.")
    call.broker.authz.rules.set("all", "", _normalized(call.body["rules"]))
    return Reply(204)


@routes.delete(BASE + "/all")
def delete_all_rules(call: Call) -> Reply:
    _source_max_rules(call)
    call.broker.authz.rules.set("all", "", [])
    return Reply(204)


@routes.delete(BASE)
def purge_rules(call: Call) -> Reply:
    """Only a disabled source may be purged: every user, client and all rule goes."""
    _source_max_rules(call)
    source = call.broker.authz.source("built_in_database")
    if source is not None and source.enabled:
        raise ApiError(400, "BAD_REQUEST", "'built_in_database' type source must be disabled before purge.")
    call.broker.authz.rules.clear()
    return Reply(204)
