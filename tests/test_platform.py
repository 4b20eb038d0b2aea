"""The EMQX Platform API (`flavours.platform`): the account's deployments (list, status,
start, stop) and their TLS certificates, Key / Secret over HTTP Basic on HTTPS, the documented
statuses (201, 204; 401, 403, 404, 422, 429) and rate limits counted on the fake's clock, and
the link to the Cloud deployment doors the same process serves."""

from __future__ import annotations

import datetime
from typing import Any, Iterator

import pytest
import requests
import trustme
from conftest import ManualClock, manual_clock

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.cli import default_port
from pytest_emqx_mock.scripting.scenario import ScenarioError
from pytest_emqx_mock.state import platform
from pytest_emqx_mock.state.fields import SeedError

KEY = ("pk-test", "pk-secret")
T0 = 1_735_000_000.0  # 2024-12-24 00:26:40 UTC
CREATED = 1_732_157_460.0  # 2024-11-21 02:51:00 UTC


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    return manual_clock(monkeypatch, platform, T0)


@pytest.fixture(scope="module")
def platform_server() -> Iterator[EmqxServer]:
    with EmqxServer(flavour="platform", platform_key=KEY) as server:
        yield server


@pytest.fixture
def account(platform_server: EmqxServer, clock: ManualClock) -> EmqxServer:
    platform_server.reset()
    platform_server.add_deployment("mdfba81f", deployment_type="serverless", status="stopped", create_at=CREATED)
    platform_server.add_deployment(
        "b1f77113", name="factory", project_name="test", platform="Alibaba Cloud", region="Hangzhou", create_at=CREATED + 60, connections=5000
    )
    return platform_server


def call(server: EmqxServer, method: str, path: str, auth: Any = KEY, **options: Any) -> requests.Response:
    return requests.request(method, server.api_url + path, auth=auth, verify=server.ca_file, timeout=30, **options)


SERVERLESS = {
    "connections": 1000,
    "createAt": "2024-11-21 02:51",
    "deploymentID": "mdfba81f",
    "deploymentName": "deployment-mdfba81f",
    "deploymentType": "serverless",
    "platform": "AWS",
    "projectName": "default",
    "region": "N. Virginia (us-east-1)",
    "status": "stopped",
    "version": "v5",
}
DEDICATED = {
    "connections": 5000,
    "createAt": "2024-11-21 02:52",
    "deploymentID": "b1f77113",
    "deploymentName": "factory",
    "deploymentType": "dedicated",
    "platform": "Alibaba Cloud",
    "projectName": "test",
    "region": "Hangzhou",
    "status": "running",
    "version": "v5",
}


def _certificate(not_after: datetime.datetime) -> tuple[str, str, str]:
    """A certificate valid until `not_after`, its key, and its CA's certificate (PEM)."""
    ca = trustme.CA()
    leaf = ca.issue_cert("broker.example.com", not_after=not_after)
    return leaf.cert_chain_pems[0].bytes().decode(), leaf.private_key_pem.bytes().decode(), ca.cert_pem.bytes().decode()


CERT, CERT_KEY, CA_CERT = _certificate(datetime.datetime(2034, 5, 22, 2, 43, 21, tzinfo=datetime.timezone.utc))


# -- deployments ---------------------------------------------------------------------------


def test_the_platform_is_served_over_https_at_platform(account: EmqxServer) -> None:
    assert account.api_url == f"https://127.0.0.1:{account.port}/platform"
    assert account.auth == KEY
    assert default_port(["platform"]) == default_port(["platform", "cloud-v5"]) == 8443
    with pytest.raises(ValueError, match="serves HTTPS only"):
        EmqxServer(flavour="platform", https=False)


def test_list_and_get_answer_the_documented_fields(account: EmqxServer) -> None:
    listed = call(account, "GET", "/deployments")
    assert (listed.status_code, listed.json()) == (200, [SERVERLESS, DEDICATED])
    one = call(account, "GET", "/deployments/b1f77113")
    assert (one.status_code, one.json()) == (200, DEDICATED)


