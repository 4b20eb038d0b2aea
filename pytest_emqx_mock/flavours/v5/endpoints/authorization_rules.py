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

from ....http.replies import Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.authz import RULE_OWNERS
from ....state.paging import ets_listing

routes = Routes()

BASE = "/authorization/sources/built_in_database/rules"


def _list(call: Call, kind: str) -> dict[str, Any]:
    call.broker.authz.builtin_max_rules()
    name, _, _ = RULE_OWNERS[kind]
    table = call.broker.authz.rules.owners(kind)
    page, limit = call.query["page"], call.query["limit"]
    like = call.query.get(f"like_{name}")
    if like == "":
        raise handler_crash("badarg")  # an empty pattern crashes `binary:match/2`
    keys = sorted(table, reverse=True)
    keep = None if like is None else (lambda key: like in key)
    found, meta = ets_listing([keys], page, limit, keep)
    return {"data": [{name: key, "rules": table[key]} for key in found], "meta": meta}


def _create(call: Call, kind: str) -> Reply:
    max_rules = call.broker.authz.builtin_max_rules()
    name, _, _ = RULE_OWNERS[kind]
    if not isinstance(call.raw_body, list) or any(item.get("rules") is None for item in call.body):
        raise handler_crash("badmatch")
    call.broker.authz.rules.add_owners(kind, [(item[name], item["rules"]) for item in call.body], max_rules)
    return Reply(204)


def _one(call: Call, kind: str) -> dict[str, Any]:
    call.broker.authz.builtin_max_rules()
    name, _, _ = RULE_OWNERS[kind]
    return {name: call.path[name], "rules": call.broker.authz.rules.owner(kind, call.path[name])}


def _replace(call: Call, kind: str) -> Reply:
    max_rules = call.broker.authz.builtin_max_rules()
    name, _, _ = RULE_OWNERS[kind]
    key = call.path[name]
    if call.body.get(name) != key or call.body.get("rules") is None:
        raise handler_crash("function_clause")
    call.broker.authz.rules.replace_owner(kind, key, call.body["rules"], max_rules)
    return Reply(204)


def _delete(call: Call, kind: str) -> Reply:
    call.broker.authz.builtin_max_rules()
    name, _, _ = RULE_OWNERS[kind]
    call.broker.authz.rules.delete_owner(kind, call.path[name])
    return Reply(204)


def _serve_owner_rules(kind: str) -> None:
    """The same five operations serve the rules of users and of clients."""
    name, _, _ = RULE_OWNERS[kind]
    listing, entry = f"{BASE}/{kind}", f"{BASE}/{kind}/{{{name}}}"
    routes.get(listing)(lambda call: _list(call, kind))
    routes.post(listing)(lambda call: _create(call, kind))
    routes.get(entry)(lambda call: _one(call, kind))
    routes.put(entry)(lambda call: _replace(call, kind))
    routes.delete(entry)(lambda call: _delete(call, kind))


for _kind in ("users", "clients"):
    _serve_owner_rules(_kind)


@routes.get(BASE + "/all")
def get_all_rules(call: Call) -> dict[str, Any]:
    call.broker.authz.builtin_max_rules()
    return {"rules": call.broker.authz.rules.all}


@routes.post(BASE + "/all")
def set_all_rules(call: Call) -> Reply:
    max_rules = call.broker.authz.builtin_max_rules()
    if call.body.get("rules") is None:
        raise handler_crash("function_clause")
    call.broker.authz.rules.replace_all(call.body["rules"], max_rules)
    return Reply(204)


@routes.delete(BASE + "/all")
def delete_all_rules(call: Call) -> Reply:
    call.broker.authz.builtin_max_rules()
    call.broker.authz.rules.set("all", "", [])
    return Reply(204)


@routes.delete(BASE)
def purge_rules(call: Call) -> Reply:
    """Only a disabled source may be purged: every user, client and all rule goes."""
    call.broker.authz.purge_rules()
    return Reply(204)
