"""The subscription state as EMQX keeps it in its own tables, for the listings that scan them.

* The subscription table (`emqx_broker`'s `?SUBOPTION`): one per node, an ordered_set keyed
  `{Topic, SubPid}` where a shared subscription's topic is a `#share{group, topic}` record.
  `GET /subscriptions` scans it with `ets:select_reverse`, so a node lists its subscriptions in
  descending key order: in Erlang's term order a tuple sorts before any binary, so the plain
  subscriptions come first (topics descending), then the shared ones (group, then topic,
  descending); subscriptions to one topic follow their channel's pid, newest channel first.
* The route table (`emqx_router`, storage schema v2): one route per (topic filter,
  destination), the destination a node for plain subscribers and `{Group, Node}` for a shared
  group, however many subscribers share it. Plain topics live in a bag table (hash order,
  unspecified: here the order their filters were first subscribed), wildcard filters in an
  ordered_set keyed `{Words, {Dest}}` (ascending; a `+`/`#` word is an atom and sorts before
  any binary, a node before a `{Group, Node}` destination). `GET /topics` lists the bag first.

Both are derived from the sessions' subscriptions and kept sorted as they change (`tables()`
re-reads only the sessions whose subscriptions changed), so a page of 100,000 subscriptions is
a slice, not a sort. A route of a node that is down is the API's to leave out.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import gc
import threading
import weakref
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, Sequence, TypeVar, overload

from ..erlang.terms import binary
from .sessions import Session, Sessions, Subscription
from .topics import InvalidFilter, is_wildcard, parse_filter

if TYPE_CHECKING:
    from .broker import Broker

T = TypeVar("T")


class SubscriptionEntry(NamedTuple):
    """One row of a node's subscription table."""

    session: Session
    subscription: Subscription
    filter: str  # the real topic filter, without `$share/<group>/` or `$queue/`
    group: str | None  # the share group (`$queue` for `$queue/...`), None for a plain one

    @property
    def topic(self) -> str:
        """The subscription's topic as EMQX lists it."""
        return format_share(self.filter, self.group)


class Route(NamedTuple):
    """One route: a topic filter and its destination, a node or a share group on a node."""

    filter: str
    node: str
    group: str | None = None

    @property
    def topic(self) -> str:
        """The route's topic as `/topics` shows it."""
        return format_share(self.filter, self.group)


def format_share(topic_filter: str, group: str | None) -> str:
    """`emqx_topic:maybe_format_share/1`: `$share/<group>/<filter>`, `$queue/<filter>` for
    the `$queue` group (however it was subscribed), the filter itself when not shared."""
    if group is None:
        return topic_filter
    if group == "$queue":
        return "$queue/" + topic_filter
    return f"$share/{group}/{topic_filter}"


def _word_key(word: str) -> tuple[int, str]:
    # '#' and '+' are atoms in a filter's words: atoms sort before binaries ('#' < '+').
    return (0, word) if word in ("+", "#") else (1, word)


def _filter_route_key(route: Route) -> tuple[Any, ...]:
    """A wildcard route's place in the ordered_set: `{Words, {Dest}}` in Erlang term order."""
    words = [_word_key(word) for word in route.filter.split("/")]
    dest = (0, route.node) if route.group is None else (1, route.group, route.node)
    return (words, dest)


class _Record:
    """What the tables hold of one session: its subscriptions as last placed."""

    __slots__ = ("session", "revision", "rank", "subscriptions")

    def __init__(self, session: Session, rank: int) -> None:
        self.session = session
        self.revision = -1
        self.rank = rank  # its channel's spawn order: later sessions have larger pids
        self.subscriptions: tuple[Subscription, ...] = ()


#: Beyond this many changes to a node's table at once, it is re-sorted rather than edited.
_BULK = 256

Dest = tuple[str, "str | None"]  # (node, share group)


def _split(topic: str) -> tuple[str, str | None]:
    """(filter, share group) of a subscribed topic."""
    if topic[:1] != "$":
        return topic, None
    parsed = parse_filter(topic)
    return parsed.filter, parsed.share_group


