"""The version axis from a user's side: choosing a line (server, ini, option, marker, command),
what each reports, the one edition from 6.0, and the table of changes deciding what a line
serves (a route it does not serve is the route miss it is in EMQX)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
import requests
from api import get, post

from pytest_emqx_mock import EmqxServer, ScenarioError, cli, plugin, versions
from pytest_emqx_mock.http import apidocs
from pytest_emqx_mock.versions import ADDED, REMOVED, Change

# -- choosing a line ------------------------------------------------------------------------------


def test_the_plugin_s_list_of_versions_is_the_table_s() -> None:
    """The plugin writes it out so as not to import the state at start-up."""
    assert plugin._VERSIONS == versions.VERSIONS


@pytest.mark.parametrize(
    ("version", "release", "edition"),
    [("5.8", "5.8.9", "ce"), ("6.0", "6.0.3", "ee"), ("6.1", "6.1.4", "ee"), ("6.2", "6.2.2", "ee"), ("6.3", "6.3.0-beta.2", "ee")],
)
def test_each_line_reports_its_release_and_from_6_0_is_the_enterprise_build(version: str, release: str, edition: str) -> None:
    with EmqxServer(version=version) as server:
        assert (server.version, server.edition) == (version, edition)
        nodes = get(server, "/nodes").json()
        assert [node["version"] for node in nodes] == [release]
        # 6.3 asks credentials for the document (`http.apispec`)
        assert requests.get(server.url + "/api-docs/swagger.json", auth=server.auth, timeout=30).json()["info"]["version"] == release
        login = post(server, "/login", {"username": "admin", "password": "public"}, auth=None).json()
        assert (login["version"], login["license"]) == (release, {"edition": edition})


def test_the_default_is_5_8_community_edition_and_5_8_keeps_its_two_editions() -> None:
    with EmqxServer() as server:
        assert (server.version, server.edition, server.broker.config.release) == ("5.8", "ce", "5.8.9")
    assert EmqxServer(version="5.8", edition="ee").edition == "ee"


def test_a_bad_version_and_community_edition_at_6_x_are_value_errors() -> None:
    with pytest.raises(ValueError, match=r"^no EMQX version '6\.4': one of 5\.8, 6\.0, 6\.1, 6\.2, 6\.3$"):
        EmqxServer(version="6.4")
    with pytest.raises(ValueError, match=r"^EMQX 6\.0 has one edition, the enterprise build: edition='ce' applies to 5\.8 only$"):
        EmqxServer(version="6.0", edition="ce")
    assert EmqxServer(version="6.0", edition="ee").edition == "ee"  # what it is anyway


def test_the_command_takes_a_version_and_refuses_community_edition_at_6_x(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["--emqx-version", "7.0"], "argument --emqx-version: invalid choice: '7.0' (choose from 5.8, 6.0, 6.1, 6.2, 6.3)"),
        (["--emqx-version", "6.3", "--edition", "ce"], "EMQX 6.3 has one edition, the enterprise build: edition='ce' applies to 5.8 only"),
    ):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1].replace("'5.8', '6.0', '6.1', '6.2', '6.3'", "5.8, 6.0, 6.1, 6.2, 6.3") == f"emqx-mock: error: {message}"


def test_the_command_takes_the_seed_scenario_s_version_unless_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = tmp_path / "fleet.json"
    scenario.write_text('{"emqx_version": "6.1"}')
    assert cli.scenario_server(str(scenario)) == (None, "6.1")
    started: list[tuple[str, str]] = []

    class Stop(Exception):
        pass

    def refuse_to_start(**options: object) -> None:  # the options the command starts its fake with
        started.append((str(options["version"]), str(options["edition"])))
        raise Stop

    monkeypatch.setattr(cli, "EmqxServer", refuse_to_start)
    for argv, version in ((["--seed", str(scenario)], "6.1"), (["--seed", str(scenario), "--emqx-version", "6.3"], "6.3"), ([], "5.8")):
        with pytest.raises(Stop):
            cli.main(argv)
    assert started == [("6.1", "ee"), ("6.3", "ee"), ("5.8", "ce")]


VERSION_TESTS = """
import pytest

def test_session(emqx_server):
    print("session", emqx_server.version, emqx_server.edition)

@pytest.mark.emqx(version="6.3")
def test_marker(emqx_server):
    print("marker", emqx_server.version, emqx_server.edition)

