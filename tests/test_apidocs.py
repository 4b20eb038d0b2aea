"""The fake's own OpenAPI document (`GET /api-docs/swagger.json`) and its page
(`GET /api-docs/index.html`), as EMQX 5.8.9's dashboard serves them: built from the routes and
the schema catalog, so they describe exactly what the fake serves and answers."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any, Iterator

import jsonschema
import pytest
import requests
from conftest import every_door

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.http.apidocs import document_bytes, schema_object
from pytest_emqx_mock.http.flavour import Flavour

JSON = "application/json"


@pytest.fixture(params=["ce", "ee"])
def server(request: pytest.FixtureRequest, emqx_server: EmqxServer, ee_server: EmqxServer) -> Iterator[EmqxServer]:
    fake = emqx_server if request.param == "ce" else ee_server
    fake.reset()
    yield fake
    fake.check_errors()


def _document(server: EmqxServer) -> dict[str, Any]:
    response = requests.get(server.url + "/api-docs/swagger.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    return response.json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _documented(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Each operation a document describes, by method and the path it is served at."""
    documented: list[tuple[str, str]] = []
    for method, path, operation in _operations(document):
        base = (operation.get("servers") or document["servers"])[0]["url"].rstrip("/")
        documented.append((method, base + path))
        documented.extend((method, alias) for alias in operation.get("x-also-served-at", []))
    return sorted(documented)


def _served(flavour: Flavour) -> list[tuple[str, str]]:
    return sorted((route.method, route.path_under(flavour.prefix)) for route in flavour.routes)


def test_the_document_is_emqx_s_frame(server: EmqxServer) -> None:
    document = _document(server)
    title = "EMQX Enterprise API" if server.edition == "ee" else "EMQX API"
    assert document["openapi"] == "3.0.0"
    assert document["info"] == {"title": title, "version": "5.8.9"}
    assert document["servers"] == [{"url": "/api/v5"}]
    assert document["security"] == [{"basicAuth": []}, {"bearerAuth": []}]
    assert document["components"]["securitySchemes"] == {
        "basicAuth": {"type": "http", "scheme": "basic", "description": "Authorize with [API Keys](https://www.emqx.io/docs/en/v5.0/admin/api.html#api-keys)"},
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Authorize with Bearer Token"},
    }


def test_the_document_lists_exactly_the_served_operations(server: EmqxServer) -> None:
    """Every route, and nothing else: each documented operation at the path it is served on
    (under the server url, or from the root where it says so), its aliases included."""
    documented = _documented(_document(server))
    assert documented == _served(server.app.flavours[0])
    assert ("DELETE", "/status") in documented and ("GET", "/status") in documented  # the bare cowboy handler
    assert ("DELETE", "/api/v5/status") not in documented


def test_each_operation_says_what_its_schema_says(server: EmqxServer) -> None:
    """Statuses, media types and extensions come from the catalog; minirest's undeclared
    errors are declared where the operation can meet them; a 500 only where EMQX crashes."""
    document = _document(server)
    flavour = server.app.flavours[0]
    routes = {(route.method, route.template): route for route in flavour.routes}
    for method, path, operation in _operations(document):
        route = routes[method, path]
        schema = flavour.catalog.operations[route.key]
        media = schema.extensions.get("x-response-media", {})
        for status, body in schema.responses.items():
            kinds = set(media.get(str(status), {})) | ({JSON} if body is not None else set())
            assert set(operation["responses"][str(status)].get("content", {})) == kinds, (route.key, status)
        generic = {"400"} | ({"401", "403"} if not route.public else set()) | ({"415"} if schema.request_body is not None else set())
        assert set(operation["responses"]) == {str(status) for status in schema.responses} | generic, route.key
        request_kinds = set(schema.extensions.get("x-request-media", {})) | ({JSON} if schema.request_body is not None else set())
        assert set(operation.get("requestBody", {}).get("content", {})) == request_kinds, route.key
        assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
            (p.name, p.location, p.location == "path") for p in schema.parameters
        ]
        for name in ("x-deviations", "x-not-in-spec"):
            assert operation.get(name) == schema.extensions.get(name), route.key
        assert operation["security"] == ([] if route.public else [{"basicAuth": []}, {"bearerAuth": []}]), route.key