class Tables:
    """Every node's subscription table and the route table, kept in step with the sessions
    (`sync`): only the sessions whose subscriptions changed are re-read, so a large, mostly
    unchanged fleet costs a walk over the registry, not a sort."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self._token: object = None
        self._records: dict[int, _Record] = {}
        self._ranks = 0
        self._keys: dict[str, list[tuple[Any, ...]]] = {}  # per node, ascending
        self._entries: dict[str, list[SubscriptionEntry]] = {}  # per node, beside the keys
        # filter -> destination -> subscribers, in the order the filters were first subscribed
        self._plain: dict[str, dict[Dest, int]] = {}
        self._wildcard: dict[str, dict[Dest, int]] = {}
        self._node_routes: collections.Counter[str] = collections.Counter()
        self._routes: list[Route] | None = None

    # -- keeping up --------------------------------------------------------------------

    def sync(self) -> None:
        token = _state_token(self.sessions)
        if token == self._token:
            return
        with gc_paused():  # the first sync of a large fleet makes ~400k small objects at once
            self._sync(self.sessions)
        self._token = token

    def _sync(self, sessions: Sessions) -> None:
        additions: dict[str, list[tuple[tuple[Any, ...], SubscriptionEntry]]] = {}
        removals: dict[str, list[tuple[Any, ...]]] = {}
        records = self._records
        seen = 0
        for session in sessions:
            record = records.get(id(session))
            if record is None or record.session is not session:
                record = records[id(session)] = _Record(session, self._ranks)
                self._ranks += 1
            seen += 1
            if record.revision == session.revision:
                continue
            record.revision = session.revision
            current = tuple(session.subscriptions.values())
            previous = record.subscriptions
            if len(current) == len(previous) and all(a is b for a, b in zip(current, previous, strict=True)):
                continue  # the session changed, its subscriptions did not
            self._unplace(record, removals)
            self._place(record, current, additions)
        if seen != len(records):  # some sessions left the registry
            alive = set(map(id, sessions))
            for key in [key for key in records if key not in alive]:
                self._unplace(records.pop(key), removals)
        for node in set(additions) | set(removals):
            self._apply(node, additions.get(node, []), removals.get(node, []))

    def _key(self, record: _Record, subscription: Subscription) -> tuple[tuple[Any, ...], str, str | None]:
        """A row's place: `{Topic, Pid}` in term order (a `#share{}` tuple sorts first)."""
        topic_filter, group = _split(subscription.topic)
        if group is None:
            return (1, topic_filter, record.rank, subscription.topic), topic_filter, None
        return (0, group, topic_filter, record.rank, subscription.topic), topic_filter, group

    def _place(
        self,
        record: _Record,
        subscriptions: tuple[Subscription, ...],
        additions: dict[str, list[tuple[tuple[Any, ...], SubscriptionEntry]]],
    ) -> None:
        session, node = record.session, record.session.node
        placed = additions.setdefault(node, [])
        for subscription in subscriptions:
            key, topic_filter, group = self._key(record, subscription)
            placed.append((key, SubscriptionEntry(session, subscription, topic_filter, group)))
            table = self._wildcard if is_wildcard(topic_filter) else self._plain
            counts = table.setdefault(topic_filter, {})
            dest = (node, group)
            count = counts[dest] = counts.get(dest, 0) + 1
            if count == 1:
                self._node_routes[node] += 1
                self._routes = None
        record.subscriptions = subscriptions

    def _unplace(self, record: _Record, removals: dict[str, list[tuple[Any, ...]]]) -> None:
        node = record.session.node
        removed = removals.setdefault(node, [])
        for subscription in record.subscriptions:
            key, topic_filter, group = self._key(record, subscription)
            removed.append(key)
            table = self._wildcard if is_wildcard(topic_filter) else self._plain
            counts = table[topic_filter]
            dest = (node, group)
            counts[dest] -= 1
            if not counts[dest]:
                del counts[dest]
                self._node_routes[node] -= 1
                self._routes = None
                if not counts:
                    del table[topic_filter]
        record.subscriptions = ()

    def _apply(
        self, node: str, added: list[tuple[tuple[Any, ...], SubscriptionEntry]], removed: list[tuple[Any, ...]]
    ) -> None:
        keys = self._keys.setdefault(node, [])
        entries = self._entries.setdefault(node, [])
        if len(added) + len(removed) > _BULK:
            gone = set(removed)
            pairs = [pair for pair in zip(keys, entries, strict=True) if pair[0] not in gone]
            pairs += added
            pairs.sort(key=_first)
            self._keys[node] = [key for key, _ in pairs]
            self._entries[node] = [entry for _, entry in pairs]
            return
        for key in removed:
            index = bisect.bisect_left(keys, key)
            del keys[index]
            del entries[index]
        for key, entry in added:
            index = bisect.bisect_left(keys, key)
            keys.insert(index, key)
            entries.insert(index, entry)

    # -- reading -----------------------------------------------------------------------

    def subscriptions(self, node: str) -> Descending[SubscriptionEntry]:
        """A node's subscription table in `ets:select_reverse` order: descending keys."""
        return Descending(self._entries.get(node, []))

    @property
    def routes(self) -> list[Route]:
        """Every route: the plain topics' (in the order their filters were first subscribed),
        then the wildcard filters' in the ordered_set's order."""
        if self._routes is None:
            with gc_paused():
                self._routes = self._build_routes()
        return self._routes

    def _build_routes(self) -> list[Route]:
        plain = [Route(f, node, group) for f, counts in self._plain.items() for node, group in counts]
        wildcard = [Route(f, node, group) for f, counts in self._wildcard.items() for node, group in counts]
        wildcard.sort(key=_filter_route_key)
        return plain + wildcard

    def routes_of(self, topic_filter: str) -> list[Route]:
        """The routes of one topic filter (`emqx_router:lookup_routes/1`), in table order."""
        if is_wildcard(topic_filter):
            found = [Route(topic_filter, node, group) for node, group in self._wildcard.get(topic_filter, ())]
            return sorted(found, key=_filter_route_key)
        return [Route(topic_filter, node, group) for node, group in self._plain.get(topic_filter, ())]

    @property
    def route_nodes(self) -> set[str]:
        """The nodes some route leads to."""
        return {node for node, count in self._node_routes.items() if count}


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Descending(Sequence[T]):
    """A read-only view of an ascending list in descending order; slices are lists."""

    def __init__(self, ascending: list[T]) -> None:
        self._items = ascending

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        size = len(self._items)
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1:
                raise ValueError("only contiguous slices")
            if stop <= start:
                return []
            return self._items[size - stop : size - start][::-1]
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._items[size - 1 - index]

    def __iter__(self) -> Iterator[T]:
        return reversed(self._items)


