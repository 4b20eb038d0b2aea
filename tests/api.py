"""Calls to a fake's REST API with its ready administrator key, for the tests."""

from __future__ import annotations

import json
from typing import Any

import requests

from pytest_emqx_mock import EmqxServer


def call(server: EmqxServer, method: str, path: str, **options: Any) -> requests.Response:
    """`path` under /api/v5; credentials default to the ready administrator key (pass
    `auth=None` for none)."""
    options.setdefault("auth", server.auth)
    return requests.request(method, server.api_url + path, timeout=30, **options)


def get(server: EmqxServer, path: str, params: Any = None, **options: Any) -> requests.Response:
    return call(server, "GET", path, params=params, **options)


def post(server: EmqxServer, path: str, body: Any = None, **options: Any) -> requests.Response:
    return call(server, "POST", path, json=body, **options)


def put(server: EmqxServer, path: str, body: Any = None, **options: Any) -> requests.Response:
    return call(server, "PUT", path, json=body, **options)


def delete(server: EmqxServer, path: str, **options: Any) -> requests.Response:
    return call(server, "DELETE", path, **options)


def ok(response: requests.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have `status` (None when it has no body)."""
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error(response: requests.Response, status: int, code: str, message: str) -> None:
    """An EMQX error answer, exactly."""
    assert response.status_code == status, response.text
    assert response.json() == {"code": code, "message": message}


def hocon(**fields: Any) -> str:
    """One hocon validation error as EMQX writes it (jiffy: compact, keys descending)."""

    def ordered(node: Any) -> Any:
        return {k: ordered(node[k]) for k in sorted(node, reverse=True)} if isinstance(node, dict) else node

    return json.dumps(ordered({"kind": "validation_error", **fields}), separators=(",", ":"), ensure_ascii=False)
