"""The dashboard monitor (`emqx_dashboard_monitor` of EMQX 5.8.9): samples of each node's gauges
and counters every 10 seconds, for `/monitor`, and the current rates, for `/monitor_current`.

EMQX samples on a timer, at every multiple of 10 s, on every node: the gauges as they are, the
counters as the difference from the previous sample (the first sample after a start holds the
counters since the start). Each node keeps its own samples for 7 days and, every 10 minutes,
merges old ones into coarser buckets (1 min after an hour, 5 min after a day, 10 min after 3
days). A read merges the nodes' samples (sums, and the largest `topics`), coarsens them for
the period asked (`sample_interval/1`) and fills the gaps with samples holding only a time.

No timer runs here: the samples whose time has come are taken (`observe`) whenever a thread
starts holding the state lock (`locking.StateLock`, which every change holds), and when the
monitor is read, from the state as it is then: a sample due before a change sees the state
before it. The current rates compare the state now with the
latest sample; before the first one they compare with an empty broker at the sample time
before the monitor was created (EMQX answers zeros until its first sample, up to 10 s after
it starts: the fake behaves as a broker that has been sampling all along).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

from ..erlang.numbers import erlang_round
from . import clock
from .stats import StatsTables

if TYPE_CHECKING:
    from .view import ClusterView

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SAMPLE_INTERVAL = 10 * SECOND  # `dashboard.sample_interval`, default 10s
CLEAN_INTERVAL = 10 * MINUTE
RETENTION = 7 * DAY
MAX_GAP_FILLERS = 100_000  # EMQX has no bound; a huge `latest` would make millions

#: Values sampled as they are (`?GAUGE_SAMPLER_LIST`).
GAUGES = ("disconnected_durable_sessions", "subscriptions_durable", "subscriptions", "topics", "connections", "live_connections")
#: Counters sampled as the change since the previous sample (`?DELTA_SAMPLER_LIST`), and the
#: broker metric each one reads.
DELTA_METRICS = {
    "received": "messages.received",
    "sent": "messages.sent",
    "validation_succeeded": "messages.validation_succeeded",
    "validation_failed": "messages.validation_failed",
    "transformation_succeeded": "messages.transformation_succeeded",
    "transformation_failed": "messages.transformation_failed",
    "dropped": "messages.dropped",
    "persisted": "messages.persisted",
}
DELTAS = tuple(DELTA_METRICS)
SAMPLERS = GAUGES + DELTAS
#: `/monitor_current` reports each counter as a rate per second (`?DELTA_SAMPLER_RATE_MAP`).
RATES = {
    "received": "received_msg_rate",
    "sent": "sent_msg_rate",
    "validation_succeeded": "validation_succeeded_rate",
    "validation_failed": "validation_failed_rate",
    "transformation_succeeded": "transformation_succeeded_rate",
    "transformation_failed": "transformation_failed_rate",
    "dropped": "dropped_msg_rate",
    "persisted": "persisted_rate",
}
#: Cluster-wide values: merging nodes' samples keeps the largest, not the sum.
CLUSTER_SYNCED = ("topics", "subscriptions_durable", "disconnected_durable_sessions")
#: Current values every node reports alike: the cluster answer takes one node's.
CURRENT_SYNCED = CLUSTER_SYNCED + ("retained_msg_count", "shared_subscriptions", "license_quota")
#: Left out of `/monitor_current/nodes/{node}` (`?CLUSTERONLY_SAMPLER_LIST`).
CLUSTER_ONLY = ("subscriptions_durable", "disconnected_durable_sessions")
#: `max_connections` of EMQX Enterprise's default (evaluation) license.
LICENSE_QUOTA = 25

Sample = dict[str, int]
_EMPTY: Sample = dict.fromkeys(SAMPLERS, 0)


def sample_interval(age: int) -> int:
    """The bucket width for samples `age` ms old (`sample_interval/1`)."""
    if age <= MINUTE:
        return SECOND
    if age <= HOUR:
        return 10 * SECOND
    if age <= DAY:
        return MINUTE
    if age <= 3 * DAY:
        return 5 * MINUTE
    return 10 * MINUTE


def round_down(ts: int, interval: int) -> int:
    """`Ts - (Ts rem Interval)`: Erlang's `rem` keeps the sign of `Ts`."""
    return ts - int(math.fmod(ts, interval))


