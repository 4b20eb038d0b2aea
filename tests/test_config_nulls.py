"""Nulls and wrongly typed nested fields in the bodies of config-shaped and collection-shaped
operations (issue 11, defects 2 and 3), as EMQX 5.8.9 / hocon 0.44 treat them: a null is an
absent field in every struct hocon checks (`hocon_tconf:drop_nulls/2`), a value of the wrong
type anywhere is a 400 with hocon's report (`hocon_tconf:check_enum_symbol/2` for an enum), and
what a PUT keeps, its GET can always answer with."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from api import error, get, hocon, ok, post, put

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.state.config import MERGE, REPLACE_FIELDS, RawConfig
from pytest_emqx_mock.state.errors import Invalid

RETAINER = "/mqtt/retainer"
SETTINGS = "/authorization/settings"
BUILTIN = {"mechanism": "password_based", "backend": "built_in_database"}
ID = "password_based:built_in_database"


def _stored(server: EmqxServer, topic: str, payload: str) -> bool:
    """Publish a retained message; whether the retainer kept it."""
    server.publish(topic, payload, retain=True)
    return get(server, f"{RETAINER}/message/{topic}").status_code == 200


# -- the raw config store -------------------------------------------------------------------------


def test_a_null_at_any_depth_is_an_absent_field_and_a_root_field_falls_back_to_its_default() -> None:
    root = RawConfig({"a": 1, "nested": {"x": 1, "y": 2}}, mode=MERGE)
    root.update({"a": 5, "c": 3})
    assert root.update({"a": None, "c": None, "nested": {"x": None, "y": 3, "list": [{"z": None}]}}) == {
        "a": 1,
        "nested": {"y": 3, "list": [{}]},
    }
    replaced = RawConfig({"a": 1, "nested": {"x": 1, "y": 2}}, mode=REPLACE_FIELDS)
    replaced.update({"a": 7, "nested": {"x": 5}})
    assert replaced.update({"a": None, "nested": {"x": None, "y": 9}}) == {"a": 1, "nested": {"x": 1, "y": 9}}


def test_a_tree_the_caller_does_not_accept_is_never_kept() -> None:
    seen: list[dict[str, Any]] = []

    def unrenderable(tree: dict[str, Any]) -> None:
        if tree["a"] == 2:
            raise Invalid("cannot render")

    root = RawConfig({"a": 1}, on_change=seen.append)
    with pytest.raises(Invalid, match="cannot render"):
        root.update({"a": 2}, accept=unrenderable)
    assert (root.view(), seen) == ({"a": 1}, [{"a": 1}])


# -- the retainer (a MERGE root) ------------------------------------------------------------------


def test_a_nested_null_in_the_retainer_is_absent_and_get_still_answers(emqx_server: EmqxServer) -> None:
    before = ok(get(emqx_server, RETAINER))
    expected = {**before, "backend": {"type": "built_in_database"}}
    body = {"enable": True, "backend": {"type": "built_in_database", "storage_type": None}}
    assert ok(put(emqx_server, RETAINER, body)) == expected
    assert ok(get(emqx_server, RETAINER)) == expected
    assert _stored(emqx_server, "kept", "x")  # runs with the backend's defaults


def test_a_null_retainer_field_falls_back_to_its_default(emqx_server: EmqxServer) -> None:
    before = ok(get(emqx_server, RETAINER))
    ok(put(emqx_server, RETAINER, {"max_payload_size": "4b", "flow_control": {"batch_read_number": 5}}))
    assert not _stored(emqx_server, "big", "0123456789")
    expected = {**before, "flow_control": {}}
    assert ok(put(emqx_server, RETAINER, {"max_payload_size": None, "flow_control": {"batch_read_number": None}})) == expected
    assert ok(get(emqx_server, RETAINER)) == expected
    assert _stored(emqx_server, "big", "0123456789")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"backend": {"type": "built_in_database", "storage_type": {}}},
            hocon(value={}, reason="unable_to_convert_to_enum_symbol", path="root.backend.storage_type"),
        ),
        (
            {"backend": {"type": "built_in_database", "storage_type": 5}},
            hocon(value=5, reason="not_a_enum_symbol", path="root.backend.storage_type"),
        ),
        (
            {"backend": {"type": ["built_in_database"]}},
            hocon(value=["built_in_database"], reason="unable_to_convert_to_enum_symbol", path="root.backend.type"),
        ),
        (
            {"flow_control": {"batch_read_number": "x"}},
            hocon(value="x", reason={"expected": "non_neg_integer()"}, path="root.flow_control.batch_read_number"),
        ),
        (
            {"flow_control": {"batch_read_number": -1}},
            hocon(value=-1, reason={"expected": "non_neg_integer()"}, path="root.flow_control.batch_read_number"),
        ),
        (
            {"flow_control": {"bogus": 1}},
            hocon(unmatched="batch_deliver_limiter,batch_deliver_number,...", unknown="bogus", reason="unknown_fields", path="root.flow_control"),
        ),
        ({"flow_control": 7}, hocon(value=7, reason="bad_value_for_struct", path="root.flow_control")),
    ],
    ids=["enum-object", "enum-integer", "enum-array", "integer-text", "integer-negative", "unknown-field", "struct-integer"],
)
def test_a_wrongly_typed_nested_retainer_field_is_refused_and_nothing_changes(
    emqx_server: EmqxServer, body: dict[str, Any], message: str
) -> None:
    before = ok(get(emqx_server, RETAINER))
    error(put(emqx_server, RETAINER, body), 400, "BAD_REQUEST", message)
    assert ok(get(emqx_server, RETAINER)) == before


def test_an_array_sent_as_hocon_indexed_object_is_kept_raw(emqx_server: EmqxServer) -> None:
    """hocon reads `{"1": ...}` as an array and EMQX's raw config echoes it as sent."""
    before = ok(get(emqx_server, RETAINER))
    backend = {"type": "built_in_database", "index_specs": {"1": [1, 2]}}
    assert ok(put(emqx_server, RETAINER, {"backend": backend})) == {**before, "backend": backend}
    assert ok(get(emqx_server, RETAINER)) == {**before, "backend": backend}


