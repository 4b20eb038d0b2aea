"""A request's head (its request line and headers) read as cowboy reads it (`cowboy_http`, the
2.9 series EMQX 5.8.9 pins, with the protocol options EMQX's dashboard listener leaves at their
defaults), before Werkzeug sees it: cowboy's limits and refusals, where Python's `http.server`
has others (lines of 64 KiB, a 505 for `HTTP/0.9`, a bare LF taken as a line end, no `host`
needed).

cowboy applies its length limits to what has arrived so far: a line a little longer than the
limit that arrives in one piece may pass there. The fake applies them to the line itself, as if
it arrived byte by byte, so a test sees the same answer every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol

#: `cowboy_http`'s protocol options, at their defaults.
MAX_REQUEST_LINE_LENGTH = 8000
MAX_EMPTY_LINES = 5
MAX_METHOD_LENGTH = 32
MAX_AUTHORITY_LENGTH = 255
MAX_HEADER_NAME_LENGTH = 64
MAX_HEADER_VALUE_LENGTH = 4096
MAX_HEADERS = 100

#: `cow_http:status/1`'s reason phrases for the statuses an early error answers with.
REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    414: "Request-URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ABSOLUTE = re.compile(rb"https?://", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"[+-]?[0-9]+")  # `binary_to_integer/1`, then `>= 0`


class Lines(Protocol):
    """Where a head is read from: a connection's buffered input."""

    def readline(self, size: int, /) -> bytes: ...


class EarlyError(Exception):
    """`cowboy_http:error_terminate/3`: the request is refused before any handler runs, with
    `status` and no body; the connection then closes. `why` is cowboy's own reason."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status

    def response(self) -> bytes:
        """`cowboy_http:early_error/5`: the status line, `connection: close` and an empty body;
        no `date` or `server`, which only a stream's responses carry."""
        return f"HTTP/1.1 {self.status} {REASONS[self.status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n".encode()


@dataclass(frozen=True)
class Head:
    method: str
    target: str  # the request-target as sent (Latin-1, as WSGI carries it), fragment dropped
    version: str
    header_block: bytes  # the header lines as sent, ending with the empty line


def read_head(stream: Lines, begun: Callable[[], None], before_read: Callable[[], None]) -> Head | None:
    """The next request's head from `stream`; None when the connection ends before a request
    line (cowboy closes without a word). `begun` is called once the first byte of the request
    line is in; `before_read` before each read (the caller's deadline: it may raise
    TimeoutError). A timeout while the headers come is cowboy's 408 (`cowboy_http:timeout/2`);
    one before the request line, and the end of the connection, propagate."""
    line = _request_line(stream, begun, before_read)
    if line is None:
        return None
    method, target, version = _parse_request_line(line)
    try:
        header_block, headers = _headers(stream, before_read)
    except TimeoutError:
        raise EarlyError(408, "Request headers not received before timeout.") from None
    _check_framing(headers, version, target)
    return Head(method, target, version, header_block)


def _request_line(stream: Lines, begun: Callable[[], None], before_read: Callable[[], None]) -> bytes | None:
    """`cowboy_http:parse_request/3`: empty lines before a request skipped, up to a limit."""
    empty_lines = 0
    while True:
        before_read()
        line = stream.readline(MAX_REQUEST_LINE_LENGTH + 1)
        if not line:
            return None
        begun()
        if line.startswith(b"\n"):
            raise EarlyError(400, "Empty lines between requests must use the CRLF line terminator. (RFC7230 3.5)")
        if not line.endswith(b"\n"):
            if len(line) > MAX_REQUEST_LINE_LENGTH:
                raise EarlyError(414, "The request-line length is larger than configuration allows. (RFC7230 3.1.1)")
            return None  # the connection ended inside the line
        if line != b"\r\n":
            return line
        if empty_lines == MAX_EMPTY_LINES:
            raise EarlyError(400, "More empty lines were received than configuration allows. (RFC7230 3.5)")
        empty_lines += 1


def _parse_request_line(line: bytes) -> tuple[str, str, str]:
    """`cowboy_http:parse_method/4`, `parse_uri/3` and `parse_version/7`."""
    if line.startswith(b" "):
        raise EarlyError(400, "The request-line must not begin with a space. (RFC7230 3.1.1, RFC7230 3.5)")
    if line.startswith((b"CONNECT ", b"TRACE ")):
        raise EarlyError(501, "The CONNECT and TRACE methods are not implemented. (RFC7231 4.3.6, 4.3.8)")
    method, space, rest = line.partition(b" ")
    if len(method) >= MAX_METHOD_LENGTH:  # cowboy counts down from 32 and stops at 0
        raise EarlyError(501, "The method name is longer than configuration allows. (RFC7230 3.1.1)")
    if not space or not _TOKEN.fullmatch(method):
        raise EarlyError(400, "The method name must contain only valid token characters. (RFC7230 3.1.1)")
    target, space, version = rest.partition(b" ")
    if b"\r" in target or not space:
        raise EarlyError(400, "The request-target must not be followed by a line break. (RFC7230 3.1.1)")
    if absolute := _ABSOLUTE.match(target):
        authority = re.split(rb"[/?#]", target[absolute.end() :], maxsplit=1)[0]
        if len(authority) >= MAX_AUTHORITY_LENGTH:
            raise EarlyError(414, "The authority component of the absolute URI is longer than configuration allows. (RFC7230 2.7.1)")
        if b"@" in authority or not authority or authority.startswith(b":"):
            raise EarlyError(400, "Absolute URIs must include a non-empty host and no userinfo. (RFC7230 2.7.1)")
    elif not target.startswith(b"/") and not (method == b"OPTIONS" and target == b"*"):
        raise EarlyError(400, "Invalid request-line or request-target. (RFC7230 3.1.1, RFC7230 5.3)")
    if version not in (b"HTTP/1.1\r\n", b"HTTP/1.0\r\n"):
        if version[:1] in (b" ", b"\t") or (version.startswith(b"HTTP/1.") and version[8:9] in (b" ", b"\t")):
            raise EarlyError(400, "Whitespace is not allowed around the HTTP version. (RFC7230 3.1.1)")
        raise EarlyError(505, "Unsupported HTTP version. (RFC7230 2.6)")
    return method.decode("ascii"), target.partition(b"#")[0].decode("latin-1"), version[:8].decode("ascii")


