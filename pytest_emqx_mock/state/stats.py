"""EMQX's stats (`emqx_stats`): the counts each node keeps, computed from the state, and the
historical maximum EMQX keeps beside each count.

What each count is in EMQX 5.8.9, and so here (sessions on stopped nodes count nowhere: their
node is down and the rest of the cluster has cleaned up after it):

* `connections`, `channels`, `sessions`: the node's channels (`emqx_cm` tables), connected or
  not: a disconnected session waiting out its expiry interval keeps its channel;
* `live_connections`: the node's connected clients;
* `cluster_sessions`: the cluster-wide session registry, the same on every node;
* `subscriptions`, `suboptions`, `subscribers`: the node's subscriptions, shared ones included;
* `subscriptions.shared`: shared subscriptions, cluster-wide (a replicated table);
* `topics`: routes, cluster-wide: one per (filter, node) for plain subscriptions and one per
  (filter, group, node) for shared ones (`emqx_router:stats(n_routes)`);
* `retained`: retained messages, cluster-wide; `delayed`: delayed messages (none here).

EMQX refreshes its stats once a second and keeps each `.max` as the highest count it has
refreshed to. Here the counts are exact whenever they are read, and `.max` is the highest
count ever read (by the API, or by the dashboard monitor sampling them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .topics import parse_filter

if TYPE_CHECKING:
    from .view import ClusterView

#: The stats a node's table holds, without their `.count` / `.max` suffix, in EMQX's order
#: (`emqx_stats:init/1`, then `emqx_delayed`). `durable_subscriptions` is left out: the API
#: deletes it from every answer (`emqx_mgmt:aggregated_only_keys/0`).
COUNTED = (
    "connections", "live_connections", "channels", "sessions", "cluster_sessions", "topics",
    "suboptions", "subscribers", "subscriptions", "subscriptions.shared", "retained", "delayed",
)  # fmt: skip

#: Every stat a node reports, `<name>.count` and `<name>.max`.
STAT_NAMES = tuple(f"{name}.{kind}" for name in COUNTED for kind in ("count", "max"))

#: Stats of cluster-wide tables: `GET /stats?aggregate=true` takes them from the node serving
#: the request instead of summing them (`emqx_mgmt:get_stats/0`).
CLUSTER_WIDE = tuple(f"{name}.{kind}" for name in ("retained", "topics", "subscriptions.shared") for kind in ("count", "max"))


def count(broker: ClusterView) -> dict[str, dict[str, int]]:
    """The current count of every stat (names of COUNTED) on each running node."""
    running = broker.running_nodes
    per_node = {node: dict.fromkeys(COUNTED, 0) for node in running}
    routes: set[tuple[str, ...]] = set()
    shared = 0
    for session in broker.sessions:
        row = per_node.get(session.node)
        if row is None:  # a session on a stopped node
            continue
        row["sessions"] += 1
        row["live_connections"] += session.connected
        row["subscriptions"] += len(session.subscriptions)
        for topic in session.subscriptions:
            parsed = parse_filter(topic)
            if parsed.share_group is None:
                routes.add((parsed.filter, session.node))
            else:
                shared += 1
                routes.add((parsed.filter, parsed.share_group, session.node))
    cluster_sessions = sum(row["sessions"] for row in per_node.values())
    retained = len(broker.retained)
    for row in per_node.values():
        row["connections"] = row["channels"] = row["sessions"]
        row["suboptions"] = row["subscribers"] = row["subscriptions"]
        row["cluster_sessions"] = cluster_sessions
        row["subscriptions.shared"] = shared
        row["topics"] = len(routes)
        row["retained"] = retained
    return per_node


class StatsTables:
    """Every node's stats table: the counts, each with the highest value it has shown."""

    def __init__(self) -> None:
        self._highest: dict[str, dict[str, int]] = {}

    def refresh(self, broker: ClusterView) -> dict[str, dict[str, int]]:
        """Each running node's table now (STAT_NAMES), its maxima raised to the counts."""
        tables: dict[str, dict[str, int]] = {}
        for node, counts in count(broker).items():
            highest = self._highest.setdefault(node, {})
            table: dict[str, int] = {}
            for name in COUNTED:
                value = counts[name]
                top = highest[name] = max(highest.get(name, 0), value)
                table[f"{name}.count"] = value
                table[f"{name}.max"] = top
            tables[node] = table
        return tables

    def aggregate(self, broker: ClusterView) -> dict[str, int]:
        """`emqx_mgmt:get_stats/0`: every node's stats summed, except the cluster-wide ones,
        which come from the node serving the request (`cluster_sessions` is summed, so it
        counts each session once per running node, as EMQX does)."""
        tables = self.refresh(broker)
        total = {name: sum(table[name] for table in tables.values()) for name in STAT_NAMES if name not in CLUSTER_WIDE}
        local = tables.get(broker.api_node) or next(iter(tables.values()), dict.fromkeys(STAT_NAMES, 0))
        total.update({name: local[name] for name in CLUSTER_WIDE})
        return total