def test_tags_are_emqx_s_modules(server: EmqxServer) -> None:
    tags = {(method, path): operation["tags"] for method, path, operation in _operations(_document(server))}
    assert tags["GET", "/clients"] == ["Clients"]
    assert tags["POST", "/login"] == ["Dashboard"]
    assert tags["GET", "/status"] == tags["DELETE", "/status"] == ["Status"]  # DELETE: not in the spec, tagged as its module
    assert tags["GET", "/sessions_count"] == ["Clients"]


def test_public_operations_need_no_credentials(server: EmqxServer) -> None:
    public = sorted((method, path) for method, path, operation in _operations(_document(server)) if operation["security"] == [])
    assert public == [
        ("DELETE", "/status"), ("GET", "/error_codes"), ("GET", "/error_codes/{code}"),
        ("GET", "/status"), ("POST", "/login"), ("POST", "/status"), ("PUT", "/status"),
    ]  # fmt: skip


def test_declared_crashes_come_through(server: EmqxServer) -> None:
    """The handler crashes the fake emulates (the overlays declare them) are in the document;
    no other operation declares a 500."""
    document = _document(server)
    flavour = server.app.flavours[0]
    with_500 = {f"{method} {path}" for method, path, operation in _operations(document) if "500" in operation["responses"]}
    assert "POST /authentication/{id}/import_users" in with_500
    assert with_500 == {key for key in {route.key for route in flavour.routes} if 500 in flavour.catalog.operations[key].responses}


def test_the_document_is_valid_openapi_3_0(server: EmqxServer) -> None:
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    errors = [error.message for error in jsonschema.Draft4Validator(definitions.OPENAPI_30).iter_errors(_document(server))]
    assert errors == []


def test_the_same_document_with_or_without_credentials(server: EmqxServer) -> None:
    anonymous = requests.get(server.url + "/api-docs/swagger.json", timeout=30)
    with_key = requests.get(server.url + "/api-docs/swagger.json", auth=server.auth, timeout=30)
    with_wrong_key = requests.get(server.url + "/api-docs/swagger.json", auth=("nobody", "wrong"), timeout=30)
    assert anonymous.status_code == with_key.status_code == with_wrong_key.status_code == 200
    assert anonymous.content == with_key.content == with_wrong_key.content


def test_built_once_per_process(server: EmqxServer) -> None:
    """A second server of the same edition serves the very bytes the first one built."""
    _document(server)
    with EmqxServer(edition=server.edition) as other:
        flavour = other.app.flavours[0]
        assert document_bytes(flavour, other.broker) is document_bytes(server.app.flavours[0], server.broker)


