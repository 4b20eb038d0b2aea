"""The client endpoints of the fake EMQX 5.8.9 (`emqx_mgmt_api_clients`).

What is asserted comes from the reference notes (emqx5-api-surface.md §4.1, §4.2, §4.4, §5,
§6.3) as corrected by the research notes (endpoints.md §1-§5, §9 and validation.md), which were
checked against EMQX v5.8.9's own code: statuses, exact bodies, and the state afterwards.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import OrderedDict
from typing import Any

import pytest
import requests
from api import delete, get, post, put

from pytest_emqx_mock import EmqxServer

NODE = "emqx@127.0.0.1"
NOT_FOUND = {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}
MSGID = re.compile(r"^[0-9A-F]{32}$")
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")

# Every key of an in-memory client object in EMQX 5.8.9 (surface §6.3), `disconnected_at` aside.
CLIENT_KEYS = {
    "clientid", "username", "node", "ip_address", "port", "listener", "proto_name", "proto_ver",
    "clean_start", "keepalive", "expiry_interval", "connected", "created_at", "connected_at",
    "is_bridge", "is_expired", "is_persistent", "durable", "enable_authn", "mountpoint",
    "client_attrs", "peersni", "auth_expire_at", "subscriptions_cnt", "subscriptions_max",
    "inflight_cnt", "inflight_max", "mqueue_len", "mqueue_max", "mqueue_dropped",
    "awaiting_rel_cnt", "awaiting_rel_max", "recv_cnt", "recv_oct", "recv_pkt", "recv_msg",
    "recv_msg.qos0", "recv_msg.qos1", "recv_msg.qos2", "recv_msg.dropped",
    "recv_msg.dropped.await_pubrel_timeout", "send_cnt", "send_oct", "send_pkt", "send_msg",
    "send_msg.qos0", "send_msg.qos1", "send_msg.qos2", "send_msg.dropped",
    "send_msg.dropped.expired", "send_msg.dropped.queue_full", "send_msg.dropped.too_large",
    "mailbox_len", "heap_size", "reductions",
}  # fmt: skip

STATS = {
    "recv_cnt": 11, "recv_oct": 120, "recv_pkt": 12, "recv_msg": 7, "recv_msg.qos0": 4,
    "recv_msg.qos1": 2, "recv_msg.qos2": 1, "recv_msg.dropped": 0,
    "recv_msg.dropped.await_pubrel_timeout": 0, "send_cnt": 9, "send_oct": 300, "send_pkt": 9,
    "send_msg": 5, "send_msg.qos0": 3, "send_msg.qos1": 1, "send_msg.qos2": 1,
    "send_msg.dropped": 2, "send_msg.dropped.expired": 1, "send_msg.dropped.queue_full": 1,
    "send_msg.dropped.too_large": 0, "mailbox_len": 0, "heap_size": 2586, "reductions": 12345,
}  # fmt: skip


# -- helpers ------------------------------------------------------------------------------






def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["clientid"] for row in response.json()["data"]]


def all_ids(server: EmqxServer) -> list[str]:
    return ids(get(server, "/clients", {"limit": 10000}))


def schema_error(**inner: Any) -> dict[str, str]:
    """A 400 schema error: `message` is compact JSON text whose keys run in descending order
    (jiffy); `inner` is given in that order."""
    return {"code": "BAD_REQUEST", "message": json.dumps(inner, separators=(",", ":"), ensure_ascii=False)}


def ordered(response: requests.Response) -> Any:
    """The body with every object's keys in the order they were written."""
    return json.loads(response.text, object_pairs_hook=OrderedDict)


def assert_descending_keys(value: Any) -> None:
    if isinstance(value, dict):
        keys = list(value)
        assert keys == sorted(keys, reverse=True), keys
        for item in value.values():
            assert_descending_keys(item)
    elif isinstance(value, list):
        for item in value:
            assert_descending_keys(item)


def subscriptions_of(server: EmqxServer, clientid: str) -> list[dict[str, Any]]:
    response = get(server, f"/clients/{clientid}/subscriptions")
    assert response.status_code == 200, response.text
    return sorted(response.json(), key=lambda s: s["topic"])


def sub_view(clientid: str, topic: str, qos: int = 0, nl: int = 0, rap: int = 0, rh: int = 0) -> dict[str, Any]:
    """One item of GET /clients/{id}/subscriptions (`emqx_mgmt_api_subscriptions:format/2`)."""
    return {"clientid": clientid, "durable": False, "nl": nl, "node": NODE, "qos": qos, "rap": rap, "rh": rh, "topic": topic}


def sub_reply(clientid: str, topic: str, qos: int = 0, nl: int = 0, rap: int = 0, rh: int = 0) -> dict[str, Any]:
    """The body of a successful POST /clients/{id}/subscribe."""
    return {"clientid": clientid, "nl": nl, "node": NODE, "qos": qos, "rap": rap, "rh": rh, "topic": topic}


# -- GET /clients: pagination and meta ---------------------------------------------------------


def test_list_empty_counted_meta(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}


def test_list_descending_clientid_and_pages(emqx_server: EmqxServer) -> None:
    for clientid in ("c3", "c1", "c5", "c2", "c4"):
        emqx_server.add_client(clientid)
    assert all_ids(emqx_server) == ["c5", "c4", "c3", "c2", "c1"]

    first = get(emqx_server, "/clients", {"limit": 2})
    assert ids(first) == ["c5", "c4"]
    assert first.json()["meta"] == {"page": 1, "limit": 2, "count": 5, "hasnext": True}
    second = get(emqx_server, "/clients", {"limit": 2, "page": 2})
    assert ids(second) == ["c3", "c2"]
    assert second.json()["meta"] == {"page": 2, "limit": 2, "count": 5, "hasnext": True}
    last = get(emqx_server, "/clients", {"limit": 2, "page": 3})
    assert ids(last) == ["c1"]
    assert last.json()["meta"] == {"page": 3, "limit": 2, "count": 5, "hasnext": False}


def test_list_page_past_the_end(emqx_server: EmqxServer) -> None:
    emqx_server.add_clients(3)
    response = get(emqx_server, "/clients", {"limit": 2, "page": 7})
    assert response.status_code == 200
    assert response.json() == {"data": [], "meta": {"page": 7, "limit": 2, "count": 3, "hasnext": False}}


def test_list_exact_page_boundary_has_no_next(emqx_server: EmqxServer) -> None:
    for clientid in ("a", "b", "c", "d"):
        emqx_server.add_client(clientid)
    response = get(emqx_server, "/clients", {"limit": 2, "page": 2})
    assert ids(response) == ["b", "a"]
    assert response.json()["meta"] == {"page": 2, "limit": 2, "count": 4, "hasnext": False}


def test_list_filtered_counted_meta(emqx_server: EmqxServer) -> None:
    for index in range(5):
        emqx_server.add_client(f"u{index}", username="alice" if index % 2 == 0 else "bob")
    response = get(emqx_server, "/clients", {"username": "alice", "limit": 2})
    assert ids(response) == ["u4", "u2"]
    assert response.json()["meta"] == {"page": 1, "limit": 2, "count": 3, "hasnext": True}
    response = get(emqx_server, "/clients", {"username": "alice", "limit": 2, "page": 3})
    assert response.json() == {"data": [], "meta": {"page": 3, "limit": 2, "count": 3, "hasnext": False}}


def test_like_filter_meta_has_no_count(emqx_server: EmqxServer) -> None:
    for clientid in ("dev-1", "dev-2", "dev-3", "other"):
        emqx_server.add_client(clientid)
    response = get(emqx_server, "/clients", {"like_clientid": "dev", "limit": 2})
    assert ids(response) == ["dev-3", "dev-2"]
    assert response.json()["meta"] == {"page": 1, "limit": 2, "hasnext": True}
    response = get(emqx_server, "/clients", {"like_clientid": "dev", "limit": 2, "page": 2})
    assert ids(response) == ["dev-1"]
    assert response.json()["meta"] == {"page": 2, "limit": 2, "hasnext": False}
    response = get(emqx_server, "/clients", {"like_clientid": "dev", "limit": 2, "page": 5})
    assert response.json() == {"data": [], "meta": {"page": 5, "limit": 2, "hasnext": False}}


