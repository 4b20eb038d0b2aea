"""The state lock: every change of the state is made holding it (the server is threaded), so
it is where the dashboard monitor samples, and no change can slip past a sample."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Callable


class StateLock:
    """A reentrant lock that runs `on_hold` each time a thread starts holding it (not on the
    nested acquisitions inside that hold): whatever the holder then changes, `on_hold` saw
    the state before it. `on_hold` runs holding the lock, and may take it again."""

    def __init__(self, on_hold: Callable[[], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # of the holding thread's acquisitions; only the holder touches it
        self.on_hold = on_hold

    def __enter__(self) -> StateLock:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1 and self.on_hold is not None:
            try:
                self.on_hold()
            except BaseException:
                self._depth -= 1
                self._lock.release()
                raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._depth -= 1
        self._lock.release()