def _headers(stream: Lines, before_read: Callable[[], None]) -> tuple[bytes, dict[bytes, bytes]]:
    """`cowboy_http:parse_header/3` and what follows it: the header block as sent, and the
    headers by lower-case name, a repeated one's values joined with ", " as cowboy joins them."""
    lines: list[bytes] = []
    headers: dict[bytes, bytes] = {}
    while True:
        before_read()
        line = stream.readline(MAX_HEADER_NAME_LENGTH + MAX_HEADER_VALUE_LENGTH + 8)
        if not line:
            raise ConnectionAbortedError("the connection ended inside the request's head")
        lines.append(line)
        if line == b"\r\n":
            return b"".join(lines), headers
        if len(headers) >= MAX_HEADERS:  # distinct names: cowboy keeps them in a map
            raise EarlyError(431, "The number of headers is larger than configuration allows. (RFC7230 3.2.5, RFC6585 5)")
        name, value = _header(line)
        headers[name] = headers[name] + b", " + value if name in headers else value


def _header(line: bytes) -> tuple[bytes, bytes]:
    """`cowboy_http:parse_header_colon/3`, `parse_hd_name/4` and `parse_hd_before_value/4`, on
    a line whole or cut short (by the read's bound, or the end of the connection)."""
    whole = line.endswith(b"\n")
    colon = line.find(b":")
    if colon > MAX_HEADER_NAME_LENGTH or (colon < 0 and len(line) - whole > MAX_HEADER_NAME_LENGTH):
        raise EarlyError(431, "A header name is larger than configuration allows. (RFC7230 3.2.5, RFC6585 5)")
    value = line[colon + 1 :].lstrip(b" \t")
    if colon >= 0 and len(value) - whole > MAX_HEADER_VALUE_LENGTH:  # with its CR: no LF has come
        raise EarlyError(431, "A header value is larger than configuration allows. (RFC7230 3.2.5, RFC6585 5)")
    if not whole:
        raise ConnectionAbortedError("the connection ended inside the request's head")
    if colon < 0:
        raise EarlyError(400, "A header line is missing a colon separator. (RFC7230 3.2.4)")
    name = line[:colon]
    if name[:1] in (b" ", b"\t"):  # an obsolete line folding too
        raise EarlyError(400, "Whitespace is not allowed before the header name. (RFC7230 3.2)")
    if name[-1:] in (b" ", b"\t"):
        raise EarlyError(400, "Whitespace is not allowed between the header name and the colon. (RFC7230 3.2.4)")
    if not value.endswith(b"\r\n"):
        # cowboy reads on to the next CRLF, the LF inside the value; the header parser Werkzeug
        # uses would split the line there instead, so the fake refuses it
        raise EarlyError(400, "A header line must end with CRLF. (RFC7230 3.2)")
    return name.lower(), value[:-2].rstrip(b" \t")


def _check_framing(headers: dict[bytes, bytes], version: str, target: str) -> None:
    """`cowboy_http:request/3` and `request/5`: the host header, and how the body is framed."""
    host = headers.get(b"host")
    if host is None and version == "HTTP/1.1":
        raise EarlyError(400, "HTTP/1.1 requests must include a host header. (RFC7230 5.4)")
    if host is not None and _ABSOLUTE.match(target.encode("latin-1")):
        authority = re.split(r"[/?#]", target.split("://", 1)[1], maxsplit=1)[0]
        if host.decode("latin-1") != authority:
            raise EarlyError(400, "The host header is different than the absolute-form authority component. (RFC7230 5.4)")
    if b"transfer-encoding" in headers:
        codings = [coding.strip().lower() for coding in headers[b"transfer-encoding"].split(b",")]
        if codings != [b"chunked"]:
            raise EarlyError(400, "Cowboy only supports transfer-encoding: chunked. (RFC7230 3.3.1)")
    elif b"content-length" in headers:
        length = headers[b"content-length"]
        if not _CONTENT_LENGTH.fullmatch(length) or int(length) < 0:
            raise EarlyError(400, "The content-length header is invalid. (RFC7230 3.3.2)")