def test_an_unknown_deployment_is_404_with_a_message(account: EmqxServer) -> None:
    for method, path in [("GET", ""), ("POST", "/stop"), ("POST", "/start"), ("GET", "/tls"), ("DELETE", "/tls")]:
        response = call(account, method, "/deployments/w41b11c0" + path)
        assert (response.status_code, response.json()) == (404, {"message": "deployment w41b11c0 not found"}), path


def test_stop_answers_201_and_the_deployment_is_stopped(account: EmqxServer) -> None:
    stopped = call(account, "POST", "/deployments/b1f77113/stop")
    assert (stopped.status_code, stopped.json()) == (201, {"deploymentID": "b1f77113", "deploymentName": "factory", "operation": "stopping"})
    assert call(account, "GET", "/deployments/b1f77113").json()["status"] == "stopped"


def test_start_answers_201_then_starting_until_the_startup_has_passed(account: EmqxServer, clock: ManualClock) -> None:
    account.add_deployment("ge6a1a75", status="stopped", startup=120)
    started = call(account, "POST", "/deployments/ge6a1a75/start")
    assert (started.status_code, started.json()) == (
        201,
        {"deploymentID": "ge6a1a75", "deploymentName": "deployment-ge6a1a75", "operation": "starting"},
    )
    assert call(account, "GET", "/deployments/ge6a1a75").json()["status"] == "starting"
    clock.advance(119)
    assert call(account, "GET", "/deployments/ge6a1a75").json()["status"] == "starting"
    clock.advance(1)
    assert call(account, "GET", "/deployments/ge6a1a75").json()["status"] == "running"


def test_a_start_or_stop_the_status_forbids_is_422_and_changes_nothing(account: EmqxServer) -> None:
    refused = call(account, "POST", "/deployments/b1f77113/start")
    assert (refused.status_code, refused.json()) == (422, {"message": "the deployment b1f77113 is running, not stopped"})
    refused = call(account, "POST", "/deployments/mdfba81f/stop")
    assert (refused.status_code, refused.json()) == (422, {"message": "the deployment mdfba81f is stopped, not running"})
    assert call(account, "GET", "/deployments").json() == [SERVERLESS, DEDICATED]
    # refused calls count against no limit: the one start an hour is still there
    assert call(account, "POST", "/deployments/mdfba81f/start").status_code == 201


# -- rate limits ---------------------------------------------------------------------------


def test_status_reads_are_limited_to_60_an_hour_on_the_fakes_clock(account: EmqxServer, clock: ManualClock) -> None:
    for _ in range(60):
        assert call(account, "GET", "/deployments/b1f77113").status_code == 200
    limited = call(account, "GET", "/deployments/b1f77113")
    assert (limited.status_code, limited.json()) == (429, {"message": "get may be requested 60 times within 60 minutes"})
    assert call(account, "GET", "/deployments").status_code == 200  # each operation counts its own
    clock.advance(3600)
    assert call(account, "GET", "/deployments/b1f77113").status_code == 200


def test_start_and_stop_are_limited_to_one_an_hour(account: EmqxServer, clock: ManualClock) -> None:
    assert call(account, "POST", "/deployments/b1f77113/stop").status_code == 201
    assert call(account, "POST", "/deployments/b1f77113/start").status_code == 201
    limited = call(account, "POST", "/deployments/b1f77113/stop")
    assert (limited.status_code, limited.json()) == (429, {"message": "stop may be requested 1 times within 60 minutes"})
    assert call(account, "GET", "/deployments/b1f77113").json()["status"] == "running"
    clock.advance(3599)
    assert call(account, "POST", "/deployments/b1f77113/stop").status_code == 429
    clock.advance(1)
    assert call(account, "POST", "/deployments/b1f77113/stop").status_code == 201


def test_the_rate_limits_start_afresh_on_reset(account: EmqxServer) -> None:
    assert call(account, "POST", "/deployments/b1f77113/stop").status_code == 201
    account.reset()
    account.add_deployment("b1f77113", status="stopped")
    account.add_deployment("mdfba81f")
    assert call(account, "POST", "/deployments/b1f77113/start").status_code == 201
    assert call(account, "POST", "/deployments/mdfba81f/stop").status_code == 201