@pytest.mark.emqx(version="5.8")
def test_back_to_5_8(emqx_server):
    print("back", emqx_server.version, emqx_server.edition)
"""


@pytest.mark.parametrize(
    ("ini", "session", "marker", "back"),
    [
        ("", "5.8 ce", "6.3 ee", "5.8 ce"),
        ("emqx_version = 6.1", "6.1 ee", "6.3 ee", "5.8 ce"),
        # the session's edition is for the 5.8 servers; a marker's 6.x server has its one
        ("emqx_edition = ee", "5.8 ee", "6.3 ee", "5.8 ee"),
        ("emqx_edition = ce", "5.8 ce", "6.3 ee", "5.8 ce"),
    ],
)
def test_ini_and_marker_choose_the_version(pytester: pytest.Pytester, ini: str, session: str, marker: str, back: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_lines=VERSION_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"*session {session}*", f"*marker {marker}*", f"*back {back}*"])


def test_the_option_chooses_the_version(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_lines=VERSION_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--emqx-version", "6.2")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*session 6.2 ee*", "*marker 6.3 ee*", "*back 5.8 ce*"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('version="7.0"', "@pytest.mark.emqx no EMQX version '7.0': one of 5.8, 6.0, 6.1, 6.2, 6.3"),
        ('version="6.3", edition="ce"', "@pytest.mark.emqx EMQX 6.3 has one edition, the enterprise build: edition='ce' applies to 5.8 only"),
    ],
)
def test_a_bad_version_in_the_marker_is_a_usage_error(pytester: pytest.Pytester, options: str, message: str) -> None:
    pytester.makepyfile(f"import pytest\n\n@pytest.mark.emqx({options})\ndef test_one(emqx_server):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*UsageError: {message}"])


# -- the table decides what a line serves ---------------------------------------------------------


def test_bridges_v1_and_durable_queues_end_at_6_0() -> None:
    for operation in ("GET /bridges", "POST /bridges_probe", "PUT /bridges/{id}/enable/{enable}", "GET /durable_queues/{id}"):
        assert versions.serves("5.8", operation)
        assert not any(versions.serves(version, operation) for version in versions.VERSIONS[1:])
    assert all(versions.serves(version, "GET /clients") for version in versions.VERSIONS)


@pytest.fixture
def alarms_removed_and_topics_added(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two rows the fake's own operations meet, and an intermediate line (5.10) made of one
    entry. The table is fixed for a process, whose documents are built once: built anew here."""
    monkeypatch.setattr(apidocs, "_built", {})
    monkeypatch.setattr(versions, "RELEASES", {**versions.RELEASES, "5.10": "5.10.4"})
    monkeypatch.setattr(
        versions,
        "CHANGES",
        (*versions.CHANGES, Change("5.10.0", REMOVED, "/alarms", "a test's"), Change("6.2.0", ADDED, "/topics", "a test's")),
    )
    versions._unserved.cache_clear()  # worked out once per table
    yield
    versions._unserved.cache_clear()


@pytest.mark.usefixtures("alarms_removed_and_topics_added")
@pytest.mark.parametrize(("version", "alarms", "topics"), [("5.8", True, False), ("5.10", False, False), ("6.1", False, False), ("6.2", False, True)])
def test_an_operation_a_line_does_not_serve_is_a_route_miss(version: str, alarms: bool, topics: bool) -> None:
    with EmqxServer(version=version) as server:
        miss = get(server, "/no_such_path", headers={"accept": "application/json"})
        assert miss.status_code == 404
        for path, served in (("/alarms", alarms), ("/topics", topics)):
            answer = get(server, path, headers={"accept": "application/json"})
            if served:
                assert answer.status_code == 200
            else:
                assert (answer.status_code, answer.headers["content-type"], answer.text) == (404, miss.headers["content-type"], miss.text)
        documented = requests.get(server.url + "/api-docs/swagger.json", timeout=30).json()["paths"]
        assert (("/alarms" in documented), ("/topics" in documented)) == (alarms, topics)
        # a path of the table is every method's (DELETE /alarms too)
        deleted = requests.delete(server.api_url + "/alarms", auth=server.auth, timeout=30)
        assert deleted.status_code == (204 if alarms else 404)


# -- the changed behaviours, each at a line before and after its row ------------------------------


