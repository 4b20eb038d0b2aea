"""The publish endpoints of the fake EMQX 5.8.9 (`emqx_mgmt_api_publish`).

What is asserted comes from the reference notes (emqx5-api-surface.md §6.6), as checked against
EMQX v5.8.9's own code (`emqx_mgmt_api_publish.erl`, `emqx_broker.erl`, `emqx_message.erl`,
`emqx_topic.erl`) and the verified hocon errors of validation.md: statuses, exact bodies, and
the routing effects seen through the client endpoints and from Python.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

import pytest
import requests

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v5.endpoints.publish import bulk_status, outcome

NODE = "emqx@127.0.0.1"
MSGID = re.compile(r"^[0-9A-F]{32}$")
NO_SUBSCRIBERS = {"reason_code": 16, "message": "no_matching_subscribers"}
TOPIC_INVALID = {"reason_code": 144, "message": "topic_name_invalid"}
TOO_LARGE = {"reason_code": 151, "message": "packet_too_large"}
MAX_PACKET_SIZE = 1024 * 1024
OVERHEAD = 9  # emqx_message:estimate_size/1 adds 1 + 4 + 2 + 2 to the topic and the payload


# -- helpers ------------------------------------------------------------------------------


def post(server: EmqxServer, path: str, body: Any) -> requests.Response:
    return requests.post(server.api_url + path, json=body, auth=server.auth, timeout=30)


def publish(server: EmqxServer, body: Any) -> requests.Response:
    return post(server, "/publish", body)


def bulk(server: EmqxServer, body: Any) -> requests.Response:
    return post(server, "/publish/bulk", body)


def get(server: EmqxServer, path: str, params: Any = None) -> Any:
    response = requests.get(server.api_url + path, params=params, auth=server.auth, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def snapshot(server: EmqxServer) -> dict[str, Any]:
    """Everything a publish could change: history, every session's queues, deliveries and
    counters, retained messages, broker counters."""
    broker = server.broker
    with broker.lock:
        return {
            "published": len(broker.published),
            "sessions": {
                s.clientid: (len(s.inflight), len(s.mqueue), len(s.deliveries), s.mqueue_dropped, dict(s.stats))
                for s in broker.sessions
            },
            "retained": [(m.topic, m.payload) for m in broker.retained],
            "metrics": broker.metrics.total(broker.running_nodes),
        }


def schema_error(inner: Any) -> dict[str, str]:
    """A 400 schema error; `inner` is written with its keys already in jiffy's (descending) order."""
    return {"code": "BAD_REQUEST", "message": json.dumps(inner, separators=(",", ":"), ensure_ascii=False)}


def last_message(server: EmqxServer) -> Any:
    return server.published[-1].message


@pytest.fixture
def subscribed(emqx_server: EmqxServer) -> EmqxServer:
    """Clients with an ordinary subscription each, so a valid publish would change state."""
    emqx_server.add_client("sub", subscriptions=[{"topic": "t/#", "qos": 1}])
    emqx_server.add_client("off", connected=False, expiry_interval=60, subscriptions=["#"])
    emqx_server.add_retained("t/kept", "old")
    return emqx_server


# -- POST /publish: success shapes ---------------------------------------------------------


