"""Broker counters per node, in EMQX's names (`emqx_metrics.hrl`)."""

from __future__ import annotations

from collections import Counter
from typing import Callable

#: Every counter `GET /metrics` reports, in EMQX's order.
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
    "messages.validation_failed", "messages.validation_succeeded",
    "messages.transformation_failed", "messages.transformation_succeeded",
    "messages.dropped.await_pubrel_timeout", "messages.dropped.no_subscribers",
    "messages.forward", "messages.delayed", "messages.delivered", "messages.acked",
    "messages.persisted",
    "delivery.dropped", "delivery.dropped.no_local", "delivery.dropped.too_large",
    "delivery.dropped.qos0_msg", "delivery.dropped.queue_full", "delivery.dropped.expired",
    "client.connect", "client.connack", "client.connected", "client.authenticate",
    "client.auth.anonymous", "client.authorize", "client.subscribe", "client.unsubscribe",
    "client.disconnected",
    "session.created", "session.resumed", "session.takenover", "session.discarded",
    "session.terminated",
    "authorization.allow", "authorization.deny", "authorization.cache_hit",
    "authorization.cache_miss", "authentication.success", "authentication.success.anonymous",
    "authentication.failure",
    "overload_protection.delay.ok", "overload_protection.delay.timeout",
    "overload_protection.hibernation", "overload_protection.gc", "overload_protection.new_conn",
)  # fmt: skip
#: Counters EMQX registers at run time beside those of `emqx_metrics.hrl`: `emqx_authz:init/0`
#: always adds these, so every node reports them, after the others.
RUNTIME_METRICS = ("authorization.superuser", "authorization.matched.allow", "authorization.matched.deny", "authorization.nomatch")
#: Every counter a node reports, in `GET /metrics` order.
REPORTED_METRICS = METRIC_NAMES + RUNTIME_METRICS


class Metrics:
    """Counters by node; a counter nobody touched reads 0."""

    def __init__(self) -> None:
        self._by_node: dict[str, Counter[str]] = {}
        #: Called before counters are read (the broker lets deferred deliveries count first).
        self.before_read: Callable[[], None] | None = None

    def inc(self, node: str, name: str, amount: int = 1) -> None:
        counters = self._by_node.get(node)
        if counters is None:
            counters = self._by_node[node] = Counter()
        counters[name] += amount

    def node(self, node: str) -> dict[str, int]:
        """Every counter of one node, in EMQX's order."""
        if self.before_read is not None:
            self.before_read()
        counters = self._by_node.get(node, Counter())
        return {name: counters[name] for name in REPORTED_METRICS}

    def total(self, nodes: list[str]) -> dict[str, int]:
        """Every counter summed over `nodes`."""
        if self.before_read is not None:
            self.before_read()
        return {name: sum(self._by_node.get(node, Counter())[name] for node in nodes) for name in REPORTED_METRICS}
