"""Faults set from Python, observed from a real HTTP client."""

from __future__ import annotations

import threading

import pytest
import requests
from api import delete, get, post

from pytest_emqx_mock import EmqxServer


def test_an_emqx_error_with_the_registry_message_changes_nothing(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.faults.error("DELETE /clients/{clientid}", 503, "SERVICE_UNAVAILABLE")
    response = delete(emqx_server, "/clients/c1")
    assert (response.status_code, response.json()) == (503, {"code": "SERVICE_UNAVAILABLE", "message": "Service unavailable"})
    assert "c1" in emqx_server.broker.sessions  # the handler never ran
    (entry,) = emqx_server.journal.requests("DELETE /clients/c1")
    assert entry.fault == "503 SERVICE_UNAVAILABLE on DELETE /clients/{clientid}"


def test_a_fault_for_the_next_n_requests_then_normal_answers(emqx_server: EmqxServer) -> None:
    fault = emqx_server.faults.error("GET /clients", 500, "INTERNAL_ERROR", "boom", times=2)
    statuses = [get(emqx_server, "/clients").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert fault.triggered == 2
    assert get(emqx_server, "/clients/unknown").status_code == 404  # another operation: untouched


def test_faults_match_by_body_and_credential(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sub", subscriptions=["alerts/#"])
    emqx_server.faults.error("POST /publish", 400, "BAD_REQUEST", "no alerts today", body={"topic": "alerts/fire"})
    refused = post(emqx_server, "/publish", {"topic": "alerts/fire", "payload": "x"})
    assert refused.json() == {"code": "BAD_REQUEST", "message": "no alerts today"}
    assert post(emqx_server, "/publish", {"topic": "alerts/flood", "payload": "x"}).status_code == 200
    assert [d.message.topic for d in emqx_server.client("sub").deliveries] == ["alerts/flood"]

    emqx_server.faults.error("GET /users", 403, "UNAUTHORIZED_ROLE", "not you", credential="token:admin")
    token = emqx_server.login()
    as_admin = requests.get(emqx_server.api_url + "/users", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert as_admin.status_code == 403
    emqx_server.add_user("other", "other1234")
    other = emqx_server.login("other", "other1234")
    as_other = requests.get(emqx_server.api_url + "/users", headers={"Authorization": f"Bearer {other}"}, timeout=30)
    assert as_other.status_code == 200


def test_a_custom_response(emqx_server: EmqxServer) -> None:
    emqx_server.faults.respond("GET /nodes", 502, b"<html>bad gateway</html>", {"content-type": "text/html", "x-proxy": "yes"})
    emqx_server.faults.respond("GET /clients/{clientid}", 200, {"clientid": "made-up"})
    response = get(emqx_server, "/nodes")
    assert (response.status_code, response.text, response.headers["x-proxy"]) == (502, "<html>bad gateway</html>", "yes")
    assert get(emqx_server, "/clients/whoever").json() == {"clientid": "made-up"}
    assert emqx_server.errors == []  # a fault may answer what the schemas forbid
    assert [e.fault for e in emqx_server.journal.entries()] == ["502 response on GET /nodes", "200 response on GET /clients/{clientid}"]


def test_latency_keeps_the_answer(emqx_server: EmqxServer) -> None:
    emqx_server.faults.delay("GET /clients", 0.01)
    assert get(emqx_server, "/clients").json()["data"] == []
    (entry,) = emqx_server.journal.requests("GET /clients")
    assert entry.fault == "delay 0.01 s on GET /clients"


def test_a_seeded_probability_repeats_its_pattern() -> None:
    patterns = []
    for _ in range(2):
        with EmqxServer() as emqx:
            emqx.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE", probability=0.5, seed=7)
            patterns.append([get(emqx, "/clients").status_code for _ in range(20)])
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {200, 503}


def test_a_time_window(emqx_server: EmqxServer) -> None:
    emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE", seconds=600)
    emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE", seconds=0)  # already over
    assert get(emqx_server, "/clients").status_code == 503
    assert get(emqx_server, "/nodes").status_code == 200


def test_clear_and_reset_remove_faults(emqx_server: EmqxServer) -> None:
    emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE")
    emqx_server.faults.clear()
    assert get(emqx_server, "/clients").status_code == 200
    emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE")
    emqx_server.reset()
    assert get(emqx_server, "/clients").status_code == 200


def test_a_one_shot_fault_hits_exactly_one_of_many_concurrent_requests(emqx_server: EmqxServer) -> None:
    emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE", times=1)
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        status = get(emqx_server, "/clients").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 11 + [503]


@pytest.mark.parametrize("kind", ["reset", "empty", "malformed", "garbage"])
def test_transport_faults_break_the_connection(emqx_server: EmqxServer, kind: str) -> None:
    emqx_server.add_client("c1")
    emqx_server.faults.transport("DELETE /clients/{clientid}", kind, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        delete(emqx_server, "/clients/c1")
    assert "c1" in emqx_server.broker.sessions  # no handler ran
    (entry,) = emqx_server.journal.requests("DELETE /clients/c1")
    assert entry.fault == f"connection {kind} on DELETE /clients/{{clientid}}"
    assert delete(emqx_server, "/clients/c1").status_code == 204  # the server goes on serving
    assert emqx_server.errors == []


def test_a_reset_is_a_tcp_reset(emqx_server: EmqxServer) -> None:
    emqx_server.faults.transport("GET /clients", "reset")
    with pytest.raises(requests.exceptions.ConnectionError) as failure:
        get(emqx_server, "/clients")
    assert "reset" in str(failure.value).lower()


def test_an_unknown_transport_fault_is_refused(emqx_server: EmqxServer) -> None:
    with pytest.raises(ValueError, match="transport fault must be one of"):
        emqx_server.faults.transport("GET /clients", "explode")
