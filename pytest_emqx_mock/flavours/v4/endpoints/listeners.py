"""`emqx_mgmt_api_listeners`: each node's listeners as `emqx_mgmt:list_listeners/1` lists them,
EMQX 4.4's default ones (`etc/emqx.conf`, `emqx_management.conf`, `emqx_dashboard.conf`).

* First the esockd listeners (MQTT over TCP and TLS: `esockd:listeners/0`, in term order of
  `{Protocol, ListenOn}`), with their `identifier`; then the ranch ones (HTTP: the
  management and dashboard listeners, MQTT over WebSocket), by name, without one.
* `listen_on` is `esockd:to_string/1` of the bind: `"0.0.0.0:1883"`, or a port alone.
* `current_conns`: the node's connected clients of that listener (the fake's listener
  names, `tcp:default` and its kin, stand for 4.4's `external` ones); `shutdown_count` is
  the empty proplist, `[]`.
* `GET /listeners` lists the running nodes; `GET /nodes/{node}/listeners` a node's, or for
  a node that is down the failed call's reason (`{"error": "nodedown"}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ....http.routing import Call
from ....state.broker import Broker
from ..api import RestApi

api = RestApi()
routes = api.routes


@dataclass(frozen=True)
class Listener:
    protocol: str
    listen_on: str
    acceptors: int
    max_conns: int
    identifier: str | None = None  # esockd listeners only
    clients_of: str | None = None  # the fake's name for the clients it counts


LISTENERS = (
    Listener("mqtt:ssl", "8883", 16, 102400, "mqtt:ssl:external", "ssl:default"),
    Listener("mqtt:tcp", "0.0.0.0:1883", 8, 1024000, "mqtt:tcp:external", "tcp:default"),
    Listener("mqtt:tcp", "127.0.0.1:11883", 4, 1024000, "mqtt:tcp:internal"),
    Listener("http:dashboard", "18083", 4, 512),
    Listener("http:management", "8081", 2, 512),
    Listener("mqtt:ws:external", "8083", 4, 102400, clients_of="ws:default"),
    Listener("mqtt:wss:external", "8084", 4, 102400, clients_of="wss:default"),
)


def node_listeners(broker: Broker, node: str) -> list[dict[str, Any]]:
    connected: dict[str, int] = {}
    for session in broker.sessions:
        if session.node == node and session.connected:
            connected[session.listener] = connected.get(session.listener, 0) + 1
    return [
        {
            "protocol": listener.protocol,
            "listen_on": listener.listen_on,
            **({"identifier": listener.identifier} if listener.identifier is not None else {}),
            "acceptors": listener.acceptors,
            "max_conns": listener.max_conns,
            "current_conns": connected.get(listener.clients_of, 0) if listener.clients_of else 0,
            "shutdown_count": [],
        }
        for listener in LISTENERS
    ]


@api.rest("list_listeners", "GET", "/listeners/", "A list of listeners in the cluster")
def list_listeners(call: Call) -> list[dict[str, Any]]:
    broker = call.broker
    return [{"node": node, "listeners": node_listeners(broker, node)} for node in broker.running_nodes]


@api.rest("list_node_listeners", "GET", "/nodes/:atom:node/listeners", "A list of listeners on the node")
def list_node_listeners(call: Call) -> Any:
    """`format({error, Reason})`: a one-pair proplist, which minirest writes as an object."""
    node = call.path["node"]
    if not call.broker.nodes[node].running:
        return {"error": "nodedown"}
    return node_listeners(call.broker, node)
