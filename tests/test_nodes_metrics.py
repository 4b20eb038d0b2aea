"""Nodes, metrics, stats and the dashboard monitor of the fake EMQX 5.8.9
(`emqx_mgmt_api_nodes`, `emqx_mgmt_api_metrics`, `emqx_mgmt_api_stats`,
`emqx_dashboard_monitor_api`).

What is asserted comes from the reference notes (emqx5-api-surface.md §6.8) as checked against
EMQX v5.8.9's own code (emqx_mgmt:node_info/0, emqx_mgmt:get_stats/0, emqx_stats,
emqx_dashboard_monitor): exact field sets and types, values that follow the state of a
two-node cluster, and exact error bodies. The monitor is driven by a clock the test moves.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from api import get, post

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.state.metrics import METRIC_NAMES
from pytest_emqx_mock.state.monitor import Monitor

N1, N2 = "emqx@n1", "emqx@n2"
T0 = 1_700_000_003.0  # the monitor's clock at its start: 3 s after a 10 s sample time
BASE = 1_700_000_000_000  # that sample time, in ms

NODE_INFO_KEYS = {
    "node", "connections", "live_connections", "cluster_sessions", "load1", "load5", "load15",
    "max_fds", "memory_total", "memory_used", "node_status", "otp_release", "process_available",
    "process_used", "uptime", "version", "edition", "role", "log_path", "sys_path",
}  # fmt: skip
RUNTIME_METRICS = ("authorization.superuser", "authorization.matched.allow", "authorization.matched.deny", "authorization.nomatch")
METRIC_KEYS = set(METRIC_NAMES) | set(RUNTIME_METRICS)
STAT_BASES = (
    "connections", "live_connections", "channels", "sessions", "cluster_sessions", "topics",
    "suboptions", "subscribers", "subscriptions", "subscriptions.shared", "retained", "delayed",
)  # fmt: skip
STAT_KEYS = {f"{base}.{kind}" for base in STAT_BASES for kind in ("count", "max")}
ZERO_SAMPLE = {
    "disconnected_durable_sessions": 0, "subscriptions_durable": 0, "subscriptions": 0,
    "topics": 0, "connections": 0, "live_connections": 0, "received": 0, "sent": 0,
    "validation_succeeded": 0, "validation_failed": 0, "transformation_succeeded": 0,
    "transformation_failed": 0, "dropped": 0, "persisted": 0,
}  # fmt: skip
ZERO_RATES = {
    "received_msg_rate": 0, "sent_msg_rate": 0, "dropped_msg_rate": 0, "persisted_rate": 0,
    "validation_succeeded_rate": 0, "validation_failed_rate": 0,
    "transformation_succeeded_rate": 0, "transformation_failed_rate": 0,
}  # fmt: skip


class Clock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, start: float) -> None:
        self.time = start

    def __call__(self) -> float:
        return self.time


def with_clock(server: EmqxServer, start: float = T0) -> Clock:
    """Give the server's monitor a clock the test moves (a fresh monitor, as after a reset)."""
    clock = Clock(start)
    with server.broker.lock:
        server.broker.monitor = Monitor(clock=clock)
    return clock



