"""Authorization (`emqx_authz_api_settings`, `_cache`, `_sources`, `emqx_authz_api_mnesia`,
`emqx_access_control:authorize/3`) of the fake EMQX 5.8.9: the API, and its effect on what
simulated MQTT clients may subscribe and publish.

What is asserted was read from EMQX v5.8.9's code (see /tmp/research/issue5.md §6-10 for the
line references); the hocon error texts are those a 5.8.9 node writes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests
from api import delete, error, get, hocon, ok, post, put

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.scripting.scenario import ScenarioError
from pytest_emqx_mock.state.acl_conf import DEFAULT_ACL_CONF
from pytest_emqx_mock.state.authz import (
    PUBLISH,
    SUBSCRIBE,
    Access,
    RuleList,
    compile_term,
    consult,
    topic_matches,
)
from pytest_emqx_mock.state.sessions import Session

RULES = "/authorization/sources/built_in_database/rules"
DEFAULT_SETTINGS = {"cache": {"enable": True, "excludes": [], "max_size": 32, "ttl": "1m"}, "deny_action": "ignore", "no_match": "allow"}
DEFAULT_FILE = {"enable": True, "rules": DEFAULT_ACL_CONF, "type": "file"}
BUILTIN = {"enable": True, "max_rules": 100, "type": "built_in_database"}
NO_BUILTIN = {"code": "NOT_FOUND", "message": "Not found: built_in_database"}


def authz_state(server: EmqxServer) -> Any:
    """Everything authorization keeps (what a refused request must leave as it was)."""
    return server.snapshot()["authorization"]


def rule(topic: str, permission: str = "allow", action: str = "all", **extra: Any) -> dict[str, Any]:
    return {"topic": topic, "permission": permission, "action": action, **extra}


def shown(topic: str, permission: str = "allow", action: str = "all", qos: list[int] | None = None, retain: Any = "all") -> dict[str, Any]:
    return {"action": action, "permission": permission, "qos": [0, 1, 2] if qos is None else qos, "retain": retain, "topic": topic}


def counter(server: EmqxServer, name: str) -> int:
    return int(ok(get(server, "/metrics", {"aggregate": "true"}))[name])


def with_builtin(server: EmqxServer) -> EmqxServer:
    ok(post(server, "/authorization/sources", {"type": "built_in_database"}), 204)
    return server


# -- the default: the shipped acl.conf ------------------------------------------------------------


def test_the_default_chain_is_the_shipped_file_source_verbatim(emqx_server: EmqxServer) -> None:
    assert hashlib.sha256(DEFAULT_ACL_CONF.encode()).hexdigest() == "970449f3515ffe63683de4eebac29f6c4cc93f11660cbb3f5bcb0b39df5a4aa0"
    assert ok(get(emqx_server, "/authorization/sources")) == {"sources": [DEFAULT_FILE]}
    assert ok(get(emqx_server, "/authorization/sources/file")) == DEFAULT_FILE
    assert ok(get(emqx_server, "/authorization/settings")) == DEFAULT_SETTINGS


def test_the_default_rules_allow_a_local_client_everything(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("local", ip_address="127.0.0.1")  # rule 2 of acl.conf (seeded clients are on 10.x)
    for topic in ("#", "$SYS/#", "a/b"):
        assert emqx_server.subscribe("local", topic).result == "allow"
    assert sorted(emqx_server.client("local").subscriptions) == ["#", "$SYS/#", "a/b"]


def test_the_default_rules_deny_a_remote_client_the_broad_subscriptions(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("remote", ip_address="10.1.2.3")
    decisions = {topic: emqx_server.subscribe("remote", topic).result for topic in ("#", "+/#", "$SYS/brokers", "a/#", "+/+")}
    assert decisions == {"#": "deny", "+/#": "deny", "$SYS/brokers": "deny", "a/#": "allow", "+/+": "allow"}
    assert sorted(emqx_server.client("remote").subscriptions) == ["+/+", "a/#"]  # a denied filter is not subscribed
    assert emqx_server.publish("$SYS/x", "p", from_clientid="remote").authorized  # rule 4: allow all
    emqx_server.add_client("dash", ip_address="10.1.2.4", username="dashboard")
    assert emqx_server.subscribe("dash", "$SYS/#").result == "allow"  # rule 1


def test_rest_subscribe_and_publish_are_never_authorized(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("remote", ip_address="10.1.2.3")
    ok(post(emqx_server, "/clients/remote/subscribe", {"topic": "#"}))
    assert "#" in emqx_server.client("remote").subscriptions
    ok(post(emqx_server, "/publish", {"topic": "$SYS/x", "payload": "p"}), 202)  # no subscribers, but sent
    assert emqx_server.client("remote").authz_cache == []
    assert counter(emqx_server, "client.authorize") == 0


# -- the check: sources in order, no_match, deny_action, superusers --------------------------------


def test_builtin_rules_run_clients_then_users_then_all(emqx_server: EmqxServer) -> None:
    emqx_server.add_authz_source("built_in_database")  # at the front: it runs before the file
    emqx_server.add_authz_rules([rule("t/#", "deny")])
    emqx_server.add_authz_rules([rule("t/u", "allow")], username="u1")
    emqx_server.add_authz_rules([rule("t/c", "allow")], clientid="c1")
    emqx_server.add_client("c1", username="u1")
    emqx_server.add_client("c2", username="u1")
    assert emqx_server.subscribe("c1", "t/c").result == "allow"
    assert emqx_server.subscribe("c1", "t/u").result == "allow"
    assert emqx_server.subscribe("c2", "t/c").result == "deny"
    assert emqx_server.subscribe("c1", "t/x").result == "deny"
    assert emqx_server.subscribe("c1", "other").result == "allow"  # no rule matches: the file source allows


def test_placeholders_eq_qos_and_retain_conditions(emqx_server: EmqxServer) -> None:
    emqx_server.add_authz_source("built_in_database")
    emqx_server.set_authz_settings(no_match="deny", cache={"enable": False})
    ok(delete(emqx_server, "/authorization/sources/file"), 204)
    emqx_server.add_authz_rules(
        [
            rule("${username}/#", action="publish", qos=[0, 1], retain=False),
            rule("${clientid}/in", action="subscribe"),
            rule("eq shared/#", action="subscribe"),
        ]
    )
    emqx_server.add_client("c1", username="alice")
    assert emqx_server.publish("alice/x", "p", qos=1, from_clientid="c1").authorized
    assert not emqx_server.publish("alice/x", "p", qos=2, from_clientid="c1").authorized
    assert not emqx_server.publish("alice/x", "p", retain=True, from_clientid="c1").authorized
    assert not emqx_server.publish("bob/x", "p", from_clientid="c1").authorized
    assert emqx_server.subscribe("c1", "c1/in").result == "allow"
    assert emqx_server.subscribe("c1", "shared/#").result == "allow"
    assert emqx_server.subscribe("c1", "shared/a").result == "deny"  # eq: the filter itself, not its matches
    assert emqx_server.subscribe("c1", "$share/g/shared/#").result == "allow"  # checked without $share/g/


def test_a_denied_publish_is_not_routed_and_counts(emqx_server: EmqxServer) -> None:
    acl = '{deny, all, publish, ["secret/#"]}.\n{allow, all}.\n'
    ok(put(emqx_server, "/authorization/sources/file", {"type": "file", "rules": acl}), 204)
    emqx_server.add_client("listener", subscriptions=["secret/#"])
    emqx_server.add_client("sender")
    published = emqx_server.publish("secret/a", "p", qos=1, from_clientid="sender")
    assert not published.authorized and published.matched == 0
    assert emqx_server.client("listener").mqueue == [] and emqx_server.client("listener").inflight == []
    assert counter(emqx_server, "packets.publish.auth_error") == 1
    assert counter(emqx_server, "authorization.deny") == 1
    assert counter(emqx_server, "authorization.matched.deny") == 1
    assert emqx_server.publish("open/a", "p", from_clientid="sender").authorized


def test_no_match_applies_when_no_source_decides(emqx_server: EmqxServer) -> None:
    ok(delete(emqx_server, "/authorization/sources/file"), 204)
    emqx_server.add_client("c1")
    assert emqx_server.subscribe("c1", "a").result == "allow"
    ok(put(emqx_server, "/authorization/settings", {"no_match": "deny", "deny_action": "ignore", "cache": {}}))
    assert emqx_server.subscribe("c1", "b").result == "deny"
    assert counter(emqx_server, "authorization.nomatch") == 2


def test_deny_action_disconnect_disconnects_the_client(emqx_server: EmqxServer) -> None:
    emqx_server.set_authz_settings(no_match="deny", deny_action="disconnect")
    ok(delete(emqx_server, "/authorization/sources/file"), 204)
    emqx_server.add_client("c1")
    assert emqx_server.subscribe("c1", "a").result == "deny"
    assert get(emqx_server, "/clients/c1").status_code == 404  # expiry 0: the session went with it
    emqx_server.add_client("c2", expiry_interval=60)
    assert not emqx_server.publish("t", "p", from_clientid="c2").authorized
    assert ok(get(emqx_server, "/clients/c2"))["connected"] is False


def test_a_superuser_skips_the_sources(emqx_server: EmqxServer) -> None:
    emqx_server.set_authz_settings(no_match="deny")
    ok(delete(emqx_server, "/authorization/sources/file"), 204)
    emqx_server.add_client("admin-client").is_superuser = True
    assert emqx_server.subscribe("admin-client", "#").result == "allow"
    assert counter(emqx_server, "authorization.superuser") == 1
    assert counter(emqx_server, "authorization.nomatch") == 0


def test_disabled_sources_are_skipped_without_counting(emqx_server: EmqxServer) -> None:
    ok(put(emqx_server, "/authorization/sources/file", {"type": "file", "enable": False, "rules": "{deny, all}."}), 204)
    emqx_server.add_client("c1")
    assert emqx_server.subscribe("c1", "t").result == "allow"  # no_match
    assert ok(get(emqx_server, "/authorization/sources/file/status"))["metrics"]["total"] == 0
    assert counter(emqx_server, "authorization.nomatch") == 1


def test_the_rule_index_agrees_with_trying_every_rule() -> None:
    """The index only narrows the rules tried: the first match is the one a plain scan finds."""
    filters = ["#", "+", "a", "a/#", "a/+", "+/b", "a/b", "a/b/#", "+/+/c", "$SYS/#", "eq a/+", "eq #", "${clientid}/#", "x/${username}"]
    topics = ["a", "a/b", "a/b/c", "b/b", "x/u1", "c1/z", "$SYS/x", "a/+", "#", "+/b", "", "a//b"]
    session = Session("c1", node="n", username="u1")
    for first in range(len(filters)):
        ordered = filters[first:] + filters[:first]
        terms = [consult(f'{{{"allow" if i % 2 else "deny"}, all, all, ["{f}"]}}.')[0] for i, f in enumerate(ordered)]
        rules = RuleList(compile_term(term) for term in terms)
        for topic in topics:
            words = tuple(topic.split("/"))
            rendered = [f.replace("${clientid}", "c1").replace("${username}", "u1") for f in ordered]
            scan = next(
                (("allow" if i % 2 else "deny") for i, f in enumerate(rendered)
                 if (tuple(f[3:].split("/")) == words if f.startswith("eq ") else topic_matches(words, tuple(f.split("/"))))),
                "nomatch",
            )  # fmt: skip
            for action in (PUBLISH, SUBSCRIBE):
                assert rules.first_match(session, Access(action, 0), words) == scan, (ordered, topic)


# -- the cache ------------------------------------------------------------------------------------


def test_results_are_cached_per_client_and_hit(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", ip_address="10.0.0.9")
    assert emqx_server.subscribe("c1", "#", qos=1).from_cache is False
    assert emqx_server.subscribe("c1", "#", qos=1).from_cache is True
    assert emqx_server.publish("x", "p", qos=1, retain=True, from_clientid="c1").authorized
    cache = ok(get(emqx_server, "/clients/c1/authorization/cache"))
    assert [(entry["access"], entry["result"], entry["topic"]) for entry in cache] == [
        ({"action_type": "subscribe", "qos": 1}, "deny", "#"),
        ({"action_type": "publish", "qos": 1, "retain": True}, "allow", "x"),
    ]
    assert all(isinstance(entry["updated_time"], int) for entry in cache)
    assert counter(emqx_server, "authorization.cache_hit") == 1
    assert counter(emqx_server, "authorization.cache_miss") == 2
    assert counter(emqx_server, "client.authorize") == 2  # the hit consulted no source
    assert counter(emqx_server, "authorization.deny") == 2  # the hit counts its result too


def test_a_cached_result_outlives_a_rule_change_until_drained(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    emqx_server.add_client("c1")
    assert emqx_server.subscribe("c1", "t").result == "allow"
    ok(post(emqx_server, RULES + "/all", {"rules": [rule("t", "deny")]}), 204)
    assert emqx_server.subscribe("c1", "t").result == "allow"  # rule writes do not drain
    ok(put(emqx_server, "/authorization/settings", {**DEFAULT_SETTINGS, "no_match": "deny"}))
    assert emqx_server.subscribe("c1", "t").result == "allow"  # nor do settings
    ok(delete(emqx_server, "/authorization/cache"), 204)
    assert ok(get(emqx_server, "/clients/c1/authorization/cache")) == []
    assert emqx_server.subscribe("c1", "t").result == "deny"


def test_source_changes_drain_every_cache(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.subscribe("c1", "t")
    ok(post(emqx_server, "/authorization/sources/file/move", {"position": "front"}), 204)
    assert emqx_server.client("c1").authz_cache == []


def test_cache_settings_disable_exclude_and_bound(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1")
    emqx_server.set_authz_settings(cache={"excludes": ["nocache/#"], "max_size": 2})
    for topic in ("nocache/a", "a", "b", "c"):
        emqx_server.subscribe("c1", topic)
    assert [entry["topic"] for entry in emqx_server.client("c1").authz_cache] == ["b", "c"]  # the oldest went
    emqx_server.set_authz_settings(cache={"enable": False})
    emqx_server.subscribe("c1", "d")
    assert [entry["topic"] for entry in emqx_server.client("c1").authz_cache] == ["b", "c"]


# -- metrics and status ---------------------------------------------------------------------------


def test_source_status_counts_its_checks(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("c1", ip_address="10.0.0.9")
    emqx_server.subscribe("c1", "#")
    emqx_server.subscribe("c1", "a")
    metrics = {"allow": 1, "deny": 1, "ignore": 0, "nomatch": 0, "rate": 0.0, "rate_last5m": 0.0, "rate_max": 0.0, "total": 2}
    assert ok(get(emqx_server, "/authorization/sources/file/status")) == {
        "metrics": metrics,
        "node_error": [],
        "node_metrics": [{"metrics": metrics, "node": "emqx@127.0.0.1"}],
        "node_resource_metrics": [{"metrics": {}, "node": "emqx@127.0.0.1"}],
        "node_status": [{"node": "emqx@127.0.0.1", "status": "connected"}],
        "resource_metrics": {},
        "status": "connected",
    }
    node = ok(get(emqx_server, "/metrics"))[0]
    assert (node["authorization.matched.allow"], node["authorization.matched.deny"], node["packets.subscribe.auth_error"]) == (1, 1, 1)
    error(get(emqx_server, "/authorization/sources/built_in_database/status"), 404, "NOT_FOUND", "Not found: built_in_database")


def test_status_counts_on_the_clients_node(cluster: EmqxServer) -> None:
    cluster.add_client("a", node="emqx@n1")
    cluster.add_client("b", node="emqx@n2")
    cluster.subscribe("a", "x")
    cluster.subscribe("b", "#")
    cluster.subscribe("b", "y")
    status = ok(get(cluster, "/authorization/sources/file/status"))
    assert [(row["node"], row["metrics"]["total"], row["metrics"]["deny"]) for row in status["node_metrics"]] == [("emqx@n1", 1, 0), ("emqx@n2", 2, 1)]
    assert (status["metrics"]["total"], status["metrics"]["allow"], status["metrics"]["deny"]) == (3, 2, 1)
    by_node = {row["node"]: row for row in ok(get(cluster, "/metrics"))}
    assert (by_node["emqx@n1"]["client.authorize"], by_node["emqx@n2"]["client.authorize"]) == (1, 2)


# -- sources --------------------------------------------------------------------------------------


def test_create_prepends_and_refuses_bad_sources(emqx_server: EmqxServer) -> None:
    before = authz_state(emqx_server)
    refusals = [
        ({"type": "bogus_zz"}, hocon(reason="unknown_authz_type", path="root", got="bogus_zz")),
        ({"type": "file"}, hocon(reason="required_field", path="root.rules", matched_type="authz:api_file")),
        (
            {"type": "built_in_database", "max_rules": 0},
            hocon(value=0, reason={"expected": "pos_integer()"}, path="root.max_rules", matched_type="authz:builtin_db"),
        ),
        (
            {"type": "built_in_database", "foo": 1},
            hocon(unmatched="enable,max_rules", unknown="foo", reason="unknown_fields", path="root", matched_type="authz:builtin_db"),
        ),
        (
            {"type": "built_in_database", "enable": "x", "max_rules": 0},
            hocon(path="root", matched_type="authz:builtin_db", errors=[
                {"value": "x", "reason": "Unable to parse boolean value", "path": "root.enable", "kind": "validation_error"},
                {"value": 0, "reason": {"expected": "pos_integer()"}, "path": "root.max_rules", "kind": "validation_error"},
            ]),
        ),  # fmt: skip
        ({"type": "file", "rules": "{allow, all, foo, all}."}, "#{reason => invalid_authorization_action,value => foo}"),
        ({"type": "file", "rules": "{maybe, all}."}, "#{reason => invalid_authorization_permission,value => maybe}"),
        ({"type": "file", "rules": "{allow, {nobody, 1}, all, all}."}, "#{identifier => {nobody,1},reason => invalid_client_match_condition}"),
        ({"type": "file", "rules": "{allow, all, {publish, [{qos, 3}]}, all}."}, "#{qos => 3,reason => invalid_authorization_qos}"),
        ({"type": "file", "rules": "{allow, all, all}."}, "#{reason => invalid_authorization_rule,value => {allow,all,all}}"),
        ({"type": "file", "rules": "{allow, all}}."}, '{bad_acl_file_content,{1,erl_parse,["syntax error before: ","\'}\'"]}}'),
        ({"type": "file", "rules": "{allow, all}."}, "{duplicated_authz_source_type,file}"),
    ]
    for body, message in refusals:
        error(post(emqx_server, "/authorization/sources", body), 400, "BAD_REQUEST", message)
    response = post(emqx_server, "/authorization/sources", {})
    assert (response.status_code, response.content) == (500, b"")  # hocon's union selector crashes
    assert authz_state(emqx_server) == before
    ok(post(emqx_server, "/authorization/sources", {"type": "built_in_database"}), 204)
    assert ok(get(emqx_server, "/authorization/sources")) == {"sources": [BUILTIN, DEFAULT_FILE]}


def test_update_replaces_in_place_and_keeps_counters(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    emqx_server.add_client("c1")
    emqx_server.subscribe("c1", "t")
    ok(put(emqx_server, "/authorization/sources/file", {"type": "file", "rules": "{deny, all}.", "enable": True}), 204)
    assert ok(get(emqx_server, "/authorization/sources"))["sources"][1] == {"enable": True, "rules": "{deny, all}.", "type": "file"}
    assert ok(get(emqx_server, "/authorization/sources/file/status"))["metrics"]["total"] == 1
    assert emqx_server.subscribe("c1", "t").result == "deny"  # the cache was drained


def test_update_refusals_leave_the_source(emqx_server: EmqxServer) -> None:
    before = authz_state(emqx_server)
    error(put(emqx_server, "/authorization/sources/built_in_database", {"type": "built_in_database"}), 404, "NOT_FOUND", "Not found: built_in_database")
    error(put(emqx_server, "/authorization/sources/file", {"type": "built_in_database"}), 400, "BAD_REQUEST", "Type mismatch")
    error(put(emqx_server, "/authorization/sources/file", {"type": "file", "rules": "{allow, all, foo, all}."}), 400, "BAD_REQUEST",
          "#{reason => invalid_authorization_action,value => foo}")  # fmt: skip
    error(get(emqx_server, "/authorization/sources/foo_bogus"), 400, "BAD_REQUEST",
          hocon(value="foo_bogus", reason="unable_to_convert_to_enum_symbol", path="type"))  # fmt: skip
    assert authz_state(emqx_server) == before


def test_delete_of_an_enabled_builtin_source_drops_its_rules(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    emqx_server.add_authz_rules([rule("t")], username="u1")
    ok(put(emqx_server, "/authorization/sources/built_in_database", {"type": "built_in_database", "enable": False}), 204)
    ok(delete(emqx_server, "/authorization/sources/built_in_database"), 204)
    with_builtin(emqx_server)
    assert ok(get(emqx_server, RULES + "/users/u1")) == {"rules": [shown("t")], "username": "u1"}  # a disabled one keeps them
    ok(delete(emqx_server, "/authorization/sources/built_in_database"), 204)
    with_builtin(emqx_server)
    error(get(emqx_server, RULES + "/users/u1"), 404, "NOT_FOUND", "Not Found")
    error(delete(emqx_server, "/authorization/sources/http"), 404, "NOT_FOUND", "Not found: http")


def test_move_and_order(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    types = lambda: [source["type"] for source in ok(get(emqx_server, "/authorization/sources"))["sources"]]  # noqa: E731
    before = authz_state(emqx_server)
    move = "/authorization/sources/file/move"
    error(post(emqx_server, move, {"position": "before:"}), 400, "BAD_REQUEST", "Invalid parameter. Cannot be placed before an empty target")
    error(post(emqx_server, move, {"position": "after:"}), 400, "BAD_REQUEST", "Invalid parameter. Cannot be placed after an empty target")
    error(post(emqx_server, move, {"position": "middle"}), 400, "BAD_REQUEST", "Invalid parameter. Unknow position")
    error(post(emqx_server, move, {"position": "before:http"}), 400, "BAD_REQUEST", "{pre_config_update,emqx_authz,{not_found_source,http}}")
    error(post(emqx_server, move, {"position": "after:file"}), 400, "BAD_REQUEST", "{pre_config_update,emqx_authz,{not_found_source,file}}")
    response = post(emqx_server, move, {"position": "before:zzz"})
    assert response.status_code == 500 and response.json()["message"].startswith('throw, {unknown_authz_source_type,<<"zzz">>}')
    error(post(emqx_server, "/authorization/sources/http/move", {"position": "front"}), 404, "NOT_FOUND", "Not found: http")
    error(post(emqx_server, move, {}), 400, "BAD_REQUEST", hocon(reason="required_field", path="root.position"))
    order = "/authorization/sources/order"
    error(put(emqx_server, order, []), 400, "BAD_REQUEST", "No positions are specified for authorization sources: built_in_database, file")
    error(put(emqx_server, order, [{"type": "http"}, {"type": "redis"}, {"type": "file"}]), 400, "BAD_REQUEST",
          "Authorization sources: redis, http are not found, No positions are specified for authorization sources: built_in_database")  # fmt: skip
    error(put(emqx_server, order, [{"type": "file"}, {"type": "file"}]), 400, "BAD_REQUEST",  # each is taken once
          "Authorization sources: file are not found, No positions are specified for authorization sources: built_in_database")  # fmt: skip
    assert authz_state(emqx_server) == before
    ok(post(emqx_server, move, {"position": "front"}), 204)
    assert types() == ["file", "built_in_database"]
    ok(post(emqx_server, move, {"position": "after:built_in_database"}), 204)
    assert types() == ["built_in_database", "file"]
    ok(put(emqx_server, order, [{"type": "file"}, {"type": "built_in_database"}]), 204)
    assert types() == ["file", "built_in_database"]


# -- settings -------------------------------------------------------------------------------------


def test_settings_are_replaced_whole_and_echoed_raw(emqx_server: EmqxServer) -> None:
    body = {"no_match": "deny", "deny_action": "disconnect", "cache": {"ttl": 60000, "max_size": 10}}
    expected = {"cache": {"enable": True, "excludes": [], "max_size": 10, "ttl": 60000}, "deny_action": "disconnect", "no_match": "deny"}
    assert ok(put(emqx_server, "/authorization/settings", body)) == expected
    assert ok(get(emqx_server, "/authorization/settings")) == expected


def test_settings_ignore_a_field_they_do_not_have(emqx_server: EmqxServer) -> None:
    """Each field is checked as a hocon root of its own, and hocon keeps only the roots it
    checks: an unknown top-level field is dropped, not refused (found by fuzzing;
    it was a 500, the fake's own answer failing its schema)."""
    body = {"no_match": "deny", "deny_action": "ignore", "cache": {"enable": False}, "©": 1}
    expected = {"cache": {"enable": False, "excludes": [], "max_size": 32, "ttl": "1m"}, "deny_action": "ignore", "no_match": "deny"}
    assert ok(put(emqx_server, "/authorization/settings", body)) == expected
    assert ok(get(emqx_server, "/authorization/settings")) == expected


def test_settings_refusals(emqx_server: EmqxServer) -> None:
    before = authz_state(emqx_server)
    settings = "/authorization/settings"
    error(put(emqx_server, settings, {**DEFAULT_SETTINGS, "cache": {"ttl": "bogus"}}), 400, "BAD_REQUEST",
          hocon(value="bogus", reason="Not a valid duration", path="cache.ttl"))  # fmt: skip
    error(put(emqx_server, settings, {**DEFAULT_SETTINGS, "no_match": "x_bogus"}), 400, "BAD_REQUEST",
          hocon(value="x_bogus", reason="unable_to_convert_to_enum_symbol", path="no_match"))  # fmt: skip
    error(put(emqx_server, settings, {"no_match": "deny"}), 400, "BAD_REQUEST", hocon(reason="required_field", path="cache"))
    error(put(emqx_server, settings, {**DEFAULT_SETTINGS, "cache": {"max_size": 0}}), 400, "BAD_REQUEST",
          hocon(value=0, reason={"expected": "1..1048576"}, path="cache.max_size"))  # fmt: skip
    error(put(emqx_server, settings, {**DEFAULT_SETTINGS, "cache": {"foo": 1}}), 400, "BAD_REQUEST",
          hocon(unmatched="enable,excludes,...", unknown="foo", reason="unknown_fields", path="cache"))  # fmt: skip
    error(put(emqx_server, settings, {"no_match": "deny", "cache": {}}), 500, "INTERNAL_ERROR", "error, function_clause, []")
    assert authz_state(emqx_server) == before


# -- built-in database rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", RULES + "/users", None), ("POST", RULES + "/users", []), ("GET", RULES + "/users/u1", None),
        ("PUT", RULES + "/users/u1", {"username": "u1", "rules": []}), ("DELETE", RULES + "/users/u1", None),
        ("GET", RULES + "/clients", None), ("POST", RULES + "/clients", []), ("GET", RULES + "/clients/c1", None),
        ("PUT", RULES + "/clients/c1", {"clientid": "c1", "rules": []}), ("DELETE", RULES + "/clients/c1", None),
        ("GET", RULES + "/all", None), ("POST", RULES + "/all", {"rules": []}), ("DELETE", RULES + "/all", None),
        ("DELETE", RULES, None),
    ],
)  # fmt: skip
def test_every_rules_path_needs_the_builtin_source(emqx_server: EmqxServer, method: str, path: str, body: Any) -> None:
    response = requests.request(method, emqx_server.api_url + path, json=body, auth=emqx_server.auth, timeout=30)
    assert (response.status_code, response.json()) == (404, NO_BUILTIN)


