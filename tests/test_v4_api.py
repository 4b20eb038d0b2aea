"""EMQX 4.4's `/api/v4` over the one state: each endpoint's exact body, its refusals (result
codes with HTTP 200, framework texts) with the state unchanged, paging and its meta variants."""

from __future__ import annotations

import time
from typing import Any, Iterator

import pytest
import requests
from conftest import reset_for_a_test

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v4.endpoints import banned as banned_api
from pytest_emqx_mock.state import banned as banned_state
from pytest_emqx_mock.state.broker import Banned

APP = ("admin", "public")
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def local(epoch: float) -> str:
    """EMQX 4's `strftime/1`: the server's local time, whole seconds."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(epoch)))


@pytest.fixture(scope="module")
def both_doors() -> Iterator[EmqxServer]:
    with EmqxServer(flavour=["v5", "v4"], nodes=["emqx@n1", "emqx@n2"]) as server:
        yield server


@pytest.fixture
def emqx(both_doors: EmqxServer) -> Iterator[EmqxServer]:
    yield from reset_for_a_test(both_doors)


def v4(emqx: EmqxServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("auth", APP)
    return requests.request(method, emqx.url + "/api/v4" + path, **kwargs)


def body(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def text(response: requests.Response) -> tuple[int, str, str]:
    return response.status_code, response.headers.get("content-type", ""), response.text


# -- clients ------------------------------------------------------------------------------


def seeded(emqx: EmqxServer, clientid: str = "c1", **fields: Any) -> Any:
    options: dict[str, Any] = {
        "node": "emqx@n1", "username": "alice", "ip_address": "10.0.0.7", "port": 51000, "proto_ver": 4,
        "keepalive": 30, "created_at": T0, "connected_at": T0 + 5,
    }  # fmt: skip
    options.update(fields)
    return emqx.add_client(clientid, **options)


def client_body(emqx: EmqxServer, clientid: str, **changes: Any) -> dict[str, Any]:
    session = emqx.client(clientid)
    counters = {
        name: session.stats.get(name, 0)
        for name in (
            "heap_size", "reductions", "mailbox_len", "recv_cnt", "recv_msg", "recv_msg.qos0", "recv_msg.qos1",
            "recv_msg.qos2", "recv_msg.dropped", "recv_msg.dropped.expired", "recv_oct", "recv_pkt", "send_cnt",
            "send_msg", "send_msg.qos0", "send_msg.qos1", "send_msg.qos2", "send_msg.dropped",
            "send_msg.dropped.expired", "send_msg.dropped.queue_full", "send_msg.dropped.too_large", "send_oct", "send_pkt",
        )
    }  # fmt: skip
    return {
        "node": "emqx@n1", "clientid": clientid, "username": "alice", "mountpoint": "undefined", "zone": "external",
        "is_bridge": False, "proto_name": "MQTT", "proto_ver": 4, "ip_address": "10.0.0.7", "port": 51000,
        "clean_start": True, "keepalive": 30, "expiry_interval": 0, "connected": True,
        "connected_at": local(T0 + 5), "created_at": local(T0), "subscriptions_cnt": 0, "max_subscriptions": 0,
        "inflight": 0, "max_inflight": 32, "awaiting_rel": 0, "max_awaiting_rel": 100, "mqueue_len": 0,
        "mqueue_dropped": 0, "max_mqueue": 1000, **counters, **changes,
    }  # fmt: skip


def test_a_client_seeded_once_is_listed_by_both_doors(emqx: EmqxServer) -> None:
    seeded(emqx)
    assert body(v4(emqx, "GET", "/clients")) == {
        "code": 0,
        "data": [client_body(emqx, "c1")],
        "meta": {"page": 1, "limit": 10000, "count": 1, "hasnext": False},
    }
    v5 = requests.get(emqx.api_url + "/clients", auth=emqx.auth).json()
    assert [row["clientid"] for row in v5["data"]] == ["c1"]


def test_a_client_s_4x_formats(emqx: EmqxServer) -> None:
    seeded(emqx, "anon", username=None, mountpoint="m/", connected=False, disconnected_at=T0 + 60, expiry_interval=3600, clean_start=False)
    row = body(v4(emqx, "GET", "/clients/anon"))["data"][0]
    assert (row["username"], row["mountpoint"], row["connected"]) == ("undefined", "m/", False)
    assert row["disconnected_at"] == local(T0 + 60)
    assert row == client_body(emqx, "anon", username="undefined", mountpoint="m/", connected=False, disconnected_at=local(T0 + 60), expiry_interval=3600, clean_start=False)


def test_lookups_answer_lists_never_errors(emqx: EmqxServer) -> None:
    seeded(emqx, "c1")
    seeded(emqx, "c2", node="emqx@n2")
    assert body(v4(emqx, "GET", "/clients/c1")) == {"code": 0, "data": [client_body(emqx, "c1")]}
    assert body(v4(emqx, "GET", "/clients/nobody")) == {"code": 0, "data": []}
    assert [r["clientid"] for r in body(v4(emqx, "GET", "/clients/username/alice"))["data"]] == ["c1", "c2"]
    assert body(v4(emqx, "GET", "/clients/username/bob")) == {"code": 0, "data": []}
    assert [r["clientid"] for r in body(v4(emqx, "GET", "/nodes/emqx@n2/clients/username/alice"))["data"]] == ["c2"]
    assert body(v4(emqx, "GET", "/nodes/emqx@n2/clients/c1")) == {"code": 0, "data": []}
    assert text(v4(emqx, "GET", "/nodes/emqx@nope/clients/c1")) == (404, "text/plain", "Not found.")


def test_paging_and_its_meta(emqx: EmqxServer) -> None:
    for index in range(5):
        seeded(emqx, f"c{index}", username="alice" if index % 2 else "bob")
    page = body(v4(emqx, "GET", "/clients", params={"_page": "2", "_limit": "2"}))
    assert page["meta"] == {"page": 2, "limit": 2, "count": 5, "hasnext": True}
    assert len(page["data"]) == 2
    last = body(v4(emqx, "GET", "/clients", params={"_page": "3", "_limit": "2"}))
    assert (len(last["data"]), last["meta"]) == (1, {"page": 3, "limit": 2, "count": 5, "hasnext": False})
    # any filter of the query's schema: count is -1
    filtered = body(v4(emqx, "GET", "/clients", params={"username": "alice", "_limit": "1"}))
    assert filtered["meta"] == {"page": 1, "limit": 1, "count": -1, "hasnext": True}
    assert [r["username"] for r in filtered["data"]] == ["alice"]
    # a parameter outside the schema filters nothing
    assert body(v4(emqx, "GET", "/clients", params={"node": "x"}))["meta"]["count"] == 5
    # `_page` is parsed strictly: the handler crashes
    assert text(v4(emqx, "GET", "/clients", params={"_page": "one"})) == (500, "text/plain", "Internal Error")


def test_client_filters(emqx: EmqxServer) -> None:
    seeded(emqx, "a*b", created_at=T0)
    seeded(emqx, "axb", username="bob", created_at=T0 + 100, proto_ver=5, connected=False, expiry_interval=60)

    def ids(**query: str) -> list[str]:
        return [row["clientid"] for row in body(v4(emqx, "GET", "/clients", params=query))["data"]]

    assert ids(_like_clientid="*") == ["a*b"]  # a plain substring, not a pattern
    assert ids(_like_username="ob") == ["axb"]
    assert ids(clientid="axb", _like_clientid="zzz") == ["axb"]  # the exact key wins
    assert ids(conn_state="disconnected") == ["axb"]
    assert ids(proto_ver="4") == ["a*b"]
    assert ids(ip_address="10.0.0.7") == ["axb", "a*b"]  # a node's newest channel first
    assert ids(_gte_created_at=str(T0 + 50)) == ["axb"]  # epoch seconds
    assert ids(_lte_created_at=str(T0 + 50), _gte_created_at=str(T0)) == ["a*b"]
    assert ids(clean_start="true", zone="external") == ["a*b"]  # a session kept across disconnects: clean_start false
    refused = body(v4(emqx, "GET", "/clients", params={"proto_ver": "five"}))
    assert refused == {"code": 108, "message": 'Can\'t convert <<"five">> to integer type'}
    assert body(v4(emqx, "GET", "/clients", params={"ip_address": "a.b"})) == {"code": 108, "message": 'Can\'t convert <<"a.b">> to ip type'}
    assert text(v4(emqx, "GET", "/clients", params={"_like_clientid": ""})) == (500, "text/plain", "Internal Error")


def test_per_node_lists_and_a_node_that_is_down(emqx: EmqxServer) -> None:
    seeded(emqx, "c1")
    seeded(emqx, "c2", node="emqx@n2")
    page = body(v4(emqx, "GET", "/nodes/emqx@n2/clients"))
    assert ([r["clientid"] for r in page["data"]], page["meta"]) == (["c2"], {"page": 1, "limit": 10000, "count": 1, "hasnext": False})
    emqx.faults.node_down("emqx@n2")
    assert body(v4(emqx, "GET", "/nodes/emqx@n2/clients")) == {"code": 101, "message": "nodedown"}
    assert [r["clientid"] for r in body(v4(emqx, "GET", "/clients"))["data"]] == ["c1"]
    assert text(v4(emqx, "GET", "/nodes/emqx@n3/clients")) == (404, "text/plain", "Not found.")


def test_kick_and_acl_cache(emqx: EmqxServer) -> None:
    seeded(emqx, "c1", authz_cache=[{"access": {"action_type": "publish", "qos": 0, "retain": False}, "result": "allow", "topic": "t/1", "updated_time": int(time.time() * 1000)}])
    cache = body(v4(emqx, "GET", "/clients/c1/acl_cache"))
    assert cache["code"] == 0 and [(e["access"], e["topic"], e["result"]) for e in cache["data"]] == [("publish", "t/1", "allow")]
    assert body(v4(emqx, "DELETE", "/clients/c1/acl_cache")) == {"code": 0}
    assert body(v4(emqx, "GET", "/clients/c1/acl_cache")) == {"code": 0, "data": []}
    assert body(v4(emqx, "GET", "/clients/nobody/acl_cache")) == {"code": 112, "message": "not_found"}
    assert body(v4(emqx, "DELETE", "/clients/nobody/acl_cache")) == {"code": 112, "message": "not_found"}
    assert body(v4(emqx, "DELETE", "/clients/c1")) == {"code": 0}
    assert "c1" not in emqx.broker.sessions
    # 4.4.19's `emqx_cm:kick_session/1` answers ok for an unknown client
    assert body(v4(emqx, "DELETE", "/clients/c1")) == {"code": 0}


# -- subscriptions and routes ----------------------------------------------------------------


def test_subscriptions(emqx: EmqxServer) -> None:
    seeded(emqx, "c1", subscriptions=[{"topic": "t/1", "qos": 1}, {"topic": "$share/g/t/1", "qos": 0}])
    seeded(emqx, "c2", node="emqx@n2", subscriptions=[{"topic": "a/#", "qos": 2}])
    listing = body(v4(emqx, "GET", "/subscriptions"))
    assert listing == {
        "code": 0,
        "data": [
            {"node": "emqx@n1", "topic": "t/1", "clientid": "c1", "qos": 1},
            {"node": "emqx@n1", "topic": "$share/g/t/1", "clientid": "c1", "qos": 0},
            {"node": "emqx@n2", "topic": "a/#", "clientid": "c2", "qos": 2},
        ],
        "meta": {"page": 1, "limit": 10000, "count": 3, "hasnext": False},
    }

    def topics(**query: str) -> tuple[list[str], dict[str, Any]]:
        found = body(v4(emqx, "GET", "/subscriptions", params=query))
        return [row["topic"] for row in found["data"]], found["meta"]

    assert topics(qos="2") == (["a/#"], {"page": 1, "limit": 10000, "count": -1, "hasnext": False})
    assert topics(share="g")[0] == ["$share/g/t/1"]
    assert topics(_match_topic="t/+")[0] == ["t/1", "$share/g/t/1"]
    # `topic` takes its own path: exact topic, then filters; count is the filtered length
    assert topics(topic="t/1", _limit="1") == (["t/1"], {"page": 1, "limit": 1, "count": 2, "hasnext": True})
    assert topics(topic="t/1", share="g")[0] == ["$share/g/t/1"]
    assert body(v4(emqx, "GET", "/subscriptions", params={"qos": "x"})) == {"code": 108, "message": 'Can\'t convert <<"x">> to integer type'}
    assert body(v4(emqx, "GET", "/subscriptions/c2")) == {"code": 0, "data": [{"node": "emqx@n2", "topic": "a/#", "clientid": "c2", "qos": 2}]}
    assert body(v4(emqx, "GET", "/subscriptions/nobody")) == {"code": 0, "data": []}
    assert [r["clientid"] for r in body(v4(emqx, "GET", "/nodes/emqx@n2/subscriptions"))["data"]] == ["c2"]
    emqx.faults.node_down("emqx@n2")
    assert body(v4(emqx, "GET", "/nodes/emqx@n2/subscriptions")) == {"message": "nodedown"}


def test_routes(emqx: EmqxServer) -> None:
    seeded(emqx, "c1", subscriptions=[{"topic": "t/1"}, {"topic": "$share/g/t/1"}])
    seeded(emqx, "c2", node="emqx@n2", subscriptions=[{"topic": "t/1"}])
    listing = body(v4(emqx, "GET", "/routes"))
    assert listing["meta"] == {"page": 1, "limit": 10000, "count": 3}
    assert sorted((r["topic"], r["node"]) for r in listing["data"]) == [("t/1", "emqx@n1"), ("t/1", "emqx@n1"), ("t/1", "emqx@n2")]
    assert body(v4(emqx, "GET", "/routes", params={"_page": "2", "_limit": "2"}))["meta"] == {"page": 2, "limit": 2, "count": 3}
    assert len(body(v4(emqx, "GET", "/routes/t%2F1"))["data"]) == 3
    assert body(v4(emqx, "GET", "/routes/nope")) == {"code": 0, "data": []}


# -- nodes, brokers, stats, metrics ----------------------------------------------------------


def test_nodes_and_brokers(emqx: EmqxServer) -> None:
    seeded(emqx, "c1")
    nodes = body(v4(emqx, "GET", "/nodes"))["data"]
    first = nodes[0]
    assert set(first) == {
        "node", "node_status", "version", "uptime", "otp_release", "memory_total", "memory_used", "process_available",
        "process_used", "max_fds", "connections", "live_connections", "load1", "load5", "load15",
    }  # fmt: skip
    assert (first["node"], first["node_status"], first["version"], first["connections"], first["live_connections"]) == ("emqx@n1", "Running", "4.4.19", 1, 1)
    assert (first["memory_total"], first["memory_used"], first["load1"]) == ("15.52G", "512.00M", "0.21")
    assert body(v4(emqx, "GET", "/nodes/emqx@n2"))["data"]["connections"] == 0
    brokers = body(v4(emqx, "GET", "/brokers"))["data"]
    assert [set(b) for b in brokers] == [{"node", "node_status", "version", "sysdescr", "uptime", "datetime", "otp_release"}] * 2
    assert (brokers[0]["sysdescr"], brokers[0]["node_status"]) == ("EMQX", "Running")
    emqx.faults.node_down("emqx@n2")
    assert body(v4(emqx, "GET", "/nodes"))["data"][1] == {"name": "emqx@n2", "node_status": "Stopped"}
    assert body(v4(emqx, "GET", "/nodes/emqx@n2")) == {"code": 0, "data": {"node": "emqx@n2", "error": "nodedown"}}
    assert body(v4(emqx, "GET", "/brokers/emqx@n2")) == {"code": 102, "message": "nodedown"}
    assert [b["node"] for b in body(v4(emqx, "GET", "/brokers"))["data"]] == ["emqx@n1"]
    assert text(v4(emqx, "GET", "/brokers/nope")) == (404, "text/plain", "Not found.")


def test_stats_and_metrics_in_4x_names(emqx: EmqxServer) -> None:
    seeded(emqx, "c1", subscriptions=[{"topic": "t/1"}])
    stats = body(v4(emqx, "GET", "/stats"))["data"]
    assert [row["node"] for row in stats] == ["emqx@n1", "emqx@n2"]
    n1 = stats[0]["stats"]
    assert sorted({name.rsplit(".", 1)[0] for name in n1}) == sorted(
        ["connections", "live_connections", "channels", "sessions", "topics", "suboptions", "subscribers", "subscriptions", "subscriptions.shared", "routes", "retained"]
    )
    assert (n1["connections.count"], n1["subscriptions.count"], n1["routes.count"], n1["topics.count"]) == (1, 1, 1, 1)
    assert body(v4(emqx, "GET", "/nodes/emqx@n1/stats")) == {"code": 0, "data": n1}
    emqx.publish("t/1", "x")
    metrics = body(v4(emqx, "GET", "/metrics"))["data"]
    assert [row["node"] for row in metrics] == ["emqx@n1", "emqx@n2"]
    assert "client.acl.allow" in metrics[0]["metrics"] and "authorization.allow" not in metrics[0]["metrics"]
    assert metrics[0]["metrics"]["messages.publish"] == 1
    assert body(v4(emqx, "GET", "/nodes/emqx@n1/metrics"))["data"] == metrics[0]["metrics"]
    assert text(v4(emqx, "POST", "/metrics")) == (404, "text/plain", "Not found.")  # GET only
    emqx.faults.node_down("emqx@n2")
    assert body(v4(emqx, "GET", "/nodes/emqx@n2/metrics")) == {"message": "nodedown"}  # no code
    assert body(v4(emqx, "GET", "/nodes/emqx@n2/stats")) == {"message": "nodedown"}


# -- banned --------------------------------------------------------------------------------


def test_banned_create_list_delete(emqx: EmqxServer) -> None:
    seeded(emqx, "c1")
    sent = {"who": "c1", "as": "clientid", "reason": "spam"}
    assert body(v4(emqx, "POST", "/banned", json=sent)) == {"code": 0, "data": sent}  # an echo, defaults not filled in
    assert "c1" not in emqx.broker.sessions  # a clientid ban kicks
    listing = body(v4(emqx, "GET", "/banned"))
    (ban,) = listing["data"]
    assert (ban["who"], ban["as"], ban["by"], ban["reason"], ban["until"] - ban["at"]) == ("c1", "clientid", "user", "spam", 300)
    assert listing["meta"] == {"page": 1, "limit": 10000, "count": 1}
    again = {"who": "c1", "as": "clientid", "reason": "again", "by": "ops", "at": T0, "until": 4_000_000_000}
    assert body(v4(emqx, "POST", "/banned", json=again))["data"] == again  # the same who replaces
    assert body(v4(emqx, "GET", "/banned"))["data"] == [{"who": "c1", "as": "clientid", "by": "ops", "reason": "again", "at": T0, "until": 4_000_000_000}]
    assert body(v4(emqx, "DELETE", "/banned/clientid/c1")) == {"code": 0}
    assert body(v4(emqx, "DELETE", "/banned/clientid/c1")) == {"code": 0}  # whether or not it existed
    assert body(v4(emqx, "GET", "/banned"))["data"] == []


def test_banned_refusals_change_nothing(emqx: EmqxServer) -> None:
    before = emqx.snapshot()
    assert body(v4(emqx, "POST", "/banned", json={"who": "x"})) == {"code": 107, "message": "missing mandatory params: ['who', 'as']"}
    as_message = "value of 'as' must be one of: ['clientid', 'username', 'peerhost']"
    assert body(v4(emqx, "POST", "/banned", json={"who": "x", "as": "clientid_re", "reason": "r"})) == {"code": 108, "message": as_message}
    assert text(v4(emqx, "POST", "/banned", json={"who": "x", "as": "clientid"})) == (500, "text/plain", "Internal Error")  # no reason
    assert text(v4(emqx, "POST", "/banned", json={"who": "not-an-ip", "as": "peerhost", "reason": "r"})) == (500, "text/plain", "Internal Error")
    assert text(v4(emqx, "POST", "/banned", data=b"{not json")) == (400, "text/plain", "Bad Request")
    assert body(v4(emqx, "DELETE", "/banned/who/x")) == {"code": 108, "message": as_message}
    assert emqx.snapshot() == before


def test_a_ban_s_defaults_and_its_expiry_on_the_clock(emqx: EmqxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checklist 3.1 #13: `at` now and `until` now + 300 (epoch seconds) when absent; an
    expired ban is gone from the list and keeps nobody out (the clock moved, no sleeping)."""
    instant = [T0 + 0.6]
    monkeypatch.setattr(banned_state, "now", lambda: instant[0])
    monkeypatch.setattr(banned_api, "now", lambda: instant[0])
    sent = {"who": "c9", "as": "clientid", "reason": "r"}
    assert body(v4(emqx, "POST", "/banned", json=sent)) == {"code": 0, "data": sent}
    expected = {"who": "c9", "as": "clientid", "by": "user", "reason": "r", "at": T0, "until": T0 + 300}
    assert body(v4(emqx, "GET", "/banned"))["data"] == [expected]
    instant[0] = T0 + 299.9
    assert body(v4(emqx, "GET", "/banned"))["data"] == [expected]
    with pytest.raises(Banned):
        emqx.broker.connect("c9")  # still banned
    instant[0] = T0 + 300
    assert body(v4(emqx, "GET", "/banned")) == {"code": 0, "data": [], "meta": {"page": 1, "limit": 10000, "count": 0}}
    assert emqx.broker.connect("c9").connected


