"""`emqx_mgmt_api_subscriptions`: the subscriptions of the cluster, of a node, of a client."""

from __future__ import annotations

from typing import Any, Callable, Iterator
from urllib.parse import unquote

from ....http.replies import Reply
from ....http.routing import Call
from ....state.broker import Broker
from ....state.sessions import Session, Subscription
from ....state.topics import matches, parse_filter
from ..api import (
    RestApi,
    cannot_convert,
    crash,
    failed_without_code,
    page_and_limit,
    paged,
    param,
    params,
    query_page,
    to_integer,
)

api = RestApi()
routes = api.routes


def subscription_row(session: Session, subscription: Subscription) -> dict[str, Any]:
    """`format/1`: a shared subscription's topic with its `$share/<group>/`."""
    return {"node": session.node, "topic": subscription.topic, "clientid": session.clientid, "qos": subscription.qos}


def _rows(broker: Broker, nodes: list[str]) -> Iterator[tuple[Session, Subscription]]:
    for session in broker.sessions.listing(nodes):
        for subscription in list(session.subscriptions.values()):
            yield session, subscription


Test = Callable[[Session, Subscription], bool]


def _tests(pairs: list[tuple[str, Any]]) -> tuple[list[Test], bool]:
    """`?SUBS_QS_SCHEMA` (`topic` has its own path): `clientid`, `share` (the group) and `qos`
    exact, `_match_topic` a filter the subscribed topic must match (`emqx_topic:match/2`)."""
    tests: list[Test] = []
    for key, value in pairs:
        if key == "clientid":
            tests.append(_field(lambda session, subscription: session.clientid, value))
        elif key == "share":
            tests.append(_field(lambda session, subscription: subscription.share_group, value))
        elif key == "qos":
            try:
                qos = to_integer(value)
            except ValueError:
                raise cannot_convert(value, "integer") from None
            tests.append(_field(lambda session, subscription: subscription.qos, qos))
        elif key == "_match_topic":
            tests.append(_matching(value))
    return tests, bool(tests)


def _field(value_of: Callable[[Session, Subscription], Any], wanted: Any) -> Test:
    return lambda session, subscription: value_of(session, subscription) == wanted


def _matching(topic_filter: Any) -> Test:
    return lambda session, subscription: isinstance(topic_filter, str) and matches(parse_filter(subscription.topic).filter, topic_filter)


def _listing(call: Call, nodes: list[str]) -> Reply:
    pairs = params(call)
    topic = param(pairs, "topic")
    if topic is not None:
        return _via_topic(call, nodes, pairs, topic)
    tests, filtered = _tests(pairs)
    rows = _rows(call.broker, nodes)
    if tests:
        rows = (row for row in rows if all(test(*row) for test in tests))
    count = sum(len(s.subscriptions) for s in call.broker.sessions.listing(nodes))
    found, meta = query_page(rows, pairs, None if filtered else count)
    return paged([subscription_row(*row) for row in found], meta)


def _via_topic(call: Call, nodes: list[str], pairs: list[tuple[str, Any]], topic: Any) -> Reply:
    """The `topic` path: the subscriptions to that exact topic (shared ones too), filtered by
    `qos`, `clientid` and `share` (a prefix of the shown topic), then sliced: `count` is the
    filtered length (`add_meta/2`). The value is percent-decoded once more
    (`emqx_mgmt_util:urldecode/1`)."""
    if not isinstance(topic, str):
        raise crash()
    wanted = unquote(topic)
    rows = [subscription_row(*row) for row in _rows(call.broker, nodes) if parse_filter(row[1].topic).filter == wanted]
    qos = param(pairs, "qos")
    if qos is not None:
        try:
            level = to_integer(qos)
        except ValueError:
            raise crash() from None
        rows = [row for row in rows if row["qos"] == level]
    clientid = param(pairs, "clientid")
    if clientid is not None:
        rows = [row for row in rows if row["clientid"] == clientid]
    share = param(pairs, "share")
    if share is not None:
        prefix = f"$share/{share}"
        rows = [row for row in rows if row["topic"].startswith(prefix)]
    page, limit = page_and_limit(pairs)
    start = (page - 1) * limit + 1
    if start < 1 or limit < 0:
        raise crash()  # lists:sublist/3
    meta = {"page": page, "limit": limit, "hasnext": start + limit - 1 < len(rows), "count": len(rows)}
    return paged(rows[start - 1 : start - 1 + limit], meta)


@api.rest("list_subscriptions", "GET", "/subscriptions/", "A list of subscriptions in the cluster")
def list_subscriptions(call: Call) -> Reply:
    return _listing(call, sorted(call.broker.running_nodes))


@api.rest("list_node_subscriptions", "GET", "/nodes/:atom:node/subscriptions/", "A list of subscriptions on a node")
def list_node_subscriptions(call: Call) -> Reply:
    """Another node's list is an RPC whose `{badrpc, Reason}` answers without a code."""
    node = call.path["node"]
    if node != call.broker.api_node and not call.broker.nodes[node].running:
        raise failed_without_code("nodedown")
    return _listing(call, [node])


@api.rest("lookup_client_subscriptions", "GET", "/subscriptions/:bin:clientid", "A list of subscriptions of a client")
@api.rest(
    "lookup_client_subscriptions_with_node", "GET", "/nodes/:atom:node/subscriptions/:bin:clientid", "A list of subscriptions of a client on the node"
)
def lookup_client_subscriptions(call: Call) -> list[dict[str, Any]]:
    node = call.path.get("node")
    if node is not None and not call.broker.nodes[node].running:
        raise crash()  # the failed call's `{error, Reason}` cannot be encoded
    nodes = call.broker.running_nodes if node is None else [node]
    clientid = call.path["clientid"]
    return [subscription_row(*row) for row in _rows(call.broker, nodes) if row[0].clientid == clientid]
