"""Who may call EMQX 4.4's API: HTTP Basic with an application's AppID and AppSecret
(`emqx_mgmt_http:authorize_appid/1`, `emqx_mgmt_auth:is_authorized/2`); anything else is
minirest's 401, the text `UNAUTHORIZED` with a Basic challenge and no content type
(`minirest:apply_handler/3`)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from ...http.principal import Principal
from ...http.replies import RawReply, Reply
from ...state.access import ADMINISTRATOR

if TYPE_CHECKING:
    from werkzeug import Request

    from ...state.broker import Broker

CHALLENGE = {"WWW-Authenticate": 'Basic Realm="minirest-server"'}


def unauthorized() -> RawReply:
    return RawReply(Reply(401, b"UNAUTHORIZED", dict(CHALLENGE), typed=False))


def identify(request: Request, broker: Broker) -> Principal | None:
    """The app a request's Basic credentials name, when it may call (enabled, not expired,
    the secret its own); None for any other request (`cowboy_req:parse_header/2` failing
    on a malformed header is caught as a refusal too)."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        app_id, colon, secret = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    app = broker.apps.authorized(app_id, secret) if colon else None
    return Principal("app", app.app_id, ADMINISTRATOR) if app is not None else None


def app_frame(title: str, version: str, prefix: str) -> dict[str, Any]:
    """The frame of the fake's own OpenAPI document for a door whose callers are applications
    over HTTP Basic (`Flavour.api_docs_frame`): OpenAPI 3.0 at the door's prefix, every
    operation that is not public asking for an application's AppID and AppSecret."""
    return {
        "openapi": "3.0.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": prefix}],
        "security": [{"appAuth": []}],
        "components": {"securitySchemes": {"appAuth": {"type": "http", "scheme": "basic", "description": "An application's AppID and AppSecret"}}},
    }
