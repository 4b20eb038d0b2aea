"""`emqx_mgmt_api_routes`: the route table (4.x's view of topics; there is no `/topics`). A
shared group's route shows its bare topic filter; a node that is down has no routes."""

from __future__ import annotations

from typing import Any

from ....http.routing import Call
from ....state.routes import Route, tables
from ..api import RestApi, paged, params, table_page

api = RestApi()
routes = api.routes


def _live(call: Call, found: list[Route]) -> list[dict[str, Any]]:
    running = set(call.broker.running_nodes)
    return [{"topic": route.filter, "node": route.node} for route in found if route.node in running]


@api.rest("list_routes", "GET", "/routes/", "List routes")
def list_routes(call: Call) -> Any:
    """`emqx_mgmt_api:paginate/3` over the route table: meta `{page, limit, count}`."""
    rows, meta = table_page(_live(call, tables(call.broker).routes), params(call))
    return paged(rows, meta)


@api.rest("lookup_routes", "GET", "/routes/:bin:topic", "Lookup routes to a topic")
def lookup_routes(call: Call) -> list[dict[str, Any]]:
    return _live(call, tables(call.broker).routes_of(call.path["topic"]))
