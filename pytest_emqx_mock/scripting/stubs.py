"""Stubs (WireMock's word): answers a test gives to any method and path, served by the fake or
not. A stub answers in place of the handler of an operation the fake serves (after
authentication and body decoding, so such a request changes no state), or in place of the
404/405 of a path or method it does not serve (such a request needs no credentials and meets
no checks: the fake knows nothing of it; valid credentials it carries still name it). It
answers with a canned response (checked, and encoded, when it is set), with responses in turn
(one per request, the last repeating: `times=` ends the sequence), or with a Python callable
given the request. Stubs are scoped as faults are (`rules`); faults still apply to a
stubbed request (a delay, a broken connection, or an error in place of the stub's answer)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Sequence

from ..http.replies import Reply, encode_given
from .rules import Rule, RuleSet, check, described, http_status, scoped

if TYPE_CHECKING:
    from .matching import RequestSpec


@dataclass(frozen=True)
class StubRequest:
    """What a stub's callable is given."""

    method: str
    path: str  # as received, without the query string
    query: dict[str, list[str]]  # each parameter's values, in order
    headers: dict[str, str]
    body: Any  # the decoded JSON body when it is JSON, the text otherwise, None when empty
    data: bytes  # the body as sent
    credential: str | None  # "api_key:<key>" or "token:<username>" when it carries valid ones


@dataclass(frozen=True)
class StubResponse:
    """One answer: `json` (any JSON value, sent as `application/json`) or `content` (text or
    bytes sent as they are, `text/plain; charset=utf-8` or `application/octet-stream` unless
    `content_type` or a content-type header says otherwise), or no body."""

    status: int = 200
    json: Any = None
    content: str | bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def reply(self) -> Reply:
        """The answer as the pipeline sends it; ValueError naming what is wrong."""
        status = http_status(self.status)
        check(isinstance(self.headers, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()), "headers must map names to strings")
        check(self.json is None or self.content is None, "a response has json or content, not both")
        check(self.content is None or isinstance(self.content, (str, bytes)), "content must be text or bytes")
        check(self.content_type is None or isinstance(self.content_type, str), "content_type must be a string")
        for name, value in self.headers.items():  # what the server cannot write is refused here, not there
            check(_FIELD_NAME.fullmatch(name) is not None, f"headers: {name!r} is not a header name")
            check(_FIELD_VALUE.fullmatch(value) is not None, f"headers: the value of {name} must be one line of Latin-1 text")
            check(name.lower() not in _FRAMING, f"headers: {name} is the server's to set (it frames the response), not a stub's")
        check(self.content_type is None or _FIELD_VALUE.fullmatch(self.content_type) is not None, "content_type must be one line of Latin-1 text")
        headers = {name.lower(): value for name, value in self.headers.items()}  # cowboy sends them so
        if self.content_type is not None:
            headers["content-type"] = self.content_type
        if self.content is None:
            return Reply(status, None if self.json is None else _encoded(self.json), headers)
        if isinstance(self.content, str):
            headers.setdefault("content-type", "text/plain; charset=utf-8")
            return Reply(status, self.content.encode(), headers)
        headers.setdefault("content-type", "application/octet-stream")
        return Reply(status, self.content, headers)


#: RFC 9110's field name (a token), and a value the server writes as one Latin-1 line.
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[^\r\n\x00\u0100-\U0010ffff]*")
#: Headers that say how the response is framed on the connection: the server writes them for
#: the body it sends, and a stub's own would contradict it (a client waits for chunks, or for
#: bytes that never come).
_FRAMING = frozenset({"transfer-encoding", "content-length", "connection"})


def _encoded(value: Any) -> bytes:
    """A response's `json`, encoded now: a value that cannot be sent is refused when it is given."""
    try:
        return encode_given(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"json must be JSON-encodable: {error}") from None


def _response(value: Any) -> StubResponse:
    """A response as given in a sequence or a description: a StubResponse, or an object of its fields."""
    if isinstance(value, StubResponse):
        return value
    check(isinstance(value, Mapping), "a response is an object of status, json, content, content_type, headers")
    unknown = set(value) - {"status", "json", "content", "content_type", "headers"}
    check(not unknown, f"a response has no field {', '.join(sorted(unknown))}")
    return StubResponse(**value)


