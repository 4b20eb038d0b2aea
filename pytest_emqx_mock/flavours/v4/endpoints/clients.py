"""`emqx_mgmt_api_clients`: the client list (cluster-wide and per node), lookups by client id
and username, kicking a client and its ACL cache."""

from __future__ import annotations

import ipaddress
import operator
from typing import Any, Callable, Iterable

from ....http.replies import ApiError, Reply
from ....http.routing import Call
from ....state.broker import Broker
from ....state.cluster import Node
from ....state.sessions import Session
from ..api import (
    BADRPC,
    NOT_ONLINE,
    RestApi,
    cannot_convert,
    crash,
    failed,
    paged,
    params,
    query_page,
    strftime,
    to_integer,
    undefined,
)

api = RestApi()
routes = api.routes

#: The zone of the default listeners' clients in EMQX 4.4's `emqx.conf`.
ZONE = "external"

#: The counters `format_channel_info/1` keeps of the channel's stats, in its names.
_COUNTERS = (
    "heap_size", "reductions", "mailbox_len", "recv_cnt", "recv_msg", "recv_msg.qos0",
    "recv_msg.qos1", "recv_msg.qos2", "recv_msg.dropped", "recv_msg.dropped.expired", "recv_oct",
    "recv_pkt", "send_cnt", "send_msg", "send_msg.qos0", "send_msg.qos1", "send_msg.qos2",
    "send_msg.dropped", "send_msg.dropped.expired", "send_msg.dropped.queue_full",
    "send_msg.dropped.too_large", "send_oct", "send_pkt",
)  # fmt: skip


def client_row(session: Session) -> dict[str, Any]:
    """`emqx_mgmt_api_clients:format_channel_info/1`: times as local `strftime`, unset
    username and mountpoint as the atom `undefined`; an unlimited maximum (EMQX 4's 0) as 0."""
    stats = session.stats
    row: dict[str, Any] = {
        "node": session.node,
        "clientid": session.clientid,
        "username": undefined(session.username),
        "mountpoint": undefined(session.mountpoint),
        "zone": ZONE,
        "is_bridge": session.is_bridge,
        "proto_name": session.proto_name,
        "proto_ver": session.proto_ver,
        "ip_address": undefined(session.ip_address),
        "port": session.port,
        "clean_start": session.clean_start,
        "keepalive": session.keepalive,
        "expiry_interval": session.expiry_interval,
        "connected": session.connected,
        "connected_at": strftime(session.connected_at),
        "created_at": strftime(session.created_at),
        "subscriptions_cnt": len(session.subscriptions),
        "max_subscriptions": session.subscriptions_max if isinstance(session.subscriptions_max, int) else 0,
        "inflight": len(session.inflight),
        "max_inflight": session.inflight_max,
        "awaiting_rel": session.awaiting_rel_cnt,
        "max_awaiting_rel": session.awaiting_rel_max,
        "mqueue_len": len(session.mqueue),
        "mqueue_dropped": session.mqueue_dropped,
        "max_mqueue": session.mqueue_max,
    }
    if session.disconnected_at is not None:
        row["disconnected_at"] = strftime(session.disconnected_at)
    row.update((name, stats.get(name, 0)) for name in _COUNTERS)
    return row


# -- the query schema (`?CLIENT_QS_SCHEMA`) and its conversions (`emqx_mgmt_api:to_type/2`) --

Test = Callable[[Session], bool]


def _ipv4(value: Any) -> tuple[int, ...]:
    """`emqx_mgmt_api:aton/1`: the dotted parts as integers, however many."""
    if not isinstance(value, str):
        raise ValueError(value)
    return tuple(to_integer(part) for part in value.split("."))


