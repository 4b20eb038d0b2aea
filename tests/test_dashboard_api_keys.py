"""Dashboard login/logout/users and API keys (EMQX 5.8.9 `emqx_dashboard_api`,
`emqx_mgmt_api_api_keys`, `emqx_mgmt_auth`).

What the tests assert comes from the reference (emqx5-api-surface.md §6.1/§6.2), corrected by the
research notes checked against EMQX 5.8.9's code (endpoints.md §6, §7, §9; validation.md). The
hocon messages below were reproduced with the pinned hocon/typerefl/jiffy.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from datetime import datetime
from typing import Any

import pytest
import requests
from api import hocon

from pytest_emqx_mock import EmqxServer

# -- expected texts ------------------------------------------------------------------------

BAD_USERNAME = "Bad Username. Only upper and lower case letters, numbers and underscores are supported"
BAD_PASSWORD_LEN = "The range of password length is 8~64"
BAD_PASSWORD_MIX = (
    "Bad password. At least two different kind of characters from groups of letters, numbers, "
    "and special characters. For example, if password is composed from letters, it must contain "
    "at least one number or a special character."
)
ASCII_ONLY = "Only ascii characters are allowed in the password"
NAME_REGEX_REASON = "Name should be ^[A-Za-z]+[A-Za-z0-9-_]*$"
NAME_LENGTH_REASON = "Name Length must =< 256"
MAX_KEYS = '"Maximum number of ApiKeys reached."'

CE_KEY_FIELDS = {"api_key", "created_at", "desc", "enable", "expired", "expired_at", "name"}
RFC3339_UTC_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
# emqx_base62 of 32 random bytes: 43 six-bit symbols; 61/62/63 are written 9A/9B/9C
EMQX_SECRET = re.compile(r"^(?:[A-Za-z0-8]|9[ABC]){43}$")

BASIC_FAILED = {"code": "BAD_API_KEY_OR_SECRET", "message": "Check api_key/api_secret"}
BAD_TOKEN = {"code": "BAD_TOKEN", "message": "Get a token by POST /login"}
NAME_NOT_FOUND = {"code": "NOT_FOUND", "message": "Name NOT FOUND"}

Y2100 = 4102444800  # 2100-01-01T00:00:00Z
Y2020 = 1577836800  # 2020-01-01T00:00:00Z


def sha512_16(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()[:16]


# -- fixtures and helpers ------------------------------------------------------------------


def call(server: EmqxServer, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, server.api_url + path, headers=headers, timeout=10, **kwargs)


def admin(server: EmqxServer) -> str:
    return server.login("admin", "public")


def assert_error(response: requests.Response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"code": code, "message": message}


def assert_crash(response: requests.Response) -> None:
    """EMQX's handler crashed on a body it never expected: 500 with the Erlang error."""
    assert response.status_code == 500, response.text
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == "INTERNAL_ERROR"
    assert body["message"].startswith("error, ")


def token_works(server: EmqxServer, token: str) -> bool:
    response = call(server, "GET", "/users", token)
    if response.status_code == 200:
        return True
    assert response.status_code == 401 and response.json() == BAD_TOKEN, response.text
    return False


def basic_works(server: EmqxServer, api_key: str, api_secret: str) -> bool:
    response = requests.get(server.api_url + "/clients", auth=(api_key, api_secret), timeout=10)
    if response.status_code == 200:
        return True
    assert response.status_code == 401, response.text
    assert response.json() == BASIC_FAILED
    assert response.headers["WWW-Authenticate"] == 'Basic Realm="emqx-dashboard"'
    return False


def can_login(server: EmqxServer, username: str, password: str) -> bool:
    response = call(server, "POST", "/login", json={"username": username, "password": password})
    if response.status_code == 200:
        return True
    assert_error(response, 401, "BAD_USERNAME_OR_PWD", "Auth failed")
    return False


def users_state(server: EmqxServer) -> dict[str, tuple[str, str, str]]:
    return {u.username: (u.description, u.role, u.password_hash) for u in server.broker.users}


def keys_state(server: EmqxServer) -> dict[str, tuple[Any, ...]]:
    return {
        k.name: (k.api_key, k.api_secret, k.desc, k.enable, k.expired_at, k.role, k.created_at)
        for k in server.broker.api_keys
    }


