"""How EMQX 5's handlers fail when they call a node that cannot answer: the NODE_DOWN answer
every node-scoped listing gives for a `node` it cannot call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...erlang.terms import atom, binary
from ...http.replies import ApiError

if TYPE_CHECKING:
    from ...state.broker import Broker


def listed_nodes(broker: Broker, node: str | None) -> list[str]:
    """The nodes a node-scoped listing reads: every running node, or the one its `node`
    parameter names. A name that is no atom in the cluster is refused before any call, and a
    member that is down fails the rpc, as does one whose rpc times out (after that wait): all
    500 NODE_DOWN."""
    if node is None:
        nodes = broker.running_nodes
    elif node not in broker.nodes:
        raise ApiError(500, "NODE_DOWN", f'bad rpc call {binary(node.encode())}, Reason <<"invalid node">>')
    elif node not in broker.running_nodes:
        raise ApiError(500, "NODE_DOWN", f"bad rpc call {atom(node)}, Reason nodedown")
    else:
        nodes = [node]
    for name in nodes:  # the query visits the nodes in turn: the first that hangs fails it
        timeout = broker.nodes[name].rpc_timeout
        if timeout is not None:
            raise ApiError(500, "NODE_DOWN", f"bad rpc call {atom(name)}, Reason timeout", delay=timeout)
    return nodes
