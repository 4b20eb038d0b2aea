"""Faults a test sets on the fake: an EMQX error, a response of its own, latency, or a broken
connection, for the requests a matcher picks (see `matching`), for the next N of them, for a
while, or until cleared, optionally with a seeded probability. An error, a response or a
transport fault replaces the handler, so a request it meets changes no state."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from .error_codes import ERROR_CODES
from .matching import RequestMatcher, RequestSpec
from .replies import Reply

if TYPE_CHECKING:
    from .journal import JournalEntry

_DESCRIPTIONS = dict(ERROR_CODES)

#: What a transport fault does to the connection instead of answering.
TRANSPORT_FAULTS = ("reset", "empty", "malformed", "garbage")
#: Sockets the server must close with a reset (SO_LINGER 0) once their handler is done.
sockets_to_reset: weakref.WeakSet[socket.socket] = weakref.WeakSet()


@dataclass(eq=False)
class Fault:
    matcher: RequestMatcher
    reply: Reply | None = None  # an answer in place of the handler's
    delay: float = 0.0  # seconds before the response goes out
    transport: str | None = None  # one of TRANSPORT_FAULTS, in place of any answer
    times: int | None = None  # how many more requests it applies to; None: until cleared
    deadline: float | None = None  # `time.monotonic()` after which it no longer applies
    probability: float = 1.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    expected: bool = False  # set with `expect=True`: never triggered is a test failure
    triggered: int = 0

    @property
    def replaces_handler(self) -> bool:
        return self.reply is not None or self.transport is not None

    def __str__(self) -> str:
        if self.transport is not None:
            what = f"connection {self.transport}"
        elif self.reply is None:
            what = f"delay {self.delay:g} s"
        elif isinstance(self.reply.body, dict) and "code" in self.reply.body and not self.reply.keep_order:
            what = f"{self.reply.status} {self.reply.body['code']}"
        else:
            what = f"{self.reply.status} response"
        return f"{what} on {self.matcher}"

    def _live(self, now: float) -> bool:
        return (self.times is None or self.times > 0) and (self.deadline is None or now < self.deadline)


class Faults:
    """The faults set on one fake, applied in the order they were set (the first that
    applies to a request wins)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def error(self, spec: RequestSpec, status: int, code: str, message: str | None = None, **scope: Any) -> Fault:
        """Answer `{"code", "message"}` with `status`; the message defaults to EMQX's
        description of the code."""
        body = {"code": code, "message": _DESCRIPTIONS.get(code, code) if message is None else message}
        return self._add(spec, scope, reply=Reply(status, body))

    def respond(self, spec: RequestSpec, status: int = 200, body: Any = None, headers: dict[str, str] | None = None, **scope: Any) -> Fault:
        """Answer anything: `body` is JSON-encoded unless it is bytes or text with a
        content-type header of its own."""
        return self._add(spec, scope, reply=Reply(status, body, dict(headers or {}), keep_order=True))

    def delay(self, spec: RequestSpec, seconds: float, **scope: Any) -> Fault:
        """Hold the (otherwise normal) response for `seconds`."""
        return self._add(spec, scope, delay=seconds)

    def transport(self, spec: RequestSpec, kind: str, **scope: Any) -> Fault:
        """Break the connection instead of answering: "reset" (a TCP reset), "empty" (closed
        with no response), "malformed" (a status line no HTTP client accepts), "garbage"
        (random bytes, then closed)."""
        if kind not in TRANSPORT_FAULTS:
            raise ValueError(f"transport fault must be one of {TRANSPORT_FAULTS}, not {kind!r}")
        return self._add(spec, scope, transport=kind)

    def _add(self, spec: RequestSpec, scope: dict[str, Any], **effect: Any) -> Fault:
        """`scope`: `times=N`, `seconds=S` (a window from now), `probability=P` with `seed=`,
        `expect=True` (the test fails if no request meets it), and the matcher's
        `credential=`, `body=`, `query=`."""
        times, seconds = scope.pop("times", None), scope.pop("seconds", None)
        probability, seed = scope.pop("probability", 1.0), scope.pop("seed", None)
        expected = scope.pop("expect", False)
        fault = Fault(
            RequestMatcher.of(spec, **scope),
            times=times,
            deadline=None if seconds is None else time.monotonic() + seconds,
            probability=probability,
            rng=random.Random(seed),
            expected=expected,
            **effect,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def __bool__(self) -> bool:
        return bool(self._faults)

    def untriggered(self) -> list[Fault]:
        """The faults set with `expect=True` that no request has met."""
        with self._lock:
            return [fault for fault in self._faults if fault.expected and not fault.triggered]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))

    def take(self, request: JournalEntry) -> Fault | None:
        """The fault that applies to this request, counted as triggered (atomically: with
        `times=1`, exactly one of many concurrent requests gets it)."""
        now = time.monotonic()
        with self._lock:
            for fault in self._faults:
                if not fault._live(now) or not fault.matcher.matches(request):
                    continue
                if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                fault.triggered += 1
                return fault
        return None


def break_connection(fault: Fault, environ: dict[str, Any]) -> Iterator[bytes]:
    """The response body of a request a transport fault meets: it acts on the connection, then
    ends the exchange as a dropped connection (which the server takes quietly). Reads are shut
    first so the server's handler stops instead of waiting for another request."""
    connection: socket.socket = environ["werkzeug.socket"]
    connection.shutdown(socket.SHUT_RD)
    if fault.transport == "reset":
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sockets_to_reset.add(connection)
    else:
        if fault.transport == "malformed":
            connection.sendall(b"HTTP/1.1 2OO OK\r\ncontent-length: ten\r\n\r\n{")
        elif fault.transport == "garbage":
            connection.sendall(bytes(fault.rng.getrandbits(8) for _ in range(64)))
        connection.shutdown(socket.SHUT_WR)
    raise ConnectionResetError(f"fault: {fault}")
    yield b""  # a generator: nothing runs until the server starts sending the response
