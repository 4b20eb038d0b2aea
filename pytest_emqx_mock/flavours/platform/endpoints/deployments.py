"""Deployment management (`deployment_manage.md`): list, status, stop and start."""

from __future__ import annotations

from typing import Any

from ....http.replies import Reply
from ....http.routing import Call, Routes
from . import caller

routes = Routes()


@routes.get("/deployments")
def list_deployments(call: Call) -> list[dict[str, Any]]:
    return call.broker.platform.listed(caller(call))


@routes.get("/deployments/{deployment_id}")
def get_deployment(call: Call) -> dict[str, Any]:
    return call.broker.platform.get(caller(call), call.path["deployment_id"])


@routes.post("/deployments/{deployment_id}/stop")
def stop_deployment(call: Call) -> Reply:
    return Reply(201, call.broker.platform.stop(caller(call), call.path["deployment_id"]))


@routes.post("/deployments/{deployment_id}/start")
def start_deployment(call: Call) -> Reply:
    return Reply(201, call.broker.platform.start(caller(call), call.path["deployment_id"]))