def _merge(newer: Sample, older: Sample) -> Sample:
    """`merge_sampler_maps/2`: two nodes' samples of one time, or two times of the cluster."""
    merged = dict(older)
    for key in SAMPLERS:
        if key in newer or key in older:
            if key in CLUSTER_SYNCED:
                merged[key] = max(newer.get(key, 0), older.get(key, 0))
            else:
                merged[key] = newer.get(key, 0) + older.get(key, 0)
    return merged


def _merge_local(newer: Sample, older: Sample) -> Sample:
    """`merge_local_sampler_maps/3`: two times of one node; gauges keep the newer value."""
    merged = _merge(newer, older)
    for key in GAUGES:
        if key in newer or key in older:
            merged[key] = newer.get(key, older.get(key, 0))
    return merged


def _adjust_cluster(sample: Sample) -> Sample:
    """`adjust_synthetic_cluster_metrics/1`: durable sessions' subscriptions and disconnected
    sessions join the totals; `subscriptions_ram` keeps the in-memory subscriptions."""
    adjusted = dict(sample)
    ram = sample.get("subscriptions", 0)
    disconnected = sample.get("disconnected_durable_sessions", 0)
    adjusted["subscriptions"] = ram + sample.get("subscriptions_durable", 0) if "subscriptions" in sample else 0
    adjusted["subscriptions_ram"] = ram
    adjusted["connections"] = sample["connections"] + disconnected if "connections" in sample else disconnected
    return adjusted


def fill_gaps(samples: dict[int, Sample], since: int) -> dict[int, Sample]:
    """`fill_gaps/2`: an empty sample at every bucket without one, from the bucket of `since`
    (or the first sample) to the last sample."""
    if len(samples) < 2:
        return samples
    times = sorted(samples)
    first, latest = times[0], times[-1]
    interval = sample_interval(latest - since)
    start = round_down(since, interval)
    if start in (0, first):
        start = first
    start = max(start, latest - MAX_GAP_FILLERS * interval)
    filled = dict(samples)
    for ts in range(start, latest, interval):
        filled.setdefault(ts, {})
    return filled


def uptime_ms(started_at: float) -> int:
    """Milliseconds since a node started (`emqx_sys:uptime/0`)."""
    return max(0, int((clock.now() - started_at) * 1000))


def _wall_clock() -> float:
    return clock.now()


