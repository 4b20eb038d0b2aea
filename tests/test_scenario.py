"""Scenario files: the shipped examples load and serve, bad files are refused with the file
and the field named and load nothing, and loading replaces the state (keeping the config's
credentials), in Python and from the marker."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import requests
from api import get, post

from pytest_emqx_mock import EmqxServer, ScenarioError
from pytest_emqx_mock.scripting.scenario import PACKAGED


def _ids(response: requests.Response) -> list[str]:
    return [row["clientid"] for row in response.json()["data"]]


# -- the shipped examples -------------------------------------------------------------------------


def test_small_fleet_loads_and_serves(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario("small-fleet")  # a packaged scenario, by its name
    clients = get(emqx_server, "/clients", {"limit": 100})
    assert clients.json()["meta"] == {"page": 1, "limit": 100, "count": 14, "hasnext": False}
    assert _ids(clients) == [
        "thermostat-lobby", "thermostat-floor2", "thermostat-floor1", "telemetry-recorder",
        "occupancy-lobby", "occupancy-floor2", "occupancy-floor1", "lock-main-entrance",
        "lock-loading-dock", "lights-controller-b", "lights-controller-a", "bms-backend",
        "airq-lobby", "airq-floor1",
    ]  # fmt: skip
    lobby = get(emqx_server, "/clients/thermostat-lobby").json()
    assert {key: lobby[key] for key in ("username", "ip_address", "port", "proto_ver", "keepalive", "connected", "created_at", "subscriptions_cnt")} == {
        "username": "thermostat", "ip_address": "10.20.1.11", "port": 51011, "proto_ver": 5, "keepalive": 30,
        "connected": True, "created_at": "2025-03-01T08:00:00.000+00:00", "subscriptions_cnt": 1,
    }  # fmt: skip
    away = get(emqx_server, "/clients/airq-floor1").json()
    assert (away["connected"], away["clean_start"], away["expiry_interval"], away["disconnected_at"]) == (
        False, False, 86400, "2025-03-01T09:15:00.000+00:00",
    )  # fmt: skip
    subscriptions = get(emqx_server, "/subscriptions", {"clientid": "lock-main-entrance"}).json()["data"]
    assert sorted((row["topic"], row["qos"]) for row in subscriptions) == [("building/doors/main-entrance/cmd", 2), ("fleet/firmware", 0)]
    assert get(emqx_server, "/subscriptions").json()["meta"]["count"] == 14
    retained = get(emqx_server, "/mqtt/retainer/messages").json()["data"]
    assert [(m["topic"], m["qos"], m["from_clientid"], m["publish_at"]) for m in retained] == [
        ("fleet/firmware", 1, "bms-backend", "2025-03-01T07:59:10.000+00:00")
    ]
    assert get(emqx_server, "/banned").json()["data"] == [
        {"as": "clientid", "who": "thermostat-floor3", "by": "facilities", "reason": "decommissioned; its certificate was not revoked",
         "at": "2025-02-20T10:00:00+00:00", "until": "infinity"}
    ]  # fmt: skip
    # the scenario's API key works beside the ready one
    key = next(key for key in emqx_server.broker.api_keys if key.name == "bms-integration")
    assert get(emqx_server, "/clients", auth=(key.api_key, "bms-integration-secret")).status_code == 200
    # and the fleet is live: occupancy reaches the backend and the recorder
    assert post(emqx_server, "/publish", {"topic": "building/floor1/occupancy", "payload": "3"}).status_code == 200
    assert emqx_server.published[-1].matched == 2


def test_failing_cluster_loads_and_serves(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(PACKAGED / "failing-cluster.json")
    nodes = get(emqx_server, "/nodes").json()
    assert [(node["node"], node["node_status"], node["role"]) for node in nodes] == [
        ("emqx@node1.example.com", "running", "core"),
        ("emqx@node2.example.com", "running", "replicant"),
        ("emqx@node3.example.com", "stopped", "core"),
    ]
    # node3 is down (the scenario's fault): its clients are out of the cluster-wide lists
    assert _ids(get(emqx_server, "/clients")) == ["meter-0002", "meter-0001", "billing-ingest", "meter-0004", "meter-0003"]
    alarms = get(emqx_server, "/alarms").json()["data"]
    assert [(alarm["name"], alarm["node"], alarm["message"]) for alarm in alarms] == [
        ("high_system_memory_usage", "emqx@node2.example.com", "System memory usage is higher than 70%")
    ]
    assert [str(fault) for fault in emqx_server.faults] == ["node emqx@node3.example.com down"]
    emqx_server.faults.clear()  # node3 comes back with its clients
    assert get(emqx_server, "/nodes").json()[2]["node_status"] == "running"
    assert get(emqx_server, "/clients").json()["meta"]["count"] == 8


def test_offline_queues_load_and_serve(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(PACKAGED / "offline-queues.yaml")
    queued = get(emqx_server, "/clients/truck-17/mqueue_messages", {"payload": "plain"}).json()["data"]
    assert [(m["payload"], m["qos"], m["mqueue_priority"], m["from_clientid"]) for m in queued] == [
        ('{"cmd": "stop-engine"}', 1, 10, "dispatcher"),  # the higher priority first
        ('{"cmd": "lock-cargo"}', 1, 0, "dispatcher"),
        ("road closed on A7", 0, 0, "dispatcher"),
    ]
    inflight = get(emqx_server, "/clients/truck-17/inflight_messages", {"payload": "plain"}).json()["data"]
    assert [(m["payload"], m["qos"], m["publish_at"]) for m in inflight] == [('{"cmd": "route", "to": "depot-4"}', 1, 1740821398000)]
    truck = get(emqx_server, "/clients/truck-23").json()
    assert {key: truck[key] for key in ("connected", "mqueue_len", "mqueue_max", "mqueue_dropped", "expiry_interval")} == {
        "connected": False, "mqueue_len": 2, "mqueue_max": 2, "mqueue_dropped": 3, "expiry_interval": 604800,
    }  # fmt: skip
    van = get(emqx_server, "/clients/van-05/inflight_messages").json()["data"]
    assert [m["qos"] for m in van] == [2]
    # a new command joins the offline truck's queue
    post(emqx_server, "/publish", {"topic": "vehicles/truck-17/cmd", "payload": "hold", "qos": 1})
    assert get(emqx_server, "/clients/truck-17").json()["mqueue_len"] == 4


# -- what loading does ---------------------------------------------------------------------------


def test_loading_replaces_the_state_and_keeps_the_config_credentials(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("before")
    emqx_server.publish("t", "x")
    emqx_server.load_scenario({"clients": [{"clientid": "after"}]})
    assert _ids(get(emqx_server, "/clients")) == ["after"]
    assert emqx_server.published == []
    assert get(emqx_server, "/clients").status_code == 200  # the ready API key stays
    assert emqx_server.login("admin", "public")  # and the default dashboard user
    emqx_server.reset()  # back to the server's own initial state, not the scenario's
    assert get(emqx_server, "/clients").json()["data"] == []


def test_a_scenario_may_list_the_config_key_and_user(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(
        {
            "api_keys": [{"name": "ci", "api_key": emqx_server.api_key, "api_secret": "rotated-secret"}],
            "users": [{"username": "admin", "password": "public2"}],  # the default user: no password policy
        }
    )
    assert get(emqx_server, "/clients").status_code == 401
    assert get(emqx_server, "/clients", auth=(emqx_server.api_key, "rotated-secret")).status_code == 200
    assert [key.name for key in emqx_server.broker.api_keys] == ["ci"]
    with pytest.raises(ValueError):
        emqx_server.login("admin", "public")
    assert emqx_server.login("admin", "public2")
    emqx_server.reset()
    assert get(emqx_server, "/clients").status_code == 200


def test_a_scenario_may_describe_another_cluster(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(
        {
            "nodes": ["emqx@a.local", "emqx@b.local", {"name": "emqx@c.local", "status": "stopped"}],
            "clients": [{"clientid": "on-b", "node": "emqx@b.local", "subscriptions": ["t/#"]}],
        }
    )
    assert [node["node"] for node in get(emqx_server, "/nodes").json()] == ["emqx@a.local", "emqx@b.local", "emqx@c.local"]
    assert emqx_server.add_client("seeded").node == "emqx@a.local"  # the scenario's first node
    assert emqx_server.publish("t/1", "x").delivered == 1
    emqx_server.reset()
    assert [node["node"] for node in get(emqx_server, "/nodes").json()] == ["emqx@127.0.0.1"]


def test_a_loaded_state_is_wired_to_the_broker(emqx_server: EmqxServer) -> None:
    """Deliveries the sessions take later (publishes go through filter logs) still count in
    the broker's metrics, read after read."""
    emqx_server.load_scenario({"clients": [{"clientid": "c1", "subscriptions": ["t"]}]})
    for delivered in (1, 2, 3):
        emqx_server.publish("t", "x")
        assert get(emqx_server, "/metrics").json()[0]["messages.delivered"] == delivered
    assert emqx_server.client("c1").stats["send_msg"] == 3