# -- TLS certificates -----------------------------------------------------------------------


def test_tls_create_read_update_delete(account: EmqxServer, clock: ManualClock) -> None:
    missing = call(account, "GET", "/deployments/b1f77113/tls")
    assert (missing.status_code, missing.json()) == (404, {"message": "the deployment b1f77113 has no TLS certificate"})
    created = call(account, "POST", "/deployments/b1f77113/tls", json={"tlsType": "one-way", "cert": CERT, "key": CERT_KEY})
    assert (created.status_code, created.json()) == (200, {"expire": "2034-05-22 02:43:21", "status": "pending", "tlsType": "one-way"})
    clock.advance(1)
    read = call(account, "GET", "/deployments/b1f77113/tls")
    assert (read.status_code, read.json()) == (200, {"expire": "2034-05-22 02:43:21", "status": "running", "tlsType": "one-way"})
    chain = CERT + CA_CERT  # the server's certificate first
    updated = call(account, "PUT", "/deployments/b1f77113/tls", json={"tlsType": "two-way", "cert": chain, "key": CERT_KEY, "cacert": CA_CERT})
    assert (updated.status_code, updated.json()["tlsType"]) == (200, "two-way")
    deleted = call(account, "DELETE", "/deployments/b1f77113/tls")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert call(account, "GET", "/deployments/b1f77113/tls").status_code == 404


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param({"tlsType": "mutual", "cert": CERT, "key": CERT_KEY}, "tlsType must be one-way or two-way", id="tlsType"),
        pytest.param({"tlsType": "one-way", "cert": "MIIB...", "key": CERT_KEY}, "cert is not a PEM certificate", id="cert not PEM"),
        pytest.param(
            {"tlsType": "one-way", "cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "key": CERT_KEY},
            "cert is not a PEM certificate",
            id="cert not a certificate",
        ),
        pytest.param({"tlsType": "one-way", "cert": CERT, "key": CERT}, "key is not a PEM private key", id="key"),
        pytest.param({"tlsType": "two-way", "cert": CERT, "key": CERT_KEY}, "cacert is required for two-way TLS", id="two-way, no cacert"),
        pytest.param({"tlsType": "two-way", "cert": CERT, "key": CERT_KEY, "cacert": "x"}, "cacert is not a PEM certificate", id="cacert"),
        pytest.param(["one-way"], "the body must be an object of tlsType, cert, key and cacert", id="not an object"),
    ],
)
def test_wrong_tls_properties_are_422_and_change_nothing(account: EmqxServer, body: Any, message: str) -> None:
    assert call(account, "POST", "/deployments/b1f77113/tls", json={"tlsType": "one-way", "cert": CERT, "key": CERT_KEY}).status_code == 200
    before = call(account, "GET", "/deployments/b1f77113/tls").json()
    refused = call(account, "PUT", "/deployments/b1f77113/tls", json=body)
    assert (refused.status_code, refused.json()) == (422, {"message": message})
    assert call(account, "GET", "/deployments/b1f77113/tls").json() == before


def test_tls_answers_422_where_the_deployment_cannot_take_the_call(account: EmqxServer) -> None:
    body = {"tlsType": "one-way", "cert": CERT, "key": CERT_KEY}
    serverless = call(account, "POST", "/deployments/mdfba81f/tls", json=body)
    assert (serverless.status_code, serverless.json()) == (422, {"message": "TLS certificates are managed for dedicated deployments, not serverless"})
    no_certificate = call(account, "PUT", "/deployments/b1f77113/tls", json=body)
    assert (no_certificate.status_code, no_certificate.json()) == (422, {"message": "the deployment b1f77113 has no TLS certificate to update: POST one"})
    assert call(account, "DELETE", "/deployments/b1f77113/tls").status_code == 422
    assert call(account, "POST", "/deployments/b1f77113/tls", json=body).status_code == 200
    twice = call(account, "POST", "/deployments/b1f77113/tls", json=body)
    assert (twice.status_code, twice.json()) == (422, {"message": "the deployment b1f77113 has a TLS certificate already: PUT to replace it"})


