"""EMQX 4.4's `emqx_auth_mnesia` over `/api/v4` (`/auth_clientid`, `/auth_username`, `/acl`)
and `/listeners`: each endpoint's exact body, every refusal with the state unchanged, and the
records' effect on simulated clients (the one authentication chain and authorization check)."""

from __future__ import annotations

import base64
import hashlib
import http.client
from typing import Any, Iterator

import pytest
import requests
from conftest import ManualClock, manual_clock, reset_for_a_test

from pytest_emqx_mock import EmqxServer, NotAuthorized, SeedError
from pytest_emqx_mock.state import auth_mnesia
from pytest_emqx_mock.state.auth_mnesia import password_matches

APP = ("admin", "public")


@pytest.fixture(scope="module")
def both_doors() -> Iterator[EmqxServer]:
    with EmqxServer(flavour=["v5", "v4"], nodes=["emqx@n1", "emqx@n2"]) as server:
        yield server


@pytest.fixture
def emqx(both_doors: EmqxServer) -> Iterator[EmqxServer]:
    yield from reset_for_a_test(both_doors)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    return manual_clock(monkeypatch, auth_mnesia)


def v4(emqx: EmqxServer, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON answer (HTTP 200, as every handler's answer in 4.4)."""
    kwargs.setdefault("auth", APP)
    response = requests.request(method, emqx.url + "/api/v4" + path, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def crashed(emqx: EmqxServer, method: str, path: str, **kwargs: Any) -> None:
    response = requests.request(method, emqx.url + "/api/v4" + path, auth=APP, **kwargs)
    assert (response.status_code, response.headers["content-type"], response.text) == (500, "text/plain", "Internal Error")


def raw(emqx: EmqxServer, method: str, path: str) -> tuple[int, bytes]:
    """A request whose path goes out as written (`requests` rewrites `%24` as `$`)."""
    host, port = emqx.url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port))
    connection.request(method, path, headers={"Authorization": "Basic " + base64.b64encode(b"admin:public").decode()})
    response = connection.getresponse()
    return response.status, response.read()


# -- /auth_clientid and /auth_username -------------------------------------------------------


@pytest.mark.parametrize("login", ["clientid", "username"])
def test_add_one_list_lookup_update_delete(emqx: EmqxServer, clock: ManualClock, login: str) -> None:
    base = f"/auth_{login}"
    assert v4(emqx, "POST", base, json={login: "dev/1", "password": "secret"}) == {"code": 0}
    clock.advance(1)
    assert v4(emqx, "POST", base, json={login: "dev/2", "password": "secret"}) == {"code": 0}
    stamps = {user.login: user.created_at for user in emqx.broker.authn.mnesia}
    listed = v4(emqx, "GET", base)
    assert listed == {
        "code": 0,
        "data": [{login: "dev/2", "created_at": stamps["dev/2"]}, {login: "dev/1", "created_at": stamps["dev/1"]}],
        "meta": {"page": 1, "limit": 10000, "count": 2, "hasnext": False},
    }
    assert stamps["dev/2"] - stamps["dev/1"] == 1000  # epoch milliseconds
    assert v4(emqx, "GET", f"{base}/dev%2F1") == {"code": 0, "data": {login: "dev/1", "created_at": stamps["dev/1"]}}
    assert v4(emqx, "GET", f"{base}/nobody") == {"code": 0, "data": {}}
    assert v4(emqx, "PUT", f"{base}/dev%2F1", json={"password": "changed"}) == {"code": 0}
    user = emqx.broker.authn.mnesia.lookup(login, "dev/1")
    assert user is not None and password_matches("sha256", "changed", user.password)
    assert v4(emqx, "DELETE", f"{base}/dev%2F1") == {"code": 0}
    assert v4(emqx, "DELETE", f"{base}/dev%2F1") == {"code": 0}  # absent: still 0
    assert [user.login for user in emqx.broker.authn.mnesia] == ["dev/2"]


def test_the_two_login_types_are_counted_apart(emqx: EmqxServer, clock: ManualClock) -> None:
    """(The clock held: the two rows share a millisecond, and the listing's tie order shows.)"""
    emqx.add_auth_mnesia_user("p", clientid="same")
    emqx.add_auth_mnesia_user("p", username="same")
    emqx.add_auth_mnesia_user("p", username="other")
    assert v4(emqx, "GET", "/auth_clientid")["meta"]["count"] == 1
    assert [row["username"] for row in v4(emqx, "GET", "/auth_username")["data"]] == ["same", "other"]


def test_add_refusals_carry_no_code_and_change_nothing(emqx: EmqxServer) -> None:
    emqx.add_auth_mnesia_user("p", clientid="taken")
    before = emqx.snapshot()
    for sent, message in [
        ({"clientid": "taken", "password": "x"}, "existed"),
        ({"clientid": "", "password": "x"}, "login"),
        ({"password": "x"}, "login"),
        ({"clientid": 7, "password": "x"}, "login"),
        ({"clientid": "c"}, "password"),
        ({"clientid": "c", "password": ""}, "password"),
        ({"clientid": "c", "password": 5}, "password"),
        ({}, "login"),
    ]:
        assert v4(emqx, "POST", "/auth_clientid", json=sent) == {"message": message}, sent
    assert v4(emqx, "PUT", "/auth_clientid/nobody", json={"password": "x"}) == {"message": "noexisted"}
    assert v4(emqx, "PUT", "/auth_clientid/taken", json={"password": ""}) == {"message": "password"}
    assert v4(emqx, "PUT", "/auth_clientid/taken") == {"message": "password"}
    crashed(emqx, "POST", "/auth_clientid")  # no parameter at all: `[P | _] = Params` fails
    crashed(emqx, "POST", "/auth_clientid", json=[])
    crashed(emqx, "POST", "/auth_clientid", json="text")
    crashed(emqx, "POST", "/auth_clientid", json=[{"clientid": "new", "password": "p"}, 5])
    crashed(emqx, "POST", "/auth_clientid", json=[{"clientid": "new", "password": "p"}, {"clientid": 5}])
    assert emqx.snapshot() == before


def test_a_query_string_is_the_single_form_s_parameters(emqx: EmqxServer) -> None:
    assert v4(emqx, "POST", "/auth_username?username=q&password=p") == {"code": 0}
    assert emqx.broker.authn.mnesia.lookup("username", "q") is not None


def test_batch_answers_an_object_keyed_by_login(emqx: EmqxServer) -> None:
    emqx.add_auth_mnesia_user("p", clientid="taken")
    sent = [
        {"clientid": "a", "password": "p"},
        {"clientid": "taken", "password": "p"},
        {"password": "p"},
        {"clientid": "b"},
        {"clientid": "a", "password": "again"},
        ["not", "an", "object"],
    ]
    assert v4(emqx, "POST", "/auth_clientid", json=sent) == {
        "code": 0,
        "data": {"a": "ok", "taken": "{error,existed}", "undefined": "{error,login}", "b": "{error,password}"},
    }
    assert sorted(user.login for user in emqx.broker.authn.mnesia) == ["a", "taken"]
    user = emqx.broker.authn.mnesia.lookup("clientid", "a")
    assert user is not None and password_matches("sha256", "p", user.password)


def test_list_paging_and_filters(emqx: EmqxServer, clock: ManualClock) -> None:
    for index in range(5):
        emqx.add_auth_mnesia_user("p", clientid=f"dev-{index}")
        clock.advance(1)
    emqx.add_auth_mnesia_user("p", username="dev-x")
    stamp = {user.login: user.created_at for user in emqx.broker.authn.mnesia}
    page = v4(emqx, "GET", "/auth_clientid?_page=2&_limit=2")
    assert page == {
        "code": 0,
        "data": [{"clientid": "dev-3", "created_at": stamp["dev-3"]}, {"clientid": "dev-2", "created_at": stamp["dev-2"]}],
        "meta": {"page": 2, "limit": 2, "count": 5, "hasnext": True},
    }
    assert v4(emqx, "GET", "/auth_clientid?_page=3&_limit=2")["meta"] == {"page": 3, "limit": 2, "count": 5, "hasnext": False}
    assert v4(emqx, "GET", "/auth_clientid?clientid=dev-1") == {
        "code": 0,
        "data": [{"clientid": "dev-1", "created_at": stamp["dev-1"]}],
        "meta": {"page": 1, "limit": 10000, "count": -1, "hasnext": False},
    }
    # `_like_` is a plain substring: `.` and `*` match themselves
    assert v4(emqx, "GET", "/auth_clientid?_like_clientid=v-4")["data"] == [{"clientid": "dev-4", "created_at": stamp["dev-4"]}]
    assert v4(emqx, "GET", "/auth_clientid?_like_clientid=dev.*")["data"] == []
    crashed(emqx, "GET", "/auth_clientid?_limit=ten")


# -- the password hash -------------------------------------------------------------------------


@pytest.mark.parametrize("hash_type", ["plain", "md5", "sha", "sha256", "sha512"])
def test_passwords_are_salted_and_hashed_as_configured(emqx: EmqxServer, hash_type: str) -> None:
    emqx.set_auth_mnesia_password_hash(hash_type)
    v4(emqx, "POST", "/auth_clientid", json={"clientid": "c", "password": "pw"})
    user = emqx.broker.authn.mnesia.lookup("clientid", "c")
    assert user is not None
    salt, stored = user.password[:4], user.password[4:]
    data = salt + b"pw"
    expected = data if hash_type == "plain" else hashlib.new({"sha": "sha1"}.get(hash_type, hash_type), data).hexdigest().encode()
    assert stored == expected
    emqx.connect("c", password="pw")
    with pytest.raises(NotAuthorized):
        emqx.connect("c", password="PW")


def test_an_unsalted_secret_of_older_releases_still_verifies(emqx: EmqxServer) -> None:
    emqx.load_scenario(
        {"auth_mnesia": {"password_hash": "sha256", "users": [{"username": "old", "password_hash": hashlib.sha256(b"pw").hexdigest().encode().hex()}]}}
    )
    emqx.connect("c", username="old", password="pw")
    with pytest.raises(NotAuthorized):
        emqx.connect("d", username="old", password="nope")


# -- the effect on simulated clients -----------------------------------------------------------


def test_auth_users_decide_a_connect(emqx: EmqxServer) -> None:
    emqx.connect("anyone")  # empty tables: anonymous, as before
    v4(emqx, "POST", "/auth_clientid", json={"clientid": "sensor", "password": "s3cret"})
    v4(emqx, "POST", "/auth_username", json={"username": "alice", "password": "wonder"})
    with pytest.raises(NotAuthorized) as refused:
        emqx.connect("sensor", password="wrong")
    assert refused.value.reason == "bad_username_or_password"
    with pytest.raises(NotAuthorized):
        emqx.connect("sensor")  # no password is an empty one
    assert emqx.connect("sensor", password="s3cret").connected
    # either login's password lets the client in (`match_password/3` over both secrets)
    assert emqx.connect("other", username="alice", password="wonder").connected
    assert emqx.connect("sensor", username="alice", password="wonder").connected
    emqx.connect("stranger", username="bob")  # no record of either login: the chain goes on
    v4(emqx, "DELETE", "/auth_clientid/sensor")
    emqx.connect("sensor", password="anything")


def test_a_mnesia_user_comes_before_the_authenticators(emqx: EmqxServer) -> None:
    emqx.add_authenticator()
    emqx.add_authn_user("alice", "v5-password")
    emqx.add_auth_mnesia_user("v4-password", username="alice")
    emqx.connect("c1", username="alice", password="v4-password")
    with pytest.raises(NotAuthorized):
        emqx.connect("c2", username="alice", password="v5-password")  # password_error stops the chain
    with pytest.raises(NotAuthorized) as refused:
        emqx.connect("c3", username="nobody", password="x")  # ignored by mnesia, unknown to the v5 user table
    assert refused.value.reason == "not_authorized"


def test_acl_rules_decide_publish_and_subscribe(emqx: EmqxServer) -> None:
    emqx.connect("c1", username="alice")
    emqx.connect("c2", username="mallory")
    assert emqx.publish("cmd/c1/go", "x", from_clientid="c1").authorized is True  # empty tables: acl.conf
    v4(emqx, "POST", "/acl", json={"clientid": "c1", "topic": "cmd/%c/#", "action": "pub", "access": "deny"})
    v4(emqx, "POST", "/acl", json={"username": "mallory", "topic": "own/%u", "action": "pubsub", "access": "deny"})
    v4(emqx, "POST", "/acl", json={"topic": "secret/#", "action": "sub", "access": "deny"})
    emqx.broker.clear_authz_cache()  # 4.4 keeps its ACL cache: the rules meet a fresh one
    assert emqx.publish("cmd/c1/go", "x", from_clientid="c1").authorized is False  # %c fed with the clientid
    assert emqx.publish("cmd/c2/go", "x", from_clientid="c1").authorized is True
    assert emqx.publish("own/mallory", "x", from_clientid="c2").authorized is False  # %u fed
    assert emqx.subscribe("c2", "own/mallory").result == "deny"
    assert emqx.subscribe("c2", "own/alice").result == "allow"
    assert emqx.subscribe("c1", "secret/a").result == "deny"  # $all's rule
    assert emqx.subscribe("c1", "secrets/a").result == "allow"  # no rule matches: acl.conf decides


def test_clientid_rules_come_before_username_rules_then_all(emqx: EmqxServer) -> None:
    emqx.connect("c1", username="alice")
    emqx.add_auth_mnesia_acl("t", "pub", "allow")
    emqx.add_auth_mnesia_acl("t", "pub", "deny", username="alice")
    assert emqx.publish("t", "x", from_clientid="c1").authorized is False
    emqx.add_auth_mnesia_acl("t", "pub", "allow", clientid="c1")
    emqx.broker.clear_authz_cache()  # 4.4 keeps its ACL cache: the rules meet a fresh one
    assert emqx.publish("t", "x", from_clientid="c1").authorized is True


# -- /acl ---------------------------------------------------------------------------------------


def test_add_one_acl_rule_echoes_it(emqx: EmqxServer) -> None:
    assert v4(emqx, "POST", "/acl", json={"clientid": "c1", "topic": "t/#", "action": "pubsub", "access": "allow"}) == {
        "code": 0,
        "data": {"clientid": "c1", "topic": "t/#", "action": "pubsub", "access": "allow", "result": "ok"},
    }
    assert v4(emqx, "POST", "/acl", json={"topic": "all/#", "action": "sub", "access": "deny"}) == {
        "code": 0,
        "data": {"all": "$all", "topic": "all/#", "action": "sub", "access": "deny", "result": "ok"},
    }
    # pubsub is two rules, newest first (sub was written after pub)
    assert v4(emqx, "GET", "/acl/clientid/c1") == {
        "code": 0,
        "data": [
            {"clientid": "c1", "topic": "t/#", "action": "sub", "access": "allow"},
            {"clientid": "c1", "topic": "t/#", "action": "pub", "access": "allow"},
        ],
    }
    assert v4(emqx, "GET", "/acl/username/nobody") == {"code": 0, "data": []}


def test_the_same_topic_and_action_replaces_the_rule(emqx: EmqxServer, clock: ManualClock) -> None:
    emqx.add_auth_mnesia_acl("t", "pubsub", "allow", username="u")
    clock.advance(1)
    emqx.add_auth_mnesia_acl("t", "pub", "deny", username="u")
    assert v4(emqx, "GET", "/acl/username/u")["data"] == [
        {"username": "u", "topic": "t", "action": "pub", "access": "deny"},
        {"username": "u", "topic": "t", "action": "sub", "access": "allow"},
    ]


def test_acl_refusals_print_the_term_and_change_nothing(emqx: EmqxServer) -> None:
    emqx.add_auth_mnesia_acl("kept", "pub", "allow")
    before = emqx.snapshot()
    cases = [
        ({"clientid": "c1", "topic": "", "action": "pub", "access": "deny"},
         '{add,#{access => <<"deny">>,action => <<"pub">>,clientid => <<"c1">>,result => <<"{error,topic}">>,topic => <<>>}}'),
        ({"topic": "x", "action": "pub"},
         "{add,#{access => undefined,action => <<\"pub\">>,all => '$all',result => <<\"{error,access}\">>,topic => <<\"x\">>}}"),
        ({"username": "", "topic": "x", "action": "pub", "access": "allow"},
         '{add,#{access => <<"allow">>,action => <<"pub">>,result => <<"{error,login}">>,topic => <<"x">>,username => <<>>}}'),
        ({"topic": "x", "action": "all", "access": "allow"},
         "{add,#{access => <<\"allow\">>,action => <<\"all\">>,all => '$all',result => <<\"{error,action}\">>,topic => <<\"x\">>}}"),
        ({"clientid": 5, "topic": None, "action": "pub", "access": "allow"},
         '{add,#{access => <<"allow">>,action => <<"pub">>,clientid => 5,result => <<"{error,login}">>,topic => null}}'),
    ]  # fmt: skip
    for sent, message in cases:
        assert v4(emqx, "POST", "/acl", json=sent) == {"message": message}, sent
    crashed(emqx, "POST", "/acl", json={"clientid": "a", "username": "b", "topic": "x", "action": "pub", "access": "allow"})
    crashed(emqx, "POST", "/acl", json=[{"topic": "new", "action": "pub", "access": "allow"}, {"clientid": "a", "username": "b"}])
    crashed(emqx, "POST", "/acl")
    assert emqx.snapshot() == before


def test_acl_batch_answers_last_item_first(emqx: EmqxServer) -> None:
    sent = [
        {"topic": "a", "action": "pub", "access": "allow"},
        {"username": "u", "topic": "b", "action": "sub", "access": "deny"},
        {"topic": "c", "action": "x", "access": "allow"},
    ]
    assert v4(emqx, "POST", "/acl", json=sent) == {
        "code": 0,
        "data": [
            {"all": "$all", "topic": "c", "action": "x", "access": "allow", "result": "{error,action}"},
            {"username": "u", "topic": "b", "action": "sub", "access": "deny", "result": "ok"},
            {"all": "$all", "topic": "a", "action": "pub", "access": "allow", "result": "ok"},
        ],
    }


def test_acl_lists_page_fifty_and_filter(emqx: EmqxServer) -> None:
    for index in range(55):
        emqx.add_auth_mnesia_acl(f"t/{index}", "pub", "allow", clientid=f"c{index % 3}")
    listed = v4(emqx, "GET", "/acl/clientid")
    assert listed["meta"] == {"page": 1, "limit": 50, "count": 55}
    assert len(listed["data"]) == 50
    assert v4(emqx, "GET", "/acl/clientid?_page=2")["meta"] == {"page": 2, "limit": 50, "count": 55}
    assert len(v4(emqx, "GET", "/acl/clientid?_page=2")["data"]) == 5
    assert v4(emqx, "GET", "/acl/clientid?clientid=c1&_limit=2") == {
        "code": 0,
        # the page is the table's first rows of c1 (newest first as stored), then sorted
        "data": [
            {"clientid": "c1", "topic": "t/52", "action": "pub", "access": "allow"},
            {"clientid": "c1", "topic": "t/49", "action": "pub", "access": "allow"},
        ],
        "meta": {"page": 1, "limit": 2, "count": 18},
    }
    assert v4(emqx, "GET", "/acl/clientid?_like_clientid=2&topic=t/5")["data"] == [
        {"clientid": "c2", "topic": "t/5", "action": "pub", "access": "allow"}
    ]
    assert v4(emqx, "GET", "/acl/clientid?action=sub")["meta"]["count"] == 0
    emqx.add_auth_mnesia_acl("x", "pubsub", "deny")
    assert v4(emqx, "GET", "/acl/$all?access=deny") == {
        "code": 0,
        "data": [
            {"all": "$all", "topic": "x", "action": "sub", "access": "deny"},
            {"all": "$all", "topic": "x", "action": "pub", "access": "deny"},
        ],
        "meta": {"page": 1, "limit": 50, "count": 2},
    }
    assert v4(emqx, "GET", "/acl/username")["meta"] == {"page": 1, "limit": 50, "count": 0}
    crashed(emqx, "GET", "/acl/clientid?_page=x")


def test_acl_delete_by_topic_removes_every_action(emqx: EmqxServer) -> None:
    emqx.add_auth_mnesia_acl("a/b", "pubsub", "allow", clientid="c1")
    emqx.add_auth_mnesia_acl("other", "pub", "allow", clientid="c1")
    emqx.add_auth_mnesia_acl("a/b", "pub", "allow", username="c1")
    emqx.add_auth_mnesia_acl("a/b", "pub", "allow")
    assert v4(emqx, "DELETE", "/acl/clientid/c1/topic/a%2Fb") == {"code": 0}
    assert [rule["topic"] for rule in v4(emqx, "GET", "/acl/clientid/c1")["data"]] == ["other"]
    assert v4(emqx, "DELETE", "/acl/clientid/c1/topic/nothing") == {"code": 0}
    assert v4(emqx, "DELETE", "/acl/username/c1/topic/a%2Fb") == {"code": 0}
    assert v4(emqx, "GET", "/acl/username/c1")["data"] == []
    assert v4(emqx, "DELETE", "/acl/$all/topic/a%2Fb") == {"code": 0}
    assert v4(emqx, "GET", "/acl/$all")["data"] == []


def test_all_must_reach_the_server_unencoded(emqx: EmqxServer) -> None:
    emqx.add_auth_mnesia_acl("x", "pub", "allow")
    before = emqx.snapshot()
    assert raw(emqx, "GET", "/api/v4/acl/%24all") == (404, b"Not found.")
    assert raw(emqx, "DELETE", "/api/v4/acl/%24all/topic/x") == (404, b"Not found.")
    assert emqx.snapshot() == before
    assert raw(emqx, "GET", "/api/v4/acl/$all")[0] == 200


# -- seeding, scenarios, snapshots -------------------------------------------------------------


def test_records_seed_and_survive_a_snapshot_round_trip(emqx: EmqxServer, clock: ManualClock) -> None:
    emqx.set_auth_mnesia_password_hash("md5")
    emqx.add_auth_mnesia_user("p", clientid="c1")
    emqx.add_auth_mnesia_acl("t/#", "pubsub", "deny", username="u")
    clock.advance(1)
    emqx.add_auth_mnesia_acl("t/#", "pub", "allow", username="u")
    snapshot = emqx.snapshot()
    assert snapshot["auth_mnesia"]["password_hash"] == "md5"
    lists = v4(emqx, "GET", "/acl/username/u"), v4(emqx, "GET", "/auth_clientid")
    emqx.reset()
    assert v4(emqx, "GET", "/auth_clientid")["data"] == []
    emqx.load_scenario(snapshot)
    assert emqx.snapshot() == snapshot
    assert (v4(emqx, "GET", "/acl/username/u"), v4(emqx, "GET", "/auth_clientid")) == lists
    emqx.connect("c1", password="p")


def test_seeding_refusals(emqx: EmqxServer) -> None:
    emqx.add_auth_mnesia_user("p", clientid="c1")
    with pytest.raises(SeedError, match="exists already"):
        emqx.add_auth_mnesia_user("p", clientid="c1")
    with pytest.raises(SeedError):
        emqx.add_auth_mnesia_user("p", clientid="c2", username="u")
    with pytest.raises(SeedError):
        emqx.add_auth_mnesia_acl("t", "publish", "allow")
    with pytest.raises(SeedError):
        emqx.set_auth_mnesia_password_hash("bcrypt")
    response = requests.post(emqx.url + "/_mock/seed/auth_mnesia_acl", json={"topic": "t", "action": "sub", "access": "deny"})
    assert response.status_code < 300, response.text
    assert v4(emqx, "GET", "/acl/$all")["data"] == [{"all": "$all", "topic": "t", "action": "sub", "access": "deny"}]


def test_the_marker_seeds_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_emqx_mock import NotAuthorized

        @pytest.mark.emqx(auth_mnesia_users=[{"clientid": "c1", "password": "p"}],
                          auth_mnesia_acl=[{"topic": "t", "action": "pub", "access": "deny"}])
        def test_seeded(emqx_server):
            with pytest.raises(NotAuthorized):
                emqx_server.connect("c1", password="bad")
            emqx_server.connect("c1", password="p")
            assert emqx_server.publish("t", "x", from_clientid="c1").authorized is False
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


# -- /listeners, emqx_prometheus ---------------------------------------------------------------


def _listeners(tcp_conns: int) -> list[dict[str, Any]]:
    esockd = [
        {"protocol": "mqtt:ssl", "listen_on": "8883", "identifier": "mqtt:ssl:external", "acceptors": 16, "max_conns": 102400, "current_conns": 0, "shutdown_count": []},
        {"protocol": "mqtt:tcp", "listen_on": "0.0.0.0:1883", "identifier": "mqtt:tcp:external", "acceptors": 8, "max_conns": 1024000, "current_conns": tcp_conns, "shutdown_count": []},
        {"protocol": "mqtt:tcp", "listen_on": "127.0.0.1:11883", "identifier": "mqtt:tcp:internal", "acceptors": 4, "max_conns": 1024000, "current_conns": 0, "shutdown_count": []},
    ]  # fmt: skip
    ranch = [
        {"protocol": "http:dashboard", "listen_on": "18083", "acceptors": 4, "max_conns": 512, "current_conns": 0, "shutdown_count": []},
        {"protocol": "http:management", "listen_on": "8081", "acceptors": 2, "max_conns": 512, "current_conns": 0, "shutdown_count": []},
        {"protocol": "mqtt:ws:external", "listen_on": "8083", "acceptors": 4, "max_conns": 102400, "current_conns": 0, "shutdown_count": []},
        {"protocol": "mqtt:wss:external", "listen_on": "8084", "acceptors": 4, "max_conns": 102400, "current_conns": 0, "shutdown_count": []},
    ]  # fmt: skip
    return esockd + ranch


def test_listeners(emqx: EmqxServer) -> None:
    emqx.add_client("c1", node="emqx@n2")
    emqx.add_client("c2", node="emqx@n2", connected=False)
    assert v4(emqx, "GET", "/listeners") == {
        "code": 0,
        "data": [{"node": "emqx@n1", "listeners": _listeners(0)}, {"node": "emqx@n2", "listeners": _listeners(1)}],
    }
    assert v4(emqx, "GET", "/nodes/emqx@n2/listeners") == {"code": 0, "data": _listeners(1)}
    emqx.set_node_status("emqx@n1", "stopped")
    assert v4(emqx, "GET", "/nodes/emqx@n1/listeners") == {"code": 0, "data": {"error": "nodedown"}}
    assert [entry["node"] for entry in v4(emqx, "GET", "/listeners")["data"]] == ["emqx@n2"]
    response = requests.get(emqx.url + "/api/v4/nodes/emqx@nowhere/listeners", auth=APP)
    assert (response.status_code, response.text) == (404, "Not found.")


def test_restarting_a_listener_drops_its_connections(emqx: EmqxServer) -> None:
    emqx.add_client("c1", node="emqx@n2")
    emqx.add_client("c2", node="emqx@n2", listener="ws:default")
    emqx.add_client("keeps", node="emqx@n2", expiry_interval=60)
    assert v4(emqx, "PUT", "/listeners/mqtt:tcp:external/restart") == {"code": 0}
    assert [(s.clientid, s.connected) for s in emqx.broker.sessions] == [("c2", True), ("keeps", False)]
    conns = {entry["listen_on"]: entry["current_conns"] for entry in v4(emqx, "GET", "/nodes/emqx@n2/listeners")["data"]}
    assert (conns["0.0.0.0:1883"], conns["8083"]) == (0, 1)
    restarted = v4(emqx, "PUT", "/nodes/emqx@n2/listeners/mqtt:ws:external/restart")
    assert restarted == {"code": 0, "data": [ord(c) for c in "Listener restarted."]}  # an Erlang string, as jiffy writes it
    assert [s.clientid for s in emqx.broker.sessions] == ["keeps"]


def test_listener_restart_refusals_change_nothing(emqx: EmqxServer) -> None:
    emqx.add_client("c1", node="emqx@n2")
    before = emqx.snapshot()
    response = requests.put(emqx.url + "/api/v4/listeners/http:management/restart", auth=APP)
    assert (response.status_code, response.headers["content-type"], response.json()) == (403, "application/json", "http_listener_restart_unsupported")
    unknown = "{restart,[{emqx@n1,{error,{no_such_listener,<<\"nope\">>}}},{emqx@n2,{error,{no_such_listener,<<\"nope\">>}}}]}"
    assert v4(emqx, "PUT", "/listeners/nope/restart") == {"message": unknown}
    encoded = v4(emqx, "PUT", "/nodes/emqx@n2/listeners/mqtt%3Atcp%3Aexternal/restart")  # minirest decodes no :bin:
    assert encoded == {"message": '{no_such_listener,<<"mqtt%3Atcp%3Aexternal">>}'}
    assert v4(emqx, "PUT", "/nodes/emqx@n2/listeners/http:management/restart") == {"message": '{no_such_listener,<<"http:management">>}'}
    response = requests.put(emqx.url + "/api/v4/nodes/emqx@nowhere/listeners/mqtt:tcp:external/restart", auth=APP)
    assert (response.status_code, response.text) == (404, "Not found.")
    assert requests.post(emqx.url + "/api/v4/listeners/mqtt:tcp:external/restart", auth=APP).status_code == 404
    assert emqx.snapshot() == before
    emqx.set_node_status("emqx@n1", "stopped")
    before = emqx.snapshot()
    assert v4(emqx, "PUT", "/nodes/emqx@n1/listeners/mqtt:tcp:external/restart") == {"message": "nodedown"}
    # the running node restarts its listener; the stopped one fails the call, and that is the answer
    assert v4(emqx, "PUT", "/listeners/mqtt:tcp:internal/restart") == {"message": "{restart,[{emqx@n1,{error,nodedown}}]}"}
    assert emqx.snapshot() == before


def test_emqx_prometheus_needs_no_credentials(emqx: EmqxServer) -> None:
    """`authorize_appid/3` lets that one GET (that raw path exactly) through."""
    assert requests.get(emqx.url + "/api/v4/emqx_prometheus", auth=("admin", "wrong")).json()["code"] == 0
    assert requests.get(emqx.url + "/api/v4/emqx_prometheus").json()["code"] == 0
    assert requests.post(emqx.url + "/api/v4/emqx_prometheus").status_code == 401
    assert requests.get(emqx.url + "/api/v4/emqx_prometheus/").status_code == 401
    assert requests.get(emqx.url + "/api/v4/emqx_prometheus/", auth=APP).json()["code"] == 0


def test_emqx_prometheus_json_is_the_answering_node_s_figures(emqx: EmqxServer) -> None:
    emqx.add_client("c1", node="emqx@n1", subscriptions=["t/1"])
    emqx.add_client("c2", node="emqx@n2")
    emqx.broker.connect("c3", node="emqx@n1")
    emqx.publish("t/1", "x")
    data = requests.get(emqx.url + "/api/v4/emqx_prometheus").json()["data"]
    assert sorted(data) == ["client", "delivery", "messages", "metrics", "packets", "session", "stats"]
    n1 = v4(emqx, "GET", "/nodes/emqx@n1/stats")["data"]  # the node answering, the first running
    assert data["stats"] == {"emqx_" + key.replace(".", "_"): value for key, value in n1.items() if not key.startswith("channels.")}
    assert (data["stats"]["emqx_connections_count"], data["stats"]["emqx_subscriptions_count"]) == (2, 1)
    counters = v4(emqx, "GET", "/nodes/emqx@n1/metrics")["data"]
    assert data["packets"]["emqx_packets_connect"] == counters["packets.connect.received"]
    assert data["messages"]["emqx_messages_received"] == counters["messages.received"] == 1
    assert data["client"]["emqx_client_authenticate"] == counters["client.authenticate"]
    assert data["client"]["emqx_client_auth_success_anonymous"] == counters["client.auth.success.anonymous"]
    assert data["session"]["emqx_session_takeovered"] == 0 and data["messages"]["emqx_messages_dropped_expired"] == 0
    assert data["metrics"] == {
        "emqx_vm_cpu_use": 0.0, "emqx_vm_cpu_idle": 100.0, "emqx_vm_run_queue": 0, "emqx_vm_process_messages_in_queues": 0,
        "emqx_vm_total_memory": int(15.52 * 1024**3), "emqx_vm_used_memory": 512 * 1024**2,
    }  # fmt: skip
    assert len(data["packets"]) == 42 and len(data["messages"]) == 17 and len(data["delivery"]) == 6


def test_emqx_prometheus_text_exposition(emqx: EmqxServer) -> None:
    emqx.add_client("c1", node="emqx@n1")
    emqx.publish("t/1", "x")
    emqx.set_node_status("emqx@n2", "stopped")
    response = requests.get(emqx.url + "/api/v4/emqx_prometheus", params={"type": "prometheus"})
    assert (response.status_code, response.headers["content-type"]) == (200, "text/plain")
    text = response.text
    assert text.startswith("# TYPE emqx_connections_count gauge\n# HELP emqx_connections_count \nemqx_connections_count 1\n")
    assert text.endswith("# TYPE emqx_session_terminated counter\n# HELP emqx_session_terminated \nemqx_session_terminated 0\n\n")
    samples = dict(line.split(" ") for line in text.splitlines() if line and not line.startswith("#"))
    assert (samples["emqx_cluster_nodes_running"], samples["emqx_cluster_nodes_stopped"]) == ("1", "1")
    assert (samples["emqx_vm_cpu_idle"], samples["emqx_messages_received"]) == ("100.0", "1")
    assert len(samples) == 20 + 6 + 2 + 42 + 17 + 6 + 7 + 5
    assert "# TYPE emqx_bytes_received counter\n" in text and "# TYPE emqx_vm_used_memory gauge\n" in text


def test_emqx_prometheus_refusals(emqx: EmqxServer) -> None:
    before = emqx.snapshot()
    response = requests.get(emqx.url + "/api/v4/emqx_prometheus", params={"type": "xml"})
    assert (response.status_code, response.headers["content-type"], response.text) == (500, "text/plain", "Internal Error")
    assert emqx.snapshot() == before


def test_the_route_listing_names_the_plugin_s_routes(emqx: EmqxServer) -> None:
    routes = v4(emqx, "GET", "/")["data"]
    assert routes[:3] == [
        {"name": "list_clientid", "method": "GET", "path": "/acl/clientid", "descr": "List available mnesia in the cluster"},
        {"name": "list_username", "method": "GET", "path": "/acl/username", "descr": "List available mnesia in the cluster"},
        {"name": "list_all", "method": "GET", "path": "/acl/$all", "descr": "List available mnesia in the cluster"},
    ]
    assert {"name": "update_username", "method": "PUT", "path": "/auth_username/:username", "descr": "Update username in the cluster"} in routes
    assert {"name": "delete_clientid", "method": "DELETE", "path": "/acl/clientid/:clientid/topic/:topic", "descr": "Delete mnesia in the cluster"} in routes
    assert {"name": "list_node_listeners", "method": "GET", "path": "/nodes/:node/listeners", "descr": "A list of listeners on the node"} in routes
