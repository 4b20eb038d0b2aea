"""`emqx_mgmt_api_clients`: the client (session) list and what can be done to one client."""

from __future__ import annotations

import base64
import ipaddress
import re
from typing import Any, Callable, Iterable

from ....erlang.terms import binary
from ....http.replies import ApiError, Fragment, Fragments, Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.clock import rfc3339_ms
from ....state.errors import Invalid, NotFound
from ....state.paging import counted_meta, paginate
from ....state.sessions import (
    STAT_NAMES,
    NoLocalOnShared,
    QueuedMessage,
    Session,
    Subscription,
)
from ....state.topics import InvalidFilter, parse_filter
from ..rpc import listed_nodes

routes = Routes(errors={NotFound: (404, "CLIENTID_NOT_FOUND")})


def client_row(session: Session, serverless: bool) -> dict[str, Any]:
    """A session as EMQX 5.8.9 formats an in-memory session (`format_channel_info/3`): the
    channel's client info, flattened, so that what a deployment puts there shows too
    (`serverless`: a Cloud Serverless deployment's nodes, see `SERVERLESS_CLIENT_INFO`)."""
    row: dict[str, Any] = {
        "clientid": session.clientid,
        "username": session.username,
        "node": session.node,
        "ip_address": session.ip_address,
        "port": session.port,
        "listener": session.listener,
        "proto_name": session.proto_name,
        "proto_ver": session.proto_ver,
        "clean_start": session.clean_start,
        "keepalive": session.keepalive,
        "expiry_interval": session.expiry_interval,
        "connected": session.connected,
        "created_at": rfc3339_ms(session.created_at),
        "connected_at": rfc3339_ms(session.connected_at),
    }
    if session.disconnected_at is not None:
        row["disconnected_at"] = rfc3339_ms(session.disconnected_at)
    row.update(
        {
            "is_bridge": session.is_bridge,
            "is_expired": False,
            "is_persistent": False,
            "durable": False,
            "enable_authn": session.enable_authn,
            "mountpoint": session.mountpoint,
            "client_attrs": dict(session.client_attrs),
            "peersni": session.peersni,
            **_peercert_infos(session, serverless),
            "auth_expire_at": None if session.auth_expire_at is None else int(session.auth_expire_at * 1000),
            "subscriptions_cnt": len(session.subscriptions),
            "subscriptions_max": session.subscriptions_max,
            "inflight_cnt": len(session.inflight),
            "inflight_max": session.inflight_max,
            "mqueue_len": len(session.mqueue),
            "mqueue_max": session.mqueue_max,
            "mqueue_dropped": session.mqueue_dropped,
            "awaiting_rel_cnt": session.awaiting_rel_cnt,
            "awaiting_rel_max": session.awaiting_rel_max,
        }
    )
    stats = session.stats
    row.update({name: stats.get(name, 0) for name in STAT_NAMES})
    if serverless:
        row.update(SERVERLESS_CLIENT_INFO)
    return row


#: What a Cloud Serverless node adds to every client's info (the Serverless `clients_v5.md`
#: example; not in EMQX's own source): its multi-tenancy names where it took the client's tenant
#: from, the server name the client's TLS sent (`peersni`: the deployment's host).
SERVERLESS_CLIENT_INFO = {"tenant_id_from": "peersni"}


def _peercert_infos(session: Session, serverless: bool) -> dict[str, str | None]:
    """`emqx_channel:set_peercert_infos/3`: a connection with a peer certificate puts its common
    name and subject in the client info, one without (`nossl`) neither. A Serverless deployment's
    clients all come through the Cloud's TLS-terminating proxy (proxy protocol: `listener` is
    `tcp:default`), whose certificate info is never `nossl`, so they always have both, null
    without a client certificate."""
    if serverless or session.cn is not None or session.dn is not None:
        return {"cn": session.cn, "dn": session.dn}
    return {}


def client_fragment(call: Call, session: Session) -> Fragment:
    """The session's row, rendered and validated only when the session has changed."""
    serverless = call.broker.config.serverless
    return session.cached(lambda changed: call.catalog.fragment("client", client_row(changed, serverless)))


def _session(call: Call) -> Session:
    return call.broker.sessions.get(call.path["clientid"])


# -- listing ------------------------------------------------------------------------------


