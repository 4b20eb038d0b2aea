"""Faults set from Python, observed from a real HTTP client."""

from __future__ import annotations

import base64
import socket
import threading
import time
from typing import Any

import pytest
import requests
from api import delete, get, post

from pytest_emqx_mock import EmqxServer

#: The longest wait Python's sleep and timers take (`threading.TIMEOUT_MAX`), as refusals name it.
MAX = f"{threading.TIMEOUT_MAX:.0f}"


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
    assert emqx_server.errors == []  # a stub may answer what the schemas forbid
    assert [e.stub for e in emqx_server.journal.entries()] == ["502 response on GET /nodes", "200 response on GET /clients/{clientid}"]


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
    emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE", duration=600)
    emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE", duration=0)  # already over
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


def test_random_latency_is_drawn_from_a_seeded_range(emqx_server: EmqxServer) -> None:
    draws = []
    for _ in range(2):
        fault = emqx_server.faults.delay("GET /clients", (0.01, 0.05), seed=3)
        draws.append([fault.latency() for _ in range(5)])
        emqx_server.faults.clear()
    assert draws[0] == draws[1]
    assert all(0.01 <= draw <= 0.05 for draw in draws[0]) and len(set(draws[0])) == 5
    emqx_server.faults.delay("GET /clients", (0.02, 0.03), seed=3)
    started = time.monotonic()
    assert get(emqx_server, "/clients").json()["data"] == []
    assert time.monotonic() - started >= 0.02  # never sooner than the range allows
    (entry,) = emqx_server.journal.requests("GET /clients")
    assert entry.fault == "delay 0.02-0.03 s on GET /clients"


def test_a_trickled_body_arrives_in_pieces_after_its_headers(emqx_server: EmqxServer) -> None:
    emqx_server.add_clients(3)
    expected = get(emqx_server, "/clients").content
    emqx_server.faults.delay("GET /clients", 2.0, trickle=True)
    with socket.create_connection(("127.0.0.1", emqx_server.port)) as connection:
        token = base64.b64encode(":".join(emqx_server.auth).encode()).decode()
        connection.sendall(f"GET /api/v5/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        head, body = received.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200")
        assert len(body) < len(expected)  # the headers came first; the body is still on its way
        pieces = 1
        while len(body) < len(expected):
            body += connection.recv(65536)
            pieces += 1
    assert body == expected
    assert pieces > 2
    (entry,) = emqx_server.journal.requests("GET /clients", query={})[-1:]
    assert entry.fault == "trickle 2 s on GET /clients"
    emqx_server.faults.clear()
    emqx_server.faults.delay("GET /clients", 0.3, trickle=True)
    started = time.monotonic()
    with requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth, stream=True, timeout=30) as response:
        assert response.status_code == 200
        assert response.raw.read() == expected  # an HTTP client reads the body whole all the same
    assert time.monotonic() - started >= 0.3


def test_a_node_down_leaves_the_cluster_until_the_fault_ends(cluster: EmqxServer) -> None:
    cluster.add_client("on-n1", node="emqx@n1", subscriptions=["a/1"])
    cluster.add_client("on-n2", node="emqx@n2", subscriptions=["b/1"])
    fault = cluster.faults.node_down("emqx@n2")
    assert [node["node_status"] for node in get(cluster, "/nodes").json()] == ["running", "stopped"]
    assert get(cluster, "/nodes/emqx@n2").json() == {"code": "NOT_FOUND", "message": "Node not found: emqx@n2"}
    assert get(cluster, "/clients", {"node": "emqx@n2"}).json() == {"code": "NODE_DOWN", "message": "bad rpc call emqx@n2, Reason nodedown"}
    assert [c["clientid"] for c in get(cluster, "/clients").json()["data"]] == ["on-n1"]
    assert [t["topic"] for t in get(cluster, "/topics").json()["data"]] == ["a/1"]
    assert get(cluster, "/stats", {"aggregate": "true"}).json()["connections.count"] == 1
    assert str(fault) == "node emqx@n2 down"
    assert cluster.faults.remove(fault.id) is True
    assert [node["node_status"] for node in get(cluster, "/nodes").json()] == ["running", "running"]
    assert get(cluster, "/stats", {"aggregate": "true"}).json()["connections.count"] == 2
    assert cluster.faults.remove(fault.id) is False


