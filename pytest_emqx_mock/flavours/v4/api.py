"""What EMQX 4.4's API modules share: their `-rest_api` declarations (each route's name,
method, path and description, which `GET /api/v4` lists), minirest 0.3's `return/1` (the
`{"code": 0, "data": ...}` envelope, and result codes with HTTP 200), and `emqx_mgmt_api`'s
parameters and paging (`_page`, `_limit`, the two `meta` shapes)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, TypeVar

from ...erlang.terms import binary, pretty
from ...http.replies import ApiError, Reply
from ...http.routing import Call, Handler, Routes

#: `include/emqx_mgmt.hrl`: the result codes, with the header's description of each.
RESULT_CODES = {
    101: "badrpc",
    102: "Unknown error",
    103: "Username or password error",
    104: "Empty username or password",
    105: "User does not exist",
    106: "Admin can not be deleted",
    107: "Missing request parameter",
    108: "Request parameter type error",
    109: "Request parameter is not a json",
    110: "Plugin has been loaded",
    111: "Plugin has been unloaded",
    112: "Client not online",
    113: "User already exist",
    114: "OldPassword error",
    115: "bad topic",
    116: "bad QoS",
}
BADRPC, UNKNOWN_ERROR, MISSING_PARAMETER, PARAMETER_TYPE, NOT_ONLINE = 101, 102, 107, 108, 112

#: `management.max_row_limit`: `_limit`'s default (`emqx_mgmt:max_row_limit/0`).
MAX_ROW_LIMIT = 10000


def failed(code: int, message: str) -> ApiError:
    """`minirest:return({error, Code, Message})`: HTTP 200, `{"code", "message"}`."""
    return ApiError(200, str(code), message)


def failed_without_code(message: str) -> ApiError:
    """`minirest:return({error, Message})`: HTTP 200, `{"message"}` and no code at all."""
    return ApiError(200, "", message)


def reachable(call: Call) -> str:
    """The path's node, when its RPC can answer; a node that is down answers the failed call's
    reason, `nodedown`, without a code."""
    node = call.path["node"]
    if not call.broker.nodes[node].running:
        raise failed_without_code("nodedown")
    return node


def crash() -> ApiError:
    """A handler that raised (a failed match, a bad integer): minirest's 500 `Internal Error`."""
    return ApiError(500, "INTERNAL_ERROR", "Internal Error")


def not_found() -> ApiError:
    """No route (or a binding that does not convert, an unknown `:atom:` node): 404 `Not found.`."""
    return ApiError(404, "NOT_FOUND", "Not found.")


def paged(data: Any, meta: dict[str, Any]) -> Reply:
    """`minirest:return({ok, #{data := D, meta := M}})`."""
    return Reply(200, {"code": 0, "data": data, "meta": meta})


# -- declarations ---------------------------------------------------------------------------

_BINDING = re.compile(r"^:(?:(?P<type>[a-z]+):)?(?P<name>[a-z_]+)$")
#: `minirest_handler:format_path/1`: the `:type` of each binding removed (greedily: across
#: two untyped bindings, `/banned/:as/:who` lists as `/banned/:who`).
_TYPED = re.compile(r":[^:]+(:[^/]+)")


@dataclass(frozen=True)
class Declaration:
    """One `-rest_api(#{name, method, path, descr})` attribute."""

    name: str
    method: str
    path: str  # as declared, e.g. "nodes/:atom:node/clients/"
    descr: str

    @property
    def key(self) -> str:
        """The operation as the fake's routes and schemas name it: `GET /clients/{clientid}`."""
        return f"{self.method} {_template(self.path)[0]}"

    def listed(self) -> dict[str, str]:
        """The route as `GET /api/v4` lists it (`minirest_handler:format_route/1`)."""
        return {"name": self.name, "method": self.method, "path": _TYPED.sub(r"\1", self.path), "descr": self.descr}


def _template(path: str) -> tuple[str, list[str]]:
    """The fake's route template for a declared path (`string:tokens/2`: empty segments go)
    and the names of its `:atom:` bindings."""
    segments, atoms = [], []
    for token in path.split("/"):
        found = _BINDING.match(token)
        if token and found is None:
            segments.append(token)
        elif found is not None:
            segments.append("{" + found["name"] + "}")
            if found["type"] == "atom":
                atoms.append(found["name"])
    return "/" + "/".join(segments), atoms


@dataclass
class RestApi:
    """The routes of one EMQX 4.4 API module, declared as its `-rest_api` attributes are."""

    routes: Routes = field(default_factory=Routes)
    declarations: list[Declaration] = field(default_factory=list)

    def rest(self, name: str, method: str, path: str, descr: str) -> Callable[[Handler], Handler]:
        """Serve a declaration with the handler. An `:atom:` binding converts with
        `list_to_existing_atom/1`: a node name that is no node of the cluster matches no
        route (404)."""
        template, atoms = _template(path)

        def register(handler: Handler) -> Handler:
            def checked(call: Call) -> Any:
                if any(call.path[name] not in call.broker.nodes for name in atoms):
                    raise not_found()
                return handler(call)

            self.routes.route(method, template)(checked if atoms else handler)
            self.declarations.append(Declaration(name, method, path, descr))
            return handler

        return register


