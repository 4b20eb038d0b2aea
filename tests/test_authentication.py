"""The authentication chain (`emqx_authn_api`, `emqx_authn_user_import_api`, surface §6.10) of
the fake EMQX 5.8.9, and its effect on clients connecting from Python.

Bodies, error texts and check order are those /tmp research read from EMQX v5.8.9's code
(`emqx_authn_api`, `emqx_authn_chains`, `emqx_authn_mnesia`, `emqx_authn_password_hashing`,
`emqx_passwd`), hocon's messages as produced by the pinned hocon 0.44.0.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from typing import Any

import pytest
import requests
from api import delete, error, get, post, put

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.scripting import scenario
from pytest_emqx_mock.state.authn import NotAuthorized, check_password, hash_password

ID = "password_based:built_in_database"
BUILTIN = {"mechanism": "password_based", "backend": "built_in_database", "password_hash_algorithm": {"name": "sha256"}}
RENDERED = {
    "id": ID,
    "backend": "built_in_database",
    "bootstrap_file": "${EMQX_ETC_DIR}/auth-built-in-db-bootstrap.csv",
    "bootstrap_type": "plain",
    "enable": True,
    "mechanism": "password_based",
    "password_hash_algorithm": {"name": "sha256", "salt_position": "prefix"},
    "user_id_type": "username",
}
NO_CHAIN = {"code": "NOT_FOUND", "message": "Authenticator not found in the 'global' scope"}
USERS = f"/authentication/{ID}/users"


def _schema_error(response: requests.Response, detail: Any) -> None:
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"
    assert json.loads(response.json()["message"]) == detail


def _chain(server: EmqxServer) -> list[dict[str, Any]]:
    return get(server, "/authentication").json()


def _with_users(server: EmqxServer, *users: tuple[str, str, bool]) -> None:
    assert post(server, "/authentication", BUILTIN).status_code == 200
    for user_id, password, is_superuser in users:
        body = {"user_id": user_id, "password": password, "is_superuser": is_superuser}
        assert post(server, USERS, body).status_code == 201


# -- authenticators ---------------------------------------------------------------------------


def test_the_chain_starts_empty_and_everyone_connects(emqx_server: EmqxServer) -> None:
    assert _chain(emqx_server) == []
    session = emqx_server.connect("c1", username="anyone", password="anything")
    assert session.is_superuser is False
    metrics = get(emqx_server, "/metrics").json()[0]
    counted = ("client.authenticate", "client.auth.anonymous", "authentication.success", "authentication.success.anonymous")
    assert [metrics[name] for name in counted] == [1, 1, 1, 1]
    assert metrics["authentication.failure"] == 0


def test_create_renders_the_config_with_defaults_and_id_first(emqx_server: EmqxServer) -> None:
    body = {**BUILTIN, "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}
    response = post(emqx_server, "/authentication", body)
    expected = {**RENDERED, "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}
    assert response.status_code == 200
    assert response.json() == expected
    assert response.text.startswith('{"id":"password_based:built_in_database","backend"')
    assert _chain(emqx_server) == [expected]
    assert get(emqx_server, f"/authentication/{ID}").json() == expected


@pytest.mark.parametrize(
    ("algorithm", "rendered"),
    [
        ({"name": "bcrypt"}, {"name": "bcrypt", "salt_rounds": 10}),
        ({"name": "pbkdf2", "mac_fun": "sha256", "iterations": 1000}, {"iterations": 1000, "mac_fun": "sha256", "name": "pbkdf2"}),
        ({"name": "pbkdf2", "mac_fun": "sha", "iterations": 2, "dk_length": 8}, {"dk_length": 8, "iterations": 2, "mac_fun": "sha", "name": "pbkdf2"}),
        ({"name": "sha512"}, {"name": "sha512", "salt_position": "prefix"}),
    ],
)
def test_each_hash_algorithm_renders_its_defaults(emqx_server: EmqxServer, algorithm: Any, rendered: Any) -> None:
    response = post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": algorithm})
    assert response.json()["password_hash_algorithm"] == rendered


BUILTIN_UNMATCHED = "bootstrap_file,bootstrap_type,..."


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, {"reason": "missing_mechanism_field", "path": "root", "kind": "validation_error"}),
        (
            {"mechanism": "password_based"},
            {"reason": "unsupported_mechanism", "path": "root", "mechanism": "password_based", "kind": "validation_error"},
        ),
        (
            {"mechanism": "password_based", "backend": "foo"},
            {"reason": "unsupported_mechanism", "path": "root", "mechanism": "password_based", "kind": "validation_error", "backend": "foo"},
        ),
        (
            {"mechanism": "password_based", "backend": "built_in_database"},
            {
                "reason": "required_field",
                "path": "root.password_hash_algorithm.name",
                "matched_type": "authn:builtin_db_api/authn_hash:bcrypt_rw_api",
                "kind": "validation_error",
            },
        ),
        (
            {**BUILTIN, "foo": 1},
            {
                "unmatched": BUILTIN_UNMATCHED,
                "unknown": "foo",
                "reason": "unknown_fields",
                "path": "root",
                "matched_type": "authn:builtin_db_api",
                "kind": "validation_error",
            },
        ),
        (
            {**BUILTIN, "password_hash_algorithm": {}},
            {"reason": "algorithm_name_missing", "path": "root.password_hash_algorithm", "matched_type": "authn:builtin_db_api", "kind": "validation_error"},
        ),
        (
            {**BUILTIN, "password_hash_algorithm": {"name": "xx"}},
            {
                "value": "xx",
                "reason": "unable_to_convert_to_enum_symbol",
                "path": "root.password_hash_algorithm.name",
                "matched_type": "authn:builtin_db_api/authn_hash:simple",
                "kind": "validation_error",
            },
        ),
        (
            {**BUILTIN, "password_hash_algorithm": {"name": "bcrypt", "salt_rounds": 11}},
            {
                "value": 11,
                "reason": {"expected": "5..10"},
                "path": "root.password_hash_algorithm.salt_rounds",
                "matched_type": "authn:builtin_db_api/authn_hash:bcrypt_rw_api",
                "kind": "validation_error",
            },
        ),
        (
            {**BUILTIN, "password_hash_algorithm": {"name": "pbkdf2"}},
            {
                "path": "root.password_hash_algorithm",
                "matched_type": "authn:builtin_db_api/authn_hash:pbkdf2",
                "kind": "validation_error",
                "errors": [
                    {"reason": "required_field", "path": "root.password_hash_algorithm.mac_fun", "kind": "validation_error"},
                    {"reason": "required_field", "path": "root.password_hash_algorithm.iterations", "kind": "validation_error"},
                ],
            },
        ),
    ],
)
def test_create_refuses_bad_configs_as_hocon_does(emqx_server: EmqxServer, body: Any, detail: Any) -> None:
    _schema_error(post(emqx_server, "/authentication", body), detail)
    assert _chain(emqx_server) == []


def test_errors_from_several_fields_are_nested_as_hocon_nests_them(emqx_server: EmqxServer) -> None:
    no_algorithm = {"mechanism": "password_based", "backend": "built_in_database", "enable": "x", "user_id_type": "xx"}
    _schema_error(
        post(emqx_server, "/authentication", no_algorithm),
        {
            "path": "root",
            "matched_type": "authn:builtin_db_api",
            "kind": "validation_error",
            "errors": [
                {"reason": "required_field", "path": "root.password_hash_algorithm.name", "matched_type": "authn_hash:bcrypt_rw_api", "kind": "validation_error"},
                {"value": "xx", "reason": "unable_to_convert_to_enum_symbol", "path": "root.user_id_type", "kind": "validation_error"},
                {"value": "x", "reason": "Unable to parse boolean value", "path": "root.enable", "kind": "validation_error"},
            ],
        },
    )
    pbkdf2 = {**BUILTIN, "password_hash_algorithm": {"name": "pbkdf2"}, "enable": "x"}
    _schema_error(
        post(emqx_server, "/authentication", pbkdf2),
        {
            "path": "root",
            "matched_type": "authn:builtin_db_api",
            "kind": "validation_error",
            "errors": [
                {
                    "path": "root.password_hash_algorithm",
                    "matched_type": "authn_hash:pbkdf2",
                    "kind": "validation_error",
                    "errors": [
                        {"reason": "required_field", "path": "root.password_hash_algorithm.mac_fun", "kind": "validation_error"},
                        {"reason": "required_field", "path": "root.password_hash_algorithm.iterations", "kind": "validation_error"},
                    ],
                },
                {"value": "x", "reason": "Unable to parse boolean value", "path": "root.enable", "kind": "validation_error"},
            ],
        },
    )
    _schema_error(
        post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": "x"}),
        {"reason": "algorithm_name_missing", "path": "root.password_hash_algorithm", "matched_type": "authn:builtin_db_api", "kind": "validation_error"},
    )
    _schema_error(
        post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": {"name": "sha256", "foo": 1}}),
        {
            "unmatched": "salt_position",
            "unknown": "foo",
            "reason": "unknown_fields",
            "path": "root.password_hash_algorithm",
            "matched_type": "authn:builtin_db_api/authn_hash:simple",
            "kind": "validation_error",
        },
    )
    assert _chain(emqx_server) == []


def test_a_round_tripped_get_body_is_refused_for_its_id(emqx_server: EmqxServer) -> None:
    rendered = post(emqx_server, "/authentication", BUILTIN).json()
    response = put(emqx_server, f"/authentication/{ID}", rendered)
    assert json.loads(response.json()["message"])["unknown"] == "id"
    assert _chain(emqx_server) == [RENDERED]


def test_create_twice_is_409(emqx_server: EmqxServer) -> None:
    post(emqx_server, "/authentication", BUILTIN)
    response = post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": {"name": "md5"}})
    error(response, 409, "ALREADY_EXISTS", f"Authenticator '{ID}' already exist")
    assert _chain(emqx_server) == [RENDERED]


def test_unknown_authenticator_is_404(emqx_server: EmqxServer) -> None:
    for response in (get(emqx_server, "/authentication/jwt"), get(emqx_server, "/authentication/jwt/status")):
        error(response, 404, "NOT_FOUND", "Authenticator 'jwt' does not exist")
    error(put(emqx_server, "/authentication/jwt", BUILTIN), 404, "NOT_FOUND", "Authenticator 'jwt' does not exist")


def test_update_replaces_the_whole_config_and_keeps_users(emqx_server: EmqxServer) -> None:
    _with_users(emqx_server, ("u1", "p1", False))
    body = {**BUILTIN, "user_id_type": "clientid", "password_hash_algorithm": {"name": "plain"}, "enable": False}
    assert put(emqx_server, f"/authentication/{ID}", body).status_code == 204
    expected = {**RENDERED, "user_id_type": "clientid", "enable": False, "password_hash_algorithm": {"name": "plain", "salt_position": "prefix"}}
    assert _chain(emqx_server) == [expected]
    assert put(emqx_server, f"/authentication/{ID}", BUILTIN).status_code == 204
    assert _chain(emqx_server) == [RENDERED]  # omitted fields went back to their defaults
    assert get(emqx_server, USERS).json()["data"] == [{"is_superuser": False, "user_id": "u1"}]


def test_update_to_another_type_is_refused(emqx_server: EmqxServer) -> None:
    post(emqx_server, "/authentication", BUILTIN)
    # only built_in_database is served, so the change is tried on the model itself
    with emqx_server.broker.lock, pytest.raises(ValueError, match="Change of authentication type is not allowed"):
        emqx_server.broker.authn.update(ID, {**RENDERED, "backend": "mysql"})
    assert _chain(emqx_server) == [RENDERED]


def test_delete_drops_users_and_metrics_and_the_chain(emqx_server: EmqxServer) -> None:
    error(delete(emqx_server, f"/authentication/{ID}"), 404, "NOT_FOUND", NO_CHAIN["message"])
    _with_users(emqx_server, ("u1", "p1", False))
    emqx_server.connect("c1", username="u1", password="p1")
    assert delete(emqx_server, "/authentication/jwt").status_code == 204  # idempotent while a chain exists
    assert delete(emqx_server, f"/authentication/{ID}").status_code == 204
    assert _chain(emqx_server) == []
    error(get(emqx_server, USERS), 404, "NOT_FOUND", NO_CHAIN["message"])
    post(emqx_server, "/authentication", BUILTIN)
    assert get(emqx_server, USERS).json()["meta"]["count"] == 0
    assert get(emqx_server, f"/authentication/{ID}/status").json()["metrics"]["total"] == 0


def test_position_and_order(emqx_server: EmqxServer) -> None:
    path = f"/authentication/{ID}/position/"
    error(put(emqx_server, path + "front"), 404, "NOT_FOUND", f"Authenticator '{ID}' does not exist")
    post(emqx_server, "/authentication", BUILTIN)
    for position in ("front", "rear"):
        assert put(emqx_server, path + position).status_code == 204
    for position in ("middle", "before:", "after:"):
        error(put(emqx_server, path + position), 400, "BAD_REQUEST", "Invalid value for 'position'")
    error(put(emqx_server, path + f"before:{ID}"), 404, "NOT_FOUND", f"Authenticator '{ID}' does not exist")
    error(put(emqx_server, path + "after:jwt"), 404, "NOT_FOUND", "Authenticator 'jwt' does not exist")
    assert put(emqx_server, "/authentication/order", [{"id": ID}]).status_code == 204
    error(put(emqx_server, "/authentication/order", []), 400, "BAD_REQUEST", f"No positions are specified for authenticators: {ID}")
    error(
        put(emqx_server, "/authentication/order", [{"id": "a"}, {"id": ID}, {"id": "b"}]),
        400,
        "BAD_REQUEST",
        "Authenticators: b, a are not found",
    )
    error(
        put(emqx_server, "/authentication/order", [{"id": "a"}]),
        400,
        "BAD_REQUEST",
        f"Authenticators: a are not found, No positions are specified for authenticators: {ID}",
    )
    _schema_error(
        put(emqx_server, "/authentication/order", [{"not-id": "x"}]),
        {"unmatched": "id", "unknown": "not-id", "reason": "unknown_fields", "path": "root.1", "kind": "validation_error"},
    )
    assert _chain(emqx_server) == [RENDERED]


def test_order_on_an_empty_chain(emqx_server: EmqxServer) -> None:
    assert put(emqx_server, "/authentication/order", []).status_code == 204
    assert get(emqx_server, "/authentication/order").status_code == 405


def test_status_counts_per_authenticator(emqx_server: EmqxServer) -> None:
    _with_users(emqx_server, ("u1", "p1", False))
    emqx_server.connect("c1", username="u1", password="p1")
    with pytest.raises(NotAuthorized):
        emqx_server.connect("c2", username="u1", password="nope")
    emqx_server.connect("c3", username="u1", password="p1")
    with pytest.raises(NotAuthorized, match="not_authorized"):
        emqx_server.connect("c4", username="stranger", password="x")
    counts = {"failed": 1, "nomatch": 1, "rate": 0.0, "rate_last5m": 0.0, "rate_max": 0.0, "success": 2, "total": 4}
    node = emqx_server.broker.api_node
    assert get(emqx_server, f"/authentication/{ID}/status").json() == {
        "metrics": counts,
        "node_error": [],
        "node_metrics": [{"metrics": counts, "node": node}],
        "node_resource_metrics": [{"metrics": {}, "node": node}],
        "node_status": [{"node": node, "status": "connected"}],
        "resource_metrics": {},
        "status": "connected",
    }
    metrics = get(emqx_server, "/metrics").json()[0]
    assert (metrics["client.authenticate"], metrics["authentication.success"], metrics["authentication.failure"]) == (4, 2, 2)
    assert (metrics["packets.connack.auth_error"], metrics["client.auth.anonymous"]) == (2, 0)


# -- users ------------------------------------------------------------------------------------


def test_user_create_get_update_delete(emqx_server: EmqxServer) -> None:
    post(emqx_server, "/authentication", BUILTIN)
    created = post(emqx_server, USERS, {"user_id": "u1", "password": "p1"})
    assert (created.status_code, created.json()) == (201, {"is_superuser": False, "user_id": "u1"})
    assert get(emqx_server, f"{USERS}/u1").json() == {"is_superuser": False, "user_id": "u1"}
    updated = put(emqx_server, f"{USERS}/u1", {"password": "p2", "is_superuser": True})
    assert (updated.status_code, updated.json()) == (200, {"is_superuser": True, "user_id": "u1"})
    assert put(emqx_server, f"{USERS}/u1", {"password": "p3"}).json() == {"is_superuser": True, "user_id": "u1"}
    with pytest.raises(NotAuthorized):
        emqx_server.connect("c1", username="u1", password="p2")
    assert emqx_server.connect("c1", username="u1", password="p3").is_superuser is True
    assert delete(emqx_server, f"{USERS}/u1").status_code == 204
    error(get(emqx_server, f"{USERS}/u1"), 404, "NOT_FOUND", "User not found")


def test_passwords_are_stored_hashed_and_never_returned(emqx_server: EmqxServer) -> None:
    body = {**BUILTIN, "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}
    post(emqx_server, "/authentication", body)
    response = post(emqx_server, USERS, {"user_id": "u1", "password": "secret"})
    assert "secret" not in response.text
    user = emqx_server.broker.authn.get(ID).users["u1"]
    assert len(user.salt) == 32 and user.password_hash == hashlib.sha256(("secret" + user.salt).encode()).hexdigest()


@pytest.mark.parametrize(
    ("algorithm", "salt", "expected"),
    [
        ({"name": "plain", "salt_position": "prefix"}, "", "pw"),
        ({"name": "md5", "salt_position": "prefix"}, "s", hashlib.md5(b"spw").hexdigest()),
        ({"name": "sha", "salt_position": "disable"}, "", hashlib.sha1(b"pw").hexdigest()),
        ({"name": "sha512", "salt_position": "suffix"}, "s", hashlib.sha512(b"pws").hexdigest()),
        ({"name": "pbkdf2", "mac_fun": "sha", "iterations": 3}, "s", hashlib.pbkdf2_hmac("sha1", b"pw", b"s", 3, 20).hex()),
        ({"name": "pbkdf2", "mac_fun": "sha512", "iterations": 2, "dk_length": 10}, "s", hashlib.pbkdf2_hmac("sha512", b"pw", b"s", 2, 10).hex()),
    ],
)
def test_hashing_as_emqx_passwd(algorithm: Any, salt: str, expected: str) -> None:
    assert hash_password(algorithm, "pw", salt) == expected
    assert check_password(algorithm, "pw", expected.upper(), salt)  # hex compares caseless
    assert not check_password(algorithm, "other", expected, salt)


BCRYPT_PUBLIC = "$2a$05$abcdefghijklmnopqrstuuwwPIUV0aLdd4MRrWIJ1GQ9qm/ci/n7y"  # "public", from crypt(3)
HAS_CRYPT = importlib.util.find_spec("crypt") is not None  # the stdlib module went in Python 3.13


def test_bcrypt_hashes_through_crypt_or_is_refused_clearly(emqx_server: EmqxServer) -> None:
    post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": {"name": "bcrypt", "salt_rounds": 5}})
    imported = post(emqx_server, IMPORT, [{"user_id": "old", "password_hash": BCRYPT_PUBLIC, "salt": BCRYPT_PUBLIC}])
    assert imported.json()["success"] == 1  # a hash import stores any hash, crypt or not
    created = post(emqx_server, USERS, {"user_id": "new", "password": "pw"})
    if HAS_CRYPT:
        assert created.status_code == 201
        assert emqx_server.broker.authn.get(ID).users["new"].password_hash.startswith("$2a$05$")
        emqx_server.connect("c1", username="new", password="pw")
        emqx_server.connect("c2", username="old", password="public")
        with pytest.raises(NotAuthorized):
            emqx_server.connect("c3", username="old", password="Public")  # bcrypt is case-sensitive
    else:
        assert created.status_code == 400 and "crypt module" in created.json()["message"]
        with pytest.raises(ValueError, match="crypt module"):
            emqx_server.connect("c2", username="old", password="public")


def test_plain_passwords_compare_caseless(emqx_server: EmqxServer) -> None:
    emqx_server.add_authenticator({"name": "plain"})
    emqx_server.add_authn_user("u", "Secret")
    assert emqx_server.connect("c1", username="u", password="sECRET").is_superuser is False


def test_user_errors_in_emqx_order(emqx_server: EmqxServer) -> None:
    body = {"user_id": "u1", "password": "p"}
    error(post(emqx_server, USERS, {"user_id": "", "password": "p"}), 400, "BAD_REQUEST", "User error: invalid_user_id")
    for response in (
        post(emqx_server, USERS, body),
        get(emqx_server, USERS),
        get(emqx_server, f"{USERS}/u1"),
        put(emqx_server, f"{USERS}/u1", {"password": "p"}),
        delete(emqx_server, f"{USERS}/u1"),
    ):
        error(response, 404, "NOT_FOUND", NO_CHAIN["message"])
    post(emqx_server, "/authentication", BUILTIN)
    not_in_chain = 'User error: {not_found,{authenticator,<<"jwt\\"x">>}}'
    for response in (
        post(emqx_server, '/authentication/jwt"x/users', body),
        get(emqx_server, '/authentication/jwt"x/users'),
        get(emqx_server, '/authentication/jwt"x/users/u1'),
        delete(emqx_server, '/authentication/jwt"x/users/u1'),
    ):
        error(response, 400, "BAD_REQUEST", not_in_chain)
    for response in (get(emqx_server, f"{USERS}/u1"), put(emqx_server, f"{USERS}/u1", {"password": "p"}), delete(emqx_server, f"{USERS}/u1")):
        error(response, 404, "NOT_FOUND", "User not found")
    assert post(emqx_server, USERS, body).status_code == 201
    error(post(emqx_server, USERS, {**body, "password": "other"}), 409, "ALREADY_EXISTS", "User already exists")
    emqx_server.connect("c1", username="u1", password="p")  # the first password stays


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        (
            "POST",
            USERS,
            {},
            [
                {"reason": "required_field", "path": "root.user_id", "kind": "validation_error"},
                {"reason": "required_field", "path": "root.password", "kind": "validation_error"},
            ],
        ),
        (
            "POST",
            USERS,
            {"user_id": "u", "password": "p", "foo": 1},
            {"unmatched": "is_superuser", "unknown": "foo", "reason": "unknown_fields", "path": "root", "kind": "validation_error"},
        ),
        (
            "POST",
            USERS,
            {"user_id": "u", "password": "p", "is_superuser": "yes"},
            {"value": "yes", "reason": "Unable to parse boolean value", "path": "root.is_superuser", "kind": "validation_error"},
        ),
        ("PUT", f"{USERS}/u", {"is_superuser": True}, {"reason": "required_field", "path": "root.password", "kind": "validation_error"}),
        (
            "PUT",
            f"{USERS}/u",
            {"password": "p", "user_id": "u"},
            {"unmatched": "is_superuser", "unknown": "user_id", "reason": "unknown_fields", "path": "root", "kind": "validation_error"},
        ),
    ],
)
def test_user_bodies_are_checked_first(emqx_server: EmqxServer, method: str, path: str, body: Any, detail: Any) -> None:
    _with_users(emqx_server, ("u", "p", False))
    _schema_error(requests.request(method, emqx_server.api_url + path, json=body, auth=emqx_server.auth, timeout=30), detail)
    emqx_server.connect("c1", username="u", password="p")


def test_users_list_descending_with_meta_variants(emqx_server: EmqxServer) -> None:
    _with_users(emqx_server, ("u1", "p", False), ("u2", "p", True), ("u3", "p", False), ("x9", "p", True))

    def listed(**params: Any) -> Any:
        return get(emqx_server, USERS, params).json()

    everyone = [{"is_superuser": True, "user_id": "x9"}, {"is_superuser": False, "user_id": "u3"}, {"is_superuser": True, "user_id": "u2"}, {"is_superuser": False, "user_id": "u1"}]
    assert listed() == {"data": everyone, "meta": {"count": 4, "hasnext": False, "limit": 100, "page": 1}}
    assert listed(limit=2) == {"data": everyone[:2], "meta": {"count": 4, "hasnext": True, "limit": 2, "page": 1}}
    # a full page says there is more even when nothing follows (ETS chunks)
    assert listed(limit=2, page=2) == {"data": everyone[2:], "meta": {"count": 4, "hasnext": True, "limit": 2, "page": 2}}
    assert listed(limit=2, page=3) == {"data": [], "meta": {"count": 4, "hasnext": False, "limit": 2, "page": 3}}
    assert listed(is_superuser="true") == {"data": [everyone[0], everyone[2]], "meta": {"count": 2, "hasnext": False, "limit": 100, "page": 1}}
    assert listed(like_user_id="u") == {"data": everyone[1:], "meta": {"hasnext": False, "limit": 100, "page": 1}}
    assert listed(like_user_id="u", limit=1, page=2) == {"data": [everyone[2]], "meta": {"hasnext": True, "limit": 1, "page": 2}}
    _schema_error(
        get(emqx_server, USERS, {"is_superuser": "yes"}),
        {"value": "yes", "reason": "Unable to parse boolean value", "path": "is_superuser", "kind": "validation_error"},
    )
    response = get(emqx_server, USERS, {"like_user_id": ""})
    assert response.status_code == 400 and response.json()["message"].startswith("User error: {exception,{error,badarg,")


# -- import -----------------------------------------------------------------------------------

IMPORT = f"/authentication/{ID}/import_users"


def _upload(server: EmqxServer, name: str, content: str, kind: str | None = "plain", part: str = "filename") -> requests.Response:
    params = {"type": kind} if kind else None
    files = {part: (name, content.encode())}
    return requests.post(server.api_url + IMPORT, params=params, files=files, auth=server.auth, timeout=30)


def test_import_plain_csv_and_json(emqx_server: EmqxServer) -> None:
    post(emqx_server, "/authentication", BUILTIN)
    response = _upload(emqx_server, "users.csv", "user_id,password,is_superuser\r\nu1,p1,true\n\nu2,p2,false\n")
    assert (response.status_code, response.json()) == (200, {"failed": 0, "override": 0, "skipped": 0, "success": 2, "total": 2})
    assert emqx_server.connect("c1", username="u1", password="p1").is_superuser is True
    users = [{"user_id": "u2", "password": "new", "is_superuser": "true"}, {"user_id": "u3", "password": "p3"}]
    response = post(emqx_server, IMPORT + "?type=plain", users)
    assert response.json() == {"failed": 0, "override": 1, "skipped": 0, "success": 1, "total": 2}
    assert get(emqx_server, f"{USERS}/u2").json() == {"is_superuser": True, "user_id": "u2"}
    emqx_server.connect("c2", username="u2", password="new")


def test_import_hashed_stores_hash_and_salt_verbatim(emqx_server: EmqxServer) -> None:
    post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": {"name": "md5", "salt_position": "suffix"}})
    digest = hashlib.md5(b"pwsalt").hexdigest()
    content = f"user_id,password_hash,salt,is_superuser\nu1,{digest},salt,false\n"
    assert _upload(emqx_server, "users.csv", content, kind=None).json()["success"] == 1
    emqx_server.connect("c1", username="u1", password="pw")
    again = post(emqx_server, IMPORT + "?type=hash", [{"user_id": "u1", "password_hash": digest, "salt": "salt"}])
    assert again.json() == {"failed": 0, "override": 0, "skipped": 1, "success": 0, "total": 1}


@pytest.mark.parametrize(
    ("name", "content", "kind", "message"),
    [
        ("users", "x", "plain", "unknown_file_format"),
        ("users.txt", "x", "plain", '{unsupported_file_format,<<".txt">>}'),
        ("users.json", "{}", "plain", "unknown_file_format"),
        ("users.json", "[1]", "plain", "bad_format"),
        ("users.json", '[{"user_id": "u"}]', "plain", '"plain_import_requires_password_field"'),
        ("users.json", '[{"user_id": "u", "password": 123}]', "plain", "{password_not_string,123}"),
        ("users.json", '[{"user_id": "u", "password": "p"}]', "hash", '"hash_import_requires_password_hash_field"'),
        ("users.json", "[]", "plain", "empty_users"),
        ("users.json", '[{"user_id": 7, "password": "p"}]', "plain", "bad_format"),
        ("users.json", '[{"user_id": "u", "password_hash": 7}]', "hash", "bad_format"),
        ("users.csv", "user_id,password\n", "plain", "empty_users"),
        ("users.csv", "user_id,password\nu1,p1\nu2\n", "plain", "bad_format"),
    ],
)
def test_import_refuses_bad_files_whole(emqx_server: EmqxServer, name: str, content: str, kind: str, message: str) -> None:
    post(emqx_server, "/authentication", BUILTIN)
    error(_upload(emqx_server, name, content, kind), 400, "BAD_REQUEST", message)
    assert get(emqx_server, USERS).json()["meta"]["count"] == 0


def test_import_request_errors(emqx_server: EmqxServer) -> None:
    csv = "user_id,password\nu1,p1\n"
    error(_upload(emqx_server, "u.csv", csv, part="file"), 400, "BAD_REQUEST", "Missing required parameter: filename")
    error(_upload(emqx_server, "u.csv", csv), 404, "NOT_FOUND", NO_CHAIN["message"])
    post(emqx_server, "/authentication", BUILTIN)
    response = requests.post(emqx_server.api_url + "/authentication/jwt/import_users", files={"filename": ("u.csv", csv)}, auth=emqx_server.auth, timeout=30)
    error(response, 404, "NOT_FOUND", "Authenticator 'jwt' does not exist")
    error(post(emqx_server, IMPORT + "?type=plain", {}), 400, "BAD_REQUEST", "function_clause")
    assert get(emqx_server, USERS).json()["meta"]["count"] == 0


# -- effect on CONNECT --------------------------------------------------------------------------


def test_clientid_users_and_disabled_authenticators(emqx_server: EmqxServer) -> None:
    emqx_server.add_authenticator(user_id_type="clientid")
    emqx_server.add_authn_user("dev1", "pw", is_superuser=True)
    assert emqx_server.connect("dev1", password="pw").is_superuser is True
    with pytest.raises(NotAuthorized) as refused:
        emqx_server.connect("dev1", username="dev1")  # no password at all
    assert (refused.value.reason, refused.value.reason_code) == ("bad_username_or_password", 0x86)
    assert "dev1" in [s.clientid for s in emqx_server.broker.sessions]  # the first connection stays
    put(emqx_server, f"/authentication/{ID}", {**BUILTIN, "enable": False})
    assert emqx_server.connect("other", password="wrong").is_superuser is False  # anonymous again
    assert emqx_server.add_client("seeded").is_superuser is False  # seeding is never authenticated


def test_a_refused_connect_creates_no_session(emqx_server: EmqxServer) -> None:
    emqx_server.add_authenticator()
    emqx_server.add_authn_user("u", "p")
    with pytest.raises(NotAuthorized):
        emqx_server.connect("c1", username="u", password="bad")
    assert get(emqx_server, "/clients").json()["data"] == []


def test_the_control_api_connect_runs_the_chain(emqx_server: EmqxServer) -> None:
    emqx_server.add_authenticator()
    emqx_server.add_authn_user("u", "p")
    url = emqx_server.control_url + "/seed/connect"
    refused = requests.post(url, json={"clientid": "c1", "username": "u", "password": "bad"}, timeout=30)
    assert (refused.status_code, refused.json()) == (400, {"code": "BAD_REQUEST", "message": "bad_username_or_password"})
    assert requests.post(url, json={"clientid": "c1", "username": "u", "password": "p"}, timeout=30).status_code == 200
    assert [session.clientid for session in emqx_server.broker.sessions] == ["c1"]


# -- scenario files ---------------------------------------------------------------------------


def test_scenario_authentication_section_and_snapshot_round_trip(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(
        {
            "authentication": [
                {
                    "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"},
                    "users": [
                        {"user_id": "alice", "password": "a-secret", "is_superuser": True},
                        {"user_id": "bob", "password_hash": hashlib.sha256(b"pwsalt").hexdigest(), "salt": "salt"},
                    ],
                }
            ]
        }
    )
    assert emqx_server.connect("c1", username="alice", password="a-secret").is_superuser is True
    emqx_server.connect("c2", username="bob", password="pw")
    document = scenario.snapshot(emqx_server.broker)
    emqx_server.reset()
    emqx_server.restore(document)
    assert _chain(emqx_server) == [{**RENDERED, "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}]
    emqx_server.broker.sessions.remove("c1")
    emqx_server.connect("c1", username="alice", password="a-secret")
    assert get(emqx_server, f"/authentication/{ID}/status").json()["metrics"]["success"] == 3


def test_scenario_authentication_problems_name_the_place(emqx_server: EmqxServer) -> None:
    with pytest.raises(ValueError, match=r"authentication\[0\]\.users\[0\]: needs either a plain password"):
        emqx_server.load_scenario({"authentication": [{"users": [{"user_id": "u"}]}]})
    with pytest.raises(ValueError, match=r"authentication\[0\]\.password_hash_algorithm: unknown password_hash_algorithm 'x'"):
        emqx_server.load_scenario({"authentication": [{"password_hash_algorithm": {"name": "x"}}]})
    assert _chain(emqx_server) == []
