"""CORS as EMQX 5.8.9's dashboard listener does it with `dashboard.cors = true`
(`emqx_dashboard_middleware:add_cors_flag/2`): `Access-Control-Allow-Origin: *` on every
response to a request carrying an Origin, and no preflight answer of its own."""

from __future__ import annotations

from typing import Iterator

import pytest
import requests

from pytest_emqx_mock import EmqxServer

ORIGIN = {"Origin": "http://tool.example"}
PREFLIGHT = {**ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}


@pytest.fixture(scope="module")
def cors_server() -> Iterator[EmqxServer]:
    with EmqxServer(cors=True) as server:
        yield server


@pytest.fixture
def cors(cors_server: EmqxServer) -> Iterator[EmqxServer]:
    cors_server.reset()
    yield cors_server
    cors_server.check_errors()


def _cors_headers(response: requests.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


def test_every_answer_to_a_request_with_an_origin_allows_any_origin(cors: EmqxServer) -> None:
    api = cors.api_url
    answers = [
        requests.get(api + "/clients", auth=cors.auth, headers=ORIGIN, timeout=30),  # 200
        requests.get(api + "/clients", auth=("who", "nope"), headers=ORIGIN, timeout=30),  # 401
        requests.get(api + "/clients/nobody", auth=cors.auth, headers=ORIGIN, timeout=30),  # 404 of the API
        requests.get(cors.url + "/no/such/page", headers=ORIGIN, timeout=30),  # the 404 page
        requests.get(cors.control_url + "/journal", headers=ORIGIN, timeout=30),  # the control API too
        requests.get(api + "/clients", auth=cors.auth, headers={"Origin": ""}, timeout=30),  # any Origin, even empty
    ]
    assert [answer.status_code for answer in answers] == [200, 401, 404, 404, 200, 200]
    for answer in answers:
        assert _cors_headers(answer) == {"Access-Control-Allow-Origin": "*"}


def test_no_origin_no_header(cors: EmqxServer) -> None:
    response = requests.get(cors.api_url + "/clients", auth=cors.auth, timeout=30)
    assert response.status_code == 200
    assert _cors_headers(response) == {}


def test_a_preflight_meets_the_router_as_in_emqx(cors: EmqxServer) -> None:
    """EMQX answers no preflight: OPTIONS on an API path is minirest's 405 with `allow`, on
    any other path the 404 page, each with the one CORS header; the handler answered it, so
    the journal has it."""
    on_api = requests.options(cors.api_url + "/clients", headers=PREFLIGHT, timeout=30)
    assert (on_api.status_code, on_api.text, on_api.headers["allow"]) == (405, "", "GET")
    assert _cors_headers(on_api) == {"Access-Control-Allow-Origin": "*"}
    elsewhere = requests.options(cors.url + "/no/such/page", headers=PREFLIGHT, timeout=30)
    assert elsewhere.status_code == 404
    assert elsewhere.headers["content-type"] == "text/html"
    assert _cors_headers(elsewhere) == {"Access-Control-Allow-Origin": "*"}
    assert [(entry.method, entry.path, entry.status) for entry in cors.journal] == [
        ("OPTIONS", "/api/v5/clients", 405),
        ("OPTIONS", "/no/such/page", 404),
    ]


def test_off_by_default(emqx_server: EmqxServer) -> None:
    response = requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth, headers=ORIGIN, timeout=30)
    assert response.status_code == 200
    assert _cors_headers(response) == {}
    preflight = requests.options(emqx_server.api_url + "/clients", headers=PREFLIGHT, timeout=30)
    assert (preflight.status_code, preflight.headers["allow"]) == (405, "GET")
    assert _cors_headers(preflight) == {}
