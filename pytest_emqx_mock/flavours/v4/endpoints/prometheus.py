"""`emqx_prometheus` (the plugin's one route, `GET /emqx_prometheus`, served as if the plugin
were loaded): the answering node's stats and counters, and its VM's figures.

* `type=json` (the default, `stats/2`): `{"code": 0, "data": {group: {name: value}}}`, the
  groups of `collect(<<"json">>)` (no cluster gauges there);
* `type=prometheus`: `prometheus_text_format:format/0`, text/plain, each family as
  `# TYPE`, `# HELP` (empty) and its one sample, in `collect_mf/2`'s order, then a blank line.
  Only EMQX's own collector is rendered: the Erlang VM's collectors that prometheus.erl adds
  to the registry (`erlang_vm_*`, `mnesia_*`) describe a BEAM the fake does not have;
* any other `type` fails `collect/1`'s match: a crash, 500.

`emqx_mgmt_http:authorize_appid/3` lets that GET through without credentials (see
`Emqx4.authenticate`).
"""

from __future__ import annotations

import re
from typing import Any

from ....http.replies import Reply
from ....http.routing import Call
from ....state.broker import Broker
from ..api import RestApi, crash, param, params
from .metrics import node_metrics
from .stats import node_stats

api = RestApi()
routes = api.routes

_STATS = tuple(f"{name}.{kind}" for name in ("connections", "live_connections", "sessions", "topics", "suboptions", "subscribers", "subscriptions", "subscriptions.shared", "routes", "retained") for kind in ("count", "max"))
_VM = ("cpu_use", "cpu_idle", "run_queue", "process_total_messages", "total_memory", "used_memory")
_CLUSTER = ("nodes_running", "nodes_stopped")
#: `emqx_metrics_packets/0` ... `emqx_metrics_session/0`: the counters each group reads.
_COUNTERS = {
    "packets": (
        "bytes.received", "bytes.sent", "packets.received", "packets.sent", "packets.connect.received",
        "packets.connack.sent", "packets.connack.error", "packets.connack.auth_error",
        "packets.publish.received", "packets.publish.sent", "packets.publish.inuse", "packets.publish.error",
        "packets.publish.auth_error", "packets.publish.dropped", "packets.puback.received",
        "packets.puback.sent", "packets.puback.inuse", "packets.puback.missed", "packets.pubrec.received",
        "packets.pubrec.sent", "packets.pubrec.inuse", "packets.pubrec.missed", "packets.pubrel.received",
        "packets.pubrel.sent", "packets.pubrel.missed", "packets.pubcomp.received", "packets.pubcomp.sent",
        "packets.pubcomp.inuse", "packets.pubcomp.missed", "packets.subscribe.received",
        "packets.subscribe.error", "packets.subscribe.auth_error", "packets.suback.sent",
        "packets.unsubscribe.received", "packets.unsubscribe.error", "packets.unsuback.sent",
        "packets.pingreq.received", "packets.pingresp.sent", "packets.disconnect.received",
        "packets.disconnect.sent", "packets.auth.received", "packets.auth.sent",
    ),
    "messages": (
        "messages.received", "messages.sent", "messages.qos0.received", "messages.qos0.sent",
        "messages.qos1.received", "messages.qos1.sent", "messages.qos2.received", "messages.qos2.sent",
        "messages.publish", "messages.dropped", "messages.dropped.expired", "messages.dropped.no_subscribers",
        "messages.forward", "messages.retained", "messages.delayed", "messages.delivered", "messages.acked",
    ),
    "delivery": (
        "delivery.dropped", "delivery.dropped.no_local", "delivery.dropped.too_large",
        "delivery.dropped.qos0_msg", "delivery.dropped.queue_full", "delivery.dropped.expired",
    ),
    "client": (
        "client.connected", "client.authenticate", "client.auth.success.anonymous", "client.check_acl",
        "client.subscribe", "client.unsubscribe", "client.disconnected",
    ),
    "session": ("session.created", "session.resumed", "session.takeovered", "session.discarded", "session.terminated"),
}  # fmt: skip
#: The families not named after what they read (`emqx_collect/2`).
_NAMES = {
    "packets.connect.received": "emqx_packets_connect",
    "process_total_messages": "emqx_vm_process_messages_in_queues",
    **{name: f"emqx_vm_{name}" for name in _VM if name != "process_total_messages"},
    **{name: f"emqx_cluster_{name}" for name in _CLUSTER},
}
_KMG = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMG]?)$")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _family(key: str) -> str:
    return _NAMES.get(key) or "emqx_" + key.replace(".", "_")


def _bytes(kmg: str) -> int:
    """A node's memory as `emqx_vm:mem_info/0` gives it, in bytes: the inverse of the
    `emqx_mgmt_util:kmg/1` text the nodes endpoints show (0, `?C`'s default, when it is none)."""
    found = _KMG.match(kmg)
    return int(float(found[1]) * _UNITS[found[2]]) if found else 0


def _vm(broker: Broker, node: str) -> dict[str, Any]:
    """`emqx_vm_data/0`: the fake's node has no CPU to sample, so it reads as an idle one
    (`cpu_sup:util/1`'s idle share is a float); its run queue is empty and
    `process_total_messages` is EMQX's constant 0."""
    info = broker.nodes[node]
    return {"cpu_use": 0.0, "cpu_idle": 100.0, "run_queue": 0, "process_total_messages": 0,
            "total_memory": _bytes(info.memory_total), "used_memory": _bytes(info.memory_used)}  # fmt: skip


def _groups(broker: Broker) -> dict[str, dict[str, Any]]:
    """Each group's values by the key it reads, on the node answering; a counter EMQX 4.4
    does not keep (`messages.dropped.expired`) reads as 0 (`?C`)."""
    node = broker.api_node
    counters, stats = node_metrics(broker, node), node_stats(broker, node)
    groups: dict[str, dict[str, Any]] = {"stats": {key: stats[key] for key in _STATS}, "metrics": _vm(broker, node)}
    groups.update({group: {key: counters.get(key, 0) for key in keys} for group, keys in _COUNTERS.items()})
    return groups


def _exposition(broker: Broker) -> str:
    groups = _groups(broker)
    running = len(broker.running_nodes)
    cluster = {"nodes_running": running, "nodes_stopped": len(broker.nodes) - running}
    families = [(groups["stats"], "gauge"), (groups["metrics"], "gauge"), (cluster, "gauge")]
    families += [(groups[group], "counter") for group in _COUNTERS]
    lines = [f"# TYPE {_family(key)} {kind}\n# HELP {_family(key)} \n{_family(key)} {value}\n" for values, kind in families for key, value in values.items()]
    return "".join(lines) + "\n"


@api.rest("stats", "GET", "/emqx_prometheus", "Get emqx all stats info")
def stats(call: Call) -> Any:
    kind = param(params(call), "type", "json")
    if kind == "json":
        return {group: {_family(key): value for key, value in values.items()} for group, values in _groups(call.broker).items()}
    if kind == "prometheus":
        return Reply(200, _exposition(call.broker), {"content-type": "text/plain"})
    raise crash()
