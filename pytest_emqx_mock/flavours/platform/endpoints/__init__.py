"""The Platform API's operations, one module per page of its documents."""

from __future__ import annotations

from ....http.replies import RawReply, Reply
from ....http.routing import Call
from ....state.platform import PlatformKey

#: RFC 7235 wants a challenge on every 401; the Platform's realm is not documented.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="EMQX Platform API"'}


def key_auth_failed() -> RawReply:
    """The 401, in the documents' words ("API Key authentication failed")."""
    return RawReply(Reply(401, {"message": "API Key authentication failed"}, dict(CHALLENGE)))


def caller(call: Call) -> PlatformKey:
    """The Platform API key the request was authenticated with, read under the state lock as
    the handler runs (a reset may have dropped it since: a 401 then)."""
    key = call.broker.platform.keys.get(call.principal.name) if call.principal is not None else None
    if key is None:
        raise key_auth_failed()
    return key
