"""The EMQX Cloud deployment flavours (`flavours.cloud`): `cloud-v4` (4.x at `/api`) and
`cloud-v5` (`/api/v5`, dedicated or serverless), HTTPS only, one App ID / App Secret per
deployment with no default, HTTP Basic only."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.cli import default_port
from pytest_emqx_mock.flavours.cloud import NO_APP_HINT, SERVERLESS_OPERATIONS

APP = ("d1e2f3a4", "c0ffee5ecret")
BUILTIN_USERS = "/authentication/password_based:built_in_database/users"


def call(server: EmqxServer, method: str, path: str, auth: Any = APP, **options: Any) -> requests.Response:
    """`path` under the server's first flavour's prefix, verified with the server's CA."""
    return requests.request(method, server.api_url + path, auth=auth, verify=server.ca_file, timeout=30, **options)


@pytest.fixture(scope="module")
def cloud_v4() -> EmqxServer:
    with EmqxServer(flavour="cloud-v4", app=APP) as server:
        yield server


@pytest.fixture
def v4(cloud_v4: EmqxServer) -> EmqxServer:
    cloud_v4.reset()
    return cloud_v4


# -- cloud-v4 ------------------------------------------------------------------------------


def test_cloud_v4_serves_the_4x_resources_at_api_over_https(v4: EmqxServer) -> None:
    v4.add_client("c1", username="u1")
    assert v4.api_url == f"https://127.0.0.1:{v4.port}/api"
    response = call(v4, "GET", "/clients/c1")
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], [row["clientid"] for row in body["data"]], body["data"][0]["username"]) == (0, ["c1"], "u1")


def test_cloud_v4_answers_as_the_v4_flavour_does(v4: EmqxServer) -> None:
    """Built on the v4 flavour's routes: the same state gives the same body under both prefixes."""
    with EmqxServer(flavour=["cloud-v4", "v4"], app=APP, seed=7) as both:
        both.add_clients(3)
        cloud = requests.get(both.url + "/api/clients?_limit=2", auth=APP, verify=both.ca_file, timeout=30)
        self_hosted = requests.get(both.url + "/api/v4/clients?_limit=2", auth=APP, verify=both.ca_file, timeout=30)
    assert cloud.status_code == self_hosted.status_code == 200
    assert cloud.json() == self_hosted.json()
    assert cloud.json()["meta"] == {"page": 1, "limit": 2, "hasnext": True, "count": 3}


def test_cloud_v4_lists_its_routes_at_api(v4: EmqxServer) -> None:
    body = call(v4, "GET", "").json()
    assert body["code"] == 0
    assert {"method": "GET", "path": "/clients/", "name": "list_clients", "descr": "A list of clients on current node"} in body["data"]


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(("admin", "public"), id="EMQX 4's default app"),
        pytest.param((APP[0], "wrong"), id="a wrong secret"),
        pytest.param(None, id="no credentials"),
        pytest.param({"Authorization": 'Digest username="d1e2f3a4", realm="x", nonce="n", uri="/api/clients", response="r"'}, id="digest"),
        pytest.param({"Authorization": "Bearer abc.def"}, id="bearer"),
    ],
)
def test_cloud_v4_refuses_all_but_the_deployments_app_with_basic(v4: EmqxServer, auth: Any) -> None:
    headers = auth if isinstance(auth, dict) else {}
    response = call(v4, "POST", "/mqtt/publish", auth=None if isinstance(auth, dict) else auth, headers=headers, json={"topic": "t", "payload": "p"})
    assert (response.status_code, response.content) == (401, b"UNAUTHORIZED")
    assert response.headers["WWW-Authenticate"] == 'Basic Realm="minirest-server"'
    assert v4.published == []


def test_cloud_v4_has_no_v4_segment_and_no_status(v4: EmqxServer) -> None:
    assert (call(v4, "GET", "/v4/clients").status_code, call(v4, "GET", "/v4/clients").text) == (404, "Not found.")
    assert (call(v4, "GET", "/clients", auth=None).status_code) == 401  # credentials first, as minirest
    status = requests.get(v4.url + "/status", verify=v4.ca_file, timeout=30)
    assert (status.status_code, status.content) == (404, b"")


def test_cloud_v4_serves_https_only() -> None:
    with pytest.raises(ValueError, match="^a Cloud deployment serves HTTPS only: https=False cannot be honoured$"):
        EmqxServer(flavour="cloud-v4", https=False)