# -- authorization settings (a REPLACE_FIELDS root) -----------------------------------------------


def test_null_settings_fall_back_to_their_defaults(emqx_server: EmqxServer) -> None:
    defaults = ok(get(emqx_server, SETTINGS))
    ok(put(emqx_server, SETTINGS, {"no_match": "deny", "deny_action": "disconnect", "cache": {"max_size": 5, "ttl": "5m"}}))
    body = {"no_match": None, "deny_action": "disconnect", "cache": {"enable": None, "max_size": None, "ttl": "5m", "excludes": None}}
    expected = {**defaults, "deny_action": "disconnect", "cache": {**defaults["cache"], "ttl": "5m"}}
    assert ok(put(emqx_server, SETTINGS, body)) == expected
    assert ok(get(emqx_server, SETTINGS)) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"no_match": {}}, hocon(value={}, reason="unable_to_convert_to_enum_symbol", path="no_match")),
        ({"deny_action": [1]}, hocon(value=[1], reason="unable_to_convert_to_enum_symbol", path="deny_action")),
        ({"cache": None}, hocon(reason="required_field", path="cache")),
        ({"cache": {"enable": {}}}, hocon(value={}, reason="Unable to parse boolean value", path="cache.enable")),
    ],
    ids=["enum-object", "enum-array", "null-required", "boolean-object"],
)
def test_wrongly_typed_settings_are_refused_and_nothing_changes(emqx_server: EmqxServer, body: dict[str, Any], message: str) -> None:
    before = ok(get(emqx_server, SETTINGS))
    error(put(emqx_server, SETTINGS, {**before, **body}), 400, "BAD_REQUEST", message)
    assert ok(get(emqx_server, SETTINGS)) == before


# -- authenticators (a collection) ----------------------------------------------------------------


def _simple_name_error(value: Any) -> str:
    return hocon(
        value=value,
        reason="unable_to_convert_to_enum_symbol",
        path="root.password_hash_algorithm.name",
        matched_type="authn:builtin_db_api/authn_hash:simple",
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ({}, _simple_name_error({})),
        ([], _simple_name_error([])),
        (1.5, _simple_name_error(1.5)),
        # `union_selector/1` sees a name (null) and picks `simple`, whose struct drops it
        (None, hocon(reason="required_field", path="root.password_hash_algorithm.name", matched_type="authn:builtin_db_api/authn_hash:simple")),
    ],
    ids=["object", "array", "float", "null"],
)
def test_an_algorithm_name_of_the_wrong_type_is_refused_on_create_and_update(
    emqx_server: EmqxServer, name: Any, message: str
) -> None:
    body = {**BUILTIN, "password_hash_algorithm": {"name": name}}
    error(post(emqx_server, "/authentication", body), 400, "BAD_REQUEST", message)
    assert ok(get(emqx_server, "/authentication")) == []
    created = ok(post(emqx_server, "/authentication", {**BUILTIN, "password_hash_algorithm": {"name": "sha256"}}))
    error(put(emqx_server, f"/authentication/{ID}", body), 400, "BAD_REQUEST", message)
    assert ok(get(emqx_server, "/authentication")) == [created]


def test_nested_nulls_in_an_authenticator_take_the_defaults(emqx_server: EmqxServer) -> None:
    body = {**BUILTIN, "enable": None, "user_id_type": None, "password_hash_algorithm": {"name": "sha256", "salt_position": None}}
    created = ok(post(emqx_server, "/authentication", body))
    assert (created["enable"], created["user_id_type"], created["password_hash_algorithm"]) == (
        True,
        "username",
        {"name": "sha256", "salt_position": "prefix"},
    )
    assert ok(get(emqx_server, "/authentication")) == [created]


# -- API keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "desc", "enable"])
def test_a_null_api_key_field_is_absent_and_the_handler_crashes_as_emqx_does(emqx_server: EmqxServer, field: str) -> None:
    """`api_key(post, _)` matches the checked body (nulls dropped) against name, desc and enable."""
    headers = {"Authorization": f"Bearer {emqx_server.login('admin', 'public')}"}
    keys = requests.get(emqx_server.api_url + "/api_key", headers=headers, timeout=30).json()
    body = {"name": "k_null", "desc": "d", "enable": True, field: None}
    response = requests.post(emqx_server.api_url + "/api_key", json=body, headers=headers, timeout=30)
    error(response, 500, "INTERNAL_ERROR", "error, badmatch, []")
    assert requests.get(emqx_server.api_url + "/api_key", headers=headers, timeout=30).json() == keys
