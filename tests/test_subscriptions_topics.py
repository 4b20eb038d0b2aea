"""`GET /subscriptions` (`emqx_mgmt_api_subscriptions`) and `GET /topics`, `GET /topics/{topic}`
(`emqx_mgmt_api_topics`) of the fake EMQX 5.8.9.

What is asserted was read from EMQX v5.8.9's code (surface notes §4.1, §4.4, §6.4, §6.5, checked
against `emqx_mgmt_api_subscriptions`, `emqx_mgmt_api_topics`, `emqx_mgmt_api`, `emqx_broker`,
`emqx_router`, `emqx_shared_sub`, `emqx_topic`): the filters and their quirks, the order of the
rows, the meta variants (including `hasnext: true` on a page that ends exactly where the
rows end), the errors, and routes that follow the subscriptions.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
import requests
from api import get, post
from conftest import reset_for_a_test

from pytest_emqx_mock import EmqxServer

N1, N2 = "emqx@10.0.0.1", "emqx@10.0.0.2"
MATCH_TOPIC_INVALID = {"code": "INVALID_PARAMETER", "message": "match_topic_invalid"}
TOPIC_FILTER_INVALID = {"code": "INVALID_PARAMTER", "message": "topic_filter_invalid"}
TOPIC_NOT_FOUND = {"code": "TOPIC_NOT_FOUND", "message": "Topic not found"}


@pytest.fixture(scope="module")
def ip_cluster_server() -> Iterator[EmqxServer]:
    """Two nodes named by address: such node names print as quoted atoms."""
    with EmqxServer(nodes=(N1, N2)) as server:
        yield server


@pytest.fixture
def ip_cluster(ip_cluster_server: EmqxServer) -> Iterator[EmqxServer]:
    """The two-node fake, reset."""
    yield from reset_for_a_test(ip_cluster_server)




def ok(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def sub(clientid: str, topic: str, node: str = N1, qos: int = 0, nl: int = 0, rap: int = 0, rh: int = 0) -> dict[str, Any]:
    return {"clientid": clientid, "durable": False, "nl": nl, "node": node, "qos": qos, "rap": rap, "rh": rh, "topic": topic}


def route(topic: str, node: str = N1) -> dict[str, str]:
    return {"node": node, "topic": topic}


def bad_request(path: str, value: Any, reason: Any) -> dict[str, str]:
    inner = {"value": value, "reason": reason, "path": path, "kind": "validation_error"}
    return {"code": "BAD_REQUEST", "message": json.dumps(inner, separators=(",", ":"))}


def subscriptions(server: EmqxServer, **params: Any) -> Any:
    return ok(get(server, "/subscriptions", params))


def seed(server: EmqxServer) -> None:
    """Plain, wildcard, shared and `$queue` subscriptions on two nodes."""
    server.add_client("c1", subscriptions=["a/b", {"topic": "x/#", "qos": 1}, "$share/g/a/b", "$queue/q"])
    server.add_client("c2", node=N2, subscriptions=["a/b", {"topic": "$share/g/a/b", "qos": 2}, "$share/h/z"])
    server.add_client("c3", subscriptions=["a/b", "+/x", "#", "/#", "$share/h/a/b"])


SEEDED = [
    # node 1: plain topics descending (bytes: x > a > / > + > #), the newer channel first on a tie
    sub("c1", "x/#", qos=1),
    sub("c3", "a/b"),
    sub("c1", "a/b"),
    sub("c3", "/#"),
    sub("c3", "+/x"),
    sub("c3", "#"),
    # then the shared ones ({share, Group, Topic} records sort before binaries), descending
    sub("c3", "$share/h/a/b"),
    sub("c1", "$share/g/a/b"),
    sub("c1", "$queue/q"),
    # node 2
    sub("c2", "a/b", node=N2),
    sub("c2", "$share/h/z", node=N2),
    sub("c2", "$share/g/a/b", node=N2, qos=2),
]


# -- GET /subscriptions: rows and order ----------------------------------------------------


def test_every_subscription_in_table_order_per_node(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, "/subscriptions")
    assert ok(response) == {"data": SEEDED, "meta": {"count": 12, "hasnext": False, "limit": 100, "page": 1}}
    assert list(response.json()["data"][0]) == ["clientid", "durable", "nl", "node", "qos", "rap", "rh", "topic"]


def test_subscription_options_are_shown(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=[{"topic": "t/1", "qos": 2, "nl": 1, "rap": 1, "rh": 2}])
    assert subscriptions(ip_cluster)["data"] == [sub("c1", "t/1", qos=2, nl=1, rap=1, rh=2)]


def test_a_shared_subscription_to_the_queue_group_shows_as_queue(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["$share/$queue/t"])
    assert subscriptions(ip_cluster)["data"] == [sub("c1", "$queue/t")]


def test_subscribers_of_one_topic_newest_channel_first(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("old", subscriptions=["t"])
    ip_cluster.add_client("new", subscriptions=["t"])
    assert [row["clientid"] for row in subscriptions(ip_cluster)["data"]] == ["new", "old"]
    ip_cluster.add_client("old", subscriptions=["t"])  # reconnects: a new channel process
    assert [row["clientid"] for row in subscriptions(ip_cluster)["data"]] == ["old", "new"]


def test_subscriptions_follow_the_api(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["a"])
    assert ok(post(ip_cluster, "/clients/c1/subscribe", {"topic": "b", "qos": 1})) == {
        "clientid": "c1", "nl": 0, "node": N1, "qos": 1, "rap": 0, "rh": 0, "topic": "b",
    }  # fmt: skip
    assert subscriptions(ip_cluster)["data"] == [sub("c1", "b", qos=1), sub("c1", "a")]
    assert post(ip_cluster, "/clients/c1/unsubscribe", {"topic": "a"}).status_code == 204
    assert subscriptions(ip_cluster)["data"] == [sub("c1", "b", qos=1)]
    assert requests.delete(ip_cluster.api_url + "/clients/c1", auth=ip_cluster.auth, timeout=30).status_code == 204
    assert subscriptions(ip_cluster) == {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}


# -- GET /subscriptions: filters -----------------------------------------------------------


def test_clientid_filter(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, clientid="c1") == {
        "data": [sub("c1", "x/#", qos=1), sub("c1", "a/b"), sub("c1", "$share/g/a/b"), sub("c1", "$queue/q")],
        "meta": {"count": 4, "hasnext": False, "limit": 100, "page": 1},
    }
    assert subscriptions(ip_cluster, clientid="c2")["data"] == [row for row in SEEDED if row["clientid"] == "c2"]
    assert subscriptions(ip_cluster, clientid="nobody") == {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}


def test_qos_filter(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, qos=1)["data"] == [sub("c1", "x/#", qos=1)]
    assert subscriptions(ip_cluster, qos=2)["data"] == [sub("c2", "$share/g/a/b", node=N2, qos=2)]
    assert subscriptions(ip_cluster, qos=0)["meta"]["count"] == 10


def test_topic_alone_matches_only_plain_subscriptions_to_it(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, topic="a/b") == {
        "data": [sub("c3", "a/b"), sub("c1", "a/b"), sub("c2", "a/b", node=N2)],
        "meta": {"count": 3, "hasnext": False, "limit": 100, "page": 1},
    }
    assert subscriptions(ip_cluster, topic="x/#")["data"] == [sub("c1", "x/#", qos=1)]  # the filter itself, not a match
    assert subscriptions(ip_cluster, topic="x/1")["data"] == []
    assert subscriptions(ip_cluster, topic="$share/g/a/b")["data"] == []  # shared ones are keyed by their record
    assert subscriptions(ip_cluster, topic="$queue/q")["data"] == []


def test_share_group_alone_matches_every_subscription_of_the_group(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, share_group="h") == {
        "data": [sub("c3", "$share/h/a/b"), sub("c2", "$share/h/z", node=N2)],
        "meta": {"count": 2, "hasnext": False, "limit": 100, "page": 1},
    }
    assert subscriptions(ip_cluster, share_group="$queue")["data"] == [sub("c1", "$queue/q")]
    assert subscriptions(ip_cluster, share_group="nobody")["data"] == []


def test_share_group_with_topic_matches_the_topic_in_any_group(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    shared_a_b = [sub("c3", "$share/h/a/b"), sub("c1", "$share/g/a/b"), sub("c2", "$share/g/a/b", node=N2, qos=2)]
    assert subscriptions(ip_cluster, share_group="g", topic="a/b")["data"] == shared_a_b
    assert subscriptions(ip_cluster, share_group="nobody", topic="a/b") == {
        "data": shared_a_b,
        "meta": {"count": 3, "hasnext": False, "limit": 100, "page": 1},
    }
    assert subscriptions(ip_cluster, share_group="g", topic="z")["data"] == [sub("c2", "$share/h/z", node=N2)]


def test_filters_combine(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, clientid="c3", topic="a/b")["data"] == [sub("c3", "a/b")]
    assert subscriptions(ip_cluster, clientid="c2", share_group="g", qos=2)["data"] == [sub("c2", "$share/g/a/b", node=N2, qos=2)]
    assert subscriptions(ip_cluster, clientid="c2", qos=1)["data"] == []
    assert subscriptions(ip_cluster, node=N2, topic="a/b")["data"] == [sub("c2", "a/b", node=N2)]


def test_match_topic_matches_subscribed_filters_shared_ones_by_their_topic(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, match_topic="a/+") == {
        "data": [
            sub("c3", "a/b"), sub("c1", "a/b"), sub("c3", "$share/h/a/b"), sub("c1", "$share/g/a/b"),
            sub("c2", "a/b", node=N2), sub("c2", "$share/g/a/b", node=N2, qos=2),
        ],
        "meta": {"hasnext": False, "limit": 100, "page": 1},  # a fuzzy filter: no count
    }  # fmt: skip
    # the subscribed filter is matched as a name: `#` matches everything but `$` topics
    assert [row["topic"] for row in subscriptions(ip_cluster, match_topic="#")["data"]] == [
        "x/#", "a/b", "a/b", "/#", "+/x", "#", "$share/h/a/b", "$share/g/a/b", "$queue/q",
        "a/b", "$share/h/z", "$share/g/a/b",
    ]  # fmt: skip
    assert subscriptions(ip_cluster, match_topic="x/+")["data"] == [sub("c1", "x/#", qos=1)]  # not "+/x": no level is "x"
    assert subscriptions(ip_cluster, match_topic="+/x")["data"] == [sub("c3", "+/x")]
    assert subscriptions(ip_cluster, match_topic="a/#", share_group="h")["data"] == [sub("c3", "$share/h/a/b")]
    assert subscriptions(ip_cluster, match_topic="a/#/b") == {"data": [], "meta": {"hasnext": False, "limit": 100, "page": 1}}


def test_match_topic_does_not_match_dollar_topics_with_a_leading_wildcard(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["$SYS/brokers", "$share/g/$SYS/x"])
    assert subscriptions(ip_cluster, match_topic="#")["data"] == []
    assert subscriptions(ip_cluster, match_topic="+/brokers")["data"] == []
    assert subscriptions(ip_cluster, match_topic="$SYS/#")["data"] == [sub("c1", "$SYS/brokers"), sub("c1", "$share/g/$SYS/x")]


@pytest.mark.parametrize("value", ["$share/g/t", "$queue/t", "$share/g", "$share/g+/t", "$share/g/$queue/t", "$exclusive/"])
def test_a_shared_or_unparsable_match_topic_is_refused(ip_cluster: EmqxServer, value: str) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, "/subscriptions", {"match_topic": value, "node": "nowhere"})
    assert (response.status_code, response.json()) == (400, MATCH_TOPIC_INVALID)  # checked before the node
    assert subscriptions(ip_cluster)["data"] == SEEDED


def test_durable_is_ignored_while_durable_sessions_are_off(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, durable="true")["data"] == SEEDED
    assert subscriptions(ip_cluster, durable="false")["data"] == SEEDED


def test_node_filter(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert subscriptions(ip_cluster, node=N2) == {
        "data": [row for row in SEEDED if row["node"] == N2],
        "meta": {"count": 3, "hasnext": False, "limit": 100, "page": 1},
    }


def test_an_unknown_node_is_a_bad_rpc(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, "/subscriptions", {"node": "emqx@nowhere"})
    assert response.status_code == 500
    assert response.json() == {"code": "NODE_DOWN", "message": 'bad rpc call <<"emqx@nowhere">>, Reason <<"invalid node">>'}
    response = get(ip_cluster, "/subscriptions", {"node": 'a"b'})
    assert response.json() == {"code": "NODE_DOWN", "message": 'bad rpc call <<"a\\"b">>, Reason <<"invalid node">>'}
    assert subscriptions(ip_cluster)["data"] == SEEDED


def test_a_stopped_node_with_a_bare_atom_name(cluster: EmqxServer) -> None:
    cluster.add_client("c1", node="emqx@n2", subscriptions=["t"])
    cluster.set_node_status("emqx@n2", "stopped")
    response = get(cluster, "/subscriptions", {"node": "emqx@n2"})
    assert (response.status_code, response.json()) == (500, {"code": "NODE_DOWN", "message": "bad rpc call emqx@n2, Reason nodedown"})
    assert subscriptions(cluster) == {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}


def test_a_stopped_node_is_down_and_left_out(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    ip_cluster.set_node_status(N2, "stopped")
    response = get(ip_cluster, "/subscriptions", {"node": N2})
    assert (response.status_code, response.json()) == (500, {"code": "NODE_DOWN", "message": "bad rpc call 'emqx@10.0.0.2', Reason nodedown"})
    assert subscriptions(ip_cluster) == {"data": SEEDED[:9], "meta": {"count": 9, "hasnext": False, "limit": 100, "page": 1}}


@pytest.mark.parametrize(
    ("params", "path", "value", "reason"),
    [
        ({"qos": "3"}, "qos", "3", "Unable to parse string"),
        ({"durable": "maybe"}, "durable", "maybe", "Unable to parse boolean value"),
        ({"page": "0"}, "page", 0, {"expected": "pos_integer()"}),
        ({"limit": "10001"}, "limit", 10001, {"expected": "1..10000"}),
    ],
)
def test_bad_parameters(ip_cluster: EmqxServer, params: dict[str, str], path: str, value: Any, reason: Any) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, "/subscriptions", params)
    assert (response.status_code, response.json()) == (400, bad_request(path, value, reason))
    assert subscriptions(ip_cluster)["data"] == SEEDED


# -- GET /subscriptions: pages -------------------------------------------------------------


def test_counted_pages(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2", "t/3", "t/4", "t/5"])
    assert subscriptions(ip_cluster, limit=2) == {
        "data": [sub("c1", "t/5"), sub("c1", "t/4")],
        "meta": {"count": 5, "hasnext": True, "limit": 2, "page": 1},
    }
    assert subscriptions(ip_cluster, limit=2, page=3) == {"data": [sub("c1", "t/1")], "meta": {"count": 5, "hasnext": False, "limit": 2, "page": 3}}
    assert subscriptions(ip_cluster, limit=2, page=4) == {"data": [], "meta": {"count": 5, "hasnext": False, "limit": 2, "page": 4}}
    assert subscriptions(ip_cluster, limit=2, page=2, topic="t/1") == {"data": [], "meta": {"count": 1, "hasnext": False, "limit": 2, "page": 2}}


def test_a_page_ending_exactly_at_the_last_row_still_says_hasnext(ip_cluster: EmqxServer) -> None:
    """A full chunk from `ets:select_reverse/3` carries a continuation even when nothing
    follows, and the query stops at the full page without asking for more."""
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2", "t/3", "t/4"])
    assert subscriptions(ip_cluster, limit=2, page=2) == {
        "data": [sub("c1", "t/2"), sub("c1", "t/1")],
        "meta": {"count": 4, "hasnext": True, "limit": 2, "page": 2},
    }
    assert subscriptions(ip_cluster, limit=2, page=3) == {"data": [], "meta": {"count": 4, "hasnext": False, "limit": 2, "page": 3}}
    assert subscriptions(ip_cluster, limit=4, node=N1)["meta"] == {"count": 4, "hasnext": True, "limit": 4, "page": 1}
    assert subscriptions(ip_cluster, limit=5, node=N1)["meta"] == {"count": 4, "hasnext": False, "limit": 5, "page": 1}


def test_pages_across_nodes(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2", "t/3"])
    ip_cluster.add_client("c2", node=N2, subscriptions=["u/1", "u/2"])
    pages = [subscriptions(ip_cluster, limit=2, page=page) for page in (1, 2, 3)]
    assert [page["data"] for page in pages] == [
        [sub("c1", "t/3"), sub("c1", "t/2")],
        [sub("c1", "t/1"), sub("c2", "u/2", node=N2)],
        [sub("c2", "u/1", node=N2)],
    ]
    assert [page["meta"]["hasnext"] for page in pages] == [True, True, False]
    # the last node's first chunk is short, so it is known to be the end
    assert subscriptions(ip_cluster, limit=3, page=2)["meta"] == {"count": 5, "hasnext": False, "limit": 3, "page": 2}


def test_a_full_page_on_the_first_node_says_hasnext_while_other_nodes_remain(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2"])
    assert subscriptions(ip_cluster, limit=3)["meta"] == {"count": 2, "hasnext": False, "limit": 3, "page": 1}
    # a chunk of 2 from node 1 fills the page: node 2, though empty, is not asked
    assert subscriptions(ip_cluster, limit=2)["meta"] == {"count": 2, "hasnext": True, "limit": 2, "page": 1}


def test_fuzzy_pages_are_cut_from_filtered_chunks(ip_cluster: EmqxServer) -> None:
    # descending: t/4 t/3 t/2 t/1 s/2 s/1; chunks of 2: [t/4 t/3] [t/2 t/1] [s/2 s/1]
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2", "t/3", "t/4", "s/1", "s/2"])
    assert subscriptions(ip_cluster, limit=2, match_topic="+/1") == {
        "data": [sub("c1", "t/1"), sub("c1", "s/1")],
        "meta": {"hasnext": True, "limit": 2, "page": 1},  # filled by a full chunk: there may be more
    }
    assert subscriptions(ip_cluster, limit=2, page=2, match_topic="+/1") == {"data": [], "meta": {"hasnext": False, "limit": 2, "page": 2}}
    assert subscriptions(ip_cluster, limit=4, match_topic="t/#") == {
        "data": [sub("c1", "t/4"), sub("c1", "t/3"), sub("c1", "t/2"), sub("c1", "t/1")],
        "meta": {"hasnext": True, "limit": 4, "page": 1},
    }
    assert subscriptions(ip_cluster, limit=3, match_topic="t/#") == {
        "data": [sub("c1", "t/4"), sub("c1", "t/3"), sub("c1", "t/2")],
        "meta": {"hasnext": True, "limit": 3, "page": 1},
    }
    assert subscriptions(ip_cluster, limit=3, page=2, match_topic="t/#") == {
        "data": [sub("c1", "t/1")],
        "meta": {"hasnext": False, "limit": 3, "page": 2},
    }


# -- routes follow subscriptions -----------------------------------------------------------


def topics(server: EmqxServer, **params: Any) -> Any:
    return ok(get(server, "/topics", params))


def test_a_route_per_filter_and_destination_while_subscribed(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t"])
    ip_cluster.add_client("c2")
    assert topics(ip_cluster)["data"] == [route("t")]
    assert ok(post(ip_cluster, "/clients/c2/subscribe", {"topic": "t"}))["topic"] == "t"
    assert ok(post(ip_cluster, "/clients/c2/subscribe", {"topic": "$share/g/t"}))["topic"] == "$share/g/t"
    assert topics(ip_cluster) == {"data": [route("t"), route("$share/g/t")], "meta": {"count": 2, "hasnext": False, "limit": 100, "page": 1}}
    assert post(ip_cluster, "/clients/c1/unsubscribe", {"topic": "t"}).status_code == 204
    assert topics(ip_cluster)["data"] == [route("t"), route("$share/g/t")]  # c2 still subscribes to t
    assert post(ip_cluster, "/clients/c2/unsubscribe/bulk", [{"topic": "t"}]).status_code == 204
    assert topics(ip_cluster)["data"] == [route("$share/g/t")]
    resp = get(ip_cluster, "/topics/t")
    assert (resp.status_code, resp.json()) == (200, [route("$share/g/t")])
    assert requests.delete(ip_cluster.api_url + "/clients/c2", auth=ip_cluster.auth, timeout=30).status_code == 204
    assert topics(ip_cluster) == {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}
    resp = get(ip_cluster, "/topics/t")
    assert (resp.status_code, resp.json()) == (404, TOPIC_NOT_FOUND)


def test_routes_of_a_disconnected_session_stay_and_go_with_it(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t"], expiry_interval=60)
    ip_cluster.disconnect("c1")
    assert topics(ip_cluster)["data"] == [route("t")]
    assert subscriptions(ip_cluster)["data"] == [sub("c1", "t")]
    ip_cluster.expire("c1")
    assert topics(ip_cluster)["data"] == []


# -- GET /topics ---------------------------------------------------------------------------

SEEDED_ROUTES = [
    # plain topics (a hash table in EMQX: here the order their filters were first subscribed)
    route("a/b"), route("$share/g/a/b"), route("a/b", N2), route("$share/g/a/b", N2), route("$share/h/a/b"),
    route("$queue/q"),
    route("$share/h/z", N2),
    # wildcard filters, ascending by words ('#' < '+' atoms < any binary), a node before a group
    route("#"), route("+/x"), route("/#"), route("x/#"),
]  # fmt: skip


def test_every_route_in_table_order(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert topics(ip_cluster) == {"data": SEEDED_ROUTES, "meta": {"count": 11, "hasnext": False, "limit": 100, "page": 1}}


def test_wildcard_routes_sort_by_words_then_destination(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", node=N2, subscriptions=["$share/g/a/#", "a/#", "a/+/c", "a/+"])
    ip_cluster.add_client("c2", subscriptions=["$share/f/a/#", "a/#", "b/#", "a//#"])
    assert topics(ip_cluster)["data"] == [
        route("a/#"), route("a/#", N2), route("$share/f/a/#"), route("$share/g/a/#", N2),
        route("a/+", N2), route("a/+/c", N2), route("a//#"), route("b/#"),
    ]  # fmt: skip


def test_topic_filter_is_exact_and_takes_every_destination(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    a_b = [route("a/b"), route("$share/g/a/b"), route("a/b", N2), route("$share/g/a/b", N2), route("$share/h/a/b")]
    assert topics(ip_cluster, topic="a/b") == {"data": a_b, "meta": {"count": 5, "hasnext": False, "limit": 100, "page": 1}}
    assert topics(ip_cluster, topic="$share/g/a/b")["data"] == [route("$share/g/a/b"), route("$share/g/a/b", N2)]
    assert topics(ip_cluster, topic="$queue/q")["data"] == [route("$queue/q")]
    assert topics(ip_cluster, topic="$share/$queue/q")["data"] == [route("$queue/q")]
    assert topics(ip_cluster, topic="x/#")["data"] == [route("x/#")]
    assert topics(ip_cluster, topic="x/1") == {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}
    assert topics(ip_cluster, topic="$exclusive/a/b")["data"] == a_b  # parse strips the prefix
    assert topics(ip_cluster, topic="$share/g/")["data"] == []  # parses: an empty topic


def test_node_filter_takes_plain_routes_only(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    assert topics(ip_cluster, node=N2) == {"data": [route("a/b", N2)], "meta": {"count": 1, "hasnext": False, "limit": 100, "page": 1}}
    assert topics(ip_cluster, node=N1)["data"] == [route("a/b"), route("#"), route("+/x"), route("/#"), route("x/#")]
    assert topics(ip_cluster, node=N2, topic="$share/g/a/b")["data"] == [route("$share/g/a/b", N2)]
    assert topics(ip_cluster, node=N2, topic="a/b")["data"] == [route("a/b", N2)]
    assert topics(ip_cluster, node="emqx@nowhere") == {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}


@pytest.mark.parametrize("value", ["$share/g", "$share/g+/t", "$share/g#/t", "$share/g/$share/t", "$queue/$queue/t", "$exclusive/"])
def test_an_unparsable_topic_is_refused(ip_cluster: EmqxServer, value: str) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, "/topics", {"topic": value})
    assert (response.status_code, response.json()) == (400, TOPIC_FILTER_INVALID)
    assert topics(ip_cluster)["data"] == SEEDED_ROUTES


def test_topics_bad_paging(ip_cluster: EmqxServer) -> None:
    response = get(ip_cluster, "/topics", {"limit": "0"})
    assert (response.status_code, response.json()) == (400, bad_request("limit", 0, {"expected": "1..10000"}))


def test_topics_meta_unfiltered_always_counts(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2", "t/3", "t/4"])
    assert topics(ip_cluster, limit=3) == {
        "data": [route("t/1"), route("t/2"), route("t/3")],
        "meta": {"count": 4, "hasnext": True, "limit": 3, "page": 1},
    }
    assert topics(ip_cluster, limit=3, page=2) == {"data": [route("t/4")], "meta": {"count": 4, "hasnext": False, "limit": 3, "page": 2}}
    # a full page: the stream is not known to be at its end
    assert topics(ip_cluster, limit=2, page=2) == {
        "data": [route("t/3"), route("t/4")],
        "meta": {"count": 4, "hasnext": True, "limit": 2, "page": 2},
    }
    assert topics(ip_cluster, limit=2, page=3) == {"data": [], "meta": {"count": 4, "hasnext": False, "limit": 2, "page": 3}}


def test_topics_meta_filtered_counts_only_a_scan_that_ended(ip_cluster: EmqxServer) -> None:
    ip_cluster.add_client("c1", subscriptions=["t/1", "t/2", "t/3"])
    ip_cluster.add_client("c2", node=N2, subscriptions=["t/9"])
    assert topics(ip_cluster, node=N1, limit=2) == {"data": [route("t/1"), route("t/2")], "meta": {"hasnext": True, "limit": 2, "page": 1}}
    assert topics(ip_cluster, node=N1, limit=2, page=2) == {"data": [route("t/3")], "meta": {"count": 3, "hasnext": False, "limit": 2, "page": 2}}
    assert topics(ip_cluster, node=N1, limit=3) == {
        "data": [route("t/1"), route("t/2"), route("t/3")],
        "meta": {"hasnext": True, "limit": 3, "page": 1},
    }
    assert topics(ip_cluster, node=N1, limit=5, page=2) == {"data": [], "meta": {"count": 3, "hasnext": False, "limit": 5, "page": 2}}
    assert topics(ip_cluster, topic="t/9", limit=1)["meta"] == {"hasnext": True, "limit": 1, "page": 1}
    assert topics(ip_cluster, topic="t/9", limit=2)["meta"] == {"count": 1, "hasnext": False, "limit": 2, "page": 1}


def test_routes_of_a_stopped_node_are_gone(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    ip_cluster.set_node_status(N2, "stopped")
    assert topics(ip_cluster)["data"] == [row for row in SEEDED_ROUTES if row["node"] == N1]
    assert ok(get(ip_cluster, "/topics/a%2Fb")) == [route("a/b"), route("$share/g/a/b"), route("$share/h/a/b")]
    response = get(ip_cluster, "/topics/z")
    assert (response.status_code, response.json()) == (404, TOPIC_NOT_FOUND)
    ip_cluster.set_node_status(N2, "running")
    assert topics(ip_cluster)["data"] == SEEDED_ROUTES


# -- GET /topics/{topic} -------------------------------------------------------------------


def test_one_topic_every_destination(ip_cluster: EmqxServer) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, "/topics/a%2Fb")
    assert response.json() == [route("a/b"), route("$share/g/a/b"), route("a/b", N2), route("$share/g/a/b", N2), route("$share/h/a/b")]
    assert list(response.json()[0]) == ["node", "topic"]
    assert ok(get(ip_cluster, "/topics/x%2F%23")) == [route("x/#")]
    assert ok(get(ip_cluster, "/topics/%23")) == [route("#")]
    assert ok(get(ip_cluster, "/topics/q")) == [route("$queue/q")]  # a group's route is keyed by its topic


@pytest.mark.parametrize("path", ["/topics/x", "/topics/a%2F%2B", "/topics/%24share%2Fg%2Fa%2Fb", "/topics/%24queue%2Fq"])
def test_topic_not_found(ip_cluster: EmqxServer, path: str) -> None:
    seed(ip_cluster)
    response = get(ip_cluster, path)
    assert (response.status_code, response.json()) == (404, TOPIC_NOT_FOUND)
    assert topics(ip_cluster)["data"] == SEEDED_ROUTES
