"""The EMQX Cloud deployment flavours (`flavours.cloud`): `cloud-v4` (4.x at `/api`) and
`cloud-v5` (`/api/v5`, dedicated or serverless), HTTPS only, one App ID / App Secret per
deployment with no default, HTTP Basic only."""

from __future__ import annotations

import base64
import json
import re
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
        ca_file = running.banner_value("CA certificate:")
        url = running.banner_value("REST API:")
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


# -- §3.2, item by item (items 2, 3, 4, 10, 17 and 18 are shown above; 19 is the Platform's) --


@pytest.mark.parametrize("flavour", ["cloud-v4", "cloud-v5"])
def test_3_2_item_1_plain_http_to_a_deployment_fails_as_a_tls_port_does(flavour: str) -> None:
    """HTTPS only: a plain HTTP request gets no HTTP answer at all (the TLS handshake fails on
    it) and reaches nothing: the journal stays empty."""
    with EmqxServer(flavour=flavour, app=APP) as server:
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url.replace("https://", "http://") + "/api/clients", auth=APP, timeout=30)
        assert server.journal.entries() == []


@pytest.mark.parametrize("host", ["abc12345.ala.us-east-1.emqxsl.com:8443", "lacd0b7b.test-cn.emqx.cloud:8443", "anything"])
def test_3_2_item_1_any_host_is_the_deployments_host(v5: EmqxServer, host: str) -> None:
    """One server is one deployment, whatever host the request names (the README says why the
    Host header is not checked)."""
    v5.add_client("c1")
    response = call(v5, "GET", "/clients/c1", headers={"Host": host})
    assert (response.status_code, response.json()["clientid"]) == (200, "c1")


def test_3_2_item_5_cloud_v4_has_4x_envelopes_codes_and_text_errors(v4: EmqxServer) -> None:
    v4.add_client("c1", subscriptions=["t/1"])
    found = call(v4, "GET", "/subscriptions/c1")
    assert (found.status_code, found.headers["content-type"], found.json()) == (
        200, "application/json", {"code": 0, "data": [{"node": "emqx@127.0.0.1", "clientid": "c1", "topic": "t/1", "qos": 0}]},
    )  # fmt: skip
    business = call(v4, "POST", "/mqtt/subscribe", json={"topic": "t/2", "clientid": "gone"})
    assert (business.status_code, business.json()) == (200, {"code": 112, "message": "channel_not_found"})
    bad_topic = call(v4, "POST", "/mqtt/publish", json={"topic": "t/#", "payload": "p"})
    assert (bad_topic.status_code, bad_topic.json()) == (200, {"code": 115, "message": "bad_topic"})
    for method, path, options, status, text in [
        ("GET", "/no/such/resource", {}, 404, "Not found."),
        ("PUT", "/clients", {}, 404, "Not found."),  # an unknown method: minirest has no 405
        ("POST", "/mqtt/publish", {"data": "{bad", "headers": {"Content-Type": "application/json"}}, 400, "Bad Request"),
        ("POST", "/banned", {"json": {"who": "c9", "as": "clientid"}}, 500, "Internal Error"),  # no reason: 4.4's crash
    ]:
        response = call(v4, method, path, **options)
        assert (response.status_code, response.headers["content-type"], response.text) == (status, "text/plain", text), path
    assert [session.clientid for session in v4.broker.sessions] == ["c1"] and v4.published == []


def test_3_2_item_6_v5_successes_are_bare_objects_and_data_meta_lists_without_code(v5: EmqxServer) -> None:
    v5.add_client("c1", subscriptions=["t/1"])
    one = call(v5, "GET", "/clients/c1").json()
    listed = call(v5, "GET", "/clients").json()
    subscriptions = call(v5, "GET", "/clients/c1/subscriptions").json()
    assert (one["clientid"], "code" in one, "data" in one) == ("c1", False, False)
    assert (sorted(listed), listed["meta"], [row["clientid"] for row in listed["data"]]) == (
        ["data", "meta"], {"page": 1, "limit": 100, "count": 1, "hasnext": False}, ["c1"],
    )  # fmt: skip
    assert subscriptions == [{"clientid": "c1", "topic": "t/1", "qos": 0, "nl": 0, "rap": 0, "rh": 0, "node": "emqx@127.0.0.1", "durable": False}]


@pytest.fixture
def v5_builtin(v5: EmqxServer) -> EmqxServer:
    """A v5 deployment with its built-in database authenticator and authorization source: a
    Serverless one has them from the start, a Dedicated one is given them."""
    if not v5.broker.config.builtin_database:
        v5.add_authenticator()
        v5.add_authz_source("built_in_database")
    return v5


