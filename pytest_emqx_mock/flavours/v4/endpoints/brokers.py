"""`emqx_mgmt_api_brokers`: each running node's `emqx_sys:info/0`."""

from __future__ import annotations

import time
from typing import Any

from ....http.routing import Call
from ....state.broker import EE, Broker
from ..api import UNKNOWN_ERROR, RestApi, failed
from .nodes import OTP_RELEASE, VERSION, uptime

api = RestApi()
routes = api.routes


def broker_info(broker: Broker, name: str) -> dict[str, Any]:
    """`emqx_mgmt:broker_info/1`: `sysdescr` is the `emqx` application's description."""
    return {
        "node": name,
        "node_status": "Running",
        "version": VERSION,
        "sysdescr": "EMQX Enterprise" if broker.edition == EE else "EMQX",
        "uptime": uptime(broker.nodes[name].started_at),
        "datetime": time.strftime("%Y-%m-%d %H:%M:%S"),
        "otp_release": OTP_RELEASE,
    }


@api.rest("list_brokers", "GET", "/brokers/", "A list of brokers in the cluster")
def list_brokers(call: Call) -> list[dict[str, Any]]:
    return [broker_info(call.broker, name) for name in call.broker.running_nodes]


@api.rest("get_broker", "GET", "/brokers/:atom:node", "Get broker info of a node")
def get_broker(call: Call) -> dict[str, Any]:
    """A node that is down: 102 with the failed call's reason."""
    name = call.path["node"]
    if not call.broker.nodes[name].running:
        raise failed(UNKNOWN_ERROR, "nodedown")
    return broker_info(call.broker, name)
