"""`emqx_mgmt_api_subscriptions`: every subscription of the cluster, page by page.

EMQX scans each running node's subscription table (`emqx_mgmt_api:cluster_query`, or
`node_query` for `node=`) with a match spec built from the exact filters, in chunks of `limit`
rows; `match_topic` is a fuzzy filter applied to each chunk, and then there is no `count`
(unless `topic` is given too: `parse_qstring/2` then drops the fuzzy key).
`durable` only chooses the durable-session store, which is off by default: it is ignored.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ....http.replies import ApiError
from ....http.routing import Call, Routes
from ....state.paging import ets_listing
from ....state.routes import SubscriptionEntry, parse_topic, session_entries, tables
from ....state.topics import InvalidFilter, matches
from ..rpc import listed_nodes

routes = Routes()


def subscription_row(entry: SubscriptionEntry) -> dict[str, Any]:
    """`emqx_mgmt_api_subscriptions:format/2` of an in-memory subscription."""
    subscription = entry.subscription
    return {
        "clientid": entry.session.clientid,
        "durable": False,
        "nl": subscription.nl,
        "node": entry.session.node,
        "qos": subscription.qos,
        "rap": subscription.rap,
        "rh": subscription.rh,
        "topic": entry.topic,
    }


# -- the listing --------------------------------------------------------------------------


def _valid_match_topic(text: str) -> bool:
    """`check_match_topic/1`: a filter `emqx_topic:parse` accepts that is not shared."""
    try:
        return parse_topic(text)[1] is None
    except InvalidFilter:
        return False


def _exact_filter(query: dict[str, Any]) -> Callable[[SubscriptionEntry], bool] | None:
    """The match spec (`update_ms/3`, the keys taken in sorted order: clientid, qos,
    share_group, topic): `topic` alone matches plain subscriptions only; `share_group` alone
    every shared subscription of the group; both, shared subscriptions to the topic in any
    group (the topic replaces the share record, group included)."""
    tests: list[Callable[[SubscriptionEntry], bool]] = []
    if "clientid" in query:
        clientid = query["clientid"]
        tests.append(lambda e: e.session.clientid == clientid)
    if "qos" in query:
        qos = query["qos"]
        tests.append(lambda e: e.subscription.qos == qos)
    group, topic = query.get("share_group"), query.get("topic")
    if group is not None and topic is not None:
        tests.append(lambda e: e.group is not None and e.filter == topic)
    elif group is not None:
        tests.append(lambda e: e.group == group)
    elif topic is not None:
        tests.append(lambda e: e.group is None and e.filter == topic)
    if not tests:
        return None
    return lambda entry: all(test(entry) for test in tests)


@routes.get("/subscriptions")
def list_subscriptions(call: Call) -> dict[str, Any]:
    query, broker = call.query, call.broker
    if "match_topic" in query and not _valid_match_topic(query["match_topic"]):
        raise ApiError(400, "INVALID_PARAMETER", "match_topic_invalid")
    nodes = listed_nodes(broker, query.get("node"))
    state = tables(broker)
    per_node: list[Sequence[SubscriptionEntry]]
    if "clientid" in query:  # only that client's rows can match: no need to scan the others
        session = broker.sessions.find(query["clientid"])
        per_node = [session_entries(session) if session is not None and session.node == node else [] for node in nodes]
    else:
        per_node = [state.subscriptions(node) for node in nodes]
    exact = _exact_filter(query)
    if exact is not None:
        per_node = [[entry for entry in entries if exact(entry)] for entries in per_node]
    page, limit = query["page"], query["limit"]
    pattern = None if "topic" in query else query.get("match_topic")  # checked all the same, above
    keep = None if pattern is None else (lambda e: matches(e.filter, pattern))
    entries, meta = ets_listing(per_node, page, limit, keep)
    return {"data": [subscription_row(entry) for entry in entries], "meta": meta}
