"""Faults a test sets on the fake: an EMQX error, latency (fixed or random, before the response
or trickled through its body), a broken connection, or a cluster fault (a node down, a node
whose RPCs time out). Request faults are scoped rules (`rules`): they apply to the requests a
matcher picks for the next N of them, for a while, or until cleared, optionally with a seeded
probability. An error or a transport fault replaces the handler (or a stub's answer), so a
request it meets changes no state; a cluster fault changes the cluster until it ends. A
response of the test's own is a stub (`stubs`): `respond` sets one."""

from __future__ import annotations

import socket
import struct
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Protocol

from ..flavours.v4.api import RESULT_CODES
from ..flavours.v5.endpoints.error_codes import ERROR_CODES
from ..http.replies import Reply
from ..state.cluster import STOPPED
from ..state.errors import NotFound
from .matching import RequestMatcher, RequestSpec
from .rules import (
    Rule,
    RuleSet,
    check,
    described,
    http_status,
    is_seconds,
    scoped,
    seconds_wanted,
)
from .stubs import Stub, Stubs

if TYPE_CHECKING:
    import random

    from ..state.broker import Broker

#: Each code's description, a fault's message by default: EMQX 5's codes, EMQX 4's numbers.
_DESCRIPTIONS = {**dict(ERROR_CODES), **{str(code): text for code, text in RESULT_CODES.items()}}

#: What a transport fault does to the connection instead of answering.
TRANSPORT_FAULTS = ("reset", "empty", "malformed", "garbage")
#: Sockets the server must close with a reset (SO_LINGER 0) once their handler is done.
sockets_to_reset: weakref.WeakSet[socket.socket] = weakref.WeakSet()
#: How many pieces a trickled body is written in (fewer when it has fewer bytes).
TRICKLE_PIECES = 10

Latency = float | tuple[float, float]  # seconds, or a (low, high) range drawn from uniformly


class Served(Protocol):
    """What faults are told of the app they are set on (`http.app.EmqxApp`)."""

    def require_answer(self, matcher: RequestMatcher, stubs: Stubs) -> None:
        """ValueError when no route and none of `stubs` answers a request `matcher` names."""

    def require_error_code(self, code: str) -> None:
        """ValueError for an error code that no mounted flavour answers with."""


@dataclass(eq=False)
class Fault(Rule):
    KIND: ClassVar[str] = "fault"
    reply: Reply | None = None  # an error in place of the handler's answer (or a stub's)
    delay: Latency = 0.0  # seconds before the response goes out (or while its body trickles)
    trickle: bool = False  # spread the delay over the body instead of waiting before it
    transport: str | None = None  # one of TRANSPORT_FAULTS, in place of any answer
    node: str | None = None  # the node of a cluster fault
    node_effect: str | None = None  # a cluster fault's: "down" or "rpc timeout"
    #: undoes a cluster fault's change (set by Faults when it applies one)
    undo: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def replaces_handler(self) -> bool:
        return self.reply is not None or self.transport is not None

    def latency(self) -> float:
        """This request's delay: the fixed one, or a draw from the seeded range."""
        if isinstance(self.delay, tuple):
            return self.rng.uniform(*self.delay)
        return self.delay

    def __str__(self) -> str:
        if self.matcher is None:
            return f"node {self.node} down" if self.node_effect == "down" else f"node {self.node} rpc timeout after {self.delay:g} s"
        if self.transport is not None:
            what = f"connection {self.transport}"
        elif self.reply is None:
            span = f"{self.delay[0]:g}-{self.delay[1]:g}" if isinstance(self.delay, tuple) else f"{self.delay:g}"
            what = f"{'trickle' if self.trickle else 'delay'} {span} s"
        else:
            what = f"{self.reply.status} {self.reply.body['code']}"
        return f"{what} on {self.matcher}"


