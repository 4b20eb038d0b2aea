"""The small cluster-wide endpoints of the fake EMQX 5.8.9: `/status` (`emqx_mgmt_api_status`),
`/cluster` (`emqx_mgmt_api_cluster`), `/alarms` (`emqx_mgmt_api_alarms`, `emqx_alarm`),
`/error_codes` (`emqx_dashboard_error_code_api`, `http_api.hrl`) and `/sessions_count`
(`emqx_mgmt_api_clients`, `emqx_cm_registry_keeper`).

What is asserted was read from EMQX's source at v5.8.9 (surface notes §6.8 as corrected by it):
statuses, exact bodies and headers, and the state afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from api import get, post

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v5.endpoints import alarms as alarms_api
from pytest_emqx_mock.state import alarms as alarms_state

NODE = "emqx@127.0.0.1"
N1, N2 = "emqx@n1", "emqx@n2"
NO_AUTH = {"code": "AUTHORIZATION_HEADER_ERROR", "message": "Support authorization: basic/bearer "}
T0 = 1700000000.123  # 2023-11-14T22:13:20.123+00:00


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> float:
    """Alarm durations and deactivation times computed at a fixed instant, T0 + 12.3456 s."""
    instant = T0 + 12.3456
    monkeypatch.setattr(alarms_api, "now", lambda: instant)
    monkeypatch.setattr(alarms_state, "now", lambda: instant)
    return instant




def bad_request(inner: dict[str, Any]) -> dict[str, str]:
    """A schema error: hocon's error object as JSON text, keys descending."""
    return {"code": "BAD_REQUEST", "message": json.dumps(dict(sorted(inner.items(), reverse=True)), separators=(",", ":"))}


def alarm_state(server: EmqxServer) -> list[tuple[str, str, float | None]]:
    return [(a.node, a.name, a.deactivate_at) for a in server.broker.alarms]


# -- /status ------------------------------------------------------------------------------

STATUS_TEXT = f"Node {NODE} is started\nemqx is running"
STATUS_JSON = f'{{"rel_vsn":"v5.8.9","node_name":"{NODE}","broker_status":"started","app_status":"running"}}'


@pytest.mark.parametrize("prefixed", [True, False], ids=["api_v5", "bare"])
def test_status_text_without_credentials(emqx_server: EmqxServer, prefixed: bool) -> None:
    url = (emqx_server.api_url if prefixed else emqx_server.url) + "/status"
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert response.text == STATUS_TEXT
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["retry-after"] == "15"


@pytest.mark.parametrize("prefixed", [True, False], ids=["api_v5", "bare"])
def test_status_json_is_encoded_by_emqx_keys_descending(emqx_server: EmqxServer, prefixed: bool) -> None:
    url = (emqx_server.api_url if prefixed else emqx_server.url) + "/status"
    response = requests.get(url, params={"format": "json"}, timeout=30)
    assert response.status_code == 200
    assert response.text == STATUS_JSON
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "15"


@pytest.mark.parametrize("fmt", ["text", "anything", "JSON", ""])
@pytest.mark.parametrize("prefixed", [True, False], ids=["api_v5", "bare"])
def test_status_any_other_format_is_text(emqx_server: EmqxServer, prefixed: bool, fmt: str) -> None:
    url = (emqx_server.api_url if prefixed else emqx_server.url) + "/status"
    response = requests.get(url, params={"format": fmt}, timeout=30)
    assert (response.status_code, response.text) == (200, STATUS_TEXT)
    assert response.headers["content-type"] == "text/plain"


def test_status_ignores_credentials_even_bad_ones(emqx_server: EmqxServer) -> None:
    for url in (emqx_server.api_url + "/status", emqx_server.url + "/status"):
        response = requests.get(url, auth=("nobody", "wrong"), timeout=30)
        assert (response.status_code, response.text) == (200, STATUS_TEXT)
        response = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=30)
        assert (response.status_code, response.text) == (200, STATUS_TEXT)


def test_status_repeated_format_minirest_takes_the_last_cowboy_the_first(emqx_server: EmqxServer) -> None:
    query = "?format=json&format=text"
    prefixed = requests.get(emqx_server.api_url + "/status" + query, timeout=30)
    bare = requests.get(emqx_server.url + "/status" + query, timeout=30)
    assert (prefixed.status_code, prefixed.text) == (200, STATUS_TEXT)
    assert (bare.status_code, bare.text) == (200, STATUS_JSON)


