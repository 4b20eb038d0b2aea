"""The Platform API's operations, one module per page of its documents."""

from __future__ import annotations

from ....http.replies import ApiError
from ....http.routing import Call
from ....state.platform import PlatformKey

#: The documents' words for a 401 ("API Key authentication failed").
KEY_AUTH_FAILED = "API Key authentication failed"


def caller(call: Call) -> PlatformKey:
    """The Platform API key the request was authenticated with, read under the state lock as
    the handler runs (a reset may have dropped it since: a 401 then)."""
    key = call.broker.platform.keys.get(call.principal.name) if call.principal is not None else None
    if key is None:
        raise ApiError(401, "UNAUTHORIZED", KEY_AUTH_FAILED)
    return key
