"""Hostile HTTP, sent byte for byte: cowboy's limits on a request's head and EMQX's on its body,
HTTP/1.0, pipelining and half-open connections, each answered as EMQX 5.8.9's dashboard
listener (cowboy 2.9, its protocol options at their defaults) answers it, the state unchanged."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hostile import Connection, answer, exchange, request, unchanged

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock import server as server_module
from pytest_emqx_mock.http.flavour import READ_BODY_LENGTH

BAN = {"as": "clientid", "who": "c1"}


def early_error(status: str) -> bytes:
    """`cowboy_http:error_terminate/3`'s answer: no date, no server, no body."""
    return f"HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n".encode()


def ban(server: EmqxServer, target: str = "/api/v5/banned", **options: Any) -> bytes:
    """A request that would ban c1: refused, it must leave no ban."""
    return request(server, "POST", target, BAN, **options)


def padded(server: EmqxServer, name: str, length: int) -> bytes:
    return ban(server, headers=[(name, "x" * length)])


def long_line(server: EmqxServer, length: int) -> bytes:
    """A ban whose request line (without its CRLF) is `length` bytes long."""
    short = len(b"POST /api/v5/banned?p= HTTP/1.1")
    return ban(server, "/api/v5/banned?p=" + "x" * (length - short))


def many(server: EmqxServer, count: int) -> bytes:
    return ban(server, headers=[(f"x-{index}", "1") for index in range(count)])


#: (what is sent, cowboy's answer); each refused before any handler runs, and the connection closed.
REFUSED_HEADS = {
    "request line of 8,000 bytes": (lambda s: long_line(s, 8000), "414 Request-URI Too Long"),
    "header name of 65 bytes": (lambda s: padded(s, "x" * 65, 1), "431 Request Header Fields Too Large"),
    "header value of 4,096 bytes": (lambda s: padded(s, "x-pad", 4096), "431 Request Header Fields Too Large"),
    "101 headers": (lambda s: many(s, 97), "431 Request Header Fields Too Large"),  # with host, auth, type, length
    "six empty lines first": (lambda s: b"\r\n" * 6 + ban(s), "400 Bad Request"),
    "an empty line ending with a bare LF": (lambda s: b"\n" + ban(s), "400 Bad Request"),
    "method of 32 bytes": (lambda s: ban(s).replace(b"POST", b"P" * 32, 1), "501 Not Implemented"),
    "TRACE": (lambda s: request(s, "TRACE", "/api/v5/banned"), "501 Not Implemented"),
    "HTTP/2.0": (lambda s: ban(s, version="HTTP/2.0"), "505 HTTP Version Not Supported"),
    "lines ending with a bare LF": (lambda s: ban(s).replace(b"\r\n", b"\n"), "505 HTTP Version Not Supported"),
    "no version (HTTP/0.9)": (lambda s: b"GET /api/v5/banned\r\n\r\n", "400 Bad Request"),
    "two spaces before the version": (lambda s: ban(s, version=" HTTP/1.1"), "400 Bad Request"),
    "a target not starting with a slash": (lambda s: ban(s, "api/v5/banned"), "400 Bad Request"),
    "no host in HTTP/1.1": (lambda s: ban(s).replace(b"Host: emqx\r\n", b""), "400 Bad Request"),
    "a header line without a colon": (lambda s: ban(s).replace(b"Host: emqx", b"Host emqx"), "400 Bad Request"),
    "a folded header line": (lambda s: ban(s, headers=[("X-A", "1\r\n 2")]), "400 Bad Request"),
    "a space before the colon": (lambda s: ban(s, headers=[("X-A ", "1")]), "400 Bad Request"),
    "a transfer-encoding other than chunked": (lambda s: ban(s, headers=[("Transfer-Encoding", "gzip, chunked")]), "400 Bad Request"),
    "a content-length that is no number": (lambda s: ban(s).replace(b"Content-Length: ", b"Content-Length: +-"), "400 Bad Request"),
    "a host other than the absolute target's": (lambda s: ban(s, "http://other/api/v5/banned"), "400 Bad Request"),
}