def test_a_deployment_without_an_app_refuses_every_call_saying_how_to_set_one() -> None:
    with EmqxServer(flavour="cloud-v4") as server:
        assert list(server.broker.apps) == []  # no admin/public
        response = call(server, "GET", "/clients", auth=("admin", "public"))
        assert (response.status_code, response.text) == (401, "UNAUTHORIZED: " + NO_APP_HINT)
        server.load_scenario({"apps": [{"app_id": "scenario1", "secret": "s1"}]})  # a scenario's apps serve
        assert call(server, "GET", "/clients", auth=("scenario1", "s1")).json() == {"code": 0, "data": [], "meta": {"page": 1, "limit": 10000, "hasnext": False, "count": 0}}
        server.reset()
        assert call(server, "GET", "/clients", auth=("scenario1", "s1")).status_code == 401  # a reset returns to no app


# -- cloud-v5 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud_v5_servers() -> dict[str, EmqxServer]:
    with EmqxServer(flavour="cloud-v5", app=APP) as dedicated, EmqxServer(flavour="cloud-v5", deployment="serverless", app=APP) as serverless:
        yield {"dedicated": dedicated, "serverless": serverless}


@pytest.fixture(params=["dedicated", "serverless"])
def v5(request: pytest.FixtureRequest, cloud_v5_servers: dict[str, EmqxServer]) -> EmqxServer:
    server = cloud_v5_servers[request.param]
    server.reset()
    return server


@pytest.fixture
def serverless(cloud_v5_servers: dict[str, EmqxServer]) -> EmqxServer:
    cloud_v5_servers["serverless"].reset()
    return cloud_v5_servers["serverless"]


def test_cloud_v5_serves_emqx_5_with_the_deployments_app(v5: EmqxServer) -> None:
    v5.add_client("c1")
    assert v5.api_url == f"https://127.0.0.1:{v5.port}/api/v5"
    response = call(v5, "GET", "/clients/c1")
    assert (response.status_code, response.json()["clientid"]) == (200, "c1")
    assert call(v5, "DELETE", "/clients/c1").status_code == 204
    assert "c1" not in v5.broker.sessions


def _token(server: EmqxServer) -> str:
    return server.login()


@pytest.mark.parametrize(
    ("header", "code", "message"),
    [
        (lambda s: None, "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic"),
        (lambda s: "Bearer " + _token(s), "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic"),
        (lambda s: 'Digest username="d1e2f3a4", realm="emqx", nonce="n", uri="/api/v5/publish", response="r"', "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic"),
        (lambda s: "Basic " + base64.b64encode(f"{s.api_key}:{s.api_secret}".encode()).decode(), "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret"),
        (lambda s: "Basic " + base64.b64encode(f"{APP[0]}:wrong".encode()).decode(), "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret"),
    ],
    ids=["none", "bearer", "digest", "an EMQX API key", "a wrong secret"],
)
def test_cloud_v5_refuses_anything_but_basic_with_the_app(v5: EmqxServer, header: Any, code: str, message: str) -> None:
    v5.add_client("c1")
    value = header(v5)
    response = call(v5, "POST", "/publish", auth=None, headers={"Authorization": value} if value else {}, json={"topic": "t", "payload": "p"})
    assert (response.status_code, response.json()) == (401, {"code": code, "message": message})
    assert response.headers["WWW-Authenticate"] == 'Basic Realm="emqx-dashboard"'
    assert v5.published == []


def test_cloud_v5_without_an_app_says_how_to_set_one() -> None:
    with EmqxServer(flavour="cloud-v5") as server:
        response = call(server, "GET", "/clients", auth=("admin", "public"))
        assert (response.status_code, response.json()) == (401, {"code": "BAD_API_KEY_OR_SECRET", "message": NO_APP_HINT})


def test_a_dedicated_deployment_serves_the_whole_v5_api(cloud_v5_servers: dict[str, EmqxServer]) -> None:
    dedicated = cloud_v5_servers["dedicated"]
    dedicated.reset()
    assert call(dedicated, "GET", "/nodes").status_code == 200
    assert call(dedicated, "GET", "/banned").json() == {"data": [], "meta": {"count": 0, "limit": 100, "page": 1}}


