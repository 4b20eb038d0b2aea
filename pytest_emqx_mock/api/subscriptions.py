"""`emqx_mgmt_api_subscriptions`: every subscription of the cluster, page by page.

EMQX scans each running node's subscription table (`emqx_mgmt_api:cluster_query`, or
`node_query` for `node=`) with a match spec built from the exact filters, in chunks of `limit`
rows; `match_topic` is a fuzzy filter applied to each chunk, and then there is no `count`.
`durable` only chooses the durable-session store, which is off by default: it is ignored.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, TypeVar

from ..model.routes import SubscriptionEntry, parse_topic, session_entries, tables
from ..model.topics import InvalidFilter, matches
from .erlang import listed_nodes
from .replies import ApiError
from .routing import Call, Routes

routes = Routes()

T = TypeVar("T")


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


def cluster_query(
    tables_by_node: Sequence[Sequence[T]], page: int, limit: int, keep: Callable[[T], bool] | None = None
) -> tuple[list[T], bool]:
    """Page `page` of the nodes' rows and its `hasnext`, the way `emqx_mgmt_api` pages them.

    Each node's rows (those the match spec selects, in table order) are read in chunks of
    `limit` (`ets:select_reverse/3`); `keep`, the fuzzy filter, then drops rows of each chunk.
    A chunk shorter than `limit` is the end of that node's table; a full one carries a
    continuation even when nothing follows. So `hasnext` is true when the page ends inside a
    chunk, and when it ends at a chunk's end unless that was the end of the last node's
    table: a page that ends exactly at a full chunk says `hasnext: true` though no row follows.
    """
    page_start, page_end = (page - 1) * limit, page * limit
    cursor = 0
    found: list[T] = []
    for index, rows in enumerate(tables_by_node):
        last_node = index == len(tables_by_node) - 1
        position, size = 0, len(rows)
        while True:
            if keep is None:  # whole chunks before the page: only the cursor moves
                skipped = min((page_start - cursor) // limit, (size - position) // limit)
                if skipped > 0:
                    cursor += skipped * limit
                    position += skipped * limit
            chunk = list(rows[position : position + limit])
            position += len(chunk)
            complete = len(chunk) < limit
            if keep is not None:
                chunk = [row for row in chunk if keep(row)]
            new_cursor = cursor + len(chunk)
            if new_cursor >= page_end:
                wanted = chunk[max(0, page_start - cursor) :][: limit - len(found)]
                overflow = limit - len(found) < len(chunk)
                found.extend(wanted)
                return found, overflow or not (complete and last_node)
            if new_cursor > page_start:
                found.extend(chunk[max(0, page_start - cursor) :])
            cursor = new_cursor
            if complete:
                break
    return found, False


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
    meta: dict[str, Any] = {"page": page, "limit": limit}
    if "match_topic" in query:
        pattern = query["match_topic"]
        entries, meta["hasnext"] = cluster_query(per_node, page, limit, lambda e: matches(e.filter, pattern))
    else:
        entries, meta["hasnext"] = cluster_query(per_node, page, limit)
        meta["count"] = sum(len(node_entries) for node_entries in per_node)
    return {"data": [subscription_row(entry) for entry in entries], "meta": meta}