def test_peerhost_bans_and_the_doors_own_kinds(emqx: EmqxServer) -> None:
    assert body(v4(emqx, "POST", "/banned", json={"who": "10.0.0.1", "as": "peerhost", "reason": "r"}))["code"] == 0
    emqx.add_ban("clientid_re", "^bot")  # EMQX 5's kind, which EMQX 4 has no table for
    assert [(b["as"], b["who"]) for b in body(v4(emqx, "GET", "/banned"))["data"]] == [("peerhost", "10.0.0.1")]
    v5 = requests.get(emqx.api_url + "/banned", auth=emqx.auth).json()["data"]
    assert {(b["as"], b["who"]) for b in v5} == {("peerhost", "10.0.0.1"), ("clientid_re", "^bot")}


# -- mqtt/publish, mqtt/subscribe, mqtt/unsubscribe ------------------------------------------


def test_subscribe_and_unsubscribe_over_http(emqx: EmqxServer) -> None:
    seeded(emqx, "c1")
    assert body(v4(emqx, "POST", "/mqtt/subscribe", json={"clientid": "c1", "topic": "a/1,b/#", "qos": 1})) == {"code": 0}
    assert {t: s.qos for t, s in emqx.client("c1").subscriptions.items()} == {"a/1": 1, "b/#": 1}  # `topic` is split too
    assert body(v4(emqx, "POST", "/mqtt/unsubscribe", json={"clientid": "c1", "topic": "a/1"})) == {"code": 0}
    assert body(v4(emqx, "POST", "/mqtt/unsubscribe", json={"clientid": "c1", "topic": "never/had"})) == {"code": 0}
    assert list(emqx.client("c1").subscriptions) == ["b/#"]
    before = emqx.snapshot()
    # checked in EMQX's order: clientid, topic, QoS, channel
    assert body(v4(emqx, "POST", "/mqtt/subscribe", json={"clientid": 1, "topic": "a/#", "qos": 9})) == {"code": 108, "message": "bad clientid: must be string"}
    assert body(v4(emqx, "POST", "/mqtt/subscribe", json={"clientid": "c1", "topics": "a/#/b,", "qos": 9})) == {"code": 115, "message": "bad_topic"}
    assert body(v4(emqx, "POST", "/mqtt/subscribe", json={"clientid": "c1", "topic": "a/#", "qos": 9})) == {"code": 116, "message": "bad_qos"}
    assert body(v4(emqx, "POST", "/mqtt/subscribe", json={"clientid": "ghost", "topic": "a/#"})) == {"code": 112, "message": "channel_not_found"}
    assert body(v4(emqx, "POST", "/mqtt/unsubscribe", json={"clientid": "ghost", "topic": "a/#"})) == {"code": 112, "message": "channel_not_found"}
    assert body(v4(emqx, "POST", "/mqtt/unsubscribe", json={"clientid": "c1", "topics": "b/#"})) == {"code": 115, "message": "bad_topic"}
    assert emqx.snapshot() == before