def test_user_and_client_rules_crud(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    for kind, name, label in (("users", "username", "User"), ("clients", "clientid", "Client")):
        entries = [{name: "a", "rules": [rule("t/1", action="publish", qos=["1"], retain="true")]}, {name: "b", "rules": []}]
        ok(post(emqx_server, f"{RULES}/{kind}", entries), 204)
        a = {name: "a", "rules": [shown("t/1", action="publish", qos=[1], retain=True)]}
        assert ok(get(emqx_server, f"{RULES}/{kind}/a")) == a
        before = authz_state(emqx_server)
        error(post(emqx_server, f"{RULES}/{kind}", [{name: "c", "rules": []}, {name: "a", "rules": []}]), 409, "ALREADY_EXISTS",
              f"{label} 'a' already exist")  # fmt: skip
        response = put(emqx_server, f"{RULES}/{kind}/a", {name: "other", "rules": []})
        assert response.status_code == 500 and response.json()["message"].startswith("error, function_clause")
        error(delete(emqx_server, f"{RULES}/{kind}/zz"), 404, "NOT_FOUND", "Username Not Found" if kind == "users" else "ClientID Not Found")
        error(get(emqx_server, f"{RULES}/{kind}/zz"), 404, "NOT_FOUND", "Not Found")
        assert authz_state(emqx_server) == before
        ok(put(emqx_server, f"{RULES}/{kind}/a", {name: "a", "rules": [rule("x", "deny", "subscribe")]}), 204)
        assert ok(get(emqx_server, f"{RULES}/{kind}/a"))["rules"] == [shown("x", "deny", "subscribe")]
        ok(delete(emqx_server, f"{RULES}/{kind}/a"), 204)
        assert ok(get(emqx_server, f"{RULES}/{kind}")) == {"data": [{name: "b", "rules": []}], "meta": {"count": 1, "hasnext": False, "limit": 100, "page": 1}}


def test_rule_listing_pages_as_ets_reads_them(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    ok(post(emqx_server, RULES + "/users", [{"username": name, "rules": []} for name in ("ann", "bob", "cat")]), 204)
    page = ok(get(emqx_server, RULES + "/users", {"limit": 3}))
    assert [row["username"] for row in page["data"]] == ["cat", "bob", "ann"]  # descending
    assert page["meta"] == {"count": 3, "hasnext": True, "limit": 3, "page": 1}  # a full page says there is more
    assert ok(get(emqx_server, RULES + "/users", {"limit": 3, "page": 2})) == {"data": [], "meta": {"count": 3, "hasnext": False, "limit": 3, "page": 2}}
    assert ok(get(emqx_server, RULES + "/users", {"like_username": "a"})) == {
        "data": [{"rules": [], "username": "cat"}, {"rules": [], "username": "ann"}],
        "meta": {"hasnext": False, "limit": 100, "page": 1},
    }


def test_rule_schema_refusals(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    before = authz_state(emqx_server)
    users = RULES + "/users"
    error(post(emqx_server, users, [{"username": "u", "rules": [rule("t", action="pub")]}]), 400, "BAD_REQUEST",
          hocon(value="pub", reason="unable_to_convert_to_enum_symbol", path="root.1.rules.1.action"))  # fmt: skip
    error(post(emqx_server, users, [{"username": "u", "rules": [rule("t", qos=1)]}]), 400, "BAD_REQUEST",
          hocon(path="root.1.rules.1.qos", got=1, expected_data_type="array"))  # fmt: skip
    error(post(emqx_server, users, [{"username": "u", "rules": [rule("t", qos=[3])]}]), 400, "BAD_REQUEST",
          hocon(value=3, reason="Unable to parse string", path="root.1.rules.1.qos.1"))  # fmt: skip
    error(post(emqx_server, users, [{}]), 400, "BAD_REQUEST", hocon(reason="required_field", path="root.1.username"))
    error(post(emqx_server, users, [{"username": "u", "extra": 1}]), 400, "BAD_REQUEST",
          hocon(unmatched="rules", unknown="extra", reason="unknown_fields", path="root.1"))  # fmt: skip
    error(put(emqx_server, users + "/u", {}), 400, "BAD_REQUEST", hocon(reason="required_field", path="root.username"))
    assert authz_state(emqx_server) == before


def test_bodies_the_handlers_crash_on(emqx_server: EmqxServer) -> None:
    """Bodies the schema lets through and EMQX's handlers do not expect: 500, nothing stored."""
    with_builtin(emqx_server)
    before = authz_state(emqx_server)
    crashes = [
        post(emqx_server, RULES + "/users", {}),  # an object where the handler wants a list
        post(emqx_server, RULES + "/clients", [{"clientid": "c1"}]),  # no `rules`
        post(emqx_server, RULES + "/all", {}),
        put(emqx_server, RULES + "/clients/c1", {"clientid": "c1"}),
        get(emqx_server, RULES + "/users", {"like_username": ""}),
    ]
    for response in crashes:
        assert response.status_code == 500 and response.json()["code"] == "INTERNAL_ERROR", response.text
    response = put(emqx_server, "/authorization/sources/file", {"rules": ""})
    assert (response.status_code, response.content) == (500, b"")
    assert authz_state(emqx_server) == before


def test_max_rules_bounds_each_entry(emqx_server: EmqxServer) -> None:
    ok(post(emqx_server, "/authorization/sources", {"type": "built_in_database", "max_rules": 1}), 204)
    before = authz_state(emqx_server)
    two = [rule("a"), rule("b")]
    error(post(emqx_server, RULES + "/users", [{"username": "ok", "rules": []}, {"username": "u1", "rules": two}]), 400, "BAD_REQUEST",
          "The rules length of User 'u1' exceeds the maximum limit.")  # fmt: skip
    error(post(emqx_server, RULES + "/clients", [{"clientid": "c1", "rules": two}]), 400, "BAD_REQUEST",
          "The rules length of Client 'c1' exceeds the maximum limit.")  # fmt: skip
    error(put(emqx_server, RULES + "/users/u1", {"username": "u1", "rules": two}), 400, "BAD_REQUEST", "The rules length exceeds the maximum limit.")
    error(post(emqx_server, RULES + "/all", {"rules": two}), 400, "BAD_REQUEST", "The length of rules exceeds the maximum limit.")
    assert authz_state(emqx_server) == before  # all or nothing: `ok` was not stored


def test_rules_for_all_and_purge(emqx_server: EmqxServer) -> None:
    with_builtin(emqx_server)
    assert ok(get(emqx_server, RULES + "/all")) == {"rules": []}
    ok(post(emqx_server, RULES + "/all", {"rules": [rule("eq a/#", action="subscribe")]}), 204)
    assert ok(get(emqx_server, RULES + "/all")) == {"rules": [shown("eq a/#", action="subscribe")]}
    emqx_server.add_authz_rules([rule("t")], clientid="c1")
    error(delete(emqx_server, RULES), 400, "BAD_REQUEST", "'built_in_database' type source must be disabled before purge.")
    ok(put(emqx_server, "/authorization/sources/built_in_database", {"type": "built_in_database", "enable": False}), 204)
    ok(delete(emqx_server, RULES), 204)
    assert ok(get(emqx_server, RULES + "/all")) == {"rules": []}
    assert ok(get(emqx_server, RULES + "/clients"))["data"] == []
    ok(post(emqx_server, RULES + "/all", {"rules": [rule("x")]}), 204)
    ok(delete(emqx_server, RULES + "/all"), 204)
    assert ok(get(emqx_server, RULES + "/all")) == {"rules": []}


# -- scenario files and snapshots -----------------------------------------------------------------


def test_a_scenario_sets_up_authorization_and_snapshots_round_trip(emqx_server: EmqxServer) -> None:
    emqx_server.load_scenario(
        {
            "authorization": {
                "settings": {"no_match": "deny", "cache": {"max_size": 5}},
                "sources": [{"type": "built_in_database"}, {"type": "file", "rules": "{allow, all, subscribe, [\"pub/#\"]}."}],
                "rules": {"users": {"alice": [rule("alice/#")]}, "all": [rule("$SYS/#", "deny")]},
            },
            "clients": [{"clientid": "c1", "username": "alice"}],
        }
    )
    assert ok(get(emqx_server, "/authorization/settings"))["cache"] == {"enable": True, "excludes": [], "max_size": 5, "ttl": "1m"}
    assert emqx_server.subscribe("c1", "alice/x").result == "allow"
    assert emqx_server.subscribe("c1", "pub/x").result == "allow"
    assert emqx_server.subscribe("c1", "other").result == "deny"
    saved = emqx_server.snapshot()
    assert saved["metrics"]["emqx@127.0.0.1"]["authorization.nomatch"] == 1  # the runtime counters are state too
    counted = {"emqx@127.0.0.1": {"total": 3, "allow": 1, "deny": 0, "nomatch": 2, "ignore": 0}}
    assert saved["authorization"]["sources"][0] == {**BUILTIN, "metrics": counted}
    emqx_server.reset()
    assert ok(get(emqx_server, "/authorization/sources")) == {"sources": [DEFAULT_FILE]}
    emqx_server.restore(saved)
    assert emqx_server.snapshot() == saved
    assert ok(get(emqx_server, RULES + "/users/alice")) == {"rules": [shown("alice/#")], "username": "alice"}


def test_a_bad_authorization_section_loads_nothing(emqx_server: EmqxServer) -> None:
    with pytest.raises(ScenarioError, match=r"authorization\.sources\[0\]: is refused: \{bad_acl_file_content,"):
        emqx_server.load_scenario({"authorization": {"sources": [{"type": "file", "rules": "{allow, all"}]}})
    with pytest.raises(ScenarioError, match=r"authorization\.rules\.users\.u1\[0\]: is refused"):
        emqx_server.load_scenario({"authorization": {"rules": {"users": {"u1": [{"topic": "t", "permission": "maybe", "action": "all"}]}}}})
    assert ok(get(emqx_server, "/authorization/sources")) == {"sources": [DEFAULT_FILE]}