def _invalid_parameter(query: dict[str, Any], key: str, kind: str, value: Any) -> ApiError:
    if "node" in query:  # the single-node query path lets the throw escape as a crash
        return ApiError(500, "INTERNAL_ERROR", f"throw, {{bad_value_type,{{<<\"{key}\">>,{kind},{binary(str(value).encode())}}}}}, []")
    return ApiError(400, "INVALID_PARAMETER", f"the {key} parameter expected type is {kind}, but the value is {value}")


_PROTO_VER = re.compile(r"^[+-]?[0-9]+$")


def _clientid_filter(query: dict[str, Any]) -> Callable[[list[str]], list[str]] | None:
    """The client-id filter (exact ids, or `like_clientid` when no exact key is given) as a
    selection over a node's client ids: tested on the ids alone, before any session is
    looked at, so a fuzzy search over 100,000 clients is a scan of strings."""
    if "clientid" in query:
        wanted = set(query["clientid"])
        return lambda ids: [clientid for clientid in ids if clientid in wanted]
    if "like_clientid" in query:
        part = query["like_clientid"]
        return lambda ids: [clientid for clientid in ids if part in clientid]
    return None


def _filters(query: dict[str, Any]) -> list[Callable[[Session], bool]]:
    """The other `/clients` filters as predicates: different keys AND together, the values of
    a repeated key OR; a `like_*` filter is dropped when its exact key is present."""
    tests: list[Callable[[Session], bool]] = []
    if "username" in query:
        names = set(query["username"])
        tests.append(lambda s: s.username in names)
    elif "like_username" in query:
        part = query["like_username"]
        tests.append(lambda s: part in (s.username or ""))
    if "ip_address" in query:
        try:
            ip = str(ipaddress.ip_address(query["ip_address"]))
        except ValueError:
            raise _invalid_parameter(query, "ip_address", "ip", query["ip_address"]) from None
        tests.append(lambda s: s.ip_address == ip)
    if "conn_state" in query:  # `idle` is a state before CONNECT: no listed session has it
        wanted = query["conn_state"]
        tests.append(lambda s: ("connected" if s.connected else "disconnected") == wanted)
    if "clean_start" in query:
        clean = query["clean_start"]
        tests.append(lambda s: s.clean_start is clean)
    if "proto_ver" in query:
        if not _PROTO_VER.match(query["proto_ver"]):
            raise _invalid_parameter(query, "proto_ver", "integer", query["proto_ver"])
        version = int(query["proto_ver"])
        tests.append(lambda s: s.proto_ver == version)
    for attribute in ("created_at", "connected_at"):
        low, high = query.get(f"gte_{attribute}"), query.get(f"lte_{attribute}")
        if low is not None or high is not None:
            tests.append(_time_range(attribute, low, high))
    return tests


def _time_range(attribute: str, low_ms: int | None, high_ms: int | None) -> Callable[[Session], bool]:
    """`gte_*`/`lte_*` filters: an inclusive range at EMQX's precision, milliseconds (the
    precision the API shows, so a client's own `created_at` matches both bounds)."""
    low = float("-inf") if low_ms is None else low_ms
    high = float("inf") if high_ms is None else high_ms
    return lambda session: low <= int(getattr(session, attribute) * 1000) <= high


@routes.get("/clients")
def list_clients(call: Call) -> dict[str, Any]:
    query, broker = call.query, call.broker
    page, limit = query["page"], query["limit"]
    nodes = listed_nodes(broker, query.get("node"))
    fields = None if query["fields"] == "all" else query["fields"]
    tests = _filters(query)
    fuzzy = ("like_clientid" in query and "clientid" not in query) or ("like_username" in query and "username" not in query)
    if fuzzy and "" in (query.get("like_clientid"), query.get("like_username")) and broker.sessions.count_on(nodes):
        raise handler_crash("badarg")  # binary:match(Value, <<>>) on the first row scanned
    select_ids = _clientid_filter(query)
    if tests or select_ids:
        candidates = broker.sessions.listing(nodes, select_ids)
        matching: Iterable[Session] = (s for s in candidates if all(t(s) for t in tests)) if tests else candidates
        sessions, meta = paginate(matching, page, limit, counted=not fuzzy)
    else:
        start = (page - 1) * limit
        sessions = broker.sessions.slice(nodes, start, start + limit)
        meta = counted_meta(page, limit, broker.sessions.count_on(nodes))
    if fields is None:
        return {"data": Fragments(client_fragment(call, s) for s in sessions), "meta": meta}
    rows = [client_row(s, broker.config.serverless) for s in sessions]
    return {"data": [{k: row[k] for k in fields if k in row} for row in rows], "meta": meta}


