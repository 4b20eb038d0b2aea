"""`emqx_mgmt_api_cluster`: the cluster's name and running nodes (`GET /cluster`)."""

from __future__ import annotations

from typing import Any

from ....http.routing import Call, Routes

routes = Routes()

#: `ekka.cluster_name`, EMQX's default `emqxcl`.
CLUSTER_NAME = "emqxcl"


@routes.get("/cluster")
def cluster_info(call: Call) -> dict[str, Any]:
    """`{"name", "nodes", "self"}`: `nodes` are the running nodes (`emqx:running_nodes()`),
    `self` the node that serves the API."""
    return {"name": CLUSTER_NAME, "nodes": call.broker.running_nodes, "self": call.broker.api_node}
