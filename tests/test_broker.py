"""The broker model behind the API, driven from Python: routing, delivery, sessions' life,
bans, retained messages, nodes and counters (the API tests check the same through HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_emqx_mock import Banned, EmqxServer


@pytest.fixture
def broker(emqx_server: EmqxServer):  # type: ignore[no-untyped-def]
    return emqx_server.broker


def _outcomes(session) -> list[str]:  # type: ignore[no-untyped-def]
    return [delivery.outcome for delivery in session.deliveries]


def test_qos_is_the_lower_of_message_and_subscription(emqx_server: EmqxServer) -> None:
    low = emqx_server.add_client("low", subscriptions=[{"topic": "t/1", "qos": 0}])
    high = emqx_server.add_client("high", subscriptions=[{"topic": "t/1", "qos": 2}])
    emqx_server.publish("t/1", "m", qos=1)
    assert [(d.qos, d.outcome) for d in low.deliveries] == [(0, "sent")]
    assert [(d.qos, d.outcome) for d in high.deliveries] == [(1, "inflight")]
    assert (len(low.inflight), len(high.inflight)) == (0, 1)


def test_inflight_window_then_mqueue_then_its_oldest_dropped(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("c", subscriptions=[{"topic": "t/#", "qos": 1}], inflight_max=2, mqueue_max=2)
    for index in range(6):
        assert emqx_server.publish(f"t/{index}", f"m{index}", qos=1).delivered == 1
    dropping = "queued, oldest dropped"
    assert _outcomes(session) == ["inflight", "inflight", "queued", "queued", dropping, dropping]
    assert [entry.message.payload for entry in session.inflight] == [b"m0", b"m1"]
    assert [entry.message.payload for entry in session.mqueue] == [b"m4", b"m5"]  # m2, m3 made room
    assert session.mqueue_dropped == 2
    counters = emqx_server.broker.metrics.node("emqx@127.0.0.1")
    assert (counters["delivery.dropped.queue_full"], counters["messages.dropped"]) == (2, 2)
    assert (session.stats["send_msg"], session.stats["send_msg.qos1"]) == (2, 2)
    assert (session.stats["send_msg.dropped"], session.stats["send_msg.dropped.queue_full"]) == (2, 2)


def test_offline_session_queues_everything(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("off", connected=False, subscriptions=["t/1"])
    emqx_server.publish("t/1", "a")
    emqx_server.publish("t/1", "b", qos=2)
    assert _outcomes(session) == ["queued", "queued"]
    assert [(entry.qos, entry.message.payload) for entry in session.mqueue] == [(0, b"a"), (0, b"b")]
    assert session.stats["send_msg"] == 0


def test_overlapping_subscriptions_each_get_a_copy(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("c", subscriptions=["a/#", "a/+", "a/b"])
    published = emqx_server.publish("a/b", "x")
    assert (published.matched, published.delivered) == (3, 3)
    assert sorted(d.subscription for d in session.deliveries) == ["a/#", "a/+", "a/b"]


def test_dollar_topics_are_not_matched_by_leading_wildcards(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("all", subscriptions=["#", "+/x"])
    sys = emqx_server.add_client("sys", subscriptions=["$SYS/#"])
    assert emqx_server.publish("$SYS/x", "s").matched == 1
    assert [d.subscription for d in sys.deliveries] == ["$SYS/#"]


def test_a_shared_group_delivers_to_one_member_in_turn(emqx_server: EmqxServer) -> None:
    members = [emqx_server.add_client(f"m{i}", subscriptions=["$share/g/jobs"]) for i in range(3)]
    other = emqx_server.add_client("q", subscriptions=["$queue/jobs"])
    for index in range(6):
        assert emqx_server.publish("jobs", f"{index}").matched == 2  # one of g, the $queue group
    assert [len(member.deliveries) for member in members] == [2, 2, 2]
    assert len(other.deliveries) == 6


def test_a_shared_group_prefers_connected_members(emqx_server: EmqxServer) -> None:
    online = emqx_server.add_client("on", subscriptions=["$share/g/t"])
    offline = emqx_server.add_client("off", connected=False, subscriptions=["$share/g/t"])
    for _ in range(4):
        emqx_server.publish("t", "x")
    assert (len(online.deliveries), len(offline.deliveries)) == (4, 0)


def test_no_local_skips_the_publishers_own_subscription(emqx_server: EmqxServer, broker) -> None:  # type: ignore[no-untyped-def]
    me = emqx_server.add_client("me", subscriptions=[{"topic": "chat", "nl": 1}])
    you = emqx_server.add_client("you", subscriptions=[{"topic": "chat", "nl": 1}])
    published = emqx_server.publish("chat", "hi", from_clientid="me")
    assert (published.matched, len(me.deliveries), len(you.deliveries)) == (1, 0, 1)
    assert broker.metrics.node("emqx@127.0.0.1")["delivery.dropped.no_local"] == 1
    assert emqx_server.publish("chat", "api").matched == 2  # the API is nobody's own client


def test_no_subscriber_counts_a_drop(emqx_server: EmqxServer, broker) -> None:  # type: ignore[no-untyped-def]
    published = emqx_server.publish("nobody/home", "x")
    assert (published.matched, published.delivered) == (0, 0)
    counters = broker.metrics.node("emqx@127.0.0.1")
    assert (counters["messages.publish"], counters["messages.dropped"], counters["messages.dropped.no_subscribers"]) == (1, 1, 1)
    assert (counters["messages.received"], counters["messages.qos0.received"]) == (1, 1)  # the API's too


def test_no_local_never_matches_the_api_as_sender(emqx_server: EmqxServer) -> None:
    named_like_the_api = emqx_server.add_client("http_api", subscriptions=[{"topic": "t", "nl": 1}])
    assert emqx_server.publish("t", "x").matched == 1
    assert len(named_like_the_api.deliveries) == 1


def test_delivery_counters_land_on_the_subscribers_node() -> None:
    with EmqxServer(nodes=["emqx@n1", "emqx@n2"]) as emqx:
        emqx.add_client("a", node="emqx@n1", subscriptions=["t"])
        emqx.add_client("b", node="emqx@n2", subscriptions=["t"])
        emqx.add_client("c", node="emqx@n2", subscriptions=["t"])
        emqx.publish("t", "x")
        n1, n2 = emqx.broker.metrics.node("emqx@n1"), emqx.broker.metrics.node("emqx@n2")
        assert (n1["messages.publish"], n1["messages.delivered"], n2["messages.delivered"]) == (1, 1, 2)
        assert emqx.broker.metrics.total(["emqx@n1", "emqx@n2"])["messages.sent"] == 3


def test_a_stopped_node_receives_nothing() -> None:
    with EmqxServer(nodes=["emqx@n1", "emqx@n2"]) as emqx:
        emqx.add_client("a", node="emqx@n1", subscriptions=["t"])
        down = emqx.add_client("b", node="emqx@n2", subscriptions=["t"])
        emqx.set_node_status("emqx@n2", "stopped")
        assert emqx.broker.running_nodes == ["emqx@n1"]
        assert emqx.publish("t", "x").matched == 1
        assert len(down.deliveries) == 0
        with pytest.raises(LookupError):
            emqx.set_node_status("emqx@n9", "stopped")


def test_retained_messages_store_replace_and_delete(broker) -> None:  # type: ignore[no-untyped-def]
    broker.publish("r/1", "first", retain=True)
    broker.publish("r/1", "second", retain=True)
    broker.publish("r/2", "other", retain=True)
    assert [(m.topic, m.payload) for m in broker.retained] == [("r/1", b"second"), ("r/2", b"other")]
    broker.publish("r/1", "", retain=True)
    assert [m.topic for m in broker.retained.matching("r/#")] == ["r/2"]


def test_disconnect_keeps_a_session_with_an_expiry_interval(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("keeps", expiry_interval=60, clean_start=False, subscriptions=["t"])
    emqx_server.add_client("goes", expiry_interval=0)
    kept = emqx_server.disconnect("keeps")
    assert kept is not None and (kept.connected, kept.disconnected_at is not None) == (False, True)
    assert emqx_server.disconnect("goes") is None
    assert "goes" not in emqx_server.broker.sessions
    assert emqx_server.publish("t", "while away").delivered == 1
    assert [entry.message.payload for entry in kept.mqueue] == [b"while away"]
    emqx_server.expire("keeps")
    assert "keeps" not in emqx_server.broker.sessions
    assert emqx_server.publish("t", "x").matched == 0  # its subscription went with it


def test_a_clientid_ban_kicks_the_session(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("bad", subscriptions=["t"])
    emqx_server.add_client("offline-bad", connected=False, expiry_interval=60)
    emqx_server.add_client("good")
    emqx_server.add_ban("clientid", "bad")
    emqx_server.add_ban("clientid", "offline-bad")
    assert sorted(s.clientid for s in emqx_server.broker.sessions) == ["good"]
    assert emqx_server.publish("t", "x").matched == 0
    with pytest.raises(Banned):
        emqx_server.connect("bad")


def test_other_bans_refuse_the_next_connect(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("bad-1", username="mallory")
    emqx_server.add_ban("username", "mallory", reason="abuse")
    assert "bad-1" in emqx_server.broker.sessions  # EMQX kicks only for clientid bans
    with pytest.raises(Banned, match="mallory"):
        emqx_server.connect("bad-2", username="mallory")
    assert "bad-2" not in emqx_server.broker.sessions
    emqx_server.connect("fine", username="bob")
    with pytest.raises(Banned):
        emqx_server.add_client("bad-3", username="mallory")  # seeding as connected is refused too
    offline = emqx_server.add_client("bad-4", username="mallory", connected=False)
    assert offline.connected is False and "bad-4" in emqx_server.broker.sessions
    emqx_server.add_ban("peerhost_net", "10.9.0.0/16")
    with pytest.raises(Banned):
        emqx_server.connect("net", ip_address="10.9.1.2")


def test_an_expired_ban_no_longer_applies(emqx_server: EmqxServer) -> None:
    import time

    emqx_server.add_ban("clientid", "late", until=time.time() - 1)
    assert list(emqx_server.broker.bans) == []
    assert emqx_server.connect("late").connected is True


def test_seeded_messages_default_to_a_topic_the_subscription_matches(emqx_server: EmqxServer) -> None:
    session = emqx_server.add_client("c", subscriptions=["$share/g/sensors/+/temp/#"], mqueue=["x"])
    assert session.mqueue[0].message.topic == "sensors/x/temp"


def test_published_history_is_visible_from_python(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c", subscriptions=["t"])
    emqx_server.publish("t", "one")
    emqx_server.publish("u", "two")
    assert [(p.message.payload, p.matched) for p in emqx_server.published] == [(b"one", 1), (b"two", 0)]


@pytest.mark.parametrize("seed", range(24))
def test_messages_taken_later_equal_messages_delivered_at_once(seed: int) -> None:
    """A publish leaves plain subscribers' messages in their filters' logs for the sessions
    to take when next looked at; what they then hold must be exactly what delivering each
    message at publish time gives (the broker's other path), for any mix of QoS, windows,
    queue sizes, overlapping subscriptions and reads in between."""
    import random

    from pytest_emqx_mock.state.broker import Broker, BrokerConfig

    def run(deliver_at_once: bool) -> Any:
        rnd = random.Random(seed)
        broker = Broker(BrokerConfig(seed=seed))
        if deliver_at_once:
            broker._may_log = lambda sender: False  # type: ignore[method-assign]
        for index in range(6):
            broker.add_client(
                f"c{index}",
                connected=rnd.random() < 0.7,
                expiry_interval=60,
                inflight_max=rnd.choice([1, 2, 5]),
                mqueue_max=rnd.choice([0, 1, 3, 8]),
                subscriptions=[{"topic": rnd.choice(["a/#", "a/+", "a/b", "+/b", "#"]), "qos": rnd.randrange(3)} for _ in range(rnd.randrange(1, 3))],
                inflight=["seeded"] * rnd.randrange(2),
                mqueue=[{"payload": "seeded", "priority": rnd.choice([0, 0, 0, 2])} for _ in range(rnd.randrange(3))],
            )
        for step in range(rnd.randrange(20, 60)):
            broker.publish(rnd.choice(["a/b", "a/c", "x/b", "a/b/c"]), f"m{step}", qos=rnd.randrange(3))
            if rnd.random() < 0.1:  # looking at a session in between
                _ = broker.sessions.get(f"c{rnd.randrange(6)}").mqueue
        return (
            [
                (
                    s.clientid,
                    [(q.message.payload, q.qos) for q in s.inflight],
                    [(q.message.payload, q.qos) for q in s.mqueue],
                    dict(s.stats),
                    s.mqueue_dropped,
                    [(d.message.payload, d.qos, d.subscription, d.outcome) for d in s.deliveries],
                )
                for s in broker.sessions
            ],
            broker.metrics.node("emqx@127.0.0.1"),
            [(p.matched, p.delivered) for p in broker.published],
        )

    assert run(deliver_at_once=False) == run(deliver_at_once=True)