def test_a_body_that_is_not_json_is_400(account: EmqxServer) -> None:
    response = call(account, "POST", "/deployments/b1f77113/tls", data=b"{tls", headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"message": "Invalid json message received"})


def test_tls_writes_are_limited_to_6_an_hour(account: EmqxServer, clock: ManualClock) -> None:
    body = {"tlsType": "one-way", "cert": CERT, "key": CERT_KEY}
    assert call(account, "POST", "/deployments/b1f77113/tls", json=body).status_code == 200
    for _ in range(6):
        assert call(account, "PUT", "/deployments/b1f77113/tls", json=body).status_code == 200
    limited = call(account, "PUT", "/deployments/b1f77113/tls", json=body)
    assert (limited.status_code, limited.json()) == (429, {"message": "tls_update may be requested 6 times within 60 minutes"})
    clock.advance(3600)
    assert call(account, "PUT", "/deployments/b1f77113/tls", json=body).status_code == 200


# -- who may call ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth, headers",
    [
        pytest.param((KEY[0], "wrong"), {}, id="a wrong secret"),
        pytest.param(("nobody", "x"), {}, id="an unknown key"),
        pytest.param(None, {}, id="no credentials"),
        pytest.param(None, {"Authorization": 'Digest username="pk-test", realm="x", nonce="n", uri="/", response="r"'}, id="digest"),
        pytest.param(None, {"Authorization": "Bearer abc.def"}, id="bearer"),
        pytest.param(None, {"Authorization": "Basic !!!"}, id="basic that does not decode"),
    ],
)
def test_anything_but_basic_with_a_key_is_401_and_changes_nothing(account: EmqxServer, auth: Any, headers: dict[str, str]) -> None:
    refused = call(account, "POST", "/deployments/b1f77113/stop", auth=auth, headers=headers)
    assert (refused.status_code, refused.json()) == (401, {"message": "API Key authentication failed"})
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="EMQX Platform API"'
    assert call(account, "GET", "/deployments/b1f77113").json()["status"] == "running"


def test_a_platform_has_no_key_unless_given() -> None:
    with EmqxServer(flavour="platform") as bare:
        with pytest.raises(RuntimeError, match="0 Platform API keys and none ready to call with"):
            bare.auth
        assert call(bare, "GET", "/deployments", auth=("admin", "public")).status_code == 401
        bare.add_platform_key("k2", secret="s2")
        assert bare.auth == ("k2", "s2")
        assert call(bare, "GET", "/deployments", auth=bare.auth).json() == []


def test_a_key_scoped_away_from_a_feature_or_project_is_403_and_changes_nothing(account: EmqxServer) -> None:
    account.add_platform_key("tls-only", secret="s", features=["tls"])
    account.add_platform_key("project-a", secret="s", projects=["default"])
    refused = call(account, "GET", "/deployments", auth=("tls-only", "s"))
    assert (refused.status_code, refused.json()) == (403, {"message": "the API key has no access to deployments"})
    assert call(account, "GET", "/deployments/b1f77113/tls", auth=("tls-only", "s")).status_code == 404
    assert call(account, "GET", "/deployments", auth=("project-a", "s")).json() == [SERVERLESS]
    refused = call(account, "POST", "/deployments/b1f77113/stop", auth=("project-a", "s"))
    assert (refused.status_code, refused.json()) == (403, {"message": "the API key has no access to the project test"})
    assert call(account, "GET", "/deployments/b1f77113").json()["status"] == "running"


# -- the deployments this process serves -----------------------------------------------------


def _reaches(server: EmqxServer, path: str) -> int | None:
    """The status `server`'s door answers `path` with, or None when the connection is dropped."""
    try:
        return requests.get(server.api_url + path, auth=server.auth, verify=server.ca_file, timeout=30).status_code
    except requests.ConnectionError:
        return None


@pytest.fixture
def linked(platform_server: EmqxServer) -> Iterator[list[EmqxServer]]:
    """Servers the test links to the module's platform, unlinked after it."""
    servers: list[EmqxServer] = []
    platform_server.reset()
    yield servers
    for server in servers:
        platform_server.unlink_deployment(server)
    platform_server.reset()


