"""HTTP as cowboy serves it: kept-alive and pipelined connections, and the path a request is
routed on (dot segments removed, percent-escapes decoded per segment)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from typing import Any, BinaryIO

import pytest
from api import get, ok

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.state.broker import DEFAULT_NODE

API_KEY_ROLE_DENIED = {"code": "UNAUTHORIZED_ROLE", "message": "This API Key don't have permission to access this resource"}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _request(server: EmqxServer, method: str, path: str, version: str = "HTTP/1.1", body: bytes = b"", **headers: str) -> bytes:
    """One request as raw bytes, with the ready administrator key."""
    lines = [f"{method} {path} {version}", "Host: x", f"Authorization: {_basic(*server.auth)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _response(stream: BinaryIO) -> tuple[int, dict[str, str], Any]:
    """The next response on a connection: status, headers (lower-case names), and the body
    (decoded when it is JSON)."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, value = line.decode().split(":", 1)
        headers[name.lower()] = value.strip()
    body = stream.read(int(headers["content-length"]))
    decoded = json.loads(body) if headers.get("content-type") == "application/json" else body or None
    return int(status_line.split()[1]), headers, decoded


def _connect(server: EmqxServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def _closed(connection: socket.socket, stream: BinaryIO) -> bool:
    """The server closed the connection: nothing more comes."""
    return stream.read() == b""


# -- keep-alive ---------------------------------------------------------------------------------


def test_an_http_1_1_connection_serves_request_after_request(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    connection = http.client.HTTPConnection("127.0.0.1", emqx_server.port, timeout=30)
    headers = {"Authorization": _basic(*emqx_server.auth)}
    try:
        connection.request("GET", "/api/v5/clients/c1", headers=headers)
        first = connection.getresponse()
        assert json.loads(first.read())["clientid"] == "c1"
        assert first.getheader("Connection") is None  # HTTP/1.1 stays open without saying so
        socket_used = connection.sock
        connection.request("DELETE", "/api/v5/clients/c1", headers=headers)
        second = connection.getresponse()
        assert (second.status, second.read()) == (204, b"")
        assert connection.sock is socket_used  # the same connection, not a new one
    finally:
        connection.close()
    assert "c1" not in emqx_server.broker.sessions


def test_pipelined_requests_are_answered_in_order(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["t"])
    emqx_server.add_client("c2")
    publish = json.dumps({"topic": "t", "payload": "p"}).encode()
    with _connect(emqx_server) as connection, connection.makefile("rb") as stream:
        connection.sendall(
            _request(emqx_server, "GET", "/api/v5/clients/c2")
            + _request(emqx_server, "POST", "/api/v5/publish", body=publish)
            + _request(emqx_server, "GET", "/api/v5/clients/c1")
        )
        second_client, published, first_client = _response(stream), _response(stream), _response(stream)
    assert (second_client[0], second_client[2]["clientid"]) == (200, "c2")
    assert (published[0], published[2]) == (200, {"id": emqx_server.published[0].message.msgid})
    assert (first_client[0], first_client[2]["clientid"]) == (200, "c1")


def test_a_body_no_handler_read_is_skipped_before_the_next_request(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["t"])
    body = json.dumps({"topic": "t", "payload": "p"}).encode()
    refused = _request(emqx_server, "POST", "/api/v5/clients/c1", body=body)  # a 405 reads no body
    with _connect(emqx_server) as connection, connection.makefile("rb") as stream:
        connection.sendall(refused + _request(emqx_server, "POST", "/api/v5/publish", body=body))
        assert _response(stream)[0] == 405
        assert _response(stream)[0] == 200
    assert [message.message.payload for message in emqx_server.published] == [b"p"]


def test_a_head_response_has_no_body_on_a_kept_alive_connection(emqx_server: EmqxServer) -> None:
    with _connect(emqx_server) as connection, connection.makefile("rb") as stream:
        connection.sendall(_request(emqx_server, "HEAD", "/_mock") + _request(emqx_server, "GET", "/api/v5/clients"))
        assert stream.readline() == b"HTTP/1.1 200 OK\r\n"
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += stream.readline()
        assert b"\ncontent-length: 0\r\n" not in head.lower()  # the length of the body a GET gets
        status, _, body = _response(stream)  # the next response follows the head at once
    assert (status, body["meta"]["count"]) == (200, 0)


@pytest.mark.parametrize(
    ("version", "headers", "connection_header"),
    [("HTTP/1.0", {}, "close"), ("HTTP/1.1", {"Connection": "close"}, "close"), ("HTTP/1.0", {"Connection": "keep-alive"}, "keep-alive")],
)
def test_connection_header_and_version_decide_whether_the_connection_stays(
    emqx_server: EmqxServer, version: str, headers: dict[str, str], connection_header: str
) -> None:
    """`cowboy_http:maybe_req_close/3`: HTTP/1.0 closes unless asked to keep alive."""
    request = _request(emqx_server, "GET", "/api/v5/clients", version, **headers)
    with _connect(emqx_server) as connection, connection.makefile("rb") as stream:
        connection.sendall(request + request)
        status, response_headers, _ = _response(stream)
        assert (status, response_headers["connection"]) == (200, connection_header)
        if connection_header == "close":
            assert _closed(connection, stream)  # the second request is never answered
        else:
            assert _response(stream)[0] == 200
    assert len(emqx_server.journal.requests("GET /clients")) == (1 if connection_header == "close" else 2)


@pytest.mark.parametrize("kind", ["reset", "empty", "malformed", "garbage"])
def test_a_transport_fault_closes_a_kept_alive_connection(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1")
    emqx_server.faults.transport("DELETE /clients/{clientid}", kind, times=1)
    with _connect(emqx_server) as connection, connection.makefile("rb") as stream:
        connection.sendall(_request(emqx_server, "GET", "/api/v5/clients/c1"))
        assert _response(stream)[0] == 200
        connection.sendall(_request(emqx_server, "DELETE", "/api/v5/clients/c1") + _request(emqx_server, "GET", "/api/v5/clients"))
        try:
            rest = stream.read()
        except ConnectionResetError:
            rest = b""
        assert b"HTTP/1.1 200" not in rest  # no answer, let alone one to the request behind it
    assert emqx_server.journal.requests("GET /clients") == []
    assert "c1" in emqx_server.broker.sessions
    assert ok(get(emqx_server, "/clients/c1"))["clientid"] == "c1"  # a new connection is served


def test_stopping_closes_idle_kept_alive_connections() -> None:
    server = EmqxServer().start()
    with _connect(server) as connection, connection.makefile("rb") as stream:
        connection.sendall(_request(server, "GET", "/api/v5/clients"))
        assert _response(stream)[0] == 200
        server.stop()  # the connection waits for a request: it must not hold the stop up
        assert _closed(connection, stream)
    assert not server.running


# -- the path a request is routed on ---------------------------------------------------------------


def _raw(server: EmqxServer, method: str, path: str, body: Any = None, auth: tuple[str, str] | None = None) -> tuple[int, Any]:
    """Send `path` exactly as written (an HTTP client library would normalize it first)."""
    data = json.dumps(body).encode() if body is not None else b""
    request = _request(server, method, path, body=data)
    if auth is not None:
        request = request.replace(_basic(*server.auth).encode(), _basic(*auth).encode())
    with _connect(server) as connection, connection.makefile("rb") as stream:
        connection.sendall(request)
        status, _, answer = _response(stream)
    return status, answer


@pytest.mark.parametrize(
    "path",
    [
        "/api/v5/./clients/c1",
        "/api/v5/clients/x/../c1",
        "/api/v5/../../api/v5/clients/c1",  # `..` above the root stays at the root
        "/api/v5/%63lients/%631",  # an escaped literal, an escaped parameter
        "/api/v5/%2E/clients/c1",  # a dot segment, escaped
        "/api/v5/clients/c1/",  # a trailing slash
    ],
)
def test_dot_segments_and_escapes_are_resolved_before_routing(emqx_server: EmqxServer, path: str) -> None:
    emqx_server.add_client("c1")
    status, body = _raw(emqx_server, "GET", path)
    assert (status, body["clientid"]) == (200, "c1")


def test_an_escaped_slash_stays_inside_its_segment(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a/b")
    emqx_server.add_client("b")
    assert _raw(emqx_server, "GET", "/api/v5/clients/a%2Fb")[1]["clientid"] == "a/b"
    assert _raw(emqx_server, "GET", "/api/v5/clients/a%2F..%2Fb")[0] == 404  # one segment, not a dot one


def test_a_broken_escape_is_a_bare_400(emqx_server: EmqxServer) -> None:
    assert _raw(emqx_server, "GET", "/api/v5/clients/%zz") == (400, None)  # cowboy_router: badrequest


def test_a_publisher_key_may_only_use_the_publish_path_as_sent(ee: EmqxServer) -> None:
    """EMQX judges roles on the path as sent (`cowboy_req:path/1`), not as routed."""
    ee.add_client("sub", subscriptions=["t"])
    publisher = ee.add_api_key("pub", role="publisher", api_secret="psecret")
    auth = (publisher.api_key, "psecret")
    message = {"topic": "t", "payload": "x"}
    assert _raw(ee, "POST", "/api/v5/publish", message, auth)[0] == 200
    assert _raw(ee, "POST", "/api/v5/%70ublish", message, auth) == (403, API_KEY_ROLE_DENIED)
    assert _raw(ee, "POST", "/api/v5/./publish", message, auth) == (403, API_KEY_ROLE_DENIED)
    ban = {"as": "clientid", "who": "sub"}
    assert _raw(ee, "POST", "/api/v5/publish/../banned", ban, auth) == (403, API_KEY_ROLE_DENIED)
    assert ee.broker.bans.get("clientid", "sub") is None
    assert _raw(ee, "POST", "/api/v5/%70ublish", message)[0] == 200  # the administrator reaches the handler
    assert [p.message.payload for p in ee.published] == [b"x", b"x"]


def test_faults_match_the_routed_path_and_the_journal_keeps_the_sent_one(emqx_server: EmqxServer) -> None:
    emqx_server.faults.error("POST /publish", status=503, code="SERVICE_UNAVAILABLE", message="busy", times=1)
    status, body = _raw(emqx_server, "POST", "/api/v5/./publish", {"topic": "t", "payload": "x"})
    assert (status, body) == (503, {"code": "SERVICE_UNAVAILABLE", "message": "busy"})
    (entry,) = emqx_server.journal.entries()
    assert (entry.path, entry.operation) == ("/api/v5/./publish", "POST /publish")


# -- exact and fuzzy filters of one field --------------------------------------------------------


def test_an_exact_topic_drops_the_fuzzy_match_topic(emqx_server: EmqxServer) -> None:
    """`emqx_mgmt_api:parse_qstring/2` drops a fuzzy key whose field has an exact key: the
    listing is exact again, with its `count`; the fuzzy value is still checked first."""
    emqx_server.add_client("c1", subscriptions=["t/1", "x/1"])
    emqx_server.add_client("c2", subscriptions=["x/2"])
    assert ok(get(emqx_server, "/subscriptions", {"topic": "t/1", "match_topic": "x/#"})) == {
        "data": [{"clientid": "c1", "durable": False, "nl": 0, "node": DEFAULT_NODE, "qos": 0, "rap": 0, "rh": 0, "topic": "t/1"}],
        "meta": {"count": 1, "hasnext": False, "limit": 100, "page": 1},
    }
    refused = get(emqx_server, "/subscriptions", {"topic": "t/1", "match_topic": "$share/g/x"})
    assert (refused.status_code, refused.json()) == (400, {"code": "INVALID_PARAMETER", "message": "match_topic_invalid"})
