"""`emqx_dashboard_api`: login, logout and dashboard users."""

from __future__ import annotations

from typing import Any

from ....http.replies import ApiError, Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.access import ADMINISTRATOR, DashboardUser, PasswordMismatch
from ....state.broker import EE
from ....state.errors import AlreadyExists, NotFound

routes = Routes()


def user_view(call: Call, user: DashboardUser) -> dict[str, Any]:
    view: dict[str, Any] = {"username": user.username, "description": user.description}
    if call.broker.edition == EE:
        view.update(role=user.role, backend="local")
    return view


def _required(body: dict[str, Any], *names: str) -> list[Any]:
    """The keys EMQX's handler pattern-matches on: without them it crashes (500)."""
    missing = [name for name in names if name not in body]
    if missing:
        raise handler_crash(f'{{badkey,<<"{missing[0]}">>}}')
    return [body[name] for name in names]


@routes.post("/login", public=True)
def login(call: Call) -> dict[str, Any]:
    username, password = _required(call.body, "username", "password")
    user = call.broker.users.login(username, password)
    if user is None:
        raise ApiError(401, "BAD_USERNAME_OR_PWD", "Auth failed")
    token = call.broker.tokens.issue(user)
    reply: dict[str, Any] = {"token": token.token, "version": call.broker.config.release}
    reply["license"] = {"edition": call.broker.edition}
    if call.broker.edition == EE:
        reply["role"] = user.role
    return reply


@routes.post("/logout", api_key_block="logout")
def logout(call: Call) -> Reply:
    assert call.principal is not None and call.principal.token is not None
    (username,) = _required(call.body, "username")
    if not call.request.headers.get("Authorization", "").startswith("Bearer "):
        raise handler_crash("function_clause")  # its clause matches the literal `Bearer `
    if username != call.principal.name:
        raise ApiError(401, "WRONG_TOKEN_OR_USERNAME", "Ensure your token & username")
    call.broker.tokens.revoke(call.principal.token.token)
    return Reply(204)


@routes.get("/users", api_key_block="users")
def list_users(call: Call) -> list[dict[str, Any]]:
    return [user_view(call, user) for user in call.broker.users]


@routes.post("/users", api_key_block="users", errors={AlreadyExists: (400, "BAD_REQUEST")})
def create_user(call: Call) -> dict[str, Any]:
    username, password = _required(call.body, "username", "password")
    if not username or not password:
        raise ApiError(400, "BAD_REQUEST", "Username or password undefined")
    # the model checks username, password and role in EMQX's order
    user = call.broker.users.add(
        username, password, description=call.body.get("description", ""), role=call.body.get("role", ADMINISTRATOR)
    )
    return user_view(call, user)


@routes.put("/users/{username}", api_key_block="users", errors={NotFound: (404, "USER_NOT_FOUND")})
def update_user(call: Call) -> dict[str, Any]:
    (description,) = _required(call.body, "description")
    # CE has no role field: administrator
    role = call.body.get("role", ADMINISTRATOR)
    return user_view(call, call.broker.update_user(call.path["username"], description=description, role=role))


@routes.delete("/users/{username}", api_key_block="users", errors={NotFound: (404, "USER_NOT_FOUND")})
def delete_user(call: Call) -> Reply:
    principal = call.principal
    by = principal.name if principal is not None and principal.kind == "token" else None
    call.broker.delete_user(call.path["username"], by=by)
    return Reply(204)


@routes.post(
    "/users/{username}/change_pwd", errors={NotFound: (404, "USER_NOT_FOUND"), PasswordMismatch: (400, "ERROR_PWD_NOT_MATCH")}
)
def change_password(call: Call) -> Reply:
    old, new = _required(call.body, "old_pwd", "new_pwd")
    if not old or not new:
        raise ApiError(400, "BAD_REQUEST", "Old password or new password undefined")
    call.broker.change_password(call.path["username"], old, new)
    return Reply(204)
