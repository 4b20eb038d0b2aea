"""`emqx_mgmt_api_api_keys`: API keys, managed with a bearer token only."""

from __future__ import annotations

from typing import Any

from ....http.replies import Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.access import ADMINISTRATOR, ApiKey
from ....state.broker import EE
from ....state.clock import rfc3339_s
from ....state.errors import AlreadyExists

routes = Routes()


def key_view(call: Call, key: ApiKey) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": key.name,
        "api_key": key.api_key,
        "expired_at": "infinity" if key.expired_at is None else rfc3339_s(key.expired_at),
        "created_at": rfc3339_s(key.created_at),
        "desc": key.desc,
        "enable": key.enable,
        "expired": key.is_expired(),
    }
    if call.broker.edition == EE:
        view["role"] = key.role
    return view


def _expired_at(value: Any) -> float | None:
    """`expired_at` as validated: epoch seconds, or "infinity" (the default) as None."""
    return None if value == "infinity" else float(value)


def _find(call: Call) -> ApiKey:
    return call.broker.api_keys.get(call.path["name"])


@routes.get("/api_key", api_key_block="api_key")
def list_keys(call: Call) -> list[dict[str, Any]]:
    return [key_view(call, key) for key in call.broker.api_keys]


@routes.post("/api_key", api_key_block="api_key", errors={AlreadyExists: (400, "BAD_REQUEST")})
def create_key(call: Call) -> dict[str, Any]:
    body = call.body
    if not {"name", "desc", "enable"} <= body.keys():
        raise handler_crash("function_clause")  # the handler's clause matches all three
    key = call.broker.api_keys.create(
        body["name"],
        desc=body["desc"],
        enable=body["enable"],
        expired_at=_expired_at(body["expired_at"]),
        role=body.get("role", ADMINISTRATOR),
    )
    return {**key_view(call, key), "api_secret": key.api_secret}


@routes.get("/api_key/{name}", api_key_block="api_key")
def get_key(call: Call) -> dict[str, Any]:
    return key_view(call, _find(call))


@routes.put("/api_key/{name}", api_key_block="api_key")
def update_key(call: Call) -> dict[str, Any]:
    key = _find(call)
    call.broker.api_keys.update(
        key.name,
        desc=call.body.get("desc"),
        enable=call.body.get("enable"),
        expired_at=_expired_at(call.body["expired_at"]),
        role=call.body.get("role", ADMINISTRATOR),  # absent: back to administrator
    )
    return key_view(call, key)


@routes.delete("/api_key/{name}", api_key_block="api_key")
def delete_key(call: Call) -> Reply:
    call.broker.api_keys.delete(_find(call).name)
    return Reply(204)
