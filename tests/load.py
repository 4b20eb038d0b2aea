"""Load with exact accounting, shared by tests/test_load.py (small) and benchmarks/bench.py
(large): threads send a seeded mix of requests over kept-alive connections, each recording the
status it got; a model replays the same plan on its own (EMQX's rules, not the fake's state) and
says what every status, counter, metric, queue and listing must then read.

Each thread owns its clients, topics, API key names and bans, so what it changes follows from
its own requests in its own order whatever the interleaving; the counters all threads share
(metrics, stats, listings) are where a lost update would show.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.state.access import MAX_API_KEYS

INFLIGHT_MAX, MQUEUE_MAX = 3, 5
SUBSCRIBERS = ("on0", "on1", "off0", "off1")  # seeded subscribed; "off*" have no connection
CHURN = "churn"  # seeded connected, subscribed and unsubscribed by the thread's requests
SPARES_PER_OPERATION = 0.25  # seeded connected clients with no subscription, kicked and banned too,
# so that kicks and bans leave most subscribers in place however long a thread runs
KEYS_ALIVE = 3  # a thread holds at most this many API keys
WEIGHTS = {"publish": 8, "subscribe": 2, "unsubscribe": 1, "kick": 1, "ban": 1, "unban": 1, "key": 2}


@dataclass
class Client:
    connected: bool
    subscriptions: dict[str, int] = field(default_factory=dict)
    inflight: int = 0
    mqueue: int = 0
    mqueue_dropped: int = 0
    send_msg: int = 0


@dataclass
class World:
    """What one thread's requests have made of its part of the broker, as EMQX would."""

    thread: int
    spares: int
    clients: dict[str, Client] = field(default_factory=dict)
    bans: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)
    metrics: Counter[str] = field(default_factory=Counter)
    created_keys: int = 0

    def topic(self) -> str:
        return f"load/{self.thread}/#"

    def clientid(self, name: str) -> str:
        return f"t{self.thread}-{name}"

    def step(self, rng: random.Random, n: int) -> tuple[str, str, Any, int]:
        """Choose the next request (method, path, body) and apply it; returns it with the
        status EMQX answers."""
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        who = self.clientid(rng.choice((*SUBSCRIBERS, CHURN, *(f"s{k}" for k in range(self.spares)))))
        if kind == "publish":
            qos = rng.randint(0, 1)
            topic = f"load/{self.thread}/{n}"
            return "POST", "/publish", {"topic": topic, "payload": f"{self.thread}-{n}", "qos": qos}, self.publish(qos)
        if kind in ("subscribe", "unsubscribe"):
            churn = self.clients.get(self.clientid(CHURN))
            path = f"/clients/{self.clientid(CHURN)}/{kind}"
            if kind == "subscribe":
                qos = rng.randint(0, 1)
                if churn is not None:
                    churn.subscriptions[self.topic()] = qos
                return "POST", path, {"topic": self.topic(), "qos": qos}, 404 if churn is None else 200
            if churn is not None:
                churn.subscriptions.pop(self.topic(), None)
            return "POST", path, {"topic": self.topic()}, 404 if churn is None else 204
        if kind == "kick":
            return "DELETE", f"/clients/{who}", None, 204 if self.clients.pop(who, None) is not None else 404
        if kind == "ban":
            if who in self.bans:
                return "POST", "/banned", {"as": "clientid", "who": who}, 400
            self.bans.add(who)
            self.clients.pop(who, None)  # a clientid ban kicks its session (`emqx_banned:create/1`)
            return "POST", "/banned", {"as": "clientid", "who": who}, 200
        if kind == "unban":
            if self.bans and rng.random() < 0.5:
                who = rng.choice(sorted(self.bans))
            status = 204 if who in self.bans else 404
            self.bans.discard(who)
            return "DELETE", f"/banned/clientid/{who}", None, status
        if len(self.keys) < KEYS_ALIVE and rng.random() < 0.6:
            name = f"t{self.thread}-key{self.created_keys}"
            self.created_keys += 1
            self.keys.append(name)
            return "POST", "/api_key", {"name": name, "desc": "", "enable": True}, 200
        name = f"t{self.thread}-key{rng.randrange(self.created_keys)}" if self.created_keys else f"t{self.thread}-none"
        status = 204 if name in self.keys else 404
        if name in self.keys:
            self.keys.remove(name)
        return "DELETE", f"/api_key/{name}", None, status

    def publish(self, qos: int) -> int:
        """`emqx_mgmt:publish/1` then each subscriber's session (`emqx_session_mem:deliver/3`)."""
        self.metrics.update(["messages.received", f"messages.qos{qos}.received", "messages.publish"])
        subscribers = [(c, sub_qos) for c in self.clients.values() for t, sub_qos in c.subscriptions.items() if t == self.topic()]
        if not subscribers:
            self.metrics.update(["messages.dropped", "messages.dropped.no_subscribers"])
            return 202
        for client, sub_qos in subscribers:
            granted = min(qos, sub_qos)
            if client.connected and (granted == 0 or client.inflight < INFLIGHT_MAX):
                client.inflight += granted > 0
                client.send_msg += 1
                sent = ("messages.delivered", "messages.sent", f"messages.qos{granted}.sent", "packets.publish.sent", "packets.sent")
                self.metrics.update(sent)
            elif client.mqueue == MQUEUE_MAX:  # the oldest goes (`emqx_mqueue:in/2`)
                client.mqueue_dropped += 1
                self.metrics.update(["delivery.dropped", "delivery.dropped.queue_full", "messages.dropped"])
            else:
                client.mqueue += 1
        return 200


