"""A flavour is only routing, auth and rendering: a throwaway front door (`/test-api`, an
`X-Token` header, `{"ok", "result" | "error"}` envelopes, a text 404, its own schemas and one
tiny endpoint module) mounted beside EMQX 5 on one server serves the very same state, and the
journal, faults and control API see its requests on their real paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from conftest import reset_for_a_test
from werkzeug import Request

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.flavours.v5 import Emqx5
from pytest_emqx_mock.http.flavour import Flavour, Principal
from pytest_emqx_mock.http.replies import ApiError, Reply
from pytest_emqx_mock.http.routing import Call, Route, Routes
from pytest_emqx_mock.http.schemas import SchemaCatalog
from pytest_emqx_mock.state.access import ADMINISTRATOR
from pytest_emqx_mock.state.broker import Broker
from pytest_emqx_mock.state.errors import ModelError, NotFound

TOKEN = "let-me-in"

routes = Routes()


@routes.get("/clients")
def list_clients(call: Call) -> list[dict[str, Any]]:
    return [{"id": session.clientid, "topics": sorted(session.subscriptions)} for session in call.broker.sessions]


@routes.delete("/clients/{clientid}")
def kick_client(call: Call) -> Reply:
    call.broker.kick(call.path["clientid"])  # NotFound for an unknown client, rendered by the flavour
    return Reply(204)


_REFUSAL = {"type": "object", "required": ["ok", "error"], "properties": {"ok": {"const": False}, "error": {"type": "string"}}}
SCHEMAS = {
    "operations": {
        "GET /clients": {
            "responses": {
                "200": {
                    "type": "object",
                    "required": ["ok", "result"],
                    "properties": {"ok": {"const": True}, "result": {"type": "array", "items": {"type": "object"}}},
                }
            }
        },
        "DELETE /clients/{clientid}": {"responses": {"204": None, "404": _REFUSAL}},
    }
}


class ToyApi(Flavour):
    prefix = "/test-api"

    def __init__(self, broker: Broker, schemas: Path) -> None:
        self.catalog = SchemaCatalog(broker.edition, schemas)
        self.routes = routes.routes

    def authenticate(self, request: Request, route: Route, broker: Broker) -> Principal:
        if request.headers.get("X-Token") != TOKEN:
            raise ApiError(401, "UNAUTHORIZED", "an X-Token header is required")
        return Principal("test_token", "tester", ADMINISTRATOR)

    def not_found(self, request: Request) -> Reply:
        return Reply(404, "no such thing", {"content-type": "text/plain"})

    def ok(self, result: Any) -> Reply:
        return Reply(200, {"ok": True, "result": result})

    def refusal(self, error: ApiError) -> Reply:
        return Reply(error.status, {"ok": False, "error": error.message}, error.headers)

    def model_error(self, route: Route, error: ModelError) -> Reply:
        return self.refusal(ApiError(404 if isinstance(error, NotFound) else 400, "", str(error)))

    def check_response(self, route: Route, reply: Reply) -> None:
        self.catalog.check_response(route.key, reply.status, reply.body)


@pytest.fixture(scope="module")
def two_doors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmqxServer]:
    schemas = tmp_path_factory.mktemp("test_api_schemas")
    (schemas / "test_api.json").write_text(json.dumps(SCHEMAS))
    with EmqxServer(flavours=[Emqx5, lambda broker: ToyApi(broker, schemas)]) as server:
        yield server


@pytest.fixture
def emqx(two_doors: EmqxServer) -> Iterator[EmqxServer]:
    yield from reset_for_a_test(two_doors)


def toy_api(emqx: EmqxServer, method: str, path: str, token: str | None = TOKEN, **kwargs: Any) -> requests.Response:
    return requests.request(method, emqx.url + "/test-api" + path, headers={"X-Token": token} if token else {}, **kwargs)


def test_one_state_through_both_doors(emqx: EmqxServer) -> None:
    emqx.add_client("c1")
    emqx.add_client("c2")
    assert requests.post(emqx.api_url + "/clients/c1/subscribe", json={"topic": "t/1"}, auth=emqx.auth).status_code == 200

    listing = toy_api(emqx, "GET", "/clients")
    assert listing.status_code == 200
    assert listing.json() == {"ok": True, "result": [{"id": "c1", "topics": ["t/1"]}, {"id": "c2", "topics": []}]}

    kicked = toy_api(emqx, "DELETE", "/clients/c2")
    assert (kicked.status_code, kicked.content) == (204, b"")
    assert "c2" not in emqx.broker.sessions
    assert requests.get(emqx.api_url + "/clients/c2", auth=emqx.auth).json() == {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}


def test_a_model_error_in_the_flavours_shape(emqx: EmqxServer) -> None:
    r = toy_api(emqx, "DELETE", "/clients/nobody")
    assert r.status_code == 404
    assert r.json() == {"ok": False, "error": "Client ID not found"}
    assert not emqx.errors  # the refusal is one its schemas allow


def test_each_door_its_own_credentials(emqx: EmqxServer) -> None:
    r = toy_api(emqx, "GET", "/clients", token=None, auth=emqx.auth)
    assert (r.status_code, r.json()) == (401, {"ok": False, "error": "an X-Token header is required"})
    r = requests.get(emqx.api_url + "/clients", headers={"X-Token": TOKEN})
    assert (r.status_code, r.json()["code"]) == (401, "AUTHORIZATION_HEADER_ERROR")


def test_unknown_paths_and_methods_answered_by_the_door_they_are_under(emqx: EmqxServer) -> None:
    r = toy_api(emqx, "GET", "/nope")
    assert (r.status_code, r.headers["content-type"], r.text) == (404, "text/plain", "no such thing")
    r = requests.get(emqx.url + "/test-api/clients/c1/deeper", headers={"Accept": "application/json"})
    assert (r.status_code, r.text) == (404, "no such thing")
    for path in ("/api/v5/nope", "/nope", "/test-apis"):  # EMQX 5 answers everywhere else
        r = requests.get(emqx.url + path, headers={"Accept": "application/json"})
        assert (r.status_code, r.json()) == (404, {"code": "NOT_FOUND", "message": "Request Path Not Found"})
    r = toy_api(emqx, "PUT", "/clients")
    assert (r.status_code, r.headers["allow"]) == (405, "GET")
    assert [entry.path for entry in emqx.unmatched_requests()] == ["/test-api/nope", "/test-api/clients/c1/deeper", "/api/v5/nope", "/nope", "/test-apis"]


def test_the_journal_records_real_paths(emqx: EmqxServer) -> None:
    emqx.add_client("c1")
    toy_api(emqx, "GET", "/clients")
    toy_api(emqx, "DELETE", "/clients/c1")
    requests.get(emqx.api_url + "/clients", auth=emqx.auth)

    assert [str(entry) for entry in emqx.journal] == [
        "GET /test-api/clients -> 200",
        "DELETE /test-api/clients/c1 -> 204",
        "GET /api/v5/clients -> 200",
    ]
    emqx.journal.assert_called("DELETE /test-api/clients/c1", times=1, credential="test_token:tester")
    emqx.journal.assert_called("DELETE /clients/{clientid}", times=1)  # the operation, under its own prefix
    emqx.journal.assert_called("GET /clients", times=2)  # a path under each door's prefix
    emqx.journal.assert_called("GET /api/v5/clients", times=1)
    control = requests.get(emqx.control_url + "/journal").json()
    assert [(entry["method"], entry["path"], entry["operation"]) for entry in control] == [
        ("GET", "/test-api/clients", "GET /clients"),
        ("DELETE", "/test-api/clients/c1", "DELETE /clients/{clientid}"),
        ("GET", "/api/v5/clients", "GET /clients"),
    ]


def test_faults_match_the_doors_real_paths(emqx: EmqxServer) -> None:
    emqx.add_client("c1")
    emqx.faults.error("GET /test-api/clients", 503, "SERVICE_UNAVAILABLE", "down for the test", times=1)
    assert requests.get(emqx.api_url + "/clients", auth=emqx.auth).status_code == 200
    r = toy_api(emqx, "GET", "/clients")
    assert (r.status_code, r.json()) == (503, {"code": "SERVICE_UNAVAILABLE", "message": "down for the test"})
    assert toy_api(emqx, "GET", "/clients").status_code == 200

    emqx.faults.error("DELETE /clients/{clientid}", 500, "INTERNAL_ERROR", times=1)
    assert toy_api(emqx, "DELETE", "/clients/c1").status_code == 500
    assert "c1" in emqx.broker.sessions  # the fault replaced the handler: nothing changed


def test_the_first_door_is_the_api_url() -> None:
    with pytest.raises(ValueError, match="mount at least one flavour"):
        EmqxServer(flavours=[])
    assert EmqxServer().app.flavours[0].prefix == "/api/v5"


class DocumentedToyApi(ToyApi):
    api_docs_at = "/test-api-docs"


def test_a_flavour_serves_its_own_document_where_it_says(tmp_path: Path) -> None:
    """The neutral frame: OpenAPI 3.0 at the door's prefix, no security asked of any operation."""
    (tmp_path / "test_api.json").write_text(json.dumps(SCHEMAS))
    with EmqxServer(flavours=[Emqx5, lambda broker: DocumentedToyApi(broker, tmp_path)]) as server:
        toy = requests.get(server.url + "/test-api-docs/swagger.json", timeout=30).json()
        emqx5 = requests.get(server.url + "/api-docs/swagger.json", timeout=30).json()
    assert toy["servers"] == [{"url": "/test-api"}] and emqx5["servers"] == [{"url": "/api/v5"}]
    assert {path: sorted(item) for path, item in toy["paths"].items()} == {"/clients": ["get"], "/clients/{clientid}": ["delete"]}
    kick = toy["paths"]["/clients/{clientid}"]["delete"]
    assert "security" not in kick and "security" not in toy
    assert sorted(kick["responses"]) == ["204", "404"]
    assert kick["responses"]["404"]["content"]["application/json"]["schema"]["properties"]["ok"] == {"enum": [False]}