def test_bare_status_answers_every_method_the_prefixed_one_only_get(emqx_server: EmqxServer) -> None:
    for method in ("POST", "PUT", "DELETE"):
        bare = requests.request(method, emqx_server.url + "/status?format=json", timeout=30)
        assert (bare.status_code, bare.text) == (200, STATUS_JSON)
        assert bare.headers["retry-after"] == "15"
        prefixed = requests.request(method, emqx_server.api_url + "/status", timeout=30)
        assert (prefixed.status_code, prefixed.text) == (405, "")
        assert prefixed.headers["allow"] == "GET"


@pytest.mark.parametrize("prefixed", [True, False], ids=["api_v5", "bare"])
def test_status_503_when_the_application_is_not_running(emqx_server: EmqxServer, prefixed: bool) -> None:
    emqx_server.broker.set_node_status(NODE, "stopped")
    url = (emqx_server.api_url if prefixed else emqx_server.url) + "/status"
    text = requests.get(url, timeout=30)
    assert (text.status_code, text.text) == (503, f"Node {NODE} is stopped\nemqx is not_running")
    assert text.headers["content-type"] == "text/plain"
    assert text.headers["retry-after"] == "15"
    as_json = requests.get(url, params={"format": "json"}, timeout=30)
    assert as_json.status_code == 503
    assert as_json.text == f'{{"rel_vsn":"v5.8.9","node_name":"{NODE}","broker_status":"stopped","app_status":"not_running"}}'
    assert as_json.headers["retry-after"] == "15"


def test_status_names_the_serving_node_while_any_node_runs(cluster: EmqxServer) -> None:
    cluster.broker.set_node_status(N1, "stopped")
    response = requests.get(cluster.url + "/status", timeout=30)
    assert (response.status_code, response.text) == (200, f"Node {N2} is started\nemqx is running")


def test_status_enterprise_release_prefix(ee: EmqxServer) -> None:
    response = requests.get(ee.url + "/status", params={"format": "json"}, timeout=30)
    assert response.status_code == 200
    assert response.text == f'{{"rel_vsn":"e5.8.9","node_name":"{NODE}","broker_status":"started","app_status":"running"}}'


# -- /cluster -----------------------------------------------------------------------------


