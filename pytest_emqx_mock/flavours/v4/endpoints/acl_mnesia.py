"""`emqx_acl_mnesia_api`: `/acl`, the `emqx_auth_mnesia` ACL rules of clientids, usernames
and `$all`, over the one state's table.

* `POST /acl` adds one rule and echoes it with `"result": "ok"` (the target as
  `"clientid"`, `"username"` or `"all": "$all"`); a refused one is a `message` alone, the
  Erlang term `{add, #{...}}` printed (its `result` names the field: `{error,topic}`). A batch
  answers each item's echo, the last item first. A rule of a clientid and a username both
  crashes (500).
* `GET /acl/clientid`, `/acl/username`, `/acl/$all` page with `paginate_qh/5` (`_limit` 50 by
  default, meta without `hasnext`, `count` after the filters `clientid`, `_like_clientid`
  (substring), `topic`, `action`, `access`), each page newest first; `pubsub` rules are
  stored, and listed, as a `pub` and a `sub` rule.
* `GET /acl/clientid/{clientid}`, `/acl/username/{username}`: the target's rules, newest first.
* `DELETE .../topic/{topic}` removes every action of the topic, and always succeeds.
"""

from __future__ import annotations

from typing import Any

from ....erlang.terms import Atom, pretty
from ....http.routing import Call, raw_path
from ....state.auth_mnesia import (
    ALL,
    LOGIN_TYPES,
    AclRecord,
    Refused,
    Target,
    target_of,
)
from ..api import (
    RestApi,
    crash,
    failed_without_code,
    not_found,
    paged,
    param,
    params,
    single_or_batch,
    table_page,
)

api = RestApi()
routes = api.routes

#: `paginate_qh/5`'s own `limit/1`: 50 rows when `_limit` is not given.
ACL_LIMIT = 50
#: A rule's fields, which are also the filters every listing takes (`?COMMON_SCHEMA`).
_FIELDS = ("topic", "action", "access")


def _term(value: Any) -> Any:
    """A decoded JSON value as the Erlang term jsx made of it (for `~0p`): text a binary,
    null the atom `null`, an object a proplist (`[{}]` when empty)."""
    if isinstance(value, str):
        return value.encode()
    if value is None:
        return Atom("null")
    if isinstance(value, dict):
        return [(key.encode(), _term(item)) for key, item in value.items()] or [()]
    if isinstance(value, list):
        return [_term(item) for item in value]
    return value


def _item_fields(item: Any) -> dict[str, Any]:
    """One rule's fields (`proplists:get_value/3` on an item: an array has none); another
    kind of item crashes."""
    if isinstance(item, dict):
        return item
    if isinstance(item, list):
        return {}
    raise crash()


def _target(fields: dict[str, Any]) -> tuple[str, Any]:
    target = target_of(fields.get("clientid"), fields.get("username"))
    if target is None:
        raise crash()  # do_add/1's case clause has no branch for both
    return target