class Faults(RuleSet[Fault]):
    """The faults set on one fake. Request faults apply in the order they were set (the first
    that applies to a request wins); cluster faults change the broker's nodes while they last.
    `stubs`: where `respond` sets its canned answers; `served`: what refuses a fault on a path
    nothing answers, or with an error code no flavour knows (no checks without it)."""

    def __init__(self, broker: Broker, stubs: Stubs | None = None, served: Served | None = None) -> None:
        super().__init__()
        self.broker = broker
        self.stubs = stubs if stubs is not None else Stubs()
        self.served = served

    # -- request faults ------------------------------------------------------------------

    def error(self, spec: RequestSpec, status: int, code: str, message: str | None = None, **scope: Any) -> Fault:
        """Answer `{"code", "message"}` with `status`; the message defaults to EMQX's
        description of the code."""
        check(isinstance(code, str) and code != "", "code must be a non-empty string")
        check(message is None or isinstance(message, str), "message must be a string")
        if self.served is not None:
            self.served.require_error_code(code)
        body = {"code": code, "message": _DESCRIPTIONS.get(code, code) if message is None else message}
        return self._add(spec, scope, reply=Reply(http_status(status), body))

    def respond(self, spec: RequestSpec, status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None, **scope: Any) -> Stub:
        """Answer anything, on any path: a canned stub (`Stubs.stub`), listed, removed and
        cleared with the stubs. `body` is JSON-encoded unless it is bytes or text with a
        content-type header of its own (bytes without one are sent as JSON, as they always were)."""
        headers = dict(headers or {})
        typed = any(isinstance(name, str) and name.lower() == "content-type" for name in headers)
        if isinstance(body, bytes) or (isinstance(body, str) and typed):
            return self.stubs.stub(spec, status=status, content=body, content_type=None if typed else "application/json", headers=headers, **scope)
        return self.stubs.stub(spec, status=status, json=body, headers=headers, **scope)

    def delay(self, spec: RequestSpec, seconds: Latency, *, trickle: bool = False, **scope: Any) -> Fault:
        """Hold the (otherwise normal) response for `seconds`, or a uniform draw from a
        `(low, high)` range (repeatable with `seed=`). With `trickle=True` the headers go out
        at once and the body follows in pieces spread over that time."""
        wanted = seconds_wanted("seconds") + ", or a [low, high] range of them"
        if isinstance(seconds, (tuple, list)):
            check(len(seconds) == 2 and all(is_seconds(s) for s in seconds) and seconds[0] <= seconds[1], wanted)
            seconds = (float(seconds[0]), float(seconds[1]))
        else:
            check(is_seconds(seconds), wanted)
        check(isinstance(trickle, bool), "trickle must be true or false")
        return self._add(spec, scope, delay=seconds, trickle=trickle)

    def transport(self, spec: RequestSpec, kind: str, **scope: Any) -> Fault:
        """Break the connection instead of answering: "reset" (a TCP reset), "empty" (closed
        with no response), "malformed" (a status line no HTTP client accepts), "garbage"
        (random bytes, then closed)."""
        check(kind in TRANSPORT_FAULTS, f"transport fault must be one of {TRANSPORT_FAULTS}, not {kind!r}")
        return self._add(spec, scope, transport=kind)

    def _add(self, spec: RequestSpec, scope: dict[str, Any], **effect: Any) -> Fault:
        """`scope`: see `rules.scoped`. A fault on a path that no route and no stub answers
        would never apply: it is refused."""
        fault = Fault(**scoped(spec, scope), **effect)
        if self.served is not None:
            assert fault.matcher is not None
            self.served.require_answer(fault.matcher, self.stubs)
        return self._register(fault)

    # -- cluster faults ------------------------------------------------------------------

    def node_down(self, node: str, *, duration: float | None = None) -> Fault:
        """Take a node out of the cluster, as if it crashed or a network split cut it off
        (EMQX's API node cannot tell the two apart: both leave `mria:running_nodes()`). It
        shows `node_status: "stopped"` in `/nodes`; calls naming it fail with 500 NODE_DOWN
        (`Reason nodedown`) or 404 where EMQX looks it up first; its clients and routes leave
        the cluster-wide lists, and aggregates count the live nodes only. It comes back when
        the fault ends: after `duration` seconds, when cleared, or at a reset."""
        check(duration is None or is_seconds(duration), seconds_wanted("duration"))
        before = self._node(node).status

        def undo() -> None:
            if node in self.broker.nodes:
                self.broker.set_node_status(node, before)

        self.broker.set_node_status(node, STOPPED)
        return self._add_cluster_fault(Fault(None, node=node, node_effect="down"), undo, duration)

    def rpc_timeout(self, node: str, seconds: float = 1.0, *, duration: float | None = None) -> Fault:
        """Make a node hang: it stays a running member, but the calls that must reach it wait
        `seconds` (EMQX waits up to 50) and then fail as EMQX's timed-out RPCs do: the client
        and subscription lists with 500 NODE_DOWN `Reason timeout`, the node's metrics and
        stats with 400 BAD_REQUEST `timeout`."""
        check(is_seconds(seconds), seconds_wanted("seconds"))
        check(duration is None or is_seconds(duration), seconds_wanted("duration"))
        target = self._node(node)

        def undo() -> None:
            with self.broker.lock:
                target.rpc_timeout = None

        with self.broker.lock:
            target.rpc_timeout = float(seconds)
        return self._add_cluster_fault(Fault(None, node=node, node_effect="rpc timeout", delay=float(seconds)), undo, duration)

    def _node(self, name: str) -> Any:
        check(isinstance(name, str), "node must be a node name")
        try:
            with self.broker.lock:
                return self.broker.node(name)
        except NotFound as error:
            raise ValueError(str(error)) from None

    def _add_cluster_fault(self, fault: Fault, undo: Callable[[], None], duration: float | None) -> Fault:
        fault.undo = undo
        if duration is not None:
            fault.deadline = time.monotonic() + duration
            timer = threading.Timer(duration, self._end, [fault])
            timer.daemon = True
            timer.start()
        return self._register(fault)

    def _end(self, fault: Fault) -> None:
        """A cluster fault's window is over: undo it unless it was removed already."""
        with self._lock:
            if fault not in self._rules:
                return
            self._rules.remove(fault)
        if fault.undo is not None:
            fault.undo()

    # -- descriptions: the marker, scenario files and the control API ---------------------

    def add(self, description: Mapping[str, Any]) -> Fault | Stub:
        """Set a fault from a JSON-like description naming its kind once, with the request
        (or node) as that key's value and the method's other arguments beside it:
        `{"error": "GET /clients", "status": 503, "code": "SERVICE_UNAVAILABLE", "times": 1}`,
        `{"delay": "/publish", "seconds": [0.1, 0.5], "seed": 7}`, `{"node_down": "emqx@n2"}`
        (`respond` sets a stub).
        A request is `"METHOD /path"` or `{"method", "path" | "path_regex"}`.
        Raises ValueError naming what is wrong."""
        check(isinstance(description, Mapping), "a fault is an object naming its kind")
        kinds = [kind for kind in _KINDS if kind in description]
        check(len(kinds) == 1, f"a fault names exactly one of {', '.join(_KINDS)}")
        kind = kinds[0]
        arguments = {key: value for key, value in description.items() if key != kind}
        method = getattr(self, kind)
        try:
            described(method, description[kind], arguments)
            return method(description[kind], **arguments)  # type: ignore[no-any-return]
        except ValueError as error:
            raise ValueError(f"{kind}: {error}") from None

    # -- the set -------------------------------------------------------------------------

    def remove(self, fault_id: int) -> bool:
        """End one fault (a cluster fault's change is undone); False when there is none."""
        found = self._remove(fault_id)
        for fault in found:
            if fault.undo is not None:
                fault.undo()
        return bool(found)

    def clear(self) -> None:
        """End every fault, undoing the cluster faults' changes."""
        for fault in reversed(self._clear()):  # the earliest change is undone last
            if fault.undo is not None:
                fault.undo()