def test_nothing_is_built_or_imported_at_start_up() -> None:
    """Start and stop are on every test's path: the document waits for its first request."""
    code = (
        "import sys; from pytest_emqx_mock import EmqxServer; EmqxServer().start().stop(); "
        "print('pytest_emqx_mock.http.apidocs' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert ran.stdout.strip() == "False"


def _page(server: EmqxServer) -> str:
    response = requests.get(server.url + "/api-docs/index.html", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def test_the_page_reads_offline(server: EmqxServer) -> None:
    page = _page(server)
    assert re.findall(r"""(?:src|href|url)\s*[=(]\s*['"]?(?:[a-z]+:|//)""", page, re.IGNORECASE) == []
    assert "https://" not in page and "http://" not in page
    assert "<details class=op><summary><span class='m get'>GET</span> <code>/clients/{clientid}</code>" in page
    assert "<details id='schema-client'>" in page  # schemas to unfold, linked from their uses
    assert "<a href='#schema-client'>" in page


def test_swagger_support_off_answers_the_dashboard_404() -> None:
    with EmqxServer(swagger_support=False) as server:
        not_found = requests.get(server.url + "/no/such/page", timeout=30)
        for path in ("/api-docs/swagger.json", "/api-docs/index.html"):
            response = requests.get(server.url + path, timeout=30)
            assert (response.status_code, response.headers["content-type"], response.text) == (404, "text/html", not_found.text)
        server.check_errors()


def test_only_get_serves_the_document() -> None:
    with EmqxServer() as server:
        response = requests.post(server.url + "/api-docs/swagger.json", timeout=30)
        assert (response.status_code, response.headers["content-type"]) == (404, "text/html")


# -- the schemas: JSON Schema 2020-12 to OpenAPI 3.0, and back for validating live answers ----


def test_schema_conversion() -> None:
    refs: set[str] = set()
    assert schema_object({"const": "a"}, refs) == {"enum": ["a"]}
    assert schema_object({"type": ["string", "null"], "maxLength": 3}, refs) == {"maxLength": 3, "nullable": True, "type": "string"}
    assert schema_object({"type": ["string", "integer"], "minimum": 0}, refs) == {"minimum": 0, "anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert schema_object({"$ref": "#/$defs/error", "properties": {"code": {"const": "X"}}}, refs) == {
        "allOf": [{"$ref": "#/components/schemas/error"}, {"properties": {"code": {"enum": ["X"]}}}]
    }
    assert schema_object({"type": "number", "exclusiveMinimum": 0}, refs) == {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert schema_object({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2, "maxItems": 2}, refs) == {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "x-prefixItems": [{"type": "string"}, {"type": "integer"}],
        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    }
    assert schema_object({"type": "array", "items": {"type": "null"}, "prefixItems": [{"type": "string"}]}, refs) == {
        "type": "array",
        "x-prefixItems": [{"type": "string"}],
        "items": {"anyOf": [{"type": "string"}, {"nullable": True, "enum": [None]}]},
    }
    assert schema_object({"type": "array", "prefixItems": [{"type": "string"}]}, refs) == {"type": "array", "x-prefixItems": [{"type": "string"}]}
    assert refs == {"error"}
    with pytest.raises(ValueError, match="unevaluatedProperties"):
        schema_object({"unevaluatedProperties": False}, refs)


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as the JSON Schema (draft 4) it means: `nullable` admits null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator({"allOf": [_json_schema(schema)], "components": _json_schema(document["components"])})


@pytest.mark.parametrize(
    "path",
    ["/clients", "/clients/sensor-1", "/nodes", "/metrics", "/stats", "/mqtt/retainer", "/authorization/settings", "/status?format=json"],
)
def test_the_document_s_schemas_hold_live_answers(server: EmqxServer, path: str) -> None:
    server.add_client("sensor-1")
    server.add_client("sensor-2", username="u", connected=False)
    document = _document(server)
    response = requests.get(server.api_url + path, auth=server.auth, timeout=30)
    assert response.status_code == 200
    template = {"/clients/sensor-1": "/clients/{clientid}", "/status?format=json": "/status"}.get(path, path)
    schema = document["paths"][template]["get"]["responses"]["200"]["content"][JSON]["schema"]
    _validator(document, schema).validate(response.json())


def test_the_document_s_schemas_refuse_what_the_fake_never_answers(emqx_server: EmqxServer) -> None:
    emqx_server.add_client("sensor-1")
    document = _document(emqx_server)
    page = requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth, timeout=30).json()
    page["data"][0]["no_such_field"] = 1
    schema = document["paths"]["/clients"]["get"]["responses"]["200"]["content"][JSON]["schema"]
    assert not _validator(document, schema).is_valid(page)
    status = requests.get(emqx_server.api_url + "/status?format=json", timeout=30).json()
    status_schema = document["paths"]["/status"]["get"]["responses"]["200"]["content"][JSON]["schema"]
    assert not _validator(document, status_schema).is_valid({**status, "app_status": None})


def test_the_ini_setting_turns_the_document_off(pytester: pytest.Pytester) -> None:
    """`emqx_swagger_support = false`: the session's fake and a test's own (a marker's) serve none."""
    pytester.makeini("[pytest]\nemqx_swagger_support = false\n")
    pytester.makepyfile(
        """
        import pytest, requests

        def _statuses(server):
            return [requests.get(server.url + path, timeout=30).status_code for path in ("/api-docs/swagger.json", "/api-docs/index.html")]

        def test_session_server(emqx_server):
            assert _statuses(emqx_server) == [404, 404]

        @pytest.mark.emqx(edition="ee")
        def test_own_server(emqx_server):
            assert _statuses(emqx_server) == [404, 404]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::pytest_emqx_mock.plugin.UnmatchedRequestWarning")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("method", "path", "template", "body"),
    [
        ("POST", "/login", "/login", {}),  # emqx_dashboard_api:login/2, badkey
        ("POST", "/publish/bulk", "/publish/bulk", []),  # publish_batch/2, {errror, empty_batch}
        ("POST", "/authorization/sources", "/authorization/sources", {}),  # hocon's union selector: no body
        ("DELETE", "/banned/peerhost_net/x", "/banned/{as}/{who}", None),  # emqx_banned:look_up/1, function_clause
    ],
)
def test_the_emulated_crashes_are_declared(emqx_server: EmqxServer, method: str, path: str, template: str, body: Any) -> None:
    """Where EMQX's handler crashes, the fake answers its 500 and the document declares it."""
    document = _document(emqx_server)
    response = requests.request(method, emqx_server.api_url + path, auth=emqx_server.auth, json=body, timeout=30)
    assert response.status_code == 500
    declared = document["paths"][template][method.lower()]["responses"]["500"]
    assert "500 status" in document["paths"][template][method.lower()]["x-deviations"]
    if not response.content:
        assert "content" not in declared
    else:
        _validator(document, declared["content"][JSON]["schema"]).validate(response.json())


# -- every other door's document: EMQX 4 and the Cloud deployments ----------------------------

APP = ("deployment1", "s3cret")
#: Each door but EMQX 5's: where its document is, and its title.
DOORS = {
    "v4": ("/api-docs/v4", "EMQX 4.4 API", "4.4.19"),
    "cloud-v4": ("/api-docs/cloud-v4", "EMQX Cloud deployment API (EMQX 4.x)", "4.4.19"),
    "cloud-v5": ("/api-docs/cloud-v5", "EMQX Cloud Dedicated deployment API (EMQX 5)", "5.8.9"),
    "cloud-v5-serverless": ("/api-docs/cloud-v5", "EMQX Cloud Serverless deployment API (EMQX 5)", "5.8.9"),
}


@pytest.fixture(scope="module")
def doors() -> Iterator[dict[str, EmqxServer]]:
    servers = {name: EmqxServer(**options).start() for name, options in every_door(APP)}
    yield servers
    for server in servers.values():
        server.stop()
        server.check_errors()


def _door_document(server: EmqxServer, where: str | None = None) -> dict[str, Any]:
    flavour = server.app.flavours[0]
    response = requests.get(f"{server.url}{where or flavour.api_docs_at}/swagger.json", verify=server.ca_file or True, timeout=30)
    assert (response.status_code, response.headers["content-type"]) == (200, JSON)
    return response.json()  # type: ignore[no-any-return]


def test_every_door_serves_its_own_document(doors: dict[str, EmqxServer]) -> None:
    """Exactly the operations the door serves, at its prefix, as valid OpenAPI 3.0; the doors
    of applications ask their Basic credentials, and the documents of `DOORS` name their door."""
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    assert set(DOORS) <= set(doors)
    for name, server in doors.items():
        flavour = server.app.flavours[0]
        document = _door_document(server)
        assert document["servers"] == [{"url": flavour.prefix}], name
        assert _documented(document) == _served(flavour), name
        assert [error.message for error in jsonschema.Draft4Validator(definitions.OPENAPI_30).iter_errors(document)] == [], name
        if flavour.credentials == "app":
            assert document["security"] == [{"appAuth": []}], name
            assert document["components"]["securitySchemes"] == {
                "appAuth": {"type": "http", "scheme": "basic", "description": "An application's AppID and AppSecret"}
            }
        if name in DOORS:
            where, title, version = DOORS[name]
            assert flavour.api_docs_at == where and document["info"] == {"title": title, "version": version}, name
    assert len(_documented(_door_document(doors["cloud-v5-serverless"]))) == 30


def test_the_v4_document_declares_minirest_s_own_answers(doors: dict[str, EmqxServer]) -> None:
    """Text refusals: `Bad Request` anywhere, `Not found.` where a binding may not convert, the
    401 (no content type) where credentials are needed, `Internal Error` only where EMQX 4.4.19
    crashes; `/status` is public, and text."""
    paths = _door_document(doors["v4"])["paths"]
    text = {"text/plain": {"schema": {"enum": ["Bad Request"]}}}
    assert paths["/nodes"]["get"]["responses"] == {
        "200": paths["/nodes"]["get"]["responses"]["200"], "400": {"description": "", "content": text}, "401": {"description": ""},
    }  # fmt: skip
    assert paths["/nodes/{node}"]["get"]["responses"]["404"]["content"] == {"text/plain": {"schema": {"enum": ["Not found."]}}}
    assert paths["/nodes/{node}"]["get"]["parameters"] == [{"name": "node", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert paths["/banned"]["post"]["responses"]["500"]["content"] == {"text/plain": {"schema": {"enum": ["Internal Error"]}}}
    assert "x-crashes" in paths["/banned"]["post"] and "500" not in paths["/nodes"]["get"]["responses"]
    status = paths["/status"]["get"]
    assert status["security"] == [] and status["servers"] == [{"url": "/"}]
    assert set(status["responses"]["200"]["content"]) == {"text/plain"}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("v4", "/clients"), ("v4", "/clients/sensor-1"), ("v4", "/nodes"), ("v4", "/metrics"), ("v4", "/stats"),
        ("v4", "/banned"), ("v4", "/subscriptions"), ("v4", "/auth_clientid"), ("v4", "/acl/clientid"),
        ("cloud-v4", "/clients"), ("cloud-v4", "/brokers"),
        ("cloud-v5", "/clients"), ("cloud-v5", "/nodes"),
        ("cloud-v5-serverless", "/clients"), ("cloud-v5-serverless", "/subscriptions"),
    ],
)  # fmt: skip
def test_each_door_s_schemas_hold_live_answers(doors: dict[str, EmqxServer], name: str, path: str) -> None:
    server = doors[name]
    server.reset()
    server.add_client("sensor-1", subscriptions=["t/1"])
    server.add_client("sensor-2", username="u", connected=False)
    document = _door_document(server)
    response = requests.get(server.api_url + path, auth=APP, verify=server.ca_file or True, timeout=30)
    assert response.status_code == 200
    template = {"/clients/sensor-1": "/clients/{clientid}"}.get(path, path)
    schema = document["paths"][template]["get"]["responses"]["200"]["content"][JSON]["schema"]
    _validator(document, schema).validate(response.json())


def test_several_doors_on_one_server_each_serve_their_own() -> None:
    with EmqxServer(flavour="v5,v4") as server:
        emqx5, emqx4 = _door_document(server, "/api-docs"), _door_document(server, "/api-docs/v4")
        page = requests.get(server.url + "/api-docs/v4/index.html", timeout=30)
    assert (emqx5["info"]["title"], emqx4["info"]["title"]) == ("EMQX API", "EMQX 4.4 API")
    assert (emqx5["servers"], emqx4["servers"]) == ([{"url": "/api/v5"}], [{"url": "/api/v4"}])
    assert page.status_code == 200 and "<h1>EMQX 4.4 API <small>4.4.19</small></h1>" in page.text


def test_swagger_support_off_turns_every_door_s_document_off() -> None:
    for options in [{"flavour": "v5,v4"}, *(options for _, options in every_door(APP))]:
        with EmqxServer(**options, swagger_support=False) as server:
            for flavour in server.app.flavours:
                for name in ("swagger.json", "index.html"):
                    response = requests.get(f"{server.url}{flavour.api_docs_at}/{name}", verify=server.ca_file or True, timeout=30)
                    assert response.status_code == 404, (options, name)
