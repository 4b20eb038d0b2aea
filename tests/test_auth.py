"""Authentication and authorization of the fake EMQX 5.8.9 management API: Basic API keys,
bearer tokens from /login, the endpoints that refuse API keys, EE roles, and the bootstrap
API-key file.

Truth: emqx5-api-surface.md section 3, corrected by the research notes endpoints.md
sections 6-8 (malformed headers are a bodiless 400, not a 401).
"""

from __future__ import annotations

import base64
import hashlib
import time
import warnings
from pathlib import Path
from typing import Iterator

import pytest
import requests

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.state.access import BootstrapFileWarning

CHALLENGE = 'Basic Realm="emqx-dashboard"'
HEADER_ERROR = '{"code":"AUTHORIZATION_HEADER_ERROR","message":"Support authorization: basic/bearer "}'
BAD_KEY = '{"code":"BAD_API_KEY_OR_SECRET","message":"Check api_key/api_secret"}'
BAD_TOKEN = '{"code":"BAD_TOKEN","message":"Get a token by POST /login"}'
TOKEN_TIME_OUT = '{"code":"TOKEN_TIME_OUT","message":"Token expired, get new token by POST /login"}'
API_KEY_ROLE_DENIED = '{"code":"UNAUTHORIZED_ROLE","message":"This API Key don\'t have permission to access this resource"}'
USER_ROLE_DENIED = '{"code":"UNAUTHORIZED_ROLE","message":"You don\'t have permission to access this resource"}'


def api_key_not_allow(resource: str) -> str:
    return (
        '{"code":"API_KEY_NOT_ALLOW","message":"Please use bearer Token instead, using API key/secret in '
        f'{resource} path is not permitted"}}'
    )


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_401(r: requests.Response, body: str, challenge: bool = True) -> None:
    assert r.status_code == 401
    assert r.text == body
    assert r.headers["content-type"] == "application/json"
    if challenge:
        assert r.headers["WWW-Authenticate"] == CHALLENGE
    else:
        assert "WWW-Authenticate" not in r.headers


@pytest.fixture
def api(emqx_server: EmqxServer) -> str:
    return emqx_server.api_url


# -- 401 for API keys (Basic) ------------------------------------------------------------------


def test_missing_authorization_header(emqx_server: EmqxServer, api: str) -> None:
    assert_401(requests.get(api + "/clients"), HEADER_ERROR)


def test_well_formed_digest_header_is_header_error(emqx_server: EmqxServer, api: str) -> None:
    r = requests.get(api + "/clients", headers={"Authorization": 'Digest username="admin", realm="emqx"'})
    assert_401(r, HEADER_ERROR)


def test_unknown_api_key(emqx_server: EmqxServer, api: str) -> None:
    assert_401(requests.get(api + "/clients", auth=("no-such-key", "whatever")), BAD_KEY)


def test_wrong_secret(emqx_server: EmqxServer, api: str) -> None:
    assert_401(requests.get(api + "/clients", auth=(emqx_server.api_key, "wrong-secret")), BAD_KEY)


def test_right_secret_of_another_key(emqx_server: EmqxServer, api: str) -> None:
    emqx_server.add_api_key("other", api_secret="other-secret")
    assert_401(requests.get(api + "/clients", auth=(emqx_server.api_key, "other-secret")), BAD_KEY)


def test_disabled_key(emqx_server: EmqxServer, api: str) -> None:
    key = emqx_server.add_api_key("disabled", api_secret="s3cret", enable=False)
    assert_401(requests.get(api + "/clients", auth=(key.api_key, "s3cret")), BAD_KEY)


def test_expired_key(emqx_server: EmqxServer, api: str) -> None:
    key = emqx_server.add_api_key("expired", api_secret="s3cret", expired_at=time.time() - 3600)
    assert_401(requests.get(api + "/clients", auth=(key.api_key, "s3cret")), BAD_KEY)


def test_unexpired_key_works(emqx_server: EmqxServer, api: str) -> None:
    key = emqx_server.add_api_key("later", api_secret="s3cret", expired_at=time.time() + 3600)
    r = requests.get(api + "/clients", auth=(key.api_key, "s3cret"))
    assert r.status_code == 200


