"""`emqx_mgmt_api_metrics`: each running node's counters (`emqx_metrics:all/0`), in EMQX 4.4's
names. The state counts in EMQX 5's names: the few counters renamed since are read under
their new names."""

from __future__ import annotations

from typing import Any

from ....http.routing import Call
from ....state.broker import Broker
from ..api import RestApi, reachable

api = RestApi()
routes = api.routes

#: `emqx_metrics`' counters in EMQX 4.4.19, in its order (`?BYTES_METRICS` ... `?STATS_ACL_METRICS`).
METRIC_NAMES = (
    "bytes.received", "bytes.sent", "packets.received", "packets.sent",
    "packets.connect.received", "packets.connack.sent", "packets.connack.error",
    "packets.connack.auth_error", "packets.publish.received", "packets.publish.sent",
    "packets.publish.inuse", "packets.publish.error", "packets.publish.auth_error",
    "packets.publish.dropped", "packets.puback.received", "packets.puback.sent",
    "packets.puback.inuse", "packets.puback.missed", "packets.pubrec.received",
    "packets.pubrec.sent", "packets.pubrec.inuse", "packets.pubrec.missed",
    "packets.pubrel.received", "packets.pubrel.sent", "packets.pubrel.missed",
    "packets.pubcomp.received", "packets.pubcomp.sent", "packets.pubcomp.inuse",
    "packets.pubcomp.missed", "packets.subscribe.received", "packets.subscribe.error",
    "packets.subscribe.auth_error", "packets.suback.sent", "packets.unsubscribe.received",
    "packets.unsubscribe.error", "packets.unsuback.sent", "packets.pingreq.received",
    "packets.pingresp.sent", "packets.disconnect.received", "packets.disconnect.sent",
    "packets.auth.received", "packets.auth.sent",
    "messages.received", "messages.sent", "messages.qos0.received", "messages.qos0.sent",
    "messages.qos1.received", "messages.qos1.sent", "messages.qos2.received",
    "messages.qos2.sent", "messages.publish", "messages.dropped",
    "messages.dropped.await_pubrel_timeout", "messages.dropped.no_subscribers",
    "messages.forward", "messages.retained", "messages.delayed", "messages.delivered",
    "messages.acked",
    "delivery.dropped", "delivery.dropped.no_local", "delivery.dropped.too_large",
    "delivery.dropped.qos0_msg", "delivery.dropped.queue_full", "delivery.dropped.expired",
    "client.connect", "client.connack", "client.connected", "client.authenticate",
    "client.check_acl", "client.subscribe", "client.unsubscribe", "client.disconnected",
    "session.created", "session.resumed", "session.takeovered", "session.discarded",
    "session.terminated",
    "client.auth.success", "client.auth.success.anonymous", "client.auth.failure",
    "client.acl.allow", "client.acl.deny", "client.acl.cache_hit",
)  # fmt: skip
#: EMQX 4.4's name of each counter EMQX 5 renamed, to EMQX 5's.
RENAMED = {
    "client.check_acl": "client.authorize",
    "session.takeovered": "session.takenover",
    "client.auth.success": "authentication.success",
    "client.auth.success.anonymous": "authentication.success.anonymous",
    "client.auth.failure": "authentication.failure",
    "client.acl.allow": "authorization.allow",
    "client.acl.deny": "authorization.deny",
    "client.acl.cache_hit": "authorization.cache_hit",
}


def node_metrics(broker: Broker, node: str) -> dict[str, int]:
    counters = broker.metrics.node(node)
    return {name: counters.get(RENAMED.get(name, name), 0) for name in METRIC_NAMES}


@api.rest("list_all_metrics", "GET", "/metrics", "A list of metrics of all nodes in the cluster")
def list_all_metrics(call: Call) -> list[dict[str, Any]]:
    return [{"node": node, "metrics": node_metrics(call.broker, node)} for node in call.broker.running_nodes]


@api.rest("list_node_metrics", "GET", "/nodes/:atom:node/metrics", "A list of metrics of a node")
def list_node_metrics(call: Call) -> dict[str, int]:
    return node_metrics(call.broker, reachable(call))