def test_a_linked_deployment_stops_and_starts_with_its_state_intact(platform_server: EmqxServer, linked: list[EmqxServer], clock: ManualClock) -> None:
    with EmqxServer(flavour="cloud-v5", app=("app1", "secret1")) as deployment:
        record = platform_server.link_deployment(deployment, name="plant", region="Frankfurt", startup=30)
        linked.append(deployment)
        deployment.add_client("sensor-1")
        listed = call(platform_server, "GET", f"/deployments/{deployment.deployment_id}").json()
        assert (record.deployment_id, listed["deploymentName"], listed["status"], listed["version"]) == (deployment.deployment_id, "plant", "running", "v5")
        assert _reaches(deployment, "/clients/sensor-1") == 200

        assert call(platform_server, "POST", f"/deployments/{deployment.deployment_id}/stop").status_code == 201
        assert _reaches(deployment, "/clients/sensor-1") is None
        assert call(platform_server, "POST", f"/deployments/{deployment.deployment_id}/start").status_code == 201
        assert _reaches(deployment, "/clients/sensor-1") is None  # starting: not serving yet
        clock.advance(30)
        assert _reaches(deployment, "/clients/sensor-1") == 200
        assert deployment.journal.entries()[-1].path == "/api/v5/clients/sensor-1"


def test_a_reset_lists_a_linked_deployment_again_running(platform_server: EmqxServer, linked: list[EmqxServer]) -> None:
    with EmqxServer(flavour="cloud-v4", app=("app1", "secret1")) as deployment:
        platform_server.link_deployment(deployment, project_name="legacy")
        linked.append(deployment)
        assert call(platform_server, "POST", f"/deployments/{deployment.deployment_id}/stop").status_code == 201
        assert _reaches(deployment, "/clients") is None
        platform_server.reset()
        listed = call(platform_server, "GET", "/deployments").json()
        assert [(row["deploymentID"], row["deploymentType"], row["version"], row["projectName"], row["status"]) for row in listed] == [
            (deployment.deployment_id, "dedicated", "v4", "legacy", "running")
        ]
        assert _reaches(deployment, "/clients") == 200
        with pytest.raises(ValueError, match="is linked already"):
            platform_server.link_deployment(deployment)


def test_an_unlinked_deployment_is_listed_no_more_and_answers_again(platform_server: EmqxServer) -> None:
    platform_server.reset()
    with EmqxServer(flavour="cloud-v5", app=("app1", "secret1")) as deployment:
        platform_server.link_deployment(deployment)
        assert call(platform_server, "POST", f"/deployments/{deployment.deployment_id}/stop").status_code == 201
        platform_server.unlink_deployment(deployment)
        assert _reaches(deployment, "/clients") == 200
        assert call(platform_server, "GET", "/deployments").json() == []
        platform_server.reset()
        assert call(platform_server, "GET", "/deployments").json() == []
        with pytest.raises(ValueError, match="is not linked to this one"):
            platform_server.unlink_deployment(deployment)


def test_a_server_serving_the_platform_and_a_deployment_lists_itself() -> None:
    with EmqxServer(flavour="platform,cloud-v5", deployment="serverless", app=("app1", "secret1"), platform_key=KEY) as both:
        listed = call(both, "GET", "/deployments").json()
        assert [(row["deploymentID"], row["deploymentType"], row["version"]) for row in listed] == [(both.deployment_id, "serverless", "v5")]
        assert call(both, "POST", f"/deployments/{both.deployment_id}/stop").status_code == 201
        with pytest.raises(requests.ConnectionError):
            requests.get(both.url + "/api/v5/clients", auth=("app1", "secret1"), verify=both.ca_file, timeout=30)
        assert call(both, "GET", f"/deployments/{both.deployment_id}").json()["status"] == "stopped"  # the Platform answers on


def test_only_a_deployment_door_can_be_linked(platform_server: EmqxServer) -> None:
    with EmqxServer(flavour="v5") as self_hosted:
        assert self_hosted.deployment_id is None
        with pytest.raises(ValueError, match="serves no Cloud deployment door"):
            platform_server.link_deployment(self_hosted)


