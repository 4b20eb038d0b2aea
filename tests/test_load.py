"""Load with exact accounting: threads sending a seeded mix of creates, deletes, kicks, bans,
publishes and (un)subscribes leave every status, counter, metric, queue and listing exactly
where the accepted requests put them (tests/load.py; benchmarks/bench.py runs it larger); and
requests racing for one resource have one winner, the others EMQX's refusal."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import requests
from load import lost_updates, run, together

from pytest_emqx_mock import EmqxServer

RACERS = 12


def test_mixed_load_loses_no_update(emqx_server: EmqxServer) -> None:
    """8 threads × 60 requests, each thread over one kept-alive connection."""
    done = run(emqx_server, threads=8, operations=60)
    assert done.requests == 480
    assert lost_updates(emqx_server, done) == []
    assert emqx_server.errors == []


def race(server: EmqxServer, method: str, path: str, body: Any = None) -> list[requests.Response]:
    """RACERS requests for the same thing, released together, each on its own connection."""
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def one(_: int, http: requests.Session) -> None:
        response = http.request(method, server.api_url + path, json=body, timeout=30)
        with lock:
            answers.append(response)

    together(server, RACERS, one)
    return answers


def one_winner(answers: list[requests.Response], won: int, refused: Callable[[requests.Response], Any], refusal: Any) -> requests.Response:
    winners = [r for r in answers if r.status_code == won]
    assert len(winners) == 1, [r.status_code for r in answers]
    assert [refused(r) for r in answers if r is not winners[0]] == [refusal] * (RACERS - 1)
    return winners[0]


def listed(server: EmqxServer, path: str) -> Any:
    response = requests.get(server.api_url + path, headers={"Authorization": f"Bearer {server.login()}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def status_and_body(response: requests.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def test_one_of_many_same_bans_is_created(emqx_server: EmqxServer) -> None:
    """The others are refused with the ban that won, as JSON text (`emqx_mgmt_api_banned:banned/2`)."""
    emqx_server.add_client("target")
    answers = race(emqx_server, "POST", "/banned", {"as": "clientid", "who": "target", "reason": "race"})
    winner = one_winner(answers, 200, lambda r: (r.status_code, r.json()["code"]), (400, "ALREADY_EXISTS"))
    assert {json.dumps(json.loads(r.json()["message"]), sort_keys=True) for r in answers if r is not winner} == {
        json.dumps(winner.json(), sort_keys=True)
    }
    assert listed(emqx_server, "/banned")["data"] == [winner.json()]
    assert listed(emqx_server, "/clients")["data"] == []  # kicked, once


def test_one_of_many_deletes_of_a_ban_succeeds(emqx_server: EmqxServer) -> None:
    emqx_server.add_ban("clientid", "gone")
    answers = race(emqx_server, "DELETE", "/banned/clientid/gone")
    one_winner(answers, 204, status_and_body, (404, {"code": "NOT_FOUND", "message": "clientid: gone not found"}))
    assert listed(emqx_server, "/banned")["data"] == []


def test_one_of_many_kicks_of_a_client_succeeds(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("kicked", subscriptions=["k/#"])
    emqx_server.add_client("stays")
    answers = race(emqx_server, "DELETE", "/clients/kicked")
    one_winner(answers, 204, status_and_body, (404, {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}))
    assert [row["clientid"] for row in listed(emqx_server, "/clients")["data"]] == ["stays"]
    stats = listed(emqx_server, "/stats?aggregate=true")
    assert (stats["sessions.count"], stats["subscriptions.count"], stats["topics.count"]) == (1, 0, 0)


def test_one_of_many_deletes_of_an_api_key_succeeds(emqx_server: EmqxServer) -> None:
    """(Many creates of one name: test_dashboard_api_keys.py::test_concurrent_same_api_key_name.)"""
    emqx_server.add_api_key("contested")
    before = [key["name"] for key in listed(emqx_server, "/api_key")]
    answers = race(emqx_server, "DELETE", "/api_key/contested")
    one_winner(answers, 204, status_and_body, (404, {"code": "NOT_FOUND", "message": "Name NOT FOUND"}))
    assert [key["name"] for key in listed(emqx_server, "/api_key")] == [name for name in before if name != "contested"]
