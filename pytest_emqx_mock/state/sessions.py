"""MQTT sessions (what `/clients` lists): connection info, subscriptions, inflight window and
message queue, and the counters EMQX reports for each."""

from __future__ import annotations

import bisect
import collections
import contextlib
import functools
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from .clock import now
from .errors import Invalid, NotFound
from .topics import is_wildcard, matches, parse_filter, validate_filter

#: Counters a client object reports, in EMQX's names (dotted names are literal keys).
STAT_NAMES = (
    "recv_cnt", "recv_oct", "recv_pkt", "recv_msg", "recv_msg.qos0", "recv_msg.qos1",
    "recv_msg.qos2", "recv_msg.dropped", "recv_msg.dropped.await_pubrel_timeout",
    "send_cnt", "send_oct", "send_pkt", "send_msg", "send_msg.qos0", "send_msg.qos1",
    "send_msg.qos2", "send_msg.dropped", "send_msg.dropped.expired",
    "send_msg.dropped.queue_full", "send_msg.dropped.too_large",
    "mailbox_len", "heap_size", "reductions",
)  # fmt: skip

_revisions = itertools.count(1)
_guid_lock = threading.Lock()
_guid_seq = itertools.count()
_GUID_NODE = int.from_bytes(os.urandom(6), "big")
_last_insert_ns = 0


def new_msgid() -> str:
    """A 128-bit GUID like EMQX's: microsecond timestamp, node/pid bits, sequence."""
    micros = time.time_ns() // 1000
    return f"{micros:016X}{_GUID_NODE:012X}{next(_guid_seq) & 0xFFFF:04X}"


def insert_timestamp_ns() -> int:
    """Strictly increasing nanosecond stamps, so queue positions are unique."""
    global _last_insert_ns
    with _guid_lock:
        _last_insert_ns = max(time.time_ns(), _last_insert_ns + 1)
        return _last_insert_ns


@dataclass(eq=False)
class Message:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    from_clientid: str = "http_api"
    from_username: str = ""
    publish_at: float = field(default_factory=now)
    msgid: str = field(default_factory=new_msgid)
    properties: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def wire_size(self) -> int:
        """Bytes of the PUBLISH packet's topic and payload, as `send_oct` counts them."""
        return len(self.topic) + len(self.payload) + 4


_SEND_QOS = ("send_msg.qos0", "send_msg.qos1", "send_msg.qos2")


@dataclass(eq=False)
class QueuedMessage:
    """A message as it sits in one session's inflight window or mqueue."""

    message: Message
    inserted_at_ns: int = field(default_factory=insert_timestamp_ns)
    priority: int | str = 0  # "infinity" is EMQX's highest mqueue priority
    qos: int = -1  # as delivered (the lower of the message's and the subscription's); -1: the message's

    def __post_init__(self) -> None:
        if self.qos < 0:
            self.qos = self.message.qos

    @property
    def sort_key(self) -> tuple[float, int]:
        """Mqueue order: higher priority first, then first in, first out."""
        rank = float("inf") if self.priority == "infinity" else float(self.priority)
        return (-rank, self.inserted_at_ns)


@dataclass(eq=False, slots=True)
class Subscription:
    topic: str  # as subscribed, `$share/<group>/` included
    qos: int = 0
    nl: int = 0
    rap: int = 0
    rh: int = 0
    #: The shared group (`$queue` for `$queue/`), None for a plain subscription: kept, not
    #: parsed again on every publish.
    share_group: str | None = field(init=False, default=None)
    #: A plain subscription's filter log and how far into it this subscription has taken.
    log: FilterLog | None = field(init=False, default=None, repr=False)
    cursor: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        self.share_group = parse_filter(self.topic).share_group


#: What happened to a message delivered to a session.
SENT = "sent"  # QoS 0 to a connected client: on the wire, nothing kept
INFLIGHT = "inflight"  # QoS 1/2 to a connected client, awaiting its acknowledgement
QUEUED = "queued"  # in the mqueue: the client is offline or its inflight window is full
QUEUED_DROPPING_OLDEST = "queued, oldest dropped"  # the mqueue was full: its oldest message went
DELIVERY_HISTORY = 1000


class Delivery(NamedTuple):
    """One message delivered to a session, for tests to inspect (`Session.deliveries`)."""

    message: Message
    qos: int
    subscription: str
    outcome: str