# -- seeding, scenarios, snapshots --------------------------------------------------------------


def test_seeding_refuses_a_bad_field_and_a_taken_id(account: EmqxServer) -> None:
    with pytest.raises(SeedError, match=r"deployment_id: must be a letter and 7 hexadecimal digits \(mdfba81f\), not \"DEP-1\""):
        account.add_deployment("DEP-1")
    with pytest.raises(SeedError, match=r'status: must be "running", "starting" or "stopped", not "paused"'):
        account.add_deployment(status="paused")  # type: ignore[typeddict-item]
    with pytest.raises(SeedError, match="deployment_id: the deployment \"mdfba81f\" exists already"):
        account.add_deployment("mdfba81f")
    with pytest.raises(SeedError, match="features: must be a list of the features deployments and tls"):
        account.add_platform_key("k", features=["billing"])  # type: ignore[list-item]
    assert call(account, "GET", "/deployments").json() == [SERVERLESS, DEDICATED]


def test_the_control_api_seeds_deployments_and_keys(account: EmqxServer) -> None:
    seeded = requests.post(account.control_url + "/seed/platform_keys", json={"key": "k9", "secret": "s9", "projects": ["test"]}, verify=account.ca_file, timeout=30)
    assert seeded.status_code == 200
    seeded = requests.post(account.control_url + "/seed/deployments", json={"deployment_id": "a0000001", "project_name": "test"}, verify=account.ca_file, timeout=30)
    assert seeded.status_code == 200
    assert [row["deploymentID"] for row in call(account, "GET", "/deployments", auth=("k9", "s9")).json()] == ["b1f77113", "a0000001"]


def test_a_snapshot_restores_deployments_certificates_and_keys(account: EmqxServer, clock: ManualClock) -> None:
    account.add_platform_key("k3", secret="s3", features=["deployments"], projects=["test"], desc="ops")
    assert call(account, "POST", "/deployments/b1f77113/tls", json={"tlsType": "two-way", "cert": CERT, "key": CERT_KEY, "cacert": CA_CERT}).status_code == 200
    assert call(account, "POST", "/deployments/b1f77113/stop").status_code == 201
    saved = account.snapshot()
    assert saved["platform_keys"][1] == {"key": "k3", "secret": "s3", "features": ["deployments"], "projects": ["test"], "desc": "ops"}
    assert saved["deployments"][1]["tls"]["tls_type"] == "two-way"
    before = (call(account, "GET", "/deployments").json(), call(account, "GET", "/deployments/b1f77113/tls").json())
    account.reset()
    assert call(account, "GET", "/deployments").json() == []
    account.restore(saved)
    assert (call(account, "GET", "/deployments").json(), call(account, "GET", "/deployments/b1f77113/tls").json()) == before
    assert account.snapshot() == saved


def test_a_scenario_loads_deployments_and_names_a_bad_field(platform_server: EmqxServer, clock: ManualClock) -> None:
    platform_server.load_scenario(
        {
            "platform_keys": [{"key": "ops", "secret": "ops-secret", "features": ["deployments"]}],
            "deployments": [
                {"deployment_id": "w41b11c0", "name": "line-1", "status": "starting", "startup": 60, "create_at": "2024-07-22T05:32:00Z"},
                {"deployment_id": "ge6a1a75", "tls": {"tls_type": "one-way", "expire": "2034-05-22T02:43:21Z"}},
            ],
        }
    )
    listed = call(platform_server, "GET", "/deployments", auth=("ops", "ops-secret")).json()
    assert [(row["deploymentID"], row["deploymentName"], row["status"], row["createAt"]) for row in listed] == [
        ("w41b11c0", "line-1", "starting", "2024-07-22 05:32"),
        ("ge6a1a75", "deployment-ge6a1a75", "running", "2024-12-24 00:26"),
    ]
    assert call(platform_server, "GET", "/deployments/ge6a1a75/tls", auth=KEY).json() == {"expire": "2034-05-22 02:43:21", "status": "running", "tlsType": "one-way"}
    with pytest.raises(ScenarioError, match=r"deployments\[0\]\.tls\.tls_type: must be \"one-way\" or \"two-way\", not \"mutual\""):
        platform_server.load_scenario({"deployments": [{"tls": {"tls_type": "mutual", "expire": 0}}]})
    assert len(call(platform_server, "GET", "/deployments").json()) == 2  # a bad scenario loads nothing


