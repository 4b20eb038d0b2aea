"""The control API (`/_mock`): the handle's seeding, faults, journal, snapshot and reset over
HTTP, without credentials, outside the journal and the faults."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from api import get, post
from test_cli import _Running

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.scripting.control import SEEDING

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def control(server: EmqxServer, method: str, path: str, body: Any = None, **options: Any) -> requests.Response:
    """A control API call: `path` under /_mock, `body` sent as JSON, no credentials."""
    if body is not None:
        options["json"] = body
    return requests.request(method, server.control_url + path, timeout=30, **options)


def state(server: EmqxServer) -> tuple[Any, ...]:
    """Everything a control request could change, read through the Python API."""
    return server.snapshot(), [str(fault) for fault in server.faults], len(server.journal), len(server.published)


# -- the index and reset ---------------------------------------------------------------------


def test_the_index_lists_every_endpoint(emqx_server: EmqxServer) -> None:
    response = control(emqx_server, "GET", "")
    assert response.status_code == 200
    index = response.json()
    assert [(endpoint["method"], endpoint["path"]) for endpoint in index["endpoints"]] == [
        ("GET", "/_mock"),
        ("POST", "/_mock/reset"),
        ("POST", "/_mock/seed/{kind}"),
        ("GET", "/_mock/clients/{clientid}"),
        ("GET", "/_mock/faults"),
        ("POST", "/_mock/faults"),
        ("DELETE", "/_mock/faults"),
        ("DELETE", "/_mock/faults/{fault_id}"),
        ("GET", "/_mock/stubs"),
        ("POST", "/_mock/stubs"),
        ("DELETE", "/_mock/stubs"),
        ("DELETE", "/_mock/stubs/{stub_id}"),
        ("GET", "/_mock/journal"),
        ("DELETE", "/_mock/journal"),
        ("POST", "/_mock/journal/verify"),
        ("GET", "/_mock/snapshot"),
        ("PUT", "/_mock/snapshot"),
        ("POST", "/_mock/scenario"),
    ]
    assert index["endpoints"][1]["description"] == "Back to the initial state: no clients, no faults, no stubs, an empty journal."
    assert {name: kind["method"] for name, kind in index["seed_kinds"].items()} == SEEDING
    assert emqx_server.control_url == emqx_server.url + "/_mock"


def test_reset_returns_to_the_initial_state(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.add_api_key("ci")
    emqx_server.faults.add({"delay": "GET /nodes", "seconds": 0})
    get(emqx_server, "/clients")
    response = control(emqx_server, "POST", "/reset")
    assert (response.status_code, response.content) == (204, b"")
    assert len(emqx_server.broker.sessions) == 0
    assert [key.name for key in emqx_server.broker.api_keys if key.name == "ci"] == []
    assert (list(emqx_server.faults), emqx_server.journal.entries()) == ([], [])
    assert get(emqx_server, "/clients").json()["meta"]["count"] == 0  # the ready key still works


# -- seeding ---------------------------------------------------------------------------------


def test_a_seeded_client_is_answered_as_the_emqx_api_shows_it(emqx_server: EmqxServer) -> None:
    response = control(emqx_server, "POST", "/seed/clients", {"clientid": "meter-7", "username": "meter", "proto_ver": 4, "subscriptions": ["m/#"]})
    assert response.status_code == 200
    assert response.json() == get(emqx_server, "/clients/meter-7").json()
    session = emqx_server.client("meter-7")
    assert (session.username, session.proto_ver, list(session.subscriptions)) == ("meter", 4, ["m/#"])
    assert control(emqx_server, "GET", "/clients/meter-7").json() == response.json()


def test_a_list_seeds_each_and_count_seeds_many(emqx_server: EmqxServer) -> None:
    listed = control(emqx_server, "POST", "/seed/clients", [{"clientid": "a"}, {"clientid": "b", "connected": False}])
    assert listed.status_code == 200
    assert [(row["clientid"], row["connected"]) for row in listed.json()] == [("a", True), ("b", False)]
    many = control(emqx_server, "POST", "/seed/clients", {"count": 5, "username": "fleet"})
    assert many.status_code == 200
    rows = many.json()
    assert [row["username"] for row in rows] == ["fleet"] * 5
    assert len({row["clientid"] for row in rows}) == 5
    assert get(emqx_server, "/clients").json()["meta"]["count"] == 7


def test_a_client_id_with_a_slash(emqx_server: EmqxServer) -> None:
    control(emqx_server, "POST", "/seed/clients", {"clientid": "site/7"})
    response = control(emqx_server, "GET", "/clients/site%2F7")
    assert (response.status_code, response.json()["clientid"]) == (200, "site/7")


def test_seeding_api_keys_and_users(emqx_server: EmqxServer) -> None:
    key = control(emqx_server, "POST", "/seed/api_keys", {"name": "ci", "api_secret": "ci-secret", "desc": "pipeline"})
    assert key.status_code == 200
    assert key.json()["api_secret"] == "ci-secret"
    assert get(emqx_server, "/clients", auth=(key.json()["api_key"], "ci-secret")).status_code == 200
    bearer = {"Authorization": f"Bearer {emqx_server.login()}"}
    shown = get(emqx_server, "/api_key/ci", auth=None, headers=bearer).json()
    assert {**shown, "api_secret": "ci-secret"} == key.json()

    user = control(emqx_server, "POST", "/seed/users", {"username": "ops", "password": "Ops-pass-1", "description": "on call"})
    assert (user.status_code, user.json()) == (200, {"username": "ops", "description": "on call"})
    assert post(emqx_server, "/login", {"username": "ops", "password": "Ops-pass-1"}, auth=None).status_code == 200


def test_seeding_retained_messages_bans_and_alarms(emqx_server: EmqxServer) -> None:
    retained = control(emqx_server, "POST", "/seed/retained", {"topic": "alerts/1", "payload": "hot", "qos": 1})
    assert retained.status_code == 200
    assert retained.json() == get(emqx_server, "/mqtt/retainer/message/alerts%2F1").json()
    assert base64.b64decode(retained.json()["payload"]) == b"hot"

    ban = control(emqx_server, "POST", "/seed/bans", {"as": "clientid", "who": "rogue", "reason": "spam"})
    assert ban.status_code == 200
    assert get(emqx_server, "/banned").json()["data"] == [ban.json()]
    refused = control(emqx_server, "POST", "/seed/connect", {"clientid": "rogue"})
    assert refused.json() == {"code": "BAD_REQUEST", "message": "client 'rogue' is banned (clientid 'rogue')"}

    alarm = control(emqx_server, "POST", "/seed/alarms", {"name": "high_cpu", "message": "CPU 93%"})
    assert alarm.status_code == 200
    (listed,) = get(emqx_server, "/alarms").json()["data"]
    assert {**alarm.json(), "duration": 0} == {**listed, "duration": 0}  # the duration grows


def test_seeding_what_clients_do(emqx_server: EmqxServer) -> None:
    connected = control(emqx_server, "POST", "/seed/connect", {"clientid": "s1", "expiry_interval": 60, "subscriptions": ["t/#"]})
    assert (connected.status_code, connected.json()["connected"]) == (200, True)
    published = control(emqx_server, "POST", "/seed/publish", {"topic": "t/1", "payload": "x", "qos": 1})
    assert published.status_code == 200
    assert {key: published.json()[key] for key in ("matched", "delivered", "failed")} == {"matched": 1, "delivered": 1, "failed": 0}
    assert published.json()["message"]["topic"] == "t/1"
    assert emqx_server.published[-1].message.msgid == published.json()["message"]["msgid"]

    disconnected = control(emqx_server, "POST", "/seed/disconnect", {"clientid": "s1"})
    assert (disconnected.status_code, disconnected.json()["connected"]) == (200, False)
    expired = control(emqx_server, "POST", "/seed/expire", {"clientid": "s1"})
    assert (expired.status_code, expired.content) == (204, b"")
    assert get(emqx_server, "/clients/s1").status_code == 404


def test_seeding_a_node_status(cluster: EmqxServer) -> None:
    response = control(cluster, "POST", "/seed/node_status", {"node": "emqx@n2", "status": "stopped"})
    assert (response.status_code, response.json()) == (200, {"node": "emqx@n2", "node_status": "stopped", "role": "core"})
    assert [node["node_status"] for node in get(cluster, "/nodes").json()] == ["running", "stopped"]


def test_the_nodes_of_a_loaded_scenario_are_the_ones_seeded_and_faulted(emqx_server: EmqxServer) -> None:
    control(emqx_server, "POST", "/scenario", {"nodes": ["emqx@a", "emqx@b"]})
    stopped = control(emqx_server, "POST", "/seed/node_status", {"node": "emqx@b", "status": "stopped"})
    assert (stopped.status_code, stopped.json()["node_status"]) == (200, "stopped")
    control(emqx_server, "POST", "/seed/node_status", {"node": "emqx@b", "status": "running"})
    down = control(emqx_server, "POST", "/faults", {"node_down": "emqx@b"})
    assert (down.status_code, down.json()["fault"]) == (200, "node emqx@b down")
    assert emqx_server.broker.nodes["emqx@b"].status == "stopped"


def test_a_seeded_list_is_seen_whole(emqx_server: EmqxServer) -> None:
    fleet = [{"clientid": f"c{number:03}"} for number in range(300)]
    seeding = threading.Thread(target=control, args=(emqx_server, "POST", "/seed/clients", fleet))
    seen = set()
    seeding.start()
    while seeding.is_alive():
        seen.add(get(emqx_server, "/clients", {"limit": 1}).json()["meta"]["count"])
    seeding.join()
    assert seen <= {0, 300}
    assert get(emqx_server, "/clients", {"limit": 1}).json()["meta"]["count"] == 300


# -- faults ----------------------------------------------------------------------------------


def test_faults_are_set_listed_and_removed(emqx_server: EmqxServer) -> None:
    assert control(emqx_server, "GET", "/faults").json() == []
    unavailable = control(emqx_server, "POST", "/faults", {"error": "GET /clients", "status": 503, "code": "SERVICE_UNAVAILABLE", "times": 1})
    assert unavailable.status_code == 200
    first = unavailable.json()["id"]
    assert unavailable.json() == {"id": first, "fault": "503 SERVICE_UNAVAILABLE on GET /clients", "triggered": 0, "remaining": 1}
    assert get(emqx_server, "/clients").json() == {"code": "SERVICE_UNAVAILABLE", "message": "Service unavailable"}
    assert get(emqx_server, "/clients").status_code == 200

    more = control(emqx_server, "POST", "/faults", [{"delay": "/publish", "seconds": 0}, {"transport": {"method": "GET", "path_regex": "^/api/v5/nodes"}, "kind": "reset"}])
    assert [fault["fault"] for fault in more.json()] == ["delay 0 s on * /publish", "connection reset on GET ^/api/v5/nodes"]
    listed = control(emqx_server, "GET", "/faults").json()
    assert [(fault["id"], fault["triggered"], fault["remaining"]) for fault in listed] == [
        (first, 1, 0),
        (more.json()[0]["id"], 0, None),
        (more.json()[1]["id"], 0, None),
    ]
    removed = control(emqx_server, "DELETE", f"/faults/{first}")
    assert (removed.status_code, removed.content) == (204, b"")
    assert [str(fault) for fault in emqx_server.faults] == ["delay 0 s on * /publish", "connection reset on GET ^/api/v5/nodes"]
    with pytest.raises(requests.ConnectionError):
        get(emqx_server, "/nodes")
    assert control(emqx_server, "DELETE", "/faults").status_code == 204
    assert list(emqx_server.faults) == []
    assert get(emqx_server, "/nodes").status_code == 200


def test_a_cluster_fault_over_http(cluster: EmqxServer) -> None:
    down = control(cluster, "POST", "/faults", {"node_down": "emqx@n2"})
    assert (down.status_code, down.json()["fault"]) == (200, "node emqx@n2 down")
    assert [node["node_status"] for node in get(cluster, "/nodes").json()] == ["running", "stopped"]
    control(cluster, "DELETE", f"/faults/{down.json()['id']}")
    assert [node["node_status"] for node in get(cluster, "/nodes").json()] == ["running", "running"]


# -- the journal -----------------------------------------------------------------------------


def _some_requests(server: EmqxServer) -> None:
    server.add_client("c1")
    get(server, "/clients", {"limit": 10})
    get(server, "/clients/c1")
    post(server, "/publish", {"topic": "t/1", "payload": "hi"})


def test_the_journal_lists_filters_and_clears(emqx_server: EmqxServer) -> None:
    _some_requests(emqx_server)
    entries = control(emqx_server, "GET", "/journal").json()
    assert [(e["method"], e["path"], e["query"], e["status"], e["operation"]) for e in entries] == [
        ("GET", "/api/v5/clients", {"limit": ["10"]}, 200, "GET /clients"),
        ("GET", "/api/v5/clients/c1", {}, 200, "GET /clients/{clientid}"),
        ("POST", "/api/v5/publish", {}, 202, "POST /publish"),
    ]
    published = entries[2]
    assert sorted(published) == ["body", "credential", "fault", "headers", "method", "operation", "path", "query", "response", "status", "stub"]
    assert (published["body"], published["credential"], published["fault"]) == ({"topic": "t/1", "payload": "hi"}, "api_key:pytest-emqx-mock", None)
    assert published["response"] == {"reason_code": 16, "message": "no_matching_subscribers"}
    assert published["headers"]["Content-Type"] == "application/json"

    one = control(emqx_server, "GET", "/journal", params={"request": "GET /clients/{clientid}"}).json()
    assert [entry["path"] for entry in one] == ["/api/v5/clients/c1"]
    assert control(emqx_server, "GET", "/journal", params={"credential": "token:admin"}).json() == []
    assert len(control(emqx_server, "GET", "/journal", params={"credential": "api_key:pytest-emqx-mock"}).json()) == 3

    cleared = control(emqx_server, "DELETE", "/journal")
    assert (cleared.status_code, cleared.content) == (204, b"")
    assert emqx_server.journal.entries() == []


@pytest.mark.parametrize(
    "verification, paths",
    [
        ({"request": "GET /clients/{clientid}", "times": 1}, ["/api/v5/clients/c1"]),
        ({"request": "/clients", "at_least": 1, "at_most": 2, "query": {"limit": 10}}, ["/api/v5/clients"]),
        ({"request": {"method": "GET", "path_regex": "^/api/v5/clients"}, "times": 2}, ["/api/v5/clients", "/api/v5/clients/c1"]),
        ({"request": "POST /publish", "body": {"topic": "t/1"}, "credential": "api_key:pytest-emqx-mock"}, ["/api/v5/publish"]),
        ({"request": "DELETE /clients/{clientid}", "never": True}, []),
    ],
)
def test_a_verification_that_holds_answers_the_matching_requests(emqx_server: EmqxServer, verification: dict[str, Any], paths: list[str]) -> None:
    _some_requests(emqx_server)
    response = control(emqx_server, "POST", "/journal/verify", verification)
    assert response.status_code == 200
    assert [entry["path"] for entry in response.json()] == paths


def test_a_verification_that_fails_gives_the_python_assertions_message(emqx_server: EmqxServer) -> None:
    _some_requests(emqx_server)
    response = control(emqx_server, "POST", "/journal/verify", {"request": "GET /clients/{clientid}", "times": 2})
    with pytest.raises(AssertionError) as python:
        emqx_server.journal.assert_called("GET /clients/{clientid}", times=2)
    assert (response.status_code, response.json()) == (409, {"code": "VERIFICATION_FAILED", "message": str(python.value)})
    assert response.json()["message"].startswith("expected GET /clients/{clientid} exactly 2 times, but it was called once.\n")


def test_a_verification_of_order(emqx_server: EmqxServer) -> None:
    _some_requests(emqx_server)
    holds = control(emqx_server, "POST", "/journal/verify", {"in_order": ["GET /clients", "POST /publish"]})
    assert (holds.status_code, holds.content) == (204, b"")
    fails = control(emqx_server, "POST", "/journal/verify", {"in_order": ["POST /publish", "GET /clients/{clientid}"]})
    assert fails.status_code == 409
    assert fails.json()["message"].startswith(
        "expected the order POST /publish -> GET /clients/{clientid}, but found no GET /clients/{clientid} after POST /publish.\n"
    )


# -- snapshots and scenarios -----------------------------------------------------------------


def test_a_snapshot_restores_the_state(emqx_server: EmqxServer) -> None:
    control(emqx_server, "POST", "/seed/clients", {"clientid": "keep-me", "subscriptions": ["k/#"]})
    control(emqx_server, "POST", "/seed/api_keys", {"name": "ci", "api_secret": "ci-secret"})
    taken = control(emqx_server, "GET", "/snapshot")
    assert taken.status_code == 200
    assert taken.json() == emqx_server.snapshot()
    row = get(emqx_server, "/clients/keep-me").json()
    control(emqx_server, "POST", "/reset")
    assert get(emqx_server, "/clients/keep-me").status_code == 404

    restored = control(emqx_server, "PUT", "/snapshot", taken.json())
    assert (restored.status_code, restored.content) == (204, b"")
    assert get(emqx_server, "/clients/keep-me").json() == row
    assert [key.name for key in emqx_server.broker.api_keys if key.name == "ci"] == ["ci"]


def test_a_scenario_in_json_or_yaml(emqx_server: EmqxServer) -> None:
    as_json = control(emqx_server, "POST", "/scenario", {"clients": [{"clientid": "j1"}], "faults": [{"delay": "GET /nodes", "seconds": 0}]})
    assert (as_json.status_code, as_json.content) == (204, b"")
    assert [session.clientid for session in emqx_server.broker.sessions] == ["j1"]
    assert [str(fault) for fault in emqx_server.faults] == ["delay 0 s on GET /nodes"]

    scenario = "clients:\n  - clientid: y1\n    username: yaml\n  - clientid: y2\n"
    as_yaml = control(emqx_server, "POST", "/scenario", data=scenario, headers={"content-type": "application/yaml"})
    assert (as_yaml.status_code, as_yaml.content) == (204, b"")
    assert sorted(session.clientid for session in emqx_server.broker.sessions) == ["y1", "y2"]  # the state is replaced
    assert emqx_server.client("y1").username == "yaml"


# -- bad input -------------------------------------------------------------------------------


def _bad(message: str, status: int = 400) -> tuple[int, dict[str, str]]:
    code = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}[status]
    return status, {"code": code, "message": message}


SEED_KINDS = (
    "clients, api_keys, users, retained, bans, alarms, publish, connect, disconnect, expire, node_status, "
    "authenticators, authn_users, authz_sources, authz_settings, authz_rules, subscribe, apps, "
    "auth_mnesia_users, auth_mnesia_acl, auth_mnesia_password_hash, deployments, platform_keys"
)

BAD_INPUT = {
    # seeding
    "json cut short": ("POST", "/seed/clients", {"data": b'{"clientid":'}, _bad("the body is not valid JSON: Expecting value: line 1 column 13 (char 12)")),
    "NaN": ("POST", "/seed/clients", {"data": b'{"port": NaN}'}, _bad("the body is not valid JSON: NaN is not JSON")),
    "no body": ("POST", "/seed/clients", {}, _bad("a body is required")),
    "empty list": ("POST", "/seed/clients", {"json": []}, _bad("the body must be keyword arguments (an object), or a list of them")),
    "not objects": ("POST", "/seed/clients", {"json": [{"clientid": "a"}, 5]}, _bad("item 1: keyword arguments must be an object")),
    "one not an object": ("POST", "/seed/clients", {"json": [5]}, _bad("the body must be keyword arguments (an object), or a list of them")),
    "unknown field": ("POST", "/seed/clients", {"json": {"clientid": "a", "usrname": 1}}, _bad("usrname: unknown field (did you mean username?)")),
    "wrong type": ("POST", "/seed/clients", {"json": {"clientid": "a", "port": "x"}}, _bad('port: must be an integer from 0 to 65535, not "x"')),
    "wrong clientid": ("POST", "/seed/clients", {"json": {"clientid": 5}}, _bad("clientid: must be a non-empty string, not 5")),
    "a bad item": (
        "POST",
        "/seed/clients",
        {"json": [{"clientid": "a"}, {"clientid": "b", "proto_ver": "5"}]},
        _bad('item 1: proto_ver: must be 3, 4 or 5, not "5"'),
    ),
    "count of text": ("POST", "/seed/clients", {"json": {"count": "5"}}, _bad('count: must be an integer >= 0, not "5"')),
    "a key twice": ("POST", "/seed/api_keys", {"json": [{"name": "new"}, {"name": "new"}]}, _bad("item 1: name: name_already_existed")),
    "a key that exists": ("POST", "/seed/api_keys", {"json": [{"name": "new"}, {"name": "k1"}]}, _bad("item 1: name: name_already_existed")),
    "a weak password": ("POST", "/seed/users", {"json": {"username": "ops", "password": "short"}}, _bad("password: The range of password length is 8~64")),
    "a wildcard topic": ("POST", "/seed/retained", {"json": {"topic": "a/+", "payload": "x"}}, _bad('topic: must be a topic name, not "a/+" (topic_name_error)')),
    "a ban kind": (
        "POST",
        "/seed/bans",
        {"json": {"as": "nope", "who": "x"}},
        _bad('as: must be "clientid", "username", "peerhost", "clientid_re", "username_re" or "peerhost_net", not "nope"'),
    ),
    "alarm details": ("POST", "/seed/alarms", {"json": {"name": "a", "details": "x"}}, _bad('details: must be an object, not "x"')),
    "a QoS": ("POST", "/seed/publish", {"json": {"topic": "t", "payload": "x", "qos": 7}}, _bad("qos: must be 0, 1 or 2, not 7")),
    "a banned client": ("POST", "/seed/connect", {"json": {"clientid": "evil"}}, _bad("client 'evil' is banned (clientid 'evil')")),
    "no such client": ("POST", "/seed/disconnect", {"json": {"clientid": "ghost"}}, _bad("Client ID not found", 404)),
    "no such client in a list": ("POST", "/seed/expire", {"json": [{"clientid": "c1"}, {"clientid": "ghost"}]}, _bad("item 1: Client ID not found", 404)),
    "no such node": ("POST", "/seed/node_status", {"json": {"node": "emqx@nowhere", "status": "stopped"}}, _bad("Node not found: emqx@nowhere", 404)),
    "no such status": (
        "POST",
        "/seed/node_status",
        {"json": {"node": "emqx@127.0.0.1", "status": "asleep"}},
        _bad('status: must be "running" or "stopped", not "asleep"'),
    ),
    "no such kind": ("POST", "/seed/nope", {"json": {}}, _bad(f"no seeding kind 'nope'; one of {SEED_KINDS}", 404)),
    "no such client to show": ("GET", "/clients/ghost", {}, _bad("Client ID not found", 404)),
    # faults
    "a fault without its code": ("POST", "/faults", {"json": {"error": "GET /clients", "status": 503}}, _bad("error: missing a required argument: 'code'")),
    "a bad fault in a list": (
        "POST",
        "/faults",
        {"json": [{"delay": "/publish", "seconds": 1}, {"transport": "GET /nodes", "kind": "sideways"}]},
        _bad("item 1: transport: transport fault must be one of ('reset', 'empty', 'malformed', 'garbage'), not 'sideways'"),
    ),
    "a node that is not there": ("POST", "/faults", {"json": {"node_down": "emqx@nowhere"}}, _bad("node_down: Node not found: emqx@nowhere")),
    "a fault that is not an object": ("POST", "/faults", {"json": [{"delay": "/publish", "seconds": 1}, "GET /nodes"]}, _bad("item 1: a fault description must be an object")),
    "a misspelt fault field": ("POST", "/faults", {"json": {"error": "GET /clients", "status": 503, "cdoe": "X"}}, _bad("error: cdoe: unknown field (did you mean code?)")),
    "no such fault": ("DELETE", "/faults/99999", {}, _bad("no fault 99999", 404)),
    "a fault id of text": ("DELETE", "/faults/first", {}, _bad("no control endpoint /_mock/faults/first; GET /_mock lists them", 404)),
    # the journal
    "a journal filter": ("GET", "/journal", {"params": {"method": "GET"}}, _bad("unknown query parameter method")),
    "a verification list": ("POST", "/journal/verify", {"json": []}, _bad("a verification must be an object")),
    "no request": ("POST", "/journal/verify", {"json": {"times": 1}}, _bad("request is required: the request to look for")),
    "times of text": ("POST", "/journal/verify", {"json": {"request": "GET /clients", "times": "2"}}, _bad("times must be an integer >= 0")),
    "negative": ("POST", "/journal/verify", {"json": {"request": "GET /clients", "at_least": -1}}, _bad("at_least must be an integer >= 0")),
    "never of text": ("POST", "/journal/verify", {"json": {"request": "GET /clients", "never": "yes"}}, _bad("never must be true or false")),
    "times and never": (
        "POST",
        "/journal/verify",
        {"json": {"request": "GET /clients", "times": 1, "never": True}},
        _bad("times, never and at_least/at_most exclude each other"),
    ),
    "a verification field": ("POST", "/journal/verify", {"json": {"request": "GET /clients", "twice": True}}, _bad("unknown field twice")),
    "a request of a number": ("POST", "/journal/verify", {"json": {"request": 5}}, _bad('a request is "METHOD /path", a path, or a pattern')),
    "a bad pattern": (
        "POST",
        "/journal/verify",
        {"json": {"request": {"path_regex": "("}}},
        _bad("path_regex: missing ), unterminated subpattern at position 0"),
    ),
    "a query list": ("POST", "/journal/verify", {"json": {"request": "GET /clients", "query": ["limit"]}}, _bad("query must be an object")),
    "an order of text": ("POST", "/journal/verify", {"json": {"in_order": "GET /clients"}}, _bad("in_order must be a list of requests")),
    "an order and times": ("POST", "/journal/verify", {"json": {"in_order": ["GET /clients"], "times": 1}}, _bad("in_order goes alone")),
    # snapshots and scenarios
    "a snapshot list": ("PUT", "/snapshot", {"json": [1]}, _bad("a snapshot must be an object")),
    "a snapshot field": ("PUT", "/snapshot", {"json": {"clients": [{"clientid": 5}]}}, _bad("<scenario>: clients[0].clientid: must be a non-empty string, not 5")),
    "a scenario of YAML": (
        "POST",
        "/scenario",
        {"data": b"clients: [", "headers": {"content-type": "application/yaml"}},
        _bad(
            "the body is not valid YAML: while parsing a flow node\nexpected the node content, but found '<stream end>'\n"
            '  in "<byte string>", line 1, column 11:\n    clients: [\n              ^'
        ),
    ),
    "a scenario list": ("POST", "/scenario", {"data": b"- a\n", "headers": {"content-type": "text/yaml"}}, _bad("a scenario must be an object")),
    "a scenario field": ("POST", "/scenario", {"json": {"clients": [{"clientid": "a", "port": "x"}]}}, _bad('<scenario>: clients[0].port: must be an integer from 0 to 65535, not "x"')),
    # paths and methods
    "no such endpoint": ("GET", "/nope", {}, _bad("no control endpoint /_mock/nope; GET /_mock lists them", 404)),
    "a doubled slash": ("POST", "//reset", {}, _bad("no control endpoint /_mock//reset; GET /_mock lists them", 404)),
    "a wrong method": ("PUT", "/faults", {}, _bad("PUT /_mock/faults: allowed DELETE, GET, HEAD, POST", 405)),
}


@pytest.mark.parametrize("method, path, options, answer", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_refused_and_changes_nothing(
    emqx_server: EmqxServer, method: str, path: str, options: dict[str, Any], answer: tuple[int, dict[str, str]]
) -> None:
    emqx_server.add_client("c1", expiry_interval=60)
    emqx_server.add_ban("clientid", "evil")
    emqx_server.add_api_key("k1")
    emqx_server.faults.add({"delay": "GET /nodes", "seconds": 0})
    get(emqx_server, "/clients")
    before = state(emqx_server)
    response = control(emqx_server, method, path, **options)
    assert (response.status_code, response.json()) == answer
    assert state(emqx_server) == before
    if response.status_code == 405:
        assert response.headers["allow"] == "DELETE, GET, HEAD, POST"


# -- what the control API is not -------------------------------------------------------------


def test_control_requests_are_not_journaled_and_meet_no_faults(emqx_server: EmqxServer) -> None:
    control(emqx_server, "POST", "/faults", {"error": {"path_regex": ""}, "status": 503, "code": "SERVICE_UNAVAILABLE"})
    assert control(emqx_server, "POST", "/seed/clients", {"clientid": "c1"}).status_code == 200
    assert control(emqx_server, "GET", "/journal").json() == []
    assert control(emqx_server, "GET", "/snapshot").status_code == 200
    assert emqx_server.journal.entries() == []
    assert get(emqx_server, "/clients").status_code == 503  # EMQX requests meet the fault


def test_paths_beside_the_prefix_are_emqx_paths(emqx_server: EmqxServer) -> None:
    response = requests.get(emqx_server.url + "/_mockery", headers={"Accept": "application/json"}, timeout=30)
    assert (response.status_code, response.json()) == (404, {"code": "NOT_FOUND", "message": "Request Path Not Found"})
    assert [entry.path for entry in emqx_server.unmatched_requests()] == ["/_mockery"]
    emqx_server.journal.clear()  # a test of the unmatched path: no warning of it


def test_a_server_without_the_control_api_answers_its_404() -> None:
    with EmqxServer(control_api=False) as server:
        response = requests.post(server.url + "/_mock/reset", headers={"Accept": "application/json"}, timeout=30)
        assert (response.status_code, response.json()) == (404, {"code": "NOT_FOUND", "message": "Request Path Not Found"})
        assert [entry.path for entry in server.unmatched_requests()] == ["/_mock/reset"]
        with pytest.raises(RuntimeError, match="started without the control API"):
            server.control_url  # noqa: B018


# -- the command -----------------------------------------------------------------------------


def _base_url(running: _Running) -> str:
    listening = re.search(r"listening on (http://127\.0\.0\.1:[1-9][0-9]*)$", "\n".join(running.banner), flags=re.M)
    assert listening is not None, running.banner
    return listening.group(1)


def test_the_command_is_driven_over_http_alone() -> None:
    running = _Running("--port", "0")  # the OS picks the port: no race with other workers
    try:
        base = _base_url(running)
        mock, emqx, auth = base + "/_mock", base + "/api/v5", ("pytest-emqx-mock", "pytest-emqx-mock-secret")
        assert f"  Control API:     {mock}  (no credentials)" in running.banner

        seeded = requests.post(mock + "/seed/clients", json={"clientid": "sensor-1", "username": "sensor"}, timeout=30)
        assert (seeded.status_code, seeded.json()["clientid"]) == (200, "sensor-1")
        fault = {"error": "GET /clients/{clientid}", "status": 503, "code": "SERVICE_UNAVAILABLE", "times": 1}
        assert requests.post(mock + "/faults", json=fault, timeout=30).status_code == 200

        first = requests.get(emqx + "/clients/sensor-1", auth=auth, timeout=30)
        assert (first.status_code, first.json()) == (503, {"code": "SERVICE_UNAVAILABLE", "message": "Service unavailable"})
        second = requests.get(emqx + "/clients/sensor-1", auth=auth, timeout=30)
        assert (second.status_code, second.json()["username"]) == (200, "sensor")

        holds = requests.post(mock + "/journal/verify", json={"request": "GET /clients/{clientid}", "times": 2}, timeout=30)
        assert [entry["status"] for entry in holds.json()] == [503, 200]
        fails = requests.post(mock + "/journal/verify", json={"request": "GET /clients/{clientid}", "never": True}, timeout=30)
        assert fails.status_code == 409

        snapshot = requests.get(mock + "/snapshot", timeout=30).json()
        assert requests.post(mock + "/reset", timeout=30).status_code == 204
        assert requests.get(emqx + "/clients/sensor-1", auth=auth, timeout=30).status_code == 404
        assert requests.put(mock + "/snapshot", json=snapshot, timeout=30).status_code == 204
        assert requests.get(emqx + "/clients/sensor-1", auth=auth, timeout=30).json() == second.json()
    finally:
        code, out, _ = running.stop()
    assert code == 0
    assert "/_mock" not in out.replace(mock, "")  # quiet: no access log


def test_the_command_without_the_control_api() -> None:
    running = _Running("--port", "0", "--no-control-api")
    try:
        assert not any("Control API" in line for line in running.banner)
        response = requests.get(_base_url(running) + "/_mock", headers={"Accept": "application/json"}, timeout=30)
        assert (response.status_code, response.json()) == (404, {"code": "NOT_FOUND", "message": "Request Path Not Found"})
    finally:
        assert running.stop()[0] == 0


def _readme_examples() -> list[str]:
    """The shell blocks of the README's control API section; the last is the complete session."""
    section = README.split("## The control API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def _run_with_curl(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` against a fresh `emqx-mock`, for the README's port; curl writes each
    answer's status to stderr."""
    running = _Running("--port", "0")
    try:
        port = _base_url(running).rsplit(":", 1)[1]
        curl = 'curl() { command curl -sS -w "%{stderr}%{http_code}\\n" "$@"; echo; }\n'
        return subprocess.run(["bash", "-c", "set -e\n" + curl + script.replace("18083", port)], cwd=cwd, capture_output=True, text=True, timeout=60)
    finally:
        running.stop()


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")


@needs_curl
def test_the_readme_session_runs(tmp_path: Path) -> None:
    result = _run_with_curl(_readme_examples()[-1], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.split() == ["204", "200", "200", "503", "200", "200", "200", "204", "204", "200"]
    answers = [line for line in result.stdout.splitlines() if line]
    assert answers[2] == '{"code":"SERVICE_UNAVAILABLE","message":"Service unavailable"}'
    assert '"clientid":"sensor-1"' in answers[3]
    assert [entry["status"] for entry in json.loads(answers[4])] == [503, 200]  # the verification holds
    last = json.loads(answers[-1])
    assert (last["clientid"], last["username"]) == ("sensor-1", "sensor")  # restored


@needs_curl
def test_every_readme_example_is_answered(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text("clients:\n  - clientid: from-a-file\n")
    examples = _readme_examples()[:-1]
    result = _run_with_curl("\n".join(examples), tmp_path)
    assert result.returncode == 0, result.stderr
    statuses = result.stderr.split()
    assert len(statuses) == sum(line.startswith("curl ") for block in examples for line in block.splitlines())
    assert set(statuses) <= {"200", "204", "409"}  # 409: verifications of requests this run did not make


def test_authentication_and_authorization_are_seeded_over_http(emqx_server: EmqxServer) -> None:
    url = emqx_server.control_url
    authenticator = requests.post(f"{url}/seed/authenticators", json={"password_hash_algorithm": {"name": "plain", "salt_position": "disable"}}, timeout=30)
    assert authenticator.status_code == 200 and authenticator.json()["id"] == "password_based:built_in_database"
    user = requests.post(f"{url}/seed/authn_users", json={"user_id": "u1", "password": "secret", "is_superuser": True}, timeout=30)
    assert (user.status_code, user.json()) == (200, {"user_id": "u1", "is_superuser": True})
    bad = requests.post(f"{url}/seed/authn_users", json={"user_id": "u2", "password": "p", "colour": "red"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_REQUEST"
    assert [u.user_id for u in emqx_server.broker.authn.authenticators[0].users.values()] == ["u1"]
    source = requests.post(f"{url}/seed/authz_sources", json={"type": "built_in_database"}, timeout=30)
    assert (source.status_code, source.json()) == (200, {"enable": True, "max_rules": 100, "type": "built_in_database"})
    rules = requests.post(f"{url}/seed/authz_rules", json={"clientid": "c1", "rules": [{"topic": "t/#", "permission": "deny", "action": "subscribe"}]}, timeout=30)
    assert rules.status_code == 204
    emqx_server.add_client("c1")
    decision = requests.post(f"{url}/seed/subscribe", json={"clientid": "c1", "topic": "t/1"}, timeout=30)
    assert (decision.status_code, decision.json()) == (200, {"result": "deny", "from_cache": False})
    assert emqx_server.client("c1").subscriptions == {}