def test_publish_to_a_subscriber_answers_the_message_id(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("sub", subscriptions=["t/1"])
    response = publish(emqx_server, {"topic": "t/1", "payload": "hello"})
    assert response.status_code == 200
    assert list(response.json()) == ["id"]
    message = last_message(emqx_server)
    assert response.json() == {"id": message.msgid} and MSGID.match(message.msgid)
    assert (message.topic, message.payload, message.qos, message.retain) == ("t/1", b"hello", 0, False)
    assert (message.from_clientid, message.from_username, message.properties) == ("http_api", "", {})
    assert [(d.message, d.qos, d.subscription, d.outcome) for d in session.deliveries] == [(message, 0, "t/1", "sent")]
    assert emqx_server.client("sub").deliveries[-1].message is emqx_server.broker.published[-1].message
    assert (emqx_server.broker.published[-1].matched, emqx_server.broker.published[-1].delivered) == (1, 1)


def test_every_publish_gets_a_new_id(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["t"])
    ids = [publish(emqx_server, {"topic": "t", "payload": str(i)}).json()["id"] for i in range(20)]
    assert len(set(ids)) == 20
    assert ids == [p.message.msgid for p in emqx_server.published]


def test_no_matching_subscribers_is_202(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("other", subscriptions=["elsewhere/#"])
    response = publish(emqx_server, {"topic": "t/1", "payload": "x"})
    assert (response.status_code, response.text) == (202, '{"message":"no_matching_subscribers","reason_code":16}')
    assert [(p.message.topic, p.matched) for p in emqx_server.published] == [("t/1", 0)]
    counters = emqx_server.broker.metrics.node(NODE)
    assert (counters["messages.dropped"], counters["messages.dropped.no_subscribers"]) == (1, 1)


def test_a_retained_message_is_stored_even_without_subscribers(emqx_server: EmqxServer) -> None:
    response = publish(emqx_server, {"topic": "r/1", "payload": "keep", "retain": True, "qos": 1})
    assert (response.status_code, response.json()) == (202, NO_SUBSCRIBERS)
    stored = emqx_server.broker.retained.get("r/1")
    assert stored is not None and (stored.payload, stored.qos, stored.retain) == (b"keep", 1, True)
    # an empty retained payload deletes it (and still finds nobody)
    response = publish(emqx_server, {"topic": "r/1", "payload": "", "retain": True})
    assert (response.status_code, response.json()) == (202, NO_SUBSCRIBERS)
    assert emqx_server.broker.retained.get("r/1") is None


def test_a_retained_message_to_a_subscriber_is_200_and_stored(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["r/#"])
    response = publish(emqx_server, {"topic": "r/2", "payload": "v", "retain": "true"})
    assert response.status_code == 200
    assert emqx_server.broker.retained.get("r/2") is last_message(emqx_server)


def test_a_message_queued_for_an_offline_session_counts_as_delivered(emqx_server: EmqxServer) -> None:
    offline = emqx_server.add_client("off", connected=False, expiry_interval=60, subscriptions=["t/#"])
    response = publish(emqx_server, {"topic": "t/x", "payload": "later"})
    assert response.status_code == 200 and response.json() == {"id": last_message(emqx_server).msgid}
    assert [d.outcome for d in offline.deliveries] == ["queued"]


def test_a_message_dropped_by_a_full_mqueue_still_counts_as_delivered(emqx_server: EmqxServer) -> None:
    """EMQX answers 200 once the message is handed to a subscriber's session, whatever the
    session then does with it."""
    full = emqx_server.add_client("full", connected=False, expiry_interval=60, mqueue_max=1, subscriptions=["t"])
    assert publish(emqx_server, {"topic": "t", "payload": "1"}).status_code == 200
    response = publish(emqx_server, {"topic": "t", "payload": "2"})
    assert response.status_code == 200 and list(response.json()) == ["id"]
    assert [d.outcome for d in full.deliveries] == ["queued", "queued, oldest dropped"]
    assert [entry.message.payload for entry in full.mqueue] == [b"2"]  # EMQX drops the oldest
    assert (emqx_server.published[-1].matched, emqx_server.published[-1].delivered, full.mqueue_dropped) == (1, 1, 1)


def test_publish_counts_the_message_as_received_by_the_api_node(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=[{"topic": "t", "qos": 1}])
    assert publish(emqx_server, {"topic": "t", "payload": "x", "qos": 1}).status_code == 200
    counters = emqx_server.broker.metrics.node(NODE)
    assert {name: counters[name] for name in ("messages.publish", "messages.received", "messages.qos1.received")} == {
        "messages.publish": 1,
        "messages.received": 1,
        "messages.qos1.received": 1,
    }
    assert (counters["messages.qos0.received"], counters["messages.delivered"], counters["messages.qos1.sent"]) == (0, 1, 1)


def test_schema_conversions_and_defaults(emqx_server: EmqxServer) -> None:
    """hocon converts as it checks: an integer payload or topic is text, QoS and retain may be
    strings; omitted fields take their defaults."""
    emqx_server.add_client("sub", subscriptions=["123", "t"])
    assert publish(emqx_server, {"topic": 123, "payload": 456, "qos": "2", "retain": "false"}).status_code == 200
    message = last_message(emqx_server)
    assert (message.topic, message.payload, message.qos, message.retain) == ("123", b"456", 2, False)
    assert publish(emqx_server, {"topic": "t", "payload": []}).status_code == 200  # [] is hocon's ""
    assert last_message(emqx_server).payload == b""


def test_the_deprecated_clientid_is_accepted_and_ignored(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["t"])
    for clientid in ("sub", 5, {"not": "checked"}, [1, 2]):
        response = publish(emqx_server, {"topic": "t", "payload": "x", "clientid": clientid})
        assert response.status_code == 200, response.text
        assert last_message(emqx_server).from_clientid == "http_api"


def test_unicode_payload_and_topic_are_published_as_utf8(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["ü/#"])
    assert publish(emqx_server, {"topic": "ü/€", "payload": "héllo €"}).status_code == 200
    assert last_message(emqx_server).payload == "héllo €".encode()


def test_message_properties_and_user_properties_are_kept(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["t"])
    properties = {
        "payload_format_indicator": 1,
        "message_expiry_interval": 1000,
        "response_topic": "reply/here",
        "correlation_data": "corr-1",
        "user_properties": {"foo": "bar", "a": "b"},
        "content_type": "application/json",
    }
    response = publish(emqx_server, {"topic": "t", "payload": "{}", "properties": properties})
    assert response.status_code == 200
    assert last_message(emqx_server).properties == {
        "Payload-Format-Indicator": 1,
        "Message-Expiry-Interval": 1000,
        "Response-Topic": "reply/here",
        "Correlation-Data": "corr-1",
        "User-Property": [("a", "b"), ("foo", "bar")],
        "Content-Type": "application/json",
    }
    # empty or null-only properties are no properties
    assert publish(emqx_server, {"topic": "t", "payload": "x", "properties": {"content_type": None}}).status_code == 200
    assert last_message(emqx_server).properties == {}


# -- POST /publish: routing seen through the API ------------------------------------------


def test_qos1_fills_the_inflight_window_then_the_mqueue(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c", subscriptions=[{"topic": "q/#", "qos": 2}], inflight_max=3, mqueue_max=10)
    ids = []
    for index in range(5):
        response = publish(emqx_server, {"topic": f"q/{index}", "payload": f"m{index}", "qos": 1})
        assert response.status_code == 200
        ids.append(response.json()["id"])
    inflight = get(emqx_server, "/clients/c/inflight_messages", {"payload": "plain"})["data"]
    assert [(m["msgid"], m["topic"], m["qos"], m["payload"], m["from_clientid"]) for m in inflight] == [
        (ids[i], f"q/{i}", 1, f"m{i}", "http_api") for i in range(3)
    ]
    mqueue = get(emqx_server, "/clients/c/mqueue_messages", {"payload": "plain"})["data"]
    assert [(m["msgid"], m["payload"], m["qos"], m["mqueue_priority"]) for m in mqueue] == [
        (ids[3], "m3", 1, 0),
        (ids[4], "m4", 1, 0),
    ]
    client = get(emqx_server, "/clients/c")
    assert {k: client[k] for k in ("inflight_cnt", "inflight_max", "mqueue_len", "mqueue_dropped")} == {
        "inflight_cnt": 3,
        "inflight_max": 3,
        "mqueue_len": 2,
        "mqueue_dropped": 0,
    }
    assert {k: client[k] for k in ("send_msg", "send_msg.qos0", "send_msg.qos1", "send_msg.qos2", "send_msg.dropped")} == {
        "send_msg": 3,
        "send_msg.qos0": 0,
        "send_msg.qos1": 3,
        "send_msg.qos2": 0,
        "send_msg.dropped": 0,
    }


def test_qos0_to_a_connected_client_goes_straight_out(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c", subscriptions=[{"topic": "t", "qos": 1}], inflight_max=1)
    for _ in range(3):
        assert publish(emqx_server, {"topic": "t", "payload": "x"}).status_code == 200
    client = get(emqx_server, "/clients/c")
    assert (client["send_msg"], client["send_msg.qos0"], client["inflight_cnt"], client["mqueue_len"]) == (3, 3, 0, 0)


def test_qos_is_downgraded_to_the_subscriptions(emqx_server: EmqxServer) -> None:
    zero = emqx_server.add_client("zero", subscriptions=[{"topic": "t", "qos": 0}])
    one = emqx_server.add_client("one", subscriptions=[{"topic": "t", "qos": 1}])
    assert publish(emqx_server, {"topic": "t", "payload": "x", "qos": 2}).status_code == 200
    assert [(d.qos, d.outcome) for d in zero.deliveries] == [(0, "sent")]
    assert [(d.qos, d.outcome) for d in one.deliveries] == [(1, "inflight")]
    assert [m["qos"] for m in get(emqx_server, "/clients/one/inflight_messages")["data"]] == [1]
    assert get(emqx_server, "/clients/zero")["send_msg.qos0"] == 1
    one_row = get(emqx_server, "/clients/one")
    assert (one_row["send_msg.qos1"], one_row["send_msg.qos2"]) == (1, 0)


def test_an_offline_session_queues_up_to_mqueue_max_then_drops(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("off", connected=False, expiry_interval=300, mqueue_max=3, subscriptions=[{"topic": "o/#", "qos": 1}])
    ids = [publish(emqx_server, {"topic": "o/1", "payload": f"p{i}", "qos": 1}) for i in range(3)]
    assert [r.status_code for r in ids] == [200, 200, 200]
    mqueue = get(emqx_server, "/clients/off/mqueue_messages", {"payload": "plain"})["data"]
    assert [(m["msgid"], m["payload"]) for m in mqueue] == [(r.json()["id"], f"p{i}") for i, r in enumerate(ids)]
    for i in range(3, 5):
        assert publish(emqx_server, {"topic": "o/1", "payload": f"p{i}", "qos": 1}).status_code == 200
    client = get(emqx_server, "/clients/off")
    assert {k: client[k] for k in ("connected", "mqueue_len", "mqueue_max", "mqueue_dropped", "inflight_cnt")} == {
        "connected": False,
        "mqueue_len": 3,
        "mqueue_max": 3,
        "mqueue_dropped": 2,
        "inflight_cnt": 0,
    }
    assert (client["send_msg"], client["send_msg.dropped"], client["send_msg.dropped.queue_full"]) == (0, 2, 2)
    assert len(get(emqx_server, "/clients/off/mqueue_messages")["data"]) == 3


def test_a_shared_group_delivers_each_message_to_exactly_one_member(emqx_server: EmqxServer) -> None:
    members = [emqx_server.add_client(f"m{i}", subscriptions=["$share/g/s/#"]) for i in range(3)]
    plain = emqx_server.add_client("plain", subscriptions=["s/#"])
    responses = [publish(emqx_server, {"topic": "s/1", "payload": str(i)}) for i in range(6)]
    assert [r.status_code for r in responses] == [200] * 6
    assert [p.matched for p in emqx_server.published] == [2] * 6  # the group counts once
    delivered = sorted(d.message.payload for m in members for d in m.deliveries)
    assert delivered == sorted(str(i).encode() for i in range(6))  # each exactly once
    assert [d.subscription for m in members for d in m.deliveries] == ["$share/g/s/#"] * 6
    assert len(plain.deliveries) == 6


def test_a_shared_group_alone_makes_a_publish_200(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("m", subscriptions=["$share/g/s"])
    assert publish(emqx_server, {"topic": "s", "payload": "x"}).status_code == 200


def test_base64_payload_round_trip(emqx_server: EmqxServer) -> None:
    raw = bytes(range(256))
    encoded = base64.b64encode(raw).decode()
    offline = emqx_server.add_client("off", connected=False, expiry_interval=60, subscriptions=["b"])
    response = publish(emqx_server, {"topic": "b", "payload": encoded, "payload_encoding": "base64"})
    assert response.status_code == 200
    assert last_message(emqx_server).payload == raw
    assert offline.deliveries[-1].message.payload == raw
    mqueue = get(emqx_server, "/clients/off/mqueue_messages", {"payload": "base64"})["data"]
    assert [(m["msgid"], m["payload"]) for m in mqueue] == [(response.json()["id"], encoded)]


def test_base64_whitespace_is_skipped(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["b"])
    response = publish(emqx_server, {"topic": "b", "payload": " aGVs\nbG8g\td29y\r\nbGQ= ", "payload_encoding": "base64"})
    assert response.status_code == 200
    assert last_message(emqx_server).payload == b"hello world"
    assert publish(emqx_server, {"topic": "b", "payload": "", "payload_encoding": "base64"}).status_code == 200
    assert last_message(emqx_server).payload == b""


# -- POST /publish: refused messages, state unchanged --------------------------------------


@pytest.mark.parametrize(
    "topic",
    ["a/+/b", "a/#", "#", "+", "a/b#", "a+", "", [], "a/\u0000/b", "x" * 65536, "é" * 32768],
    ids=["plus", "hash-last", "hash", "plus-alone", "hash-in-level", "plus-in-level", "empty", "empty-list", "nul", "too-long", "too-long-utf8"],
)
def test_an_invalid_topic_name_is_144(subscribed: EmqxServer, topic: Any) -> None:
    before = snapshot(subscribed)
    response = publish(subscribed, {"topic": topic, "payload": "x", "retain": True})
    assert (response.status_code, response.text) == (400, '{"message":"topic_name_invalid","reason_code":144}')
    assert snapshot(subscribed) == before


def test_the_longest_topic_name_is_accepted(emqx_server: EmqxServer) -> None:
    response = publish(emqx_server, {"topic": "x" * 65535, "payload": "x"})
    assert (response.status_code, response.json()) == (202, NO_SUBSCRIBERS)


def test_a_message_over_max_packet_size_is_151(subscribed: EmqxServer) -> None:
    topic = "t/big"
    fitting = "x" * (MAX_PACKET_SIZE - OVERHEAD - len(topic))
    before = snapshot(subscribed)
    response = publish(subscribed, {"topic": topic, "payload": fitting + "x"})
    assert (response.status_code, response.text) == (400, '{"message":"packet_too_large","reason_code":151}')
    assert snapshot(subscribed) == before
    # the size counts the decoded base64 payload and the topic's UTF-8 bytes
    encoded = base64.b64encode(b"\x00" * (MAX_PACKET_SIZE - OVERHEAD - len("é/big".encode()) + 1)).decode()
    response = publish(subscribed, {"topic": "é/big", "payload": encoded, "payload_encoding": "base64"})
    assert (response.status_code, response.json()) == (400, TOO_LARGE)
    assert snapshot(subscribed) == before
    # exactly at the limit it is published
    response = publish(subscribed, {"topic": topic, "payload": fitting})
    assert response.status_code == 200
    assert len(last_message(subscribed).payload) == len(fitting)


@pytest.mark.parametrize(
    ("payload", "term"),
    [
        ("hello", '{decode_base64_payload_failed,<<"hello">>}'),
        ("aGVsbG8", '{decode_base64_payload_failed,<<"aGVsbG8">>}'),  # padding is required
        ("YQ==YQ==", '{decode_base64_payload_failed,<<"YQ==YQ==">>}'),  # data after the padding
        ("ab=c", '{decode_base64_payload_failed,<<"ab=c">>}'),
        ("====", '{decode_base64_payload_failed,<<"====">>}'),
        ("a-b_", '{decode_base64_payload_failed,<<"a-b_">>}'),  # the URL-safe alphabet
        ('q"uo\\te\n', '{decode_base64_payload_failed,<<"q\\"uo\\\\te\\n">>}'),
        ("éa!", '{decode_base64_payload_failed,<<"éa!">>}'),  # UTF-8 bytes >= 0xA0 print as text
        ("€", "{decode_base64_payload_failed,<<226,130,172>>}"),  # 0x82 does not
        ("a\u0001", "{decode_base64_payload_failed,<<97,1>>}"),
    ],
    ids=["no-quads", "no-padding", "after-padding", "inner-eq", "only-padding", "urlsafe", "escapes", "latin1", "euro", "control"],
)
def test_a_bad_base64_payload_is_131_with_the_erlang_term(subscribed: EmqxServer, payload: str, term: str) -> None:
    before = snapshot(subscribed)
    response = publish(subscribed, {"topic": "t/1", "payload": payload, "payload_encoding": "base64"})
    assert (response.status_code, response.json()) == (400, {"reason_code": 131, "message": term})
    assert list(response.json()) == ["message", "reason_code"]
    assert snapshot(subscribed) == before


def test_bad_base64_is_reported_before_a_bad_topic(subscribed: EmqxServer) -> None:
    before = snapshot(subscribed)
    response = publish(subscribed, {"topic": "not/a+/valid/topic", "payload": "hello", "payload_encoding": "base64"})
    assert (response.status_code, response.json()) == (400, {"reason_code": 131, "message": '{decode_base64_payload_failed,<<"hello">>}'})
    assert snapshot(subscribed) == before


def test_a_bad_topic_is_reported_before_the_size(subscribed: EmqxServer) -> None:
    response = publish(subscribed, {"topic": "a/#", "payload": "x" * MAX_PACKET_SIZE})
    assert (response.status_code, response.json()) == (400, TOPIC_INVALID)


@pytest.mark.parametrize(
    ("body", "inner"),
    [
        (
            {},
            [
                {"reason": "required_field", "path": "root.topic", "kind": "validation_error"},
                {"reason": "required_field", "path": "root.payload", "kind": "validation_error"},
            ],
        ),
        (None, [
            {"reason": "required_field", "path": "root.topic", "kind": "validation_error"},
            {"reason": "required_field", "path": "root.payload", "kind": "validation_error"},
        ]),
        ({"topic": "t/1"}, {"reason": "required_field", "path": "root.payload", "kind": "validation_error"}),
        ({"topic": "t/1", "payload": None}, {"reason": "required_field", "path": "root.payload", "kind": "validation_error"}),
        (
            {"topic": "t", "payload": "p", "qos": 5, "retain": "yes"},
            [
                {"value": 5, "reason": "Unable to parse string", "path": "root.qos", "kind": "validation_error"},
                {"value": "yes", "reason": "Unable to parse boolean value", "path": "root.retain", "kind": "validation_error"},
            ],
        ),
        ({"topic": "t", "payload": "p", "qos": 1.5}, {"value": 1.5, "reason": {"expected": "qos()"}, "path": "root.qos", "kind": "validation_error"}),
        ({"topic": "t", "payload": "p", "retain": 1}, {"value": 1, "reason": "Unable to parse boolean value", "path": "root.retain", "kind": "validation_error"}),
        (
            {"topic": "t", "payload": "p", "payload_encoding": "hex_zz"},
            {"value": "hex_zz", "reason": "unable_to_convert_to_enum_symbol", "path": "root.payload_encoding", "kind": "validation_error"},
        ),
        ({"topic": True, "payload": "p"}, {"value": True, "reason": {"expected": "binary()"}, "path": "root.topic", "kind": "validation_error"}),
        ({"topic": "t", "payload": {"a": 1}}, {"value": {"a": 1}, "reason": {"expected": "binary()"}, "path": "root.payload", "kind": "validation_error"}),
        (
            {"topic": "t", "payload": "p", "bogus": 1},
            {"unmatched": "clientid,payload_encoding,...", "unknown": "bogus", "reason": "unknown_fields", "path": "root", "kind": "validation_error"},
        ),
        (
            {"topic": "t", "payload": "p", "properties": {"bogus": 1}},
            {
                "unmatched": "content_type,correlation_data,...",
                "unknown": "bogus",
                "reason": "unknown_fields",
                "path": "root.properties",
                "kind": "validation_error",
            },
        ),
        (
            {"topic": "t", "payload": "p", "properties": {"payload_format_indicator": 2}},
            {"value": 2, "reason": {"expected": "0..1"}, "path": "root.properties.payload_format_indicator", "kind": "validation_error"},
        ),
        (
            {"topic": "t", "payload": "p", "properties": {"user_properties": 5}},
            {"value": 5, "reason": {"expected": "map()"}, "path": "root.properties.user_properties", "kind": "validation_error"},
        ),
        (
            {"topic": "t", "payload": "p", "properties": {"message_expiry_interval": "soon"}, "retain": "no"},
            [
                {"value": "soon", "reason": "Unable to parse integer value", "path": "root.properties.message_expiry_interval", "kind": "validation_error"},
                {"value": "no", "reason": "Unable to parse boolean value", "path": "root.retain", "kind": "validation_error"},
            ],
        ),
        ({"topic": "t", "payload": "p", "properties": 5}, {"value": 5, "reason": "bad_value_for_struct", "path": "root.properties", "kind": "validation_error"}),
        ([{"topic": "t", "payload": "p"}], {"value": [{"topic": "t", "payload": "p"}], "reason": "bad_value_for_struct", "path": "root", "kind": "validation_error"}),
    ],
    ids=[
        "empty", "null", "no-payload", "null-payload", "qos-and-retain", "qos-float", "retain-int", "encoding",
        "topic-bool", "payload-object", "unknown-field", "unknown-property", "format-indicator",
        "user-properties", "nested-and-top", "properties-scalar", "array",
    ],
)  # fmt: skip
def test_schema_errors_are_bad_request(subscribed: EmqxServer, body: Any, inner: Any) -> None:
    before = snapshot(subscribed)
    response = publish(subscribed, body)
    assert (response.status_code, response.json()) == (400, schema_error(inner))
    assert snapshot(subscribed) == before


def test_a_body_that_is_not_json_is_415(subscribed: EmqxServer) -> None:
    before = snapshot(subscribed)
    for kwargs in ({"data": "topic=t", "headers": {"content-type": "text/plain"}}, {"json": "just a string"}):
        response = requests.post(subscribed.api_url + "/publish", auth=subscribed.auth, timeout=30, **kwargs)  # type: ignore[arg-type]
        assert (response.status_code, response.json()) == (
            415,
            {"code": "UNSUPPORTED_MEDIA_TYPE", "message": "content-type:application/json Required"},
        )
    assert snapshot(subscribed) == before


# -- POST /publish/bulk ---------------------------------------------------------------------


def test_bulk_all_delivered_is_200_in_request_order(emqx_server: EmqxServer) -> None:
    a = emqx_server.add_client("a", subscriptions=["t/1"])
    b = emqx_server.add_client("b", subscriptions=[{"topic": "t/2", "qos": 1}])
    response = bulk(
        emqx_server,
        [
            {"topic": "t/1", "payload": "one"},
            {"topic": "t/2", "payload": base64.b64encode(b"two").decode(), "payload_encoding": "base64", "qos": 1},
            {"topic": "t/1", "payload": "three"},
        ],
    )
    assert response.status_code == 200
    published = emqx_server.published
    assert response.json() == [{"id": p.message.msgid} for p in published]
    assert [p.message.payload for p in published] == [b"one", b"two", b"three"]
    assert [d.message.payload for d in a.deliveries] == [b"one", b"three"]
    assert [(d.message.payload, d.qos, d.outcome) for d in b.deliveries] == [(b"two", 1, "inflight")]


def test_bulk_with_an_unmatched_message_is_202(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("a", subscriptions=["t/1", "t/2"])
    response = bulk(
        emqx_server,
        [{"topic": "t/1", "payload": "x"}, {"topic": "no/subscriber", "payload": "x"}, {"topic": "t/2", "payload": "x"}],
    )
    assert response.status_code == 202
    ids = [p.message.msgid for p in emqx_server.published]
    assert response.json() == [{"id": ids[0]}, NO_SUBSCRIBERS, {"id": ids[2]}]
    assert response.text.startswith('[{"id":"') and '{"message":"no_matching_subscribers","reason_code":16}' in response.text


def test_bulk_with_nothing_matched_is_202(emqx_server: EmqxServer) -> None:
    response = bulk(emqx_server, [{"topic": "x", "payload": "1", "retain": True}, {"topic": "y", "payload": "2"}])
    assert (response.status_code, response.json()) == (202, [NO_SUBSCRIBERS, NO_SUBSCRIBERS])
    assert emqx_server.broker.retained.get("x") is not None


@pytest.mark.parametrize(
    ("bad", "reply"),
    [
        ({"topic": "bad/#/topic", "payload": "x"}, TOPIC_INVALID),
        ({"topic": "t/1", "payload": "x" * MAX_PACKET_SIZE}, TOO_LARGE),
        ({"topic": "t/1", "payload": "hello", "payload_encoding": "base64"}, {"reason_code": 131, "message": '{decode_base64_payload_failed,<<"hello">>}'}),
    ],
    ids=["topic", "size", "base64"],
)
def test_bulk_with_a_refused_message_publishes_nothing(subscribed: EmqxServer, bad: dict[str, Any], reply: dict[str, Any]) -> None:
    before = snapshot(subscribed)
    good = {"topic": "t/1", "payload": "x", "retain": True}
    response = bulk(subscribed, [good, good, bad, good])
    assert (response.status_code, response.json()) == (400, reply)  # one object, not an array
    assert snapshot(subscribed) == before


def test_bulk_reports_the_first_refused_message(subscribed: EmqxServer) -> None:
    before = snapshot(subscribed)
    response = bulk(
        subscribed,
        [
            {"topic": "t/1", "payload": "x"},
            {"topic": "a/+", "payload": "x"},
            {"topic": "t/1", "payload": "!!", "payload_encoding": "base64"},
        ],
    )
    assert (response.status_code, response.json()) == (400, TOPIC_INVALID)
    assert snapshot(subscribed) == before


@pytest.mark.parametrize("body", [[], {}], ids=["empty-array", "empty-object"])
def test_an_empty_bulk_crashes_the_handler(subscribed: EmqxServer, body: Any) -> None:
    before = snapshot(subscribed)
    response = bulk(subscribed, body)
    assert (response.status_code, response.json()) == (
        500,
        {"code": "INTERNAL_ERROR", "message": 'error, {case_clause,{errror,<<"empty_batch">>}}, []'},
    )
    assert snapshot(subscribed) == before


@pytest.mark.parametrize(
    ("body", "inner"),
    [
        (
            [{"topic": "t", "payload": "p"}, {"qos": 3}],
            [
                {"reason": "required_field", "path": "root.2.topic", "kind": "validation_error"},
                {"value": 3, "reason": "Unable to parse string", "path": "root.2.qos", "kind": "validation_error"},
                {"reason": "required_field", "path": "root.2.payload", "kind": "validation_error"},
            ],
        ),
        (
            [{"topic": "t", "payload": "p", "retain": "x"}, {"topic": 1.5, "payload": "p"}],
            {"value": "x", "reason": "Unable to parse boolean value", "path": "root.1.retain", "kind": "validation_error"},
        ),
        ({"topic": "t"}, {"path": "root", "kind": "validation_error", "bad_array_index_keys": ["topic"]}),
        (5, {"path": "root", "kind": "validation_error", "got": 5, "expected_data_type": "array"}),
        ([1], {"value": 1, "reason": "bad_value_for_struct", "path": "root.1", "kind": "validation_error"}),
    ],
    ids=["second-element", "stops-at-first-element", "object", "scalar", "not-a-struct"],
)
def test_bulk_schema_errors_are_bad_request(subscribed: EmqxServer, body: Any, inner: Any) -> None:
    before = snapshot(subscribed)
    response = bulk(subscribed, body)
    assert (response.status_code, response.json()) == (400, schema_error(inner))
    assert snapshot(subscribed) == before


def test_bulk_accepts_an_indexed_object(emqx_server: EmqxServer) -> None:
    """hocon reads an object with keys "1", "2", ... as an array."""
    emqx_server.add_client("a", subscriptions=["t/#"])
    response = bulk(emqx_server, {"2": {"topic": "t/2", "payload": "b"}, "1": {"topic": "t/1", "payload": "a"}})
    assert response.status_code == 200
    assert [p.message.topic for p in emqx_server.published] == ["t/1", "t/2"]


# -- the reply mapping, including the dispatch failure no state reaches yet -------------------


def test_one_result_maps_matched_and_failed_dispatches() -> None:
    assert outcome("ID", matched=0) == (202, NO_SUBSCRIBERS)
    assert outcome("ID", matched=2) == (200, {"id": "ID"})
    assert outcome("ID", matched=2, failed=1) == (200, {"id": "ID"})  # any dispatch that worked
    assert outcome("ID", matched=2, failed=2) == (503, {"reason_code": 131, "message": "failed_to_dispatch"})


def test_the_bulk_status_is_200_only_when_all_are_and_503_when_any_failed() -> None:
    assert bulk_status([200, 200]) == 200
    assert bulk_status([200, 202, 200]) == 202
    assert bulk_status([202]) == 202
    assert bulk_status([200, 503, 202]) == 503
    assert bulk_status([503]) == 503


# -- who may publish ------------------------------------------------------------------------


def test_an_ee_publisher_key_may_publish_and_a_viewer_may_not(ee: EmqxServer) -> None:
    ee.add_client("sub", subscriptions=["t"])
    publisher = ee.add_api_key("pub", role="publisher", api_secret="psecret")
    viewer = ee.add_api_key("view", role="viewer", api_secret="vsecret")
    for path, body in (("/publish", {"topic": "t", "payload": "x"}), ("/publish/bulk", [{"topic": "t", "payload": "y"}])):
        response = requests.post(ee.api_url + path, json=body, auth=(publisher.api_key, "psecret"), timeout=30)
        assert response.status_code == 200, response.text
        denied = requests.post(ee.api_url + path, json=body, auth=(viewer.api_key, "vsecret"), timeout=30)
        assert denied.status_code == 403
    assert [p.message.payload for p in ee.published] == [b"x", b"y"]


# -- concurrency ----------------------------------------------------------------------------


def test_concurrent_publishes_while_others_subscribe_and_unsubscribe(emqx_server: EmqxServer) -> None:
    """8 threads publish 50 messages each through HTTP to a topic with several subscribers while
    2 threads subscribe and unsubscribe other clients to it: every delivery is accounted for."""
    threads_n, per_thread, churners = 8, 50, 2
    steady = [emqx_server.add_client(f"steady{i}", subscriptions=[{"topic": "load/#", "qos": 0}]) for i in range(4)]
    for i in range(churners):
        emqx_server.add_client(f"churn{i}")
    replies: list[requests.Response] = []
    lock = threading.Lock()
    failures: list[str] = []

    def publisher(index: int) -> None:
        with requests.Session() as http:
            for n in range(per_thread):
                response = http.post(
                    emqx_server.api_url + "/publish",
                    json={"topic": f"load/{index}", "payload": f"{index}-{n}"},
                    auth=emqx_server.auth,
                    timeout=30,
                )
                with lock:
                    replies.append(response)

    def churner(index: int) -> None:
        with requests.Session() as http:
            for _ in range(25):
                for path in ("subscribe", "unsubscribe"):
                    response = http.post(
                        f"{emqx_server.api_url}/clients/churn{index}/{path}",
                        json={"topic": "load/#"},
                        auth=emqx_server.auth,
                        timeout=30,
                    )
                    if response.status_code not in (200, 204):
                        with lock:
                            failures.append(response.text)

    workers = [threading.Thread(target=publisher, args=(i,)) for i in range(threads_n)]
    workers += [threading.Thread(target=churner, args=(i,)) for i in range(churners)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    total = threads_n * per_thread
    assert failures == []
    assert [r.status_code for r in replies] == [200] * total
    published = emqx_server.published
    assert len(published) == total
    assert {r.json()["id"] for r in replies} == {p.message.msgid for p in published}
    order = [p.message.msgid for p in published]
    for session in steady:
        assert [d.message.msgid for d in session.deliveries] == order  # each exactly once, in order
        assert get(emqx_server, f"/clients/{session.clientid}")["send_msg"] == total
    churned = [emqx_server.client(f"churn{i}") for i in range(churners)]
    for session in churned:
        ids = [d.message.msgid for d in session.deliveries]
        assert len(ids) == len(set(ids)) and set(ids) <= set(order)
        assert get(emqx_server, f"/clients/{session.clientid}")["send_msg"] == len(ids)
    # every publish reached exactly the subscriptions it matched: the steady ones and the churners
    # subscribed at that moment
    assert sum(p.matched for p in published) == sum(len(s.deliveries) for s in steady + churned)
    for p in published:
        assert p.matched == 4 + sum(p.message.msgid in {d.message.msgid for d in s.deliveries} for s in churned)
    counters = emqx_server.broker.metrics.node(NODE)
    assert (counters["messages.publish"], counters["messages.received"]) == (total, total)
    assert counters["messages.delivered"] == sum(p.matched for p in published)