def _atom(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _peer(session: Session) -> tuple[int, ...] | None:
    try:
        address = ipaddress.ip_address(session.ip_address or "")
    except ValueError:
        return None
    return tuple(address.packed) if address.version == 4 else None


def _conn_state(session: Session) -> str:
    return "connected" if session.connected else "disconnected"


#: Exact filters: (the type their value converts to, the session's value compared with it).
_EXACT: dict[str, tuple[str, Callable[[Any], Any], Callable[[Session], Any]]] = {
    "clientid": ("binary", lambda value: value, lambda s: s.clientid),
    "username": ("binary", lambda value: value, lambda s: s.username),
    "zone": ("atom", _atom, lambda s: ZONE),
    "ip_address": ("ip", _ipv4, _peer),
    "conn_state": ("atom", _atom, _conn_state),
    "clean_start": ("atom", _atom, lambda s: "true" if s.clean_start else "false"),
    "proto_name": ("binary", lambda value: value, lambda s: s.proto_name),
    "proto_ver": ("integer", to_integer, lambda s: s.proto_ver),
}
#: Range filters: (their type's conversion, the session's value in those units).
_RANGES: dict[str, tuple[str, Callable[[Any], int], Callable[[Session], int]]] = {
    "created_at": ("timestamp", lambda value: to_integer(value) * 1000, lambda s: int(s.created_at * 1000)),
    "connected_at": ("timestamp", lambda value: to_integer(value) * 1000, lambda s: int(s.connected_at * 1000)),
    "mqueue_len": ("integer", to_integer, lambda s: len(s.mqueue)),
    "mqueue_dropped": ("integer", to_integer, lambda s: s.mqueue_dropped),
}
_FUZZY = {"_like_clientid": lambda s: s.clientid, "_like_username": lambda s: s.username}


def _converted(key: str, value: Any, kind: str, convert: Callable[[Any], Any]) -> Any:
    try:
        return convert(value)
    except ValueError:
        raise cannot_convert(value, kind) from None


def _compared(value_of: Callable[[Session], Any], compare: Callable[[Any, Any], bool], value: Any) -> Test:
    return lambda session: compare(value_of(session), value)


def _like(part: Any, value_of: Callable[[Session], str | None]) -> Test:
    """`run_fuzzy_match/2`: a plain substring (`binary:match/2`, which fails on an empty
    pattern, crashing the handler once a row is tested)."""

    def test(session: Session) -> bool:
        if not isinstance(part, str) or part == "":
            raise crash()
        return part in (value_of(session) or "")

    return test


def _tests(pairs: list[tuple[str, Any]]) -> tuple[list[Test], bool]:
    """`emqx_mgmt_api:params2qs/2` then `qs2ms/1`: the tests a row must pass (exact ones first,
    the fuzzy ones after, as the match spec runs before them), and whether any was given (the
    count is then -1). A `_like_` filter is dropped when its exact key is given too."""
    exact: list[Test] = []
    fuzzy: list[tuple[str, Test]] = []
    exact_keys = set()
    for key, value in pairs:
        if key in _EXACT:
            kind, convert, value_of = _EXACT[key]
            wanted = _converted(key, value, kind, convert)
            exact.append(_compared(value_of, operator.eq, wanted))
            exact_keys.add(key)
        elif key[:5] in ("_gte_", "_lte_") and key[5:] in _RANGES:
            kind, convert, value_of = _RANGES[key[5:]]
            bound = _converted(key, value, kind, convert)
            exact.append(_compared(value_of, operator.ge if key.startswith("_gte_") else operator.le, bound))
        elif key in _FUZZY:
            fuzzy.append((key, _like(value, _FUZZY[key])))
    kept = [test for key, test in fuzzy if key.removeprefix("_like_") not in exact_keys]
    return exact + kept, bool(exact or kept)


def _listing(broker: Broker, nodes: list[str], pairs: list[tuple[str, Any]], checked: tuple[list[Test], bool]) -> Reply:
    tests, filtered = checked
    sessions: Iterable[Session] = broker.sessions.listing(nodes)
    if tests:
        sessions = (s for s in sessions if all(test(s) for test in tests))
    found, meta = query_page(sessions, pairs, None if filtered else broker.sessions.count_on(nodes))
    return paged([client_row(s) for s in found], meta)


def _delayed(error: ApiError, node: Node) -> ApiError:
    """`error`, answered after the node's RPC timeout when it hangs."""
    error.delay = node.rpc_timeout or 0.0
    return error


@api.rest("list_clients", "GET", "/clients/", "A list of clients on current node")
def list_clients(call: Call) -> Reply:
    """`emqx_mgmt_api:cluster_query/3`: the filters converted, then the running nodes queried
    in sorted order; one that hangs fails its query, crashing the handler."""
    broker = call.broker
    pairs = params(call)
    checked = _tests(pairs)
    nodes = sorted(broker.running_nodes)
    hanging = next((broker.nodes[node] for node in nodes if broker.nodes[node].rpc_timeout is not None), None)
    if hanging is not None:
        raise _delayed(crash(), hanging)
    return _listing(broker, nodes, pairs, checked)


@api.rest("list_node_clients", "GET", "nodes/:atom:node/clients/", "A list of clients on specified node")
def list_node_clients(call: Call) -> Reply:
    """Another node's list is an RPC (`rpc:call/4`): `{badrpc, Reason}` is 101 with the reason,
    `nodedown` for a node that is down (after the wait, `timeout` for one that hangs)."""
    broker, node = call.broker, call.path["node"]
    target = broker.nodes[node]
    if node != broker.api_node and not target.running:
        raise failed(BADRPC, "nodedown")
    if node != broker.api_node and target.rpc_timeout is not None:
        raise _delayed(failed(BADRPC, "timeout"), target)
    pairs = params(call)
    return _listing(broker, [node], pairs, _tests(pairs))


def _clients(call: Call, nodes: list[str], matches: Callable[[Session], bool]) -> list[dict[str, Any]]:
    return [client_row(s) for s in call.broker.sessions.listing(nodes) if matches(s)]


def _lookup_nodes(call: Call) -> list[str]:
    """The running nodes, or the node of the path (a node that is down fails the call, which
    the handler cannot encode: a crash)."""
    node = call.path.get("node")
    if node is None:
        return call.broker.running_nodes
    if not call.broker.nodes[node].running:
        raise crash()
    return [node]


@api.rest("lookup_client", "GET", "/clients/:bin:clientid", "Lookup a client in the cluster")
@api.rest("lookup_node_client", "GET", "nodes/:atom:node/clients/:bin:clientid", "Lookup a client on the node")
def lookup_client(call: Call) -> list[dict[str, Any]]:
    clientid = call.path["clientid"]
    return _clients(call, _lookup_nodes(call), lambda s: s.clientid == clientid)


@api.rest("lookup_client_via_username", "GET", "/clients/username/:bin:username", "Lookup a client via username in the cluster")
@api.rest(
    "lookup_node_client_via_username", "GET", "/nodes/:atom:node/clients/username/:bin:username", "Lookup a client via username on the node "
)
def lookup_client_via_username(call: Call) -> list[dict[str, Any]]:
    username = call.path["username"]
    return _clients(call, _lookup_nodes(call), lambda s: s.username == username)


def _online(call: Call) -> Session:
    """The client's channel on a running node, else 112 `not_found`."""
    session = call.broker.sessions.find(call.path["clientid"])
    if session is None or session.node not in call.broker.running_nodes:
        raise failed(NOT_ONLINE, "not_found")
    return session


@api.rest("kickout_client", "DELETE", "/clients/:bin:clientid", "Kick out the client in the cluster")
def kickout_client(call: Call) -> None:
    """`emqx_cm:kick_session/1` answers ok for a client it does not know: so does the API."""
    session = call.broker.sessions.find(call.path["clientid"])
    if session is not None and session.node in call.broker.running_nodes:
        call.broker.kick(session.clientid)


def acl_cache_row(entry: dict[str, Any]) -> dict[str, Any]:
    """`format_acl_cache/1`: `{{PubSub, Topic}, {AclResult, Timestamp}}`."""
    return {"access": entry["access"]["action_type"], "topic": entry["topic"], "result": entry["result"], "updated_time": entry["updated_time"]}


@api.rest("clean_acl_cache", "DELETE", "/clients/:bin:clientid/acl_cache", "Clear the ACL cache of a specified client in the cluster")
def clean_acl_cache(call: Call) -> None:
    call.broker.clear_authz_cache(_online(call).clientid)


@api.rest("list_acl_cache", "GET", "/clients/:bin:clientid/acl_cache", "List the ACL cache of a specified client in the cluster")
def list_acl_cache(call: Call) -> list[dict[str, Any]]:
    return [acl_cache_row(entry) for entry in call.broker.authz.cache_of(_online(call))]
