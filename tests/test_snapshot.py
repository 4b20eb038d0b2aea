"""Snapshots: the whole state as a document, restored exactly (the same snapshot, the same
API answers), independent of later changes, and saved to a file atomically."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import requests
from api import delete, get, post, put

from pytest_emqx_mock import EmqxServer

N1, N2 = "emqx@n1", "emqx@n2"


def _build_state(server: EmqxServer) -> str:
    """A state touching every part of the model, made through the API and from Python;
    returns a dashboard token issued in it."""
    server.add_client(
        "sensor-1", node=N1, username="alice", client_attrs={"site": "north"},
        subscriptions=["sensors/+/temp", {"topic": "alerts/#", "qos": 1, "rap": 1}],
    )  # fmt: skip
    server.add_client(
        "sensor-2", node=N2, connected=False,
        subscriptions=[{"topic": "alerts/#", "qos": 2}],
        mqueue=[{"topic": "alerts/old", "payload": b"\x00\xff", "qos": 1, "priority": 5}],
    )  # fmt: skip
    server.add_client("worker-a", node=N2, subscriptions=[{"topic": "$share/workers/jobs/#", "qos": 1}])
    server.client("sensor-1").authz_cache.append(
        {"access": {"action_type": "publish", "qos": 1, "retain": False}, "result": "allow", "topic": "t/1", "updated_time": 1717000000123}
    )
    assert post(server, "/publish", {"topic": "alerts/fire", "payload": "evacuate", "qos": 2, "properties": {"user_properties": {"a": "b"}}}).status_code == 200
    assert post(server, "/publish", {"topic": "sensors/7/temp", "payload": "21.5"}).status_code == 200
    assert post(server, "/publish", {"topic": "jobs/1", "payload": "run", "qos": 1}).status_code == 200
    assert post(server, "/publish", {"topic": "config/site", "payload": "v1", "retain": True}).status_code == 202  # no subscribers
    assert post(server, "/banned", {"as": "username", "who": "mallory", "reason": "abuse", "until": "2099-01-01T00:00:00+00:00"}).status_code == 200
    assert put(server, "/mqtt/retainer", {"max_payload_size": "2MB"}).status_code == 200
    server.add_alarm("high_cpu_usage", node=N2, message="CPU is high", details={"usage": 93})
    token = server.login()
    bearer = {"Authorization": f"Bearer {token}"}
    assert post(server, "/api_key", {"name": "ci", "desc": "pipeline", "enable": True}, auth=None, headers=bearer).status_code == 200
    assert post(server, "/users", {"username": "operator", "password": "operator123", "description": "ops"}, auth=None, headers=bearer).status_code == 200
    return token


PATHS = [
    "/clients", "/clients/sensor-1", "/clients/sensor-2", "/clients/sensor-1/subscriptions",
    "/clients/sensor-1/inflight_messages", "/clients/sensor-2/mqueue_messages", "/clients/sensor-1/authorization/cache",
    "/subscriptions", "/topics", "/mqtt/retainer", "/mqtt/retainer/messages", "/banned", "/metrics",
    "/nodes/emqx@n1/metrics",
]  # fmt: skip


def _answers(server: EmqxServer, token: str) -> dict[str, Any]:
    """What the API answers about the state (a node's uptime and an alarm's duration aside:
    they are the clock's)."""
    bearer = {"Authorization": f"Bearer {token}"}
    answers: dict[str, Any] = {path: get(server, path).json() for path in PATHS}
    answers.update({path: get(server, path, auth=None, headers=bearer).json() for path in ("/api_key", "/users")})
    answers["/nodes"] = [{k: v for k, v in node.items() if k != "uptime"} for node in get(server, "/nodes").json()]
    answers["/alarms"] = [{k: v for k, v in alarm.items() if k != "duration"} for alarm in get(server, "/alarms").json()["data"]]
    return answers


def test_restore_returns_to_the_snapshot_exactly(cluster: EmqxServer) -> None:
    token = _build_state(cluster)
    saved = cluster.snapshot()
    assert json.loads(json.dumps(saved)) == saved  # JSON-able as it is
    before = _answers(cluster, token)

    delete(cluster, "/clients/sensor-1")
    post(cluster, "/publish", {"topic": "alerts/again", "payload": "x", "qos": 1})
    delete(cluster, "/banned/username/mallory")
    delete(cluster, "/mqtt/retainer/messages")
    put(cluster, "/mqtt/retainer", {"enable": False})
    cluster.add_client("newcomer")
    cluster.add_api_key("later")
    cluster.set_node_status(N2, "stopped")
    assert _answers(cluster, token) != before

    cluster.restore(saved)
    assert cluster.snapshot() == saved
    assert _answers(cluster, token) == before  # the token of the saved state works again

    # and the restored state lives on: a publish reaches the restored subscribers
    published = cluster.publish("alerts/later", "x", qos=1)
    assert (published.matched, published.delivered) == (2, 2)
    assert get(cluster, "/clients/sensor-2").json()["mqueue_len"] == 3


def test_a_snapshot_shares_nothing_with_the_state(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", subscriptions=["t/#"], client_attrs={"k": "v"})
    emqx_server.publish("t/1", "x", qos=1, properties={"user_properties": {"a": "b"}})
    saved = emqx_server.snapshot()
    kept = copy.deepcopy(saved)
    emqx_server.publish("t/2", "y")
    emqx_server.client("c1").client_attrs["k"] = "changed"
    emqx_server.client("c1").subscribe("more")
    emqx_server.broker.retained.raw_config["enable"] = False
    assert saved == kept
    current = emqx_server.snapshot()
    current_kept = copy.deepcopy(current)
    current["clients"][0]["subscriptions"].append("x/y")
    current["clients"][0]["client_attrs"]["k"] = "edited"
    current["retainer"]["enable"] = True
    assert emqx_server.snapshot() == current_kept


@pytest.mark.parametrize("name", ["state.json", "state.yaml"])
def test_saved_state_loads_back_exactly(cluster: EmqxServer, tmp_path: Path, name: str) -> None:
    _build_state(cluster)
    path = tmp_path / name
    cluster.save_state(path)
    saved = cluster.snapshot()
    cluster.reset()
    cluster.load_scenario(path)
    assert cluster.snapshot() == saved
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind


def test_save_state_is_atomic(emqx_server: EmqxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    emqx_server.add_client("c1")
    emqx_server.save_state(path)
    written = path.read_bytes()
    assert json.loads(written)["clients"][0]["clientid"] == "c1"

    # a state that cannot be serialised: nothing is written
    emqx_server.add_client("c2", mqueue=[{"topic": "t", "payload": "p", "properties": {"not json": {1, 2}}}])
    with pytest.raises(TypeError):
        emqx_server.save_state(path)
    assert path.read_bytes() == written

    # a failure once the new file is written: the old one stays, the new one goes
    emqx_server.expire("c2")

    def failing_replace(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        emqx_server.save_state(path)
    assert path.read_bytes() == written
    assert os.listdir(tmp_path) == ["state.json"]


def test_snapshot_keeps_what_only_a_history_makes(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", mqueue_max=2, connected=False, subscriptions=[{"topic": "t", "qos": 1}])
    for index in range(4):
        emqx_server.publish("t", f"m{index}", qos=2)  # delivered at QoS 1; two dropped
    session = emqx_server.client("c1")
    session.awaiting_rel_cnt = 3
    saved = emqx_server.snapshot()
    (client,) = saved["clients"]
    assert [(m["payload"], m["qos"], m["delivered_qos"]) for m in client["mqueue"]] == [("m2", 2, 1), ("m3", 2, 1)]
    assert (client["mqueue_dropped"], client["awaiting_rel_cnt"]) == (2, 3)
    positions = [entry.inserted_at_ns for entry in session.mqueue]
    emqx_server.reset()
    emqx_server.restore(saved)
    restored = get(emqx_server, "/clients/c1/mqueue_messages", {"payload": "plain"}).json()["data"]
    assert [(m["payload"], m["qos"], m["inserted_at"]) for m in restored] == [("m2", 1, str(positions[0])), ("m3", 1, str(positions[1]))]
    row = get(emqx_server, "/clients/c1").json()
    assert (row["mqueue_dropped"], row["awaiting_rel_cnt"], row["send_msg.dropped.queue_full"]) == (2, 3, 2)


def test_restore_through_the_stored_password_form(emqx_server: EmqxServer) -> None:
    emqx_server.add_user("operator", "operator123")
    saved = emqx_server.snapshot()
    assert {"password", "password_hash", "salt"} & set(saved["users"][1]) == {"password_hash", "salt"}
    emqx_server.reset()
    emqx_server.restore(saved)
    response = requests.post(emqx_server.api_url + "/login", json={"username": "operator", "password": "operator123"})
    assert response.status_code == 200


def test_a_saved_state_file_has_the_mode_any_new_file_has_and_a_replaced_one_keeps_its_own(
    emqx_server: EmqxServer, tmp_path: Path
) -> None:
    umask = os.umask(0o022)
    try:
        emqx_server.save_state(tmp_path / "state.json")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "state.json").stat().st_mode) == 0o644  # not mkstemp's private 0600
    (tmp_path / "state.json").chmod(0o640)
    emqx_server.save_state(tmp_path / "state.json")
    assert stat.S_IMODE((tmp_path / "state.json").stat().st_mode) == 0o640
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
