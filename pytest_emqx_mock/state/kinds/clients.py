"""Clients and their sessions: any `Broker.add_client` field, `subscriptions`, `mqueue` and
`inflight` included; what a client leaves out gets add_client's realistic defaults. Snapshots
add what only a history makes: `mqueue_dropped`, `awaiting_rel_cnt`, `authz_cache`, and each
queued message's `inserted_at_ns` and `delivered_qos` (when lower than its own QoS)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..errors import Invalid
from ..fields import (
    QOS,
    Check,
    Problem,
    a_list,
    checked,
    choice,
    count_or_infinity,
    counter_map,
    describe,
    flag,
    integer,
    ip_address,
    non_empty,
    optional,
    payload_data,
    plain,
    priority_value,
    strings,
    text,
    timestamp,
    twice,
)
from ..registry import Building, Kind, Section, Seeding, register
from ..sessions import (
    STAT_NAMES,
    Message,
    NoLocalOnShared,
    QueuedMessage,
    Session,
    Sessions,
    insert_timestamp_ns,
    seeded_message,
)
from .messages import MESSAGE_CHECKS, message_document, payload

if TYPE_CHECKING:
    from ..broker import Broker

#: A client's fields that are `Session` arguments, as a snapshot writes them.
SESSION_CHECKS: dict[str, Check] = {
    "node": non_empty,
    "username": optional(text),
    "ip_address": optional(ip_address),
    "port": optional(integer(0, 65535)),
    "listener": non_empty,
    "proto_name": non_empty,
    "proto_ver": choice(3, 4, 5),
    "clean_start": flag,
    "keepalive": integer(0, 65535),
    "expiry_interval": integer(0, 4294967295),
    "connected": flag,
    "created_at": timestamp,
    "connected_at": timestamp,
    "disconnected_at": optional(timestamp),
    "is_bridge": flag,
    "mountpoint": optional(text),
    "enable_authn": flag,
    "client_attrs": strings,
    "peersni": optional(text),
    "cn": optional(text),
    "dn": optional(text),
    "auth_expire_at": optional(timestamp),
    "inflight_max": integer(),
    "mqueue_max": integer(),
    "awaiting_rel_max": integer(),
    "subscriptions_max": count_or_infinity,
    "stats": counter_map(STAT_NAMES),
}
CLIENT_CHECKS: dict[str, Check] = {
    "clientid": non_empty,
    **SESSION_CHECKS,
    "subscriptions": a_list,
    "mqueue": a_list,
    "inflight": a_list,
    "mqueue_dropped": integer(),
    "awaiting_rel_cnt": integer(),
    "authz_cache": a_list,
    "is_superuser": flag,
}
SUBSCRIPTION_CHECKS: dict[str, Check] = {
    "topic": text,
    "qos": QOS,
    "nl": choice(0, 1),
    "rap": choice(0, 1),
    "rh": choice(0, 1, 2),
}
INFLIGHT_CHECKS: dict[str, Check] = {**MESSAGE_CHECKS, "inserted_at_ns": integer(), "delivered_qos": QOS}
MQUEUE_CHECKS: dict[str, Check] = {**INFLIGHT_CHECKS, "priority": priority_value}
_AUTHZ_ACCESS_CHECKS: dict[str, Check] = {"action_type": choice("publish", "subscribe"), "qos": QOS, "retain": flag}
AUTHZ_CACHE_CHECKS: dict[str, Check] = {
    "access": lambda value: checked(value, _AUTHZ_ACCESS_CHECKS, required=("action_type", "qos")),
    "result": choice("allow", "deny"),
    "topic": text,
    "updated_time": integer(),
}


def _reset(broker: Broker) -> None:
    broker.sessions = Sessions()


def _wire(broker: Broker) -> None:
    broker.sessions.lock = broker.lock
    broker.sessions.on_delivered = broker.count_settled


def _load(building: Building, value: Any) -> None:
    sessions = building.state.sessions
    first_at: dict[str, int] = {}
    for index, item in enumerate(a_list(value)):
        try:
            session = _client(building, item)
            if session.clientid in first_at:
                raise twice(session.clientid, f"clients[{first_at[session.clientid]}]", "clientid")
        except Problem as problem:
            raise problem.within(index) from None
        first_at[session.clientid] = index
        sessions.put(session)


def _client(building: Building, item: Any) -> Session:
    fields: dict[str, Any] = {"clientid": non_empty(item)} if isinstance(item, str) else checked(item, CLIENT_CHECKS)
    return session_of(building, fields)


def session_of(building: Building, fields: dict[str, Any], *, live: bool = False) -> Session:
    """The session a client's fields (checked by CLIENT_CHECKS, taken apart here) describe,
    for a scenario and for `add_client` alike; what they leave out gets realistic defaults.
    Problem for what only the session can tell (a bad subscription, an inflight window over
    its max). A state lists each subscription once and an mqueue within its max; `live`
    (`add_client`) makes them as a live client's come: a topic subscribed again replaces
    its subscription, and a full mqueue drops its oldest message for the next."""
    clientid = fields.pop("clientid", None)
    subscriptions = fields.pop("subscriptions", ())
    mqueue, inflight = fields.pop("mqueue", ()), fields.pop("inflight", ())
    mqueue_dropped, awaiting_rel = fields.pop("mqueue_dropped", 0), fields.pop("awaiting_rel_cnt", 0)
    authz_cache = fields.pop("authz_cache", ())
    is_superuser = fields.pop("is_superuser", False)
    fields["node"] = building.node(fields["node"], "node") if "node" in fields else next(iter(building.state.nodes))
    defaults = building.state.defaults
    session = Session(clientid or defaults.clientid(), **defaults.fill(fields))
    for index, subscription in enumerate(subscriptions):
        try:
            _subscribe(session, subscription, live)
        except Problem as problem:
            raise problem.within("subscriptions", index) from None
    if inflight:
        queued = _queued(session, inflight, INFLIGHT_CHECKS, "inflight")
        if len(queued) > session.inflight_max:
            raise Problem(f"holds at most inflight_max={session.inflight_max} messages, not {len(queued)}", "inflight")
        session.inflight.extend(queued)
    if mqueue and live:
        for entry in _queued(session, mqueue, MQUEUE_CHECKS, "mqueue"):
            session.enqueue_entry(entry)
    elif mqueue:
        queued = _queued(session, mqueue, MQUEUE_CHECKS, "mqueue")
        if 0 < session.mqueue_max < len(queued):  # a max of 0 is EMQX's "no limit"
            raise Problem(f"holds at most mqueue_max={session.mqueue_max} messages, not {len(queued)}", "mqueue")
        session.mqueue.extend(sorted(queued, key=lambda entry: entry.sort_key))
    for index, entry in enumerate(authz_cache):
        try:
            session.authz_cache.append(checked(entry, AUTHZ_CACHE_CHECKS, required=("access", "result", "topic", "updated_time")))
        except Problem as problem:
            raise problem.within("authz_cache", index) from None
    if is_superuser:
        session.is_superuser = True
    if mqueue_dropped:
        session.mqueue_dropped = mqueue_dropped
    if awaiting_rel:
        session.awaiting_rel_cnt = awaiting_rel
    return session


def _subscribe(session: Session, item: Any, live: bool) -> None:
    fields: dict[str, Any]
    topic_at: tuple[str, ...]
    if isinstance(item, str):
        fields, topic_at = {"topic": item}, ()
    else:
        fields, topic_at = checked(item, SUBSCRIPTION_CHECKS, required=("topic",)), ("topic",)
    topic = fields["topic"]
    if topic in session.subscriptions and not live:
        raise Problem(f"{describe(topic)} is subscribed twice", *topic_at)
    try:
        session.subscribe(**fields)
    except NoLocalOnShared as error:
        raise Problem(str(error), "nl") from None
    except Invalid as error:
        raise Problem(f"must be a topic filter, not {describe(topic)} ({error})", *topic_at) from None


def _queued(session: Session, items: list[Any], checks: Mapping[str, Check], kind: str) -> list[QueuedMessage]:
    """An mqueue's or inflight window's messages: payloads, objects of `checks`, or (from
    Python) Messages; a message without a topic takes one its session's first subscription
    matches."""
    entries = []
    for index, item in enumerate(items):
        if isinstance(item, Message):
            entries.append(QueuedMessage(item))
            continue
        try:
            fields: dict[str, Any] = {"payload": payload_data(item)} if isinstance(item, (str, bytes)) else checked(item, checks)
            inserted_at_ns, delivered_qos = fields.pop("inserted_at_ns", None), fields.pop("delivered_qos", None)
            fields["payload"] = payload(fields)
            message, priority = seeded_message(fields, session)
            if delivered_qos is not None and delivered_qos > message.qos:
                raise Problem(f"must be at most the message's qos ({message.qos}), not {delivered_qos}", "delivered_qos")
        except Problem as problem:
            raise problem.within(kind, index) from None
        stamp = insert_timestamp_ns() if inserted_at_ns is None else inserted_at_ns
        entries.append(QueuedMessage(message, stamp, priority, -1 if delivered_qos is None else delivered_qos))
    return entries


def _document(session: Session) -> dict[str, Any]:
    document: dict[str, Any] = {"clientid": session.clientid}
    for key in SESSION_CHECKS:
        document[key] = getattr(session, key)
    document["client_attrs"] = dict(session.client_attrs)
    stats = session.stats
    document["stats"] = {name: stats.get(name, 0) for name in STAT_NAMES}  # every one: nothing left to defaults
    document["subscriptions"] = [
        s.topic if not (s.qos or s.nl or s.rap or s.rh) else {"topic": s.topic, "qos": s.qos, "nl": s.nl, "rap": s.rap, "rh": s.rh}
        for s in session.subscriptions.values()
    ]
    document["mqueue"] = [{**_queued_document(entry), "priority": entry.priority} for entry in session.mqueue]
    document["inflight"] = [_queued_document(entry) for entry in session.inflight]
    document["mqueue_dropped"] = session.mqueue_dropped
    document["awaiting_rel_cnt"] = session.awaiting_rel_cnt
    document["authz_cache"] = plain(session.authz_cache)
    document["is_superuser"] = session.is_superuser
    return document


def _queued_document(entry: QueuedMessage) -> dict[str, Any]:
    document = {**message_document(entry.message), "inserted_at_ns": entry.inserted_at_ns}
    if entry.qos != entry.message.qos:
        document["delivered_qos"] = entry.qos
    return document


register(
    Kind("clients", _reset, _wire, sections=(Section("clients", _load, lambda broker: [_document(session) for session in broker.sessions], snapshot_rank=2),)),
    Seeding("clients", "add_client", rank=0, checks=CLIENT_CHECKS, marker=True, shorthand="clientid", many="add_clients"),
    Seeding("connect", "connect", rank=7, checks={**CLIENT_CHECKS, "password": optional(text)}),
    Seeding("disconnect", "disconnect", rank=8, checks={"clientid": non_empty}, required=("clientid",)),
    Seeding("expire", "expire", rank=9, checks={"clientid": non_empty}, required=("clientid",)),
    Seeding("subscribe", "subscribe", rank=16, checks={"clientid": non_empty, **SUBSCRIPTION_CHECKS}, required=("clientid", "topic")),
)