# -- parameters -----------------------------------------------------------------------------


def params(call: Call) -> list[tuple[str, Any]]:
    """`minirest_handler:parse_params/1`: the query string's pairs, then the JSON body's (an
    object's members); a body of another kind crashes the handler that reads them."""
    pairs = [(key, value) for key in call.request.args for value in call.request.args.getlist(key)]
    if call.body is None:
        return pairs
    if not isinstance(call.body, dict):
        raise crash()
    return pairs + list(call.body.items())


def single_or_batch(call: Call) -> tuple[list[tuple[str, Any]], list[Any] | None]:
    """The dual `POST`s of `emqx_auth_mnesia` (`[P | _] = Params, case is_list(P)`): the
    parameters of one item, or (with None) the items of a batch, when there is no query and
    the body is an array whose first element is an object or an array. No parameter at all
    (no body, or `[]`, and no query) fails that match: a crash; so does a body of another kind."""
    query = [(key, value) for key in call.request.args for value in call.request.args.getlist(key)]
    body = call.body
    if not query and (body is None or body == []):
        raise crash()
    if not query and isinstance(body, list) and isinstance(body[0], (dict, list)):
        return [], body
    if body is not None and not isinstance(body, (dict, list)):
        raise crash()
    return query + (list(body.items()) if isinstance(body, dict) else []), None


def param(pairs: list[tuple[str, Any]], key: str, default: Any = None) -> Any:
    """`proplists:get_value/3`: the first value given for `key`."""
    return next((value for name, value in pairs if name == key), default)


_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def to_integer(value: Any) -> int:
    """`binary_to_integer/1` (an integer as it is): ValueError for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    raise ValueError(value)


def page_and_limit(pairs: list[tuple[str, Any]], default_limit: int = MAX_ROW_LIMIT) -> tuple[int, int]:
    """`emqx_mgmt_api:page/1` and `limit/1`: `_page` (1) and `_limit` (`max_row_limit`, or
    the endpoint's own default), each text parsed strictly; anything else (a JSON number in
    the body too) crashes: 500."""
    try:
        page = to_integer(_text(param(pairs, "_page", "1")))
        limit = to_integer(_text(param(pairs, "_limit", str(default_limit))))
    except ValueError:
        raise crash() from None
    return page, limit


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


Row = TypeVar("Row")


def table_page(rows: list[Row], pairs: list[tuple[str, Any]], default_limit: int = MAX_ROW_LIMIT) -> tuple[list[Row], dict[str, Any]]:
    """`emqx_mgmt_api:paginate/3` over a table: rows skipped only from page 2 on, meta
    `{page, limit, count}` with the table's size."""
    page, limit = page_and_limit(pairs, default_limit)
    if limit < 0:
        raise crash()  # qlc:next_answers/2 takes no negative count
    start = (page - 1) * limit if page > 1 else 0
    return rows[start : start + limit], {"page": page, "limit": limit, "count": len(rows)}


def query_page(rows: Iterable[Row], pairs: list[tuple[str, Any]], count: int | None) -> tuple[list[Row], dict[str, Any]]:
    """`emqx_mgmt_api:cluster_query/3` and `node_query/4`: `limit + 1` rows from the start,
    meta `{page, limit, count, hasnext}`; `count` is the table's size, or -1 (None here) as
    soon as any filter of the query's schema is given."""
    page, limit = page_and_limit(pairs)
    if limit < 0:
        raise crash()  # lists:sublist/2 takes no negative length
    start = (page - 1) * limit if page > 1 else 0
    found = _slice(iter(rows), start, limit + 1)
    meta = {"page": page, "limit": limit, "count": -1 if count is None else count, "hasnext": len(found) > limit}
    return found[:limit], meta


def _slice(rows: Iterator[Row], start: int, size: int) -> list[Row]:
    for _ in range(start):
        if next(rows, None) is None:
            return []
    found: list[Row] = []
    for row in rows:
        if len(found) == size:
            break
        found.append(row)
    return found


def cannot_convert(value: Any, kind: str) -> ApiError:
    """`emqx_mgmt_api_clients:fence/1`: a filter value its schema's type cannot take."""
    return failed(PARAMETER_TYPE, f"Can't convert {_printed(value)} to {kind} type")


def _printed(value: Any) -> str:
    """A value of the query string (a binary) or the JSON body as `~p` prints it."""
    if isinstance(value, str):
        return binary(value.encode())
    try:
        return pretty(value)
    except TypeError:  # a float: ~p prints it as Python does
        return repr(value)


# -- formats --------------------------------------------------------------------------------


def strftime(epoch_seconds: float) -> str:
    """`emqx_mgmt_util:strftime/1`: whole seconds, in the server's local time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(epoch_seconds)))


def undefined(value: str | None) -> str:
    """An unset field as jiffy encodes the atom `undefined`: the string "undefined"."""
    return "undefined" if value is None else value