@pytest.mark.parametrize("path", ["/nodes", "/banned", "/authentication", "/authorization/sources", "/api_key", "/rules"])
def test_serverless_answers_what_its_documents_do_not_list_with_emqxs_404(serverless: EmqxServer, path: str) -> None:
    response = call(serverless, "GET", path, headers={"Accept": "application/json"})
    assert (response.status_code, response.json()) == (404, {"code": "NOT_FOUND", "message": "Request Path Not Found"})


def test_serverless_serves_exactly_the_documented_operations(serverless: EmqxServer) -> None:
    (flavour,) = serverless.app.flavours
    assert {route.key for route in flavour.routes} == SERVERLESS_OPERATIONS
    assert len(SERVERLESS_OPERATIONS) == 30


def test_serverless_has_its_built_in_database_authentication_and_authorization(serverless: EmqxServer) -> None:
    created = call(serverless, "POST", BUILTIN_USERS, json={"user_id": "dev1", "password": "pw", "is_superuser": False})
    assert (created.status_code, created.json()) == (201, {"user_id": "dev1", "is_superuser": False})
    listed = call(serverless, "GET", BUILTIN_USERS.replace(":", "%3A"))
    assert listed.json() == {"data": [{"user_id": "dev1", "is_superuser": False}], "meta": {"count": 1, "hasnext": False, "limit": 100, "page": 1}}
    rules = [{"topic": "dev1/#", "action": "all", "permission": "allow"}]
    added = call(serverless, "POST", "/authorization/sources/built_in_database/rules/clients", json=[{"clientid": "dev1", "rules": rules}])
    assert added.status_code == 204
    got = call(serverless, "GET", "/authorization/sources/built_in_database/rules/clients/dev1").json()
    assert got == {"clientid": "dev1", "rules": [{"topic": "dev1/#", "action": "all", "permission": "allow", "qos": [0, 1, 2], "retain": "all"}]}
    snapshot = serverless.snapshot()
    serverless.reset()
    assert call(serverless, "GET", BUILTIN_USERS).json()["data"] == []  # the reset's own authenticator, empty
    serverless.restore(snapshot)
    assert serverless.snapshot() == snapshot


def test_serverless_publish_as_emqx_5(serverless: EmqxServer) -> None:
    response = call(serverless, "POST", "/publish", json={"topic": "t/1", "payload": "hi"})
    assert (response.status_code, response.json()) == (202, {"reason_code": 16, "message": "no_matching_subscribers"})


def test_an_unknown_deployment_is_refused() -> None:
    with pytest.raises(ValueError, match="^no deployment 'shared': one of dedicated, serverless$"):
        EmqxServer(flavour="cloud-v5", deployment="shared")


def test_the_commands_default_port_for_cloud_deployments_is_8443() -> None:
    assert [default_port(names) for names in (["cloud-v4"], ["cloud-v5"], ["cloud-v4", "cloud-v5"], ["v5", "cloud-v5"], ["v4"])] == [8443, 8443, 8443, 18083, 8081]


# -- the plugin and the command ---------------------------------------------------------------


