"""`emqx_auth_mnesia_api`: `/auth_clientid` and `/auth_username`, mirror images of each other
(declared once here, for each login type), over the one state's `emqx_auth_mnesia` users.

* `POST` adds one user (`{"clientid", "password"}`: `{"code": 0}`, or a `message` alone:
  `existed`, `login`, `password`), or a batch when the parameters' first element is itself an
  object: `{"code": 0, "data": {<login>: "ok" | "{error,existed}" | ...}}`, the items in
  reverse order (an object written from a list built by prepending), a login not given under
  `"undefined"`.
* `GET /auth_clientid` pages with `emqx_mgmt_api:node_query/6` (`hasnext`; `count` -1 under a
  `clientid` or `_like_clientid` filter, the latter a plain substring), each page newest first.
* `GET /auth_clientid/{clientid}` is an object (`{}` when absent); `PUT` changes the
  password (`noexisted`, `password`); `DELETE` always succeeds.
"""

from __future__ import annotations

from typing import Any

from ....erlang.terms import Atom, pretty
from ....http.routing import Call
from ....state.auth_mnesia import LOGIN_TYPES, MnesiaUser, Refused
from ....state.errors import AlreadyExists, NotFound
from ..api import (
    RestApi,
    crash,
    failed_without_code,
    paged,
    param,
    params,
    query_page,
    single_or_batch,
)

api = RestApi()
routes = api.routes


def _message(error: Exception) -> str:
    """`format_msg/1` of the reason: `existed`, `noexisted`, `login`, `password`."""
    return str(error)


def _add(call: Call, login_type: str, pairs: list[tuple[str, Any]]) -> None:
    """`do_add_clientid/1`: AlreadyExists or Refused, whose text is the reason."""
    call.broker.authn.mnesia.add(login_type, param(pairs, login_type), param(pairs, "password"))


def _batch_key(item: Any, login_type: str) -> str:
    """An item's key in the batch's answer: its login as given (none: the atom `undefined`).
    An item that is no object or array crashes `proplists:get_value/2`, and a login of
    another kind than text is a key jiffy cannot write: both a crash here, checked before
    any user is written."""
    if not isinstance(item, (dict, list)):
        raise crash()
    login = item.get(login_type) if isinstance(item, dict) else None
    if login is None:
        return "undefined"
    if not isinstance(login, str):
        raise crash()
    return login


def _serve(login_type: str) -> None:
    like = f"_like_{login_type}"
    base = f"/auth_{login_type}"

    @api.rest(f"list_{login_type}", "GET", base, f"List available {login_type} in the cluster")
    def listed(call: Call) -> Any:
        pairs = params(call)
        exact, fuzzy = param(pairs, login_type), param(pairs, like)
        users = call.broker.authn.mnesia.of_type(login_type)
        found = (
            user for user in users
            if (exact is None or user.login == exact) and (fuzzy is None or fuzzy in user.login)
        )  # fmt: skip
        filtered = exact is not None or fuzzy is not None
        rows, meta = query_page(found, pairs, None if filtered else len(users))
        rows.sort(key=lambda user: -user.created_at)
        return paged([user.view() for user in rows], meta)

    @api.rest(f"lookup_{login_type}", "GET", f"{base}/:bin:{login_type}", f"Lookup {login_type} in the cluster")
    def lookup(call: Call) -> dict[str, Any]:
        user: MnesiaUser | None = call.broker.authn.mnesia.lookup(login_type, call.path[login_type])
        return {} if user is None else user.view()

    @api.rest(f"add_{login_type}", "POST", base, f"Add {login_type} in the cluster")
    def add(call: Call) -> Any:
        pairs, batch = single_or_batch(call)
        if batch is not None:
            return _add_batch(call, login_type, batch)
        try:
            _add(call, login_type, pairs)
        except (AlreadyExists, Refused) as error:
            raise failed_without_code(_message(error)) from None
        return None

    @api.rest(f"update_{login_type}", "PUT", f"{base}/:bin:{login_type}", f"Update {login_type} in the cluster")
    def update(call: Call) -> None:
        try:
            call.broker.authn.mnesia.update(login_type, call.path[login_type], param(params(call), "password"))
        except (NotFound, Refused) as error:
            raise failed_without_code(_message(error)) from None

    @api.rest(f"delete_{login_type}", "DELETE", f"{base}/:bin:{login_type}", f"Delete {login_type} in the cluster")
    def delete(call: Call) -> None:
        call.broker.authn.mnesia.remove(login_type, call.path[login_type])


def _add_batch(call: Call, login_type: str, items: list[Any]) -> dict[str, str]:
    """`do_add_clientid/2`: each item added in turn, its result under its login, in a list
    built by prepending, which minirest's `to_map/1` folds into an object: for a login
    given twice, the first item's result (the last in the list) is the one kept."""
    keys = [_batch_key(item, login_type) for item in items]
    results: list[tuple[str, str]] = []
    for key, item in zip(keys, items, strict=True):
        try:
            _add(call, login_type, list(item.items()) if isinstance(item, dict) else [])
            results.append((key, "ok"))
        except (AlreadyExists, Refused) as error:
            results.append((key, pretty((Atom("error"), Atom(_message(error))))))
    answer: dict[str, str] = {}
    for key, result in reversed(results):
        answer[key] = result
    return answer


for _login_type in LOGIN_TYPES:
    _serve(_login_type)