@routes.get("/clients/{clientid}")
def get_client(call: Call) -> Fragment:
    return client_fragment(call, _session(call))


@routes.delete("/clients/{clientid}")
def kick_client(call: Call) -> Reply:
    call.broker.kick(_session(call).clientid)
    return Reply(204)


@routes.post("/clients/kickout/bulk")
def kick_clients(call: Call) -> Reply:
    for clientid in call.body:
        if clientid in call.broker.sessions:
            call.broker.kick(clientid)
    return Reply(204)


@routes.put("/clients/{clientid}/keepalive")
def set_keepalive(call: Call) -> Fragment:
    if "interval" not in call.body:
        raise ApiError(400, "BAD_REQUEST", "Interval Not Found")
    session = _session(call)
    session.keepalive = call.body["interval"]
    return client_fragment(call, session)


# -- subscriptions ------------------------------------------------------------------------


def subscription_view(session: Session, subscription: Subscription) -> dict[str, Any]:
    return {
        "topic": subscription.topic,
        "qos": subscription.qos,
        "nl": subscription.nl,
        "rap": subscription.rap,
        "rh": subscription.rh,
        "node": session.node,
        "clientid": session.clientid,
        "durable": False,
    }


def _subscribe_options(request: dict[str, Any]) -> dict[str, int]:
    return {name: request[name] for name in ("qos", "nl", "rap", "rh")}