def users_by_name(response: requests.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    items = response.json()
    assert isinstance(items, list)
    return {item["username"]: item for item in items}


def keys_by_name(response: requests.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    items = response.json()
    assert isinstance(items, list)
    return {item["name"]: item for item in items}


def new_key(server: EmqxServer, token: str, name: str, **fields: Any) -> requests.Response:
    body = {"name": name, "desc": fields.pop("desc", ""), "enable": fields.pop("enable", True), **fields}
    return call(server, "POST", "/api_key", token, json=body)


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# =========================================================================================
# POST /login
# =========================================================================================


def test_login_ce_body_and_token_works(emqx_server: EmqxServer) -> None:
    response = call(emqx_server, "POST", "/login", json={"username": "admin", "password": "public"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"license", "token", "version"}
    assert body["license"] == {"edition": "ce"}
    assert body["version"] == "5.8.9"
    assert isinstance(body["token"], str) and body["token"]
    assert token_works(emqx_server, body["token"])


def test_login_issues_distinct_tokens(emqx_server: EmqxServer) -> None:
    first = call(emqx_server, "POST", "/login", json={"username": "admin", "password": "public"}).json()["token"]
    second = call(emqx_server, "POST", "/login", json={"username": "admin", "password": "public"}).json()["token"]
    assert first != second
    assert token_works(emqx_server, first) and token_works(emqx_server, second)


def test_login_ee_adds_role_and_edition(ee: EmqxServer) -> None:
    ee.add_user("viewer1", "viewer_pass1", role="viewer")
    response = call(ee, "POST", "/login", json={"username": "admin", "password": "public"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"license", "role", "token", "version"}
    assert body["license"] == {"edition": "ee"}
    assert body["role"] == "administrator"
    viewer = call(ee, "POST", "/login", json={"username": "viewer1", "password": "viewer_pass1"}).json()
    assert viewer["role"] == "viewer"


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "admin", "password": "wrong"},
        {"username": "nobody", "password": "public"},
        {"username": "", "password": ""},
        {"username": "ADMIN", "password": "public"},
    ],
    ids=["wrong-password", "unknown-user", "empty", "case-sensitive"],
)
def test_login_bad_credentials(emqx_server: EmqxServer, credentials: dict[str, str]) -> None:
    response = call(emqx_server, "POST", "/login", json=credentials)
    assert_error(response, 401, "BAD_USERNAME_OR_PWD", "Auth failed")


@pytest.mark.parametrize("body", [{"username": "admin"}, {"password": "public"}, {}], ids=["no-password", "no-username", "empty"])
def test_login_missing_key_crashes(emqx_server: EmqxServer, body: dict[str, str]) -> None:
    assert_crash(call(emqx_server, "POST", "/login", json=body))


def test_login_is_public_and_length_not_enforced(emqx_server: EmqxServer) -> None:
    # maxLength 100 is documentation only: a long wrong password is just "Auth failed"
    response = call(emqx_server, "POST", "/login", json={"username": "admin", "password": "x" * 150})
    assert_error(response, 401, "BAD_USERNAME_OR_PWD", "Auth failed")


# =========================================================================================
# POST /logout
# =========================================================================================


def test_logout_kills_only_that_token(emqx_server: EmqxServer) -> None:
    token, other = admin(emqx_server), admin(emqx_server)
    response = call(emqx_server, "POST", "/logout", token, json={"username": "admin"})
    assert response.status_code == 204
    assert response.content == b""
    assert not token_works(emqx_server, token)
    assert token_works(emqx_server, other)
    # the dead token cannot log out again
    again = call(emqx_server, "POST", "/logout", token, json={"username": "admin"})
    assert again.status_code == 401 and again.json() == BAD_TOKEN


def test_logout_wrong_username(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    token = admin(emqx_server)
    response = call(emqx_server, "POST", "/logout", token, json={"username": "bob"})
    assert_error(response, 401, "WRONG_TOKEN_OR_USERNAME", "Ensure your token & username")
    assert token_works(emqx_server, token)


def test_logout_missing_username_crashes(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    assert_crash(call(emqx_server, "POST", "/logout", token, json={}))
    assert token_works(emqx_server, token)


def test_logout_lowercase_bearer_crashes(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    response = call(emqx_server, "POST", "/logout", json={"username": "admin"}, headers={"Authorization": f"bearer {token}"})
    assert_crash(response)
    assert token_works(emqx_server, token)


@pytest.mark.parametrize(
    "method, path, resource",
    [
        ("POST", "/logout", "logout"),
        ("GET", "/users", "users"),
        ("POST", "/users", "users"),
        ("PUT", "/users/admin", "users"),
        ("DELETE", "/users/bob", "users"),
        ("GET", "/api_key", "api_key"),
        ("POST", "/api_key", "api_key"),
        ("GET", "/api_key/somekey", "api_key"),
        ("PUT", "/api_key/somekey", "api_key"),
        ("DELETE", "/api_key/somekey", "api_key"),
    ],
)
def test_api_keys_refused(emqx_server: EmqxServer, method: str, path: str, resource: str) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    emqx_server.add_api_key("somekey", desc="d")
    before_users, before_keys = users_state(emqx_server), keys_state(emqx_server)
    response = requests.request(method, emqx_server.api_url + path, auth=emqx_server.auth, json={"username": "admin"}, timeout=10)
    assert_error(
        response,
        401,
        "API_KEY_NOT_ALLOW",
        f"Please use bearer Token instead, using API key/secret in {resource} path is not permitted",
    )
    assert response.headers["WWW-Authenticate"] == 'Basic Realm="emqx-dashboard"'
    assert users_state(emqx_server) == before_users
    assert keys_state(emqx_server) == before_keys


# =========================================================================================
# GET /users, POST /users
# =========================================================================================


def test_list_users_ce(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    assert call(emqx_server, "GET", "/users", token).json() == [{"description": "administrator", "username": "admin"}]
    emqx_server.add_user("bob", "bob_pass1", description="Bob")
    assert users_by_name(call(emqx_server, "GET", "/users", token)) == {
        "admin": {"description": "administrator", "username": "admin"},
        "bob": {"description": "Bob", "username": "bob"},
    }


def test_list_users_ee(ee: EmqxServer) -> None:
    ee.add_user("carol", "carol_pass1", description="C", role="viewer")
    assert users_by_name(call(ee, "GET", "/users", admin(ee))) == {
        "admin": {"backend": "local", "description": "administrator", "role": "administrator", "username": "admin"},
        "carol": {"backend": "local", "description": "C", "role": "viewer", "username": "carol"},
    }


def test_create_user_ce(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    response = call(emqx_server, "POST", "/users", token, json={"username": "bob", "password": "bob_pass1", "description": "Bob"})
    assert response.status_code == 200
    assert response.json() == {"description": "Bob", "username": "bob"}
    assert users_by_name(call(emqx_server, "GET", "/users", token))["bob"] == {"description": "Bob", "username": "bob"}
    assert emqx_server.broker.users.get("bob").description == "Bob"
    assert can_login(emqx_server, "bob", "bob_pass1")
    assert not can_login(emqx_server, "bob", "other_pass1")


def test_create_user_description_defaults_to_empty(emqx_server: EmqxServer) -> None:
    response = call(emqx_server, "POST", "/users", admin(emqx_server), json={"username": "bob", "password": "bob_pass1"})
    assert response.status_code == 200
    assert response.json() == {"description": "", "username": "bob"}


@pytest.mark.parametrize(
    "username, password",
    [
        ("Under_score_9", "abcdefg1"),
        ("u" * 200, "abcdefg1"),  # no username length limit
        ("bob", "abcdefgh!"),  # letters + special
        ("bob", "12345678 "),  # space is special
        ("bob", "1234!@#$"),  # digits + special
        ("bob", "a1" + "b" * 62),  # 64 bytes
        ("bob", "abcdef\\1"),  # backslash is harmless when two groups are present
    ],
    ids=["underscore", "long-username", "letters-special", "space-special", "digits-special", "64-bytes", "backslash"],
)
def test_create_user_accepted(emqx_server: EmqxServer, username: str, password: str) -> None:
    response = call(emqx_server, "POST", "/users", admin(emqx_server), json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    assert response.json() == {"description": "", "username": username}
    assert can_login(emqx_server, username, password)


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("", "bob_pass1", "Username or password undefined"),
        ("bob", "", "Username or password undefined"),
        ("", "", "Username or password undefined"),
        ("bad-name", "bob_pass1", BAD_USERNAME),
        ("bad name", "bob_pass1", BAD_USERNAME),
        ("bad.name", "x", BAD_USERNAME),  # username is reported before password
        ("bob", "abc1234", BAD_PASSWORD_LEN),
        ("bob", "a1" + "b" * 63, BAD_PASSWORD_LEN),  # 65
        ("bob", "a1" + "é" * 32, BAD_PASSWORD_LEN),  # 34 characters but 66 bytes
        ("bob", "abcdefgh", BAD_PASSWORD_MIX),
        ("bob", "12345678", BAD_PASSWORD_MIX),
        ("bob", "!@#$%^&*", BAD_PASSWORD_MIX),
        ("bob", "abcdefgh\\", BAD_PASSWORD_MIX),  # backslash is no special character
        ("bob", "abcdéééé", BAD_PASSWORD_MIX),  # non-ASCII bytes belong to no group
        ("bob", "abcd1234é", ASCII_ONLY),
        ("bob", "abc1éé", ASCII_ONLY),  # 6 characters but 8 bytes: the length passes
    ],
)
def test_create_user_rejected(emqx_server: EmqxServer, username: str, password: str, message: str) -> None:
    before = users_state(emqx_server)
    response = call(emqx_server, "POST", "/users", admin(emqx_server), json={"username": username, "password": password})
    assert_error(response, 400, "BAD_REQUEST", message)
    assert users_state(emqx_server) == before


def test_create_user_already_exists(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1", description="first")
    before = users_state(emqx_server)
    token = admin(emqx_server)
    for username in ("admin", "bob"):
        response = call(emqx_server, "POST", "/users", token, json={"username": username, "password": "new_pass1", "description": "x"})
        assert_error(response, 400, "BAD_REQUEST", "username_already_exists")
    assert users_state(emqx_server) == before
    assert can_login(emqx_server, "admin", "public")
    assert not can_login(emqx_server, "bob", "new_pass1")


@pytest.mark.parametrize("body", [{"username": "bob"}, {"password": "bob_pass1"}, {"description": "x"}])
def test_create_user_missing_key_crashes(emqx_server: EmqxServer, body: dict[str, str]) -> None:
    before = users_state(emqx_server)
    assert_crash(call(emqx_server, "POST", "/users", admin(emqx_server), json=body))
    assert users_state(emqx_server) == before


@pytest.mark.parametrize(
    "body, unmatched",
    [
        ({"username": "bob", "password": "bob_pass1", "role": "viewer"}, "description"),
        ({"username": "bob", "password": "bob_pass1", "description": "d", "role": "administrator"}, "none"),
    ],
)
def test_create_user_ce_has_no_role_field(emqx_server: EmqxServer, body: dict[str, str], unmatched: str) -> None:
    before = users_state(emqx_server)
    response = call(emqx_server, "POST", "/users", admin(emqx_server), json=body)
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root", reason="unknown_fields", unknown="role", unmatched=unmatched))
    assert users_state(emqx_server) == before


def test_create_user_ee(ee: EmqxServer) -> None:
    token = admin(ee)
    response = call(ee, "POST", "/users", token, json={"username": "bob", "password": "bob_pass1", "role": "viewer"})
    assert response.status_code == 200
    assert response.json() == {"backend": "local", "description": "", "role": "viewer", "username": "bob"}
    response = call(ee, "POST", "/users", token, json={"username": "dave", "password": "dave_pass1", "description": "D"})
    assert response.json() == {"backend": "local", "description": "D", "role": "administrator", "username": "dave"}
    listed = users_by_name(call(ee, "GET", "/users", token))
    assert listed["bob"]["role"] == "viewer" and listed["dave"]["role"] == "administrator"
    assert ee.broker.users.get("bob").role == "viewer"


@pytest.mark.parametrize(
    "username, password, role, message",
    [
        ("bob", "bob_pass1", "superhero", "Role does not exist"),
        ("bob", "bob_pass1", "publisher", "Role does not exist"),  # an API-key role only
        ("bad-name", "bob_pass1", "superhero", BAD_USERNAME),  # username before role
        ("bob", "short", "superhero", BAD_PASSWORD_LEN),  # password before role
    ],
    ids=["unknown-role", "publisher", "username-first", "password-first"],
)
def test_create_user_ee_bad_role(ee: EmqxServer, username: str, password: str, role: str, message: str) -> None:
    before = users_state(ee)
    body = {"username": username, "password": password, "role": role}
    assert_error(call(ee, "POST", "/users", admin(ee), json=body), 400, "BAD_REQUEST", message)
    assert users_state(ee) == before


# =========================================================================================
# PUT /users/{username}
# =========================================================================================


def test_update_user_ce(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1", description="old")
    bob_token = emqx_server.login("bob", "bob_pass1")
    token = admin(emqx_server)
    response = call(emqx_server, "PUT", "/users/bob", token, json={"description": "new"})
    assert response.status_code == 200
    assert response.json() == {"description": "new", "username": "bob"}
    assert users_by_name(call(emqx_server, "GET", "/users", token))["bob"] == {"description": "new", "username": "bob"}
    assert emqx_server.broker.users.get("bob").description == "new"
    assert can_login(emqx_server, "bob", "bob_pass1")
    assert token_works(emqx_server, bob_token)


def test_update_user_not_found(emqx_server: EmqxServer) -> None:
    before = users_state(emqx_server)
    response = call(emqx_server, "PUT", "/users/ghost", admin(emqx_server), json={"description": "x"})
    assert_error(response, 404, "USER_NOT_FOUND", "username_not_found")
    assert users_state(emqx_server) == before


@pytest.mark.parametrize("target", ["bob", "ghost"])
def test_update_user_missing_description_crashes(emqx_server: EmqxServer, target: str) -> None:
    emqx_server.add_user("bob", "bob_pass1", description="old")
    before = users_state(emqx_server)
    assert_crash(call(emqx_server, "PUT", f"/users/{target}", admin(emqx_server), json={}))
    assert users_state(emqx_server) == before


def test_update_user_ce_has_no_role_field(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1", description="old")
    before = users_state(emqx_server)
    response = call(emqx_server, "PUT", "/users/bob", admin(emqx_server), json={"description": "d", "role": "viewer"})
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root", reason="unknown_fields", unknown="role", unmatched="none"))
    assert users_state(emqx_server) == before


def test_update_user_ee_role(ee: EmqxServer) -> None:
    ee.add_user("bob", "bob_pass1", description="old")
    bob_token = ee.login("bob", "bob_pass1")
    token = admin(ee)
    response = call(ee, "PUT", "/users/bob", token, json={"description": "new", "role": "viewer"})
    assert response.status_code == 200
    assert response.json() == {"backend": "local", "description": "new", "role": "viewer", "username": "bob"}
    assert ee.broker.users.get("bob").role == "viewer"
    assert not token_works(ee, bob_token)  # a role change destroys the user's tokens
    # role absent: the handler defaults it to administrator
    response = call(ee, "PUT", "/users/bob", token, json={"description": "newer"})
    assert response.json() == {"backend": "local", "description": "newer", "role": "administrator", "username": "bob"}


def test_update_user_ee_bad_role(ee: EmqxServer) -> None:
    ee.add_user("bob", "bob_pass1", description="old", role="viewer")
    before = users_state(ee)
    token = admin(ee)
    response = call(ee, "PUT", "/users/bob", token, json={"description": "new", "role": "superhero"})
    assert_error(response, 400, "BAD_REQUEST", "Role does not exist")
    # the role is checked before the user is looked up
    response = call(ee, "PUT", "/users/ghost", token, json={"description": "new", "role": "superhero"})
    assert_error(response, 400, "BAD_REQUEST", "Role does not exist")
    assert users_state(ee) == before


# =========================================================================================
# DELETE /users/{username}
# =========================================================================================


def test_delete_user(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    bob_token = emqx_server.login("bob", "bob_pass1")
    token = admin(emqx_server)
    response = call(emqx_server, "DELETE", "/users/bob", token)
    assert response.status_code == 204
    assert response.content == b""
    assert "bob" not in users_by_name(call(emqx_server, "GET", "/users", token))
    assert "bob" not in emqx_server.broker.users
    assert not token_works(emqx_server, bob_token)
    assert not can_login(emqx_server, "bob", "bob_pass1")
    assert token_works(emqx_server, token)


def test_delete_default_admin_refused_first(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    before = users_state(emqx_server)
    # even the admin deleting itself gets the default-user message: that check comes first
    for token in (admin(emqx_server), emqx_server.login("bob", "bob_pass1")):
        response = call(emqx_server, "DELETE", "/users/admin", token)
        assert_error(response, 400, "NOT_ALLOWED", 'Cannot delete user <<"admin">>')
    assert users_state(emqx_server) == before


def test_delete_self_refused(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    before = users_state(emqx_server)
    bob_token = emqx_server.login("bob", "bob_pass1")
    assert_error(call(emqx_server, "DELETE", "/users/bob", bob_token), 400, "NOT_ALLOWED", "Cannot delete self")
    assert users_state(emqx_server) == before
    assert token_works(emqx_server, bob_token)


def test_delete_user_not_found(emqx_server: EmqxServer) -> None:
    before = users_state(emqx_server)
    assert_error(call(emqx_server, "DELETE", "/users/ghost", admin(emqx_server)), 404, "USER_NOT_FOUND", "username_not_found")
    assert users_state(emqx_server) == before


# =========================================================================================
# POST /users/{username}/change_pwd
# =========================================================================================


def test_change_password(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    bob_tokens = [emqx_server.login("bob", "bob_pass1") for _ in range(2)]
    token = admin(emqx_server)
    response = call(emqx_server, "POST", "/users/bob/change_pwd", token, json={"old_pwd": "bob_pass1", "new_pwd": "bob_pass2"})
    assert response.status_code == 204
    assert response.content == b""
    for bob_token in bob_tokens:
        assert not token_works(emqx_server, bob_token)
    assert token_works(emqx_server, token)  # another user's token is untouched
    assert not can_login(emqx_server, "bob", "bob_pass1")
    assert can_login(emqx_server, "bob", "bob_pass2")


def test_change_password_of_admin_by_itself(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    response = call(emqx_server, "POST", "/users/admin/change_pwd", token, json={"old_pwd": "public", "new_pwd": "public_2"})
    assert response.status_code == 204
    assert not token_works(emqx_server, token)
    assert can_login(emqx_server, "admin", "public_2")
    assert not can_login(emqx_server, "admin", "public")


def test_change_password_same_as_old_allowed(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    bob_token = emqx_server.login("bob", "bob_pass1")
    response = call(emqx_server, "POST", "/users/bob/change_pwd", bob_token, json={"old_pwd": "bob_pass1", "new_pwd": "bob_pass1"})
    assert response.status_code == 204
    assert can_login(emqx_server, "bob", "bob_pass1")
    assert not token_works(emqx_server, bob_token)


@pytest.mark.parametrize(
    "target, old, new, status, code, message",
    [
        # emptiness first, even for an unknown user
        ("ghost", "", "bob_pass2", 400, "BAD_REQUEST", "Old password or new password undefined"),
        ("bob", "bob_pass1", "", 400, "BAD_REQUEST", "Old password or new password undefined"),
        ("bob", "", "", 400, "BAD_REQUEST", "Old password or new password undefined"),
        # then the user
        ("ghost", "bob_pass1", "bob_pass2", 404, "USER_NOT_FOUND", "User not found"),
        ("ghost", "bob_pass1", "x", 404, "USER_NOT_FOUND", "User not found"),
        # then the old password, before the new one's policy
        ("bob", "wrong_pass", "bob_pass2", 400, "ERROR_PWD_NOT_MATCH", "Old password not match"),
        ("bob", "wrong_pass", "x", 400, "ERROR_PWD_NOT_MATCH", "Old password not match"),
        # then the policy
        ("bob", "bob_pass1", "short1", 400, "BAD_REQUEST", BAD_PASSWORD_LEN),
        ("bob", "bob_pass1", "a1" + "b" * 63, 400, "BAD_REQUEST", BAD_PASSWORD_LEN),
        ("bob", "bob_pass1", "onlyletters", 400, "BAD_REQUEST", BAD_PASSWORD_MIX),
        ("bob", "bob_pass1", "abcdefgh\\", 400, "BAD_REQUEST", BAD_PASSWORD_MIX),
        ("bob", "bob_pass1", "abcd1234é", 400, "BAD_REQUEST", ASCII_ONLY),
    ],
)
def test_change_password_errors(
    emqx_server: EmqxServer, target: str, old: str, new: str, status: int, code: str, message: str
) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    bob_token = emqx_server.login("bob", "bob_pass1")
    before = users_state(emqx_server)
    response = call(emqx_server, "POST", f"/users/{target}/change_pwd", admin(emqx_server), json={"old_pwd": old, "new_pwd": new})
    assert_error(response, status, code, message)
    assert users_state(emqx_server) == before
    assert token_works(emqx_server, bob_token)
    assert can_login(emqx_server, "bob", "bob_pass1")


@pytest.mark.parametrize("body", [{"old_pwd": "bob_pass1"}, {"new_pwd": "bob_pass2"}, {}])
def test_change_password_missing_key_crashes(emqx_server: EmqxServer, body: dict[str, str]) -> None:
    emqx_server.add_user("bob", "bob_pass1")
    before = users_state(emqx_server)
    assert_crash(call(emqx_server, "POST", "/users/bob/change_pwd", admin(emqx_server), json=body))
    assert users_state(emqx_server) == before


# =========================================================================================
# /api_key
# =========================================================================================


def test_list_api_keys_has_bootstrap_key(emqx_server: EmqxServer) -> None:
    response = call(emqx_server, "GET", "/api_key", admin(emqx_server))
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list) and len(items) == 1
    (item,) = items
    assert set(item) == CE_KEY_FIELDS
    assert RFC3339_UTC_S.match(item["created_at"])
    assert {k: v for k, v in item.items() if k != "created_at"} == {
        "api_key": emqx_server.api_key,
        "desc": "Bootstrapped From File",
        "enable": True,
        "expired": False,
        "expired_at": "infinity",
        "name": "from_bootstrap_file_" + sha512_16(emqx_server.api_key),
    }


def test_list_api_keys_objects(emqx_server: EmqxServer) -> None:
    emqx_server.add_api_key("keyA", desc="a", enable=False, expired_at=Y2100)
    emqx_server.add_api_key("keyB", desc="b", expired_at=Y2020)
    listed = keys_by_name(call(emqx_server, "GET", "/api_key", admin(emqx_server)))
    assert len(listed) == 3
    for item in listed.values():
        assert set(item) == CE_KEY_FIELDS  # never api_secret
    created = {name: listed[name].pop("created_at") for name in ("keyA", "keyB")}
    assert all(RFC3339_UTC_S.match(text) for text in created.values())
    assert listed["keyA"] == {
        "api_key": sha512_16("keyA"), "desc": "a", "enable": False, "expired": False,
        "expired_at": "2100-01-01T00:00:00+00:00", "name": "keyA",
    }
    assert listed["keyB"] == {
        "api_key": sha512_16("keyB"), "desc": "b", "enable": True, "expired": True,
        "expired_at": "2020-01-01T00:00:00+00:00", "name": "keyB",
    }


def test_list_api_keys_ee_adds_role(ee: EmqxServer) -> None:
    ee.add_api_key("viewerkey", role="viewer")
    listed = keys_by_name(call(ee, "GET", "/api_key", admin(ee)))
    for item in listed.values():
        assert set(item) == CE_KEY_FIELDS | {"role"}
    assert listed["viewerkey"]["role"] == "viewer"
    assert listed["from_bootstrap_file_" + sha512_16(ee.api_key)]["role"] == "administrator"


def test_create_api_key(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    before = time.time()
    response = new_key(emqx_server, token, "EMQX-API-KEY-1", desc="my key")
    after = time.time()
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CE_KEY_FIELDS | {"api_secret"}
    assert body["api_key"] == "0c7dcaeb8222b3ae"
    assert RFC3339_UTC_S.match(body["created_at"])
    assert int(before) - 1 <= epoch(body["created_at"]) <= after + 1
    secret = body.pop("api_secret")
    created_at = body.pop("created_at")
    assert body == {
        "api_key": "0c7dcaeb8222b3ae", "desc": "my key", "enable": True, "expired": False,
        "expired_at": "infinity", "name": "EMQX-API-KEY-1",
    }
    # readable afterwards, without the secret
    got = call(emqx_server, "GET", "/api_key/EMQX-API-KEY-1", token)
    assert got.status_code == 200
    assert got.json() == {**body, "created_at": created_at}
    assert keys_by_name(call(emqx_server, "GET", "/api_key", token))["EMQX-API-KEY-1"] == {**body, "created_at": created_at}
    stored = emqx_server.broker.api_keys.get("EMQX-API-KEY-1")
    assert (stored.api_key, stored.api_secret, stored.desc) == ("0c7dcaeb8222b3ae", secret, "my key")
    # and it authenticates with Basic; a wrong secret does not
    assert basic_works(emqx_server, "0c7dcaeb8222b3ae", secret)
    assert not basic_works(emqx_server, "0c7dcaeb8222b3ae", secret + "x")


def test_create_api_key_known_hash(emqx_server: EmqxServer) -> None:
    response = new_key(emqx_server, admin(emqx_server), "test-1")
    assert response.status_code == 200
    assert response.json()["api_key"] == "18926f94712af04e"


def test_create_api_key_secret_format(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    secrets = [new_key(emqx_server, token, f"secretkey{i}").json()["api_secret"] for i in range(5)]
    assert len(set(secrets)) == 5
    for secret in secrets:
        assert EMQX_SECRET.match(secret), secret


def test_create_disabled_api_key(emqx_server: EmqxServer) -> None:
    response = new_key(emqx_server, admin(emqx_server), "offkey", enable=False)
    assert response.status_code == 200
    body = response.json()
    assert body["enable"] is False
    assert not basic_works(emqx_server, body["api_key"], body["api_secret"])


@pytest.mark.parametrize(
    "expired_at, shown",
    [
        (Y2100, "2100-01-01T00:00:00+00:00"),
        ("2100-01-01T00:00:00Z", "2100-01-01T00:00:00+00:00"),
        ("2100-01-01T08:00:00+08:00", "2100-01-01T00:00:00+00:00"),
        ("2099-12-31T23:59:59.999+00:00", "2099-12-31T23:59:59+00:00"),
        ("infinity", "infinity"),
    ],
)
def test_create_api_key_expired_at(emqx_server: EmqxServer, expired_at: Any, shown: str) -> None:
    token = admin(emqx_server)
    response = new_key(emqx_server, token, "timed", expired_at=expired_at)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["expired_at"], body["expired"]) == (shown, False)
    got = call(emqx_server, "GET", "/api_key/timed", token).json()
    assert (got["expired_at"], got["expired"]) == (shown, False)
    assert basic_works(emqx_server, body["api_key"], body["api_secret"])


@pytest.mark.parametrize("expired_at", [Y2020, "2020-01-01T00:00:00Z", 0])
def test_create_api_key_in_the_past(emqx_server: EmqxServer, expired_at: Any) -> None:
    token = admin(emqx_server)
    response = new_key(emqx_server, token, "stale", expired_at=expired_at)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expired"] is True
    assert body["expired_at"] == ("1970-01-01T00:00:00+00:00" if expired_at == 0 else "2020-01-01T00:00:00+00:00")
    assert call(emqx_server, "GET", "/api_key/stale", token).json()["expired"] is True
    assert not basic_works(emqx_server, body["api_key"], body["api_secret"])


def test_create_api_key_expired_input_ignored(emqx_server: EmqxServer) -> None:
    response = new_key(emqx_server, admin(emqx_server), "ignored", expired=True)
    assert response.status_code == 200
    assert response.json()["expired"] is False


@pytest.mark.parametrize(
    "expired_at, reason",
    [("tomorrow", "bad_rfc3339_timestamp"), (-5, "bad_epoch")],
)
def test_create_api_key_bad_expired_at(emqx_server: EmqxServer, expired_at: Any, reason: str) -> None:
    before = keys_state(emqx_server)
    response = new_key(emqx_server, admin(emqx_server), "k", expired_at=expired_at)
    message = (
        '{"reason":"matched_no_union_member","path":"root.expired_at","mismatches":{'
        f'"infinity":{{"value":{json.dumps(expired_at)},"reason":"Expected: infinity, got:{expired_at}",'
        '"path":"root.expired_at","kind":"validation_error"},'
        f'"emqx_utils_calendar:epoch_second()":{{"value":{json.dumps(expired_at)},"reason":"{reason}",'
        '"path":"root.expired_at","kind":"validation_error"}},"kind":"validation_error"}'
    )
    assert_error(response, 400, "BAD_REQUEST", message)
    assert keys_state(emqx_server) == before


def test_create_api_key_name_already_existed(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    first = new_key(emqx_server, token, "dup", desc="first")
    assert first.status_code == 200
    before = keys_state(emqx_server)
    assert_error(new_key(emqx_server, token, "dup", desc="second", enable=False), 400, "BAD_REQUEST", "name_already_existed")
    assert keys_state(emqx_server) == before
    assert basic_works(emqx_server, first.json()["api_key"], first.json()["api_secret"])


def test_create_api_key_limit_counts_bootstrap_keys(emqx_server: EmqxServer) -> None:
    existing = len(list(emqx_server.broker.api_keys))
    assert existing >= 1  # the bootstrap key
    for i in range(99 - existing):
        emqx_server.add_api_key(f"filler{i}")
    token = admin(emqx_server)
    assert new_key(emqx_server, token, "hundredth").status_code == 200
    before = keys_state(emqx_server)
    assert len(before) == 100
    assert_error(new_key(emqx_server, token, "overflow"), 400, "BAD_REQUEST", MAX_KEYS)
    # the count is checked before the name
    assert_error(new_key(emqx_server, token, "hundredth"), 400, "BAD_REQUEST", MAX_KEYS)
    assert keys_state(emqx_server) == before
    assert len(call(emqx_server, "GET", "/api_key", token).json()) == 100
    # room again after a delete
    assert call(emqx_server, "DELETE", "/api_key/filler0", token).status_code == 204
    assert new_key(emqx_server, token, "overflow").status_code == 200


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("1bad", "1bad", NAME_REGEX_REASON),
        ("a;b", "a;b", NAME_REGEX_REASON),
        ("a@b", "a@b", NAME_REGEX_REASON),
        ("a:b", "a:b", NAME_REGEX_REASON),
        ("a b", "a b", NAME_REGEX_REASON),
        ("a.b", "a.b", NAME_REGEX_REASON),
        ("-abc", "-abc", NAME_REGEX_REASON),
        (123, "123", NAME_REGEX_REASON),  # a number is coerced to text, then fails the regex
        ("", "", NAME_LENGTH_REASON),
        ("a" * 257, "a" * 257, NAME_LENGTH_REASON),
    ],
    ids=["digit-first", "semicolon", "at", "colon", "space", "dot", "dash-first", "number", "empty", "257"],
)
def test_create_api_key_bad_name(emqx_server: EmqxServer, name: Any, value: str, reason: str) -> None:
    before = keys_state(emqx_server)
    response = call(emqx_server, "POST", "/api_key", admin(emqx_server), json={"name": name, "desc": "d", "enable": True})
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root.name", reason=reason, value=value))
    assert keys_state(emqx_server) == before


@pytest.mark.parametrize("name", ["a", "A" * 256, "a-b_c9", "Ab-_-_09"], ids=["one", "256", "mixed", "dashes"])
def test_create_api_key_good_names(emqx_server: EmqxServer, name: str) -> None:
    response = new_key(emqx_server, admin(emqx_server), name)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name
    assert response.json()["api_key"] == sha512_16(name)


def test_create_api_key_several_errors_is_an_array(emqx_server: EmqxServer) -> None:
    before = keys_state(emqx_server)
    response = call(emqx_server, "POST", "/api_key", admin(emqx_server), json={"name": "1bad", "desc": "d", "enable": "yes"})
    message = "[" + hocon(path="root.name", reason=NAME_REGEX_REASON, value="1bad") + "," + hocon(
        path="root.enable", reason="Unable to parse boolean value", value="yes"
    ) + "]"
    assert_error(response, 400, "BAD_REQUEST", message)
    assert keys_state(emqx_server) == before


@pytest.mark.parametrize(
    "body",
    [
        {"desc": "d", "enable": True},
        {"name": "k", "enable": True},
        {"name": "k", "desc": "d"},
        {"name": "k"},
        {},
    ],
    ids=["no-name", "no-desc", "no-enable", "name-only", "empty"],
)
def test_create_api_key_missing_field_crashes(emqx_server: EmqxServer, body: dict[str, Any]) -> None:
    before = keys_state(emqx_server)
    assert_crash(call(emqx_server, "POST", "/api_key", admin(emqx_server), json=body))
    assert keys_state(emqx_server) == before


def test_create_api_key_ce_has_no_role(emqx_server: EmqxServer) -> None:
    before = keys_state(emqx_server)
    response = new_key(emqx_server, admin(emqx_server), "k", role="administrator")
    assert_error(
        response, 400, "BAD_REQUEST", hocon(path="root", reason="unknown_fields", unknown="role", unmatched="expired,expired_at")
    )
    assert keys_state(emqx_server) == before


def test_create_api_key_ee_roles(ee: EmqxServer) -> None:
    token = admin(ee)
    default = new_key(ee, token, "adminkey")
    assert default.status_code == 200
    assert set(default.json()) == CE_KEY_FIELDS | {"api_secret", "role"}
    assert default.json()["role"] == "administrator"
    for role in ("viewer", "publisher"):
        response = new_key(ee, token, f"{role}key", role=role)
        assert response.status_code == 200, response.text
        assert response.json()["role"] == role
        assert call(ee, "GET", f"/api_key/{role}key", token).json()["role"] == role
        assert ee.broker.api_keys.get(f"{role}key").role == role


def test_create_api_key_ee_bad_role(ee: EmqxServer) -> None:
    before = keys_state(ee)
    response = new_key(ee, admin(ee), "k", role="superhero")
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root.role", reason="Role does not exist", value="superhero"))
    assert keys_state(ee) == before


# -- /api_key/{name} -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_api_key_by_name_not_found(emqx_server: EmqxServer, method: str) -> None:
    before = keys_state(emqx_server)
    response = call(emqx_server, method, "/api_key/ghost", admin(emqx_server), json={"desc": "x"} if method == "PUT" else None)
    assert response.status_code == 404
    assert response.json() == NAME_NOT_FOUND
    assert keys_state(emqx_server) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize(
    "name, reason",
    [("1bad", NAME_REGEX_REASON), ("a.b", NAME_REGEX_REASON), ("a" * 257, NAME_LENGTH_REASON)],
    ids=["digit-first", "dot", "257"],
)
def test_api_key_by_name_bad_path_name(emqx_server: EmqxServer, method: str, name: str, reason: str) -> None:
    before = keys_state(emqx_server)
    response = call(emqx_server, method, f"/api_key/{name}", admin(emqx_server), json={"desc": "x"} if method == "PUT" else None)
    assert_error(response, 400, "BAD_REQUEST", hocon(path="name", reason=reason, value=name))
    assert keys_state(emqx_server) == before


def test_get_api_key(emqx_server: EmqxServer) -> None:
    emqx_server.add_api_key("readme", desc="hello", enable=False, expired_at=Y2100)
    response = call(emqx_server, "GET", "/api_key/readme", admin(emqx_server))
    assert response.status_code == 200
    body = response.json()
    assert RFC3339_UTC_S.match(body.pop("created_at"))
    assert body == {
        "api_key": sha512_16("readme"), "desc": "hello", "enable": False, "expired": False,
        "expired_at": "2100-01-01T00:00:00+00:00", "name": "readme",
    }


def test_get_api_key_ee(ee: EmqxServer) -> None:
    ee.add_api_key("readme", role="publisher")
    body = call(ee, "GET", "/api_key/readme", admin(ee)).json()
    assert set(body) == CE_KEY_FIELDS | {"role"}
    assert body["role"] == "publisher"


def test_update_api_key(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    created = new_key(emqx_server, token, "upd", desc="old", expired_at=Y2100).json()
    response = call(emqx_server, "PUT", "/api_key/upd", token, json={"desc": "new", "enable": True, "expired_at": "2101-01-01T00:00:00Z"})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "api_key": created["api_key"], "created_at": created["created_at"], "desc": "new", "enable": True,
        "expired": False, "expired_at": "2101-01-01T00:00:00+00:00", "name": "upd",
    }
    assert call(emqx_server, "GET", "/api_key/upd", token).json() == body
    stored = emqx_server.broker.api_keys.get("upd")
    assert stored.api_secret == created["api_secret"]  # the secret is kept
    assert basic_works(emqx_server, created["api_key"], created["api_secret"])


def test_update_api_key_absent_fields(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    new_key(emqx_server, token, "upd", desc="keep me", enable=False, expired_at=Y2100)
    # desc and enable absent: kept; expired_at absent: back to infinity
    body = call(emqx_server, "PUT", "/api_key/upd", token, json={}).json()
    assert (body["desc"], body["enable"], body["expired_at"], body["expired"]) == ("keep me", False, "infinity", False)
    body = call(emqx_server, "PUT", "/api_key/upd", token, json={"expired_at": Y2100}).json()
    assert (body["desc"], body["enable"], body["expired_at"]) == ("keep me", False, "2100-01-01T00:00:00+00:00")
    body = call(emqx_server, "PUT", "/api_key/upd", token, json={"desc": "changed"}).json()
    assert (body["desc"], body["enable"], body["expired_at"]) == ("changed", False, "infinity")
    body = call(emqx_server, "PUT", "/api_key/upd", token, json={"enable": True, "expired_at": "infinity"}).json()
    assert (body["desc"], body["enable"], body["expired_at"]) == ("changed", True, "infinity")
    stored = emqx_server.broker.api_keys.get("upd")
    assert (stored.desc, stored.enable, stored.expired_at) == ("changed", True, None)


def test_update_api_key_enable_toggles_basic_auth(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    created = new_key(emqx_server, token, "toggle").json()
    assert basic_works(emqx_server, created["api_key"], created["api_secret"])
    assert call(emqx_server, "PUT", "/api_key/toggle", token, json={"enable": False}).json()["enable"] is False
    assert not basic_works(emqx_server, created["api_key"], created["api_secret"])
    assert call(emqx_server, "PUT", "/api_key/toggle", token, json={"enable": True}).json()["enable"] is True
    assert basic_works(emqx_server, created["api_key"], created["api_secret"])


def test_update_api_key_expiry_toggles_basic_auth(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    created = new_key(emqx_server, token, "expiring").json()
    body = call(emqx_server, "PUT", "/api_key/expiring", token, json={"expired_at": Y2020}).json()
    assert (body["expired_at"], body["expired"]) == ("2020-01-01T00:00:00+00:00", True)
    assert not basic_works(emqx_server, created["api_key"], created["api_secret"])
    body = call(emqx_server, "PUT", "/api_key/expiring", token, json={}).json()  # back to infinity
    assert (body["expired_at"], body["expired"]) == ("infinity", False)
    assert basic_works(emqx_server, created["api_key"], created["api_secret"])


def test_update_the_bootstrap_key(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    name = "from_bootstrap_file_" + sha512_16(emqx_server.api_key)
    response = call(emqx_server, "PUT", f"/api_key/{name}", token, json={"enable": False})
    assert response.status_code == 200
    assert response.json()["enable"] is False
    assert not basic_works(emqx_server, *emqx_server.auth)


@pytest.mark.parametrize(
    "body, unmatched",
    [({"name": "upd"}, "desc,enable,..."), ({"name": "other", "desc": "x"}, "enable,expired,...")],
)
def test_update_api_key_name_is_unknown_field(emqx_server: EmqxServer, body: dict[str, Any], unmatched: str) -> None:
    token = admin(emqx_server)
    new_key(emqx_server, token, "upd", desc="old")
    before = keys_state(emqx_server)
    response = call(emqx_server, "PUT", "/api_key/upd", token, json=body)
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root", reason="unknown_fields", unknown="name", unmatched=unmatched))
    assert keys_state(emqx_server) == before


def test_update_api_key_ce_has_no_role(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    new_key(emqx_server, token, "upd", desc="old")
    before = keys_state(emqx_server)
    response = call(emqx_server, "PUT", "/api_key/upd", token, json={"role": "viewer"})
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root", reason="unknown_fields", unknown="role", unmatched="desc,enable,..."))
    assert keys_state(emqx_server) == before


def test_update_api_key_bad_expired_at(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    new_key(emqx_server, token, "upd", desc="old", expired_at=Y2100)
    before = keys_state(emqx_server)
    response = call(emqx_server, "PUT", "/api_key/upd", token, json={"expired_at": "tomorrow"})
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"
    assert json.loads(response.json()["message"])["reason"] == "matched_no_union_member"
    assert keys_state(emqx_server) == before


def test_update_api_key_ee_role(ee: EmqxServer) -> None:
    token = admin(ee)
    new_key(ee, token, "roled", role="viewer")
    body = call(ee, "PUT", "/api_key/roled", token, json={"role": "publisher"}).json()
    assert body["role"] == "publisher"
    assert set(body) == CE_KEY_FIELDS | {"role"}
    # role absent: reset to administrator
    body = call(ee, "PUT", "/api_key/roled", token, json={"desc": "x"}).json()
    assert body["role"] == "administrator"
    assert ee.broker.api_keys.get("roled").role == "administrator"


def test_update_api_key_ee_bad_role(ee: EmqxServer) -> None:
    token = admin(ee)
    new_key(ee, token, "roled", role="viewer")
    before = keys_state(ee)
    response = call(ee, "PUT", "/api_key/roled", token, json={"role": "superhero"})
    assert_error(response, 400, "BAD_REQUEST", hocon(path="root.role", reason="Role does not exist", value="superhero"))
    assert keys_state(ee) == before


def test_delete_api_key(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    created = new_key(emqx_server, token, "gone").json()
    response = call(emqx_server, "DELETE", "/api_key/gone", token)
    assert response.status_code == 204
    assert response.content == b""
    assert call(emqx_server, "GET", "/api_key/gone", token).json() == NAME_NOT_FOUND
    assert "gone" not in keys_by_name(call(emqx_server, "GET", "/api_key", token))
    assert "gone" not in keys_state(emqx_server)
    assert not basic_works(emqx_server, created["api_key"], created["api_secret"])
    assert call(emqx_server, "DELETE", "/api_key/gone", token).json() == NAME_NOT_FOUND
    # the name can be used again; the api_key is the same, the secret is new
    again = new_key(emqx_server, token, "gone").json()
    assert again["api_key"] == created["api_key"]
    assert again["api_secret"] != created["api_secret"]
    assert not basic_works(emqx_server, created["api_key"], created["api_secret"])
    assert basic_works(emqx_server, again["api_key"], again["api_secret"])


# =========================================================================================
# Concurrency
# =========================================================================================


def _run_together(count: int, work) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_distinct_api_keys(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    responses = _run_together(20, lambda i: new_key(emqx_server, token, f"par{i}", desc=str(i)))
    assert [r.status_code for r in responses] == [200] * 20
    listed = keys_by_name(call(emqx_server, "GET", "/api_key", token))
    stored = keys_state(emqx_server)
    for i, response in enumerate(responses):
        assert listed[f"par{i}"]["desc"] == str(i)
        assert stored[f"par{i}"][1] == response.json()["api_secret"]
    assert len(listed) == 21


def test_concurrent_distinct_users(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    responses = _run_together(
        20, lambda i: call(emqx_server, "POST", "/users", token, json={"username": f"user{i}", "password": f"pass_{i}_word"})
    )
    assert [r.status_code for r in responses] == [200] * 20
    listed = users_by_name(call(emqx_server, "GET", "/users", token))
    assert set(listed) == {"admin"} | {f"user{i}" for i in range(20)}
    for i in range(20):
        assert can_login(emqx_server, f"user{i}", f"pass_{i}_word")


def test_concurrent_same_api_key_name(emqx_server: EmqxServer) -> None:
    token = admin(emqx_server)
    responses = _run_together(30, lambda i: new_key(emqx_server, token, "contested", desc=str(i)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1
    for response in responses:
        if response.status_code != 200:
            assert_error(response, 400, "BAD_REQUEST", "name_already_existed")
    winner = winners[0].json()
    stored = emqx_server.broker.api_keys.get("contested")
    assert (stored.desc, stored.api_secret) == (winner["desc"], winner["api_secret"])
    assert len([k for k in emqx_server.broker.api_keys if k.name == "contested"]) == 1
    assert basic_works(emqx_server, winner["api_key"], winner["api_secret"])