def test_3_2_item_7_v5_errors_are_emqx_5s_with_real_statuses(v5_builtin: EmqxServer) -> None:
    v5 = v5_builtin
    v5.add_authn_user("u1", "p1")
    for method, path, options, status, code, message in [
        ("POST", "/publish", {"data": "{bad", "headers": {"Content-Type": "application/json"}}, 400, "BAD_REQUEST", "Invalid json message received"),
        ("GET", "/clients?ip_address=nope", {}, 400, "INVALID_PARAMETER", "the ip_address parameter expected type is ip, but the value is nope"),
        ("GET", "/clients/gone", {"auth": (APP[0], "wrong")}, 401, "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret"),
        ("GET", "/clients/gone", {}, 404, "CLIENTID_NOT_FOUND", "Client ID not found"),
        ("GET", BUILTIN_USERS + "/gone", {}, 404, "NOT_FOUND", "User not found"),
        ("POST", BUILTIN_USERS, {"json": {"user_id": "u1", "password": "p"}}, 409, "ALREADY_EXISTS", "User already exists"),
    ]:
        response = call(v5, method, path, **options)
        assert (response.status_code, response.headers["content-type"], response.json()) == (
            status, "application/json", {"code": code, "message": message},
        ), path  # fmt: skip


def test_3_2_item_8_v5_writes_answer_204_and_a_user_created_201(v5_builtin: EmqxServer) -> None:
    v5 = v5_builtin
    v5.add_client("c1", subscriptions=["t/1", "t/2", "t/3"])
    rules = [{"topic": "t/#", "action": "all", "permission": "allow"}]
    created = call(v5, "POST", BUILTIN_USERS, json={"user_id": "u1", "password": "p1"})
    assert (created.status_code, created.json()) == (201, {"user_id": "u1", "is_superuser": False})
    for method, path, body in [
        ("POST", "/clients/c1/unsubscribe", {"topic": "t/1"}),
        ("POST", "/clients/c1/unsubscribe/bulk", [{"topic": "t/2"}, {"topic": "t/3"}]),
        ("DELETE", BUILTIN_USERS + "/u1", None),
        ("POST", RULES + "/clients", [{"clientid": "c1", "rules": rules}]),
        ("PUT", RULES + "/clients/c1", {"clientid": "c1", "rules": rules}),
        ("DELETE", RULES + "/clients/c1", None),
        ("POST", RULES + "/all", {"rules": rules}),
        ("DELETE", RULES + "/all", None),
        ("DELETE", "/clients/c1", None),
    ]:
        response = call(v5, method, path, json=body)
        assert (response.status_code, response.content) == (204, b""), path
    assert "c1" not in v5.broker.sessions
    assert call(v5, "GET", BUILTIN_USERS).json()["data"] == []


def test_3_2_item_9_v5_pages_with_page_and_limit_and_ignores_underscored_ones(v5: EmqxServer) -> None:
    v5.add_clients(3)
    assert call(v5, "GET", "/clients").json()["meta"] == {"page": 1, "limit": 100, "count": 3, "hasnext": False}
    assert call(v5, "GET", "/clients?page=2&limit=2").json()["meta"] == {"page": 2, "limit": 2, "count": 3, "hasnext": False}
    assert call(v5, "GET", "/clients?limit=10000").json()["meta"]["limit"] == 10000
    too_many = call(v5, "GET", "/clients?limit=10001")
    assert (too_many.status_code, too_many.json()["code"]) == (400, "BAD_REQUEST")
    # the Cloud pages' own example: `_page`/`_limit` are no EMQX 5 parameters, so the defaults hold
    underscored = call(v5, "GET", "/clients?_page=2&_limit=1").json()
    assert (underscored["meta"], len(underscored["data"])) == ({"page": 1, "limit": 100, "count": 3, "hasnext": False}, 3)
    # a fuzzy filter scans: no count, hasnext still there
    assert call(v5, "GET", "/clients?like_clientid=zzz").json()["meta"] == {"page": 1, "limit": 100, "hasnext": False}


