"""One seeding vocabulary, checked once: the handle's seeding methods, the `emqx` marker,
scenario files and `POST /_mock/seed/<kind>` take the same fields through the same checks,
refuse a bad field with the same words, and change nothing when they refuse."""

from __future__ import annotations

import datetime
import inspect
import re
from typing import Any

import pytest
import requests
from api import get, ok

from pytest_emqx_mock import EmqxServer, ScenarioError, SeedError
from pytest_emqx_mock.state import vocabulary
from pytest_emqx_mock.state.broker import BrokerConfig
from pytest_emqx_mock.state.registry import SEEDINGS

TYPO = "usrname: unknown field (did you mean username?)"


def seed(server: EmqxServer, kind: str, body: Any) -> requests.Response:
    return requests.post(f"{server.control_url}/seed/{kind}", json=body, timeout=30)


def everything(server: EmqxServer) -> tuple[Any, ...]:
    """The state and the records a seeding call could change."""
    return server.snapshot(), [(p.message.topic, p.message.payload) for p in server.published]


# -- the same typo, the same words, at every entry point -----------------------------------------


def test_the_python_method_refuses_a_typo_by_name(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    with pytest.raises(SeedError) as refused:
        emqx_server.add_client("c1", usrname="meter")  # type: ignore[call-arg]
    assert (str(refused.value), refused.value.path) == (TYPO, "usrname")
    with pytest.raises(SeedError, match=re.escape(TYPO)):
        emqx_server.add_clients(3, usrname="meter")  # type: ignore[call-arg]
    with pytest.raises(SeedError, match=re.escape(TYPO)):
        emqx_server.connect("c1", usrname="meter")  # type: ignore[call-arg]
    assert everything(emqx_server) == before


def test_a_scenario_refuses_the_same_typo_in_the_same_words(emqx_server: EmqxServer) -> None:
    with pytest.raises(ScenarioError) as refused:
        emqx_server.load_scenario({"clients": [{"clientid": "c1", "usrname": "meter"}]})
    assert str(refused.value) == f"<scenario>: clients[0].{TYPO}"


def test_the_control_api_refuses_the_same_typo_in_the_same_words(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    one = seed(emqx_server, "clients", {"clientid": "c1", "usrname": "meter"})
    assert (one.status_code, one.json()) == (400, {"code": "BAD_REQUEST", "message": TYPO})
    listed = seed(emqx_server, "clients", [{"clientid": "c1"}, {"clientid": "c2", "usrname": "meter"}])
    assert (listed.status_code, listed.json()) == (400, {"code": "BAD_REQUEST", "message": f"item 1: {TYPO}"})
    assert everything(emqx_server) == before


def test_the_marker_refuses_the_same_typo_in_the_same_words(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.emqx(clients=["c0", {"clientid": "c1", "usrname": "meter"}])
        def test_typo(emqx_server):
            pass

        @pytest.mark.emqx(edition="ee", users=[{"username": "ops", "password": "Ops-pass-1", "role": "publisher"}])
        def test_role(emqx_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([f"*UsageError: @pytest.mark.emqx clients[[]1[]].{TYPO}"])
    result.stdout.fnmatch_lines(['*UsageError: @pytest.mark.emqx users[[]0[]].role: must be "administrator" or "viewer" (edition ee), not "publisher"'])


def test_the_marker_takes_keyword_options_only(pytester: pytest.Pytester) -> None:
    """A positional argument would be ignored, and the test run on an empty fake."""
    pytester.makepyfile(
        test_fleet="""
        import pytest

        @pytest.mark.emqx("small-fleet")
        def test_positional(emqx_server):
            pass

        @pytest.mark.emqx("ee", nodes=["emqx@n1"])
        class TestGroup:
            def test_in_a_class(self, emqx_server):
                pass

        @pytest.mark.emqx(scenario="small-fleet")
        def test_by_keyword(emqx_server):
            assert emqx_server.client("thermostat-lobby").connected

        @pytest.mark.emqx(clients=[{"count": 2, "username": "meter"}])  # the control API's vocabulary
        def test_a_count(emqx_server):
            assert [session.username for session in emqx_server.broker.sessions] == ["meter", "meter"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*UsageError: test_fleet.py::test_positional: @pytest.mark.emqx takes keyword options only (such as scenario=...), not 'small-fleet'",
            "*UsageError: test_fleet.py::TestGroup::test_in_a_class: @pytest.mark.emqx takes keyword options only (such as scenario=...), not 'ee'",
        ]
    )


# -- bans in EMQX's words, roles as the edition has them, counters where they live -----------------

BAN_FIELDS = "as, who, by, reason, at, until"
BAN_KINDS = '"clientid", "username", "peerhost", "clientid_re", "username_re" or "peerhost_net"'


def test_a_ban_is_seeded_by_emqx_s_as_in_every_data_form(emqx_server: EmqxServer) -> None:
    answer = seed(emqx_server, "bans", {"as": "clientid", "who": "z"})
    assert answer.status_code == 200
    emqx_server.add_ban("username", "y")  # `kind` from Python: `as` is a Python keyword
    emqx_server.load_scenario({**emqx_server.snapshot(), "bans": [*emqx_server.snapshot()["bans"], {"as": "peerhost", "who": "10.0.0.9"}]})
    listed = ok(get(emqx_server, "/banned"))["data"]
    assert [(ban["as"], ban["who"]) for ban in listed] == [("clientid", "z"), ("username", "y"), ("peerhost", "10.0.0.9")]
    assert answer.json() == listed[0]
    assert [(ban["as"], ban["who"]) for ban in emqx_server.snapshot()["bans"]] == [("clientid", "z"), ("username", "y"), ("peerhost", "10.0.0.9")]


def test_a_ban_s_kind_is_named_as_at_every_entry_point(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    unknown = f"kind: unknown field (one of: {BAN_FIELDS})"
    answer = seed(emqx_server, "bans", {"kind": "clientid", "who": "z"})
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": unknown})
    with pytest.raises(ScenarioError) as loaded:
        emqx_server.load_scenario({"bans": [{"kind": "clientid", "who": "z"}]})
    assert str(loaded.value) == f"<scenario>: bans[0].{unknown}"
    wrong = f'as: must be {BAN_KINDS}, not "nope"'
    with pytest.raises(SeedError) as refused:
        emqx_server.add_ban("nope", "z")
    assert str(refused.value) == wrong
    answer = seed(emqx_server, "bans", {"as": "nope", "who": "z"})
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": wrong})
    with pytest.raises(ScenarioError) as loaded:
        emqx_server.load_scenario({"bans": [{"as": "nope", "who": "z"}]})
    assert str(loaded.value) == f"<scenario>: bans[0].{wrong}"
    assert everything(emqx_server) == before


@pytest.mark.parametrize(
    ("edition", "kind", "fields", "message"),
    [
        ("ce", "api_keys", {"name": "k", "role": "viewer"}, 'role: must be "administrator" (edition ce), not "viewer"'),
        ("ee", "api_keys", {"name": "k", "role": "viewr"}, 'role: must be "administrator", "viewer" or "publisher" (edition ee), not "viewr"'),
        ("ce", "users", {"username": "ops", "password": "Ops-pass-1", "role": "viewer"}, 'role: must be "administrator" (edition ce), not "viewer"'),
        ("ee", "users", {"username": "ops", "password": "Ops-pass-1", "role": "publisher"}, 'role: must be "administrator" or "viewer" (edition ee), not "publisher"'),
    ],
)
def test_a_role_the_edition_lacks_is_refused_in_the_same_words_everywhere(
    request: pytest.FixtureRequest, edition: str, kind: str, fields: dict[str, Any], message: str
) -> None:
    server: EmqxServer = request.getfixturevalue("emqx_server" if edition == "ce" else "ee")
    before = everything(server)
    with pytest.raises(SeedError) as refused:
        getattr(server, SEEDINGS[kind].method)(**fields)
    assert str(refused.value) == message
    answer = seed(server, kind, fields)
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": message})
    with pytest.raises(ScenarioError) as loaded:
        server.load_scenario({kind: [fields]})
    assert str(loaded.value) == f"<scenario>: {kind}[0].{message}"
    assert everything(server) == before


def test_the_roles_an_edition_has_are_seeded(ee: EmqxServer) -> None:
    ee.add_api_key("reader", role="viewer")
    answer = seed(ee, "users", {"username": "ops", "password": "Ops-pass-1", "role": "viewer"})
    assert answer.status_code == 200
    assert [(key.name, key.role) for key in ee.broker.api_keys if key.name == "reader"] == [("reader", "viewer")]
    assert ee.broker.users.get("ops").role == "viewer"


def test_a_counter_given_as_a_client_field_is_pointed_to_its_stats(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    message = "recv_msg: unknown field (did you mean stats.recv_msg?)"
    with pytest.raises(SeedError) as refused:
        emqx_server.add_client("x", recv_msg=0)  # type: ignore[call-arg]
    assert str(refused.value) == message
    answer = seed(emqx_server, "clients", {"clientid": "x", "recv_msg": 0})
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": message})
    with pytest.raises(ScenarioError) as loaded:
        emqx_server.load_scenario({"clients": [{"clientid": "x", "recv_msg": 0}]})
    assert str(loaded.value) == f"<scenario>: clients[0].{message}"
    with pytest.raises(SeedError, match=re.escape("send_msgs: unknown field (did you mean stats.send_msg?)")):
        emqx_server.add_client("x", send_msgs=0)  # type: ignore[call-arg]
    assert everything(emqx_server) == before
    emqx_server.add_client("x", stats={"recv_msg": 7})
    assert ok(get(emqx_server, "/clients/x"))["recv_msg"] == 7


# -- types and times -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"port": "x"}, 'port: must be an integer from 0 to 65535, not "x"'),
        ({"proto_ver": 7}, "proto_ver: must be 3, 4 or 5, not 7"),
        ({"connected": "yes"}, 'connected: must be true or false, not "yes"'),
        ({"connected_at": "yesterday"}, 'connected_at: must be an RFC 3339 date-time or an epoch time (seconds, or milliseconds from 1e11 up), not "yesterday"'),
        ({"created_at": -1}, "created_at: must be a time from 1970 to 9999, not -1"),
        ({"subscriptions": [{"topic": "t", "qos": 3}]}, "subscriptions[0].qos: must be 0, 1 or 2, not 3"),
        ({"node": "emqx@elsewhere"}, 'node: must be "emqx@127.0.0.1", not "emqx@elsewhere"'),
    ],
)
def test_a_wrong_value_is_refused_with_its_field_everywhere(emqx_server: EmqxServer, fields: dict[str, Any], message: str) -> None:
    before = everything(emqx_server)
    with pytest.raises(SeedError) as refused:
        emqx_server.add_client("c1", **fields)
    assert str(refused.value) == message
    answer = seed(emqx_server, "clients", {"clientid": "c1", **fields})
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": message})
    with pytest.raises(ScenarioError) as loaded:
        emqx_server.load_scenario({"clients": [{"clientid": "c1", **fields}]})
    assert str(loaded.value) == f"<scenario>: clients[0].{message}"
    assert everything(emqx_server) == before


def test_each_entry_checks_its_own_vocabulary(emqx_server: EmqxServer) -> None:
    refusals = {
        "api_keys": ({"name": "ci", "expired_at": "soon"}, 'expired_at: must be an RFC 3339 date-time or an epoch time (seconds, or milliseconds from 1e11 up), not "soon"'),
        "users": ({"username": "ops"}, "password: is required"),
        "retained": ({"topic": "t", "payload": "x", "qos": "1"}, 'qos: must be 0, 1 or 2, not "1"'),
        "bans": ({"as": "clientid", "who": "x", "until": "never"}, None),  # (the time's text, as above)
        "alarms": ({"name": "a", "details": "x"}, 'details: must be an object, not "x"'),
        "publish": ({"topic": "t", "qos": 3}, "qos: must be 0, 1 or 2, not 3"),
        "subscribe": ({"clientid": "c1", "topic": "t", "rh": 5}, "rh: must be 0, 1 or 2, not 5"),
        "node_status": ({"node": "emqx@127.0.0.1", "status": "asleep"}, 'status: must be "running" or "stopped", not "asleep"'),
        "authenticators": ({"user_id_type": "email"}, 'user_id_type: must be "clientid" or "username", not "email"'),
        "authn_users": ({"user_id": "u", "password": "p", "superuser": True}, "superuser: unknown field (did you mean is_superuser?)"),
        "authz_sources": ({"type": "built_in_database", "max_rules": 0}, "max_rules: must be an integer >= 1, not 0"),
        "authz_settings": ({"cache": []}, "cache: must be an object, not a list"),
        "authz_rules": ({"rules": "allow all"}, 'rules: must be a list, not "allow all"'),
        "disconnect": ({}, "clientid: is required"),
    }
    emqx_server.add_client("c1")
    before = everything(emqx_server)
    for kind, (body, message) in refusals.items():
        answer = seed(emqx_server, kind, body)
        assert answer.status_code == 400, kind
        shown = answer.json()["message"]
        with pytest.raises(SeedError) as refused:
            SEEDINGS[kind].check(emqx_server.broker.config, body)
        assert shown == str(refused.value), kind  # the control API says what the Python check says
        if message is not None:
            assert shown == message, kind
    assert everything(emqx_server) == before


def test_times_are_taken_as_emqx_takes_them_and_listed_valid(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("rfc", connected_at="2020-01-01T00:00:00Z")
    emqx_server.add_client("ms", created_at=1577836800000, connected_at=1577836800500)
    emqx_server.add_client("s", created_at=1577836800)
    emqx_server.add_client("dt", created_at=datetime.datetime(2020, 1, 1, 1, 0, tzinfo=datetime.timezone.utc))
    emqx_server.add_alarm("high_cpu", activate_at="2020-01-01T00:00:00+01:00")
    emqx_server.add_ban("clientid", "rogue", until=4102444800000)
    rows = {row["clientid"]: row for row in ok(get(emqx_server, "/clients"))["data"]}  # a 200: each row met its schema
    assert rows["rfc"]["connected_at"] == "2020-01-01T00:00:00.000+00:00"
    assert (rows["ms"]["created_at"], rows["ms"]["connected_at"]) == ("2020-01-01T00:00:00.000+00:00", "2020-01-01T00:00:00.500+00:00")
    assert rows["s"]["created_at"] == "2020-01-01T00:00:00.000+00:00"
    assert rows["dt"]["created_at"] == "2020-01-01T01:00:00.000+00:00"
    assert ok(get(emqx_server, "/alarms"))["data"][0]["activate_at"] == "2019-12-31T23:00:00.000+00:00"
    assert ok(get(emqx_server, "/banned"))["data"][0]["until"] == "2100-01-01T00:00:00+00:00"


def test_times_over_the_control_api_are_listed_valid(emqx_server: EmqxServer) -> None:
    answer = seed(emqx_server, "clients", [{"clientid": "a", "connected_at": "2020-01-01T00:00:00Z"}, {"clientid": "b", "created_at": 1577836800000}])
    assert [row["clientid"] for row in answer.json()] == ["a", "b"]
    rows = {row["clientid"]: row for row in ok(get(emqx_server, "/clients"))["data"]}
    assert (rows["a"]["connected_at"], rows["b"]["created_at"]) == ("2020-01-01T00:00:00.000+00:00", "2020-01-01T00:00:00.000+00:00")


def test_scenario_files_keep_their_epoch_seconds(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario({"clients": [{"clientid": "c1", "created_at": 1577836800.25}]})
    assert ok(get(emqx_server, "/clients/c1"))["created_at"] == "2020-01-01T00:00:00.250+00:00"


# -- a refused list changes nothing ----------------------------------------------------------------


def test_a_list_refused_part_way_by_the_state_changes_nothing(emqx_server: EmqxServer) -> None:
    emqx_server.add_ban("clientid", "evil")
    emqx_server.publish("before", "kept")
    before = everything(emqx_server)
    answer = seed(emqx_server, "connect", [{"clientid": "good", "subscriptions": ["t/#"]}, {"clientid": "evil"}])
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": "item 1: client 'evil' is banned (clientid 'evil')"})
    published = seed(emqx_server, "publish", [{"topic": "t/1", "payload": "x", "retain": True}, {"topic": "t/+"}])
    assert published.json()["message"].startswith("item 1: topic: must be a topic name")
    missing = seed(emqx_server, "node_status", [{"node": "emqx@127.0.0.1", "status": "stopped"}, {"node": "emqx@nowhere", "status": "stopped"}])
    assert (missing.status_code, missing.json()["message"]) == (404, "item 1: Node not found: emqx@nowhere")
    assert everything(emqx_server) == before
    assert requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth, timeout=30).json()["data"] == []


def test_a_list_refused_before_any_call_is_made(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    answer = seed(emqx_server, "api_keys", [{"name": "one"}, {"name": "two", "enable": "yes"}])
    assert (answer.status_code, answer.json()["message"]) == (400, 'item 1: enable: must be true or false, not "yes"')
    taken = seed(emqx_server, "api_keys", [{"name": "one"}, {"name": "one"}])
    assert (taken.status_code, taken.json()["message"]) == (400, "item 1: name: name_already_existed")
    assert everything(emqx_server) == before


# -- the model's refusals, placed; what a seeding call cannot be --------------------------------------

WEAK = "password: The range of password length is 8~64"
BAD_RULE = "rules[0]: is refused: permission is allow or deny, not 'alow'"
NO_MATCH = 'no_match: must be "allow" or "deny", not "maybe"'


def test_a_refusal_of_the_model_names_its_field_at_every_entry_point(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    rule = {"topic": "t/#", "permission": "alow", "action": "all"}
    maybe: Any = "maybe"
    for python, kind, body, message in (
        (lambda: emqx_server.add_user("u2", "x"), "users", {"username": "u2", "password": "x"}, WEAK),
        (lambda: emqx_server.add_authz_rules([rule]), "authz_rules", {"rules": [rule]}, BAD_RULE),
        (lambda: emqx_server.set_authz_settings(no_match=maybe), "authz_settings", {"no_match": "maybe"}, NO_MATCH),
        (lambda: emqx_server.set_authz_settings(cache={"ttl": "soon"}), "authz_settings", {"cache": {"ttl": "soon"}}, "cache: is refused: Not a valid duration: 'soon'"),
    ):
        with pytest.raises(SeedError) as refused:
            python()
        assert str(refused.value) == message
        answer = seed(emqx_server, kind, body)
        assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": message})
    for document, message in (
        ({"users": [{"username": "u2", "password": "x"}]}, f"users[0].{WEAK}"),
        ({"authorization": {"rules": {"all": [rule]}}}, f"authorization.rules.all[0]: {BAD_RULE.split(': ', 1)[1]}"),
        ({"authorization": {"settings": {"no_match": "maybe"}}}, f"authorization.settings.{NO_MATCH}"),
    ):
        with pytest.raises(ScenarioError) as loaded:
            emqx_server.load_scenario(document)
        assert str(loaded.value) == f"<scenario>: {message}"
    assert everything(emqx_server) == before


def test_an_api_key_already_there_is_refused_and_the_ready_key_still_works(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    taken = 'api_key: "pytest-emqx-mock" is listed twice (first at the API key "from_bootstrap_file_9fc8f882ef054460")'
    with pytest.raises(SeedError) as refused:
        emqx_server.add_api_key("k", api_key=emqx_server.auth[0], api_secret="another-secret")
    assert str(refused.value) == taken
    answer = seed(emqx_server, "api_keys", [{"name": "k0"}, {"name": "k", "api_key": emqx_server.auth[0], "api_secret": "x"}])
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": f"item 1: {taken}"})
    emqx_server.add_api_key("mine", api_key="mine-key", api_secret="mine-secret")
    with pytest.raises(SeedError, match=re.escape('api_key: "mine-key" is listed twice (first at the API key "mine")')):
        emqx_server.add_api_key("again", api_key="mine-key", api_secret="other")
    emqx_server.broker.api_keys.delete("mine")
    assert everything(emqx_server) == before
    assert get(emqx_server, "/clients").status_code == 200


def test_a_count_of_clients_takes_no_clientid(emqx_server: EmqxServer) -> None:
    before = everything(emqx_server)
    message = "clientid: cannot be given with count: each of the clients gets its own"
    with pytest.raises(SeedError) as refused:
        emqx_server.add_clients(2, clientid="z")  # type: ignore[call-arg]
    assert str(refused.value) == message
    answer = seed(emqx_server, "clients", {"count": 2, "clientid": "z"})
    assert (answer.status_code, answer.json()) == (400, {"code": "BAD_REQUEST", "message": message})
    assert everything(emqx_server) == before


@pytest.mark.parametrize(
    ("nodes", "message", "in_a_scenario"),
    [
        ("emqx@n1", 'nodes: must be a list, not "emqx@n1"', None),
        (["bad"], 'nodes[0]: must be a node name (name@host), not "bad"', None),
        ([5], "nodes[0]: must be a node name (name@host), not 5", "nodes[0]: must be a node name (name@host) or an object, not 5"),
        (["emqx@n1", "emqx@n1"], 'nodes[1]: "emqx@n1" is listed twice', None),
        ([], "nodes: a cluster needs at least one node", None),
    ],
)
def test_a_server_s_nodes_are_checked_as_a_scenario_s(emqx_server: EmqxServer, nodes: Any, message: str, in_a_scenario: str | None) -> None:
    with pytest.raises(SeedError) as refused:
        EmqxServer(nodes=nodes)
    assert str(refused.value) == message
    with pytest.raises(ScenarioError) as loaded:
        emqx_server.load_scenario({"nodes": nodes})
    assert str(loaded.value) == f"<scenario>: {in_a_scenario or message}"


def test_a_server_s_edition_is_checked_by_the_vocabulary() -> None:
    with pytest.raises(SeedError) as refused:
        EmqxServer(edition="xe")
    assert str(refused.value) == 'edition: must be "ce" or "ee", not "xe"'


# -- the vocabulary, listed and typed --------------------------------------------------------------


def test_the_control_index_lists_each_kind_and_its_fields(emqx_server: EmqxServer) -> None:
    kinds = requests.get(emqx_server.control_url, timeout=30).json()["seed_kinds"]
    assert sorted(kinds) == sorted(SEEDINGS)
    assert kinds["node_status"] == {
        "method": "set_node_status",
        "fields": {"node": "a non-empty string", "status": '"running" or "stopped"'},
        "required": ["node", "status"],
        "shorthand": None,
        "marker": False,
    }
    clients = kinds["clients"]
    assert (clients["method"], clients["shorthand"], clients["marker"]) == ("add_client", "clientid", True)
    assert clients["fields"]["count"] == "an integer >= 0: that many alike, by add_clients"
    assert kinds["bans"]["fields"]["as"] == '"clientid", "username", "peerhost", "clientid_re", "username_re" or "peerhost_net"'
    assert kinds["bans"]["required"] == ["as", "who"]
    assert kinds["api_keys"]["fields"]["role"] == '"administrator" (edition ce)'
    assert clients["fields"]["connected_at"] == "an RFC 3339 date-time or an epoch time (seconds, or milliseconds from 1e11 up)"
    assert clients["fields"]["port"] == "an integer from 0 to 65535, or null"
    assert kinds["retained"]["required"] == ["topic", "payload"]
    assert all(description for kind in kinds.values() for description in kind["fields"].values())


def test_the_control_index_lists_what_its_own_edition_takes(ee: EmqxServer) -> None:
    kinds = requests.get(ee.control_url, timeout=30).json()["seed_kinds"]
    assert kinds["api_keys"]["fields"]["role"] == '"administrator", "viewer" or "publisher" (edition ee)'
    assert kinds["users"]["fields"]["role"] == '"administrator" or "viewer" (edition ee)'


def test_the_listed_count_is_what_the_control_api_takes(emqx_server: EmqxServer) -> None:
    answer = seed(emqx_server, "clients", {"count": 2, "username": "meter"})
    assert [row["username"] for row in answer.json()] == ["meter", "meter"]
    refused = seed(emqx_server, "clients", {"count": -1})
    assert (refused.status_code, refused.json()["message"]) == (400, "count: must be an integer >= 0, not -1")
    assert len(ok(get(emqx_server, "/clients"))["data"]) == 2


TYPED = {
    "clients": vocabulary.ClientFields,
    "connect": vocabulary.ClientFields,
    "api_keys": vocabulary.ApiKeyFields,
    "apps": vocabulary.AppFields,
    "users": vocabulary.UserFields,
    "retained": vocabulary.RetainedFields,
    "publish": vocabulary.PublishFields,
    "bans": vocabulary.BanFields,
    "alarms": vocabulary.AlarmFields,
    "authenticators": vocabulary.AuthenticatorFields,
    "authz_sources": vocabulary.AuthzSourceFields,
    "authz_settings": vocabulary.AuthzSettings,
    "authz_rules": vocabulary.RulesOwner,
    "subscribe": vocabulary.SubscribeOptions,
    "auth_mnesia_users": vocabulary.MnesiaLogin,
    "auth_mnesia_acl": vocabulary.MnesiaLogin,
    "deployments": vocabulary.DeploymentFields,
    "platform_keys": vocabulary.PlatformKeyFields,
}


@pytest.mark.parametrize("kind", list(SEEDINGS))
def test_each_method_is_typed_with_its_vocabulary(kind: str) -> None:
    """The method's own parameters (a Python keyword renamed) and its TypedDict's keys are the
    entry's checked fields."""
    seeding = SEEDINGS[kind]
    parameters = inspect.signature(getattr(EmqxServer, seeding.method)).parameters
    field_of = {parameter: field for field, parameter in seeding.parameters.items()}
    named = {field_of.get(name, name) for name, parameter in parameters.items() if name != "self" and parameter.kind != parameter.VAR_KEYWORD}
    typed = set(TYPED[kind].__annotations__) if kind in TYPED else set()
    assert named | typed == set(seeding.checks_for(BrokerConfig()))
    assert not named & typed