def test_a_node_down_for_a_while_comes_back_by_itself(cluster: EmqxServer) -> None:
    cluster.faults.node_down("emqx@n2", duration=0.05)
    assert cluster.broker.nodes["emqx@n2"].status == "stopped"
    deadline = time.monotonic() + 10
    while cluster.broker.nodes["emqx@n2"].status == "stopped" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cluster.broker.nodes["emqx@n2"].status == "running"
    assert list(cluster.faults) == []


def test_clearing_faults_restores_the_nodes_as_they_were(cluster: EmqxServer) -> None:
    cluster.faults.rpc_timeout("emqx@n1", 5)
    cluster.faults.node_down("emqx@n2")
    cluster.faults.clear()
    assert [(n.status, n.rpc_timeout) for n in cluster.broker.nodes.values()] == [("running", None), ("running", None)]
    cluster.set_node_status("emqx@n2", "stopped")
    cluster.faults.remove(cluster.faults.node_down("emqx@n2").id)
    assert cluster.broker.nodes["emqx@n2"].status == "stopped"  # it was down before the fault


def test_an_rpc_timeout_waits_then_fails_the_calls_that_reach_the_node(cluster: EmqxServer) -> None:
    cluster.add_client("on-n1", node="emqx@n1")
    fault = cluster.faults.rpc_timeout("emqx@n2", 0.2)
    started = time.monotonic()
    response = get(cluster, "/clients")
    assert time.monotonic() - started >= 0.2  # it hung first
    assert (response.status_code, response.json()) == (500, {"code": "NODE_DOWN", "message": "bad rpc call emqx@n2, Reason timeout"})
    assert get(cluster, "/subscriptions", {"node": "emqx@n2"}).status_code == 500
    metrics = get(cluster, "/nodes/emqx@n2/metrics")
    assert (metrics.status_code, metrics.json()) == (400, {"code": "BAD_REQUEST", "message": "timeout"})
    assert get(cluster, "/nodes/emqx@n2/stats").json() == {"code": "BAD_REQUEST", "message": "timeout"}
    assert [c["clientid"] for c in get(cluster, "/clients", {"node": "emqx@n1"}).json()["data"]] == ["on-n1"]
    assert [node["node_status"] for node in get(cluster, "/nodes").json()] == ["running", "running"]
    assert str(fault) == "node emqx@n2 rpc timeout after 0.2 s"
    cluster.faults.clear()
    assert get(cluster, "/clients").status_code == 200


def test_cluster_faults_refuse_unknown_nodes(cluster: EmqxServer) -> None:
    with pytest.raises(ValueError, match="^Node not found: emqx@n9$"):
        cluster.faults.node_down("emqx@n9")
    with pytest.raises(ValueError, match="^Node not found: emqx@n9$"):
        cluster.faults.rpc_timeout("emqx@n9")
    assert list(cluster.faults) == []


