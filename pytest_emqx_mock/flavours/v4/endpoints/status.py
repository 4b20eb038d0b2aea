"""`emqx_mgmt_http`'s own handler of the management listener's `/status`: no credentials, GET
only (any other method: 400 `Not found.`), the text `Node <node> is started\\nemqx is
running`, or `not_running` with 503 when the node serving it does not run."""

from __future__ import annotations

from ....http.replies import Reply
from ....http.routing import Call, Routes

routes = Routes()

_TEXT = {"content-type": "text/plain"}


@routes.get("/status", public=True, absolute=True)
def get_status(call: Call) -> Reply:
    node = call.broker.api_node
    running = call.broker.nodes[node].running
    return Reply(200 if running else 503, f"Node {node} is started\nemqx is {'running' if running else 'not_running'}", dict(_TEXT))


def _other_method(call: Call) -> Reply:
    return Reply(400, "Not found.", dict(_TEXT))


for _method in ("POST", "PUT", "DELETE"):
    routes.route(_method, "/status", public=True, absolute=True)(_other_method)
