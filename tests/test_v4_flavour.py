"""EMQX 4.4's front door itself: choosing it (option, ini, marker, command), its apps and
their Basic authentication (every guarded route probed, as tests/test_auth_matrix.py does for
EMQX 5), minirest's framework answers, the route listing and `/status`, and the shared
machinery (faults, stubs, journal, seeding) on its paths."""

from __future__ import annotations

import base64
import http.client
import re
import subprocess
import sys
import threading
from typing import Any, Iterator

import pytest
import requests
from conftest import reset_for_a_test

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.cli import default_port
from pytest_emqx_mock.flavours.v4 import Emqx4
from pytest_emqx_mock.http.routing import Route
from pytest_emqx_mock.state.fields import SeedError

APP = ("admin", "public")
CHALLENGE = 'Basic Realm="minirest-server"'


@pytest.fixture(scope="module")
def door() -> Iterator[EmqxServer]:
    with EmqxServer(flavour="v4") as server:
        yield server


@pytest.fixture
def emqx(door: EmqxServer) -> Iterator[EmqxServer]:
    yield from reset_for_a_test(door)


def v4(emqx: EmqxServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("auth", APP)
    return requests.request(method, emqx.url + "/api/v4" + path, **kwargs)


def text(response: requests.Response) -> tuple[int, str | None, str]:
    return response.status_code, response.headers.get("content-type"), response.text


# -- choosing the flavour -------------------------------------------------------------------


def test_flavours_by_name() -> None:
    assert EmqxServer(flavour="v4").app.flavours[0].prefix == "/api/v4"
    assert [f.prefix for f in EmqxServer(flavour="v4,v5").app.flavours] == ["/api/v4", "/api/v5"]
    assert [f.prefix for f in EmqxServer(flavour=["v5", "v4"]).app.flavours] == ["/api/v5", "/api/v4"]
    assert [f.prefix for f in EmqxServer().app.flavours] == ["/api/v5"]
    with pytest.raises(ValueError, match="no flavour 'v3': one of v5, v4"):
        EmqxServer(flavour="v3")
    with pytest.raises(ValueError, match="name each flavour once"):
        EmqxServer(flavour="v4,v4")
    with pytest.raises(ValueError, match="not both"):
        EmqxServer(flavour="v4", flavours=[Emqx4])


def test_the_status_of_both_doors_is_the_first_one_s() -> None:
    """EMQX 5 and 4 each serve an un-prefixed `/status` (on their own ports): mounted side by
    side, the first door's answers."""
    with EmqxServer(flavour=["v4", "v5"]) as server:
        assert (requests.get(server.url + "/status").text, requests.post(server.url + "/status").status_code) == (
            "Node emqx@127.0.0.1 is started\nemqx is running",
            400,
        )
    with EmqxServer(flavour=["v5", "v4"]) as server:
        assert requests.post(server.url + "/status").status_code == 200  # EMQX 5's answers any method


def test_the_command_s_default_port_follows_its_flavours() -> None:
    assert (default_port(["v4"]), default_port(["v5"]), default_port(["v4", "v5"])) == (8081, 18083, 18083)


def test_the_command_serves_v4() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_emqx_mock.cli", "--flavour", "v4", "--port", "0", "--no-control-api"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    banner = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        url = re.search(r"listening on (http://127\.0\.0\.1:[0-9]+)$", "\n".join(banner), flags=re.M)
        assert url is not None, banner
        assert "  AppID:           admin:public" in banner
        assert f"  Try:             curl -u admin:public {url.group(1)}/api/v4/clients" in banner
        assert requests.get(url.group(1) + "/api/v4/clients", auth=APP, timeout=30).json()["code"] == 0
    finally:
        watchdog.cancel()
        process.terminate()
        process.communicate(timeout=30)


def test_the_plugin_chooses_by_ini_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nemqx_flavour = v4\n")
    pytester.makepyfile(
        """
        import pytest
        import requests

        def test_ini(emqx_server):
            assert emqx_server.api_url.endswith("/api/v4")
            assert requests.get(emqx_server.api_url + "/nodes", auth=("admin", "public")).json()["code"] == 0

        @pytest.mark.emqx(flavour="v5,v4", apps=["ops", {"app_id": "ci", "secret": "s3cret"}])
        def test_marker(emqx_server):
            assert emqx_server.api_url.endswith("/api/v5")
            assert requests.get(emqx_server.url + "/api/v4/nodes", auth=("ci", "s3cret")).json()["code"] == 0
            assert "ops" in emqx_server.broker.apps

        @pytest.mark.emqx(flavour="v3")
        def test_bad(emqx_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.emqx flavour: no flavour 'v3': one of v5, v4*"])


def test_a_bad_ini_flavour_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nemqx_flavour = v5,v9\n")
    pytester.makepyfile("def test_x(emqx_server): pass")
    result = pytester.runpytest_subprocess()
    result.stderr.fnmatch_lines(["*emqx_flavour must name each of its flavours once, of v5, v4, cloud-v4, cloud-v5, platform, not 'v5,v9'*"])


# -- apps and authentication ----------------------------------------------------------------


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


#: Each credential EMQX 4.4 refuses (`emqx_mgmt_http:authorize_appid/1`).
REFUSED = {
    "no header": {},
    "wrong secret": _basic("admin", "nope"),
    "unknown app": _basic("ghost", "public"),
    "disabled app": _basic("off", "s"),
    "expired app": _basic("old", "s"),
    "bearer": {"Authorization": "Bearer abc"},
    "not base64": {"Authorization": "Basic %%%"},
    "no colon": {"Authorization": "Basic " + base64.b64encode(b"admin").decode()},
}
ROUTES = [route for route in Emqx4(EmqxServer().broker).routes if not route.public]
#: (`GET /emqx_prometheus` is open by its raw path: `test_emqx_prometheus_needs_no_credentials`.)
GUARDED = [route for route in ROUTES if route.key != "GET /emqx_prometheus"]


def _concrete(route: Route) -> str:
    return ("/api/v4" + route.template).replace("{node}", "emqx@127.0.0.1").replace("{", "").replace("}", "")


def test_every_route_refuses_every_bad_credential_and_changes_nothing(emqx: EmqxServer) -> None:
    emqx.add_app("off", secret="s", status=False)
    emqx.add_app("old", secret="s", expired=1_000_000)
    emqx.add_client("c1", subscriptions=["t/1"])
    before = emqx.snapshot()
    connection = http.client.HTTPConnection("127.0.0.1", emqx.port, timeout=30)
    for route in [*GUARDED, Route("GET", "/no/such/path", lambda call: None)]:  # auth comes before routing
        for name, headers in REFUSED.items():
            connection.request(route.method, _concrete(route), body=b'{"who":"c1","as":"clientid","reason":"r"}', headers=headers)
            response = connection.getresponse()
            got = (response.status, response.getheader("WWW-Authenticate"), response.getheader("content-type"), response.read())
            assert got == (401, CHALLENGE, None, b"UNAUTHORIZED"), f"{route.method} {route.template} with {name}"
    assert emqx.snapshot() == before
    assert len(ROUTES) >= 25


def test_apps_from_python_and_their_checks(emqx: EmqxServer) -> None:
    app = emqx.add_app("ops", name="Ops", desc="the ops team")
    assert len(app.secret) >= 43 and app.status and app.expired is None
    assert v4(emqx, "GET", "/nodes", auth=("ops", app.secret)).json()["code"] == 0
    with pytest.raises(SeedError, match='app_id: the app "ops" exists already'):
        emqx.add_app("ops")
    with pytest.raises(SeedError, match=r"app_id: is not an AppID EMQX accepts: required: \^\[A-Za-z0-9\]"):
        emqx.add_app("_ops")
    with pytest.raises(SeedError, match="status: must be true or false"):
        emqx.add_app("x1", status="yes")  # type: ignore[typeddict-item]
    assert [a.app_id for a in emqx.broker.apps] == ["admin", "ops"]
    emqx.reset()
    assert [(a.app_id, a.secret, a.name, a.desc, a.status, a.expired) for a in emqx.broker.apps] == [
        ("admin", "public", "Default", "Application user", True, None)
    ]


def test_apps_in_scenarios_snapshots_and_the_control_api(emqx: EmqxServer) -> None:
    emqx.load_scenario({"apps": [{"app_id": "admin", "secret": "changed"}, {"app_id": "ci", "secret": "s", "expired": "2099-01-01T00:00:00Z"}]})
    assert v4(emqx, "GET", "/nodes").status_code == 401  # the default app's secret was replaced
    assert v4(emqx, "GET", "/nodes", auth=("admin", "changed")).status_code == 200
    snapshot = emqx.snapshot()
    assert snapshot["apps"][1] == {"app_id": "ci", "secret": "s", "name": "", "desc": "", "status": True, "expired": 4070908800.0}
    emqx.reset()
    emqx.restore(snapshot)
    assert v4(emqx, "GET", "/nodes", auth=("ci", "s")).status_code == 200
    seeded = requests.post(emqx.control_url + "/seed/apps", json={"app_id": "bot", "secret": "b", "status": False})
    assert seeded.status_code == 200, seeded.text
    assert v4(emqx, "GET", "/nodes", auth=("bot", "b")).status_code == 401  # disabled
    with pytest.raises(Exception, match=r"apps\[0\].app_id: is not an AppID EMQX accepts"):
        emqx.load_scenario({"apps": [{"app_id": "a b"}]})


# -- minirest's framework answers -------------------------------------------------------------


def test_framework_answers_are_text(emqx: EmqxServer) -> None:
    assert text(v4(emqx, "GET", "/nope")) == (404, "text/plain", "Not found.")
    assert text(v4(emqx, "PUT", "/clients")) == (404, "text/plain", "Not found.")  # no 405
    assert text(v4(emqx, "POST", "")) == (400, "text/plain", "Bad Request")  # the listing is GET only
    assert text(v4(emqx, "POST", "/banned", data=b"who=x")) == (400, "text/plain", "Bad Request")  # JSON whatever the type
    assert text(v4(emqx, "GET", "/nodes/emqx@elsewhere")) == (404, "text/plain", "Not found.")  # no such atom
    assert text(v4(emqx, "GET", "/clients", params={"_limit": "-1"})) == (500, "text/plain", "Internal Error")
    assert v4(emqx, "GET", "//clients/").json()["code"] == 0  # empty segments ignored
    outside = requests.get(emqx.url + "/api/v5/clients", auth=APP)
    assert (outside.status_code, outside.content) == (404, b"")  # the listener's router: no body
    assert not emqx.errors


def test_status_and_the_route_listing(emqx: EmqxServer) -> None:
    assert text(requests.get(emqx.url + "/status")) == (200, "text/plain", "Node emqx@127.0.0.1 is started\nemqx is running")
    assert text(requests.delete(emqx.url + "/status")) == (400, "text/plain", "Not found.")
    assert text(requests.patch(emqx.url + "/status")) == (400, "text/plain", "Not found.")  # any method but GET
    listing = v4(emqx, "GET", "").json()
    assert listing["code"] == 0
    by_name = {route["name"]: route for route in listing["data"]}
    assert by_name["delete_banned"] == {"name": "delete_banned", "method": "DELETE", "path": "/banned/:who", "descr": "Delete banned"}
    assert by_name["list_node_clients"]["path"] == "nodes/:node/clients/"
    assert by_name["lookup_client"] == {"name": "lookup_client", "method": "GET", "path": "/clients/:clientid", "descr": "Lookup a client in the cluster"}
    assert len(listing["data"]) == len(ROUTES) - 1  # every route but the listing itself
    assert v4(emqx, "GET", "/").json() == listing


# -- faults, stubs and the journal on v4 paths ---------------------------------------------------


def test_faults_answer_in_the_v4_envelope(emqx: EmqxServer) -> None:
    emqx.faults.error("GET /api/v4/clients", 200, "101", times=1)
    assert v4(emqx, "GET", "/clients").json() == {"code": 101, "message": "badrpc"}
    emqx.faults.error("GET /clients/{clientid}", 200, "112", "not_found", times=1)
    assert v4(emqx, "GET", "/clients/c1").json() == {"code": 112, "message": "not_found"}
    with pytest.raises(ValueError, match="unknown error code 'NODE_DOWN'"):
        emqx.faults.error("GET /api/v4/clients", 500, "NODE_DOWN")
    assert v4(emqx, "GET", "/clients").json()["code"] == 0


def test_a_string_code_on_a_v4_path_is_the_framework_s_text() -> None:
    with EmqxServer(flavour=["v5", "v4"]) as server:
        server.faults.error("GET /api/v4/nodes", 500, "INTERNAL_ERROR", times=1)
        assert text(requests.get(server.url + "/api/v4/nodes", auth=APP)) == (500, "text/plain", "Internal Error")


def test_stubs_and_the_journal_see_v4_paths(emqx: EmqxServer) -> None:
    emqx.stub("GET /api/v4/alarms", json={"code": 0, "data": []})
    assert v4(emqx, "GET", "/alarms").json() == {"code": 0, "data": []}
    emqx.add_client("c1")
    v4(emqx, "DELETE", "/clients/c1")
    emqx.journal.assert_called("DELETE /api/v4/clients/c1", times=1, credential="app:admin")
    emqx.journal.assert_called("DELETE /clients/{clientid}", times=1)
    assert [str(entry) for entry in emqx.journal][-1] == "DELETE /api/v4/clients/c1 -> 200"