class NoLocalOnShared(Invalid):
    """No-local asked on a shared subscription [MQTT-3.8.3-4]."""


class Session:
    """One client session. Every attribute assignment bumps `revision`, so readers can cache
    what they derive from a session (the HTTP layer caches each rendered client row)."""

    # Slots: a fleet of 100,000 sessions must fit in a few hundred megabytes.
    __slots__ = (
        "clientid", "node", "username", "ip_address", "port", "listener", "proto_name",
        "proto_ver", "clean_start", "keepalive", "expiry_interval", "connected", "created_at",
        "connected_at", "disconnected_at", "is_bridge", "mountpoint", "enable_authn",
        "client_attrs", "peersni", "cn", "dn", "auth_expire_at", "inflight_max", "mqueue_max",
        "_mqueue_dropped", "awaiting_rel_cnt", "awaiting_rel_max", "subscriptions_max", "_stats",
        "subscriptions", "_inflight", "_mqueue", "authz_cache", "_deliveries", "revision",
        "_derived", "_registry", "is_superuser",
    )  # fmt: skip

    clientid: str
    node: str
    username: str | None
    ip_address: str | None
    port: int | None
    listener: str
    proto_name: str
    proto_ver: int
    clean_start: bool
    keepalive: int
    expiry_interval: int
    connected: bool
    created_at: float
    connected_at: float
    disconnected_at: float | None
    is_bridge: bool
    mountpoint: str | None
    enable_authn: bool
    client_attrs: dict[str, str]
    peersni: str | None
    #: The client certificate's common name and subject (`emqx_channel:set_peercert_infos/3`):
    #: a client that presented none has neither.
    cn: str | None
    dn: str | None
    auth_expire_at: float | None
    inflight_max: int
    mqueue_max: int
    _mqueue_dropped: int
    awaiting_rel_cnt: int
    awaiting_rel_max: int
    subscriptions_max: int | str
    _stats: collections.defaultdict[str, int]
    subscriptions: dict[str, Subscription]
    _inflight: list[QueuedMessage]
    _mqueue: list[QueuedMessage]
    authz_cache: list[dict[str, Any]]
    #: Authenticated as a superuser (authorization is skipped for it).
    is_superuser: bool
    _deliveries: collections.deque[Delivery] | None
    revision: int
    #: What a reader derived from this session, and at which revision (see `cached`).
    _derived: tuple[int, Any] | None
    #: The registry the session is in, told of every subscription change (see `Sessions`).
    _registry: Sessions | None

    def __setattr__(self, name: str, value: Any) -> None:
        if self.pending():  # what was published before this change is taken before it
            self.settle()
        object.__setattr__(self, name, value)
        object.__setattr__(self, "revision", next(_revisions))

    def touch(self) -> None:
        """Mark a change made inside a container attribute (subscriptions, queues, stats)."""
        object.__setattr__(self, "revision", next(_revisions))

    def cached(self, derive: Callable[[Session], Any]) -> Any:
        """`derive(self)`, computed again only after the session has changed. Readers that
        render every session on every request (the client list) pay for changes, not reads."""
        if self.pending():
            self.settle()
        revision = self.revision
        derived = self._derived
        if derived is not None and derived[0] == revision:
            return derived[1]
        value = derive(self)
        object.__setattr__(self, "_derived", (revision, value))  # not a change of the session
        return value

    def __init__(
        self,
        clientid: str,
        *,
        node: str,
        username: str | None = None,
        ip_address: str = "127.0.0.1",
        port: int = 50000,
        listener: str = "tcp:default",
        proto_name: str = "MQTT",
        proto_ver: int = 5,
        clean_start: bool = True,
        keepalive: int = 60,
        expiry_interval: int = 0,
        connected: bool = True,
        created_at: float | None = None,
        connected_at: float | None = None,
        disconnected_at: float | None = None,
        is_bridge: bool = False,
        mountpoint: str | None = None,
        enable_authn: bool = True,
        client_attrs: dict[str, str] | None = None,
        peersni: str | None = None,
        cn: str | None = None,
        dn: str | None = None,
        auth_expire_at: float | None = None,
        inflight_max: int = 32,
        mqueue_max: int = 1000,
        awaiting_rel_max: int = 100,
        subscriptions_max: int | str = "infinity",
        stats: dict[str, int] | None = None,
    ) -> None:
        created = now() if created_at is None else created_at
        if not connected and disconnected_at is None:
            disconnected_at = now()
        # Set without bumping the revision once per attribute: seeding speed matters.
        initial: dict[str, Any] = {
            "clientid": clientid, "node": node, "username": username, "ip_address": ip_address,
            "port": port, "listener": listener, "proto_name": proto_name, "proto_ver": proto_ver,
            "clean_start": clean_start, "keepalive": keepalive, "expiry_interval": expiry_interval,
            "connected": connected, "created_at": created,
            "connected_at": created if connected_at is None else connected_at,
            "disconnected_at": disconnected_at, "is_bridge": is_bridge, "mountpoint": mountpoint,
            "enable_authn": enable_authn, "client_attrs": dict(client_attrs or {}),
            "peersni": peersni, "cn": cn, "dn": dn, "auth_expire_at": auth_expire_at,
            "inflight_max": inflight_max, "mqueue_max": mqueue_max, "_mqueue_dropped": 0, "awaiting_rel_cnt": 0,
            "awaiting_rel_max": awaiting_rel_max, "subscriptions_max": subscriptions_max,
            # only the counters that are not 0 are stored; the others read as 0
            "_stats": collections.defaultdict(int, {k: v for k, v in (stats or {}).items() if v}),
            "subscriptions": {}, "_inflight": [], "_mqueue": [], "authz_cache": [],
            "_deliveries": None, "_derived": None, "_registry": None, "revision": next(_revisions),
            "is_superuser": False,
        }  # fmt: skip
        for name, value in initial.items():
            object.__setattr__(self, name, value)

    # -- what deliveries change: read only after the session has taken what is due -----------

    @property
    def deliveries(self) -> collections.deque[Delivery]:
        """The last messages delivered to this session, oldest first (at most DELIVERY_HISTORY)."""
        if self.pending():
            self.settle()
        return self._history()

    def _history(self) -> collections.deque[Delivery]:
        if self._deliveries is None:
            object.__setattr__(self, "_deliveries", collections.deque(maxlen=DELIVERY_HISTORY))
        return self._deliveries  # type: ignore[return-value]

    @property
    def inflight(self) -> list[QueuedMessage]:
        if self.pending():
            self.settle()
        return self._inflight

    @property
    def mqueue(self) -> list[QueuedMessage]:
        if self.pending():
            self.settle()
        return self._mqueue

    @property
    def stats(self) -> collections.defaultdict[str, int]:
        if self.pending():
            self.settle()
        return self._stats

    @property
    def mqueue_dropped(self) -> int:
        if self.pending():
            self.settle()
        return self._mqueue_dropped

    @mqueue_dropped.setter
    def mqueue_dropped(self, dropped: int) -> None:
        """What a saved state says the queue dropped before (a change of the session)."""
        self._mqueue_dropped = dropped

    def pending(self) -> bool:
        """Whether messages published to this session's plain subscriptions await it."""
        for subscription in self.subscriptions.values():
            log = subscription.log
            if log is not None and subscription.cursor < log.end:
                return True
        return False

    def settle(self) -> None:
        """Take, in publish order, the messages published to this session's plain
        subscriptions since it last looked (see FilterLog), exactly as `deliver` would have
        taken each at publish time; the counts go to the registry for the broker's metrics."""
        registry = self._registry
        with registry.lock if registry is not None else _NO_LOCK:
            due: list[tuple[Subscription, list[tuple[int, int, Message]]]] = []
            for subscription in self.subscriptions.values():
                log = subscription.log
                if log is not None and subscription.cursor < log.end:
                    due.append((subscription, log.since(subscription.cursor)))
                    subscription.cursor = log.end
            if not due:
                return
            if len(due) == 1 and due[0][0].qos == 0 and self.connected:
                counts = self._send_all(*due[0])  # the common fan-out: one QoS 0 subscription
                object.__setattr__(self, "revision", next(_revisions))
                if registry is not None and registry.on_delivered is not None:
                    registry.on_delivered(self.node, counts)
                return
            batch = [(entry, subscription) for subscription, entries in due for entry in entries]
            if len(due) > 1:
                batch.sort(key=lambda item: item[0][0])
            if all(queued.priority == 0 for queued in self._mqueue):
                counts = self._take_all(batch)
            else:  # priorities decide what overflow drops: one at a time, exactly
                counts = {}
                for (_, stamp, message), subscription in batch:
                    granted = message.qos if message.qos <= subscription.qos else subscription.qos
                    key = (self._take(message, granted, subscription.topic, stamp), granted)
                    counts[key] = counts.get(key, 0) + 1
            object.__setattr__(self, "revision", next(_revisions))
            if registry is not None and registry.on_delivered is not None:
                registry.on_delivered(self.node, counts)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<Session {self.clientid!r} {state} on {self.node}>"

    def subscribe(self, topic: str, qos: int = 0, nl: int = 0, rap: int = 0, rh: int = 0) -> Subscription:
        """Subscribe; raises InvalidFilter (a bad `$share`), NoLocalOnShared, or Invalid (a
        filter whose levels break the MQTT rules)."""
        if self.pending():  # the new subscription must not reorder what is already due
            self.settle()
        topic_filter = parse_filter(topic)
        if topic_filter.share_group is not None and nl:
            raise NoLocalOnShared("Invalid Subscribe options: `no_local` not allowed for shared-sub. See [MQTT-3.8.3-4]")
        validate_filter(topic_filter)
        subscription = Subscription(topic, qos, nl, rap, rh)
        self.unsubscribe(topic)
        self.subscriptions[topic] = subscription
        if self._registry is not None:
            self._registry.index.add(self, subscription)
        self.touch()
        return subscription

    def unsubscribe(self, topic: str) -> bool:
        if self.pending():  # what the subscription was due is taken before it goes
            self.settle()
        removed = self.subscriptions.pop(topic, None)
        if removed is None:
            return False
        if self._registry is not None:
            self._registry.index.remove(self, removed)
        self.touch()
        return True

    def _take_all(self, batch: list[tuple[tuple[int, int, Message], Subscription]]) -> dict[tuple[str, int], int]:
        """What `_take` does to each entry of `batch` in turn, worked out at once for an
        mqueue of default priority (a first-in, first-out queue that drops its oldest when
        full): counters by arithmetic; only the inflight window's new entries, the mqueue's
        surviving tail and the history's last DELIVERY_HISTORY records are built. So a session
        that missed 10,000 messages takes them in bounded work."""
        grants = [message.qos if message.qos <= sub.qos else sub.qos for (_, _, message), sub in batch]
        outcomes: list[str] = [QUEUED] * len(batch)
        queued: list[int] = []
        room = self.inflight_max - len(self._inflight) if self.connected else 0
        sent_size = 0
        stats = self._stats
        for index, granted in enumerate(grants):
            if self.connected and (granted == 0 or room > 0):
                message = batch[index][0][2]
                if granted:
                    room -= 1
                    self._inflight.append(QueuedMessage(message, batch[index][0][1], qos=granted))
                    outcomes[index] = INFLIGHT
                else:
                    outcomes[index] = SENT
                stats[_SEND_QOS[granted]] += 1
                sent_size += message.wire_size
            else:
                queued.append(index)
        sent = len(batch) - len(queued)
        if sent:
            stats["send_msg"] += sent
            stats["send_pkt"] += sent
            stats["send_cnt"] += sent
            stats["send_oct"] += sent_size
        capacity, before = self.mqueue_max, len(self._mqueue)
        if capacity > 0:  # 0 is EMQX's "no limit"
            for position, index in enumerate(queued):
                if before + position >= capacity:
                    outcomes[index] = QUEUED_DROPPING_OLDEST
            dropped = max(0, before + len(queued) - capacity)
            kept = queued[-capacity:]
        else:
            dropped, kept = 0, queued
        self._mqueue.extend(QueuedMessage(batch[i][0][2], batch[i][0][1], qos=grants[i]) for i in kept)
        if dropped:
            del self._mqueue[: len(self._mqueue) - capacity]
            object.__setattr__(self, "_mqueue_dropped", self._mqueue_dropped + dropped)
            stats["send_msg.dropped"] += dropped
            stats["send_msg.dropped.queue_full"] += dropped
        history = self._history()
        for index in range(max(0, len(batch) - DELIVERY_HISTORY), len(batch)):
            (_, _, message), subscription = batch[index]
            history.append(tuple.__new__(Delivery, (message, grants[index], subscription.topic, outcomes[index])))
        counts: dict[tuple[str, int], int] = {}
        for outcome, granted in zip(outcomes, grants, strict=True):
            counts[(outcome, granted)] = counts.get((outcome, granted), 0) + 1
        return counts

    def _send_all(self, subscription: Subscription, entries: list[tuple[int, int, Message]]) -> dict[tuple[str, int], int]:
        """What `_take` does to each entry when one QoS 0 subscription of a connected client
        takes them: all go straight out, so only counters and the history's tail change."""
        count = len(entries)
        stats = self._stats
        for name in ("send_msg", "send_msg.qos0", "send_pkt", "send_cnt"):
            stats[name] += count
        stats["send_oct"] += sum(entry[2].wire_size for entry in entries)
        history = self._history()
        for _, _, message in entries[-DELIVERY_HISTORY:]:
            history.append(tuple.__new__(Delivery, (message, 0, subscription.topic, SENT)))
        return {(SENT, 0): count}

    def deliver(self, message: Message, qos: int, subscription: str, inserted_at_ns: int) -> str:
        """Deliver one message now (after anything already due to the session)."""
        if self.pending():
            self.settle()
        outcome = self._take(message, qos, subscription, inserted_at_ns)
        self.touch()
        return outcome

    def _take(self, message: Message, qos: int, subscription: str, inserted_at_ns: int) -> str:
        """Take a message as EMQX's in-memory session does: QoS 0 goes straight out to a
        connected client; QoS 1/2 into the inflight window while it has room; the rest (and
        everything for an offline session) into the mqueue, its oldest dropped when full."""
        stats = self._stats
        if self.connected and (qos == 0 or len(self._inflight) < self.inflight_max):
            if qos:
                self._inflight.append(QueuedMessage(message, inserted_at_ns, qos=qos))
            outcome = SENT if qos == 0 else INFLIGHT
            stats["send_msg"] += 1
            stats[_SEND_QOS[qos]] += 1
            stats["send_pkt"] += 1
            stats["send_cnt"] += 1
            stats["send_oct"] += message.wire_size
        else:
            outcome = self._queue(QueuedMessage(message, inserted_at_ns, qos=qos))
        # tuple.__new__: a Delivery at a plain tuple's cost, once per subscriber per publish
        self._history().append(tuple.__new__(Delivery, (message, qos, subscription, outcome)))
        return outcome

    def enqueue(self, message: Message, priority: int | str = 0) -> str:
        """Queue a message in the mqueue (QUEUED, or QUEUED_DROPPING_OLDEST when full)."""
        return self.enqueue_entry(QueuedMessage(message, priority=priority))

    def enqueue_entry(self, entry: QueuedMessage) -> str:
        if self.pending():
            self.settle()
        outcome = self._queue(entry)
        self.touch()
        return outcome

    def _queue(self, entry: QueuedMessage) -> str:
        """Into the mqueue in priority order; when it is full, the oldest message of the new
        one's priority is dropped to make room, and counted (`emqx_mqueue:in/2`)."""
        outcome = QUEUED
        if 0 < self.mqueue_max <= len(self._mqueue):  # a max of 0 is EMQX's "no limit"
            same = [queued for queued in self._mqueue if queued.priority == entry.priority]
            oldest = min(same or self._mqueue, key=lambda queued: queued.inserted_at_ns)
            self._mqueue.remove(oldest)
            object.__setattr__(self, "_mqueue_dropped", self._mqueue_dropped + 1)
            self._stats["send_msg.dropped"] += 1
            self._stats["send_msg.dropped.queue_full"] += 1
            outcome = QUEUED_DROPPING_OLDEST
        bisect.insort(self._mqueue, entry, key=_mqueue_order)
        return outcome

    def put_inflight(self, message: Message) -> None:
        self.inflight.append(QueuedMessage(message))
        self.touch()