def test_like_username_meta_has_no_count(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a", username="sensor-alpha")
    emqx_server.add_client("b", username="gateway")
    response = get(emqx_server, "/clients", {"like_username": "sensor"})
    assert ids(response) == ["a"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "hasnext": False}


def test_like_dropped_when_exact_key_present_and_count_returns(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", username="u1")
    emqx_server.add_client("c2", username="u2")
    response = get(emqx_server, "/clients", {"clientid": "c1", "like_clientid": "nomatch"})
    assert ids(response) == ["c1"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 1, "hasnext": False}
    response = get(emqx_server, "/clients", {"username": "u2", "like_username": "nomatch"})
    assert ids(response) == ["c2"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 1, "hasnext": False}


def test_like_of_one_key_narrows_exact_filter_of_other(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("dev-1", username="u1")
    emqx_server.add_client("dev-2", username="u2")
    emqx_server.add_client("x-3", username="u1")
    response = get(emqx_server, "/clients", {"username": "u1", "like_clientid": "dev"})
    assert ids(response) == ["dev-1"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "hasnext": False}


def test_like_is_case_sensitive_substring(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("Sensor-1", username="Alice")
    emqx_server.add_client("my-sensor-2", username="malice")
    emqx_server.add_client("s.n*r", username=None)
    assert ids(get(emqx_server, "/clients", {"like_clientid": "sensor"})) == ["my-sensor-2"]
    assert ids(get(emqx_server, "/clients", {"like_clientid": "Sensor"})) == ["Sensor-1"]
    assert ids(get(emqx_server, "/clients", {"like_clientid": "ens"})) == ["my-sensor-2", "Sensor-1"]
    # no regex, no wildcards
    assert ids(get(emqx_server, "/clients", {"like_clientid": "s.n"})) == ["s.n*r"]
    assert ids(get(emqx_server, "/clients", {"like_clientid": "S.*"})) == []
    assert ids(get(emqx_server, "/clients", {"like_username": "lice"})) == ["my-sensor-2", "Sensor-1"]
    assert ids(get(emqx_server, "/clients", {"like_username": "Ali"})) == ["Sensor-1"]
    assert ids(get(emqx_server, "/clients", {"like_username": "ali"})) == ["my-sensor-2"]


def test_empty_like_crashes_when_rows_are_scanned(emqx_server: EmqxServer) -> None:
    assert get(emqx_server, "/clients", {"like_clientid": ""}).status_code == 200  # nothing scanned
    emqx_server.add_client("c1")
    response = get(emqx_server, "/clients", {"like_clientid": ""})
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"


# -- GET /clients: filters ------------------------------------------------------------------


def test_filter_clientid_repeatable_or(emqx_server: EmqxServer) -> None:
    for clientid in ("a", "b", "c", "d"):
        emqx_server.add_client(clientid)
    response = get(emqx_server, "/clients", [("clientid", "a"), ("clientid", "c"), ("clientid", "zz")])
    assert ids(response) == ["c", "a"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 2, "hasnext": False}
    # duplicates are harmless
    assert ids(get(emqx_server, "/clients", [("clientid", "b"), ("clientid", "b")])) == ["b"]
    assert ids(get(emqx_server, "/clients", {"clientid": "nope"})) == []


def test_filter_username_repeatable_or(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a", username="u1")
    emqx_server.add_client("b", username="u2")
    emqx_server.add_client("c", username="u3")
    emqx_server.add_client("d", username=None)
    response = get(emqx_server, "/clients", [("username", "u1"), ("username", "u3")])
    assert ids(response) == ["c", "a"]
    assert response.json()["meta"]["count"] == 2


def test_filters_of_different_keys_and_together(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a", username="u1", proto_ver=5, connected=True)
    emqx_server.add_client("b", username="u1", proto_ver=4, connected=False)
    emqx_server.add_client("c", username="u2", proto_ver=4, connected=False)
    emqx_server.add_client("d", username="u1", proto_ver=4, connected=True)
    response = get(emqx_server, "/clients", {"username": "u1", "proto_ver": "4", "conn_state": "disconnected"})
    assert ids(response) == ["b"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 1, "hasnext": False}
    response = get(emqx_server, "/clients", [("clientid", "a"), ("clientid", "c"), ("username", "u1")])
    assert ids(response) == ["a"]


def test_filter_ip_address(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a", ip_address="10.0.0.1")
    emqx_server.add_client("b", ip_address="10.0.0.2")
    emqx_server.add_client("c", ip_address="10.0.0.1")
    response = get(emqx_server, "/clients", {"ip_address": "10.0.0.1"})
    assert ids(response) == ["c", "a"]
    assert response.json()["meta"]["count"] == 2
    assert ids(get(emqx_server, "/clients", {"ip_address": "10.0.0.3"})) == []
    assert ids(get(emqx_server, "/clients", {"ip_address": "::1"})) == []  # IPv6 parses


@pytest.mark.parametrize("value", ["127.0.0.1:8080", "not-an-ip", "10.0.0"])
def test_filter_ip_address_invalid(emqx_server: EmqxServer, value: str) -> None:
    emqx_server.add_client("a", ip_address="127.0.0.1")
    response = get(emqx_server, "/clients", {"ip_address": value})
    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_PARAMETER",
        "message": f"the ip_address parameter expected type is ip, but the value is {value}",
    }


def test_filter_ip_address_invalid_with_node_is_internal_error(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a")
    response = get(emqx_server, "/clients", {"ip_address": "127.0.0.1:8080", "node": NODE})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "INTERNAL_ERROR"
    assert body["message"].startswith('throw, {bad_value_type,{<<"ip_address">>,ip,<<"127.0.0.1:8080">>}}, ')


def test_filter_proto_ver_invalid(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a")
    response = get(emqx_server, "/clients", {"proto_ver": "abc"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_PARAMETER",
        "message": "the proto_ver parameter expected type is integer, but the value is abc",
    }
    response = get(emqx_server, "/clients", {"proto_ver": "abc", "node": NODE})
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert response.json()["message"].startswith('throw, {bad_value_type,{<<"proto_ver">>,integer,<<"abc">>}}, ')


def test_filter_proto_ver(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("v3", proto_ver=3)
    emqx_server.add_client("v4", proto_ver=4)
    emqx_server.add_client("v5", proto_ver=5)
    assert ids(get(emqx_server, "/clients", {"proto_ver": "4"})) == ["v4"]
    assert ids(get(emqx_server, "/clients", {"proto_ver": "05"})) == ["v5"]  # binary_to_integer
    assert ids(get(emqx_server, "/clients", {"proto_ver": "+3"})) == ["v3"]
    assert ids(get(emqx_server, "/clients", {"proto_ver": "6"})) == []


def test_filter_conn_state(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("on1", connected=True)
    emqx_server.add_client("off1", connected=False)
    emqx_server.add_client("on2", connected=True)
    response = get(emqx_server, "/clients", {"conn_state": "connected"})
    assert ids(response) == ["on2", "on1"]
    assert response.json()["meta"]["count"] == 2
    assert ids(get(emqx_server, "/clients", {"conn_state": "disconnected"})) == ["off1"]
    idle = get(emqx_server, "/clients", {"conn_state": "idle"})
    assert idle.json() == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}


def test_filter_conn_state_invalid(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients", {"conn_state": "bogus_state_zz"})
    assert response.status_code == 400
    assert response.json() == schema_error(
        value="bogus_state_zz", reason="unable_to_convert_to_enum_symbol", path="conn_state", kind="validation_error"
    )


def test_filter_clean_start(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("clean", clean_start=True)
    emqx_server.add_client("keep", clean_start=False, expiry_interval=100)
    assert ids(get(emqx_server, "/clients", {"clean_start": "true"})) == ["clean"]
    assert ids(get(emqx_server, "/clients", {"clean_start": "false"})) == ["keep"]
    response = get(emqx_server, "/clients", {"clean_start": "maybe"})
    assert response.status_code == 400
    assert response.json() == schema_error(
        value="maybe", reason="Unable to parse boolean value", path="clean_start", kind="validation_error"
    )


BASE = 1_700_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture
def timed_clients(emqx_server: EmqxServer) -> EmqxServer:
    emqx_server.add_client("t0", created_at=BASE, connected_at=BASE + 100)
    emqx_server.add_client("t1", created_at=BASE + 10, connected_at=BASE + 110)
    emqx_server.add_client("t2", created_at=BASE + 20.5, connected_at=BASE + 120.5)
    return emqx_server


def test_filter_created_at_epoch_ms_inclusive(timed_clients: EmqxServer) -> None:
    server = timed_clients
    assert ids(get(server, "/clients", {"gte_created_at": str(BASE * 1000 + 10_000)})) == ["t2", "t1"]
    assert ids(get(server, "/clients", {"lte_created_at": str(BASE * 1000 + 10_000)})) == ["t1", "t0"]
    both = {"gte_created_at": str(BASE * 1000 + 10_000), "lte_created_at": str(BASE * 1000 + 20_500)}
    response = get(server, "/clients", both)
    assert ids(response) == ["t2", "t1"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 2, "hasnext": False}
    assert ids(get(server, "/clients", {"gte_created_at": str(BASE * 1000 + 10_001)})) == ["t2"]
    assert ids(get(server, "/clients", {"lte_created_at": str(BASE * 1000 + 20_499)})) == ["t1", "t0"]


def test_filter_created_at_rfc3339(timed_clients: EmqxServer) -> None:
    server = timed_clients
    assert ids(get(server, "/clients", {"gte_created_at": "2023-11-14T22:13:30Z"})) == ["t2", "t1"]
    assert ids(get(server, "/clients", {"lte_created_at": "2023-11-15T06:13:30+08:00"})) == ["t1", "t0"]
    assert ids(get(server, "/clients", {"gte_created_at": "2023-11-14T22:13:40.500+00:00"})) == ["t2"]
    assert ids(get(server, "/clients", {"gte_created_at": "2023-11-14T22:13:40.501Z"})) == []


def test_filter_connected_at(timed_clients: EmqxServer) -> None:
    server = timed_clients
    params = {"gte_connected_at": str((BASE + 110) * 1000), "lte_connected_at": "2023-11-14T22:15:10Z"}
    assert ids(get(server, "/clients", params)) == ["t1"]
    assert ids(get(server, "/clients", {"gte_connected_at": str((BASE + 100) * 1000)})) == ["t2", "t1", "t0"]
    assert ids(get(server, "/clients", {"lte_connected_at": str((BASE + 100) * 1000 - 1)})) == []


def test_filter_time_invalid(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients", {"gte_created_at": "notatime"})
    assert response.status_code == 400
    assert response.json() == schema_error(
        value="notatime", reason="bad_rfc3339_timestamp", path="gte_created_at", kind="validation_error"
    )
    response = get(emqx_server, "/clients", {"lte_connected_at": "-1"})
    assert response.status_code == 400
    assert response.json() == schema_error(value="-1", reason="bad_epoch", path="lte_connected_at", kind="validation_error")


# -- GET /clients: nodes ------------------------------------------------------------------


def test_node_filter_and_node_order() -> None:
    with EmqxServer(nodes=("emqx@n1", "emqx@n2")) as server:
        server.add_client("a1", node="emqx@n1")
        server.add_client("z1", node="emqx@n1")
        server.add_client("b2", node="emqx@n2")
        server.add_client("y2", node="emqx@n2")
        # per node descending clientid, nodes in running-node order
        assert all_ids(server) == ["z1", "a1", "y2", "b2"]
        paged = get(server, "/clients", {"limit": 3, "page": 2})
        assert ids(paged) == ["b2"]
        assert paged.json()["meta"] == {"page": 2, "limit": 3, "count": 4, "hasnext": False}
        response = get(server, "/clients", {"node": "emqx@n2"})
        assert ids(response) == ["y2", "b2"]
        assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 2, "hasnext": False}
        assert [row["node"] for row in response.json()["data"]] == ["emqx@n2", "emqx@n2"]
        assert ids(get(server, "/clients", {"node": "emqx@n1", "clientid": "b2"})) == []


def test_node_filter_single_node(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = get(emqx_server, "/clients", {"node": NODE})
    assert ids(response) == ["c1"]


def test_unknown_node_is_node_down(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = get(emqx_server, "/clients", {"node": "foo"})
    assert response.status_code == 500
    assert response.json() == {"code": "NODE_DOWN", "message": 'bad rpc call <<"foo">>, Reason <<"invalid node">>'}


# -- GET /clients: fields -----------------------------------------------------------------


def test_fields_subset_sorted_keys(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", username="u1", stats={"recv_msg.qos0": 7})
    response = get(emqx_server, "/clients", {"fields": "username,recv_msg.qos0,clientid,client_attrs"})
    assert response.status_code == 200
    data = ordered(response)["data"]
    assert data == [{"client_attrs": {}, "clientid": "c1", "recv_msg.qos0": 7, "username": "u1"}]
    assert list(data[0]) == ["client_attrs", "clientid", "recv_msg.qos0", "username"]
    assert response.json()["meta"] == {"page": 1, "limit": 100, "count": 1, "hasnext": False}


def test_fields_all_is_full_object(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    full = get(emqx_server, "/clients").json()["data"]
    assert get(emqx_server, "/clients", {"fields": "all"}).json()["data"] == full


def test_fields_missing_key_left_out_duplicates_and_trailing_commas(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("on", connected=True)
    emqx_server.add_client("off", connected=False, disconnected_at=BASE)
    response = get(emqx_server, "/clients", {"fields": "clientid,disconnected_at,clientid,"})
    assert response.json()["data"] == [
        {"clientid": "on"},
        {"clientid": "off", "disconnected_at": "2023-11-14T22:13:20.000+00:00"},
    ]


@pytest.mark.parametrize("value", ["", ",,"])
def test_fields_empty_gives_empty_rows(emqx_server: EmqxServer, value: str) -> None:
    emqx_server.add_client("a")
    emqx_server.add_client("b")
    response = get(emqx_server, "/clients", {"fields": value})
    assert response.status_code == 200
    assert response.json() == {"data": [{}, {}], "meta": {"page": 1, "limit": 100, "count": 2, "hasnext": False}}


def _fields_union_error(values: list[str], index: int, reason: str) -> dict[str, str]:
    return schema_error(
        reason="matched_no_union_member",
        path="fields",
        mismatches={
            "array": {"value": values[index - 1], "reason": reason, "path": f"fields.{index}", "kind": "validation_error"},
            "all": {"value": values, "reason": {"expected": "all"}, "path": "fields", "kind": "validation_error"},
        },
        kind="validation_error",
    )


def test_fields_bogus_exact_error(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients", {"fields": "bogus"})
    assert response.status_code == 400
    assert response.json() == _fields_union_error(["bogus"], 1, "unable_to_convert_to_enum_symbol")
    assert response.text == (
        '{"code":"BAD_REQUEST","message":"{\\"reason\\":\\"matched_no_union_member\\",\\"path\\":\\"fields\\",'
        '\\"mismatches\\":{\\"array\\":{\\"value\\":\\"bogus\\",\\"reason\\":\\"unable_to_convert_to_enum_symbol\\",'
        '\\"path\\":\\"fields.1\\",\\"kind\\":\\"validation_error\\"},\\"all\\":{\\"value\\":[\\"bogus\\"],'
        '\\"reason\\":{\\"expected\\":\\"all\\"},\\"path\\":\\"fields\\",\\"kind\\":\\"validation_error\\"}},'
        '\\"kind\\":\\"validation_error\\"}"}'
    )


def test_fields_second_item_bad(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients", {"fields": "clientid,bogus"})
    assert response.status_code == 400
    assert response.json() == _fields_union_error(["clientid", "bogus"], 2, "unable_to_convert_to_enum_symbol")


@pytest.mark.parametrize("name", ["listener", "peersni", "is_persistent", "enable_authn"])
def test_fields_not_requestable(emqx_server: EmqxServer, name: str) -> None:
    """Keys of the client object that are not in the `fields` enum cannot be asked for."""
    emqx_server.add_client("c1")
    response = get(emqx_server, "/clients", {"fields": f"clientid,{name}"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BAD_REQUEST"
    message = json.loads(body["message"])
    assert message["reason"] == "matched_no_union_member"
    assert message["mismatches"]["array"]["value"] == name
    assert message["mismatches"]["array"]["path"] == "fields.2"
    # these names are atoms in a running node, so hocon reports them as not in the enum
    assert message["mismatches"]["array"]["reason"] in ("not_a_enum_symbol", "unable_to_convert_to_enum_symbol")
    assert message["mismatches"]["all"]["value"] == ["clientid", name]


def test_fields_repeated_parameter_crashes_converter(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients", [("fields", "clientid"), ("fields", "username")])
    assert response.status_code == 400
    assert response.json() == schema_error(
        reason="converter_crashed", path="fields", kind="validation_error", exception="{error,function_clause}"
    )


# -- the client object --------------------------------------------------------------------


def test_client_object_every_field(emqx_server: EmqxServer) -> None:
    emqx_server.add_client(
        "dev-1",
        username="alice",
        ip_address="192.168.1.5",
        port=51234,
        proto_ver=4,
        clean_start=False,
        keepalive=30,
        expiry_interval=7200,
        created_at=BASE + 0.123,
        connected_at=BASE + 1.456,
        client_attrs={"group": "g1"},
        inflight_max=16,
        mqueue_max=500,
        stats=STATS,
        subscriptions=["a/b", {"topic": "c/#", "qos": 1}],
        mqueue=["m1", "m2", "m3"],
        inflight=["i1"],
    )
    expected = {
        "clientid": "dev-1",
        "username": "alice",
        "node": NODE,
        "ip_address": "192.168.1.5",
        "port": 51234,
        "listener": "tcp:default",
        "proto_name": "MQTT",
        "proto_ver": 4,
        "clean_start": False,
        "keepalive": 30,
        "expiry_interval": 7200,
        "connected": True,
        "created_at": "2023-11-14T22:13:20.123+00:00",
        "connected_at": "2023-11-14T22:13:21.456+00:00",
        "is_bridge": False,
        "is_expired": False,
        "is_persistent": False,
        "durable": False,
        "enable_authn": True,
        "mountpoint": None,
        "client_attrs": {"group": "g1"},
        "peersni": None,
        "auth_expire_at": None,
        "subscriptions_cnt": 2,
        "subscriptions_max": "infinity",
        "inflight_cnt": 1,
        "inflight_max": 16,
        "mqueue_len": 3,
        "mqueue_max": 500,
        "mqueue_dropped": 0,
        "awaiting_rel_cnt": 0,
        "awaiting_rel_max": 100,
        **STATS,
    }
    one = get(emqx_server, "/clients/dev-1")
    assert one.status_code == 200
    assert one.json() == expected
    assert set(one.json()) == CLIENT_KEYS
    listed = get(emqx_server, "/clients")
    assert listed.json()["data"] == [expected]


def test_client_object_defaults(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", username=None)
    row = get(emqx_server, "/clients/c1").json()
    assert set(row) == CLIENT_KEYS
    assert row["username"] is None
    assert row["mountpoint"] is None
    assert row["peersni"] is None
    assert row["auth_expire_at"] is None
    assert row["client_attrs"] == {}
    assert row["connected"] is True
    assert "disconnected_at" not in row
    assert RFC3339_MS.match(row["created_at"]) and RFC3339_MS.match(row["connected_at"])
    assert (row["inflight_max"], row["mqueue_max"], row["awaiting_rel_max"]) == (32, 1000, 100)
    assert (row["subscriptions_cnt"], row["inflight_cnt"], row["mqueue_len"]) == (0, 0, 0)
    assert (row["is_expired"], row["is_persistent"], row["durable"], row["enable_authn"]) == (False, False, False, True)
    assert row["listener"] == "tcp:default" and row["proto_name"] == "MQTT"


def test_disconnected_but_alive_session(emqx_server: EmqxServer) -> None:
    emqx_server.add_client(
        "gone", connected=False, created_at=BASE, connected_at=BASE + 1, disconnected_at=BASE + 2.789
    )
    row = get(emqx_server, "/clients/gone").json()
    assert row["connected"] is False
    assert row["expiry_interval"] > 0
    assert row["disconnected_at"] == "2023-11-14T22:13:22.789+00:00"
    assert row["connected_at"] == "2023-11-14T22:13:21.000+00:00"
    assert set(row) == CLIENT_KEYS | {"disconnected_at"}
    # a seeded disconnected session without explicit fields still outlives its connection
    emqx_server.add_client("gone2", connected=False)
    row = get(emqx_server, "/clients/gone2").json()
    assert row["connected"] is False and row["expiry_interval"] > 0
    assert RFC3339_MS.match(row["disconnected_at"])


def test_client_optional_values_present(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", mountpoint="tenant/", peersni="example.com", auth_expire_at=BASE + 3600)
    row = get(emqx_server, "/clients/c1").json()
    assert row["mountpoint"] == "tenant/"
    assert row["peersni"] == "example.com"
    assert row["auth_expire_at"] == (BASE + 3600) * 1000


def test_counts_follow_state(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("c1", subscriptions=["a", "b", "c"], mqueue=["1", "2"], inflight=["x", "y", "z", "w"])
    row = get(emqx_server, "/clients/c1").json()
    assert (row["subscriptions_cnt"], row["mqueue_len"], row["inflight_cnt"]) == (3, 2, 4)
    assert post(emqx_server, "/clients/c1/subscribe", {"topic": "d"}).status_code == 200
    assert post(emqx_server, "/clients/c1/unsubscribe", {"topic": "a"}).status_code == 204
    assert post(emqx_server, "/clients/c1/unsubscribe", {"topic": "b"}).status_code == 204
    row = get(emqx_server, "/clients/c1").json()
    assert row["subscriptions_cnt"] == 2
    assert sorted(session.subscriptions) == ["c", "d"]
    # seeded state changed directly on the live session shows at once
    session.subscribe("e/#", qos=2)
    assert get(emqx_server, "/clients/c1").json()["subscriptions_cnt"] == 3
    assert get(emqx_server, "/clients", {"fields": "subscriptions_cnt"}).json()["data"] == [{"subscriptions_cnt": 3}]


# -- GET / DELETE /clients/{clientid} --------------------------------------------------------


def test_get_unknown_client(emqx_server: EmqxServer) -> None:
    response = get(emqx_server, "/clients/nope")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_clientid_with_special_characters(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a b/c")
    response = get(emqx_server, "/clients/a%20b%2Fc")
    assert response.status_code == 200
    assert response.json()["clientid"] == "a b/c"


def test_kick_client(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.add_client("c2", connected=False)
    response = delete(emqx_server, "/clients/c1")
    assert response.status_code == 204
    assert response.content == b""
    assert get(emqx_server, "/clients/c1").status_code == 404
    assert all_ids(emqx_server) == ["c2"]
    assert delete(emqx_server, "/clients/c2").status_code == 204  # a disconnected session is discarded too
    assert get(emqx_server, "/clients").json() == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}


def test_kick_unknown_client(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = delete(emqx_server, "/clients/nope")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert all_ids(emqx_server) == ["c1"]


def test_kickout_bulk(emqx_server: EmqxServer) -> None:
    for clientid in ("a", "b", "c", "d"):
        emqx_server.add_client(clientid)
    response = post(emqx_server, "/clients/kickout/bulk", ["a", "c", "unknown"])
    assert response.status_code == 204
    assert response.content == b""
    assert all_ids(emqx_server) == ["d", "b"]
    assert get(emqx_server, "/clients/a").status_code == 404


@pytest.mark.parametrize("body", [[], {}])
def test_kickout_bulk_empty(emqx_server: EmqxServer, body: Any) -> None:
    emqx_server.add_client("a")
    assert post(emqx_server, "/clients/kickout/bulk", body).status_code == 204
    assert all_ids(emqx_server) == ["a"]


def test_kickout_bulk_integers_are_clientids(emqx_server: EmqxServer) -> None:
    for clientid in ("1", "2", "3"):
        emqx_server.add_client(clientid)
    assert post(emqx_server, "/clients/kickout/bulk", [1, 2]).status_code == 204
    assert all_ids(emqx_server) == ["3"]


@pytest.mark.parametrize(
    ("body", "inner"),
    [
        (["a", {"x": 1}], {"value": {"x": 1}, "reason": {"expected": "binary()"}, "path": "root.2", "kind": "validation_error"}),
        ({"a": 1}, {"path": "root", "kind": "validation_error", "bad_array_index_keys": ["a"]}),
        (5, {"path": "root", "kind": "validation_error", "got": 5, "expected_data_type": "array"}),
    ],
)
def test_kickout_bulk_bad_items(emqx_server: EmqxServer, body: Any, inner: dict[str, Any]) -> None:
    emqx_server.add_client("a")
    response = post(emqx_server, "/clients/kickout/bulk", body)
    assert response.status_code == 400
    assert response.json() == schema_error(**inner)
    assert all_ids(emqx_server) == ["a"]  # nothing kicked


# -- subscriptions ------------------------------------------------------------------------


def test_list_client_subscriptions(emqx_server: EmqxServer) -> None:
    emqx_server.add_client(
        "c1", subscriptions=["a/b", {"topic": "x/#", "qos": 2, "nl": 1, "rap": 1, "rh": 2}, {"topic": "$share/g/s", "qos": 1}]
    )
    assert subscriptions_of(emqx_server, "c1") == [
        sub_view("c1", "$share/g/s", qos=1),
        sub_view("c1", "a/b"),
        sub_view("c1", "x/#", qos=2, nl=1, rap=1, rh=2),
    ]


def test_list_client_subscriptions_empty_and_unknown(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = get(emqx_server, "/clients/c1/subscriptions")
    assert response.status_code == 200 and response.json() == []
    response = get(emqx_server, "/clients/nope/subscriptions")
    assert response.status_code == 404 and response.json() == NOT_FOUND


def test_subscribe_defaults(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": "t/1"})
    assert response.status_code == 200
    assert response.json() == sub_reply("c1", "t/1")
    assert response.text == '{"clientid":"c1","nl":0,"node":"emqx@127.0.0.1","qos":0,"rap":0,"rh":0,"topic":"t/1"}'
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "t/1")]
    assert "t/1" in emqx_server.client("c1").subscriptions


def test_subscribe_shared_with_options(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": "$share/g/t", "qos": 1, "rap": 1, "rh": 2})
    assert response.status_code == 200
    assert response.text == '{"clientid":"c1","nl":0,"node":"emqx@127.0.0.1","qos":1,"rap":1,"rh":2,"topic":"$share/g/t"}'
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "$share/g/t", qos=1, rap=1, rh=2)]


def test_subscribe_again_replaces_options(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=[{"topic": "t", "qos": 0}])
    assert post(emqx_server, "/clients/c1/subscribe", {"topic": "t", "qos": 2}).json() == sub_reply("c1", "t", qos=2)
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "t", qos=2)]
    assert get(emqx_server, "/clients/c1").json()["subscriptions_cnt"] == 1


def test_subscribe_numeric_topic_and_qos_string(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": 123, "qos": "2"})
    assert response.status_code == 200
    assert response.json() == sub_reply("c1", "123", qos=2)


def test_subscribe_unknown_client(emqx_server: EmqxServer) -> None:
    response = post(emqx_server, "/clients/nope/subscribe", {"topic": "t"})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_subscribe_qos_3(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["keep"])
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": "t", "qos": 3})
    assert response.status_code == 400
    assert response.json() == schema_error(value=3, reason="Unable to parse string", path="root.qos", kind="validation_error")
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "keep")]


def test_subscribe_body_schema_errors(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"qos": 1})
    assert response.status_code == 400
    assert response.json() == schema_error(reason="required_field", path="root.topic", kind="validation_error")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": "t", "bogus": 1})
    assert response.status_code == 400
    assert response.json() == schema_error(
        unmatched="nl,qos,...", unknown="bogus", reason="unknown_fields", path="root", kind="validation_error"
    )
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": "t", "qos": 3, "nl": "x"})
    assert response.status_code == 400
    assert json.loads(response.json()["message"]) == [
        {"value": 3, "reason": "Unable to parse string", "path": "root.qos", "kind": "validation_error"},
        {"value": "x", "reason": "Unable to parse integer value", "path": "root.nl", "kind": "validation_error"},
    ]
    assert subscriptions_of(emqx_server, "c1") == []


@pytest.mark.parametrize("topic", ["$share/g/t", "$queue/t"])
def test_subscribe_no_local_on_shared(emqx_server: EmqxServer, topic: str) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": topic, "nl": 1})
    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_PARAMETER",
        "message": "Invalid Subscribe options: `no_local` not allowed for shared-sub. See [MQTT-3.8.3-4]",
    }
    assert subscriptions_of(emqx_server, "c1") == []
    assert get(emqx_server, "/clients/c1").json()["subscriptions_cnt"] == 0


@pytest.mark.parametrize("topic", ["$share/g", "$share/g+/t", "$share/g/$share/x"])
def test_subscribe_unparseable_filter(emqx_server: EmqxServer, topic: str) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": topic})
    assert response.status_code == 500
    assert response.json() == {"code": "UNKNOWN_ERROR", "message": f'{{invalid_topic_filter,<<"{topic}">>}}'}
    assert subscriptions_of(emqx_server, "c1") == []


def test_an_unparseable_filter_prints_as_io_lib_does(emqx_server: EmqxServer) -> None:
    """The reason is `~p` of the filter: a quote in it is escaped."""
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": '$share/g"q'})
    assert response.status_code == 500
    assert response.json() == {"code": "UNKNOWN_ERROR", "message": '{invalid_topic_filter,<<"$share/g\\"q">>}'}


@pytest.mark.parametrize("topic", ["a/#/b", "a+/b", "x/#a"])
def test_subscribe_bad_levels_accepted_but_not_subscribed(emqx_server: EmqxServer, topic: str) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe", {"topic": topic, "qos": 1})
    assert response.status_code == 200
    assert response.json() == sub_reply("c1", topic, qos=1)
    assert subscriptions_of(emqx_server, "c1") == []
    assert get(emqx_server, "/clients/c1").json()["subscriptions_cnt"] == 0


def test_subscribe_bulk_all_succeed(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    body = [{"topic": "z"}, {"topic": "a/+", "qos": 2}, {"topic": "$share/g/m", "qos": 1, "rh": 1}]
    response = post(emqx_server, "/clients/c1/subscribe/bulk", body)
    assert response.status_code == 200
    assert response.json() == [
        sub_reply("c1", "z"),
        sub_reply("c1", "a/+", qos=2),
        sub_reply("c1", "$share/g/m", qos=1, rh=1),
    ]
    assert subscriptions_of(emqx_server, "c1") == [
        sub_view("c1", "$share/g/m", qos=1, rh=1),
        sub_view("c1", "a/+", qos=2),
        sub_view("c1", "z"),
    ]


def test_subscribe_bulk_with_failures(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    body = [
        {"topic": "$share/g", "qos": 1},
        {"topic": "ok/1"},
        {"topic": "$share/g/x", "nl": 1},
        {"topic": "ok/2", "qos": 2},
    ]
    response = post(emqx_server, "/clients/c1/subscribe/bulk", body)
    assert response.status_code == 200
    assert response.json() == {
        "failed": [
            {"data": ["c1", "$share/g/x", {"nl": 1, "qos": 0, "rap": 0, "rh": 0}], "reason": "invalid_subopts_nl"},
            {"data": ["c1", "$share/g", {"nl": 0, "qos": 1, "rap": 0, "rh": 0}], "reason": '{invalid_topic_filter,<<"$share/g">>}'},
        ],
        "succeed": [sub_reply("c1", "ok/1"), sub_reply("c1", "ok/2", qos=2)],
    }
    assert list(ordered(response)) == ["failed", "succeed"]
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "ok/1"), sub_view("c1", "ok/2", qos=2)]


def test_subscribe_bulk_unknown_client(emqx_server: EmqxServer) -> None:
    response = post(emqx_server, "/clients/nope/subscribe/bulk", [{"topic": "t"}])
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_subscribe_bulk_schema_errors(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = post(emqx_server, "/clients/c1/subscribe/bulk", [{"topic": "t"}, {"qos": 3}])
    assert response.status_code == 400
    assert json.loads(response.json()["message"]) == [
        {"reason": "required_field", "path": "root.2.topic", "kind": "validation_error"},
        {"value": 3, "reason": "Unable to parse string", "path": "root.2.qos", "kind": "validation_error"},
    ]
    assert subscriptions_of(emqx_server, "c1") == []  # the valid first item was not applied either


def test_unsubscribe(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["a", "b", "$share/g/c"])
    response = post(emqx_server, "/clients/c1/unsubscribe", {"topic": "a"})
    assert response.status_code == 204
    assert response.content == b""
    assert post(emqx_server, "/clients/c1/unsubscribe", {"topic": "$share/g/c"}).status_code == 204
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "b")]


def test_unsubscribe_unknown_topic(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["a"])
    assert post(emqx_server, "/clients/c1/unsubscribe", {"topic": "never"}).status_code == 204
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "a")]


def test_unsubscribe_missing_topic(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["a"])
    response = post(emqx_server, "/clients/c1/unsubscribe", {})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "INTERNAL_ERROR"
    assert body["message"].startswith('error, {badkey,<<"topic">>}, ')
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "a")]


def test_unsubscribe_unparseable_topic(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["a"])
    response = post(emqx_server, "/clients/c1/unsubscribe", {"topic": "$share/g"})
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "a")]


def test_unsubscribe_unknown_client(emqx_server: EmqxServer) -> None:
    response = post(emqx_server, "/clients/nope/unsubscribe", {"topic": "a"})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_unsubscribe_bulk(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["a", "b", "c", "d"])
    body = [{"topic": "a"}, {"topic": "c"}, {"topic": "never"}, {}, {"topic": "$share/g"}]
    response = post(emqx_server, "/clients/c1/unsubscribe/bulk", body)
    assert response.status_code == 204
    assert response.content == b""
    assert subscriptions_of(emqx_server, "c1") == [sub_view("c1", "b"), sub_view("c1", "d")]
    assert get(emqx_server, "/clients/c1").json()["subscriptions_cnt"] == 2


def test_unsubscribe_bulk_unknown_client(emqx_server: EmqxServer) -> None:
    response = post(emqx_server, "/clients/nope/unsubscribe/bulk", [{"topic": "a"}])
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# -- authorization cache ------------------------------------------------------------------

CACHE = [
    {"access": {"action_type": "publish", "qos": 1, "retain": False}, "result": "allow", "topic": "t/1", "updated_time": 1717000000123},
    {"access": {"action_type": "subscribe", "qos": 0}, "result": "deny", "topic": "t/#", "updated_time": 1717000000456},
]  # fmt: skip


def test_authz_cache_list_and_clean(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.add_client("c2")
    fresh = int(time.time() * 1000)  # within the cache's default ttl of a minute
    for entry in CACHE:
        emqx_server.client("c1").authz_cache.append({**entry, "updated_time": fresh})
    emqx_server.client("c1").authz_cache.append({**CACHE[0], "topic": "old/1"})  # cached in 2024: expired
    emqx_server.client("c2").authz_cache.append({**CACHE[0], "updated_time": fresh})
    response = get(emqx_server, "/clients/c1/authorization/cache")
    assert response.status_code == 200
    assert response.json() == [{**entry, "updated_time": fresh} for entry in CACHE]  # the expired entry dropped
    assert [entry["topic"] for entry in emqx_server.client("c1").authz_cache] == ["t/1", "t/#"]
    response = delete(emqx_server, "/clients/c1/authorization/cache")
    assert response.status_code == 204
    assert response.content == b""
    assert get(emqx_server, "/clients/c1/authorization/cache").json() == []
    assert get(emqx_server, "/clients/c2/authorization/cache").json() == [{**CACHE[0], "updated_time": fresh}]  # untouched


def test_authz_cache_empty(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    response = get(emqx_server, "/clients/c1/authorization/cache")
    assert response.status_code == 200 and response.json() == []
    assert delete(emqx_server, "/clients/c1/authorization/cache").status_code == 204


def test_authz_cache_unknown_client(emqx_server: EmqxServer) -> None:
    for response in (get(emqx_server, "/clients/nope/authorization/cache"), delete(emqx_server, "/clients/nope/authorization/cache")):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


# -- keepalive ----------------------------------------------------------------------------


def test_keepalive(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", keepalive=60)
    response = put(emqx_server, "/clients/c1/keepalive", {"interval": 120})
    assert response.status_code == 200
    body = response.json()
    assert body["keepalive"] == 120
    assert body == get(emqx_server, "/clients/c1").json()
    assert set(body) == CLIENT_KEYS
    assert emqx_server.client("c1").keepalive == 120


@pytest.mark.parametrize(("value", "expected"), [("10", 10), (0, 0), (65535, 65535)])
def test_keepalive_accepted_values(emqx_server: EmqxServer, value: Any, expected: int) -> None:
    emqx_server.add_client("c1", keepalive=60)
    response = put(emqx_server, "/clients/c1/keepalive", {"interval": value})
    assert response.status_code == 200
    assert response.json()["keepalive"] == expected
    assert get(emqx_server, "/clients/c1").json()["keepalive"] == expected


@pytest.mark.parametrize(
    ("value", "inner"),
    [
        (65536, {"value": 65536, "reason": {"expected": "0..65535"}, "path": "root.interval", "kind": "validation_error"}),
        (-1, {"value": -1, "reason": {"expected": "0..65535"}, "path": "root.interval", "kind": "validation_error"}),
        ("abc", {"value": "abc", "reason": {"expected": "0..65535"}, "path": "root.interval", "kind": "validation_error"}),
    ],
)
def test_keepalive_out_of_range(emqx_server: EmqxServer, value: Any, inner: dict[str, Any]) -> None:
    emqx_server.add_client("c1", keepalive=60)
    response = put(emqx_server, "/clients/c1/keepalive", {"interval": value})
    assert response.status_code == 400
    assert response.json() == schema_error(**inner)
    assert get(emqx_server, "/clients/c1").json()["keepalive"] == 60


def test_keepalive_without_interval(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", keepalive=60)
    response = put(emqx_server, "/clients/c1/keepalive", {})
    assert response.status_code == 400
    assert response.json() == {"code": "BAD_REQUEST", "message": "Interval Not Found"}
    assert get(emqx_server, "/clients/c1").json()["keepalive"] == 60


def test_keepalive_unknown_field(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", keepalive=60)
    response = put(emqx_server, "/clients/c1/keepalive", {"interval": 10, "x": 1})
    assert response.status_code == 400
    assert response.json() == schema_error(
        unmatched="none", unknown="x", reason="unknown_fields", path="root", kind="validation_error"
    )
    assert get(emqx_server, "/clients/c1").json()["keepalive"] == 60


def test_keepalive_unknown_client(emqx_server: EmqxServer) -> None:
    response = put(emqx_server, "/clients/nope/keepalive", {"interval": 10})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# -- mqueue_messages / inflight_messages ----------------------------------------------------


def messages(server: EmqxServer, clientid: str, kind: str, params: Any = None) -> requests.Response:
    return get(server, f"/clients/{clientid}/{kind}_messages", params)


def page_of(response: requests.Response) -> tuple[list[Any], dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["data"], body["meta"]


def test_mqueue_message_fields_and_key_order(emqx_server: EmqxServer) -> None:
    before = int(time.time() * 1000)
    emqx_server.add_client(
        "c1",
        mqueue=[{"topic": "t/1", "payload": "hello", "qos": 1, "from_clientid": "pub", "from_username": "alice"}],
    )
    after = int(time.time() * 1000)
    response = messages(emqx_server, "c1", "mqueue")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = ordered(response)
    assert list(body) == ["meta", "data"]
    assert list(body["meta"]) == ["start", "position"]
    assert_descending_keys(body)
    (item,) = body["data"]
    assert set(item) == {"topic", "qos", "publish_at", "payload", "msgid", "mqueue_priority", "inserted_at", "from_username", "from_clientid"}
    assert item["topic"] == "t/1"
    assert item["qos"] == 1
    assert item["payload"] == base64.b64encode(b"hello").decode()
    assert item["mqueue_priority"] == 0
    assert item["from_clientid"] == "pub"
    assert item["from_username"] == "alice"
    assert MSGID.match(item["msgid"])
    assert isinstance(item["publish_at"], int) and before <= item["publish_at"] <= after
    assert isinstance(item["inserted_at"], str) and item["inserted_at"].isdigit()
    position = f"{item['inserted_at']}_0"
    assert body["meta"] == {"start": position, "position": position}


def test_inflight_message_fields_and_key_order(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", inflight=[{"topic": "x/y", "payload": "p", "qos": 2}])
    response = messages(emqx_server, "c1", "inflight")
    body = ordered(response)
    assert list(body) == ["meta", "data"]
    assert_descending_keys(body)
    (item,) = body["data"]
    assert set(item) == {"topic", "qos", "publish_at", "payload", "msgid", "inserted_at", "from_username", "from_clientid"}
    assert (item["topic"], item["qos"], item["payload"]) == ("x/y", 2, "cA==")
    assert item["from_clientid"] == "http_api" and item["from_username"] == ""
    assert body["meta"] == {"start": item["inserted_at"], "position": item["inserted_at"]}


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_messages_empty_queue(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1")
    response = messages(emqx_server, "c1", kind)
    assert response.status_code == 200
    assert response.text == '{"meta":{"start":"none","position":"none"},"data":[]}'
    position = "1710785444656449826_0" if kind == "mqueue" else "1710785444656449826"
    response = messages(emqx_server, "c1", kind, {"position": position})
    assert response.json() == {"meta": {"start": "none", "position": position}, "data": []}
    assert messages(emqx_server, "c1", kind, {"position": "none"}).json() == {"meta": {"start": "none", "position": "none"}, "data": []}


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_messages_unknown_client(emqx_server: EmqxServer, kind: str) -> None:
    response = messages(emqx_server, "nope", kind)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_messages_payload_encodings(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1", **{kind: ["héllo", b"\x00\x01"]})
    data, _ = page_of(messages(emqx_server, "c1", kind))
    assert [m["payload"] for m in data] == [base64.b64encode("héllo".encode()).decode(), "AAE="]
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "base64"}))
    assert [m["payload"] for m in data] == [base64.b64encode("héllo".encode()).decode(), "AAE="]
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "none"}))
    assert len(data) == 2 and all("payload" not in m for m in data)
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "limit": 1}))
    assert [m["payload"] for m in data] == ["héllo"]


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_messages_plain_non_utf8(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1", **{kind: ["ok", b"\xff\xfe"]})
    response = messages(emqx_server, "c1", kind, {"payload": "plain"})
    assert response.status_code == 400
    assert response.json() == {"code": "INVALID_PARAMETER", "message": "Some message payloads are not JSON serializable"}
    assert len(page_of(messages(emqx_server, "c1", kind))[0]) == 2  # base64 still fine


def test_messages_payload_enum_invalid(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", mqueue=["a"])
    response = messages(emqx_server, "c1", "mqueue", {"payload": "bogus_enc_zz"})
    assert response.status_code == 400
    assert response.json() == schema_error(
        value="bogus_enc_zz", reason="unable_to_convert_to_enum_symbol", path="payload", kind="validation_error"
    )


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_max_payload_bytes_plain(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1", **{kind: ["a" * 60, "b" * 40, "c" * 1]})
    # 60 + 40 = 100 fits a budget of 100, the third would not
    data, meta = page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "max_payload_bytes": "100"}))
    assert [m["payload"] for m in data] == ["a" * 60, "b" * 40]
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "max_payload_bytes": "99"}))
    assert [m["payload"] for m in data] == ["a" * 60]
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "max_payload_bytes": "1B"}))
    assert [m["payload"] for m in data] == ["a" * 60]  # the first always comes, even over budget
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "none", "max_payload_bytes": "1"}))
    assert len(data) == 3  # without payloads nothing counts


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_max_payload_bytes_counts_base64_size(emqx_server: EmqxServer, kind: str) -> None:
    """The budget counts the payload as encoded in the response: 45 raw bytes are 60 in base64."""
    emqx_server.add_client("c1", **{kind: ["x" * 45, "y" * 45]})
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "max_payload_bytes": "100"}))
    assert len(data) == 2
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "base64", "max_payload_bytes": "100"}))
    assert [m["payload"] for m in data] == [base64.b64encode(b"x" * 45).decode()]
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "base64", "max_payload_bytes": "120"}))
    assert len(data) == 2


