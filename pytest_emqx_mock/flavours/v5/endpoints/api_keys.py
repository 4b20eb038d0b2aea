"""`emqx_mgmt_api_api_keys`: API keys, managed with a bearer token only."""

from __future__ import annotations

from typing import Any

from ....http.replies import handler_crash
from ....http.routing import Call, Routes
from ....resources.collection import Collection
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


def _create(call: Call) -> dict[str, Any]:
    body = call.body
    if not {"name", "desc", "enable"} <= body.keys():
        # `api_key(post, _)` matches the checked body against all three (a null is absent)
        raise handler_crash("badmatch")
    key = call.broker.api_keys.create(
        body["name"],
        desc=body["desc"],
        enable=body["enable"],
        expired_at=_expired_at(body["expired_at"]),
        role=body.get("role", ADMINISTRATOR),
    )
    return {**key_view(call, key), "api_secret": key.api_secret}


def _update(call: Call, name: str) -> dict[str, Any]:
    key = call.broker.api_keys.update(
        name,
        desc=call.body.get("desc"),
        enable=call.body.get("enable"),
        expired_at=_expired_at(call.body["expired_at"]),
        role=call.body.get("role", ADMINISTRATOR),  # absent: back to administrator
    )
    return key_view(call, key)


API_KEYS: Collection[ApiKey] = Collection(
    "/api_key",
    "name",
    items=lambda broker: broker.api_keys,
    find=lambda broker, name: broker.api_keys.get(name),
    view=key_view,
    create=_create,
    update=_update,
    delete=lambda call, name: call.broker.api_keys.delete(name),
    errors={AlreadyExists: (400, "BAD_REQUEST")},  # only creating can meet one
    options={"api_key_block": "api_key"},
)
API_KEYS.serve(routes)
