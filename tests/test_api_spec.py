"""EMQX 6's API description for readers and agents (`/api-spec.json`, `/api-spec.md`,
`/api-spec/{tag}[/{name}]`, `/api-spec.html`; `emqx_dashboard_api_spec_handler`): views of the
fake's own OpenAPI document, served from 6.0 on, with credentials from 6.3 on, none of them when
`swagger_support` is off."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import requests

from pytest_emqx_mock import EmqxServer

JSON = "application/json"
CHALLENGE = 'Basic realm="emqx-api-spec", Bearer realm="emqx-api-spec"'
ENDPOINTS = ("/api-spec.json", "/api-spec.md", "/api-spec.html", "/api-spec/clients", "/api-spec/authorization/file")


def _server(version: str, **options: Any) -> EmqxServer:
    return EmqxServer(version=version, **options)


@pytest.fixture(scope="module", params=["6.0", "6.1", "6.2"])
def open_server(request: pytest.FixtureRequest) -> Iterator[EmqxServer]:
    """A line whose spec endpoints need no credentials."""
    with _server(request.param) as server:
        yield server
        server.check_errors()


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[EmqxServer]:
    with _server("6.3") as server:
        yield server
        server.check_errors()


def _get(server: EmqxServer, path: str, **options: Any) -> requests.Response:
    return requests.get(server.url + path, timeout=30, allow_redirects=False, **options)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(method, path): operation for path, item in document["paths"].items() for method, operation in item.items()}


def _references(value: Any) -> set[str]:
    return set(re.findall(r'"#/components/schemas/([^"]+)"', repr(value).replace("'", '"')))


# -- the views: every operation, nothing else ----------------------------------------------


def test_the_tags_documents_hold_every_operation_and_nothing_else(open_server: EmqxServer) -> None:
    whole = _get(open_server, "/api-docs/swagger.json").json()
    index = _get(open_server, "/api-spec.json").json()
    tags = sorted({operation["tags"][0] for operation in _operations(whole).values()})
    assert sorted(index["tags"]) == tags
    seen: dict[tuple[str, str], Any] = {}
    for tag, entry in index["tags"].items():
        assert entry == {"url": "/api-spec/" + tag.lower().replace(" ", "_")}
        response = _get(open_server, entry["url"])
        assert (response.status_code, response.headers["content-type"]) == (200, JSON)
        document = response.json()
        operations = _operations(document)
        assert any(operation["tags"] == [tag] for operation in operations.values())
        seen.update(operations)
        # the frame is the whole document's; the schemas are those the paths reach, no other
        assert {key: document[key] for key in ("openapi", "info", "servers", "security")} == {key: whole[key] for key in ("openapi", "info", "servers", "security")}
        schemas = document["components"]["schemas"]
        reached, pending = set(), _references(document["paths"])
        while pending:
            name = pending.pop()
            reached.add(name)
            pending |= _references(schemas[name]) - reached
        assert set(schemas) == reached
        assert all(schemas[name] == whole["components"]["schemas"][name] for name in schemas)
    assert seen == _operations(whole)


def test_the_documents_have_the_operations_the_server_routes() -> None:
    with _server("6.2") as server:
        flavour = server.app.flavours[0]
        prefixed = {route.key for route in flavour.routes if not route.absolute}
        routed = {(route.method.lower(), route.template) for route in flavour.routes if not (route.absolute and route.key in prefixed)}
        documented: set[tuple[str, str]] = set()
        for entry in _get(server, "/api-spec.json").json()["tags"].values():
            documented |= set(_operations(_get(server, entry["url"]).json()))
        assert documented == routed


def test_the_views_are_valid_openapi_3_0(open_server: EmqxServer) -> None:
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    for path in ("/api-spec/clients", "/api-spec/authorization/file", "/api-spec/status"):
        document = _get(open_server, path).json()
        assert [error.message for error in jsonschema.Draft4Validator(definitions.OPENAPI_30).iter_errors(document)] == []


# -- exact shapes ---------------------------------------------------------------------------


def test_the_index(open_server: EmqxServer) -> None:
    response = _get(open_server, "/api-spec.json")
    assert (response.status_code, response.headers["content-type"]) == (200, JSON)
    assert response.text.startswith('{\n  "api_auth": "')  # jiffy's pretty form, keys in order
    index = response.json()
    assert list(index) == ["api_auth", "bootstrap_help", "drill_down", "tags"]
    assert [section["title"] for section in index["bootstrap_help"]] == ["Authentication And Bootstrap", "Common Terms", "Resource IDs And Drill-Downs"]
    assert index["api_auth"] == index["bootstrap_help"][0]["text"]
    assert "`" not in index["api_auth"]  # plain text
    assert "POST /api/v5/login" in index["api_auth"] and "GET /api/v5/status" in index["api_auth"]
    assert index["tags"]["API Keys"] == {"url": "/api-spec/api_keys"}
    assert index["drill_down"] == {
        "authentication": {
            "url_template": "/api-spec/authentication/{name}",
            "names": [
                {"name": "authn_hash_bcrypt", "display": "Authn Hash Bcrypt"},
                {"name": "authn_hash_pbkdf2", "display": "Authn Hash Pbkdf2"},
                {"name": "authn_hash_simple", "display": "Authn Hash Simple"},
            ],
        },
        "authorization": {
            "url_template": "/api-spec/authorization/{name}",
            "names": [{"name": "built_in_database", "display": "Built In Database"}, {"name": "file", "display": "File"}],
        },
    }
    for union, entry in index["drill_down"].items():
        for name in entry["names"]:
            assert _get(open_server, entry["url_template"].replace("{name}", name["name"])).status_code == 200


def test_the_overview(open_server: EmqxServer) -> None:
    response = _get(open_server, "/api-spec.md")
    assert (response.status_code, response.headers["content-type"]) == (200, "text/markdown")
    text = response.text
    assert text.startswith("# EMQX HTTP API\n\n## Authentication And Bootstrap\n\nEvery `/api/v5/*` operation needs credentials but these: ")
    assert "\n\n## Common Terms\n\n" in text and "\n\n## Resource IDs And Drill-Downs\n\n" in text
    assert "need no credentials.\n\n## Common Terms" in text
    tags = text.split("## Tags\n\n", 1)[1]
    assert tags.startswith("- [`API Keys`](/api-spec/api_keys)\n- [`Alarms`](/api-spec/alarms)\n")
    assert "- [`Authorization`](/api-spec/authorization)\n  Drill-down: /api-spec/authorization/{name}\n" in tags
    assert tags.count("\n- ") + 1 == len(_get(open_server, "/api-spec.json").json()["tags"])


def test_a_tag_in_any_case_with_underscores(open_server: EmqxServer) -> None:
    expected = _get(open_server, "/api-spec/api_keys").content
    for spelling in ("/api-spec/API_KEYS", "/api-spec/Api%20Keys", "/api-spec/api%20keys"):
        assert _get(open_server, spelling).content == expected


def test_a_drill_down_keeps_the_members_named(open_server: EmqxServer) -> None:
    document = _get(open_server, "/api-spec/authentication/BCRYPT").json()
    schemas = document["components"]["schemas"]
    assert schemas["authenticator"]["properties"]["password_hash_algorithm"] == {"oneOf": [{"$ref": "#/components/schemas/authn_hash_bcrypt"}]}
    assert "authn_hash_bcrypt" in schemas and "authn_hash_simple" not in schemas and "authn_hash_pbkdf2" not in schemas
    sources = _get(open_server, "/api-spec/authorization/built_in_database").json()["components"]["schemas"]["authz_source"]["oneOf"]
    assert [member["properties"]["type"] for member in sources] == [{"enum": ["built_in_database"]}]
    # the whole tag's operations are kept; only the unions narrow
    assert _operations(document).keys() == _operations(_get(open_server, "/api-spec/authentication").json()).keys()


def test_unknown_tags_and_names_404(open_server: EmqxServer) -> None:
    unknown_tag = _get(open_server, "/api-spec/bridges")
    assert (unknown_tag.status_code, unknown_tag.content, "content-type" in unknown_tag.headers) == (404, b"", False)  # cowboy_rest's
    assert (_get(open_server, "/api-spec/bridges/kafka").status_code, _get(open_server, "/api-spec/bridges/kafka").content) == (404, b"")
    unknown_name = _get(open_server, "/api-spec/authorization/kafka")
    assert (unknown_name.status_code, unknown_name.headers["content-type"], unknown_name.text) == (404, JSON, '{\n  "error": "not_found"\n}')
    # beyond the routes: the dashboard's own 404
    not_found = _get(open_server, "/no/such/page")
    for path in ("/api-spec", "/api-spec/a/b/c", "/api-spec.yaml"):
        response = _get(open_server, path)
        assert (response.status_code, response.text) == (404, not_found.text)


def test_the_page_reads_offline(open_server: EmqxServer) -> None:
    response = _get(open_server, "/api-spec.html")
    assert (response.status_code, response.headers["content-type"]) == (200, "text/html")
    page = response.text
    assert "https://" not in page and "http://" not in page
    assert re.findall(r"""(?:src|href|url)\s*[=(]\s*['"]?(?:[a-z]+:|//)""", page, re.IGNORECASE) == []
    assert "<a href='/api-docs/swagger.json'>The OpenAPI document</a>" in page
    for tag in _get(open_server, "/api-spec.json").json()["tags"]:
        assert f"<h2>{tag}</h2>" in page


def test_no_credentials_before_6_3(open_server: EmqxServer) -> None:
    for path in (*ENDPOINTS, "/api-docs/swagger.json", "/api-docs/index.html"):
        anonymous, wrong = _get(open_server, path), _get(open_server, path, auth=("nobody", "wrong"))
        assert anonymous.status_code == wrong.status_code == 200
        assert anonymous.content == wrong.content


# -- per line -------------------------------------------------------------------------------


def test_none_before_6_0() -> None:
    """EMQX 5.8.9's dashboard has no such route: its 404 page."""
    with _server("5.8") as server:
        not_found = _get(server, "/no/such/page")
        for path in ENDPOINTS:
            response = _get(server, path, auth=server.auth)
            assert (response.status_code, response.text) == (404, not_found.text)
        assert _get(server, "/api-docs/swagger.json").status_code == 200


def test_credentials_at_6_3(guarded_server: EmqxServer) -> None:
    server = guarded_server
    token = requests.post(server.api_url + "/login", json={"username": "admin", "password": "public"}, timeout=30).json()["token"]
    for path in (*ENDPOINTS, "/api-docs/swagger.json"):
        anonymous = _get(server, path)
        wrong = _get(server, path, auth=("nobody", "wrong"))
        bad_token = _get(server, path, headers={"Authorization": "Bearer nope"})
        for refused in (anonymous, wrong, bad_token):
            assert refused.status_code == 401
            assert refused.content == anonymous.content
            assert refused.headers["www-authenticate"] == ('Bearer realm="emqx-api-spec"' if path == "/api-spec.html" else CHALLENGE)
        with_key = _get(server, path, auth=server.auth)
        with_token = _get(server, path, headers={"Authorization": f"Bearer {token}"})
        assert with_key.status_code == with_token.status_code == 200
        assert with_key.content == with_token.content
        # the page's sign-in keeps the token in the dashboard's cookie
        assert _get(server, path, cookies={"emqx_auth": token}).content == with_token.content
        assert _get(server, path, cookies={"emqx_auth": "nope"}).status_code == 401


def test_the_401_bodies_at_6_3(guarded_server: EmqxServer) -> None:
    stub = _get(guarded_server, "/api-spec.json")
    assert stub.headers["content-type"] == JSON
    document = stub.json()
    assert document["openapi"] == "3.0.0"
    assert (document["info"]["title"], document["info"]["version"]) == ("EMQX API", "unknown")  # no release, no edition
    assert document["servers"] == [{"url": "/api/v5"}]
    assert document["security"] == [{"basicAuth": []}, {"bearerAuth": []}]
    assert {name: (scheme["type"], scheme["scheme"]) for name, scheme in document["components"]["securitySchemes"].items()} == {
        "basicAuth": ("http", "basic"),
        "bearerAuth": ("http", "bearer"),
    }
    assert {(method, path) for (method, path), operation in _operations(document).items() if operation["security"] == []} == {("post", "/login"), ("get", "/status")}
    assert _get(guarded_server, "/api-spec/bridges").content == stub.content  # before the tag is looked for
    markdown = _get(guarded_server, "/api-spec.md")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# EMQX API - Authentication Required\n\n")
    assert "## Public endpoints\n\n- `POST /api/v5/login`" in markdown.text
    page = _get(guarded_server, "/api-spec.html")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "http://" not in page.text and "https://" not in page.text


def test_the_swagger_ui_is_gone_at_6_3(guarded_server: EmqxServer) -> None:
    for path in ("/api-docs", "/api-docs/index.html"):
        response = _get(guarded_server, path, auth=guarded_server.auth)
        assert (response.status_code, response.content) == (308, b"")
        assert (response.headers["location"], response.headers["cache-control"]) == ("/api-spec.html", "no-store")
    not_found = _get(guarded_server, "/no/such/page")
    for path in ("/api-docs/swagger-ui.css", "/api-docs/index.js"):
        response = _get(guarded_server, path, auth=guarded_server.auth)
        assert (response.status_code, response.text) == (404, not_found.text)
    whole = _get(guarded_server, "/api-docs/swagger.json", auth=guarded_server.auth)
    assert (whole.status_code, whole.headers["content-type"]) == (200, JSON)
    assert whole.json()["info"]["version"] == guarded_server.broker.config.release


def test_the_index_says_what_needs_credentials() -> None:
    with _server("6.2") as open_line, _server("6.3") as guarded_line:
        assert "need no credentials" in _get(open_line, "/api-spec.json").json()["api_auth"]
        assert "need credentials too" in _get(guarded_line, "/api-spec.json", auth=guarded_line.auth).json()["api_auth"]


@pytest.mark.parametrize("version", ["6.2", "6.3"])
def test_swagger_support_off_serves_none(version: str) -> None:
    with _server(version, swagger_support=False) as server:
        not_found = _get(server, "/no/such/page")
        for path in (*ENDPOINTS, "/api-docs/swagger.json", "/api-docs/index.html", "/api-docs"):
            response = _get(server, path, auth=server.auth)
            assert (response.status_code, response.text) == (404, not_found.text)
        server.check_errors()


def test_an_api_key_of_any_role(tmp_path: Path) -> None:
    """`authenticate/1` checks the key, not its role: a publisher's key, refused every GET of
    the API, reads the spec (`emqx_mgmt_auth:check_scopes/2` maps no such path)."""
    keys = tmp_path / "keys.txt"
    keys.write_text("reader:secret:publisher\n")
    with _server("6.3", edition="ee", bootstrap_api_keys=keys) as server:
        assert requests.get(server.api_url + "/clients", auth=("reader", "secret"), timeout=30).status_code == 403
        assert _get(server, "/api-spec.json", auth=("reader", "secret")).status_code == 200


def test_nothing_is_built_or_imported_at_start_up() -> None:
    code = (
        "import sys; from pytest_emqx_mock import EmqxServer; EmqxServer(version='6.3').start().stop(); "
        "print('pytest_emqx_mock.http.apispec' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert ran.stdout.strip() == "False"