@pytest.mark.parametrize(("version", "no_match"), [("5.8", "allow"), ("6.0", "deny"), ("6.3", "deny")])
def test_authorization_no_match_defaults_to_deny_from_6_0(version: str, no_match: str) -> None:
    with EmqxServer(version=version) as server:
        assert get(server, "/authorization/settings").json()["no_match"] == no_match
        server.reset()
        assert server.broker.authz.settings["no_match"] == no_match
        server.load_scenario({"authorization": {"settings": {"deny_action": "disconnect"}}})
        assert get(server, "/authorization/settings").json()["no_match"] == no_match  # what a scenario leaves out


@pytest.mark.parametrize(("version", "delayed_ok"), [("5.8", False), ("6.0", True)])
def test_a_delayed_publish_answers_200_with_its_id_from_5_9(version: str, delayed_ok: bool) -> None:
    with EmqxServer(version=version) as server:
        answer = post(server, "/publish", {"topic": "$delayed/10/t", "payload": "x"})
        if delayed_ok:
            assert (answer.status_code, list(answer.json())) == (200, ["id"])
        else:
            assert (answer.status_code, answer.json()) == (202, {"reason_code": 16, "message": "no_matching_subscribers"})
        # an undelayed message that matches nothing is refused alike at every version
        plain = post(server, "/publish", {"topic": "t", "payload": "x"})
        assert (plain.status_code, plain.json()) == (202, {"reason_code": 16, "message": "no_matching_subscribers"})


@pytest.mark.parametrize(
    ("version", "body"),
    [
        ("5.8", {"rel_vsn": "v5.8.9", "node_name": "emqx@127.0.0.1", "broker_status": "started", "app_status": "running"}),
        ("6.1", {"node_name": "emqx@127.0.0.1", "cluster": "emqxcl", "broker_status": "started", "app_status": "running"}),
    ],
)
def test_the_json_status_names_the_cluster_instead_of_rel_vsn_from_6_0(version: str, body: dict[str, str]) -> None:
    with EmqxServer(version=version) as server:
        for url in (server.url + "/status", server.api_url + "/status"):
            answer = requests.get(url, params={"format": "json"}, timeout=30)
            assert (answer.status_code, answer.text) == (200, json.dumps(body, separators=(",", ":")))  # keys descending, as jiffy
        text = requests.get(server.url + "/status", timeout=30)
        assert text.text == "Node emqx@127.0.0.1 is started\nemqx is running"  # the text is unchanged (6.2.2)


# -- scenarios name their version ----------------------------------------------------------------


def test_a_scenario_of_another_version_is_refused_and_a_bad_one_named() -> None:
    with EmqxServer(version="6.3") as server:
        server.load_scenario({"emqx_version": "6.3", "clients": [{"clientid": "c1"}]})
        assert [row["clientid"] for row in get(server, "/clients").json()["data"]] == ["c1"]
        with pytest.raises(ScenarioError) as refused:
            server.load_scenario({"emqx_version": "5.8", "clients": []})
        assert str(refused.value) == (
            "<scenario>: emqx_version: the scenario is for EMQX 5.8, and this server answers as EMQX 6.3: "
            "start one of its version (EmqxServer(version=...), the marker's version=, emqx-mock --emqx-version)"
        )
        with pytest.raises(ScenarioError, match=r"^<scenario>: emqx_version: no EMQX version 6: one of 5\.8, 6\.0, 6\.1, 6\.2, 6\.3$"):
            server.load_scenario({"emqx_version": 6})
        assert [row["clientid"] for row in get(server, "/clients").json()["data"]] == ["c1"]  # nothing loaded


def test_the_marker_s_scenario_picks_the_version_unless_the_marker_gives_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        SIX = {"emqx_version": "6.2", "clients": [{"clientid": "c1"}]}

        @pytest.mark.emqx(scenario=SIX)
        def test_scenario(emqx_server):
            assert (emqx_server.version, emqx_server.edition) == ("6.2", "ee")
            assert emqx_server.client("c1") is not None

        @pytest.mark.emqx(scenario={"emqx_version": "5.8"})
        def test_the_session_s_version(emqx_server):
            assert emqx_server.version == "5.8"

        @pytest.mark.emqx(scenario=SIX, version="6.3")
        def test_given(emqx_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ScenarioError: <scenario>: emqx_version: the scenario is for EMQX 6.2, and this server answers as EMQX 6.3*"])


def test_the_readme_s_versions_table_is_the_changelog_of_the_table() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = versions.changelog()
    assert len(rows) >= 5
    assert "| since | change | why |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n\n" in readme