def test_scenario_faults_are_set_after_the_state_and_faults_set_before_stay(emqx_server: EmqxServer) -> None:
    emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE")
    emqx_server.load_scenario(
        {"clients": ["c1"], "faults": [{"error": "GET /clients", "status": 500, "code": "INTERNAL_ERROR", "times": 1}]}
    )
    assert get(emqx_server, "/nodes").status_code == 503
    assert get(emqx_server, "/clients").status_code == 500
    assert _ids(get(emqx_server, "/clients")) == ["c1"]


def test_hand_written_defaults_and_message_forms(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(
        {
            "clients": [
                {
                    "subscriptions": [{"topic": "cmd/+", "qos": 1}],
                    "mqueue": ["plain text", {"payload": "AP8=", "payload_encoding": "base64", "priority": "infinity"}],
                }
            ]
        }
    )
    (session,) = emqx_server.broker.sessions
    assert session.clientid and session.username and session.ip_address  # realistic defaults
    assert [(entry.message.topic, entry.message.payload, entry.priority) for entry in session.mqueue] == [
        ("cmd/x", b"\x00\xff", "infinity"),  # a topic its subscription matches
        ("cmd/x", b"plain text", 0),
    ]


# -- bad files ----------------------------------------------------------------------------------

BAD_FILES = [
    ("syntax.yaml", "clients:\n  - clientid: a\n   username: b\n", "line 3, column 4: did not find expected '-' indicator"),
    ("syntax.json", '{"clients": [}', "line 1, column 14: Expecting value"),
    ("top.yaml", "- a\n", "must be an object of sections (version, emqx_version, flavour, deployment, nodes, retainer, retained, bans, authentication, authorization, api_keys, apps, auth_mnesia, platform_keys, deployments, users, tokens, alarms, clients, metrics, stubs, faults), not a list"),
    ("type.yaml", "clients:\n  thermostat: 1\n", "clients: must be a list, not an object"),
    ("typo.yaml", "clients:\n  - {clientid: a, usrname: b}\n", "clients[0].usrname: unknown field (did you mean username?)"),
    ("section.yaml", "client: []\n", "client: unknown field (did you mean clients?)"),
    ("topic.yaml", "clients:\n  - {clientid: a, subscriptions: [a/#/b]}\n", 'clients[0].subscriptions[0]: must be a topic filter, not "a/#/b" (topic_invalid_#)'),
    (
        "qos.yaml",
        "clients:\n  - clientid: a\n  - clientid: b\n  - clientid: c\n  - clientid: d\n    subscriptions:\n      - {topic: t, qos: 7}\n",
        "clients[3].subscriptions[0].qos: must be 0, 1 or 2, not 7",
    ),
    ("fault.yaml", "clients: [{clientid: a}]\nfaults:\n  - {explode: GET /clients}\n", "faults[0]: a fault names exactly one of error, respond, delay, transport, node_down, rpc_timeout"),
    ("fault-args.json", '{"faults": [{"error": "GET /clients", "status": 503}]}', "faults[0]: error: missing a required argument: 'code'"),
    ("node.yaml", "clients: [{clientid: a, node: emqx@elsewhere}]\n", 'clients[0].node: must be "emqx@127.0.0.1", not "emqx@elsewhere"'),
    ("twice.yaml", "clients: [{clientid: a}, {clientid: a}]\n", 'clients[1].clientid: "a" is listed twice (first at clients[0])'),
    ("version.yaml", "version: 2\n", "version: must be 1, not 2"),
    ("time.yaml", "clients: [{clientid: a, created_at: yesterday}]\n", 'clients[0].created_at: must be an RFC 3339 date-time or an epoch time (seconds, or milliseconds from 1e11 up), not "yesterday"'),
    ("full.yaml", "clients: [{clientid: a, mqueue_max: 1, mqueue: [x, y]}]\n", "clients[0].mqueue: holds at most mqueue_max=1 messages, not 2"),
    ("base64.yaml", "clients: [{clientid: a, mqueue: [{payload: '!!', payload_encoding: base64}]}]\n", 'clients[0].mqueue[0].payload: must be base64 (with payload_encoding base64), not "!!"'),
    ("nolocal.yaml", "clients: [{clientid: a, subscriptions: [{topic: $share/g/t, nl: 1}]}]\n", "clients[0].subscriptions[0].nl: Invalid Subscribe options: `no_local` not allowed for shared-sub. See [MQTT-3.8.3-4]"),
    ("password.yaml", "users: [{username: op, password: short}]\n", "users[0].password: The range of password length is 8~64"),
    ("role.yaml", "api_keys: [{name: k, role: viewer}]\n", 'api_keys[0].role: must be "administrator" (edition ce), not "viewer"'),
    ("ban.yaml", "bans: [{as: peerhost, who: 300.1.1.1}]\n", 'bans[0].who: cannot be parsed as a peerhost: "bad peerhost"'),
    ("retained.yaml", "retained: [{topic: a/+, payload: x}]\n", 'retained[0].topic: must be a topic name, not "a/+" (topic_name_error)'),
    ("nodes.yaml", "nodes: []\n", "nodes: a cluster needs at least one node"),
    ("stats.yaml", "clients: [{clientid: a, stats: {recv_cnt: -1}}]\n", "clients[0].stats.recv_cnt: must be an integer >= 0, not -1"),
    ("empty.yaml", "", "must be an object of sections (version, emqx_version, flavour, deployment, nodes, retainer, retained, bans, authentication, authorization, api_keys, apps, auth_mnesia, platform_keys, deployments, users, tokens, alarms, clients, metrics, stubs, faults), not null"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "problem"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_names_file_and_field_and_loads_nothing(emqx_server: EmqxServer, tmp_path: Path, name: str, text: str, problem: str) -> None:
    emqx_server.add_client("kept", subscriptions=["t/#"])
    emqx_server.faults.error("GET /nodes", 503, "SERVICE_UNAVAILABLE")
    before = emqx_server.snapshot()
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as raised:
        emqx_server.load_scenario(path)
    assert str(raised.value) == f"{path}: {problem}"
    assert emqx_server.snapshot() == before
    assert [str(fault) for fault in emqx_server.faults] == ["503 SERVICE_UNAVAILABLE on GET /nodes"]


def test_an_unreadable_file_and_a_dict(emqx_server: EmqxServer, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"^.*missing\.yaml: cannot read the file: No such file or directory$"):
        emqx_server.load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match=r"^.*fleet\.txt: a scenario file is \.json, \.yaml or \.yml$"):
        emqx_server.load_scenario(tmp_path / "fleet.txt")
    with pytest.raises(ScenarioError) as raised:
        emqx_server.load_scenario({"clients": [{"clientid": 7}]})
    assert str(raised.value) == "<scenario>: clients[0].clientid: must be a non-empty string, not 7"
    assert (raised.value.source, raised.value.path) == ("<scenario>", "clients[0].clientid")


def test_a_document_given_is_not_changed(emqx_server: EmqxServer) -> None:
    document: dict[str, Any] = {"clients": [{"clientid": "c1", "client_attrs": {"site": "x"}, "subscriptions": ["t"]}]}
    kept = copy.deepcopy(document)
    emqx_server.load_scenario(document)
    emqx_server.client("c1").client_attrs["site"] = "changed"
    assert document == kept


# -- the marker -----------------------------------------------------------------------------------


def test_the_marker_loads_a_scenario_before_its_other_options(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")  # the rootdir: scenario paths are relative to it
    scenarios = pytester.mkdir("scenarios")
    (scenarios / "fleet.yaml").write_text("clients:\n  - {clientid: from-file, subscriptions: [t/1]}\n")
    (scenarios / "broken.yaml").write_text("clients:\n  - {clientid: a, usrname: b}\n")
    tests = pytester.mkdir("tests")
    (tests / "test_marked.py").write_text(
        """
import pytest


@pytest.mark.emqx(scenario="scenarios/fleet.yaml", clients=["seeded-after"])
def test_from_a_file(emqx_server):
    assert sorted(session.clientid for session in emqx_server.broker.sessions) == ["from-file", "seeded-after"]


@pytest.mark.emqx(scenario={"clients": [{"clientid": "from-a-dict"}]})
def test_from_a_dict(emqx_server):
    assert [session.clientid for session in emqx_server.broker.sessions] == ["from-a-dict"]


@pytest.mark.emqx(scenario="scenarios/broken.yaml")
def test_broken(emqx_server):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ScenarioError: *scenarios/broken.yaml: clients[[]0[]].usrname: unknown field (did you mean username?)"])


def test_marker_scenario_paths_are_found_beside_the_test_then_in_the_rootdir_then_packaged(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "fleet.yaml").write_text("clients: [{clientid: from-the-rootdir}]\n")
    (pytester.path / "scenarios" / "yard.yaml").write_text("clients: [{clientid: yard-from-the-rootdir}]\n")
    tests = pytester.mkdir("tests")
    (tests / "scenarios").mkdir()
    (tests / "scenarios" / "fleet.yaml").write_text("clients: [{clientid: beside-the-test}]\n")
    (tests / "test_found.py").write_text(
        """
import pytest


def ids(server):
    return sorted(session.clientid for session in server.broker.sessions)


@pytest.mark.emqx(scenario="scenarios/fleet.yaml")
def test_beside_the_test_first(emqx_server):
    assert ids(emqx_server) == ["beside-the-test"]


@pytest.mark.emqx(scenario="scenarios/yard.yaml")
def test_then_the_rootdir(emqx_server):
    assert ids(emqx_server) == ["yard-from-the-rootdir"]


@pytest.mark.emqx(scenario="small-fleet")
def test_then_a_packaged_name(emqx_server):
    assert len(ids(emqx_server)) == 14


@pytest.mark.emqx(scenario="scenarios/depot.yaml")
def test_none_of_these(emqx_server):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    result.assert_outcomes(passed=3, errors=1)
    tried = f"{tests / 'scenarios/depot.yaml'}, {pytester.path / 'scenarios/depot.yaml'}"
    result.stdout.fnmatch_lines(
        [f"*ScenarioError: scenarios/depot.yaml: no such file (tried {tried}), nor a packaged scenario (failing-cluster, offline-queues, small-fleet)"]
    )


def test_a_missing_scenario_names_each_place_tried_once(tmp_path: Path) -> None:
    from pytest_emqx_mock.scripting.scenario.files import locate

    with pytest.raises(ScenarioError) as refused:
        locate("depot.yaml", [tmp_path, tmp_path])  # the test's folder is the rootdir
    assert str(refused.value) == (
        f"depot.yaml: no such file (tried {tmp_path / 'depot.yaml'}), nor a packaged scenario (failing-cluster, offline-queues, small-fleet)"
    )


# -- the doors a scenario is for (`flavour`, `deployment`) ---------------------------------------

V4_FLEET = {"flavour": "v4", "clients": [{"clientid": "old-meter", "username": "m"}]}


def test_a_scenario_for_doors_the_server_does_not_serve_is_refused_and_loads_nothing(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("kept")
    with pytest.raises(ScenarioError) as refused:
        emqx_server.load_scenario(V4_FLEET)
    assert str(refused.value) == (
        "<scenario>: flavour: the scenario is for v4, and this server serves v5: start one with its doors "
        "(EmqxServer(flavour=...), the marker's flavour=, emqx-mock --flavour)"
    )
    assert [session.clientid for session in emqx_server.broker.sessions] == ["kept"]


def test_a_scenario_loads_where_its_doors_are_served_among_others() -> None:
    with EmqxServer(flavour=["v5", "v4"]) as server:
        server.load_scenario(V4_FLEET)
        listed = requests.get(server.url + "/api/v4/clients/old-meter", auth=("admin", "public"), timeout=30).json()
        assert [client["clientid"] for client in listed["data"]] == ["old-meter"]
        assert "flavour" not in server.snapshot()  # doors are not state
    with EmqxServer(flavour="cloud-v5", deployment="serverless", app=("id", "secret")) as serverless:
        with pytest.raises(ScenarioError, match=r"for cloud-v5, and this server serves cloud-v5 \(serverless\)"):
            serverless.load_scenario({"flavour": ["cloud-v5"]})  # a dedicated deployment's
        serverless.load_scenario({"flavour": "cloud-v5", "deployment": "serverless"})
        assert serverless.serves("cloud-v5", "serverless") and not serverless.serves(["v5"])


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"flavour": "v3"}, "flavour: no flavour 'v3': one of v5, v4, cloud-v4, cloud-v5, platform"),
        ({"flavour": ["v4", "v4"]}, "flavour: name each flavour once (of v5, v4, cloud-v4, cloud-v5, platform), not ['v4', 'v4']"),
        ({"flavour": 4}, "flavour: must be a flavour (v5, v4, cloud-v4, cloud-v5, platform) or a list of them, not 4"),
        ({"flavour": "v5", "deployment": "serverless"}, "deployment: is a cloud-v5 deployment's kind: name cloud-v5 in flavour"),
        ({"deployment": "serverless"}, "deployment: needs a flavour: cloud-v5 beside it"),
        ({"flavour": "cloud-v5", "deployment": "shared"}, "deployment: must be \"dedicated\" or \"serverless\", not \"shared\""),
    ],
)
def test_a_bad_flavour_key_names_the_field(emqx_server: EmqxServer, document: dict[str, Any], problem: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        emqx_server.load_scenario(document)
    assert str(refused.value) == f"<scenario>: {problem}"


def test_the_marker_starts_a_server_with_the_scenario_s_doors(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makefile(".yaml", v4_fleet="flavour: v4\nclients:\n  - {clientid: old-meter}\n")
    pytester.makefile(".yaml", both="flavour: [v5, v4]\nclients:\n  - {clientid: c1}\n")
    pytester.makepyfile(
        """
        import pytest
        import requests

        @pytest.mark.emqx(scenario="v4_fleet.yaml")
        def test_picks_v4(emqx_server):
            assert emqx_server.door_names() == ["v4"]
            clients = requests.get(emqx_server.url + "/api/v4/clients", auth=("admin", "public")).json()
            assert [c["clientid"] for c in clients["data"]] == ["old-meter"]

        @pytest.mark.emqx(scenario="v4_fleet.yaml")
        def test_the_session_server_where_it_serves_them(emqx_server, emqx_session_server):
            assert emqx_server is emqx_session_server

        @pytest.mark.emqx(scenario="both.yaml")
        def test_picks_both(emqx_server):
            assert emqx_server.door_names() == ["v5", "v4"]

        @pytest.mark.emqx(scenario="v4_fleet.yaml", flavour="v5")
        def test_doors_given_beside_it_must_serve_it(emqx_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "not session_server")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ScenarioError: *v4_fleet.yaml: flavour: the scenario is for v4, and this server serves v5*"])
    session = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "emqx_flavour=v5,v4", "-k", "session_server")
    session.assert_outcomes(passed=1)
