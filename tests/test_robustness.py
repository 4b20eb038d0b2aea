"""Bad input never breaks the fake: every served operation, given malformed bodies, wrongly
typed fields and garbage query values, answers as EMQX does (a 4xx, or the 500s EMQX itself
gives) without an exception inside the fake or a response outside its schema, and a refused
request changes nothing."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import pytest
import requests

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v5 import served_operations
from pytest_emqx_mock.http.schemas import SchemaCatalog

#: Values of every JSON type, and some awkward ones, for each field and parameter.
ODD_VALUES: list[Any] = [None, True, -1, 2**70, 1.5, "", "x" * 300, "é\u2028\\\"", [], [1, "a"], {}, {"a": {"b": []}}]
ODD_QUERY: list[str] = ["", "-1", "0", "99999999999999999999", "1.5", "abc", "%00", "é", "true", "a,b,,c", "$share/g/#"]
ODD_BODIES: list[bytes] = [b"", b"null", b"[]", b"{}", b'"text"', b"[1,2,3]", b"{\"a\":", b"\xff\xfe", b"[[[[[[[[[[]]]]]]]]]]"]

PATH_VALUES = {"clientid": "c1", "username": "admin", "name": "k1", "topic": "t/1", "node": "emqx@127.0.0.1",
               "code": "BAD_REQUEST", "as": "clientid", "who": "c1"}  # fmt: skip


def _operations() -> list[str]:
    return sorted(served_operations())


def _path(template: str) -> str:
    path = template
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", requests.utils.quote(value, safe=""))
    return path


def _state(server: EmqxServer) -> Any:
    """What a refused request must leave as it was."""
    broker = server.broker
    with broker.lock:
        return copy.deepcopy(
            (
                sorted((s.clientid, sorted(s.subscriptions), s.keepalive, len(s.mqueue), len(s.inflight)) for s in broker.sessions),
                sorted((k.name, k.desc, k.enable, k.expired_at, k.role) for k in broker.api_keys),
                sorted((u.username, u.description, u.role) for u in broker.users),
                sorted((b.kind, b.who) for b in broker.bans),
                [m.topic for m in broker.retained],
                len(broker.published),
            )
        )


@pytest.fixture
def seeded(emqx_server: EmqxServer) -> Iterator[EmqxServer]:
    emqx_server.add_client("c1", subscriptions=["t/#"], mqueue=["m"], inflight=[{"payload": "i", "qos": 1}])
    emqx_server.add_api_key("k1")
    emqx_server.add_retained("t/1", "r")
    yield emqx_server
    assert emqx_server.errors == []


def _send(server: EmqxServer, method: str, path: str, content_type: str | None = None, **options: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.login()}"}  # bearer: API-key-blocked paths too
    if content_type:
        headers["Content-Type"] = content_type
    return requests.request(method, server.api_url + path, headers=headers, timeout=30, **options)


def _check(server: EmqxServer, response: requests.Response, before: Any, what: str) -> None:
    assert server.errors == [], f"{what}: the fake raised {server.errors[0]!r}"
    if response.status_code >= 400:
        assert _state(server) == before, f"{what}: refused with {response.status_code}, but state changed"
        if response.content:
            assert isinstance(response.json(), (dict, list)), what


@pytest.mark.parametrize("key", _operations())
def test_malformed_bodies_and_fields(seeded: EmqxServer, key: str) -> None:
    operation = SchemaCatalog("ce").operations[key]
    method, template = key.split(" ", 1)
    path = _path(template)
    before = _state(seeded)
    for raw in ODD_BODIES:
        response = _send(seeded, method, path, data=raw, content_type="application/json")
        _check(seeded, response, before, f"{key} with body {raw!r}")
        before = _state(seeded)
    properties = (operation.request_body or {}).get("properties", {})
    for field in properties:
        for value in ODD_VALUES:
            response = _send(seeded, method, path, json={field: value})
            _check(seeded, response, before, f"{key} with {field}={value!r}")
            before = _state(seeded)


@pytest.mark.parametrize("key", _operations())
def test_garbage_query_values(seeded: EmqxServer, key: str) -> None:
    operation = SchemaCatalog("ce").operations[key]
    method, template = key.split(" ", 1)
    path = _path(template)
    body = {} if operation.request_body else None
    before = _state(seeded)
    for parameter in (p for p in operation.parameters if p.location == "query"):
        for value in ODD_QUERY:
            response = _send(seeded, method, path, params=[(parameter.name, value), (parameter.name, value)], json=body)
            _check(seeded, response, before, f"{key} with {parameter.name}={value!r}")
            before = _state(seeded)
