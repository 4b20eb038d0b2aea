"""`emqx_mgmt_api_topics`: the cluster's route table, one row per (topic filter, destination).

A route's destination is a node, or `{Group, Node}` for a shared group, shown as
`$share/<group>/<filter>`; the routes of a node that is down are gone (EMQX's router helper
purges them). The listing streams the table in chunks of `limit` rows (`eval_topic_query`).
"""

from __future__ import annotations

from typing import Any

from ....http.replies import ApiError
from ....http.routing import Call, Routes
from ....state.paging import page_meta
from ....state.routes import Route, parse_topic, tables
from ....state.topics import InvalidFilter

routes = Routes()


def route_row(route: Route) -> dict[str, str]:
    return {"node": route.node, "topic": route.topic}


def _live(call: Call, routes: list[Route]) -> list[Route]:
    """`routes` without those of nodes that are down."""
    running = set(call.broker.running_nodes)
    if tables(call.broker).route_nodes <= running:
        return routes
    return [route for route in routes if route.node in running]


def _matches(route: Route, topic: str | None, group: str | None, node: str | None) -> bool:
    """The pattern `qs2ms/1` builds (node, then topic): `{Topic, Dest}` where the destination
    is `'_'` (any, shared groups included), the node (plain routes only) or, for a
    `$share/<group>/` topic, `{Group, '_' | Node}`."""
    if topic is not None and route.filter != topic:
        return False
    if group is not None:
        return route.group == group and (node is None or route.node == node)
    if node is not None:
        return route.group is None and route.node == node
    return True


@routes.get("/topics")
def list_topics(call: Call) -> dict[str, Any]:
    query = call.query
    topic = group = None
    if "topic" in query:
        try:
            topic, group = parse_topic(query["topic"])
        except InvalidFilter:
            raise ApiError(400, "INVALID_PARAMTER", "topic_filter_invalid") from None
    node = query.get("node")
    state = tables(call.broker)
    filtered = "topic" in query or "node" in query
    if topic is not None:  # the bag is read by key, the filter table by its words
        rows = [r for r in _live(call, state.routes_of(topic)) if _matches(r, topic, group, node)]
    elif node is not None:
        rows = [r for r in _live(call, state.routes) if _matches(r, None, None, node)]
    else:
        rows = _live(call, state.routes)
    page, limit = query["page"], query["limit"]
    start = (page - 1) * limit
    if len(rows) >= page * limit:
        # The page's chunk came back full: the stream is not known to be exhausted, so
        # `hasnext` is true (even when nothing follows) and only an unfiltered list counts
        # (`emqx_router:stats(n_routes)`).
        data = rows[start : start + limit]
        meta = page_meta(page, limit, count=None if filtered else len(rows), hasnext=True)
    else:  # the scan reached the end within this page: `count` is the rows scanned
        data = rows[start:]
        meta = page_meta(page, limit, count=len(rows), hasnext=False)
    return {"data": [route_row(route) for route in data], "meta": meta}


@routes.get("/topics/{topic}")
def get_topic(call: Call) -> list[dict[str, str]]:
    found = _live(call, tables(call.broker).routes_of(call.path["topic"]))
    if not found:
        raise ApiError(404, "TOPIC_NOT_FOUND", "Topic not found")
    return [route_row(route) for route in found]