def _add(call: Call, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`do_add/1`: the echo of the rule (values as given, `undefined` when absent) with its
    `result`, and whether it was added."""
    target = _target(fields)
    values = {name: fields.get(name) for name in _FIELDS}
    try:
        call.broker.authz.mnesia.add(target, values["topic"], values["action"], values["access"])
        result, added = "ok", True
    except Refused as error:
        result, added = pretty((Atom("error"), Atom(str(error)))), False
    kind, login = target
    who = {"all": "$all"} if kind == ALL else {kind: login}
    echo = {**{name: "undefined" if name not in fields else value for name, value in values.items()}, **who}
    return {**echo, "result": result}, added


def _printed_refusal(fields: dict[str, Any], echo: dict[str, Any]) -> str:
    """`{add, Re}` as `~0p` prints it: the echo's map with Erlang terms for values."""
    kind = next(key for key in ("all", "clientid", "username") if key in echo)
    term: dict[str, Any] = {
        name: Atom("undefined") if name not in fields else _term(fields[name]) for name in _FIELDS
    }
    term[kind] = Atom("$all") if kind == "all" else _term(echo[kind])
    term["result"] = echo["result"].encode()
    return pretty((Atom("add"), term))


def add(call: Call) -> Any:
    pairs, batch = single_or_batch(call)
    if batch is not None:
        items = [_item_fields(item) for item in batch]
        for fields in items:
            _target(fields)  # a crash before any rule is written
        return _batch(call, items)
    fields = dict(reversed(pairs))  # the first value of a key, as proplists:get_value/3
    echo, added = _add(call, fields)
    if not added:
        raise failed_without_code(_printed_refusal(fields, echo))
    return echo


def _batch(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`do_add/2`: added in order, answered last first."""
    return list(reversed([_add(call, fields)[0] for fields in items]))


def _listed(call: Call, kind: str) -> Any:
    """`list_clientid/2` and its kin: the table's rules of that kind of target, filtered, then
    the page (`_limit` 50), then the page sorted newest first."""
    pairs = params(call)
    wanted = {name: param(pairs, name) for name in _FIELDS}
    exact = param(pairs, kind) if kind != ALL else None
    like = param(pairs, f"_like_{kind}") if kind != ALL else None

    def kept(rule: AclRecord) -> bool:
        login = rule.target[1]
        return (
            all(value is None or getattr(rule, name) == value for name, value in wanted.items())
            and (exact is None or login == exact)
            and (like is None or like in login)
        )

    rows, meta = table_page([rule for rule in call.broker.authz.mnesia.records(kind) if kept(rule)], pairs, ACL_LIMIT)
    return paged([rule.view() for rule in sorted(rows, key=AclRecord.newest_first, reverse=True)], meta)


def _delete(call: Call, target: Target) -> None:
    call.broker.authz.mnesia.remove(target, call.path["topic"])


# Declared in `emqx_acl_mnesia_api`'s order, which `GET /api/v4` lists.
def _serve_list(login_type: str) -> None:
    @api.rest(f"list_{login_type}", "GET", f"/acl/{login_type}", "List available mnesia in the cluster")
    def listed(call: Call) -> Any:
        return _listed(call, login_type)


def _serve_lookup(login_type: str) -> None:
    @api.rest(f"lookup_{login_type}", "GET", f"/acl/{login_type}/:bin:{login_type}", "Lookup mnesia in the cluster")
    def lookup(call: Call) -> list[dict[str, Any]]:
        return [rule.view() for rule in call.broker.authz.mnesia.lookup((login_type, call.path[login_type]))]


def _serve_delete(login_type: str) -> None:
    path = f"/acl/{login_type}/:bin:{login_type}/topic/:bin:topic"

    @api.rest(f"delete_{login_type}", "DELETE", path, "Delete mnesia in the cluster")
    def delete(call: Call) -> None:
        _delete(call, (login_type, call.path[login_type]))


for _login_type in LOGIN_TYPES:
    _serve_list(_login_type)


def _literal_all(call: Call) -> None:
    """`$all` is a literal segment of the route: `%24all` matches no route (404)."""
    if "$all" not in raw_path(call.request.environ).split("/"):
        raise not_found()


@api.rest("list_all", "GET", "/acl/$all", "List available mnesia in the cluster")
def list_all(call: Call) -> Any:
    _literal_all(call)
    return _listed(call, ALL)


for _login_type in LOGIN_TYPES:
    _serve_lookup(_login_type)
api.rest("add", "POST", "/acl", "Add mnesia in the cluster")(add)
for _login_type in LOGIN_TYPES:
    _serve_delete(_login_type)


@api.rest("delete_all", "DELETE", "/acl/$all/topic/:bin:topic", "Delete mnesia in the cluster")
def delete_all(call: Call) -> None:
    _literal_all(call)
    _delete(call, (ALL, ""))
