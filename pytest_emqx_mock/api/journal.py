"""The request journal: every request the fake answered, in order, bounded in memory."""

from __future__ import annotations

import collections
import json
import threading
from dataclasses import dataclass
from typing import Any, Iterator

DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True)
class JournalEntry:
    method: str
    path: str  # as received, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # the decoded JSON body, the raw text otherwise, None when empty
    credential: str | None  # "api_key:<key>" or "token:<username>", None when unauthenticated
    status: int
    response_body: bytes  # kept raw: decoding every page would cost more than serving it
    operation: str | None  # "GET /clients/{clientid}", None for an unknown path

    @property
    def response(self) -> Any:
        """The response body decoded as JSON; the text when it is not JSON; None when empty."""
        if not self.response_body:
            return None
        try:
            return json.loads(self.response_body)
        except ValueError:
            return self.response_body.decode(errors="replace")


class Journal:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: collections.deque[JournalEntry] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