def _mqueue_order(entry: QueuedMessage) -> tuple[float, int]:
    return entry.sort_key


_NO_LOCK = contextlib.nullcontext()


class FilterLog:
    """The messages published to one plain topic filter, `(sequence, insert stamp, message)`
    in publish order. A publish appends once per matching filter, however many sessions
    subscribe to it; each subscription keeps a cursor into the log, and its session takes
    what lies beyond the cursor when it is next looked at (`Session.settle`). So a publish to
    1,000 subscribers costs one append, not 1,000 deliveries."""

    __slots__ = ("entries", "offset")

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, Message]] = []
        self.offset = 0  # the position of entries[0] since the log began

    @property
    def end(self) -> int:
        return self.offset + len(self.entries)

    def since(self, cursor: int) -> list[tuple[int, int, Message]]:
        return self.entries[cursor - self.offset :]

    def trim(self, upto: int) -> None:
        """Forget the entries before position `upto` (every cursor is past them)."""
        del self.entries[: upto - self.offset]
        self.offset = upto


class SubscriptionIndex:
    """Every subscription of every registered session, by topic filter, so a publish finds
    its subscribers without visiting every session."""

    def __init__(self) -> None:
        self._exact: dict[str, dict[tuple[str, str], tuple[Session, Subscription]]] = {}
        self._wildcard: dict[str, dict[tuple[str, str], tuple[Session, Subscription]]] = {}
        #: Plain subscriptions' logs by filter, with how many subscriptions read each.
        self.logs: dict[str, tuple[FilterLog, list[int]]] = {}
        #: Shared subscriptions by filter: a publish picks one member of each group.
        self._shared: dict[str, dict[tuple[str, str], tuple[Session, Subscription]]] = {}
        self.count = 0
        #: Goes up with every change, so readers can cache what they derive from the index.
        self.version = 0

    def _table(self, topic_filter: str) -> dict[str, dict[tuple[str, str], tuple[Session, Subscription]]]:
        return self._wildcard if is_wildcard(topic_filter) else self._exact

    def add(self, session: Session, subscription: Subscription) -> None:
        parsed = parse_filter(subscription.topic)
        table = self._table(parsed.filter)
        table.setdefault(parsed.filter, {})[(session.clientid, subscription.topic)] = (session, subscription)
        if parsed.share_group is None:
            log, readers = self.logs.setdefault(parsed.filter, (FilterLog(), [0]))
            readers[0] += 1
            subscription.log, subscription.cursor = log, log.end
        else:
            self._shared.setdefault(parsed.filter, {})[(session.clientid, subscription.topic)] = (session, subscription)
        self.version += 1
        self.count += 1

    def remove(self, session: Session, subscription: Subscription) -> None:
        parsed = parse_filter(subscription.topic)
        table = self._table(parsed.filter)
        subscribers = table.get(parsed.filter, {})
        if subscribers.pop((session.clientid, subscription.topic), None) is not None:
            if parsed.share_group is None:
                log, readers = self.logs[parsed.filter]
                readers[0] -= 1
                if not readers[0]:
                    del self.logs[parsed.filter]
                subscription.log = None
            else:
                members = self._shared[parsed.filter]
                members.pop((session.clientid, subscription.topic), None)
                if not members:
                    del self._shared[parsed.filter]
            self.version += 1
            self.count -= 1
        if not subscribers:
            table.pop(parsed.filter, None)

    def matching(self, topic: str) -> list[tuple[Session, Subscription]]:
        """Every (session, subscription) whose filter matches topic name `topic`."""
        found = list(self._exact.get(topic, {}).values())
        for topic_filter, subscribers in self._wildcard.items():
            if matches(topic, topic_filter):
                found.extend(subscribers.values())
        return found

    def logs_matching(self, topic: str) -> list[tuple[str, FilterLog, int]]:
        """The logs of the plain filters `topic` matches, with their number of subscriptions."""
        found = []
        for topic_filter, (log, readers) in self.logs.items():
            if topic_filter == topic or (is_wildcard(topic_filter) and matches(topic, topic_filter)):
                found.append((topic_filter, log, readers[0]))
        return found

    def shared_matching(self, topic: str) -> list[tuple[Session, Subscription]]:
        """Every shared subscription whose filter matches `topic`."""
        found: list[tuple[Session, Subscription]] = []
        for topic_filter, members in self._shared.items():
            if topic_filter == topic or matches(topic, topic_filter):
                found.extend(members.values())
        return found

    def readers(self, topic_filter: str) -> list[Session]:
        """The sessions with a plain subscription to `topic_filter`."""
        table = self._table(topic_filter)
        return [session for session, subscription in table.get(topic_filter, {}).values() if subscription.share_group is None]

    def filters(self) -> list[str]:
        """Every subscribed filter (without `$share/` prefixes), each once."""
        return [*self._exact, *self._wildcard]