def test_cluster_info(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/cluster")
    assert response.status_code == 200
    assert response.text == f'{{"name":"emqxcl","nodes":["{NODE}"],"self":"{NODE}"}}'


def test_cluster_lists_running_nodes_only(cluster: EmqxServer) -> None:
    assert get(cluster, "/cluster").json() == {"name": "emqxcl", "nodes": [N1, N2], "self": N1}
    cluster.broker.set_node_status(N1, "stopped")
    assert get(cluster, "/cluster").json() == {"name": "emqxcl", "nodes": [N2], "self": N2}


def test_cluster_needs_credentials(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/cluster", auth=None)
    assert (response.status_code, response.json()) == (401, NO_AUTH)


# -- GET /alarms ----------------------------------------------------------------------------


def test_alarms_empty(emqx_server: EmqxServer) -> None:
    for activated in (None, "true", "false"):
        response = get(emqx_server, "/alarms", {"activated": activated})
        assert response.status_code == 200
        assert response.json() == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}


def test_alarm_objects_exactly(emqx_server: EmqxServer, frozen_now: float) -> None:
    broker = emqx_server.broker
    broker.add_alarm("high_system_memory_usage", message="System memory usage is higher than 70%",
                     details={"high_watermark": 70, "b": {"z": 1, "a": 2}}, activate_at=T0)  # fmt: skip
    broker.add_alarm("conn_congestion/c1/u1", message="connection congested", activate_at=T0 - 3600.5,
                     deactivate_at=T0 - 1.25)  # fmt: skip
    active = get(emqx_server, "/alarms")  # activated defaults to true
    assert active.status_code == 200
    assert active.text == (
        '{"data":[{"activate_at":"2023-11-14T22:13:20.123+00:00","details":{"b":{"a":2,"z":1},"high_watermark":70},'
        '"duration":12345,"message":"System memory usage is higher than 70%","name":"high_system_memory_usage",'
        f'"node":"{NODE}"}}],"meta":{{"count":1,"hasnext":false,"limit":100,"page":1}}}}'
    )
    history = get(emqx_server, "/alarms", {"activated": "false"})
    assert history.status_code == 200
    assert history.json() == {
        "data": [
            {
                "node": NODE,
                "name": "conn_congestion/c1/u1",
                "message": "connection congested",
                "details": {},
                "duration": 3599250,
                "activate_at": "2023-11-14T21:13:19.623+00:00",
                "deactivate_at": "2023-11-14T22:13:18.873+00:00",
            }
        ],
        "meta": {"page": 1, "limit": 100, "count": 1, "hasnext": False},
    }


def test_alarm_times_are_truncated_to_milliseconds(emqx_server: EmqxServer) -> None:
    emqx_server.broker.add_alarm("a", activate_at=T0 + 0.0009994, deactivate_at=T0 + 0.0029)
    row = get(emqx_server, "/alarms", {"activated": "false"}).json()["data"][0]
    assert (row["activate_at"], row["deactivate_at"], row["duration"]) == (
        "2023-11-14T22:13:20.123+00:00",
        "2023-11-14T22:13:20.125+00:00",
        1,  # (2900 - 999) microseconds, in whole milliseconds
    )


def names(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


def test_alarm_order_activated_by_name_descending_history_newest_first(emqx_server: EmqxServer) -> None:
    broker = emqx_server.broker
    for name in ("b", "c", "a"):
        broker.add_alarm(name)
    for name, at in (("old", T0 - 30), ("new", T0 - 10), ("mid", T0 - 20)):
        broker.add_alarm(name, activate_at=at, deactivate_at=T0)
    assert names(get(emqx_server, "/alarms")) == ["c", "b", "a"]
    assert names(get(emqx_server, "/alarms", {"activated": "false"})) == ["new", "mid", "old"]


def test_alarms_node_by_node_running_nodes_only(cluster: EmqxServer) -> None:
    broker = cluster.broker
    broker.add_alarm("z2", node=N2)
    broker.add_alarm("a1", node=N1)
    broker.add_alarm("a2", node=N2)
    rows = get(cluster, "/alarms").json()
    assert [(row["node"], row["name"]) for row in rows["data"]] == [(N1, "a1"), (N2, "z2"), (N2, "a2")]
    assert rows["meta"]["count"] == 3
    broker.set_node_status(N1, "stopped")
    rows = get(cluster, "/alarms").json()
    assert [(row["node"], row["name"]) for row in rows["data"]] == [(N2, "z2"), (N2, "a2")]
    assert rows["meta"] == {"page": 1, "limit": 100, "count": 2, "hasnext": False}


def test_alarm_pages(emqx_server: EmqxServer) -> None:
    for name in ("a", "b", "c"):
        emqx_server.broker.add_alarm(name)
    pages = [get(emqx_server, "/alarms", {"page": page, "limit": 2}) for page in (1, 2, 3)]
    assert [names(page) for page in pages] == [["c", "b"], ["a"], []]
    assert [page.json()["meta"] for page in pages] == [
        {"page": 1, "limit": 2, "count": 3, "hasnext": True},
        {"page": 2, "limit": 2, "count": 3, "hasnext": False},
        {"page": 3, "limit": 2, "count": 3, "hasnext": False},
    ]


def test_alarm_page_ending_with_the_table_still_says_hasnext(emqx_server: EmqxServer) -> None:
    """EMQX reads each table in chunks of `limit` rows; a full chunk comes with a continuation,
    so a page that ends exactly at the end of the table reports `hasnext: true`."""
    for name in ("a", "b"):
        emqx_server.broker.add_alarm(name)
    first = get(emqx_server, "/alarms", {"limit": 2})
    assert (names(first), first.json()["meta"]) == (["b", "a"], {"page": 1, "limit": 2, "count": 2, "hasnext": True})
    second = get(emqx_server, "/alarms", {"page": 2, "limit": 2})
    assert (names(second), second.json()["meta"]) == ([], {"page": 2, "limit": 2, "count": 2, "hasnext": False})


def test_alarm_page_ending_with_a_node_says_hasnext_while_nodes_remain(cluster: EmqxServer) -> None:
    cluster.broker.add_alarm("x", node=N1)
    first = get(cluster, "/alarms", {"limit": 2})
    assert (names(first), first.json()["meta"]["hasnext"]) == (["x"], False)  # a short chunk ends the table
    cluster.broker.add_alarm("y", node=N1)
    first = get(cluster, "/alarms", {"limit": 2})
    assert (names(first), first.json()["meta"]["hasnext"]) == (["y", "x"], True)  # N2 not yet read
    cluster.broker.add_alarm("z", node=N2)
    pages = [get(cluster, "/alarms", {"page": page, "limit": 2}) for page in (1, 2)]
    assert [names(page) for page in pages] == [["y", "x"], ["z"]]
    assert [page.json()["meta"] for page in pages] == [
        {"page": 1, "limit": 2, "count": 3, "hasnext": True},
        {"page": 2, "limit": 2, "count": 3, "hasnext": False},
    ]


@pytest.mark.parametrize(
    "params, inner",
    [
        ({"page": "0"}, {"value": 0, "reason": {"expected": "pos_integer()"}, "path": "page", "kind": "validation_error"}),
        ({"page": "x"}, {"value": "x", "reason": {"expected": "pos_integer()"}, "path": "page", "kind": "validation_error"}),
        ({"limit": "0"}, {"value": 0, "reason": {"expected": "1..10000"}, "path": "limit", "kind": "validation_error"}),
        ({"limit": "10001"}, {"value": 10001, "reason": {"expected": "1..10000"}, "path": "limit", "kind": "validation_error"}),
        ({"activated": "maybe"}, {"value": "maybe", "reason": "Unable to parse boolean value", "path": "activated", "kind": "validation_error"}),
        ({"activated": "1"}, {"value": "1", "reason": "Unable to parse boolean value", "path": "activated", "kind": "validation_error"}),
    ],
)  # fmt: skip
def test_alarm_list_bad_parameters(emqx_server: EmqxServer, params: dict[str, str], inner: dict[str, Any]) -> None:
    emqx_server.broker.add_alarm("a")
    response = get(emqx_server, "/alarms", params)
    assert (response.status_code, response.json()) == (400, bad_request(inner))


def test_alarms_need_credentials(emqx_server: EmqxServer) -> None:
    emqx_server.broker.add_alarm("a", deactivate_at=T0 + 1, activate_at=T0)
    response = get(emqx_server, "/alarms", auth=None)
    assert (response.status_code, response.json()) == (401, NO_AUTH)
    response = requests.delete(emqx_server.api_url + "/alarms", timeout=30)
    assert (response.status_code, response.json()) == (401, NO_AUTH)
    response = post(emqx_server, "/alarms/force_deactivate", {"name": "a"}, auth=None)
    assert (response.status_code, response.json()) == (401, NO_AUTH)
    assert alarm_state(emqx_server) == [(NODE, "a", T0 + 1)]


# -- DELETE /alarms -------------------------------------------------------------------------


def test_delete_alarms_clears_the_history_of_running_nodes(cluster: EmqxServer) -> None:
    broker = cluster.broker
    broker.add_alarm("active", node=N1)
    broker.add_alarm("old1", node=N1, activate_at=T0, deactivate_at=T0 + 1)
    broker.add_alarm("old2", node=N2, activate_at=T0 + 2, deactivate_at=T0 + 3)
    broker.add_alarm("kept", node=N2, activate_at=T0 + 4)
    broker.set_node_status(N2, "stopped")
    response = requests.delete(cluster.api_url + "/alarms", auth=cluster.auth, timeout=30)
    assert (response.status_code, response.text) == (204, "")
    assert alarm_state(cluster) == [(N1, "active", None), (N2, "old2", T0 + 3), (N2, "kept", None)]
    assert names(get(cluster, "/alarms", {"activated": "false"})) == []
    assert names(get(cluster, "/alarms")) == ["active"]


# -- POST /alarms/force_deactivate ------------------------------------------------------------


def test_force_deactivate(emqx_server: EmqxServer, frozen_now: float) -> None:
    emqx_server.broker.add_alarm("high_cpu_usage", message="CPU is high", details={"usage": "91%"}, activate_at=T0)
    emqx_server.broker.add_alarm("other")
    response = post(emqx_server, "/alarms/force_deactivate", {"name": "high_cpu_usage"})
    assert (response.status_code, response.text) == (204, "")
    assert names(get(emqx_server, "/alarms")) == ["other"]
    assert get(emqx_server, "/alarms", {"activated": "false"}).json()["data"] == [
        {
            "node": NODE,
            "name": "high_cpu_usage",
            "message": "CPU is high",
            "details": {"usage": "91%"},
            "duration": 12345,
            "activate_at": "2023-11-14T22:13:20.123+00:00",
            "deactivate_at": "2023-11-14T22:13:32.468+00:00",
        }
    ]
    again = post(emqx_server, "/alarms/force_deactivate", {"name": "high_cpu_usage"})
    assert (again.status_code, again.json()) == (400, {"code": "NOT_FOUND", "message": "Alarm not found or already deactivated"})
    assert alarm_state(emqx_server) == [(NODE, "high_cpu_usage", frozen_now), (NODE, "other", None)]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": None}, None], ids=["empty", "blank", "null", "no_body"])
def test_force_deactivate_needs_a_name(emqx_server: EmqxServer, body: Any) -> None:
    emqx_server.broker.add_alarm("a")
    if body is None:
        response = requests.post(emqx_server.api_url + "/alarms/force_deactivate", auth=emqx_server.auth, timeout=30)
    else:
        response = post(emqx_server, "/alarms/force_deactivate", body)
    assert (response.status_code, response.json()) == (400, {"code": "INVALID_PARAMETER", "message": "name is required"})
    assert alarm_state(emqx_server) == [(NODE, "a", None)]


def test_force_deactivate_unknown_alarm(emqx_server: EmqxServer) -> None:
    emqx_server.broker.add_alarm("a")
    emqx_server.broker.add_alarm("b", activate_at=T0, deactivate_at=T0 + 1)
    for name in ("nope", "b", 123):
        response = post(emqx_server, "/alarms/force_deactivate", {"name": name})
        assert (response.status_code, response.json()) == (400, {"code": "NOT_FOUND", "message": "Alarm not found or already deactivated"})
    assert alarm_state(emqx_server) == [(NODE, "a", None), (NODE, "b", T0 + 1)]


def test_force_deactivate_acts_on_the_serving_node_only(cluster: EmqxServer) -> None:
    """The alarm tables are node-local: the request's node deactivates only its own alarm."""
    cluster.broker.add_alarm("shared", node=N2)
    response = post(cluster, "/alarms/force_deactivate", {"name": "shared"})
    assert (response.status_code, response.json()) == (400, {"code": "NOT_FOUND", "message": "Alarm not found or already deactivated"})
    assert alarm_state(cluster) == [(N2, "shared", None)]
    cluster.broker.add_alarm("shared", node=N1)
    assert post(cluster, "/alarms/force_deactivate", {"name": "shared"}).status_code == 204
    assert [(node, name, at is None) for node, name, at in alarm_state(cluster)] == [(N2, "shared", True), (N1, "shared", False)]


@pytest.mark.parametrize(
    "body, inner",
    [
        ({"name": "a", "x": 1}, {"reason": "unknown_fields", "path": "root", "unknown": "x", "unmatched": "none", "kind": "validation_error"}),
        ({"x": 1}, {"reason": "unknown_fields", "path": "root", "unknown": "x", "unmatched": "name", "kind": "validation_error"}),
        ({"name": ["a"]}, {"value": ["a"], "reason": {"expected": "binary()"}, "path": "root.name", "kind": "validation_error"}),
        ({"name": True}, {"value": True, "reason": {"expected": "binary()"}, "path": "root.name", "kind": "validation_error"}),
        (["a"], {"value": ["a"], "reason": "bad_value_for_struct", "path": "root", "kind": "validation_error"}),
    ],
)  # fmt: skip
def test_force_deactivate_bad_body(emqx_server: EmqxServer, body: Any, inner: dict[str, Any]) -> None:
    emqx_server.broker.add_alarm("a")
    response = post(emqx_server, "/alarms/force_deactivate", body)
    assert (response.status_code, response.json()) == (400, bad_request(inner))
    assert alarm_state(emqx_server) == [(NODE, "a", None)]


def test_force_deactivate_needs_a_json_body(emqx_server: EmqxServer) -> None:
    emqx_server.broker.add_alarm("a")
    response = requests.post(
        emqx_server.api_url + "/alarms/force_deactivate", data="name=a", auth=emqx_server.auth,
        headers={"content-type": "text/plain"}, timeout=30,
    )  # fmt: skip
    assert (response.status_code, response.json()) == (415, {"code": "UNSUPPORTED_MEDIA_TYPE", "message": "content-type:application/json Required"})
    assert alarm_state(emqx_server) == [(NODE, "a", None)]


def test_deactivation_keeps_at_most_size_limit_alarms_of_history(emqx_server: EmqxServer) -> None:
    broker = emqx_server.broker
    for index in range(alarms_state.SIZE_LIMIT):
        broker.add_alarm(f"old{index}", activate_at=T0 + index, deactivate_at=T0 + index + 0.5)
    broker.add_alarm("now_active", activate_at=T0 - 100)
    assert post(emqx_server, "/alarms/force_deactivate", {"name": "now_active"}).status_code == 204
    history = [a for a in broker.alarms if not a.activated]
    assert len(history) == 1000
    # the earliest activated alarm of the full history is dropped before the new one joins it
    assert "old0" not in {a.name for a in history}
    assert {"old1", "old999", "now_active"} <= {a.name for a in history}


# -- /error_codes ----------------------------------------------------------------------------

ERROR_CODES = [
    {"code": "BAD_USERNAME_OR_PWD", "description": "Bad username or password"},
    {"code": "BAD_API_KEY_OR_SECRET", "description": "Bad API key or secret"},
    {"code": "BAD_REQUEST", "description": "Request parameters are invalid"},
    {"code": "NOT_MATCH", "description": "Conditions are not matched"},
    {"code": "ALREADY_EXISTS", "description": "Resource already existed"},
    {"code": "BAD_CONFIG_SCHEMA", "description": "Configuration data is invalid"},
    {"code": "BAD_LISTENER_ID", "description": "Bad listener ID"},
    {"code": "BAD_NODE_NAME", "description": "Bad Node Name"},
    {"code": "BAD_RPC", "description": "RPC Failed. Check the cluster status and the requested node status"},
    {"code": "BAD_TOPIC", "description": "Topic syntax error, Topic needs to comply with the MQTT protocol standard"},
    {"code": "EXCEED_LIMIT", "description": "Create resources that exceed the maximum limit or minimum limit"},
    {"code": "INVALID_PARAMETER", "description": "Request parameters is invalid and exceeds the boundary value"},
    {"code": "CONFLICT", "description": "Conflicting request resources"},
    {"code": "NO_DEFAULT_VALUE", "description": "Request parameters do not use default values"},
    {"code": "DEPENDENCY_EXISTS", "description": "Resource is dependent by another resource"},
    {"code": "MESSAGE_ID_SCHEMA_ERROR", "description": "Message ID parsing error"},
    {"code": "INVALID_ID", "description": "Bad ID schema"},
    {"code": "MESSAGE_ID_NOT_FOUND", "description": "Message ID does not exist"},
    {"code": "NOT_FOUND", "description": "Resource was not found or does not exist"},
    {"code": "CLIENTID_NOT_FOUND", "description": "Client ID was not found or does not exist"},
    {"code": "CLIENT_NOT_FOUND", "description": "Client was not found or does not exist(usually not a MQTT client)"},
    {"code": "RESOURCE_NOT_FOUND", "description": "Resource not found"},
    {"code": "TOPIC_NOT_FOUND", "description": "Topic not found"},
    {"code": "USER_NOT_FOUND", "description": "User not found"},
    {"code": "INTERNAL_ERROR", "description": "Server inter error"},
    {"code": "SERVICE_UNAVAILABLE", "description": "Service unavailable"},
    {"code": "SOURCE_ERROR", "description": "Source error"},
    {"code": "UPDATE_FAILED", "description": "Update failed"},
    {"code": "REST_FAILED", "description": "Reset source or config failed"},
    {"code": "CLIENT_NOT_RESPONSE", "description": "Client not responding"},
    {"code": "UNSUPPORTED_MEDIA_TYPE", "description": "Unsupported media type"},
]


def test_error_codes_without_credentials(emqx_server: EmqxServer) -> None:
    response = requests.get(emqx_server.api_url + "/error_codes", timeout=30)
    assert response.status_code == 200
    assert response.json() == ERROR_CODES
    assert len(ERROR_CODES) == 31
    assert response.text.startswith('[{"code":"BAD_USERNAME_OR_PWD","description":"Bad username or password"},')


def test_error_code_each_without_credentials(emqx_server: EmqxServer) -> None:
    for entry in ERROR_CODES:
        response = requests.get(emqx_server.api_url + "/error_codes/" + entry["code"], timeout=30)
        assert (response.status_code, response.json()) == (200, entry)
    response = requests.get(emqx_server.api_url + "/error_codes/BAD_REQUEST", auth=("no", "such"), timeout=30)
    assert response.text == '{"code":"BAD_REQUEST","description":"Request parameters are invalid"}'


@pytest.mark.parametrize(
    "code, inner",
    [
        ("NO_SUCH_CODE_ZZ", {"value": "NO_SUCH_CODE_ZZ", "reason": "unable_to_convert_to_enum_symbol", "path": "code", "kind": "validation_error"}),
        ("5", {"value": 5, "reason": "not_a_enum_symbol", "path": "code", "kind": "validation_error"}),
    ],
)  # fmt: skip
def test_error_code_unknown_is_a_schema_error(emqx_server: EmqxServer, code: str, inner: dict[str, Any]) -> None:
    response = requests.get(emqx_server.api_url + "/error_codes/" + code, timeout=30)
    assert (response.status_code, response.json()) == (400, bad_request(inner))


# -- /sessions_count -------------------------------------------------------------------------


def test_sessions_count_is_a_bare_integer(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/sessions_count")
    assert (response.status_code, response.text) == (200, "0")
    assert response.headers["content-type"] == "application/json"
    emqx_server.add_client("c1", connected=True)
    emqx_server.add_client("c2", connected=True)
    emqx_server.add_client("c3", connected=True, expiry_interval=3600)
    emqx_server.broker.disconnect("c3")  # its session stays registered
    response = get(emqx_server, "/sessions_count")
    assert (response.status_code, response.text) == (200, "3")


def test_sessions_count_since_changes_nothing_without_session_history(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.add_client("c2")
    for since in ("0", "1705391625", "99999999999"):
        response = get(emqx_server, "/sessions_count", {"since": since})
        assert (response.status_code, response.text) == (200, "2")


def test_sessions_count_running_nodes_only(cluster: EmqxServer) -> None:
    cluster.add_client("a", node=N1)
    cluster.add_client("b", node=N2)
    cluster.add_client("c", node=N2)
    assert get(cluster, "/sessions_count").text == "3"
    cluster.broker.set_node_status(N2, "stopped")
    assert get(cluster, "/sessions_count").text == "1"
    cluster.broker.expire("a")
    assert get(cluster, "/sessions_count").text == "0"


def test_sessions_count_needs_credentials(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/sessions_count", auth=None)
    assert (response.status_code, response.json()) == (401, NO_AUTH)


@pytest.mark.parametrize(
    "since, inner",
    [
        ("-1", {"value": -1, "reason": {"expected": "non_neg_integer()"}, "path": "since", "kind": "validation_error"}),
        ("abc", {"value": "abc", "reason": {"expected": "non_neg_integer()"}, "path": "since", "kind": "validation_error"}),
        ("1.5", {"value": 1.5, "reason": {"expected": "non_neg_integer()"}, "path": "since", "kind": "validation_error"}),
    ],
)  # fmt: skip
def test_sessions_count_bad_since(emqx_server: EmqxServer, since: str, inner: dict[str, Any]) -> None:
    emqx_server.add_client("c1")
    response = get(emqx_server, "/sessions_count", {"since": since})
    assert (response.status_code, response.json()) == (400, bad_request(inner))
    assert len(emqx_server.broker.sessions) == 1