@pytest.mark.parametrize("case", REFUSED_HEADS)
def test_a_head_cowboy_refuses_is_answered_before_any_handler_and_closes(emqx_server: EmqxServer, case: str) -> None:
    sent, status = REFUSED_HEADS[case]
    with unchanged(emqx_server), Connection(emqx_server) as connection:
        connection.send(sent(emqx_server) + ban(emqx_server))  # and a request behind it
        received = connection.stream.read()
    assert received == early_error(status)  # the one behind it never answered
    assert emqx_server.journal.entries() == []  # no handler saw it


#: The same requests one byte, or one header, inside the limits: served.
SERVED_HEADS = {
    "request line of 7,999 bytes": lambda s: long_line(s, 7999),
    "header name of 64 bytes": lambda s: padded(s, "x" * 64, 1),
    "header value of 4,095 bytes": lambda s: padded(s, "x-pad", 4095),
    "100 headers": lambda s: many(s, 96),
    "101 header lines, 100 names": lambda s: ban(s, headers=[*((f"x-{index}", "1") for index in range(96)), ("x-0", "2")]),
    "five empty lines first": lambda s: b"\r\n" * 5 + ban(s),
    "method of 31 bytes (unknown: a 405)": lambda s: ban(s).replace(b"POST", b"P" * 31, 1),
    "no host in HTTP/1.0": lambda s: ban(s, version="HTTP/1.0").replace(b"Host: emqx\r\n", b""),
    "an absolute target, its authority the host": lambda s: ban(s, "http://emqx/api/v5/banned"),
}


@pytest.mark.parametrize("case", SERVED_HEADS)
def test_a_head_just_inside_the_limits_is_served(emqx_server: EmqxServer, case: str) -> None:
    response = answer(emqx_server, SERVED_HEADS[case](emqx_server))
    if case.startswith("method"):
        assert response.status == 405
        assert emqx_server.broker.bans.get("clientid", "c1") is None
    else:
        assert response.status == 200
        assert emqx_server.broker.bans.get("clientid", "c1") is not None


# -- the body ------------------------------------------------------------------------------


def test_a_json_body_beyond_cowboys_read_length_crashes_minirests_decoder(emqx_server: EmqxServer) -> None:
    """`minirest_body:json_decoder/1` reads once and matches `{ok, Body, Req}`; a body longer
    than `cowboy_req:read_body/1`'s 8,000,000 bytes comes back as `{more, ...}`: the handler
    crashes, and cowboy answers a bare 500."""
    body = b'{"topic": "t", "payload": "' + b"x" * READ_BODY_LENGTH + b'"}'
    with unchanged(emqx_server), Connection(emqx_server) as connection:
        connection.send(request(emqx_server, "POST", "/api/v5/publish", body))
        response = connection.response()
        assert (response.status_line, response.body, response.header("content-length")) == (b"HTTP/1.1 500 Internal Server Error", b"", "0")
        assert response.header("content-type") is None
        connection.send(request(emqx_server, "GET", "/api/v5/status"))  # the connection serves on
        assert connection.response().status == 200
    assert emqx_server.published == []
    assert [entry.status for entry in emqx_server.journal.entries()] == [500, 200]
    assert emqx_server.errors == []  # EMQX's crash, not the fake's


def test_a_json_body_of_cowboys_read_length_is_decoded(emqx_server: EmqxServer) -> None:
    filler = READ_BODY_LENGTH - len(b'{"topic": "t", "payload": ""}')
    body = b'{"topic": "t", "payload": "' + b"x" * filler + b'"}'
    assert len(body) == READ_BODY_LENGTH
    response = answer(emqx_server, request(emqx_server, "POST", "/api/v5/publish", body))
    assert (response.status, response.json()) == (400, {"message": "packet_too_large", "reason_code": 151})


# -- HTTP/1.0 and pipelining ---------------------------------------------------------------


