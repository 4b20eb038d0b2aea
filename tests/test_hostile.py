"""Hostile input: answered as EMQX answers it (the control API: with its documented 400), and
a refused request changes nothing (the whole snapshot, faults and stubs before and after)."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
import requests
from api import error
from hostile import answer, basic, exchange, request, state, unchanged

from pytest_emqx_mock import EmqxServer, ScenarioError
from pytest_emqx_mock.erlang.nesting import MAX_DEPTH
from pytest_emqx_mock.flavours.v5 import served_operations

INVALID_JSON = {"code": "BAD_REQUEST", "message": "Invalid json message received"}


def lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# -- JSON nested too deep -----------------------------------------------------------------

API_CALLS = [("POST", "/publish"), ("PUT", "/mqtt/retainer"), ("POST", "/authentication"), ("POST", "/banned")]


@pytest.mark.parametrize("nested", [lists, objects])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
@pytest.mark.parametrize(("method", "path"), API_CALLS)
def test_json_nested_too_deep_is_a_400_on_the_api(emqx_server: EmqxServer, method: str, path: str, depth: int, nested: Any) -> None:
    """Was a 500 RecursionError from 500 levels on. EMQX (jsx decodes any depth) refuses such
    a body in its schema check with a 400 too."""
    before = state(emqx_server)
    response = requests.request(
        method,
        emqx_server.api_url + path,
        data=nested(depth),
        headers={"content-type": "application/json"},
        auth=emqx_server.auth,
        timeout=30,
    )
    assert (response.status_code, response.json()) == (400, INVALID_JSON)
    assert state(emqx_server) == before


def test_json_nested_to_the_limit_is_decoded_and_checked(emqx_server: EmqxServer) -> None:
    response = requests.post(
        emqx_server.api_url + "/publish",
        data=lists(MAX_DEPTH),
        headers={"content-type": "application/json"},
        auth=emqx_server.auth,
        timeout=30,
    )
    value = lists(MAX_DEPTH)
    error(response, 400, "BAD_REQUEST", f'{{"value":{value},"reason":"bad_value_for_struct","path":"root","kind":"validation_error"}}')


def test_a_deep_value_inside_a_valid_body_is_refused_too(emqx_server: EmqxServer) -> None:
    before = state(emqx_server)
    body = '{"topic": "t", "payload": "x", "user_properties": ' + objects(MAX_DEPTH) + "}"
    response = requests.post(
        emqx_server.api_url + "/publish", data=body, headers={"content-type": "application/json"}, auth=emqx_server.auth, timeout=30
    )
    assert (response.status_code, response.json()) == (400, INVALID_JSON)
    assert state(emqx_server) == before


def test_brackets_inside_strings_are_no_nesting(emqx_server: EmqxServer) -> None:
    body = json.dumps({"topic": "t", "payload": lists(1000) + '\\"{'})
    response = requests.post(
        emqx_server.api_url + "/publish", data=body, headers={"content-type": "application/json"}, auth=emqx_server.auth, timeout=30
    )
    assert (response.status_code, response.json()) == (202, {"message": "no_matching_subscribers", "reason_code": 16})
    assert [published.message.payload for published in emqx_server.published] == [(lists(1000) + '\\"{').encode()]


CONTROL_CALLS = [
    ("POST", "/seed/clients"),
    ("POST", "/faults"),
    ("POST", "/stubs"),
    ("POST", "/journal/verify"),
    ("PUT", "/snapshot"),
    ("POST", "/scenario"),
]


@pytest.mark.parametrize("nested", [lists, objects])
@pytest.mark.parametrize(("method", "path"), CONTROL_CALLS)
def test_json_nested_too_deep_is_a_400_on_the_control_api(emqx_server: EmqxServer, method: str, path: str, nested: Any) -> None:
    before = state(emqx_server)
    response = requests.request(method, emqx_server.control_url + path, data=nested(1000), timeout=30)
    assert (response.status_code, response.json()) == (
        400,
        {"code": "BAD_REQUEST", "message": f"the body is not valid JSON: nested deeper than {MAX_DEPTH} levels"},
    )
    assert state(emqx_server) == before


@pytest.mark.parametrize("text", [lists(1000), "a:\n" + "- " * 600 + "1", "a: &a " + lists(60) + "\nb: [" + "*a, [" * 50 + "]" * 51])
def test_yaml_nested_too_deep_is_a_400_on_the_control_api(emqx_server: EmqxServer, text: str) -> None:
    """Flow and block nesting, and an alias counting as deep as the node it names."""
    before = state(emqx_server)
    response = requests.post(emqx_server.control_url + "/scenario", data=text, headers={"content-type": "application/yaml"}, timeout=30)
    assert (response.status_code, response.json()) == (
        400,
        {"code": "BAD_REQUEST", "message": f"the body is not valid YAML: nested deeper than {MAX_DEPTH} levels"},
    )
    assert state(emqx_server) == before


@pytest.mark.parametrize(("name", "text"), [("deep.json", '{"clients": ' + lists(1000) + "}"), ("deep.yaml", "clients: " + lists(1000))])
def test_a_scenario_file_nested_too_deep(emqx_server: EmqxServer, tmp_path: Any, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    before = state(emqx_server)
    with pytest.raises(ScenarioError) as raised:
        emqx_server.load_scenario(path)
    assert str(raised.value) == f"{path}: nested deeper than {MAX_DEPTH} levels"
    assert state(emqx_server) == before


def test_a_scenario_dict_nested_too_deep(emqx_server: EmqxServer) -> None:
    value: Any = 1
    for _ in range(1000):
        value = {"a": value}
    with pytest.raises(ScenarioError) as raised:
        emqx_server.load_scenario({"clients": [value]})
    assert str(raised.value) == f"<scenario>: nested deeper than {MAX_DEPTH} levels"


# -- a malformed chunked body --------------------------------------------------------------


BAD_CHUNKS = [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX\r\n0\r\n\r\n", b"-2\r\n{}\r\n0\r\n\r\n"]


@pytest.mark.parametrize("body", BAD_CHUNKS)
@pytest.mark.parametrize("path", ["/api/v5/publish", "/_mock/seed/clients"])
def test_a_malformed_chunk_is_a_400_and_the_connection_closes(emqx_server: EmqxServer, path: str, body: bytes) -> None:
    """Was a 500 `OSError: Invalid chunk header`. cowboy decodes the body in its connection
    process and ends the stream on a chunk it cannot parse (`cowboy_http:parse_body/2`): a 400
    with no body, no `connection` header, then it closes the connection."""
    before = state(emqx_server)
    head = request(emqx_server, "POST", path, headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
    (response,), closed = exchange(emqx_server, head + body)
    assert response.status_line == b"HTTP/1.1 400 Bad Request"
    assert response.header("content-length") == "0"
    assert response.header("connection") is None
    assert response.body == b""
    assert closed
    assert state(emqx_server) == before


def test_a_malformed_chunk_after_the_answer_closes_the_connection(emqx_server: EmqxServer) -> None:
    """A refusal answered before the body is read: the body cannot be skipped, so the
    connection closes after the answer (`cowboy_http:stream_terminate/3`)."""
    head = b"POST /api/v5/publish HTTP/1.1\r\nHost: emqx\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    (response,), closed = exchange(emqx_server, head + BAD_CHUNKS[0])
    assert response.status_line == b"HTTP/1.1 401 Unauthorized"
    assert closed


def test_a_well_formed_chunked_body_is_served_and_the_connection_kept(emqx_server: EmqxServer) -> None:
    body = json.dumps({"topic": "t", "payload": "hello"}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = f"POST /api/v5/publish HTTP/1.1\nHost: emqx\nAuthorization: {basic(emqx_server)}\nContent-Type: application/json\nTransfer-Encoding: chunked"
    with socket.create_connection(("127.0.0.1", emqx_server.port), timeout=2) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + chunked)
        assert connection.recv(65536).startswith(b"HTTP/1.1 202 Accepted\r\n")
        connection.sendall(b"GET /api/v5/status HTTP/1.1\r\nHost: emqx\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
    assert [published.message.payload for published in emqx_server.published] == [b"hello"]


# -- invalid UTF-8 and NUL -----------------------------------------------------------------

CLIENT_NOT_FOUND = {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}


@pytest.mark.parametrize("clientid", [b"%FF", b"\xff", b"%00", b"c1%00", b"%C3"])
def test_invalid_utf8_and_nul_in_a_path_are_a_clientid_no_one_has(emqx_server: EmqxServer, clientid: bytes) -> None:
    """cowboy keeps a path's bytes (a raw one, or one decoded from its escape) and EMQX looks
    the client up by them: no client has that id."""
    emqx_server.add_client("c1")
    with unchanged(emqx_server):
        for method in ("GET", "DELETE"):
            response = answer(emqx_server, request(emqx_server, method, b"/api/v5/clients/" + clientid))
            assert (response.status, response.json()) == (404, CLIENT_NOT_FOUND)


@pytest.mark.parametrize("value", [b"%FF", b"\xff", b"%00", b"a%00%FF"])
def test_invalid_utf8_and_nul_in_every_path_parameter_are_refused_cleanly(emqx_server: EmqxServer, value: bytes) -> None:
    """Every served operation with a path parameter: refused by its check or its lookup (or
    with a crash EMQX has too, a missing body's), never an error inside the fake, nothing changed."""
    operations = [operation.split(" ", 1) for operation in sorted(served_operations()) if "{" in operation]
    with unchanged(emqx_server):
        for method, template in operations:
            target = re.sub(rb"\{[^}]+\}", value, b"/api/v5" + template.encode())
            response = answer(emqx_server, request(emqx_server, method, target))
            assert response.status >= 400 and isinstance(response.json(), dict), (method, template, response.status_line)
            assert emqx_server.errors == [], (method, template)


def test_a_nul_in_a_path_or_query_finds_the_client_whose_id_holds_it(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a\0b")
    emqx_server.add_client("ab")
    response = answer(emqx_server, request(emqx_server, "GET", "/api/v5/clients/a%00b"))
    assert (response.status, response.json()["clientid"]) == (200, "a\0b")
    response = answer(emqx_server, request(emqx_server, "GET", "/api/v5/clients?like_clientid=%00"))
    assert [row["clientid"] for row in response.json()["data"]] == ["a\0b"]


@pytest.mark.parametrize("query", [b"clientid=%FF", b"like_clientid=%FF", b"username=\xff", b"like_username=%00"])
def test_invalid_utf8_and_nul_in_a_query_match_nothing(emqx_server: EmqxServer, query: bytes) -> None:
    emqx_server.add_client("c1", username="u1")
    response = answer(emqx_server, request(emqx_server, "GET", b"/api/v5/clients?" + query))
    assert (response.status, response.json()["data"]) == (200, [])


def test_jsx_takes_raw_control_characters_and_replaces_invalid_utf8_in_strings(emqx_server: EmqxServer) -> None:
    """jsx 3.1's defaults: `strict_control_codes` and `strict_utf8` off (a NUL needs no escape,
    a byte that is not UTF-8 becomes U+FFFD)."""
    emqx_server.add_client("sub", subscriptions=["t/#"])
    body = b'{"topic": "t/\xff", "payload": "a\x00b\x01\x1f"}'
    response = answer(emqx_server, request(emqx_server, "POST", "/api/v5/publish", body))
    assert response.status == 200
    (published,) = emqx_server.published
    assert (published.message.topic, published.message.payload) == ("t/\ufffd", b"a\x00b\x01\x1f")
    ban = b'{"as": "clientid", "who": "c\xff\\u0000"}'
    response = answer(emqx_server, request(emqx_server, "POST", "/api/v5/banned", ban))
    assert (response.status, response.json()["who"]) == (200, "c\ufffd\0")


@pytest.mark.parametrize("body", [b'{"topic": "t"\x00, "payload": "p"}', b'\x00{"topic": "t", "payload": "p"}'])
def test_a_nul_outside_a_string_is_invalid_json(emqx_server: EmqxServer, body: bytes) -> None:
    with unchanged(emqx_server):
        response = answer(emqx_server, request(emqx_server, "POST", "/api/v5/publish", body))
    assert (response.status, response.json()) == (400, INVALID_JSON)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"clientid": "c\xff"}', "'utf-8' codec can't decode byte 0xff in position 15: invalid start byte"),
        (b'{"clientid": "c\x00"}', "Invalid control character at: line 1 column 16 (char 15)"),
    ],
)
@pytest.mark.parametrize("path", ["/seed/clients", "/scenario", "/stubs", "/faults"])
def test_invalid_utf8_and_raw_nul_in_a_control_body_are_its_400(emqx_server: EmqxServer, path: str, body: bytes, message: str) -> None:
    """The control API reads JSON as RFC 8259 writes it: UTF-8, control characters escaped."""
    with unchanged(emqx_server):
        response = requests.post(emqx_server.control_url + path, data=body, timeout=30)
    assert (response.status_code, response.json()) == (400, {"code": "BAD_REQUEST", "message": f"the body is not valid JSON: {message}"})


