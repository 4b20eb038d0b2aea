"""How EMQX 5 answers the state model's refusals: `{"code", "message"}`, the message being the
model's reason in EMQX's words. An operation names its own status and code for an error class
(`Route.errors`) where EMQX's handler differs from the usual answer below."""

from __future__ import annotations

from ...http.replies import ApiError
from ...http.routing import Route
from ...state.errors import (
    AlreadyExists,
    Invalid,
    LimitReached,
    ModelError,
    NotAllowed,
    NotFound,
)

#: The answer most EMQX 5 handlers give to each kind of refusal.
DEFAULT_ANSWERS: dict[type, tuple[int, str]] = {
    NotFound: (404, "NOT_FOUND"),
    AlreadyExists: (409, "ALREADY_EXISTS"),
    LimitReached: (400, "BAD_REQUEST"),
    Invalid: (400, "BAD_REQUEST"),
    NotAllowed: (400, "NOT_ALLOWED"),
}


def model_error(route: Route, error: ModelError) -> ApiError:
    """The operation's own answer for the error's nearest class, else the usual one."""
    for table in (route.errors, DEFAULT_ANSWERS):
        for cls in type(error).__mro__:
            answer = table.get(cls)
            if answer is not None:
                return ApiError(answer[0], answer[1], str(error))
    return ApiError(400, "BAD_REQUEST", str(error))
