"""What handlers return, how errors are shaped, and how bodies become bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: minirest encodes handler replies with jsx, which writes (small) maps in ascending key order.
_sorted_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
#: Bodies EMQX encodes itself keep the order they are built in.
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: Bodies of a test's own: as given, and JSON only (no NaN or infinity, which no JSON parser takes).
_strict_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or None for no body
    headers: dict[str, str] = field(default_factory=dict)
    #: True where EMQX encodes the body itself (jiffy) and the handler built it in that order.
    keep_order: bool = False
    #: Seconds the answer is held back (outside the state lock): an RPC that timed out.
    delay: float = 0.0
    #: False: a body sent with no content-type at all (minirest's 401 `UNAUTHORIZED`).
    typed: bool = True


class ApiError(Exception):
    """An EMQX error answer: `{"code", "message"}` with its status (and any headers)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, delay: float = 0.0):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.delay = delay

    def reply(self) -> Reply:
        return Reply(self.status, {"code": self.code, "message": self.message}, dict(self.headers), delay=self.delay)


def handler_crash(reason: str) -> ApiError:
    """What EMQX answers where its handler crashes on input it never expected (a missing
    key its pattern match needs): 500 with the Erlang class, reason and stack."""
    return ApiError(500, "INTERNAL_ERROR", f"error, {reason}, []")


class RawReply(Exception):
    """An answer outside EMQX's error envelope (`/publish` reason codes, 405, the 404 page)."""

    def __init__(self, reply: Reply):
        super().__init__(reply.status)
        self.reply = reply


@dataclass(frozen=True)
class Fragment:
    """A JSON value encoded and validated once against schema definition `ref`, then reused
    in every response that includes it unchanged (a client row is re-rendered only when its
    session changes)."""

    json: str
    ref: str


class Fragments(list):  # type: ignore[type-arg]
    """A JSON array of Fragments, joined rather than re-encoded."""


def encode(body: Any, keep_order: bool = False) -> bytes:
    """Encode a reply body; Fragments and Fragments lists are spliced in as they are."""
    return _text(body, _encoder if keep_order else _sorted_encoder, keep_order).encode()


def _text(body: Any, encoder: json.JSONEncoder, keep_order: bool) -> str:
    if isinstance(body, Fragment):
        return body.json
    if isinstance(body, Fragments):
        return "[" + ",".join([item.json for item in body]) + "]"
    if isinstance(body, dict) and any(isinstance(v, (Fragment, Fragments)) for v in body.values()):
        keys = body if keep_order else sorted(body)
        return "{" + ",".join([encoder.encode(key) + ":" + _text(body[key], encoder, keep_order) for key in keys]) + "}"
    return encoder.encode(body)


def encode_given(body: Any) -> bytes:
    """A body of the test's own (a stub's), in the order given; TypeError or ValueError when it
    is not JSON."""
    return _strict_encoder.encode(body).encode()


def encode_text(value: Any) -> str:
    """Compact JSON text, as EMQX embeds in error messages."""
    return _encoder.encode(value)