def _subscribe(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    """Subscribe as EMQX's API does: it parses the filter and checks no-local itself, then
    hands the subscription to the channel and reports success; a filter the channel then
    refuses (bad levels) is simply not subscribed."""
    topic = request["topic"]
    try:
        session.subscribe(topic, **_subscribe_options(request))
    except (InvalidFilter, NoLocalOnShared):
        raise
    except Invalid:
        pass  # the channel refused the filter after the API had answered
    return {**_subscribe_options(request), "topic": topic, "node": session.node, "clientid": session.clientid}


@routes.get("/clients/{clientid}/subscriptions")
def list_subscriptions(call: Call) -> list[dict[str, Any]]:
    session = _session(call)
    return [subscription_view(session, s) for s in session.subscriptions.values()]


@routes.post(
    "/clients/{clientid}/subscribe", errors={InvalidFilter: (500, "UNKNOWN_ERROR"), NoLocalOnShared: (400, "INVALID_PARAMETER")}
)
def subscribe(call: Call) -> dict[str, Any]:
    return _subscribe(_session(call), call.body)


@routes.post("/clients/{clientid}/subscribe/bulk")
def subscribe_bulk(call: Call) -> Any:
    """All results in order; when any fails, `{"succeed", "failed"}` (failed newest first)."""
    session = _session(call)
    succeeded: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for request in call.body:
        try:
            succeeded.append(_subscribe(session, request))
        except (InvalidFilter, NoLocalOnShared) as error:
            reason = str(error) if isinstance(error, InvalidFilter) else "invalid_subopts_nl"
            data = [session.clientid, request["topic"], _subscribe_options(request)]
            failed.insert(0, {"data": data, "reason": reason})
    return {"succeed": succeeded, "failed": failed} if failed else succeeded


@routes.post("/clients/{clientid}/unsubscribe")
def unsubscribe(call: Call) -> Reply:
    session = _session(call)
    if "topic" not in call.body:
        raise handler_crash('{badkey,<<"topic">>}')
    try:
        parse_filter(call.body["topic"])
    except InvalidFilter as error:
        raise handler_crash(str(error)) from None
    session.unsubscribe(call.body["topic"])
    return Reply(204)


@routes.post("/clients/{clientid}/unsubscribe/bulk")
def unsubscribe_bulk(call: Call) -> Reply:
    """Items without a topic are skipped and bad topics swallowed, as EMQX does."""
    session = _session(call)
    for request in call.body:
        if "topic" in request:
            session.unsubscribe(request["topic"])
    return Reply(204)


# -- authorization cache ------------------------------------------------------------------


@routes.get("/clients/{clientid}/authorization/cache")
def authz_cache(call: Call) -> list[dict[str, Any]]:
    return call.broker.authz.cache_of(_session(call))


@routes.delete("/clients/{clientid}/authorization/cache")
def clean_authz_cache(call: Call) -> Reply:
    call.broker.clear_authz_cache(call.path["clientid"])
    return Reply(204)


# -- mqueue and inflight messages (position pagination, surface notes §4.2) ----------------


def _position(entry: QueuedMessage, with_priority: bool) -> str:
    return f"{entry.inserted_at_ns}_{entry.priority}" if with_priority else str(entry.inserted_at_ns)


def _parse_position(text: str, with_priority: bool) -> tuple[float, int] | None:
    """A position as (priority rank, insert stamp): inflight `<ns>`, mqueue `<ns>_<priority>`."""
    integer = re.compile(r"^[+-]?[0-9]+$")
    if not with_priority:
        return (0.0, int(text)) if integer.match(text) else None
    stamp, sep, priority = text.partition("_")
    if not sep or not integer.match(stamp) or not (priority == "infinity" or integer.match(priority)):
        return None
    rank = float("inf") if priority == "infinity" else float(priority)
    return (-rank, int(stamp))


def _message_page(call: Call, entries: list[QueuedMessage], with_priority: bool) -> Reply:
    """One page of queued messages. EMQX encodes this body itself (jiffy), so its keys come in
    descending order; `position` is that of the last message selected, before the payload
    budget cuts the page (messages cut are skipped when paging on, as in EMQX)."""
    query = call.query
    requested = query.get("position", "none")
    selected = entries
    if requested != "none":
        position = _parse_position(requested, with_priority)
        if position is None:
            raise ApiError(400, "INVALID_PARAMETER", "position_limit_invalid")
        key = (lambda e: e.sort_key) if with_priority else (lambda e: (0.0, e.inserted_at_ns))
        selected = [entry for entry in entries if key(entry) > position]
    selected = selected[: query["limit"]]
    encoding, budget = query["payload"], query["max_payload_bytes"]
    data: list[dict[str, Any]] = []
    used = 0
    for entry in selected:
        view = _message_view(entry, encoding, with_priority)
        size = len(view.get("payload", "").encode())  # the encoded payload counts
        if data and used + size > budget:
            break
        used += size
        data.append(view)
    meta = {
        "start": _position(entries[0], with_priority) if entries else "none",
        "position": _position(selected[-1], with_priority) if selected else requested,
    }
    return Reply(200, {"meta": meta, "data": data}, keep_order=True)


def _message_view(entry: QueuedMessage, encoding: str, with_priority: bool) -> dict[str, Any]:
    message = entry.message
    view: dict[str, Any] = {
        "msgid": message.msgid,
        "topic": message.topic,
        "qos": entry.qos,
        "publish_at": int(message.publish_at * 1000),
        "from_clientid": message.from_clientid,
        "from_username": message.from_username,
        "inserted_at": str(entry.inserted_at_ns),
    }
    if encoding == "base64":
        view["payload"] = base64.b64encode(message.payload).decode()
    elif encoding == "plain":
        try:
            view["payload"] = message.payload.decode()
        except UnicodeDecodeError:
            raise ApiError(400, "INVALID_PARAMETER", "Some message payloads are not JSON serializable") from None
    if with_priority:
        view["mqueue_priority"] = entry.priority
    return {key: view[key] for key in sorted(view, reverse=True)}


@routes.get("/clients/{clientid}/mqueue_messages")
def mqueue_messages(call: Call) -> Reply:
    return _message_page(call, _session(call).mqueue, with_priority=True)


@routes.get("/clients/{clientid}/inflight_messages")
def inflight_messages(call: Call) -> Reply:
    return _message_page(call, _session(call).inflight, with_priority=False)


# -- session count ------------------------------------------------------------------------


@routes.get("/sessions_count")
def sessions_count(call: Call) -> int:
    """`emqx_cm_registry_keeper:count/1`: the global session registry's size, that is every
    session (connected or not) of the running nodes (a node that goes down has its sessions
    cleaned from the registry). `since` only matters when `broker.session_history_retain` keeps
    expired sessions, which is 0 (off) by default and in the fake, so it changes nothing here.
    EMQX answers `integer_to_binary(Count)`: the bare JSON integer text."""
    return call.broker.sessions.count_on(call.broker.running_nodes)