def test_3_2_item_11_v5_publish_takes_payload_encoding_and_answers_200_202_400(v5: EmqxServer) -> None:
    v5.add_client("c1", subscriptions=["t/1"])
    sent = call(v5, "POST", "/publish", json={"topic": "t/1", "payload": "aGk=", "payload_encoding": "base64", "qos": 1})
    assert (sent.status_code, list(sent.json())) == (200, ["id"])
    assert len(sent.json()["id"]) == 32 and v5.published[-1].message.payload == b"hi"
    nobody = call(v5, "POST", "/publish", json={"topic": "t/2", "payload": "p"})
    assert (nobody.status_code, nobody.json()) == (202, {"reason_code": 16, "message": "no_matching_subscribers"})
    wildcard = call(v5, "POST", "/publish", json={"topic": "t/+", "payload": "p"})
    assert (wildcard.status_code, wildcard.json()) == (400, {"reason_code": 144, "message": "topic_name_invalid"})
    for body in ({"topic": "t/1", "payload": "aGk=", "encoding": "base64"}, {"topic": "t/1"}, {"payload": "p"}):
        refused = call(v5, "POST", "/publish", json=body)  # 4.x's `encoding`, or a required field missing
        assert (refused.status_code, refused.json()["code"]) == (400, "BAD_REQUEST"), body
    assert len(v5.published) == 2


def test_3_2_item_12_v5_bulk_publish_answers_by_its_worst_item(v5: EmqxServer) -> None:
    """200 when every item reached a subscriber, 202 when one reached none (the array mixing
    ids and reason codes). 503 (a dispatch that failed) is the worst: no state of the fake fails a
    dispatch, so test_publish.py::test_the_bulk_status_is_200_only_when_all_are_and_503_when_any_failed
    shows that rank."""
    v5.add_client("c1", subscriptions=["t/1"])
    every = call(v5, "POST", "/publish/bulk", json=[{"topic": "t/1", "payload": "a"}, {"topic": "t/1", "payload": "b"}])
    assert (every.status_code, [list(item) for item in every.json()]) == (200, [["id"], ["id"]])
    mixed = call(v5, "POST", "/publish/bulk", json=[{"topic": "t/1", "payload": "a"}, {"topic": "t/2", "payload": "b"}])
    assert (mixed.status_code, list(mixed.json()[0]), mixed.json()[1]) == (202, ["id"], {"reason_code": 16, "message": "no_matching_subscribers"})


def test_3_2_item_13_v5_subscribe_answers_the_subscription_and_bulk_an_array(v5: EmqxServer) -> None:
    v5.add_client("c1")
    one = call(v5, "POST", "/clients/c1/subscribe", json={"topic": "t/a", "qos": 1})
    assert (one.status_code, one.json()) == (200, {"clientid": "c1", "topic": "t/a", "qos": 1, "nl": 0, "rap": 0, "rh": 0, "node": "emqx@127.0.0.1"})
    bulk = call(v5, "POST", "/clients/c1/subscribe/bulk", json=[{"topic": "t/b", "qos": 1}, {"topic": "t/c"}])
    assert (bulk.status_code, bulk.json()) == (
        200,
        [
            {"clientid": "c1", "topic": "t/b", "qos": 1, "nl": 0, "rap": 0, "rh": 0, "node": "emqx@127.0.0.1"},
            {"clientid": "c1", "topic": "t/c", "qos": 0, "nl": 0, "rap": 0, "rh": 0, "node": "emqx@127.0.0.1"},
        ],
    )
    assert list(v5.broker.sessions.get("c1").subscriptions) == ["t/a", "t/b", "t/c"]


SNI = "qe92461d.ala.us-east-1.emqxsl.com"


def test_3_2_item_14_serverless_clients_carry_the_serverless_extras(serverless: EmqxServer) -> None:
    """The Serverless page's client: v5 names, RFC 3339 ms times, `peersni`, `tenant_id_from`,
    `listener` `tcp:default` (the Cloud's proxy ends TLS), `cn`/`dn` null, a null username."""
    serverless.add_client("mqttx_07cb8109", username=None, peersni=SNI, created_at="2023-09-15T09:36:20.871Z", ip_address="115.236.21.86")
    one = call(serverless, "GET", "/clients/mqttx_07cb8109").json()
    assert {key: one[key] for key in ("peersni", "tenant_id_from", "listener", "cn", "dn", "username", "created_at", "connected_at")} == {
        "peersni": SNI, "tenant_id_from": "peersni", "listener": "tcp:default", "cn": None, "dn": None, "username": None,
        "created_at": "2023-09-15T09:36:20.871+00:00", "connected_at": "2023-09-15T09:36:20.871+00:00",
    }  # fmt: skip
    assert {"inflight_cnt", "inflight_max", "awaiting_rel_cnt", "awaiting_rel_max", "mqueue_max", "subscriptions_max", "is_persistent", "enable_authn"} <= set(one)
    assert call(serverless, "GET", "/clients").json()["data"] == [one]