def test_key_is_the_api_key_not_the_name(emqx_server: EmqxServer, api: str) -> None:
    key = emqx_server.add_api_key("named", api_secret="s3cret")
    assert key.api_key == hashlib.sha512(b"named").hexdigest()[:16]
    assert requests.get(api + "/clients", auth=(key.api_key, "s3cret")).status_code == 200
    assert_401(requests.get(api + "/clients", auth=("named", "s3cret")), BAD_KEY)


def test_disabling_a_key_via_api_locks_it_out(emqx_server: EmqxServer, api: str) -> None:
    key = emqx_server.add_api_key("togglable", api_secret="s3cret")
    assert requests.get(api + "/clients", auth=(key.api_key, "s3cret")).status_code == 200
    token = emqx_server.login()
    r = requests.put(api + "/api_key/togglable", json={"enable": False}, headers=bearer(token))
    assert r.status_code == 200
    assert_401(requests.get(api + "/clients", auth=(key.api_key, "s3cret")), BAD_KEY)


def test_dashboard_credentials_as_basic(emqx_server: EmqxServer, api: str) -> None:
    # dashboard users are not API keys
    assert_401(requests.get(api + "/clients", auth=("admin", "public")), BAD_KEY)


def test_secret_may_contain_colons(emqx_server: EmqxServer, api: str) -> None:
    key = emqx_server.add_api_key("colons", api_secret="a:b:c")
    assert requests.get(api + "/clients", auth=(key.api_key, "a:b:c")).status_code == 200


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "bAsIc"])
def test_basic_scheme_case_insensitive(emqx_server: EmqxServer, api: str, scheme: str) -> None:
    credentials = base64.b64encode(f"{emqx_server.api_key}:{emqx_server.api_secret}".encode()).decode()
    r = requests.get(api + "/clients", headers={"Authorization": f"{scheme} {credentials}"})
    assert r.status_code == 200


def test_basic_credentials_with_inner_whitespace(emqx_server: EmqxServer, api: str) -> None:
    # Erlang's base64:decode ignores white space
    emqx_server.add_api_key("ws", api_secret="bc")
    key = hashlib.sha512(b"ws").hexdigest()[:16]
    encoded = base64.b64encode(f"{key}:bc".encode()).decode()
    r = requests.get(api + "/clients", headers={"Authorization": f"Basic {encoded[:4]} {encoded[4:]}"})
    assert r.status_code == 200


def test_api_key_401_leaves_state_unchanged(emqx_server: EmqxServer, api: str) -> None:
    emqx_server.add_client("c1")
    r = requests.delete(api + "/clients/c1", auth=("no-such-key", "x"))
    assert r.status_code == 401
    assert "c1" in emqx_server.broker.sessions


# -- malformed Authorization headers: 400, no body ---------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64!!!",
        "Basic YTpiYw",  # padding missing
        "Basic " + base64.b64encode(b"nocolon").decode(),
        "Basic",
        "Bearer",
        "Bearer a b",
        "Token x",
        "ApiKey x",
        "Digest",
    ],
)
def test_malformed_authorization_header_400_empty(emqx_server: EmqxServer, api: str, header: str) -> None:
    emqx_server.add_client("c1")
    r = requests.delete(api + "/clients/c1", headers={"Authorization": header})
    assert r.status_code == 400
    assert r.content == b""
    assert "WWW-Authenticate" not in r.headers
    assert "c1" in emqx_server.broker.sessions


def test_malformed_header_ignored_on_public_login(emqx_server: EmqxServer, api: str) -> None:
    # POST /login has no security: the header is never parsed
    r = requests.post(api + "/login", json={"username": "admin", "password": "public"}, headers={"Authorization": "Token x"})
    assert r.status_code == 200