_KINDS = ("error", "respond", "delay", "transport", "node_down", "rpc_timeout")


def break_connection(fault: Fault, environ: dict[str, Any]) -> Iterator[bytes]:
    """The response body of a request a transport fault meets: it acts on the connection, then
    ends the exchange as a dropped connection (which the server takes quietly)."""
    return cut_connection(environ, str(fault.transport), fault.rng, f"fault: {fault}")


def cut_connection(environ: dict[str, Any], transport: str, rng: random.Random | None, why: str) -> Iterator[bytes]:
    """The response body that does to the connection what `transport` (one of TRANSPORT_FAULTS)
    says instead of answering. Reads are shut first so the server's handler stops instead of
    waiting for another request."""
    connection: socket.socket = environ["werkzeug.socket"]
    connection.shutdown(socket.SHUT_RD)
    if transport == "reset":
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sockets_to_reset.add(connection)
    else:
        if transport == "malformed":
            connection.sendall(b"HTTP/1.1 2OO OK\r\ncontent-length: ten\r\n\r\n{")
        elif transport == "garbage" and rng is not None:
            connection.sendall(bytes(rng.getrandbits(8) for _ in range(64)))
        connection.shutdown(socket.SHUT_WR)
    raise ConnectionResetError(why)
    yield b""  # a generator: nothing runs until the server starts sending the response