class Sessions:
    """All sessions of the cluster, kept per node in clientid order so a page of the
    unfiltered list is a slice (EMQX lists each node's clients in descending clientid order),
    and their subscriptions indexed for publishing."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._ids_by_node: dict[str, list[str]] = {}
        self.index = SubscriptionIndex()
        #: Held while a session takes what is due (the broker makes it its own lock).
        self.lock: Any = threading.RLock()
        #: Told `(node, {(outcome, qos): count})` when a session takes logged messages.
        self.on_delivered: Callable[[str, dict[tuple[str, int], int]], None] | None = None

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, clientid: str) -> bool:
        return clientid in self._by_id

    def find(self, clientid: str) -> Session | None:
        return self._by_id.get(clientid)

    def get(self, clientid: str) -> Session:
        session = self._by_id.get(clientid)
        if session is None:
            raise NotFound("Client ID not found")
        return session

    def put(self, session: Session) -> None:
        """Add a session; one with the same clientid is taken over (replaced)."""
        if session.clientid in self._by_id:
            self.remove(session.clientid)
        self._by_id[session.clientid] = session
        bisect.insort(self._ids_by_node.setdefault(session.node, []), session.clientid)
        session._registry = self
        for subscription in session.subscriptions.values():
            self.index.add(session, subscription)

    def remove(self, clientid: str) -> Session:
        session = self.get(clientid)
        if session.pending():  # what it was due before it went still reached it (and counts)
            session.settle()
        del self._by_id[clientid]
        ids = self._ids_by_node[session.node]
        del ids[bisect.bisect_left(ids, clientid)]
        for subscription in session.subscriptions.values():
            self.index.remove(session, subscription)
        session._registry = None
        return session

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))

    def count_on(self, nodes: list[str]) -> int:
        return sum(len(self._ids_by_node.get(node, ())) for node in nodes)

    def listing(self, nodes: list[str], select_ids: Callable[[list[str]], list[str]] | None = None) -> Iterator[Session]:
        """Every session on `nodes`, in EMQX's listing order; `select_ids` may first narrow
        each node's client ids (given in listing order) without touching the sessions."""
        for node in nodes:
            ids = self._ids_by_node.get(node, [])[::-1]
            for clientid in ids if select_ids is None else select_ids(ids):
                yield self._by_id[clientid]

    def slice(self, nodes: list[str], start: int, stop: int) -> list[Session]:
        """Sessions `start` to `stop` of `listing(nodes)`, without walking the ones before."""
        found: list[Session] = []
        for node in nodes:
            ids = self._ids_by_node.get(node, [])
            if start >= len(ids):
                start -= len(ids)
                stop -= len(ids)
                continue
            first, last = len(ids) - 1 - start, max(len(ids) - stop, 0)
            found.extend(self._by_id[ids[i]] for i in range(first, last - 1, -1))
            if stop <= len(ids):
                break
            start, stop = 0, stop - len(ids)
        return found


MessageSpec = Message | str | bytes | Mapping[str, Any]


def _topic_matching(subscription: str) -> str:
    """A topic name the subscription filter matches: the default topic of a seeded message."""
    levels = parse_filter(subscription).filter.split("/")
    name = "/".join("x" if level == "+" else level for level in levels if level != "#")
    return name or "t"


def seeded_message(spec: MessageSpec, session: Session) -> tuple[Message, int | str]:
    """A seeded queue entry and its priority: a Message, a bare payload, or a dict of Message
    fields and `priority`; without a topic, one the session's first subscription matches."""
    if isinstance(spec, Message):
        return spec, 0
    if isinstance(spec, (str, bytes)):
        spec = {"payload": spec}
    fields = dict(spec)
    priority = fields.pop("priority", 0)
    payload = fields.pop("payload", b"")
    if "topic" not in fields:
        fields["topic"] = _topic_matching(next(iter(session.subscriptions), "t/1"))
    message = Message(payload=payload.encode() if isinstance(payload, str) else bytes(payload), **fields)
    return message, priority