# -- endpoints that refuse API keys ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "resource"),
    [
        ("GET", "/api_key", None, "api_key"),
        ("POST", "/api_key", {"name": "viaKey", "desc": "", "enable": True}, "api_key"),
        ("GET", "/api_key/somekey", None, "api_key"),
        ("PUT", "/api_key/somekey", {"desc": "x"}, "api_key"),
        ("DELETE", "/api_key/somekey", None, "api_key"),
        ("GET", "/users", None, "users"),
        ("POST", "/users", {"username": "viakey", "password": "viakey123"}, "users"),
        ("PUT", "/users/admin", {"description": "x"}, "users"),
        ("DELETE", "/users/someone", None, "users"),
        ("POST", "/logout", {"username": "admin"}, "logout"),
    ],
)
def test_api_key_not_allowed(
    emqx_server: EmqxServer, api: str, method: str, path: str, body: dict | None, resource: str
) -> None:
    emqx_server.add_api_key("somekey")
    emqx_server.add_user("someone", "someone123")
    for credentials in (emqx_server.auth, ("no-such-key", "bad")):  # checked before the key is looked up
        r = requests.request(method, api + path, json=body, auth=credentials)
        assert_401(r, api_key_not_allow(resource))
    assert sorted(k.name for k in emqx_server.broker.api_keys) == sorted(["somekey", *_bootstrap_names(emqx_server)])
    assert sorted(u.username for u in emqx_server.broker.users) == ["admin", "someone"]
    assert emqx_server.broker.users.get("admin").description == "administrator"


def _bootstrap_names(server: EmqxServer) -> list[str]:
    return [k.name for k in server.broker.api_keys if k.name.startswith("from_bootstrap_file_")]


def test_api_key_allowed_on_change_pwd(emqx_server: EmqxServer, api: str) -> None:
    # v5.8.9 no longer blocks /users/{u}/change_pwd for API keys
    emqx_server.add_user("bob", "bobpass123")
    r = requests.post(
        api + "/users/bob/change_pwd", json={"old_pwd": "bobpass123", "new_pwd": "bobpass456"}, auth=emqx_server.auth
    )
    assert r.status_code == 204
    assert r.content == b""
    assert emqx_server.broker.users.login("bob", "bobpass456") is not None


def test_change_pwd_with_bad_api_key_is_bad_key_not_blocked(emqx_server: EmqxServer, api: str) -> None:
    r = requests.post(api + "/users/admin/change_pwd", json={"old_pwd": "public", "new_pwd": "newpass123"}, auth=("x", "y"))
    assert_401(r, BAD_KEY)


# -- bearer tokens -----------------------------------------------------------------------------


def test_login_then_use_token(emqx_server: EmqxServer, api: str) -> None:
    r = requests.post(api + "/login", json={"username": "admin", "password": "public"})
    assert r.status_code == 200
    body = r.json()
    assert sorted(body) == ["license", "token", "version"]  # CE: no role
    assert body["license"] == {"edition": "ce"}
    assert body["version"] == "5.8.9"
    token = body["token"]
    r = requests.get(api + "/clients", headers=bearer(token))
    assert r.status_code == 200
    r = requests.get(api + "/api_key", headers=bearer(token))  # bearer-only endpoints accept it
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"


def test_login_wrong_password(emqx_server: EmqxServer, api: str) -> None:
    for credentials in ({"username": "admin", "password": "wrong"}, {"username": "nobody", "password": "public"}):
        r = requests.post(api + "/login", json=credentials)
        assert r.status_code == 401
        assert r.text == '{"code":"BAD_USERNAME_OR_PWD","message":"Auth failed"}'