def test_max_payload_bytes_kb_and_mb(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", mqueue=["a" * 5000, "b" * 5000, "c" * 5000])
    for size in ("10KB", "10kb", "10240"):
        data, _ = page_of(messages(emqx_server, "c1", "mqueue", {"payload": "plain", "max_payload_bytes": size}))
        assert len(data) == 2, size
    emqx_server.add_client("c2", mqueue=["a" * 400_000, "b" * 400_000, "c" * 400_000])
    for params in ({}, {"max_payload_bytes": "1MB"}, {"max_payload_bytes": "1mb"}):
        data, _ = page_of(messages(emqx_server, "c2", "mqueue", {"payload": "plain", **params}))
        assert len(data) == 2, params  # 800,000 fits 1,048,576; 1,200,000 does not
    data, _ = page_of(messages(emqx_server, "c2", "mqueue", {"payload": "plain", "max_payload_bytes": "1GB"}))
    assert len(data) == 3


@pytest.mark.parametrize("value", ["0", "0KB", "-1"])
def test_max_payload_bytes_not_positive(emqx_server: EmqxServer, value: str) -> None:
    emqx_server.add_client("c1", mqueue=["a"])
    response = messages(emqx_server, "c1", "mqueue", {"max_payload_bytes": value})
    assert response.status_code == 400
    number = -1 if value == "-1" else 0
    assert response.json() == schema_error(
        value=number, reason="must be higher than 0", path="max_payload_bytes", kind="validation_error"
    )


@pytest.mark.parametrize("value", ["1M", "1.5MB", "1 MB", "abc", "Kb"])
def test_max_payload_bytes_not_a_bytesize(emqx_server: EmqxServer, value: str) -> None:
    emqx_server.add_client("c1", inflight=["a"])
    response = messages(emqx_server, "c1", "inflight", {"max_payload_bytes": value})
    assert response.status_code == 400
    assert response.json() == schema_error(
        value=value, reason="Not a valid bytesize", path="max_payload_bytes", kind="validation_error"
    )


def test_messages_limit_invalid(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", mqueue=["a"])
    response = messages(emqx_server, "c1", "mqueue", {"limit": "0"})
    assert response.status_code == 400
    assert response.json() == schema_error(value=0, reason={"expected": "1..10000"}, path="limit", kind="validation_error")


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_messages_position_paging(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1", **{kind: [f"m{i}" for i in range(5)]})
    suffix = "_0" if kind == "mqueue" else ""
    seen: list[str] = []
    position = "none"
    starts = set()
    while True:
        data, meta = page_of(messages(emqx_server, "c1", kind, {"limit": 2, "payload": "plain", "position": position}))
        starts.add(meta["start"])
        if not data:
            assert meta["position"] == position  # past the end: the request position echoed
            break
        assert meta["position"] == data[-1]["inserted_at"] + suffix
        seen.extend(m["payload"] for m in data)
        position = meta["position"]
    assert seen == [f"m{i}" for i in range(5)]  # exclusive positions: nothing twice, nothing lost
    first, _ = page_of(messages(emqx_server, "c1", kind, {"limit": 1}))
    assert starts == {first[0]["inserted_at"] + suffix}  # start is stable across pages


@pytest.mark.parametrize("kind", ["mqueue", "inflight"])
def test_messages_position_is_exclusive(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1", **{kind: ["a", "b", "c"]})
    data, _ = page_of(messages(emqx_server, "c1", kind, {"payload": "plain"}))
    suffix = "_0" if kind == "mqueue" else ""
    second = data[1]["inserted_at"] + suffix
    after, meta = page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "position": second}))
    assert [m["payload"] for m in after] == ["c"]
    assert meta == {"start": data[0]["inserted_at"] + suffix, "position": data[2]["inserted_at"] + suffix}
    # a position before everything lists everything
    before = str(int(data[0]["inserted_at"]) - 1) + suffix
    assert [m["payload"] for m in page_of(messages(emqx_server, "c1", kind, {"payload": "plain", "position": before}))[0]] == ["a", "b", "c"]


def test_messages_position_before_byte_cut_skips_cut_messages(emqx_server: EmqxServer) -> None:
    """meta.position is the last message *selected* by limit, before the byte budget cuts."""
    emqx_server.add_client("c1", inflight=["a" * 80, "b" * 80, "c" * 80, "d"])
    data, meta = page_of(messages(emqx_server, "c1", "inflight", {"payload": "plain", "limit": 3, "max_payload_bytes": "100"}))
    assert [m["payload"] for m in data] == ["a" * 80]
    everything, _ = page_of(messages(emqx_server, "c1", "inflight", {"payload": "none"}))
    assert meta["position"] == everything[2]["inserted_at"]
    rest, _ = page_of(messages(emqx_server, "c1", "inflight", {"payload": "plain", "position": meta["position"]}))
    assert [m["payload"] for m in rest] == ["d"]


def test_inflight_position_signed_integers(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", inflight=["a", "b"])
    data, _ = page_of(messages(emqx_server, "c1", "inflight", {"payload": "plain"}))
    data2, _ = page_of(messages(emqx_server, "c1", "inflight", {"payload": "plain", "position": "+" + data[0]["inserted_at"]}))
    assert [m["payload"] for m in data2] == ["b"]
    data3, _ = page_of(messages(emqx_server, "c1", "inflight", {"payload": "plain", "position": "-5"}))
    assert [m["payload"] for m in data3] == ["a", "b"]


@pytest.mark.parametrize(
    ("kind", "position"),
    [
        ("mqueue", "end_of_data"),
        ("mqueue", "abc"),
        ("mqueue", "1"),
        ("mqueue", "1_2_3"),
        ("mqueue", "x_0"),
        ("inflight", "end_of_data"),
        ("inflight", "abc"),
        ("inflight", "1_0"),
    ],
)
def test_messages_bad_position(emqx_server: EmqxServer, kind: str, position: str) -> None:
    emqx_server.add_client("c1", **{kind: ["a"]})
    response = messages(emqx_server, "c1", kind, {"position": position})
    assert response.status_code == 400
    assert response.json() == {"code": "INVALID_PARAMETER", "message": "position_limit_invalid"}


def test_mqueue_priority_order_and_positions(emqx_server: EmqxServer) -> None:
    emqx_server.add_client(
        "c1",
        mqueue=[
            {"payload": "low", "priority": 0},
            {"payload": "mid1", "priority": 5},
            {"payload": "top", "priority": "infinity"},
            {"payload": "mid2", "priority": 5},
            {"payload": "low2", "priority": 0},
        ],
    )
    data, meta = page_of(messages(emqx_server, "c1", "mqueue", {"payload": "plain"}))
    assert [m["payload"] for m in data] == ["top", "mid1", "mid2", "low", "low2"]
    assert [m["mqueue_priority"] for m in data] == ["infinity", 5, 5, 0, 0]
    assert meta == {"start": data[0]["inserted_at"] + "_infinity", "position": data[-1]["inserted_at"] + "_0"}
    page, meta = page_of(messages(emqx_server, "c1", "mqueue", {"payload": "plain", "limit": 2}))
    assert [m["payload"] for m in page] == ["top", "mid1"]
    assert meta["position"] == page[-1]["inserted_at"] + "_5"
    page, meta2 = page_of(messages(emqx_server, "c1", "mqueue", {"payload": "plain", "limit": 2, "position": meta["position"]}))
    assert [m["payload"] for m in page] == ["mid2", "low"]
    assert meta2 == {"start": meta["start"], "position": page[-1]["inserted_at"] + "_0"}
    page, meta3 = page_of(messages(emqx_server, "c1", "mqueue", {"payload": "plain", "limit": 2, "position": meta2["position"]}))
    assert [m["payload"] for m in page] == ["low2"]
    page, meta4 = page_of(messages(emqx_server, "c1", "mqueue", {"payload": "plain", "limit": 2, "position": meta3["position"]}))
    assert page == [] and meta4 == {"start": meta["start"], "position": meta3["position"]}


# -- seeding ------------------------------------------------------------------------------


def test_seeded_defaults_are_reproducible() -> None:
    def fleet(seed: int) -> list[tuple[Any, ...]]:
        with EmqxServer(seed=seed) as server:
            server.add_clients(5)
            server.add_client(connected=False)
            rows = get(server, "/clients").json()["data"]
            return [(r["clientid"], r["username"], r["ip_address"], r["port"], r["connected"]) for r in rows]

    first, second = fleet(7), fleet(7)
    assert first == second
    assert len({row[0] for row in first}) == 6
    assert fleet(8) != first


def test_reset_reseeds_the_fixture_server(emqx_server: EmqxServer) -> None:
    emqx_server.add_clients(3)
    assert len(all_ids(emqx_server)) == 3
    emqx_server.reset()
    assert all_ids(emqx_server) == []


def test_add_clients_shared_fields(emqx_server: EmqxServer) -> None:
    sessions = emqx_server.add_clients(4, username="fleet", subscriptions=["cmd/#"], proto_ver=4)
    assert len({s.clientid for s in sessions}) == 4
    response = get(emqx_server, "/clients", {"username": "fleet", "fields": "clientid,proto_ver,subscriptions_cnt,username"})
    assert sorted(response.json()["data"], key=lambda r: r["clientid"]) == sorted(
        ({"clientid": s.clientid, "proto_ver": 4, "subscriptions_cnt": 1, "username": "fleet"} for s in sessions),
        key=lambda r: r["clientid"],
    )
    assert all_ids(emqx_server) == sorted((s.clientid for s in sessions), reverse=True)


def test_seeded_state_consistent_with_api(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client(
        "c1", subscriptions=["a", {"topic": "b", "qos": 2}], mqueue=["q1", "q2", "q3"], inflight=["i1", "i2"]
    )
    row = get(emqx_server, "/clients/c1").json()
    assert row["subscriptions_cnt"] == len(session.subscriptions) == len(subscriptions_of(emqx_server, "c1")) == 2
    assert row["mqueue_len"] == len(session.mqueue) == len(page_of(messages(emqx_server, "c1", "mqueue"))[0]) == 3
    assert row["inflight_cnt"] == len(session.inflight) == len(page_of(messages(emqx_server, "c1", "inflight"))[0]) == 2
    assert emqx_server.client("c1") is session
    assert emqx_server.broker.sessions.find("c1") is session


def test_seeding_same_clientid_takes_over(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", username="old", subscriptions=["a"])
    emqx_server.add_client("c1", username="new")
    response = get(emqx_server, "/clients")
    assert ids(response) == ["c1"]
    assert response.json()["data"][0]["username"] == "new"
    assert response.json()["data"][0]["subscriptions_cnt"] == 0


# -- concurrency ----------------------------------------------------------------------------


def _run_threads(count: int, target: Any) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_subscribes_lose_nothing(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("shared")
    for index in range(16):
        emqx_server.add_client(f"own-{index:02d}")

    def subscribe(index: int) -> None:
        with requests.Session() as http:
            http.auth = emqx_server.auth
            for n in range(25):
                for clientid in ("shared", f"own-{index:02d}"):
                    response = http.post(
                        f"{emqx_server.api_url}/clients/{clientid}/subscribe", json={"topic": f"t/{index}/{n}", "qos": 1}, timeout=30
                    )
                    assert response.status_code == 200, response.text

    assert _run_threads(16, subscribe) == []
    expected = sorted(f"t/{i}/{n}" for i in range(16) for n in range(25))
    assert len(expected) == 400
    assert [s["topic"] for s in subscriptions_of(emqx_server, "shared")] == expected
    assert get(emqx_server, "/clients/shared").json()["subscriptions_cnt"] == 400
    for index in range(16):
        topics = [s["topic"] for s in subscriptions_of(emqx_server, f"own-{index:02d}")]
        assert topics == sorted(f"t/{index}/{n}" for n in range(25))


def test_concurrent_kicks_lose_nothing(emqx_server: EmqxServer) -> None:
    for index in range(200):
        emqx_server.add_client(f"c{index:03d}")

    def kick(index: int) -> None:
        mine = [f"c{n:03d}" for n in range(index * 10, index * 10 + 10)]  # clients 0..159
        with requests.Session() as http:
            http.auth = emqx_server.auth
            if index % 2:
                response = http.post(f"{emqx_server.api_url}/clients/kickout/bulk", json=mine, timeout=30)
                assert response.status_code == 204, response.text
            else:
                for clientid in mine:
                    response = http.delete(f"{emqx_server.api_url}/clients/{clientid}", timeout=30)
                    assert response.status_code == 204, response.text

    assert _run_threads(16, kick) == []
    response = get(emqx_server, "/clients", {"limit": 1000})
    assert ids(response) == [f"c{n:03d}" for n in range(199, 159, -1)]
    assert response.json()["meta"] == {"page": 1, "limit": 1000, "count": 40, "hasnext": False}
    assert len(emqx_server.broker.sessions) == 40


def test_time_filters_match_the_shown_millisecond_exactly(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", created_at=1_700_000_000.1239)  # shown as ...:20.123
    url, auth = emqx_server.api_url, emqx_server.auth
    created = requests.get(f"{url}/clients/c1", auth=auth).json()["created_at"]
    assert created == "2023-11-14T22:13:20.123+00:00"
    for query in (f"gte_created_at={created}&lte_created_at={created}", "gte_created_at=1700000000123&lte_created_at=1700000000123"):
        rows = requests.get(f"{url}/clients?{query}".replace("+", "%2B"), auth=auth).json()["data"]
        assert [row["clientid"] for row in rows] == ["c1"]
    assert requests.get(f"{url}/clients?gte_created_at=1700000000124", auth=auth).json()["data"] == []