def returned(value: Any) -> Reply:
    """What a stub's callable returned, as an answer: a StubResponse; `(status, body)` or
    `(status, body, headers)`; or a body alone (status 200). A body of text or bytes is sent as
    it is, None is no body, anything else is JSON."""
    if isinstance(value, StubResponse):
        return value.reply()
    status: Any = 200
    headers: Any = {}
    if isinstance(value, tuple):
        check(len(value) in (2, 3), "a stub returns a StubResponse, a body, or (status, body[, headers])")
        status, value, *rest = value
        headers = rest[0] if rest else {}
    if isinstance(value, (str, bytes)):
        return StubResponse(status, content=value, headers=headers).reply()
    return StubResponse(status, json=value, headers=headers).reply()


Handler = Callable[[StubRequest], Any]


@dataclass(eq=False)
class Stub(Rule):
    KIND: ClassVar[str] = "stub"
    replies: tuple[Reply, ...] = ()  # answered in turn, the last repeating (a canned one: always)
    handler: Handler | None = None  # else: called with each request
    _turns: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def answer(self, request: Callable[[], StubRequest]) -> Reply:
        """This request's answer (`request` makes what a callable is given); ValueError when a
        callable returns what is no answer, and whatever the callable raises."""
        if self.handler is not None:
            return returned(self.handler(request()))
        if len(self.replies) == 1:
            return self.replies[0]
        return self.replies[min(next(self._turns), len(self.replies) - 1)]

    def __str__(self) -> str:
        if self.handler is not None:
            what = f"responses from {getattr(self.handler, '__qualname__', repr(self.handler))}"
        elif len(self.replies) == 1:
            what = f"{self.replies[0].status} response"
        else:
            what = f"{len(self.replies)} responses in turn"
        return f"{what} on {self.matcher}"


class Stubs(RuleSet[Stub]):
    """The stubs set on one fake, in the order they were set (the first that applies to a
    request answers it)."""

    def stub(
        self,
        spec: RequestSpec,
        handler: Handler | None = None,
        *,
        status: int = 200,
        json: Any = None,
        content: str | bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        responses: Sequence[StubResponse | Mapping[str, Any]] | None = None,
        **scope: Any,
    ) -> Stub:
        """Answer the requests `spec` names (as faults name them; `credential=`, `body=`,
        `query=` narrow it, `times=`, `duration=`, `probability=`, `seed=`, `expect=` scope
        it) with a canned response (`status`, `json` or `content`, `content_type`,
        `headers`), with `responses` in turn (the last repeating), or with `handler(request)`
        (a StubRequest; see `returned` for what it may return). Raises ValueError naming what
        is wrong."""
        canned = StubResponse(status, json, content, content_type, headers or {})
        ways = (handler is not None, responses is not None, canned != StubResponse())
        check(sum(ways) <= 1, "a stub answers with a handler, with responses, or with its own status, json, content, content_type and headers: one of them")
        check(handler is None or callable(handler), "handler must be callable")
        if responses is not None:
            check(isinstance(responses, (list, tuple)) and len(responses) > 0, "responses must be a non-empty list")
            replies = tuple(_in_turn(index, item) for index, item in enumerate(responses))
        else:
            replies = () if handler is not None else (canned.reply(),)
        return self._register(Stub(**scoped(spec, scope), replies=replies, handler=handler))

    def add(self, description: Mapping[str, Any]) -> Stub:
        """Set a stub from a JSON-like description: the request (`"METHOD /path"` or
        `{"method", "path" | "path_regex"}`) under `request`, and `stub`'s other arguments
        beside it: `{"request": "GET /rules", "json": [], "times": 1}`,
        `{"request": "GET /rules", "responses": [{"status": 503}, {"json": []}]}`.
        Raises ValueError naming what is wrong."""
        check(isinstance(description, Mapping), "a stub is an object naming its request")
        check("request" in description, "a stub names its request")
        arguments = {key: value for key, value in description.items() if key != "request"}
        described(self.stub, description["request"], arguments)
        return self.stub(description["request"], **arguments)

    def remove(self, stub_id: int) -> bool:
        """Remove one stub; False when there is none."""
        return bool(self._remove(stub_id))

    def copy(self) -> Stubs:
        """A set holding the same stubs, to try more on without touching this one."""
        trial = Stubs()
        trial._rules = list(self)
        return trial


def _in_turn(index: int, item: Any) -> Reply:
    try:
        return _response(item).reply()
    except (ValueError, TypeError) as error:
        raise ValueError(f"responses[{index}]: {error}") from None