def test_login_helper_token_works(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    assert requests.get(api + "/users", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaRer"])
def test_bearer_scheme_case_insensitive(emqx_server: EmqxServer, api: str, scheme: str) -> None:
    token = emqx_server.login()
    assert requests.get(api + "/clients", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


def test_bad_token(emqx_server: EmqxServer, api: str) -> None:
    assert_401(requests.get(api + "/clients", headers=bearer("nosuchtoken")), BAD_TOKEN, challenge=False)


def test_altered_token_not_in_table_is_bad_token(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA" if not signature.endswith("AA") else f"{header}.{payload}.{signature[:-2]}BB"
    assert_401(requests.get(api + "/clients", headers=bearer(forged)), BAD_TOKEN, challenge=False)


def test_token_time_out(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    emqx_server.broker.tokens.lookup(token).expires_at = time.time() - 1
    assert_401(requests.get(api + "/clients", headers=bearer(token)), TOKEN_TIME_OUT, challenge=False)


def test_expired_token_does_not_slide_back(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    row = emqx_server.broker.tokens.lookup(token)
    row.expires_at = past = time.time() - 1
    requests.get(api + "/clients", headers=bearer(token))
    assert row.expires_at == past
    assert_401(requests.get(api + "/clients", headers=bearer(token)), TOKEN_TIME_OUT, challenge=False)


def test_sliding_expiry(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    row = emqx_server.broker.tokens.lookup(token)
    row.expires_at = time.time() + 5
    r = requests.get(api + "/clients", headers=bearer(token))
    assert r.status_code == 200
    assert row.expires_at > time.time() + 30 * 60  # re-stamped to now + 60 min


def test_logout_revokes_token(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    other = emqx_server.login()
    r = requests.post(api + "/logout", json={"username": "admin"}, headers=bearer(token))
    assert r.status_code == 204
    assert r.content == b""
    assert_401(requests.get(api + "/clients", headers=bearer(token)), BAD_TOKEN, challenge=False)
    assert requests.get(api + "/clients", headers=bearer(other)).status_code == 200  # only that token


def test_logout_with_wrong_username_keeps_token(emqx_server: EmqxServer, api: str) -> None:
    emqx_server.add_user("bob", "bobpass123")
    token = emqx_server.login()
    r = requests.post(api + "/logout", json={"username": "bob"}, headers=bearer(token))
    assert r.status_code == 401
    assert r.text == '{"code":"WRONG_TOKEN_OR_USERNAME","message":"Ensure your token & username"}'
    assert requests.get(api + "/clients", headers=bearer(token)).status_code == 200


def test_password_change_revokes_tokens(emqx_server: EmqxServer, api: str) -> None:
    emqx_server.add_user("bob", "bobpass123")
    bob = emqx_server.login("bob", "bobpass123")
    admin = emqx_server.login()
    r = requests.post(
        api + "/users/bob/change_pwd", json={"old_pwd": "bobpass123", "new_pwd": "bobpass456"}, headers=bearer(admin)
    )
    assert r.status_code == 204
    assert_401(requests.get(api + "/clients", headers=bearer(bob)), BAD_TOKEN, challenge=False)
    assert requests.get(api + "/clients", headers=bearer(admin)).status_code == 200
    r = requests.post(api + "/login", json={"username": "bob", "password": "bobpass456"})
    assert r.status_code == 200


def test_own_password_change_revokes_own_token(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.post(
        api + "/users/admin/change_pwd", json={"old_pwd": "public", "new_pwd": "public123"}, headers=bearer(token)
    )
    assert r.status_code == 204
    assert_401(requests.get(api + "/clients", headers=bearer(token)), BAD_TOKEN, challenge=False)


def test_failed_password_change_keeps_tokens(emqx_server: EmqxServer, api: str) -> None:
    emqx_server.add_user("bob", "bobpass123")
    bob = emqx_server.login("bob", "bobpass123")
    r = requests.post(
        api + "/users/bob/change_pwd", json={"old_pwd": "wrongpass1", "new_pwd": "bobpass456"}, headers=bearer(bob)
    )
    assert r.status_code == 400
    assert r.text == '{"code":"ERROR_PWD_NOT_MATCH","message":"Old password not match"}'
    assert requests.get(api + "/clients", headers=bearer(bob)).status_code == 200


def test_user_deletion_revokes_tokens(emqx_server: EmqxServer, api: str) -> None:
    emqx_server.add_user("bob", "bobpass123")
    bob = emqx_server.login("bob", "bobpass123")
    admin = emqx_server.login()
    r = requests.delete(api + "/users/bob", headers=bearer(admin))
    assert r.status_code == 204
    assert_401(requests.get(api + "/clients", headers=bearer(bob)), BAD_TOKEN, challenge=False)
    assert "bob" not in emqx_server.broker.users


# -- CE has no roles ---------------------------------------------------------------------------


def test_ce_rejects_role_on_create_user(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.post(
        api + "/users", json={"username": "u1", "password": "pass1234x", "role": "viewer"}, headers=bearer(token)
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": "BAD_REQUEST",
        "message": '{"unmatched":"description","unknown":"role","reason":"unknown_fields","path":"root","kind":"validation_error"}',
    }
    assert "u1" not in emqx_server.broker.users


def test_ce_rejects_role_on_create_api_key(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.post(
        api + "/api_key", json={"name": "k1", "desc": "d", "enable": True, "role": "viewer"}, headers=bearer(token)
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": "BAD_REQUEST",
        "message": '{"unmatched":"expired,expired_at","unknown":"role","reason":"unknown_fields","path":"root","kind":"validation_error"}',
    }
    assert "k1" not in [k.name for k in emqx_server.broker.api_keys]


def test_ce_rejects_role_on_update_user(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.put(api + "/users/admin", json={"description": "x", "role": "viewer"}, headers=bearer(token))
    assert r.status_code == 400
    assert r.json() == {
        "code": "BAD_REQUEST",
        "message": '{"unmatched":"none","unknown":"role","reason":"unknown_fields","path":"root","kind":"validation_error"}',
    }
    assert emqx_server.broker.users.get("admin").description == "administrator"


def test_ce_users_have_no_role_field(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.get(api + "/users", headers=bearer(token))
    assert r.json() == [{"description": "administrator", "username": "admin"}]
    r = requests.get(api + "/api_key", headers=bearer(token))
    assert all("role" not in key for key in r.json())


# -- EE roles ----------------------------------------------------------------------------------


@pytest.fixture
def ee(ee: EmqxServer) -> EmqxServer:
    ee.add_client("c1")
    return ee


def test_ee_login_response_has_role_and_edition(ee: EmqxServer) -> None:
    ee.add_user("viewer1", "viewpass1", role="viewer")
    for username, password, role in (("admin", "public", "administrator"), ("viewer1", "viewpass1", "viewer")):
        r = requests.post(ee.api_url + "/login", json={"username": username, "password": password})
        assert r.status_code == 200
        body = r.json()
        assert sorted(body) == ["license", "role", "token", "version"]
        assert body["role"] == role
        assert body["license"] == {"edition": "ee"}
        assert body["version"] == "5.8.9"


def test_ee_administrator_api_key_may_do_everything(ee: EmqxServer) -> None:
    r = requests.get(ee.api_url + "/clients", auth=ee.auth)
    assert r.status_code == 200
    r = requests.post(ee.api_url + "/clients/c1/subscribe", json={"topic": "t"}, auth=ee.auth)
    assert r.status_code == 200
    r = requests.delete(ee.api_url + "/clients/c1", auth=ee.auth)
    assert r.status_code == 204


def test_ee_viewer_api_key_gets_only(ee: EmqxServer) -> None:
    key = ee.add_api_key("viewerkey", role="viewer", api_secret="vsecret")
    auth = (key.api_key, "vsecret")
    assert requests.get(ee.api_url + "/clients", auth=auth).status_code == 200
    assert requests.get(ee.api_url + "/clients/c1", auth=auth).status_code == 200
    assert requests.get(ee.api_url + "/clients/c1/subscriptions", auth=auth).status_code == 200
    for method, path, body in (
        ("DELETE", "/clients/c1", None),
        ("POST", "/clients/c1/subscribe", {"topic": "t"}),
        ("POST", "/clients/c1/subscribe", {"qos": 9}),  # the role check comes before the body check
        ("POST", "/clients/kickout/bulk", ["c1"]),
        ("PUT", "/clients/c1/keepalive", {"interval": 5}),
    ):
        r = requests.request(method, ee.api_url + path, json=body, auth=auth)
        assert r.status_code == 403, (method, path)
        assert r.text == API_KEY_ROLE_DENIED
        assert "WWW-Authenticate" not in r.headers
    session = ee.client("c1")
    assert session.subscriptions == {}
    assert "c1" in ee.broker.sessions


def test_ee_viewer_api_key_still_blocked_from_api_key_paths(ee: EmqxServer) -> None:
    key = ee.add_api_key("viewerkey", role="viewer", api_secret="vsecret")
    r = requests.get(ee.api_url + "/api_key", auth=(key.api_key, "vsecret"))
    assert_401(r, api_key_not_allow("api_key"))


def test_ee_publisher_api_key_denied_get(ee: EmqxServer) -> None:
    key = ee.add_api_key("pubkey", role="publisher", api_secret="psecret")
    auth = (key.api_key, "psecret")
    for method, path, body in (
        ("GET", "/clients", None),
        ("GET", "/clients/c1", None),
        ("POST", "/clients/kickout/bulk", ["c1"]),
    ):
        r = requests.request(method, ee.api_url + path, json=body, auth=auth)
        assert r.status_code == 403, (method, path)
        assert r.text == API_KEY_ROLE_DENIED
    assert "c1" in ee.broker.sessions


def test_ee_bad_key_is_401_before_role(ee: EmqxServer) -> None:
    key = ee.add_api_key("viewerkey", role="viewer", api_secret="vsecret")
    assert_401(requests.delete(ee.api_url + "/clients/c1", auth=(key.api_key, "wrong")), BAD_KEY)


def test_ee_api_key_created_with_role_via_api(ee: EmqxServer) -> None:
    token = ee.login()
    r = requests.post(
        ee.api_url + "/api_key",
        json={"name": "apiViewer", "desc": "", "enable": True, "role": "viewer"},
        headers=bearer(token),
    )
    assert r.status_code == 200
    body = r.json()
    assert body["role"] == "viewer"
    auth = (body["api_key"], body["api_secret"])
    assert requests.get(ee.api_url + "/clients", auth=auth).status_code == 200
    r = requests.delete(ee.api_url + "/clients/c1", auth=auth)
    assert r.status_code == 403
    assert r.text == API_KEY_ROLE_DENIED


def test_ee_viewer_user_may_get(ee: EmqxServer) -> None:
    ee.add_user("viewer1", "viewpass1", role="viewer")
    token = ee.login("viewer1", "viewpass1")
    for path in ("/clients", "/clients/c1", "/users", "/api_key"):
        r = requests.get(ee.api_url + path, headers=bearer(token))
        assert r.status_code == 200, path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/clients/c1", None),
        ("POST", "/clients/c1/subscribe", {"topic": "t"}),
        ("POST", "/clients/kickout/bulk", ["c1"]),
        ("POST", "/users", {"username": "newbie", "password": "newbie123"}),
        ("PUT", "/users/viewer1", {"description": "promoted", "role": "administrator"}),
        ("DELETE", "/users/other1", None),
        ("POST", "/users/other1/change_pwd", {"old_pwd": "otherpass1", "new_pwd": "otherpass2"}),
        ("POST", "/api_key", {"name": "sneaky", "desc": "", "enable": True}),
    ],
)
def test_ee_viewer_user_denied_writes(ee: EmqxServer, method: str, path: str, body: dict | None) -> None:
    ee.add_user("viewer1", "viewpass1", role="viewer")
    ee.add_user("other1", "otherpass1")
    token = ee.login("viewer1", "viewpass1")
    r = requests.request(method, ee.api_url + path, json=body, headers=bearer(token))
    assert r.status_code == 403
    assert r.text == USER_ROLE_DENIED
    assert "WWW-Authenticate" not in r.headers
    assert "c1" in ee.broker.sessions
    assert ee.client("c1").subscriptions == {}
    assert sorted(u.username for u in ee.broker.users) == ["admin", "other1", "viewer1"]
    assert ee.broker.users.get("viewer1").role == "viewer"
    assert ee.broker.users.login("other1", "otherpass1") is not None


def test_ee_viewer_user_may_change_own_password(ee: EmqxServer) -> None:
    ee.add_user("viewer1", "viewpass1", role="viewer")
    token = ee.login("viewer1", "viewpass1")
    r = requests.post(
        ee.api_url + "/users/viewer1/change_pwd", json={"old_pwd": "viewpass1", "new_pwd": "viewpass2"}, headers=bearer(token)
    )
    assert r.status_code == 204
    assert ee.broker.users.login("viewer1", "viewpass2") is not None


def test_ee_viewer_user_may_logout(ee: EmqxServer) -> None:
    ee.add_user("viewer1", "viewpass1", role="viewer")
    token = ee.login("viewer1", "viewpass1")
    r = requests.post(ee.api_url + "/logout", json={"username": "viewer1"}, headers=bearer(token))
    assert r.status_code == 204
    assert_401(requests.get(ee.api_url + "/clients", headers=bearer(token)), BAD_TOKEN, challenge=False)


def test_ee_administrator_user_may_write(ee: EmqxServer) -> None:
    token = ee.login()
    r = requests.post(
        ee.api_url + "/users", json={"username": "newbie", "password": "newbie123", "role": "viewer"}, headers=bearer(token)
    )
    assert r.status_code == 200
    assert r.json() == {"username": "newbie", "description": "", "role": "viewer", "backend": "local"}
    assert requests.delete(ee.api_url + "/clients/c1", headers=bearer(token)).status_code == 204


def test_ee_role_change_revokes_tokens(ee: EmqxServer) -> None:
    ee.add_user("viewer1", "viewpass1", role="viewer")
    viewer = ee.login("viewer1", "viewpass1")
    admin = ee.login()
    r = requests.put(
        ee.api_url + "/users/viewer1", json={"description": "promoted", "role": "administrator"}, headers=bearer(admin)
    )
    assert r.status_code == 200
    assert r.json()["role"] == "administrator"
    assert_401(requests.get(ee.api_url + "/clients", headers=bearer(viewer)), BAD_TOKEN, challenge=False)
    new = ee.login("viewer1", "viewpass1")
    assert requests.delete(ee.api_url + "/clients/c1", headers=bearer(new)).status_code == 204


# -- the bootstrap API-key file ----------------------------------------------------------------


def bootstrap_name(api_key: str) -> str:
    return "from_bootstrap_file_" + hashlib.sha512(api_key.encode()).hexdigest()[:16]


@pytest.fixture
def boot(tmp_path: Path) -> Iterator:
    """Start a server on a bootstrap file with the given text; stopped afterwards."""
    started: list[EmqxServer] = []

    def start(text: str, edition: str = "ce", **options) -> EmqxServer:
        path = tmp_path / f"bootstrap-{len(started)}.txt"
        path.write_bytes(text.encode())
        server = EmqxServer(edition=edition, bootstrap_api_keys=path, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.check_errors()


def works(server: EmqxServer, key: str, secret: str) -> bool:
    r = requests.get(server.api_url + "/clients", auth=(key, secret))
    assert r.status_code in (200, 401), r.text
    if r.status_code == 401:
        assert r.text == BAD_KEY
    return r.status_code == 200


def listed_keys(server: EmqxServer) -> dict[str, dict]:
    token = server.login()
    r = requests.get(server.api_url + "/api_key", headers=bearer(token))
    assert r.status_code == 200
    return {key["name"]: key for key in r.json()}


def test_bootstrap_name_example() -> None:
    assert bootstrap_name("example-api-key") == "from_bootstrap_file_53280fb165b6cd37"


def test_bootstrap_key_listed_and_usable(boot) -> None:
    server = boot("example-api-key:example-secret\n", admin_api_key=None)
    keys = listed_keys(server)
    assert list(keys) == ["from_bootstrap_file_53280fb165b6cd37"]
    key = keys["from_bootstrap_file_53280fb165b6cd37"]
    assert key["api_key"] == "example-api-key"
    assert key["desc"] == "Bootstrapped From File"
    assert key["enable"] is True
    assert key["expired_at"] == "infinity"
    assert key["expired"] is False
    assert "api_secret" not in key
    assert works(server, "example-api-key", "example-secret")
    assert not works(server, "example-api-key", "wrong")


def test_bootstrap_keys_survive_reset(boot) -> None:
    server = boot("k1:s1\n")
    server.reset()
    assert works(server, "k1", "s1")


def test_bootstrap_duplicate_key_last_secret_wins(boot) -> None:
    server = boot("dup:first\nother:o\ndup:second\n")
    assert works(server, "dup", "second")
    assert not works(server, "dup", "first")
    assert works(server, "other", "o")
    keys = listed_keys(server)
    assert [k["api_key"] for k in keys.values()].count("dup") == 1
    assert keys[bootstrap_name("dup")]["api_key"] == "dup"


def test_bootstrap_blank_lines_and_whitespace_skipped(boot) -> None:
    server = boot("\n   \nk1:s1\n\n\t\r\n  k2:s2  \r\nk3:s3\r\n\n")
    assert works(server, "k1", "s1")
    assert works(server, "k2", "s2")
    assert works(server, "k3", "s3")


@pytest.mark.parametrize("bad_line", ["nocolon", "# a comment", "k:", ":s"])
def test_bootstrap_malformed_line_stops_loading(boot, bad_line: str) -> None:
    with pytest.warns(BootstrapFileWarning, match=r", line 3: invalid_format "):
        server = boot(f"k1:s1\nk2:s2\n{bad_line}\nk3:s3\n")
    assert works(server, "k1", "s1")
    assert works(server, "k2", "s2")
    assert not works(server, "k3", "s3")
    assert bootstrap_name("k3") not in listed_keys(server)
    assert works(server, *server.auth)  # the ready administrator key is still there


def test_bootstrap_ungreedy_line_pattern(boot) -> None:
    server = boot("a::s\nb:s:\nc :s\nd:s:administrator\n")
    assert works(server, "a", ":s")  # k::s -> secret ":s"
    assert works(server, "b", "s:")  # k:s: -> secret "s:"
    assert works(server, "c ", "s")  # inner spaces are kept
    assert not works(server, "c", "s")
    assert works(server, "d", "s")


def test_bootstrap_four_fields_is_a_bad_role(boot) -> None:
    with pytest.warns(BootstrapFileWarning, match=r", line 2: invalid_role 'c:d' "):
        server = boot("k1:s1\na:b:c:d\nk2:s2\n")  # role "c:d"
    assert works(server, "k1", "s1")
    assert not works(server, "a", "b")
    assert not works(server, "a", "b:c:d")
    assert not works(server, "k2", "s2")


@pytest.mark.parametrize("role", ["viewer", "publisher", "superuser"])
def test_bootstrap_ce_accepts_only_administrator(boot, role: str) -> None:
    with pytest.warns(BootstrapFileWarning, match=rf", line 2: invalid_role '{role}' "):
        server = boot(f"k1:s1:administrator\nk2:s2:{role}\nk3:s3\n")
    assert works(server, "k1", "s1")
    assert not works(server, "k2", "s2")
    assert not works(server, "k3", "s3")


def test_bootstrap_ee_roles(boot) -> None:
    with pytest.warns(BootstrapFileWarning, match=r", line 4: invalid_role 'superuser' "):
        server = boot("v:vs:viewer\np:ps:publisher\na:as:administrator\nbad:bs:superuser\nlate:ls\n", edition="ee")
    api = server.api_url
    server.add_client("c1")
    assert requests.get(api + "/clients", auth=("v", "vs")).status_code == 200
    r = requests.delete(api + "/clients/c1", auth=("v", "vs"))
    assert r.status_code == 403
    assert r.text == API_KEY_ROLE_DENIED
    r = requests.get(api + "/clients", auth=("p", "ps"))
    assert r.status_code == 403
    assert r.text == API_KEY_ROLE_DENIED
    assert requests.get(api + "/clients", auth=("a", "as")).status_code == 200
    assert not works(server, "bad", "bs")
    assert not works(server, "late", "ls")
    roles = {k["api_key"]: k["role"] for k in listed_keys(server).values()}
    assert roles["v"] == "viewer" and roles["p"] == "publisher" and roles["a"] == "administrator"


def test_bootstrap_problem_warns_with_file_line_and_reason(tmp_path: Path) -> None:
    """What EMQX logs as `failed_to_load_bootstrap_file` (it starts all the same): one warning
    naming the file, the line (blank lines counted) and the reason; the keys before it load."""
    path = tmp_path / "keys.txt"
    path.write_text("k1:s1\n\nviewer-key:vs:viewer\nk2:s2\n")
    with pytest.warns(BootstrapFileWarning) as caught:
        server = EmqxServer(bootstrap_api_keys=path, admin_api_key=None)  # ce: administrators only
    assert [str(warning.message) for warning in caught] == [
        f"{path}, line 3: invalid_role 'viewer' (this edition's roles: administrator): "
        "EMQX logs failed_to_load_bootstrap_file and loads no key from this line on"
    ]
    assert [key.api_key for key in server.broker.api_keys] == ["k1"]


def test_a_good_bootstrap_file_warns_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("k1:s1\r\n\nv:vs:viewer\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        server = EmqxServer(edition="ee", bootstrap_api_keys=path, admin_api_key=None)
    assert [(key.api_key, key.role) for key in server.broker.api_keys] == [("k1", "administrator"), ("v", "viewer")]


def test_bootstrap_key_blocked_on_api_key_paths(boot) -> None:
    server = boot("k1:s1\n")
    r = requests.get(server.api_url + "/api_key", auth=("k1", "s1"))
    assert_401(r, api_key_not_allow("api_key"))
