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
* `PUT .../listeners/{identifier}/restart` restarts an MQTT listener by its identifier
  (`emqx_listeners:restart_listener/1`): the listener's supervisor is terminated and started
  again (`esockd_sup:restart_listener/2`, `cowboy:stop_listener/1` for WebSocket), so the
  clients connected through it on that node are disconnected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ....erlang.terms import Atom, pretty
from ....http.replies import Reply
from ....http.routing import Call, raw_path
from ....state.broker import Broker
from ..api import RestApi, failed_without_code, reachable

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


def _identifier(call: Call) -> bytes:
    """The `:bin:identifier` binding as minirest gives it: the raw path segment before
    `restart`, not percent-decoded (`emqx_mgmt_api_listeners:restart/2` decodes nothing)."""
    segments = [segment for segment in raw_path(call.request.environ).split("/") if segment]
    return segments[-2].encode()


def _restart(broker: Broker, node: str, identifier: bytes) -> Any:
    """`emqx_mgmt:restart_listener/2` on a running node: `ok` (None here), after dropping
    the listener's connections there, or `{error, {no_such_listener, Id}}`."""
    listener = next((found for found in LISTENERS if found.protocol.startswith("mqtt:") and _id(found).encode() == identifier), None)
    if listener is None:
        return (Atom("error"), (Atom("no_such_listener"), identifier))
    dropped = [s.clientid for s in broker.sessions if s.node == node and s.connected and s.listener == listener.clients_of]
    for clientid in dropped:
        broker.disconnect(clientid)
    return None


def _id(listener: Listener) -> str:
    """`emqx_listeners:identifier/1`: `mqtt:<proto>:<name>`; the WebSocket listeners are
    listed under it as their protocol."""
    return listener.identifier or listener.protocol


@api.rest("restart_listener", "PUT", "/listeners/:bin:identifier/restart", "Restart a listener in the cluster")
def restart_listener(call: Call) -> Any:
    """Every node of the cluster (`emqx_mgmt:list_nodes/0`: the running, then the stopped,
    whose RPC fails with `nodedown`); any failure answers them all as one printed term.
    An HTTP listener's identifier is refused first, with a bare JSON string and 403."""
    identifier = _identifier(call)
    if identifier.startswith(b"http"):
        return Reply(403, "http_listener_restart_unsupported")
    broker = call.broker
    results = [(name, _restart(broker, name, identifier) if node.running else (Atom("error"), Atom("nodedown"))) for name, node in _cluster_order(broker)]
    errors = [(Atom(name), result) for name, result in results if result is not None]
    if errors:
        raise failed_without_code(pretty((Atom("restart"), errors)))
    return None


def _cluster_order(broker: Broker) -> list[tuple[str, Any]]:
    nodes = broker.nodes
    return [(name, nodes[name]) for name in broker.running_nodes] + [(name, node) for name, node in nodes.items() if not node.running]


@api.rest("restart_node_listener", "PUT", "/nodes/:atom:node/listeners/:bin:identifier/restart", "Restart a listener on a node")
def restart_node_listener(call: Call) -> Any:
    """`{"code": 0, "data": "Listener restarted."}` in EMQX's source, but that reply is an
    Erlang string, a list of characters, which jiffy encodes as an array of their codes."""
    node = reachable(call)
    failure = _restart(call.broker, node, _identifier(call))
    if failure is not None:
        raise failed_without_code(pretty(failure[1]))
    return [ord(character) for character in "Listener restarted."]