def test_the_marker_and_ini_set_up_a_platform_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nemqx_flavour = platform\nemqx_platform_key = k1:s1\n")
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.emqx(deployments=["mdfba81f", {"deployment_id": "b1f77113", "status": "stopped"}])
        def test_session_server(emqx_server):
            assert emqx_server.auth == ("k1", "s1")
            listed = requests.get(emqx_server.api_url + "/deployments", auth=emqx_server.auth, verify=emqx_server.ca_file).json()
            assert [(row["deploymentID"], row["status"]) for row in listed] == [("mdfba81f", "running"), ("b1f77113", "stopped")]

        @pytest.mark.emqx(platform_key=("k2", "s2"), platform_keys=[{"key": "k3", "features": ["tls"]}])
        def test_own_server(emqx_server):
            assert emqx_server.auth == ("k2", "s2")
            assert requests.get(emqx_server.api_url + "/deployments", auth=emqx_server.auth, verify=emqx_server.ca_file).json() == []
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_command_serves_the_platform() -> None:
    from test_cli import _Running

    running = _Running("--flavour", "platform", "--port", "0", "--platform-key", "k1:s1")
    try:
        banner = "\n".join(running.banner)
        assert "  Platform key:    k1:s1" in banner
        ca_file = running.banner_value("CA certificate:")
        url = running.banner_value("REST API:")
        assert url.startswith("https://127.0.0.1:") and url.endswith("/platform")
        assert f"curl --cacert {ca_file} -u k1:s1 {url}/deployments" in banner
        assert requests.get(url + "/deployments", auth=("k1", "s1"), verify=ca_file, timeout=30).json() == []
    finally:
        code, _, err = running.stop()
    assert code == 0, err


def test_the_door_serves_its_own_openapi_document(account: EmqxServer) -> None:
    """Built from its routes and schemas: every operation, each documented status."""
    document = requests.get(account.url + "/platform/api-docs/swagger.json", verify=account.ca_file, timeout=30).json()
    operations = {f"{method.upper()} {path}": sorted(operation["responses"]) for path, item in document["paths"].items() for method, operation in item.items()}
    assert operations == {
        "GET /deployments": ["200", "401", "403", "429"],
        "GET /deployments/{deployment_id}": ["200", "401", "403", "404", "429"],
        "POST /deployments/{deployment_id}/stop": ["201", "401", "403", "404", "422", "429"],
        "POST /deployments/{deployment_id}/start": ["201", "401", "403", "404", "422", "429"],
        "GET /deployments/{deployment_id}/tls": ["200", "401", "403", "404", "429"],
        "POST /deployments/{deployment_id}/tls": ["200", "400", "401", "403", "404", "422", "429"],
        "PUT /deployments/{deployment_id}/tls": ["200", "400", "401", "403", "404", "422", "429"],
        "DELETE /deployments/{deployment_id}/tls": ["204", "401", "403", "404", "422", "429"],
    }
    assert (document["servers"], document["components"]["securitySchemes"]) == ([{"url": "/platform"}], {"basicAuth": {"type": "http", "scheme": "basic"}})


def test_faults_and_the_journal_carry_over(account: EmqxServer) -> None:
    """A fault's error answers in the Platform's shape, on the real path; the journal records
    who called as `platform_key:<key>`."""
    account.faults.error("POST /deployments/{deployment_id}/stop", 503, "SERVICE_UNAVAILABLE", "maintenance")
    faulted = call(account, "POST", "/deployments/b1f77113/stop")
    assert (faulted.status_code, faulted.json()) == (503, {"message": "maintenance"})
    assert call(account, "GET", "/deployments/b1f77113").json()["status"] == "running"
    entry = account.journal.entries()[-2]
    assert (entry.path, entry.credential, entry.fault is not None) == ("/platform/deployments/b1f77113/stop", "platform_key:pk-test", True)