def test_an_escaped_nul_in_a_control_body_is_a_character_like_any(emqx_server: EmqxServer) -> None:
    response = requests.post(emqx_server.control_url + "/seed/clients", data=b'{"clientid": "c\\u0000"}', timeout=30)
    assert (response.status_code, response.json()["clientid"]) == (200, "c\0")
    assert emqx_server.client("c\0").clientid == "c\0"


# -- CR/LF where a string becomes a header: scenario files -----------------------------------

SPLIT_HEADERS = [
    ({"stubs": [{"request": "GET /rules", "json": [], "headers": {"X-Trace": "t1\r\nSet-Cookie: a=b"}}]},
     "stubs[0]: headers: the value of X-Trace must be one line of Latin-1 text"),
    ({"stubs": [{"request": "GET /rules", "responses": [{"status": 200, "headers": {"X-Trace": "t1\nX: 1"}}]}]},
     "stubs[0]: responses[0]: headers: the value of X-Trace must be one line of Latin-1 text"),
    ({"stubs": [{"request": "GET /rules", "content": "x", "content_type": "text/plain\r\nX: 1"}]},
     "stubs[0]: content_type must be one line of Latin-1 text"),
    ({"faults": [{"respond": "GET /clients", "status": 200, "headers": {"Location": "/a\r\n\r\n<html>"}}]},
     "faults[0]: respond: headers: the value of Location must be one line of Latin-1 text"),
    ({"faults": [{"respond": "GET /clients", "status": 200, "headers": {"X\r\nY": "1"}}]},
     "faults[0]: respond: headers: 'X\\r\\nY' is not a header name"),
]  # fmt: skip


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize(("document", "message"), SPLIT_HEADERS)
def test_a_scenario_file_whose_header_holds_a_line_break_is_refused_when_loaded(
    emqx_server: EmqxServer, tmp_path: Any, suffix: str, document: dict[str, Any], message: str
) -> None:
    path = tmp_path / f"split{suffix}"
    path.write_text(json.dumps(document))  # JSON is YAML too
    emqx_server.add_client("c1")
    with unchanged(emqx_server):
        with pytest.raises(ScenarioError) as raised:
            emqx_server.load_scenario(path)
        assert str(raised.value) == f"{path}: {message}"
        response = requests.post(emqx_server.control_url + "/scenario", json=document, timeout=30)
        assert (response.status_code, response.json()) == (400, {"code": "BAD_REQUEST", "message": f"<scenario>: {message}"})
