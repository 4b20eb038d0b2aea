"""The request pipeline of the fake EMQX 5.8.9 management API, in EMQX's own order:
route (404) and method (405), authentication, body parsing (400/415), parameter and body
checks (400 with hocon's error text), handler, and the journal of what was served.

Truth: emqx5-api-surface.md sections 1-2, corrected by the research notes validation.md
(checked by running EMQX's code) and endpoints.md sections 0 and 8.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from pytest_emqx_mock import EmqxServer

# Many tests here ask for unknown paths on purpose: the plugin's warning about them is expected.
pytestmark = pytest.mark.filterwarnings("ignore::pytest_emqx_mock.plugin.UnmatchedRequestWarning")

NOT_FOUND_JSON = '{"code": "NOT_FOUND", "message": "Request Path Not Found"}'
INVALID_JSON = '{"code":"BAD_REQUEST","message":"Invalid json message received"}'
UNSUPPORTED_MEDIA = '{"code":"UNSUPPORTED_MEDIA_TYPE","message":"content-type:application/json Required"}'


def bad_request(inner: str) -> str:
    """The exact 400 body: jsx's `{"code","message"}` around hocon's error text."""
    return '{"code":"BAD_REQUEST","message":' + json.dumps(inner, ensure_ascii=False) + "}"


@pytest.fixture
def api(emqx_server: EmqxServer) -> str:
    return emqx_server.api_url


@pytest.fixture
def auth(emqx_server: EmqxServer) -> tuple[str, str]:
    return emqx_server.auth


@pytest.fixture
def c1(emqx_server: EmqxServer) -> str:
    emqx_server.add_client("c1", keepalive=60)
    return "c1"


# -- 404: unknown paths ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v5/nope", "/api/v5/clients/c1/nope/deeper", "/nope", "/api/v4/clients"])
def test_unknown_path_json_404_exact_body(emqx_server: EmqxServer, path: str) -> None:
    r = requests.get(emqx_server.url + path, headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.text == NOT_FOUND_JSON  # a literal with a space after each colon
    assert r.headers["content-type"] == "application/json"


def test_unknown_path_json_404_accept_with_parameters(emqx_server: EmqxServer) -> None:
    # emqx_dashboard_not_found matches the Accept header by prefix
    r = requests.get(emqx_server.api_url + "/nope", headers={"Accept": "application/json; charset=utf-8"})
    assert r.status_code == 404
    assert r.text == NOT_FOUND_JSON


def test_unknown_path_text_plain_404(emqx_server: EmqxServer) -> None:
    r = requests.get(emqx_server.api_url + "/nope", headers={"Accept": "text/plain"})
    assert r.status_code == 404
    assert r.text == "404 - NOT FOUND"
    assert r.headers["content-type"] == "text/plain"


@pytest.mark.parametrize("accept", [None, "text/html", "*/*", "image/png"])
def test_unknown_path_default_html_404(emqx_server: EmqxServer, accept: str | None) -> None:
    r = requests.get(emqx_server.api_url + "/nope", headers={"Accept": accept})
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html"
    assert "<h1>404 - NOT FOUND</h1>" in r.text
    assert "NOT_FOUND" not in r.text  # not the JSON body


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic bm86c3VjaGtleQ=="}, {"Authorization": "Bearer nosuchtoken"}],
    ids=["no-credentials", "bad-api-key", "bad-token"],
)
def test_unknown_path_needs_no_auth(emqx_server: EmqxServer, headers: dict[str, str]) -> None:
    r = requests.post(emqx_server.api_url + "/no/such/thing", headers={"Accept": "application/json", **headers})
    assert r.status_code == 404
    assert r.text == NOT_FOUND_JSON
    assert "WWW-Authenticate" not in r.headers


# -- 405: known path, wrong method -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/clients", "GET"),
        ("PATCH", "/clients/c1", "DELETE, GET"),
        ("GET", "/login", "POST"),
        ("DELETE", "/api_key", "GET, POST"),
        ("POST", "/api_key/somekey", "DELETE, GET, PUT"),
        ("GET", "/users/admin", "DELETE, PUT"),
        ("GET", "/clients/c1/subscribe", "POST"),
    ],
)
def test_wrong_method_405_with_allow_header_before_auth(
    emqx_server: EmqxServer, method: str, path: str, allow: str
) -> None:
    # minirest: 405 with an empty body and the allowed methods (sorted, ", "), before any
    # authorization: no credentials at all are sent here
    r = requests.request(method, emqx_server.api_url + path)
    assert r.status_code == 405
    assert r.content == b""
    assert r.headers["allow"] == allow
    assert "WWW-Authenticate" not in r.headers


def test_wrong_method_405_even_with_bad_credentials(emqx_server: EmqxServer) -> None:
    r = requests.put(emqx_server.api_url + "/clients", auth=("nosuchkey", "nosecret"))
    assert r.status_code == 405
    assert r.content == b""
    assert r.headers["allow"] == "GET"


def test_wrong_method_405_does_not_touch_state(emqx_server: EmqxServer, c1: str) -> None:
    r = requests.post(emqx_server.api_url + "/clients/c1", auth=emqx_server.auth)
    assert r.status_code == 405
    assert "c1" in emqx_server.broker.sessions


# -- routing details ---------------------------------------------------------------------------


def test_double_slash_in_base_path_routes_like_single(emqx_server: EmqxServer, auth: tuple[str, str]) -> None:
    emqx_server.add_client("c1")
    emqx_server.add_client("c2")
    normal = requests.get(emqx_server.url + "/api/v5/clients", auth=auth)
    doubled = requests.get(emqx_server.url + "/api//v5/clients", auth=auth)
    assert normal.status_code == doubled.status_code == 200
    assert sorted(c["clientid"] for c in doubled.json()["data"]) == ["c1", "c2"]
    assert doubled.json()["meta"] == normal.json()["meta"]


def test_double_slash_still_needs_auth(emqx_server: EmqxServer) -> None:
    r = requests.get(emqx_server.url + "/api//v5/clients")
    assert r.status_code == 401


def test_percent_encoded_slash_in_clientid(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    emqx_server.add_client("dev/1")
    r = requests.get(api + "/clients/dev%2F1", auth=auth)
    assert r.status_code == 200
    assert r.json()["clientid"] == "dev/1"

    r = requests.get(api + "/clients/dev%2F1/subscriptions", auth=auth)
    assert r.status_code == 200
    assert r.json() == []

    r = requests.delete(api + "/clients/dev%2F1", auth=auth)
    assert r.status_code == 204
    assert "dev/1" not in emqx_server.broker.sessions


def test_percent_encoded_space_and_unicode_in_clientid(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    emqx_server.add_client("a b é")
    r = requests.get(api + "/clients/a%20b%20%C3%A9", auth=auth)
    assert r.status_code == 200
    assert r.json()["clientid"] == "a b é"


def test_unencoded_slash_is_a_different_path(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    emqx_server.add_client("dev/1")
    # /clients/dev/1 has three segments: no such route
    r = requests.get(api + "/clients/dev/1", auth=auth, headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.text == NOT_FOUND_JSON


# -- body parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["{", '{"topic":', "{topic:1}", '{"topic":"t"}{}', "NaN", "1e400", "tru", "[1 2]", "[1,,2]", "01", "   "],
    ids=["open", "truncated", "unquoted-key", "trailing-data", "NaN", "1e400", "tru", "no-comma", "double-comma",
         "leading-zero", "whitespace-only"],
)
def test_invalid_json_body_400(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, data: str) -> None:
    r = requests.post(api + "/clients/c1/subscribe", data=data, headers={"Content-Type": "application/json"}, auth=auth)
    assert r.status_code == 400
    assert r.text == INVALID_JSON
    assert r.headers["content-type"] == "application/json"
    assert emqx_server.client("c1").subscriptions == {}


def test_invalid_json_with_content_type_parameters(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    r = requests.post(
        api + "/clients/c1/subscribe", data="{", headers={"Content-Type": "application/json; charset=utf-8"}, auth=auth
    )
    assert r.status_code == 400
    assert r.text == INVALID_JSON


def test_invalid_json_checked_after_auth(emqx_server: EmqxServer, api: str, c1: str) -> None:
    r = requests.post(api + "/clients/c1/subscribe", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "data",
    ['{"topic":"t/lenient",}', '{"topic":"t/lenient"} // comment', '/* c */ {"topic":"t/lenient"}'],
    ids=["trailing-comma", "line-comment", "block-comment"],
)
def test_jsx_accepts_lenient_json(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, data: str) -> None:
    # EMQX decodes bodies with jsx, which accepts trailing commas and comments
    r = requests.post(api + "/clients/c1/subscribe", data=data, headers={"Content-Type": "application/json"}, auth=auth)
    assert r.status_code == 200
    assert r.json()["topic"] == "t/lenient"
    assert "t/lenient" in emqx_server.client("c1").subscriptions


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", None], ids=["text", "form", "missing"]
)
def test_non_json_content_type_with_body_415(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, content_type: str | None
) -> None:
    r = requests.post(
        api + "/clients/c1/subscribe", data=b'{"topic":"t"}', headers={"Content-Type": content_type}, auth=auth
    )
    assert r.status_code == 415
    assert r.text == UNSUPPORTED_MEDIA
    assert r.headers["content-type"] == "application/json"
    assert emqx_server.client("c1").subscriptions == {}


def test_415_comes_after_auth(emqx_server: EmqxServer, api: str, c1: str) -> None:
    r = requests.post(api + "/clients/c1/subscribe", data=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 401


def test_415_only_after_path_parameters_pass(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    r = requests.put(api + "/api_key/1bad", data=b"desc", headers=headers)
    assert r.status_code == 400
    assert r.text == bad_request(
        '{"value":"1bad","reason":"Name should be ^[A-Za-z]+[A-Za-z0-9-_]*$","path":"name","kind":"validation_error"}'
    )
    emqx_server.add_api_key("goodname")
    r = requests.put(api + "/api_key/goodname", data=b"desc", headers=headers)
    assert r.status_code == 415
    assert r.text == UNSUPPORTED_MEDIA


def test_bare_json_string_body_415(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    r = requests.post(api + "/clients/c1/subscribe", json="str", auth=auth)
    assert r.status_code == 415
    assert r.text == UNSUPPORTED_MEDIA


def test_no_body_without_content_type_is_not_415(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    # no body at all: checked as {} whatever the content type
    r = requests.post(api + "/clients/c1/subscribe", headers={"Content-Type": "text/plain"}, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request('{"reason":"required_field","path":"root.topic","kind":"validation_error"}')


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(None, None), (b"", "application/json"), (b"{}", "application/json"), (b"null", "application/json"),
     (b'{"qos":1}', "application/json")],
    ids=["no-body", "empty-json", "empty-object", "null", "missing-topic"],
)
def test_empty_body_checked_as_empty_object(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, data: bytes | None, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(api + "/clients/c1/subscribe", data=data, headers=headers, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request('{"reason":"required_field","path":"root.topic","kind":"validation_error"}')


def test_empty_body_on_all_optional_schema_reaches_handler(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str
) -> None:
    # keepalive's body has no required field: {} passes the schema, the handler answers
    r = requests.put(api + "/clients/c1/keepalive", auth=auth)
    assert r.status_code == 400
    assert r.json() == {"code": "BAD_REQUEST", "message": "Interval Not Found"}
    assert emqx_server.client("c1").keepalive == 60


def test_empty_array_body_on_array_schema_accepted(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    for body in ([], {}):
        r = requests.post(api + "/clients/kickout/bulk", json=body, auth=auth)
        assert r.status_code == 204
    assert "c1" in emqx_server.broker.sessions


# -- query parameter checks -------------------------------------------------------------------

QUERY_ERRORS = [
    ("limit=20000", '{"value":20000,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=10001", '{"value":10001,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=0", '{"value":0,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=-1", '{"value":-1,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=abc", '{"value":"abc","reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=1.5", '{"value":1.5,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=", '{"value":[],"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=true", '{"value":true,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
    ("limit=Abc", '{"value":"Abc","reason":"Unable to parse Erlang term","path":"limit","kind":"validation_error"}'),
    ("limit=10abc", '{"value":"10abc","reason":"Unable to parse Erlang term","path":"limit","kind":"validation_error"}'),
    ("limit=1e3", '{"value":"1e3","reason":"Unable to parse Erlang term","path":"limit","kind":"validation_error"}'),
    ("limit=x%20y", '{"value":"x y","reason":"Unable to parse Erlang term","path":"limit","kind":"validation_error"}'),
    ("page=0", '{"value":0,"reason":{"expected":"pos_integer()"},"path":"page","kind":"validation_error"}'),
    ("page=-3", '{"value":-3,"reason":{"expected":"pos_integer()"},"path":"page","kind":"validation_error"}'),
    ("page=x", '{"value":"x","reason":{"expected":"pos_integer()"},"path":"page","kind":"validation_error"}'),
    ("clean_start=maybe", '{"value":"maybe","reason":"Unable to parse boolean value","path":"clean_start","kind":"validation_error"}'),
    ("clean_start=TRUE", '{"value":"TRUE","reason":"Unable to parse boolean value","path":"clean_start","kind":"validation_error"}'),
    ("clean_start=1", '{"value":"1","reason":"Unable to parse boolean value","path":"clean_start","kind":"validation_error"}'),
    ("conn_state=bogus_state_zz", '{"value":"bogus_state_zz","reason":"unable_to_convert_to_enum_symbol","path":"conn_state","kind":"validation_error"}'),
    ("conn_state=5", '{"value":5,"reason":"not_a_enum_symbol","path":"conn_state","kind":"validation_error"}'),
    ("gte_created_at=notatime", '{"value":"notatime","reason":"bad_rfc3339_timestamp","path":"gte_created_at","kind":"validation_error"}'),
    ("gte_created_at=-1", '{"value":"-1","reason":"bad_epoch","path":"gte_created_at","kind":"validation_error"}'),
    ("lte_connected_at=1.5", '{"value":"1.5","reason":"bad_rfc3339_timestamp","path":"lte_connected_at","kind":"validation_error"}'),
    ("lte_created_at=", '{"value":"","reason":"bad_rfc3339_timestamp","path":"lte_created_at","kind":"validation_error"}'),
    (
        "fields=bogus",
        '{"reason":"matched_no_union_member","path":"fields","mismatches":{"array":{"value":"bogus",'
        '"reason":"unable_to_convert_to_enum_symbol","path":"fields.1","kind":"validation_error"},'
        '"all":{"value":["bogus"],"reason":{"expected":"all"},"path":"fields","kind":"validation_error"}},'
        '"kind":"validation_error"}',
    ),
    (
        "fields=clientid,bogus",
        '{"reason":"matched_no_union_member","path":"fields","mismatches":{"array":{"value":"bogus",'
        '"reason":"unable_to_convert_to_enum_symbol","path":"fields.2","kind":"validation_error"},'
        '"all":{"value":["clientid","bogus"],"reason":{"expected":"all"},"path":"fields","kind":"validation_error"}},'
        '"kind":"validation_error"}',
    ),
]


@pytest.mark.parametrize(("query", "message"), QUERY_ERRORS, ids=[q for q, _ in QUERY_ERRORS])
def test_query_validation_error_exact_body(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], query: str, message: str
) -> None:
    r = requests.get(f"{api}/clients?{query}", auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request(message)
    assert r.headers["content-type"] == "application/json"


def test_query_validation_error_key_order(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    r = requests.get(f"{api}/clients?limit=20000", auth=auth)
    body = r.json()
    assert list(body) == ["code", "message"]
    assert list(json.loads(body["message"])) == ["value", "reason", "path", "kind"]


@pytest.mark.parametrize(
    ("query", "limit"),
    [("limit=16%2310", 16), ("limit=1_000", 1000), ("limit=%2050", 50), ("limit=50%20", 50), ("limit=10000", 10000),
     ("limit=1", 1)],
    ids=["based-integer", "underscores", "leading-space", "trailing-space", "max", "min"],
)
def test_limit_parsed_as_erlang_term(emqx_server: EmqxServer, api: str, auth: tuple[str, str], query: str, limit: int) -> None:
    r = requests.get(f"{api}/clients?{query}", auth=auth)
    assert r.status_code == 200
    assert r.json()["meta"]["limit"] == limit


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0&page=0", '{"value":0,"reason":{"expected":"pos_integer()"},"path":"page","kind":"validation_error"}'),
        ("clean_start=x&conn_state=y_zz", '{"value":"y_zz","reason":"unable_to_convert_to_enum_symbol","path":"conn_state","kind":"validation_error"}'),
        ("gte_created_at=nope&limit=0", '{"value":0,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}'),
        ("fields=bogus&lte_connected_at=x", '{"value":"x","reason":"bad_rfc3339_timestamp","path":"lte_connected_at","kind":"validation_error"}'),
    ],
)
def test_first_failing_parameter_in_declared_order_wins(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], query: str, message: str
) -> None:
    r = requests.get(f"{api}/clients?{query}", auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request(message)


def test_repeated_scalar_query_key_last_wins(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    r = requests.get(f"{api}/clients?limit=5&limit=20000", auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request('{"value":20000,"reason":{"expected":"1..10000"},"path":"limit","kind":"validation_error"}')

    r = requests.get(f"{api}/clients?limit=20000&limit=5", auth=auth)
    assert r.status_code == 200
    assert r.json()["meta"]["limit"] == 5


def test_unknown_query_params_ignored(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    emqx_server.add_client("c1")
    r = requests.get(f"{api}/clients?bogus=zzz&limit=7&Limit=abc&other=", auth=auth)
    assert r.status_code == 200
    assert r.json()["meta"]["limit"] == 7
    assert [c["clientid"] for c in r.json()["data"]] == ["c1"]


def test_query_checked_after_auth(emqx_server: EmqxServer, api: str) -> None:
    r = requests.get(f"{api}/clients?limit=abc")
    assert r.status_code == 401
    assert r.json()["code"] == "AUTHORIZATION_HEADER_ERROR"


def test_path_parameter_error(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.get(api + "/api_key/1bad", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400
    assert r.text == bad_request(
        '{"value":"1bad","reason":"Name should be ^[A-Za-z]+[A-Za-z0-9-_]*$","path":"name","kind":"validation_error"}'
    )


# -- body checks ------------------------------------------------------------------------------

SUBSCRIBE_ERRORS = [
    ({"topic": "t", "bogus": 1},
     '{"unmatched":"nl,qos,...","unknown":"bogus","reason":"unknown_fields","path":"root","kind":"validation_error"}'),
    ({"topic": "t", "bogus": 1, "zzz": 2, "aaa": 3},
     '{"unmatched":"nl,qos,...","unknown":"aaa,bogus,...","reason":"unknown_fields","path":"root","kind":"validation_error"}'),
    ({"bogus": 1, "qos": 7},  # unknown fields stop the checks of that level: no required_field, no qos error
     '{"unmatched":"nl,rap,...","unknown":"bogus","reason":"unknown_fields","path":"root","kind":"validation_error"}'),
    ({"topic": "t", "qos": 3},
     '{"value":3,"reason":"Unable to parse string","path":"root.qos","kind":"validation_error"}'),
    ({"topic": "t", "qos": "3"},
     '{"value":"3","reason":"Unable to parse string","path":"root.qos","kind":"validation_error"}'),
    ({"topic": "t", "qos": 1.5},
     '{"value":1.5,"reason":{"expected":"qos()"},"path":"root.qos","kind":"validation_error"}'),
    ({"topic": True},
     '{"value":true,"reason":{"expected":"binary()"},"path":"root.topic","kind":"validation_error"}'),
    ({"topic": ["a"]},
     '{"value":["a"],"reason":{"expected":"binary()"},"path":"root.topic","kind":"validation_error"}'),
    ({"topic": {"a": 1}},
     '{"value":{"a":1},"reason":{"expected":"binary()"},"path":"root.topic","kind":"validation_error"}'),
    ({"topic": "t", "nl": "x"},
     '{"value":"x","reason":"Unable to parse integer value","path":"root.nl","kind":"validation_error"}'),
    ({"topic": "t", "nl": True},
     '{"value":true,"reason":{"expected":"integer()"},"path":"root.nl","kind":"validation_error"}'),
    ({"topic": None, "qos": 1},
     '{"reason":"required_field","path":"root.topic","kind":"validation_error"}'),
    ({"topic": "t", "qos": 3, "nl": "x"},
     '[{"value":3,"reason":"Unable to parse string","path":"root.qos","kind":"validation_error"},'
     '{"value":"x","reason":"Unable to parse integer value","path":"root.nl","kind":"validation_error"}]'),
    ({"nl": "x", "qos": 3},  # schema order: topic, qos, nl
     '[{"reason":"required_field","path":"root.topic","kind":"validation_error"},'
     '{"value":3,"reason":"Unable to parse string","path":"root.qos","kind":"validation_error"},'
     '{"value":"x","reason":"Unable to parse integer value","path":"root.nl","kind":"validation_error"}]'),
    ([], '{"value":[],"reason":"bad_value_for_struct","path":"root","kind":"validation_error"}'),
    ([{"topic": "t"}],
     '{"value":[{"topic":"t"}],"reason":"bad_value_for_struct","path":"root","kind":"validation_error"}'),
    (5, '{"value":5,"reason":"bad_value_for_struct","path":"root","kind":"validation_error"}'),
    (True, '{"value":true,"reason":"bad_value_for_struct","path":"root","kind":"validation_error"}'),
]


@pytest.mark.parametrize(("body", "message"), SUBSCRIBE_ERRORS, ids=[json.dumps(b) for b, _ in SUBSCRIBE_ERRORS])
def test_subscribe_body_validation_exact(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, body: Any, message: str
) -> None:
    r = requests.post(api + "/clients/c1/subscribe", json=body, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request(message)
    assert emqx_server.client("c1").subscriptions == {}  # nothing happened


def test_subscribe_body_type_coercions_accepted(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    r = requests.post(api + "/clients/c1/subscribe", json={"topic": 123, "qos": "2"}, auth=auth)
    assert r.status_code == 200
    assert r.json()["topic"] == "123"
    assert r.json()["qos"] == 2
    assert emqx_server.client("c1").subscriptions["123"].qos == 2


def test_body_error_escaping(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    r = requests.post(api + "/clients/c1/subscribe", json={"topic": "t", "qos": 'é"\n'}, auth=auth)
    assert r.status_code == 400
    expected = (
        '{"code":"BAD_REQUEST","message":"{\\"value\\":\\"é\\\\\\"\\\\n\\",\\"reason\\":\\"Unable to parse string\\",'
        '\\"path\\":\\"root.qos\\",\\"kind\\":\\"validation_error\\"}"}'
    )
    assert r.content == expected.encode("utf-8")  # é as raw UTF-8, no \u escape


BULK_SUBSCRIBE_ERRORS = [
    ({"topic": "t"}, '{"path":"root","kind":"validation_error","bad_array_index_keys":["topic"]}'),
    ([{"topic": "t"}, {"qos": 3}],
     '[{"reason":"required_field","path":"root.2.topic","kind":"validation_error"},'
     '{"value":3,"reason":"Unable to parse string","path":"root.2.qos","kind":"validation_error"}]'),
    ([{"topic": "t", "qos": 3}, {"qos": 4}],
     '{"value":3,"reason":"Unable to parse string","path":"root.1.qos","kind":"validation_error"}'),
    ([1], '{"value":1,"reason":"bad_value_for_struct","path":"root.1","kind":"validation_error"}'),
]


@pytest.mark.parametrize(("body", "message"), BULK_SUBSCRIBE_ERRORS, ids=[json.dumps(b) for b, _ in BULK_SUBSCRIBE_ERRORS])
def test_subscribe_bulk_body_validation_exact(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, body: Any, message: str
) -> None:
    r = requests.post(api + "/clients/c1/subscribe/bulk", json=body, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request(message)
    assert emqx_server.client("c1").subscriptions == {}  # the valid first item was not applied


KICKOUT_ERRORS = [
    ({"a": 1}, '{"path":"root","kind":"validation_error","bad_array_index_keys":["a"]}'),
    (["a", {"x": 1}], '{"value":{"x":1},"reason":{"expected":"binary()"},"path":"root.2","kind":"validation_error"}'),
    (5, '{"path":"root","kind":"validation_error","got":5,"expected_data_type":"array"}'),
    (True, '{"path":"root","kind":"validation_error","got":true,"expected_data_type":"array"}'),
    ({"1": "c1", "3": "b"}, '{"path":"root","kind":"validation_error","got_index":3,"expected_index":2}'),
]


@pytest.mark.parametrize(("body", "message"), KICKOUT_ERRORS, ids=[json.dumps(b) for b, _ in KICKOUT_ERRORS])
def test_kickout_bulk_body_validation_exact(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, body: Any, message: str
) -> None:
    r = requests.post(api + "/clients/kickout/bulk", json=body, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request(message)
    assert "c1" in emqx_server.broker.sessions


def test_kickout_bulk_indexed_map_in_any_order_accepted(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    emqx_server.add_client("a")
    emqx_server.add_client("b")
    emqx_server.add_client("keep")
    r = requests.post(api + "/clients/kickout/bulk", json={"2": "a", "1": "b"}, auth=auth)
    assert r.status_code == 204
    assert r.content == b""
    assert "a" not in emqx_server.broker.sessions and "b" not in emqx_server.broker.sessions
    assert "keep" in emqx_server.broker.sessions


KEEPALIVE_ERRORS = [
    ({"interval": 65536}, '{"value":65536,"reason":{"expected":"0..65535"},"path":"root.interval","kind":"validation_error"}'),
    ({"interval": -1}, '{"value":-1,"reason":{"expected":"0..65535"},"path":"root.interval","kind":"validation_error"}'),
    ({"interval": "abc"}, '{"value":"abc","reason":{"expected":"0..65535"},"path":"root.interval","kind":"validation_error"}'),
    ({"interval": "Abc"}, '{"value":"Abc","reason":"Unable to parse Erlang term","path":"root.interval","kind":"validation_error"}'),
    ({"interval": "0x10"}, '{"value":"0x10","reason":"Unable to parse Erlang term","path":"root.interval","kind":"validation_error"}'),
    ({"interval": True}, '{"value":true,"reason":{"expected":"0..65535"},"path":"root.interval","kind":"validation_error"}'),
    ({"interval": 1.5}, '{"value":1.5,"reason":{"expected":"0..65535"},"path":"root.interval","kind":"validation_error"}'),
    ({"interval": {}}, '{"value":{},"reason":{"expected":"0..65535"},"path":"root.interval","kind":"validation_error"}'),
    ({"interval": 10, "x": 1},
     '{"unmatched":"none","unknown":"x","reason":"unknown_fields","path":"root","kind":"validation_error"}'),
]


@pytest.mark.parametrize(("body", "message"), KEEPALIVE_ERRORS, ids=[json.dumps(b) for b, _ in KEEPALIVE_ERRORS])
def test_keepalive_body_validation_exact(
    emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str, body: Any, message: str
) -> None:
    r = requests.put(api + "/clients/c1/keepalive", json=body, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request(message)
    assert emqx_server.client("c1").keepalive == 60


def test_keepalive_string_interval_converted(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    r = requests.put(api + "/clients/c1/keepalive", json={"interval": "10"}, auth=auth)
    assert r.status_code == 200
    assert r.json()["keepalive"] == 10
    assert emqx_server.client("c1").keepalive == 10


def test_body_validation_runs_before_handler_lookup(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    # the schema filter runs before the handler, so a bad body on an unknown client is a 400, not a 404
    r = requests.post(api + "/clients/nosuch/subscribe", json={"qos": 1}, auth=auth)
    assert r.status_code == 400
    assert r.text == bad_request('{"reason":"required_field","path":"root.topic","kind":"validation_error"}')


def test_api_key_body_errors_several_as_array(emqx_server: EmqxServer, api: str) -> None:
    token = emqx_server.login()
    r = requests.post(
        api + "/api_key",
        json={"name": "1bad", "desc": "d", "enable": "maybe"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 400
    assert r.text == bad_request(
        '[{"value":"1bad","reason":"Name should be ^[A-Za-z]+[A-Za-z0-9-_]*$","path":"root.name","kind":"validation_error"},'
        '{"value":"maybe","reason":"Unable to parse boolean value","path":"root.enable","kind":"validation_error"}]'
    )
    assert [k.name for k in emqx_server.broker.api_keys if k.name == "1bad"] == []


# -- responses --------------------------------------------------------------------------------


def test_204_has_no_body(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    emqx_server.client("c1")  # seeded
    requests.post(api + "/clients/c1/subscribe", json={"topic": "t/1"}, auth=auth)
    r = requests.post(api + "/clients/c1/unsubscribe", json={"topic": "t/1"}, auth=auth)
    assert r.status_code == 204
    assert r.content == b""
    r = requests.delete(api + "/clients/c1", auth=auth)
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers.get("content-length", "0") == "0"


def test_json_content_type_on_json_responses(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    responses = [
        requests.get(api + "/clients", auth=auth),  # 200
        requests.get(api + "/clients/c1", auth=auth),  # 200
        requests.get(api + "/clients/nosuch", auth=auth),  # 404 CLIENTID_NOT_FOUND
        requests.get(api + "/clients?limit=0", auth=auth),  # 400
        requests.get(api + "/clients"),  # 401
        requests.post(api + "/login", json={"username": "admin", "password": "public"}),  # 200
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 400, 401, 200]
    for r in responses:
        assert r.headers["content-type"] == "application/json"
        r.json()


def test_unknown_client_404_is_json_error(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    r = requests.get(api + "/clients/nosuch", auth=auth, headers={"Accept": "text/plain"})
    assert r.status_code == 404
    assert r.json() == {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}


def test_error_envelope_is_compact_and_sorted(emqx_server: EmqxServer, api: str) -> None:
    r = requests.get(api + "/clients")
    assert r.text == '{"code":"AUTHORIZATION_HEADER_ERROR","message":"Support authorization: basic/bearer "}'


# -- the journal ------------------------------------------------------------------------------


def test_journal_records_requests(emqx_server: EmqxServer, api: str, auth: tuple[str, str], c1: str) -> None:
    token = emqx_server.login()
    requests.get(api + "/clients?limit=5&bogus=1", auth=auth)
    requests.get(api + "/clients")
    requests.get(api + "/nope", headers={"Accept": "application/json"})
    requests.patch(api + "/clients/c1")
    requests.post(api + "/clients/c1/subscribe", json={"topic": "t/1", "qos": 1}, headers={"Authorization": f"Bearer {token}"})
    requests.post(api + "/clients/c1/subscribe", json={"qos": 3}, auth=auth)

    entries = emqx_server.journal.entries()
    assert [(e.method, e.path, e.status, e.credential) for e in entries] == [
        ("GET", "/api/v5/clients", 200, f"api_key:{emqx_server.api_key}"),
        ("GET", "/api/v5/clients", 401, None),
        ("GET", "/api/v5/nope", 404, None),
        ("PATCH", "/api/v5/clients/c1", 405, None),
        ("POST", "/api/v5/clients/c1/subscribe", 200, "token:admin"),
        ("POST", "/api/v5/clients/c1/subscribe", 400, f"api_key:{emqx_server.api_key}"),
    ]
    assert entries[0].query == {"limit": ["5"], "bogus": ["1"]}
    assert entries[0].operation == "GET /clients"
    assert entries[2].operation is None
    assert entries[4].body == {"topic": "t/1", "qos": 1}
    assert entries[4].response["topic"] == "t/1"
    assert entries[5].response["code"] == "BAD_REQUEST"


def test_journal_cleared_by_reset(emqx_server: EmqxServer, api: str, auth: tuple[str, str]) -> None:
    requests.get(api + "/clients", auth=auth)
    assert len(emqx_server.journal.entries()) == 1
    emqx_server.reset()
    assert emqx_server.journal.entries() == []


# -- EE: query parameters are checked before the 415 ------------------------------------------


def test_ee_415_only_after_query_parameters_pass(ee: EmqxServer) -> None:
    token = ee.login()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    r = requests.post(ee.api_url + "/logout?backend=bogus_backend_zz", data=b"admin", headers=headers)
    assert r.status_code == 400
    assert r.text == bad_request(
        '{"value":"bogus_backend_zz","reason":"unable_to_convert_to_enum_symbol","path":"backend","kind":"validation_error"}'
    )
    r = requests.post(ee.api_url + "/logout?backend=local", data=b"admin", headers=headers)
    assert r.status_code == 415
    assert r.text == UNSUPPORTED_MEDIA
    # the token survived both failed logouts
    assert ee.broker.tokens.lookup(token) is not None
