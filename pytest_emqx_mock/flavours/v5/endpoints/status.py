"""`emqx_mgmt_api_status`: the health check, `GET /api/v5/status` and the un-prefixed `/status`.

Both answer without credentials, always with `retry-after: 15`: 200 while the serving node's
`emqx` application runs, 503 when it does not (the fake: when no node of the cluster runs).
`format=json` gives a JSON object that EMQX encodes itself (jiffy: keys descending); any other
format gives the text `Node <node> is <started|stopped>\\nemqx is <running|not_running>`.

The `/api/v5` route is a minirest operation: only GET, and a repeated `format` takes its last
value. The un-prefixed `/status` is a plain cowboy handler (`init/2`): it answers every method
and reads the first `format` of the query string.
"""

from __future__ import annotations

from typing import Any

from ....http.replies import Reply
from ....http.routing import Call, Routes
from ....state.broker import EE

routes = Routes()

#: EMQX 5.8.9's `emqx_release:edition_vsn_prefix/0`.
_VSN_PREFIX = {EE: "e"}


def running_status(call: Call, fmt: Any) -> Reply:
    """`emqx_mgmt_api_status:running_status/1` (every dashboard listener is up in the fake)."""
    broker = call.broker
    node = broker.api_node
    running = broker.nodes[node].running
    broker_status = "started" if running else "stopped"
    app_status = "running" if running else "not_running"
    status = 200 if running else 503
    if fmt == "json":
        body = {
            "rel_vsn": _VSN_PREFIX.get(broker.edition, "v") + broker.config.release,
            "node_name": node,
            "broker_status": broker_status,
            "app_status": app_status,
        }
        headers = {"content-type": "application/json", "retry-after": "15"}
        return Reply(status, body, headers, keep_order=True)
    text = f"Node {node} is {broker_status}\nemqx is {app_status}"
    return Reply(status, text, {"content-type": "text/plain", "retry-after": "15"})


@routes.get("/status", public=True)
def get_status(call: Call) -> Reply:
    return running_status(call, call.query.get("format", "text"))


def _bare_status(call: Call) -> Reply:
    """The cowboy handler: the first `format` in the query string (`lists:keyfind/3`)."""
    formats = call.request.args.getlist("format")
    return running_status(call, formats[0] if formats else "text")


for _method in ("GET", "POST", "PUT", "DELETE"):
    routes.route(_method, "/status", public=True, absolute=True)(_bare_status)