def seed(server: EmqxServer, threads: int, operations: int) -> list[World]:
    """Each thread's clients, in the fake and in the model alike."""
    worlds = []
    for thread in range(threads):
        world = World(thread, spares=max(2, int(operations * SPARES_PER_OPERATION)))
        for name in (*SUBSCRIBERS, CHURN, *(f"s{k}" for k in range(world.spares))):
            connected = not name.startswith("off")
            subscriptions = {world.topic(): 1} if name in SUBSCRIBERS else {}
            server.add_client(
                world.clientid(name),
                connected=connected,
                expiry_interval=3600,
                inflight_max=INFLIGHT_MAX,
                mqueue_max=MQUEUE_MAX,
                subscriptions=[{"topic": t, "qos": q} for t, q in subscriptions.items()],
            )
            world.clients[world.clientid(name)] = Client(connected, dict(subscriptions))
        worlds.append(world)
    return worlds


@dataclass
class Run:
    worlds: list[World]
    answers: list[list[tuple[str, str, int, int]]]  # per thread: (method, path, expected, got)
    metrics_before: dict[str, Any]
    keys_before: set[str]

    @property
    def requests(self) -> int:
        return sum(len(answers) for answers in self.answers)


def run(server: EmqxServer, threads: int, operations: int, seed_value: int = 1) -> Run:
    """Seed, then let `threads` threads send `operations` requests each, all at once."""
    worlds = seed(server, threads, operations)
    token = server.login()
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        before = _get(http, server, "/metrics?aggregate=true")
        keys_before = {key["name"] for key in _get(http, server, "/api_key")}
    if len(keys_before) + threads * KEYS_ALIVE > MAX_API_KEYS:
        raise ValueError(f"{threads} threads could hold more than EMQX's {MAX_API_KEYS} API keys")
    answers: list[list[tuple[str, str, int, int]]] = [[] for _ in range(threads)]

    def work(thread: int, http: requests.Session) -> None:
        world, rng = worlds[thread], random.Random(f"{seed_value}-{thread}")
        for n in range(operations):
            method, path, body, expected = world.step(rng, n)
            response = http.request(method, server.api_url + path, json=body, timeout=60)
            answers[thread].append((method, path, expected, response.status_code))

    together(server, threads, work)
    return Run(worlds, answers, before, keys_before)


def together(server: EmqxServer, threads: int, work: Callable[[int, requests.Session], None]) -> None:
    """Run `work(thread, session)` on `threads` threads, each with its own kept-alive connection
    (already open, with the administrator's bearer token), all released at once."""
    token = server.login()
    start = threading.Barrier(threads)

    def one(thread: int) -> None:
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            http.get(server.api_url + "/status", timeout=60)  # connected before the start
            start.wait()
            work(thread, http)

    workers = [threading.Thread(target=one, args=(thread,)) for thread in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _get(http: requests.Session, server: EmqxServer, path: str) -> Any:
    response = http.get(server.api_url + path, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def lost_updates(server: EmqxServer, done: Run) -> list[str]:
    """Every difference between what the fake answers now and what the model says the
    accepted requests imply (empty when nothing was lost): statuses, `GET /metrics`, `GET
    /stats` counts, each client's queues and counters, and the client, ban and key listings."""
    found = [f"{m} {p}: {got}, expected {want}" for answers in done.answers for m, p, want, got in answers if got != want]
    clients = {cid: c for world in done.worlds for cid, c in world.clients.items()}
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {server.login()}"
        metrics = _get(http, server, "/metrics?aggregate=true")
        stats = _get(http, server, "/stats?aggregate=true")
        rows = _get(http, server, f"/clients?limit={max(len(clients), 1)}")["data"]
        bans = _get(http, server, "/banned?limit=1000")["data"]
        keys = {key["name"] for key in _get(http, server, "/api_key")}
    delta = sum((world.metrics for world in done.worlds), Counter[str]())
    for name, value in metrics.items():
        expected = done.metrics_before[name] + delta[name]
        if value != expected:
            found.append(f"metric {name}: {value}, expected {expected}")
    subscriptions = sum(len(c.subscriptions) for c in clients.values())
    routes = {t for c in clients.values() for t in c.subscriptions}
    expected_stats = {
        "sessions.count": len(clients),
        "live_connections.count": sum(c.connected for c in clients.values()),
        "subscriptions.count": subscriptions,
        "topics.count": len(routes),
    }
    for name, value in expected_stats.items():
        if stats[name] != value:
            found.append(f"stat {name}: {stats[name]}, expected {value}")
    listed = {row["clientid"]: row for row in rows}
    if set(listed) != set(clients):
        found.append(f"clients listed: {sorted(set(listed) ^ set(clients))} differ")
    for clientid, client in clients.items():
        row = listed.get(clientid, {})
        expected_row = {
            "inflight_cnt": client.inflight,
            "mqueue_len": client.mqueue,
            "mqueue_dropped": client.mqueue_dropped,
            "send_msg": client.send_msg,
            "subscriptions_cnt": len(client.subscriptions),
        }
        got = {name: row.get(name) for name in expected_row}
        if got != expected_row:
            found.append(f"client {clientid}: {got}, expected {expected_row}")
    expected_bans = {("clientid", who) for world in done.worlds for who in world.bans}
    if {(ban["as"], ban["who"]) for ban in bans} != expected_bans:
        found.append("bans listed differ")
    expected_keys = done.keys_before | {name for world in done.worlds for name in world.keys}
    if keys != expected_keys:
        found.append(f"API keys listed: {sorted(keys ^ expected_keys)} differ")
    return found
