"""Calls to a fake's REST API with its ready administrator key, for the tests."""

from __future__ import annotations

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