def test_3_2_item_14_a_client_certificate_shows_where_emqx_shows_it(cloud_v5_servers: dict[str, EmqxServer]) -> None:
    """`cn` and `dn` are client fields (seeded, snapshotted): EMQX 5.8.9 shows them for a client
    that presented a certificate, on any door; `tenant_id_from` is a Serverless node's alone."""
    certified = {"cn": "device-7", "dn": "CN=device-7,O=acme"}
    for server in cloud_v5_servers.values():
        server.reset()
        server.add_client("plain")
        server.add_client("certified", **certified)
    dedicated, serverless = cloud_v5_servers["dedicated"], cloud_v5_servers["serverless"]
    plain = call(dedicated, "GET", "/clients/plain").json()
    assert ("cn" in plain, "dn" in plain, "tenant_id_from" in plain) == (False, False, False)
    assert {key: call(dedicated, "GET", "/clients/certified").json().get(key) for key in (*certified, "tenant_id_from")} == {**certified, "tenant_id_from": None}
    assert {key: call(serverless, "GET", "/clients/certified").json()[key] for key in certified} == certified
    snapshot = dedicated.snapshot()
    assert {key: snapshot["clients"][1][key] for key in certified} == certified
    with EmqxServer() as self_hosted:
        self_hosted.load_scenario({"clients": [{"clientid": "certified", **certified}]})
        row = requests.get(self_hosted.api_url + "/clients/certified", auth=self_hosted.auth, timeout=30).json()
        assert ({key: row[key] for key in certified}, "tenant_id_from" in row) == (certified, False)


def test_3_2_item_15_the_authenticator_id_is_taken_escaped_or_not_and_no_password_shows(v5_builtin: EmqxServer) -> None:
    v5 = v5_builtin
    escaped = BUILTIN_USERS.replace(":", "%3A")
    assert call(v5, "POST", escaped, json={"user_id": "u1", "password": "p1", "is_superuser": True}).status_code == 201
    assert call(v5, "POST", BUILTIN_USERS, json={"user_id": "u2", "password": "p2"}).status_code == 201
    for users in (BUILTIN_USERS, escaped):
        listed = sorted(call(v5, "GET", users).json()["data"], key=lambda user: user["user_id"])
        assert listed == [{"user_id": "u1", "is_superuser": True}, {"user_id": "u2", "is_superuser": False}]
        assert call(v5, "GET", users + "/u1").json() == {"user_id": "u1", "is_superuser": True}
    changed = call(v5, "PUT", escaped + "/u2", json={"password": "new", "is_superuser": True})
    assert (changed.status_code, changed.json()) == (200, {"user_id": "u2", "is_superuser": True})
    assert v5.connect("c2", username="u2", password="new").is_superuser is True
    imported = call(v5, "POST", escaped.replace("/users", "/import_users") + "?type=plain", json=[{"user_id": "u3", "password": "p3"}])
    assert (imported.status_code, imported.json()) == (200, {"total": 1, "success": 1, "override": 0, "skipped": 0, "failed": 0})  # 5.8.9's counts
    assert call(v5, "DELETE", escaped + "/u3").status_code == 204


RULES = "/authorization/sources/built_in_database/rules"


def test_3_2_item_16_authz_rules_take_arrays_for_owners_an_object_for_all_and_put_replaces(v5_builtin: EmqxServer) -> None:
    v5 = v5_builtin
    full = {"topic": "t/1", "action": "publish", "permission": "deny", "qos": [1], "retain": True}
    assert call(v5, "POST", RULES + "/users", json=[{"username": "u1", "rules": [full]}]).status_code == 204
    assert call(v5, "GET", RULES + "/users/u1").json() == {"username": "u1", "rules": [full]}
    listed = call(v5, "GET", RULES + "/users").json()
    assert listed == {"data": [{"username": "u1", "rules": [full]}], "meta": {"page": 1, "limit": 100, "count": 1, "hasnext": False}}
    replacing = [{"topic": "t/2", "action": "subscribe", "permission": "allow"}]
    assert call(v5, "PUT", RULES + "/users/u1", json={"username": "u1", "rules": replacing}).status_code == 204
    assert call(v5, "GET", RULES + "/users/u1").json()["rules"] == [{**replacing[0], "qos": [0, 1, 2], "retain": "all"}]
    assert call(v5, "POST", RULES + "/all", json={"rules": [{"topic": "#", "action": "all", "permission": "deny"}]}).status_code == 204
    assert call(v5, "GET", RULES + "/all").json() == {"rules": [{"topic": "#", "action": "all", "permission": "deny", "qos": [0, 1, 2], "retain": "all"}]}
    for path, body in [
        (RULES + "/clients", {"clientid": "c1", "rules": replacing}),  # an object where an array is due
        (RULES + "/clients", [{"clientid": "c1", "rules": [{"topic": "t", "action": "pubsub", "permission": "allow"}]}]),  # 4.x's action
        (RULES + "/all", [{"rules": replacing}]),  # an array where the object is due
    ]:
        refused = call(v5, "POST", path, json=body)
        assert (refused.status_code, refused.json()["code"]) == (400, "BAD_REQUEST"), body
    assert call(v5, "GET", RULES + "/clients").json()["data"] == []


