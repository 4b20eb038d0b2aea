"""What the monitor and the stats read of the cluster: a type below the broker, so that the
broker can own them without them importing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .cluster import Node
    from .metrics import Metrics
    from .retainer import RetainedMessages
    from .sessions import Sessions


class ClusterView(Protocol):
    """The cluster's counts and gauges as `emqx_stats` and `emqx_dashboard_monitor` see them."""

    nodes: dict[str, Node]
    metrics: Metrics
    sessions: Sessions
    retained: RetainedMessages

    @property
    def edition(self) -> str: ...

    @property
    def running_nodes(self) -> list[str]:
        """Names of the running nodes, in cluster order."""
        ...

    @property
    def api_node(self) -> str:
        """The node that serves the API."""
        ...