def test_faults_from_descriptions(cluster: EmqxServer) -> None:
    faults = cluster.faults
    error = faults.add({"error": "GET /clients", "status": 503, "code": "SERVICE_UNAVAILABLE", "times": 1})
    regex = faults.add({"respond": {"method": "get", "path_regex": "^/api/v5/nodes$"}, "status": 502, "body": {"x": 1}})
    slow = faults.add({"delay": {"path": "/publish"}, "seconds": [0.0, 0.01], "seed": 1})
    broken = faults.add({"transport": "GET /alarms", "kind": "empty", "expect": True})
    down = faults.add({"node_down": "emqx@n2"})
    assert [fault.as_json() for fault in faults] == [
        {"id": error.id, "fault": "503 SERVICE_UNAVAILABLE on GET /clients", "triggered": 0, "remaining": 1},
        {"id": slow.id, "fault": "delay 0-0.01 s on * /publish", "triggered": 0, "remaining": None},
        {"id": broken.id, "fault": "connection empty on GET /alarms", "triggered": 0, "remaining": None},
        {"id": down.id, "fault": "node emqx@n2 down", "triggered": 0, "remaining": None},
    ]
    assert len({fault.id for fault in faults}) == 4
    # a response of the test's own is a stub
    assert [stub.as_json() for stub in cluster.stubs] == [{"id": regex.id, "stub": "502 response on GET ^/api/v5/nodes$", "triggered": 0, "remaining": None}]
    assert get(cluster, "/clients").status_code == 503
    assert get(cluster, "/nodes").json() == {"x": 1}
    assert cluster.broker.nodes["emqx@n2"].status == "stopped"


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ({"status": 503}, "a fault names exactly one of error, respond, delay, transport, node_down, rpc_timeout"),
        ({"error": "/x", "delay": "/y", "seconds": 1}, "a fault names exactly one of error, respond, delay, transport, node_down, rpc_timeout"),
        ({"error": "GET /clients", "status": 503}, "error: missing a required argument: 'code'"),
        ({"error": "GET /clients", "status": 503, "code": "SERVICE_UNAVAILABLE", "colour": "red"}, "error: colour: unknown field (one of: status, code, message, times, duration, probability, seed, expect, credential, body, query)"),
        ({"error": "GET /clients", "stauts": 503, "code": "SERVICE_UNAVAILABLE"}, "error: stauts: unknown field (did you mean status?)"),
        ({"delay": "GET /clients", "secnods": 1}, "delay: secnods: unknown field (did you mean seconds?)"),
        ({"error": "GET /clients", "status": 99, "code": "SERVICE_UNAVAILABLE"}, "error: status must be an HTTP status from 100 to 599"),
        ({"error": "GET /clients", "status": "503", "code": "SERVICE_UNAVAILABLE"}, "error: status must be an HTTP status from 100 to 599"),
        ({"error": "GET /clients", "status": 503, "code": "SERVICE_UNAVAILABLE", "times": 0}, "error: times must be an integer >= 1"),
        ({"error": "GET /clients", "status": 503, "code": "SERVICE_UNAVAILABLE", "probability": 2}, "error: probability must be a number from 0 to 1"),
        ({"error": 7, "status": 503, "code": "SERVICE_UNAVAILABLE"}, 'error: a request is "METHOD /path", a path, or a pattern'),
        ({"error": {"verb": "GET"}, "status": 503, "code": "SERVICE_UNAVAILABLE"}, "error: a request has no field verb"),
        ({"respond": {"path_regex": "("}, "status": 200}, "respond: path_regex: missing ), unterminated subpattern at position 0"),
        ({"respond": "/x", "headers": {"a": 1}}, "respond: headers must map names to strings"),
        ({"delay": "/x", "seconds": -1}, f"delay: seconds must be a number of seconds from 0 to {MAX}, or a [low, high] range of them"),
        ({"delay": "/x", "seconds": [2, 1]}, f"delay: seconds must be a number of seconds from 0 to {MAX}, or a [low, high] range of them"),
        ({"delay": "/x", "seconds": 1e308}, f"delay: seconds must be a number of seconds from 0 to {MAX}, or a [low, high] range of them"),
        ({"delay": "/x", "seconds": [0, 1e10]}, f"delay: seconds must be a number of seconds from 0 to {MAX}, or a [low, high] range of them"),
        ({"delay": "/x", "seconds": 1, "duration": "soon"}, f"delay: duration must be a number of seconds from 0 to {MAX}"),
        ({"delay": "/x", "seconds": 1, "duration": 1e308}, f"delay: duration must be a number of seconds from 0 to {MAX}"),
        ({"delay": "GET clients", "seconds": 1}, "delay: a path starts with /, not 'clients'"),
        ({"delay": "", "seconds": 1}, 'delay: a request is "METHOD /path", a path, or a pattern, not empty'),
        ({"delay": "FETCH /clients", "seconds": 1}, "delay: FETCH is not an HTTP method (one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH)"),
        ({"transport": "/x", "kind": "explode"}, "transport: transport fault must be one of ('reset', 'empty', 'malformed', 'garbage'), not 'explode'"),
        ({"node_down": "emqx@n9"}, "node_down: Node not found: emqx@n9"),
        ({"node_down": "emqx@n2", "times": 1}, "node_down: times: unknown field (one of: duration)"),
        ({"rpc_timeout": "emqx@n2", "seconds": "long"}, f"rpc_timeout: seconds must be a number of seconds from 0 to {MAX}"),
        ({"rpc_timeout": "emqx@n2", "seconds": 1e308}, f"rpc_timeout: seconds must be a number of seconds from 0 to {MAX}"),
        ({"rpc_timeout": "emqx@n2", "duration": 1e308}, f"rpc_timeout: duration must be a number of seconds from 0 to {MAX}"),
        ({"node_down": "emqx@n2", "duration": 1e300}, f"node_down: duration must be a number of seconds from 0 to {MAX}"),
        ({"node_down": "emqx@n2", "duraton": 1}, "node_down: duraton: unknown field (did you mean duration?)"),
        ("error", "a fault is an object naming its kind"),
    ],
)
def test_a_bad_description_sets_no_fault(cluster: EmqxServer, description: Any, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        cluster.faults.add(description)
    assert str(refused.value) == message
    assert list(cluster.faults) == []
    assert [node.status for node in cluster.broker.nodes.values()] == ["running", "running"]


def test_a_wait_longer_than_python_can_sleep_is_refused_when_set(emqx_server: EmqxServer) -> None:
    """1e308 seconds once reached a sleep inside the fake: a 500 page of Werkzeug's, nothing reported."""
    refused = requests.post(f"{emqx_server.url}/_mock/faults", json={"rpc_timeout": "emqx@127.0.0.1", "seconds": 1e308}, timeout=10)
    assert (refused.status_code, refused.json()) == (
        400, {"code": "BAD_REQUEST", "message": f"rpc_timeout: seconds must be a number of seconds from 0 to {MAX}"},
    )  # fmt: skip
    with pytest.raises(ValueError, match=f"^seconds must be a number of seconds from 0 to {MAX}, or a"):
        emqx_server.faults.delay("GET /nodes", 1e308)
    with pytest.raises(ValueError, match=f"^duration must be a number of seconds from 0 to {MAX}$"):
        emqx_server.faults.node_down("emqx@127.0.0.1", duration=1e300)
    assert list(emqx_server.faults) == []
    assert get(emqx_server, "/nodes").status_code == 200
    assert emqx_server.broker.nodes["emqx@127.0.0.1"].status == "running"
    assert emqx_server.errors == []


def test_ids_start_again_at_1_after_a_reset(emqx_server: EmqxServer) -> None:
    """The README's `curl -X DELETE localhost:18083/_mock/faults/1` after a `POST /_mock/reset`."""
    for _ in range(2):
        emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE")
        emqx_server.stub("GET /rules", json=[])
    assert requests.post(f"{emqx_server.url}/_mock/reset", timeout=10).status_code == 204
    fault = requests.post(f"{emqx_server.url}/_mock/faults", json={"delay": "GET /clients", "seconds": 0}, timeout=10).json()
    stub = requests.post(f"{emqx_server.url}/_mock/stubs", json={"request": "GET /rules", "json": []}, timeout=10).json()
    assert (fault["id"], stub["id"]) == (1, 1)
    assert requests.delete(f"{emqx_server.url}/_mock/faults/1", timeout=10).status_code == 204
    assert requests.delete(f"{emqx_server.url}/_mock/stubs/1", timeout=10).status_code == 204
    assert (list(emqx_server.faults), list(emqx_server.stubs)) == ([], [])
    # clearing is not a reset: the ids go on
    emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE")
    emqx_server.faults.clear()
    assert emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE").id == 3


def test_a_misspelt_scope_from_python_is_named_as_a_description_s_is(emqx_server: EmqxServer) -> None:
    with pytest.raises(ValueError, match=r"^tims: unknown field \(did you mean times\?\)$"):
        emqx_server.faults.error("GET /clients", 503, "SERVICE_UNAVAILABLE", tims=1)
    with pytest.raises(ValueError, match=r"^expcet: unknown field \(did you mean expect\?\)$"):
        emqx_server.stub("GET /rules", json=[], expcet=True)
    assert list(emqx_server.faults) == [] and list(emqx_server.stubs) == []