def test_subscribe_and_unsubscribe_batches(emqx: EmqxServer) -> None:
    seeded(emqx, "c1")
    items = [{"clientid": "c1", "topic": "a/1"}, {"clientid": "ghost", "topics": "b/1"}, {"topic": "c/1"}]
    assert body(v4(emqx, "POST", "/mqtt/subscribe_batch", json=items)) == {
        "code": 0,
        "data": [
            {"clientid": "c1", "topic": "a/1", "code": 0},
            {"clientid": "ghost", "topic": "b/1", "code": 112},
            {"clientid": "undefined", "topic": "c/1", "code": 108},
        ],
    }
    assert body(v4(emqx, "POST", "/mqtt/unsubscribe_batch", json=[{"clientid": "c1", "topic": "a/1"}])) == {
        "code": 0,
        "data": [{"clientid": "c1", "topic": "a/1", "code": 0}],
    }
    assert emqx.client("c1").subscriptions == {}
    # resp_topic/2 echoes the item's topic as given: one that is no text is a bad topic (found by fuzzing)
    assert body(v4(emqx, "POST", "/mqtt/unsubscribe_batch", json=[{"clientid": "c1", "topic": {"a": 1}}])) == {
        "code": 0,
        "data": [{"clientid": "c1", "topic": {"a": 1}, "code": 115}],
    }


