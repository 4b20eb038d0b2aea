"""Hostile input: answered as EMQX answers it (the control API: with its documented 400), and
a refused request changes nothing (the whole snapshot, faults and stubs before and after)."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest
import requests
from api import error

from pytest_emqx_mock import EmqxServer, ScenarioError
from pytest_emqx_mock.erlang.nesting import MAX_DEPTH

INVALID_JSON = {"code": "BAD_REQUEST", "message": "Invalid json message received"}


def lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def state(server: EmqxServer) -> tuple[Any, Any, Any]:
    """Everything a request could change: the state, and the control API's faults and stubs."""
    faults = requests.get(server.control_url + "/faults", timeout=30).json()
    stubs = requests.get(server.control_url + "/stubs", timeout=30).json()
    return server.snapshot(), faults, stubs


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


def exchange(server: EmqxServer, head: str, body: bytes) -> tuple[bytes, bool]:
    """What the server answers on a fresh connection to `head` (its lines, without the blank
    line) and `body`, and whether it then closed the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
            closed = True
        except TimeoutError:
            closed = False
    return received, closed


def basic(server: EmqxServer) -> str:
    return "Basic " + base64.b64encode(f"{server.api_key}:{server.api_secret}".encode()).decode()


BAD_CHUNKS = [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX\r\n0\r\n\r\n", b"-2\r\n{}\r\n0\r\n\r\n"]


@pytest.mark.parametrize("body", BAD_CHUNKS)
@pytest.mark.parametrize("path", ["/api/v5/publish", "/_mock/seed/clients"])
def test_a_malformed_chunk_is_a_400_and_the_connection_closes(emqx_server: EmqxServer, path: str, body: bytes) -> None:
    """Was a 500 `OSError: Invalid chunk header`. cowboy decodes the body in its connection
    process and ends the stream on a chunk it cannot parse (`cowboy_http:parse_body/2`): a 400
    with no body, no `connection` header, then it closes the connection."""
    before = state(emqx_server)
    head = f"POST {path} HTTP/1.1\nHost: emqx\nAuthorization: {basic(emqx_server)}\nContent-Type: application/json\nTransfer-Encoding: chunked"
    received, closed = exchange(emqx_server, head, body)
    status, _, rest = received.partition(b"\r\n")
    headers, _, content = rest.partition(b"\r\n\r\n")
    assert status == b"HTTP/1.1 400 Bad Request"
    names = {line.split(b":")[0].lower(): line.split(b":", 1)[1].strip() for line in headers.split(b"\r\n")}
    assert names[b"content-length"] == b"0"
    assert b"connection" not in names
    assert content == b""
    assert closed
    assert state(emqx_server) == before


def test_a_malformed_chunk_after_the_answer_closes_the_connection(emqx_server: EmqxServer) -> None:
    """A refusal answered before the body is read: the body cannot be skipped, so the
    connection closes after the answer (`cowboy_http:stream_terminate/3`)."""
    head = "POST /api/v5/publish HTTP/1.1\nHost: emqx\nContent-Type: application/json\nTransfer-Encoding: chunked"
    received, closed = exchange(emqx_server, head, BAD_CHUNKS[0])
    assert received.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
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