def test_pipelined_requests_behind_a_refused_head_are_never_answered(emqx_server: EmqxServer) -> None:
    """Answered in order until cowboy refuses one; it closes the connection there."""
    emqx_server.add_client("c1")
    first = request(emqx_server, "DELETE", "/api/v5/clients/c1")
    refused = padded(emqx_server, "x-pad", 5000)
    behind = ban(emqx_server)
    with Connection(emqx_server) as connection:
        connection.send(first + refused + behind)
        assert connection.response().status == 204
        assert connection.stream.read() == early_error("431 Request Header Fields Too Large")
    assert "c1" not in emqx_server.broker.sessions
    assert emqx_server.broker.bans.get("clientid", "c1") is None


def test_http_1_0_pipelined_with_keep_alive_then_without(emqx_server: EmqxServer) -> None:
    """`cowboy_http:maybe_req_close/3`: each HTTP/1.0 request keeps the connection only when it
    asks to; the first that does not is the last answered."""
    status = request(emqx_server, "GET", "/api/v5/status", version="HTTP/1.0")
    kept = request(emqx_server, "GET", "/api/v5/status", version="HTTP/1.0", headers=[("Connection", "Keep-Alive")])
    responses, closed = exchange(emqx_server, kept + kept + status + ban(emqx_server))
    assert [(r.status, r.header("connection")) for r in responses] == [(200, "keep-alive"), (200, "keep-alive"), (200, "close")]
    assert closed
    assert emqx_server.broker.bans.get("clientid", "c1") is None


# -- half-open connections -----------------------------------------------------------------


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """cowboy's `request_timeout` (5 s) and `idle_timeout` (60 s), scaled down for a test."""
    monkeypatch.setattr(server_module, "REQUEST_TIMEOUT", 0.3)
    monkeypatch.setattr(server_module, "IDLE_TIMEOUT", 0.3)


def _connection_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.endswith("(process_request_thread)")}


STALLED = {
    "says nothing": (b"", b""),
    "half a request line": (b"POST /api/v5/ban", b""),
    "half a head": (b"POST /api/v5/banned HTTP/1.1\r\nHost: emqx\r\n", early_error("408 Request Timeout")),
}


@pytest.mark.parametrize("case", STALLED)
@pytest.mark.usefixtures("short_timeouts")
def test_a_stalled_head_is_dropped_after_request_timeout_while_others_are_served(emqx_server: EmqxServer, case: str) -> None:
    """`cowboy_http:timeout/2`: before a request line, the connection closes without a word;
    inside the headers, with a 408."""
    sent, dropped_with = STALLED[case]
    threads = _connection_threads()
    with unchanged(emqx_server), Connection(emqx_server) as stalled:
        stalled.send(sent)
        response = answer(emqx_server, request(emqx_server, "GET", "/api/v5/banned"))
        assert response.status == 200  # served meanwhile
        assert stalled.stream.read() == dropped_with  # then the stalled one is closed
    _wait_for(lambda: _connection_threads() <= threads)  # its thread ended with it


@pytest.mark.usefixtures("short_timeouts")
def test_a_stalled_body_is_dropped_after_idle_timeout_unanswered(emqx_server: EmqxServer) -> None:
    """The connection terminates (`cowboy_http:timeout/2`, idle_timeout), and the handler
    waiting for the body with it: no answer, nothing done, nothing journaled."""
    whole = ban(emqx_server)
    with unchanged(emqx_server), Connection(emqx_server) as connection:
        connection.send(whole[:-3])
        assert connection.stream.read() == b""
    assert emqx_server.journal.entries() == []
    assert emqx_server.errors == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_client_gone_in_the_middle_of_a_body_changes_nothing(emqx_server: EmqxServer, chunked: bool) -> None:
    threads = _connection_threads()
    whole = ban(emqx_server)
    if chunked:
        whole = whole.replace(b"Content-Length: ", b"Transfer-Encoding: chunked\r\nX-Length: ").replace(b"\r\n\r\n{", b"\r\n\r\n20\r\n{")
    with unchanged(emqx_server):
        with Connection(emqx_server) as connection:
            connection.send(whole[:-3])
        _wait_for(lambda: _connection_threads() <= threads)
    assert emqx_server.journal.entries() == []
    assert emqx_server.errors == []


def _wait_for(condition: Any) -> None:
    """Until `condition()` holds; fails if it never does (a bound far beyond any timeout here)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)