def test_publish_over_http(emqx: EmqxServer) -> None:
    seeded(emqx, "c1", subscriptions=[{"topic": "t/#", "qos": 1}])
    assert body(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/1", "payload": "hi", "qos": 1})) == {"code": 0}
    returned = body(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/2", "payload": {"a": 1}, "return": True}))
    assert list(returned) == ["code", "data"] and list(returned["data"]) == ["msgid"] and len(returned["data"]["msgid"]) == 32
    several = body(v4(emqx, "POST", "/mqtt/publish", json={"topics": "t/3,t/+,t/4", "payload": "aGk=", "encoding": "base64", "return": 1}))
    assert len(several["data"]["msgids"]) == 2  # the wildcard is dropped
    published = [(p.message.topic, p.message.payload) for p in emqx.published]
    assert published == [("t/1", b"hi"), ("t/2", b'{"a":1}'), ("t/3", b"hi"), ("t/4", b"hi")]
    before = len(emqx.published)
    assert body(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/#"})) == {"code": 115, "message": "bad_topic"}
    assert body(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/1", "clientid": 5})) == {"code": 108, "message": "bad clientid: must be string"}
    assert body(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/1", "payload": "%%", "encoding": "base64"})) == {"code": 108, "message": "bad_params"}
    assert body(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/1", "properties": {"nope": 1}})) == {"code": 108, "message": "bad_params"}
    assert text(v4(emqx, "POST", "/mqtt/publish", json={"topic": "t/1", "qos": 3})) == (500, "text/plain", "Internal Error")
    assert len(emqx.published) == before


def test_publish_batch(emqx: EmqxServer) -> None:
    items = [{"topic": "t/1", "payload": "x"}, {"topics": "t/#"}, {"topic": "t/2", "encoding": "base64", "payload": "%"}]
    assert body(v4(emqx, "POST", "/mqtt/publish_batch", json=items)) == {
        "code": 0,
        "data": [{"topic": "t/1", "code": 0}, {"topic": "t/#", "code": 115}, {"code": 108, "message": "bad_params"}],
    }
    assert [p.message.topic for p in emqx.published] == ["t/1"]


# -- alarms -----------------------------------------------------------------------------------


def test_alarms(emqx: EmqxServer) -> None:
    emqx.add_alarm("high_cpu_usage", node="emqx@n1", message="95% cpu usage", details={"usage": 95}, activate_at=T0)
    emqx.add_alarm("a1", node="emqx@n1", activate_at=T0 + 1)
    emqx.add_alarm("a2", node="emqx@n2", activate_at=T0 + 2)
    listing = body(v4(emqx, "GET", "/alarms"))["data"]
    assert [(row["node"], [a["name"] for a in row["alarms"]]) for row in listing] == [("emqx@n1", ["high_cpu_usage", "a1"]), ("emqx@n2", ["a2"])]
    cpu = listing[0]["alarms"][0]
    assert {key: cpu[key] for key in cpu if key != "duration"} == {
        "name": "high_cpu_usage", "details": {"usage": 95}, "message": "95% cpu usage",
        "activate_at": T0 * 1_000_000, "deactivate_at": "infinity", "activated": True,
    }  # fmt: skip
    assert cpu["duration"] > 0  # microseconds since it was activated
    assert body(v4(emqx, "POST", "/alarms/deactivated", json={"node": "emqx@n1", "name": "high_cpu_usage"})) == {"code": 0}
    (gone,) = body(v4(emqx, "GET", "/nodes/emqx@n1/alarms/deactivated"))["data"]
    assert (gone["activated"], gone["duration"]) == (False, gone["deactivate_at"] - T0 * 1_000_000)
    assert [a["name"] for a in body(v4(emqx, "GET", "/nodes/emqx@n1/alarms/activated"))["data"]] == ["a1"]
    before = emqx.snapshot()
    assert body(v4(emqx, "POST", "/alarms/deactivated", json={"node": "emqx@n1", "name": "high_cpu_usage"})) == {"message": "not_found"}
    assert text(v4(emqx, "POST", "/alarms/deactivated", json={"name": "a1"})) == (500, "text/plain", "Internal Error")
    assert emqx.snapshot() == before
    assert body(v4(emqx, "DELETE", "/nodes/emqx@n2/alarms/deactivated")) == {"code": 0}
    assert len(body(v4(emqx, "GET", "/alarms/deactivated"))["data"][0]["alarms"]) == 1
    assert body(v4(emqx, "DELETE", "/alarms/deactivated")) == {"code": 0}
    assert body(v4(emqx, "GET", "/alarms/deactivated"))["data"] == [{"node": "emqx@n1", "alarms": []}, {"node": "emqx@n2", "alarms": []}]
