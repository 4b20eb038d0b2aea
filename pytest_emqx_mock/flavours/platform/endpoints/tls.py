"""TLS certificate management (`tls_certificate.md`): a deployment's custom certificate."""

from __future__ import annotations

from typing import Any

from ....http.replies import Reply
from ....http.routing import Call, Routes
from . import caller

routes = Routes()


@routes.get("/deployments/{deployment_id}/tls")
def get_tls(call: Call) -> dict[str, Any]:
    return call.broker.platform.tls(caller(call), call.path["deployment_id"])


@routes.post("/deployments/{deployment_id}/tls")
def create_tls(call: Call) -> dict[str, Any]:
    return call.broker.platform.set_tls(caller(call), call.path["deployment_id"], call.body, update=False)


@routes.put("/deployments/{deployment_id}/tls")
def update_tls(call: Call) -> dict[str, Any]:
    return call.broker.platform.set_tls(caller(call), call.path["deployment_id"], call.body, update=True)


@routes.delete("/deployments/{deployment_id}/tls")
def delete_tls(call: Call) -> Reply:
    call.broker.platform.delete_tls(caller(call), call.path["deployment_id"])
    return Reply(204)
