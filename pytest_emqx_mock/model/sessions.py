"""MQTT sessions (what `/clients` lists): connection info, subscriptions, inflight window and
message queue, and the counters EMQX reports for each."""

from __future__ import annotations

import bisect
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .clock import now
from .errors import Invalid, NotFound
from .topics import parse_filter, validate_filter

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


@dataclass(eq=False)
class QueuedMessage:
    """A message as it sits in one session's inflight window or mqueue."""

    message: Message
    inserted_at_ns: int = field(default_factory=insert_timestamp_ns)
    priority: int | str = 0  # "infinity" is EMQX's highest mqueue priority

    @property
    def sort_key(self) -> tuple[float, int]:
        """Mqueue order: higher priority first, then first in, first out."""
        rank = float("inf") if self.priority == "infinity" else float(self.priority)
        return (-rank, self.inserted_at_ns)


@dataclass(eq=False)
class Subscription:
    topic: str  # as subscribed, `$share/<group>/` included
    qos: int = 0
    nl: int = 0
    rap: int = 0
    rh: int = 0

    @property
    def share_group(self) -> str | None:
        return parse_filter(self.topic).share_group


class NoLocalOnShared(Invalid):
    """No-local asked on a shared subscription [MQTT-3.8.3-4]."""


class Session:
    """One client session. Every attribute assignment bumps `revision`, so readers can cache
    what they derive from a session (the HTTP layer caches each rendered client row)."""

    revision: int
    #: What a reader derived from this session, and at which revision (see `cached`).
    _derived: tuple[int, Any] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        object.__setattr__(self, "revision", next(_revisions))

    def touch(self) -> None:
        """Mark a change made inside a container attribute (subscriptions, queues, stats)."""
        object.__setattr__(self, "revision", next(_revisions))

    def cached(self, derive: Callable[[Session], Any]) -> Any:
        """`derive(self)`, computed again only after the session has changed. Readers that
        render every session on every request (the client list) pay for changes, not reads."""
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
        auth_expire_at: float | None = None,
        inflight_max: int = 32,
        mqueue_max: int = 1000,
        awaiting_rel_max: int = 100,
        subscriptions_max: int | str = "infinity",
        stats: dict[str, int] | None = None,
    ) -> None:
        created = now() if created_at is None else created_at
        self.clientid = clientid
        self.node = node
        self.username = username
        self.ip_address = ip_address
        self.port = port
        self.listener = listener
        self.proto_name = proto_name
        self.proto_ver = proto_ver
        self.clean_start = clean_start
        self.keepalive = keepalive
        self.expiry_interval = expiry_interval
        self.connected = connected
        self.created_at = created
        self.connected_at = created if connected_at is None else connected_at
        self.disconnected_at = disconnected_at
        if not connected and disconnected_at is None:
            self.disconnected_at = now()
        self.is_bridge = is_bridge
        self.mountpoint = mountpoint
        self.enable_authn = enable_authn
        self.client_attrs = dict(client_attrs or {})
        self.peersni = peersni
        self.auth_expire_at = auth_expire_at
        self.inflight_max = inflight_max
        self.mqueue_max = mqueue_max
        self.mqueue_dropped = 0
        self.awaiting_rel_cnt = 0
        self.awaiting_rel_max = awaiting_rel_max
        self.subscriptions_max = subscriptions_max
        self.stats = dict.fromkeys(STAT_NAMES, 0)
        self.stats.update(stats or {})
        self.subscriptions: dict[str, Subscription] = {}
        self.inflight: list[QueuedMessage] = []
        self.mqueue: list[QueuedMessage] = []
        self.authz_cache: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<Session {self.clientid!r} {state} on {self.node}>"

    def subscribe(self, topic: str, qos: int = 0, nl: int = 0, rap: int = 0, rh: int = 0) -> Subscription:
        """Subscribe; raises InvalidFilter (a bad `$share`), NoLocalOnShared, or Invalid (a
        filter whose levels break the MQTT rules)."""
        topic_filter = parse_filter(topic)
        if topic_filter.share_group is not None and nl:
            raise NoLocalOnShared("Invalid Subscribe options: `no_local` not allowed for shared-sub. See [MQTT-3.8.3-4]")
        validate_filter(topic_filter)
        subscription = Subscription(topic, qos, nl, rap, rh)
        self.subscriptions[topic] = subscription
        self.touch()
        return subscription

    def unsubscribe(self, topic: str) -> bool:
        removed = self.subscriptions.pop(topic, None) is not None
        if removed:
            self.touch()
        return removed

    def enqueue(self, message: Message, priority: int | str = 0) -> bool:
        """Queue a message in the mqueue; False (and counted as dropped) when it is full."""
        if len(self.mqueue) >= self.mqueue_max:
            self.mqueue_dropped += 1
            self.stats["send_msg.dropped"] += 1
            self.stats["send_msg.dropped.queue_full"] += 1
            self.touch()
            return False
        entry = QueuedMessage(message, priority=priority)
        bisect.insort(self.mqueue, entry, key=lambda queued: queued.sort_key)
        self.touch()
        return True

    def put_inflight(self, message: Message) -> None:
        self.inflight.append(QueuedMessage(message))
        self.touch()


class Sessions:
    """All sessions of the cluster, kept per node in clientid order so a page of the
    unfiltered list is a slice (EMQX lists each node's clients in descending clientid order)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._ids_by_node: dict[str, list[str]] = {}

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

    def remove(self, clientid: str) -> Session:
        session = self.get(clientid)
        del self._by_id[clientid]
        ids = self._ids_by_node[session.node]
        del ids[bisect.bisect_left(ids, clientid)]
        return session

    def count_on(self, nodes: list[str]) -> int:
        return sum(len(self._ids_by_node.get(node, ())) for node in nodes)

    def listing(self, nodes: list[str]) -> Iterator[Session]:
        """Every session on `nodes`, in EMQX's listing order."""
        for node in nodes:
            ids = self._ids_by_node.get(node, [])
            for index in range(len(ids) - 1, -1, -1):
                yield self._by_id[ids[index]]

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