def test_the_marker_sets_up_a_cloud_deployment(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.emqx(flavour="cloud-v5", deployment="serverless", app=("id1", "secret1"), clients=["c1"])
        def test_serverless(emqx_server):
            response = requests.get(emqx_server.api_url + "/clients/c1", auth=("id1", "secret1"), verify=emqx_server.ca_file)
            assert response.json()["clientid"] == "c1"
            assert requests.get(emqx_server.api_url + "/nodes", auth=("id1", "secret1"), verify=emqx_server.ca_file).status_code == 404

        @pytest.mark.emqx(flavour="cloud-v4", apps=[{"app_id": "id2", "secret": "secret2"}])
        def test_v4(emqx_server):
            response = requests.get(emqx_server.api_url + "/clients", auth=("id2", "secret2"), verify=emqx_server.ca_file)
            assert response.json()["code"] == 0
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_command_serves_a_cloud_deployment() -> None:
    from test_cli import _Running

    running = _Running("--flavour", "cloud-v4", "--port", "0", "--app", "id1:secret1")
    try:
        banner = "\n".join(running.banner)
        assert "  AppID:           id1:secret1" in banner
        ca_file = next(line.split()[2] for line in running.banner if line.startswith("  CA certificate:"))
        url = next(line.split()[-1] for line in running.banner if line.startswith("  REST API:"))
        assert url.startswith("https://127.0.0.1:") and url.endswith("/api")
        assert f"curl --cacert {ca_file} -u id1:secret1 {url}/clients" in banner
        assert requests.get(url + "/clients", auth=("id1", "secret1"), verify=ca_file, timeout=30).json()["code"] == 0
    finally:
        code, _, err = running.stop()
    assert code == 0, err


def test_cloud_v4_answers_the_cloud_pages_4_3_era_shapes_as_4_4_19_does(v4: EmqxServer) -> None:
    """§3.2 items 17 and 18: the lookup gives `created_at`, not the password hash the Cloud page
    shows; the page's `DELETE /acl/all/$all/topic/{t}` reaches no route, as on a 4.x node."""
    assert call(v4, "POST", "/auth_username", json={"username": "u1", "password": "p"}).json() == {"code": 0}
    looked_up = call(v4, "GET", "/auth_username/u1").json()
    assert (looked_up["code"], sorted(looked_up["data"])) == (0, ["created_at", "username"])
    typo = call(v4, "DELETE", "/acl/all/$all/topic/t")
    assert (typo.status_code, typo.text) == (404, "Not found.")


# -- the handle's ready credentials ---------------------------------------------------------


def test_auth_is_the_credential_the_first_door_takes() -> None:
    """`emqx_server.auth` calls the first door: EMQX 5's administrator key, EMQX 4's default
    application, a Cloud deployment's App ID / App Secret (given, or the only one added)."""
    with EmqxServer(flavour="v4") as self_hosted, EmqxServer(flavour="v5,v4") as both:
        assert self_hosted.auth == ("admin", "public")
        assert requests.get(self_hosted.api_url + "/clients", auth=self_hosted.auth, timeout=30).json()["code"] == 0
        assert both.auth == (both.api_key, both.api_secret)
    with EmqxServer(flavour="cloud-v5", app=APP) as dedicated:
        assert dedicated.auth == APP
        assert call(dedicated, "GET", "/clients", auth=dedicated.auth).status_code == 200
    with EmqxServer(flavour="cloud-v4") as without_app:
        with pytest.raises(RuntimeError, match="0 applications and none ready to call with"):
            without_app.auth
        without_app.add_app("a1b2c3", secret="s3cret")
        assert without_app.auth == ("a1b2c3", "s3cret")
        assert call(without_app, "GET", "/clients", auth=without_app.auth).json()["code"] == 0
        without_app.add_app("d4e5f6", secret="other")
        with pytest.raises(RuntimeError, match="2 applications and none ready to call with"):
            without_app.auth


def test_the_ini_settings_give_a_session_of_cloud_tests_its_app_and_deployment(pytester: pytest.Pytester) -> None:
    """`emqx_app` and `emqx_deployment`: every test of a Cloud suite calls with the deployment's
    app, on the session server and on a marker's own server alike."""
    pytester.makeini("[pytest]\nemqx_flavour = cloud-v5\nemqx_app = d1e2f3a4:c0ffee5ecret\nemqx_deployment = serverless\n")
    pytester.makepyfile(
        """
        import pytest, requests

        def get(server, path):
            return requests.get(server.api_url + path, auth=server.auth, verify=server.ca_file)

        def test_session(emqx_server):
            assert emqx_server.auth == ("d1e2f3a4", "c0ffee5ecret")
            assert get(emqx_server, "/clients").status_code == 200
            assert get(emqx_server, "/nodes").status_code == 404  # not on a Serverless deployment

        @pytest.mark.emqx(seed=1)
        def test_own(emqx_server):
            assert emqx_server.auth == ("d1e2f3a4", "c0ffee5ecret")
            assert get(emqx_server, "/nodes").status_code == 404
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("emqx_app = only-an-id", "*emqx_app must be ID:SECRET, not 'only-an-id'*"),
        ("emqx_deployment = shared", "*emqx_deployment must be one of dedicated, serverless, not 'shared'*"),
    ],
)
def test_a_bad_ini_app_or_deployment_is_a_usage_error(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(f"[pytest]\nemqx_flavour = cloud-v5\n{ini}\n")
    pytester.makepyfile("def test_x(emqx_server): pass")
    pytester.runpytest_subprocess().stderr.fnmatch_lines([message])