class Monitor:
    """The monitor of one broker: each node's samples by time, and each node's stats tables
    (whose maxima are part of the same history)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        #: Epoch seconds; replace it (with a new Monitor) to drive sampling from a test.
        self.clock = clock or _wall_clock
        self.stats = StatsTables()
        #: node -> sample time (ms) -> sample
        self.tables: dict[str, dict[int, Sample]] = {}
        #: node -> (time, raw values) of the latest sample: what rates compare with
        self._last: dict[str, tuple[int, Sample]] = {}
        start = self.now_ms()
        self._baseline = round_down(start, SAMPLE_INTERVAL)
        self._next_sample = self._baseline + SAMPLE_INTERVAL
        self._next_clean = start + CLEAN_INTERVAL

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- sampling ----------------------------------------------------------------------------

    def _raw(self, broker: ClusterView) -> tuple[dict[str, Sample], dict[str, dict[str, int]]]:
        """Each running node's gauges and counter totals now, and its stats table."""
        tables = self.stats.refresh(broker)
        raw: dict[str, Sample] = {}
        for node, table in tables.items():
            counters = broker.metrics.node(node)
            values = {
                "disconnected_durable_sessions": 0,
                "subscriptions_durable": 0,
                "subscriptions": table["subscriptions.count"],
                "topics": table["topics.count"],
                "connections": table["connections.count"],
                "live_connections": table["live_connections.count"],
            }
            values.update({name: counters[metric] for name, metric in DELTA_METRICS.items()})
            raw[node] = values
        return raw, tables

    def observe(self, broker: ClusterView) -> None:
        """Take every sample whose time has come (from the state as it is now), and every
        10 minutes drop samples past retention and coarsen old ones."""
        now = self.now_ms()
        if now >= self._next_sample:
            first = max(self._next_sample, round_down(now - RETENTION, SAMPLE_INTERVAL) + SAMPLE_INTERVAL)
            last = round_down(now, SAMPLE_INTERVAL)
            raw, _ = self._raw(broker)
            for node, values in raw.items():
                table = self.tables.setdefault(node, {})
                for ts in range(first, last + 1, SAMPLE_INTERVAL):
                    previous = self._last.get(node, (self._baseline, _EMPTY))[1]
                    sample = dict(values)
                    for key in DELTAS:
                        sample[key] = values[key] - previous[key]
                    table[ts] = sample
                    self._last[node] = (ts, values)
            self._next_sample = last + SAMPLE_INTERVAL
        if now >= self._next_clean:
            for node, table in self.tables.items():
                self.tables[node] = _compact(now, {ts: data for ts, data in table.items() if now - ts <= RETENTION})
            self._next_clean = now + CLEAN_INTERVAL

    def clear(self, broker: ClusterView) -> None:
        """`DELETE /monitor`: the running nodes forget their samples (not the latest one the
        rates compare with)."""
        self.observe(broker)
        for node in broker.running_nodes:
            self.tables.pop(node, None)

    # -- reading ------------------------------------------------------------------------------

    def _local(self, node: str, since: int) -> dict[int, Sample]:
        """`do_sample_local/1`: one node's samples since `since`, in buckets for the period."""
        selected = {ts: data for ts, data in self.tables.get(node, {}).items() if ts >= since}
        if len(selected) < 2:
            return selected
        interval = sample_interval(max(selected) - since)
        buckets: dict[int, Sample] = {}
        for ts in sorted(selected):
            bucket = round_down(ts, interval)
            buckets[bucket] = _merge_local(selected[ts], buckets.get(bucket, {}))
        return buckets

    def samplers(self, broker: ClusterView, node: str | None, latest: int | None) -> list[dict[str, int]]:
        """`GET /monitor` (node None: the cluster) and `GET /monitor/nodes/{node}`: the samples
        of the last `latest` seconds (all kept when None), oldest first, each with
        `time_stamp`."""
        self.observe(broker)
        since = 0 if latest is None else self.now_ms() - latest * 1000
        merged: dict[int, Sample]
        if node is None:
            merged = {}
            for name in broker.running_nodes:
                for ts, sample in self._local(name, since).items():
                    merged[ts] = sample if ts not in merged else _merge(sample, merged[ts])
            merged = {ts: _adjust_cluster(sample) for ts, sample in merged.items()}
        else:
            merged = self._local(node, since)
        filled = fill_gaps(merged, since)
        return [{**filled[ts], "time_stamp": ts} for ts in sorted(filled)]

    def current(self, broker: ClusterView, node: str | None) -> dict[str, int]:
        """`GET /monitor_current` (node None) and `/monitor_current/nodes/{node}`: gauges now,
        counters as rates per second since the latest sample, retained messages, shared
        subscriptions, and a node's uptime."""
        self.observe(broker)
        now = self.now_ms()
        raw, tables = self._raw(broker)

        def of_node(name: str) -> dict[str, int]:
            values = raw[name]
            last_time, last_values = self._last.get(name, (self._baseline, _EMPTY))
            elapsed = now - last_time or 5  # EMQX waits 5 ms rather than divide by zero
            current = {key: values[key] for key in GAUGES}
            for key in DELTAS:
                current[RATES[key]] = erlang_round((values[key] - last_values[key]) * 1000 / elapsed)
            current["retained_msg_count"] = tables[name]["retained.count"]
            current["shared_subscriptions"] = tables[name]["subscriptions.shared.count"]
            current["node_uptime"] = uptime_ms(broker.nodes[name].started_at)
            if broker.edition == "ee":
                current["license_quota"] = LICENSE_QUOTA
            return current

        if node is not None:
            return {key: value for key, value in of_node(node).items() if key not in CLUSTER_ONLY}
        cluster: dict[str, int] = {}
        if not broker.running_nodes:  # a cluster with every node stopped: nothing to report
            cluster = dict.fromkeys([*GAUGES, *RATES.values(), "retained_msg_count", "shared_subscriptions"], 0)
            if broker.edition == "ee":
                cluster["license_quota"] = LICENSE_QUOTA
        for name in broker.running_nodes:
            for key, value in of_node(name).items():
                if key in CURRENT_SYNCED:
                    cluster[key] = value
                elif key != "node_uptime":
                    cluster[key] = cluster.get(key, 0) + value
        return _adjust_cluster(cluster)


def _compact(now: int, table: dict[int, Sample]) -> dict[int, Sample]:
    """`compact/2`: older samples merged into coarser buckets by their age."""
    compacted: list[tuple[int, Sample]] = []
    for ts in sorted(table):
        bucket = round_down(ts, sample_interval(now - ts))
        if compacted and compacted[-1][0] == bucket:
            compacted[-1] = (bucket, _merge_local(table[ts], compacted[-1][1]))
        else:
            compacted.append((bucket, table[ts]))
    return dict(compacted)