def session_entries(session: Session) -> list[SubscriptionEntry]:
    """One session's rows, in its node's table order (they share one channel pid)."""
    found = []
    for subscription in session.subscriptions.values():
        parsed = parse_filter(subscription.topic)
        found.append(SubscriptionEntry(session, subscription, parsed.filter, parsed.share_group))
    found.sort(key=_entry_key, reverse=True)
    return found


def _entry_key(entry: SubscriptionEntry) -> tuple[Any, ...]:
    if entry.group is None:
        return (1, entry.filter, 0, entry.subscription.topic)
    return (0, entry.group, entry.filter, 0, entry.subscription.topic)


def _first(item: tuple[tuple[Any, ...], SubscriptionEntry]) -> tuple[Any, ...]:
    return item[0]


#: Per broker (weakly: a broker the tests drop takes its tables along). Not per `Sessions`:
#: the tables hold sessions, and a session holds its registry, so a registry could never be
#: let go of as a weak key; a reset broker's new registry replaces its tables instead.
_cache: weakref.WeakKeyDictionary[Any, Tables] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _state_token(sessions: Sessions) -> object:
    """Changes whenever a subscription is added or removed, or a session joins or leaves the
    registry."""
    return sessions.index.version


def tables(broker: Broker) -> Tables:
    """The tables of the broker's sessions, brought up to date (call it under its lock)."""
    sessions = broker.sessions
    with _cache_lock:
        state = _cache.get(broker)
        if state is None or state.sessions is not sessions:  # new, or reset since
            state = _cache[broker] = Tables(sessions)
    state.sync()
    return state


# -- topic parameters ----------------------------------------------------------------------


def parse_topic(text: str) -> tuple[str, str | None]:
    """`emqx_topic:parse/1` on an API parameter: (topic, share group or None). Unlike a
    subscription it checks only the prefix: `$share/g/` (empty topic) and `$share//t` (empty
    group) pass; `$exclusive/t` is topic `t`. Raises InvalidFilter (`invalid_topic_filter`)."""
    group: str | None = None
    topic = text
    if text.startswith("$queue/"):
        group, topic = "$queue", text[len("$queue/") :]
    elif text.startswith("$share/"):
        group, sep, topic = text[len("$share/") :].partition("/")
        if not sep or "+" in group or "#" in group:
            raise InvalidFilter('{invalid_topic_filter,' + binary(text.encode()) + '}')
    elif text.startswith("$exclusive/"):
        topic = text[len("$exclusive/") :]
        if not topic:
            raise InvalidFilter('{invalid_topic_filter,' + binary(text.encode()) + '}')
        return topic, None
    if group is not None and topic.startswith(("$queue/", "$share/")):
        raise InvalidFilter('{invalid_topic_filter,' + binary(topic.encode()) + '}')
    return topic, group