def _concrete(route: Any, prefix: str) -> str:
    """The route's path with a value in each parameter: the node is the one node, the rest `c1`."""
    path = route.path_under(prefix).replace("{node}", "emqx@127.0.0.1")
    return re.sub(r"\{[^}]+\}", "c1", path).replace("/authentication/c1", "/authentication/password_based%3Abuilt_in_database")


def _v4_family(response: requests.Response) -> str | None:
    """What is wrong with a cloud-v4 answer, None when it is of 4.x's family: minirest's JSON
    envelope (an integer code, or auth_mnesia's bare message) or one of its text errors."""
    if response.headers.get("content-type") == "text/plain":
        return None if (response.status_code, response.text) in V4_TEXT_ERRORS else "an unknown text error"
    if response.headers.get("content-type") != "application/json":
        return "JSON without application/json"
    body = response.json()
    if response.status_code != 200 or not isinstance(body, dict):
        return "a JSON answer that is not an HTTP 200 object"
    return None if isinstance(body.get("code", 0), int) and set(body) <= {"code", "data", "meta", "message"} else "not minirest's envelope"


V4_TEXT_ERRORS = {(404, "Not found."), (400, "Bad Request"), (500, "Internal Error")}


def _v5_family(response: requests.Response) -> str | None:
    """What is wrong with a cloud-v5 answer, None when it is of EMQX 5's family: no body (204,
    405), or JSON typed so, with a string `code` on an error and no `code` on a success
    (`/publish`'s `reason_code` answers are its own)."""
    if not response.content:
        return None if response.status_code in (204, 405) else "an empty body"
    if response.headers.get("content-type") != "application/json":  # `/status`'s text, a success
        return None if response.status_code < 400 and not _is_json(response.text) else "a body that is not application/json"
    body = response.json()
    code = body.get("code") if isinstance(body, dict) else None
    if response.status_code >= 400 and "reason_code" not in body:
        return None if isinstance(code, str) and code.isupper() and set(body) == {"code", "message"} else "not EMQX 5's error"
    return None if code is None else "a code on a success"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("door", ["cloud-v4", "dedicated", "serverless"])
def test_3_2_item_20_every_route_answers_bad_requests_in_its_doors_one_family(
    door: str, v4: EmqxServer, cloud_v5_servers: dict[str, EmqxServer]
) -> None:
    """Every route of each door, sent a body that is not JSON, then bad paging and a body of the
    wrong shape: JSON is always `application/json`; text errors only on cloud-v4; a v4 door never
    answers EMQX 5's error shape, a v5 door never minirest's envelope or text."""
    server = v4 if door == "cloud-v4" else cloud_v5_servers[door]
    server.reset()
    family = _v4_family if door == "cloud-v4" else _v5_family
    (flavour,) = server.app.flavours
    wrong: list[str] = []
    for route in flavour.routes:
        server.add_client("c1", subscriptions=["t/1"])
        path = _concrete(route, flavour.prefix)
        for query, options in [
            ("", {"data": "{not json", "headers": {"Content-Type": "application/json"}}),
            ("?page=0&limit=-1&_page=x&_limit=y", {"json": 7}),
        ]:
            response = call(server, route.method, path.removeprefix(flavour.prefix) + query, **options)
            problem = family(response)
            if problem:
                wrong.append(f"{route.method} {path}{query}: {problem} ({response.status_code} {response.text[:80]})")
    assert wrong == [], "\n".join(wrong)
    assert len(flavour.routes) >= 30
