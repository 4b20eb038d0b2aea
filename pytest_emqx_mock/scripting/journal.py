"""The request journal: every request the fake answered, in order, bounded in memory, and
assertions about it that read like the domain and show what was recorded when they fail."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Iterator, NoReturn

from .matching import RequestMatcher, RequestSpec
from .recorded import JournalEntry

DEFAULT_CAPACITY = 10_000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class Journal:
    """The last `capacity` requests, fewer when their bodies would hold more than
    `max_bytes`: a long run of large pages must not fill the memory (or slow every request
    down with it)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._entries: collections.deque[JournalEntry] = collections.deque()
        self._bytes = 0  # the response bodies held
        self._lock = threading.Lock()
        self._recorded = threading.Condition(self._lock)  # wakes `wait_for`
        self._listeners: list[Callable[[JournalEntry], None]] = []

    def listen(self, listener: Callable[[JournalEntry], None]) -> None:
        """Call `listener` with each entry once recorded, on the thread that served its request."""
        self._listeners.append(listener)

    def record(self, entry: JournalEntry) -> None:
        with self._recorded:
            self._entries.append(entry)
            self._bytes += len(entry.response_body)
            while len(self._entries) > self.capacity or (self._bytes > self.max_bytes and len(self._entries) > 1):
                self._bytes -= len(self._entries.popleft().response_body)
            self._recorded.notify_all()
        for listener in self._listeners:
            listener(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)

    # -- assertions ----------------------------------------------------------------------

    def requests(self, spec: RequestSpec | None = None, **criteria: Any) -> list[JournalEntry]:
        """The recorded requests matching `spec` (`"POST /publish"`, `"/clients/{clientid}"`,
        a regular expression or a RequestMatcher) and `credential=`, `body=`, `query=`."""
        matcher = RequestMatcher.of(spec, **criteria)
        return [entry for entry in self.entries() if matcher.matches(entry)]

    def assert_called(
        self,
        spec: RequestSpec,
        *,
        times: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
        **criteria: Any,
    ) -> list[JournalEntry]:
        """At least once (or exactly `times`, or within `at_least`..`at_most`); returns the
        matching requests."""
        matcher = RequestMatcher.of(spec, **criteria)
        found = [entry for entry in self.entries() if matcher.matches(entry)]
        low = times if times is not None else (at_least if at_least is not None else 1)
        high = times if times is not None else at_most
        if len(found) < low or (high is not None and len(found) > high):
            if times is not None:
                wanted = f"exactly {_times(times)}"
            elif high is None:
                wanted = f"at least {_times(low)}"
            else:
                wanted = f"{low} to {high} times"
            self._fail(f"expected {matcher} {wanted}, but it was called {_times(len(found))}")
        return found

    def assert_not_called(self, spec: RequestSpec, **criteria: Any) -> None:
        self.assert_called(spec, times=0, **criteria)

    def assert_called_in_order(self, *specs: RequestSpec) -> None:
        """Each spec matched by a request recorded after the one matching the spec before it."""
        matchers = [RequestMatcher.of(spec) for spec in specs]
        entries = self.entries()
        position = 0
        for index, matcher in enumerate(matchers):
            found = next((i for i in range(position, len(entries)) if matcher.matches(entries[i])), None)
            if found is None:
                after = f" after {matchers[index - 1]}" if index else ""
                order = " -> ".join(str(m) for m in matchers)
                self._fail(f"expected the order {order}, but found no {matcher}{after}")
            position = found + 1

    def wait_for(self, spec: RequestSpec, *, times: int = 1, timeout: float = 5.0, **criteria: Any) -> list[JournalEntry]:
        """Block until `times` matching requests were recorded (for code under test that calls
        the fake from another thread), failing after `timeout` seconds."""
        matcher = RequestMatcher.of(spec, **criteria)
        deadline = time.monotonic() + timeout
        with self._recorded:
            while True:
                found = [entry for entry in self._entries if matcher.matches(entry)]
                remaining = deadline - time.monotonic()
                if len(found) >= times or remaining <= 0:
                    break
                self._recorded.wait(remaining)
        if len(found) < times:
            self._fail(f"waited {timeout:g} s for {matcher} {_times(times)}, but it was called {_times(len(found))}")
        return found

    def _fail(self, message: str) -> NoReturn:
        recorded = self.entries()
        lines = [f"  {number}. {entry}" for number, entry in enumerate(recorded, start=1)]
        listing = "\n".join(lines) if lines else "  (none)"
        raise AssertionError(f"{message}.\nRecorded requests, oldest first:\n{listing}")


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"