def ok(server: EmqxServer, path: str, params: Any = None) -> Any:
    response = get(server, path, params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def schema_error(**inner: Any) -> dict[str, str]:
    """A 400 schema error; `inner` is given in jiffy's (descending) key order."""
    return {"code": "BAD_REQUEST", "message": json.dumps(inner, separators=(",", ":"))}


def not_found(node: str) -> dict[str, str]:
    return {"code": "NOT_FOUND", "message": f"Node not found: {node}"}


def seed(server: EmqxServer) -> None:
    """n1: `a` connected on t/#, `b` offline (session kept) in shared group g on t/1;
    n2: `c` connected on t/# and x. Routes: (t/#,n1), (t/1,g,n1), (t/#,n2), (x,n2)."""
    server.add_client("a", node=N1, subscriptions=["t/#"])
    server.add_client("b", node=N1, connected=False, expiry_interval=60, subscriptions=["$share/g/t/1"])
    server.add_client("c", node=N2, subscriptions=["t/#", "x"])
    server.broker.add_retained("r/1", "kept")
    server.broker.add_retained("r/2", "kept")


# -- /nodes ------------------------------------------------------------------------------


def node_info(node: str, connections: int, live: int, cluster_sessions: int, edition: str = "Opensource") -> dict[str, Any]:
    return {
        "node": node,
        "connections": connections,
        "live_connections": live,
        "cluster_sessions": cluster_sessions,
        "load1": 0.21,
        "load5": 0.18,
        "load15": 0.12,
        "max_fds": 1048576,
        "memory_total": "15.52G",
        "memory_used": "512.00M",
        "node_status": "running",
        "otp_release": "26.2.5-3/14.2.5",
        "process_available": 2097152,
        "process_used": 574 + connections,
        "version": "5.8.9",
        "edition": edition,
        "role": "core",
        "log_path": "/opt/emqx/log",
        "sys_path": "/opt/emqx",
    }


def without_uptime(info: dict[str, Any]) -> dict[str, Any]:
    assert set(info) == NODE_INFO_KEYS
    assert type(info["uptime"]) is int
    return {key: value for key, value in info.items() if key != "uptime"}


def test_nodes_field_for_field(cluster: EmqxServer) -> None:
    seed(cluster)
    cluster.add_client("d", node=N2, connected=False, expiry_interval=30)
    nodes = ok(cluster, "/nodes")
    assert [without_uptime(info) for info in nodes] == [node_info(N1, 2, 1, 4), node_info(N2, 2, 1, 4)]
    for info in nodes:
        assert type(info["load1"]) is float and type(info["max_fds"]) is int


def test_node_uptime_counts_from_its_start(cluster: EmqxServer) -> None:
    cluster.broker.nodes[N2].started_at -= 3600
    uptime = ok(cluster, f"/nodes/{N2}")["uptime"]
    assert 3_600_000 <= uptime < 3_660_000
    assert ok(cluster, f"/nodes/{N1}")["uptime"] < 60_000


def test_node_info_follows_the_sessions(cluster: EmqxServer) -> None:
    seed(cluster)
    cluster.disconnect("a")  # expiry 0: the session goes
    cluster.disconnect("c")
    assert without_uptime(ok(cluster, f"/nodes/{N1}")) == node_info(N1, 1, 0, 1)
    assert without_uptime(ok(cluster, f"/nodes/{N2}")) == node_info(N2, 0, 0, 1)


def test_stopped_nodes(cluster: EmqxServer) -> None:
    seed(cluster)
    cluster.broker.set_node_status(N2, "stopped")
    nodes = ok(cluster, "/nodes")
    assert [without_uptime(nodes[0]), nodes[1]] == [
        node_info(N1, 2, 1, 2),  # n2's session is not in the cluster any more
        {"node": N2, "node_status": "stopped", "role": "core"},
    ]
    for path in (f"/nodes/{N2}", f"/nodes/{N2}/metrics", f"/nodes/{N2}/stats"):
        response = get(cluster, path)
        assert (response.status_code, response.json()) == (404, not_found(N2))
    assert [node["node"] for node in ok(cluster, "/nodes")] == [N1, N2]  # nothing changed


def test_a_stopped_replicant_is_not_listed(cluster: EmqxServer) -> None:
    cluster.broker.nodes[N2].role = "replicant"
    assert [(info["node"], info["role"]) for info in ok(cluster, "/nodes")] == [(N1, "core"), (N2, "replicant")]
    cluster.broker.set_node_status(N2, "stopped")
    assert [info["node"] for info in ok(cluster, "/nodes")] == [N1]


@pytest.mark.parametrize("node", ["nope", "emqx@n3", "emqx@n1 ", "EMQX@N1"])
def test_unknown_node(cluster: EmqxServer, node: str) -> None:
    for suffix in ("", "/metrics", "/stats"):
        response = get(cluster, f"/nodes/{requests.utils.quote(node)}{suffix}")
        assert (response.status_code, response.json()) == (404, not_found(node))


def test_enterprise_edition(ee: EmqxServer) -> None:
    [info] = ok(ee, "/nodes")
    assert without_uptime(info) == node_info("emqx@127.0.0.1", 0, 0, 0, edition="Enterprise")


# -- /metrics and /nodes/{node}/metrics ------------------------------------------------


def publish_three(server: EmqxServer) -> None:
    """Three messages from MQTT client `dev` to t/1: received on n1 (the API node), sent to
    `a` on n1 and `c` on n2, queued for the offline `b`."""
    for _ in range(3):
        server.publish("t/1", "m", from_clientid="dev")


def test_node_metrics_flat_map(cluster: EmqxServer) -> None:
    seed(cluster)
    publish_three(cluster)
    n1, n2 = ok(cluster, f"/nodes/{N1}/metrics"), ok(cluster, f"/nodes/{N2}/metrics")
    assert set(n1) == set(n2) == METRIC_KEYS
    assert all(type(value) is int for value in [*n1.values(), *n2.values()])
    assert (n1["messages.received"], n1["messages.publish"], n1["messages.sent"], n1["messages.dropped"]) == (3, 3, 3, 0)
    assert (n2["messages.received"], n2["messages.publish"], n2["messages.sent"]) == (0, 0, 3)
    assert n1 == {**cluster.broker.metrics.node(N1), **dict.fromkeys(RUNTIME_METRICS, 0)}
    assert n2 == {**cluster.broker.metrics.node(N2), **dict.fromkeys(RUNTIME_METRICS, 0)}


def test_metrics_per_node_and_aggregated(cluster: EmqxServer) -> None:
    seed(cluster)
    publish_three(cluster)
    cluster.publish("nobody/listens")
    n1, n2 = ok(cluster, f"/nodes/{N1}/metrics"), ok(cluster, f"/nodes/{N2}/metrics")
    rows = ok(cluster, "/metrics")
    assert rows == [{"node": N1, **n1}, {"node": N2, **n2}]
    assert ok(cluster, "/metrics", {"aggregate": "false"}) == rows
    total = ok(cluster, "/metrics", {"aggregate": "true"})
    assert total == {name: n1[name] + n2[name] for name in METRIC_KEYS}
    assert (total["messages.publish"], total["messages.sent"], total["messages.dropped.no_subscribers"]) == (4, 6, 1)
    assert ok(cluster, "/metrics", {"aggregate": "true", "node": N2}) == total  # node ignored


def test_metrics_of_one_node(cluster: EmqxServer) -> None:
    publish_three(cluster)
    n2 = ok(cluster, f"/nodes/{N2}/metrics")
    assert ok(cluster, "/metrics", {"node": N2}) == [{"node": N2, **n2}]
    for name in ("emqx@n3", "nope", ""):  # not a running node: its RPC fails and is skipped
        assert ok(cluster, "/metrics", {"node": name}) == []
    cluster.broker.set_node_status(N2, "stopped")
    assert ok(cluster, "/metrics", {"node": N2}) == []
    assert [row["node"] for row in ok(cluster, "/metrics")] == [N1]
    assert ok(cluster, "/metrics", {"aggregate": "true"})["messages.received"] == 3


@pytest.mark.parametrize("path", ["/metrics", "/stats"])
def test_aggregate_must_be_a_boolean(cluster: EmqxServer, path: str) -> None:
    response = get(cluster, path, {"aggregate": "yes"})
    assert response.status_code == 400
    assert response.json() == schema_error(value="yes", reason="Unable to parse boolean value", path="aggregate", kind="validation_error")


# -- /stats and /nodes/{node}/stats ------------------------------------------------------


def stats(**counts: int) -> dict[str, int]:
    """A stats table whose maxima equal the counts (the default count is 0)."""
    table = {}
    for base in STAT_BASES:
        table[f"{base}.count"] = table[f"{base}.max"] = counts.get(base.replace(".", "_"), 0)
    return table


N1_STATS = stats(connections=2, live_connections=1, channels=2, sessions=2, cluster_sessions=3, topics=4,
                 suboptions=2, subscribers=2, subscriptions=2, subscriptions_shared=1, retained=2)  # fmt: skip
N2_STATS = stats(connections=1, live_connections=1, channels=1, sessions=1, cluster_sessions=3, topics=4,
                 suboptions=2, subscribers=2, subscriptions=2, subscriptions_shared=1, retained=2)  # fmt: skip


def test_node_stats_flat_map(cluster: EmqxServer) -> None:
    seed(cluster)
    n1 = ok(cluster, f"/nodes/{N1}/stats")
    assert set(n1) == STAT_KEYS
    assert n1 == N1_STATS
    assert ok(cluster, f"/nodes/{N2}/stats") == N2_STATS


def test_stats_per_node_last_running_first(cluster: EmqxServer) -> None:
    seed(cluster)
    assert ok(cluster, "/stats") == [{"node": N2, **N2_STATS}, {"node": N1, **N1_STATS}]
    assert ok(cluster, "/stats", {"aggregate": "false"}) == ok(cluster, "/stats")


def test_stats_aggregated(cluster: EmqxServer) -> None:
    """Summed over the nodes, except retained, topics and shared subscriptions (cluster-wide
    tables, taken once); `cluster_sessions` is summed too, as EMQX does."""
    seed(cluster)
    assert ok(cluster, "/stats", {"aggregate": "true"}) == stats(
        connections=3, live_connections=2, channels=3, sessions=3, cluster_sessions=6, topics=4,
        suboptions=4, subscribers=4, subscriptions=4, subscriptions_shared=1, retained=2,
    )  # fmt: skip


def test_stats_keep_their_maximum(cluster: EmqxServer) -> None:
    seed(cluster)
    assert ok(cluster, f"/nodes/{N1}/stats") == N1_STATS
    cluster.broker.kick("a")
    cluster.broker.kick("b")
    cluster.broker.retained.delete("r/1")
    now = ok(cluster, f"/nodes/{N1}/stats")
    assert now == {
        **N1_STATS,
        **{f"{base}.count": 0 for base in ("connections", "live_connections", "channels", "sessions", "suboptions",
                                            "subscribers", "subscriptions", "subscriptions.shared")},
        "cluster_sessions.count": 1, "topics.count": 2, "retained.count": 1,
    }  # fmt: skip
    cluster.add_clients(5, node=N1)
    assert ok(cluster, f"/nodes/{N1}/stats")["connections.max"] == 5
    cluster.reset()
    assert ok(cluster, f"/nodes/{N1}/stats") == stats()


def test_routes_count_once_per_node_and_group(cluster: EmqxServer) -> None:
    cluster.add_client("p", node=N1, subscriptions=["t/1", "$share/g/t/1", "$queue/t/1"])
    cluster.add_client("q", node=N1, subscriptions=["t/1", "$share/g/t/1", "$share/h/t/1"])
    cluster.add_client("r", node=N2, subscriptions=["t/1"])
    table = ok(cluster, "/stats", {"aggregate": "true"})
    # (t/1,n1) (t/1,g,n1) (t/1,$queue,n1) (t/1,h,n1) (t/1,n2)
    assert (table["topics.count"], table["subscriptions.shared.count"], table["subscriptions.count"]) == (5, 4, 7)


# -- /monitor -----------------------------------------------------------------------------


def sample(ts: int, **values: int) -> dict[str, int]:
    return {**ZERO_SAMPLE, **values, "time_stamp": ts}


def cluster_sample(ts: int, **values: int) -> dict[str, int]:
    return {**sample(ts, **values), "subscriptions_ram": values.get("subscriptions", 0)}


def test_monitor_samples_every_ten_seconds(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    publish_three(cluster)
    assert ok(cluster, "/monitor") == []  # no sample time has come
    clock.time = T0 + 10
    n1 = dict(connections=2, live_connections=1, subscriptions=2, topics=4)
    assert ok(cluster, f"/monitor/nodes/{N1}") == [sample(BASE + 10_000, **n1, received=3, sent=3)]
    assert ok(cluster, f"/monitor/nodes/{N2}") == [
        sample(BASE + 10_000, connections=1, live_connections=1, subscriptions=2, topics=4, sent=3)
    ]
    assert ok(cluster, "/monitor") == [
        cluster_sample(BASE + 10_000, connections=3, live_connections=2, subscriptions=4, topics=4, received=3, sent=6)
    ]

    cluster.publish("t/1", "m", from_clientid="dev")
    cluster.publish("t/1", "m", from_clientid="dev")
    cluster.disconnect("c")  # its session goes, and with it n2's routes
    clock.time = T0 + 30
    n1_now = dict(connections=2, live_connections=1, subscriptions=2, topics=2)
    expected = [
        sample(BASE + 10_000, **n1, received=3, sent=3),
        sample(BASE + 20_000, **n1_now, received=2, sent=2),  # the change since the last sample
        sample(BASE + 30_000, **n1_now),
    ]
    assert ok(cluster, f"/monitor/nodes/{N1}", {"latest": 3600}) == fill(expected, BASE + 33_000 - 3_600_000, 10_000)
    # No `latest`: since the epoch, so 10-minute buckets: gauges of the newest, counters summed.
    assert ok(cluster, f"/monitor/nodes/{N1}") == [sample(1_699_999_800_000, **n1_now, received=5, sent=5)]
    assert ok(cluster, "/monitor") == [
        cluster_sample(1_699_999_800_000, connections=2, live_connections=1, subscriptions=2, topics=2, received=5, sent=10)
    ]


def test_a_rest_subscribe_is_sampled_after_the_sample_due_before_it(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    cluster.add_client("a", node=N1)
    clock.time = T0 + 10  # a sample is due, and not yet taken, when the subscribe comes
    response = post(cluster, "/clients/a/subscribe", {"topic": "t/1"})
    assert response.status_code == 200, response.text
    clock.time = T0 + 20
    get(cluster, "/monitor")
    table = cluster.broker.monitor.tables[N1]
    assert {ts: (data["subscriptions"], data["topics"]) for ts, data in table.items()} == {
        BASE + 10_000: (0, 0),  # the state before the subscribe
        BASE + 20_000: (1, 1),
    }


def fill(samples: list[dict[str, int]], since: int, interval: int) -> list[dict[str, int]]:
    """The samples with EMQX's gap fillers (`{time_stamp}` alone) from the bucket of `since`."""
    real = {entry["time_stamp"]: entry for entry in samples}
    last = samples[-1]["time_stamp"]
    start = since - since % interval
    return [real.get(ts, {"time_stamp": ts}) for ts in range(start, last, interval)] + [samples[-1]]


def test_monitor_latest_fills_gaps_per_second(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    clock.time = T0 + 30
    gauges = dict(connections=2, live_connections=1, subscriptions=2, topics=4)
    samples = [sample(BASE + ts, **gauges) for ts in (10_000, 20_000, 30_000)]
    # a period of at most a minute is shown per second: the 10 s samples and fillers between
    body = ok(cluster, f"/monitor/nodes/{N1}", {"latest": 25})
    assert body == fill(samples, BASE + 8_000, 1_000)
    assert len(body) == 23 and body[0] == {"time_stamp": BASE + 8_000}
    assert ok(cluster, f"/monitor/nodes/{N1}", {"latest": 60}) == fill(samples, BASE + 33_000 - 60_000, 1_000)
    # a window holding one sample is that sample alone
    assert ok(cluster, f"/monitor/nodes/{N1}", {"latest": 5}) == [samples[2]]
    assert ok(cluster, "/monitor", {"latest": 1}) == []


@pytest.mark.parametrize("latest", ["0", "-3"])
def test_monitor_latest_must_be_positive(cluster: EmqxServer, latest: str) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    clock.time = T0 + 10
    before = ok(cluster, "/monitor")
    for path in ("/monitor", f"/monitor/nodes/{N1}", "/monitor/nodes/nope"):
        response = get(cluster, path, {"latest": latest})
        assert response.status_code == 400
        assert response.json() == schema_error(value=int(latest), reason={"expected": "1..inf"}, path="latest", kind="validation_error")
    assert ok(cluster, "/monitor") == before


def test_monitor_bad_latest_is_refused(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    clock.time = T0 + 10
    before = ok(cluster, "/monitor")
    for latest in ("0", "-3", "abc", "1.5"):
        response = get(cluster, "/monitor", {"latest": latest})
        assert response.status_code == 400, latest
        inner = json.loads(response.json()["message"])
        assert (response.json()["code"], inner["path"], inner["kind"]) == ("BAD_REQUEST", "latest", "validation_error")
    assert ok(cluster, "/monitor") == before


def test_monitor_of_an_unknown_or_stopped_node(cluster: EmqxServer) -> None:
    cluster.broker.set_node_status(N2, "stopped")
    for node in ("nope", N2):
        for path in (f"/monitor/nodes/{node}", f"/monitor_current/nodes/{node}"):
            response = get(cluster, path)
            assert (response.status_code, response.json()) == (404, not_found(node))


def test_delete_monitor_clears_the_samples(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    publish_three(cluster)
    clock.time = T0 + 10
    assert len(ok(cluster, "/monitor")) == 1
    response = requests.delete(cluster.api_url + "/monitor", auth=cluster.auth, timeout=30)
    assert (response.status_code, response.content) == (204, b"")
    assert ok(cluster, "/monitor") == []
    assert ok(cluster, f"/monitor/nodes/{N1}") == []
    cluster.publish("t/1", "m", from_clientid="dev")
    clock.time = T0 + 20
    # the next sample still counts from the last one taken, not from the start
    assert ok(cluster, f"/monitor/nodes/{N1}") == [
        sample(BASE + 20_000, connections=2, live_connections=1, subscriptions=2, topics=4, received=1, sent=1)
    ]


def test_old_samples_are_merged_into_coarser_buckets(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    for minutes in range(0, 120, 7):
        clock.time = T0 + minutes * 60
        cluster.publish("t/1", "m", from_clientid="dev")
        get(cluster, "/monitor")  # the monitor samples what it has not yet sampled
    clock.time = T0 + 130 * 60  # every 10 minutes the monitor coarsens its old samples
    samples = ok(cluster, f"/monitor/nodes/{N1}", {"latest": 9000})
    assert sum(entry.get("received", 0) for entry in samples) == 18
    table = cluster.broker.monitor.tables[N1]
    now = BASE + 3000 + 130 * 60_000
    old = [ts for ts in table if now - ts > 3_600_000]
    assert len(old) == 71 and all(ts % 60_000 == 0 for ts in old)  # over an hour old: 1 min buckets
    recent = [ts for ts in table if now - ts <= 3_600_000]
    assert recent == [now - 3000 - 3_590_000 + 10_000 * k for k in range(360)]  # every 10 s sample
    assert sum(data["received"] for data in table.values()) == 18


# -- /monitor_current -----------------------------------------------------------------------


def test_monitor_current_rates_since_the_last_sample(cluster: EmqxServer) -> None:
    clock = with_clock(cluster)
    seed(cluster)
    for _ in range(6):
        cluster.publish("nobody/listens", from_clientid="dev")  # received and dropped on n1
    # 3 s after the sample time before the monitor started: 6 messages in 3 s
    gauges = dict(connections=3, live_connections=2, subscriptions=4, topics=4)
    body = ok(cluster, "/monitor_current")
    assert body == {
        **ZERO_RATES, **gauges, "received_msg_rate": 2, "dropped_msg_rate": 2,
        "subscriptions_durable": 0, "disconnected_durable_sessions": 0, "subscriptions_ram": 4,
        "retained_msg_count": 2, "shared_subscriptions": 1,
    }  # fmt: skip
    node = ok(cluster, f"/monitor_current/nodes/{N1}")
    assert type(node.pop("node_uptime")) is int
    assert node == {
        **ZERO_RATES, "connections": 2, "live_connections": 1, "subscriptions": 2, "topics": 4,
        "received_msg_rate": 2, "dropped_msg_rate": 2, "retained_msg_count": 2, "shared_subscriptions": 1,
    }  # fmt: skip
    clock.time = T0 + 10
    ok(cluster, "/monitor")  # the sample of this time is taken: rates count from it
    publish_three(cluster)
    clock.time = T0 + 12.5
    body = ok(cluster, "/monitor_current")
    # each node's rate rounded: n1 received 3 and sent 3 in 2.5 s, n2 sent 3
    assert (body["received_msg_rate"], body["sent_msg_rate"], body["dropped_msg_rate"]) == (1, 2, 0)
    n2 = ok(cluster, f"/monitor_current/nodes/{N2}")
    assert (n2["received_msg_rate"], n2["sent_msg_rate"], n2["connections"]) == (0, 1, 1)


def test_monitor_current_node_uptime(cluster: EmqxServer) -> None:
    cluster.broker.nodes[N2].started_at -= 100
    assert 100_000 <= ok(cluster, f"/monitor_current/nodes/{N2}")["node_uptime"] < 160_000
    assert "node_uptime" not in ok(cluster, "/monitor_current")


def test_monitor_current_license_quota_in_enterprise(ee: EmqxServer) -> None:
    assert ok(ee, "/monitor_current")["license_quota"] == 25
    assert ok(ee, "/monitor_current/nodes/emqx@127.0.0.1")["license_quota"] == 25


def test_monitor_current_empty_broker(emqx_server: EmqxServer) -> None:
    body = ok(emqx_server, "/monitor_current")
    assert body == {
        **ZERO_RATES, "connections": 0, "live_connections": 0, "subscriptions": 0, "topics": 0,
        "subscriptions_durable": 0, "disconnected_durable_sessions": 0, "subscriptions_ram": 0,
        "retained_msg_count": 0, "shared_subscriptions": 0,
    }  # fmt: skip
