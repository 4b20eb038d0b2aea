"""Our own schemas, proven against the official EMQX 5.8.1 OpenAPI documents.

For every operation the fake serves: the same parameters and request-body fields as the spec
(EMQX rejects unknown body fields, so these must match exactly), a response schema for every
status the spec declares, and response schemas that agree with the spec's: the same
properties, every field the spec requires required, and no type or enum value the spec does
not allow. Where EMQX itself disagrees with the spec (spec-errata.md, or behaviour of 5.8.9
that the 5.8.1 spec predates) the difference is listed below by name, with its reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_emqx_mock.api.schemas import SchemaCatalog, schema_files

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
SPECS = {"ce": "emqx-5.8.1-ce-openapi.json", "ee": "emqx-enterprise-5.8.1-openapi.json"}

#: Operations live in EMQX 5.8.9 but absent from the 5.8.1 spec (surface notes, first section).
NOT_IN_SPEC = {"PUT /clients/{clientid}/keepalive": "hidden operation added after 5.8.1"}

#: (operation, where, what) -> why our schema deviates from the spec there.
DEVIATIONS: dict[tuple[str, str, str], str] = {
    ("POST /login", "200.license.edition", "enum"): "spec-errata: EMQX sends ce/ee, not opensource/enterprise",
    ("GET /api_key", "200", "type"): "spec-errata: GET /api_key answers an array of keys, not one",
    ("GET /clients/{clientid}/authorization/cache", "200", "type"): "the handler answers an array of "
    "{access:{action_type,qos[,retain]},result,topic,updated_time}, not the documented single object",
    ("GET /clients", "500", "status"): "an unknown node= answers 500 NODE_DOWN (surface notes §6.3)",
    ("POST /clients/{clientid}/subscribe", "200", "properties"): "the subscribe reply is "
    "{clientid,nl,node,qos,rap,rh,topic}: no `durable`",
    ("POST /clients/{clientid}/subscribe", "400", "status"): "nl=1 on a shared subscription: 400 INVALID_PARAMETER",
    ("POST /clients/{clientid}/subscribe", "500", "status"): "an unparsable $share filter: 500 UNKNOWN_ERROR",
    ("POST /clients/{clientid}/subscribe/bulk", "200", "type"): "when any item fails the reply is "
    "{succeed, failed} instead of the array",
    ("POST /logout", "401.code", "enum"): "logout with another user's name: 401 WRONG_TOKEN_OR_USERNAME",
}
#: The client object, in both operations that answer it (a list row, or one client).
for _operation, _where in (("GET /clients", "200.data[]"), ("GET /clients/{clientid}", "200")):
    DEVIATIONS.update(
        {
            (_operation, _where, "properties"): "5.8.9 formats client objects with listener, is_persistent, "
            "enable_authn, client_attrs, peersni, auth_expire_at; the 5.8.1 schema omits them (its example has some)",
            (_operation, f"{_where}.username", "type"): "spec-errata: username may be null",
            (_operation, f"{_where}.mountpoint", "type"): "spec-errata: mountpoint may be null",
            (_operation, f"{_where}.subscriptions_max", "type"): 'spec-errata: subscriptions_max may be "infinity"',
            (_operation, f"{_where}.ip_address", "type"): "a session without a peer has a null ip_address",
            (_operation, f"{_where}.port", "type"): "a session without a peer has a null port",
        }
    )
#: CE dashboard users: the spec lists `backend`, an Enterprise (SSO) field CE never sends.
for _operation, _where in (("GET /users", "200[]"), ("POST /users", "200"), ("PUT /users/{username}", "200")):
    DEVIATIONS[(_operation, _where, "properties")] = "CE users are {username, description}; backend is EE-only"


def _load_spec(edition: str) -> dict[str, Any]:
    path = REFERENCE / SPECS[edition]
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must prove the schemas against the official spec")
        pytest.skip(f"official spec not available at {path} (../shared/reference is absent)")
    return json.loads(path.read_text())


class _Spec:
    """The official document, OpenAPI 3.0, read as plain JSON Schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def operation(self, key: str) -> dict[str, Any] | None:
        method, path = key.split(" ", 1)
        return self.document["paths"].get(path, {}).get(method.lower())

    def parameters(self, operation: dict[str, Any]) -> set[str]:
        return {self.resolve(p)["name"] for p in operation.get("parameters", [])}

    def body(self, operation: dict[str, Any]) -> dict[str, Any] | None:
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        return self.resolve(content["schema"]) if content else None

    def responses(self, operation: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
        found: dict[str, dict[str, Any] | None] = {}
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            found[status] = self.resolve(content["schema"]) if content and "schema" in content else None
        return found


def _types(schema: dict[str, Any], resolve: Any) -> set[str]:
    """The JSON types a schema admits (unions flattened)."""
    schema = resolve(schema)
    members = schema.get("oneOf") or schema.get("anyOf")
    if members:
        return set().union(*(_types(member, resolve) for member in members))
    if "const" in schema:
        return {_json_type(schema["const"])}
    declared = schema.get("type")
    if declared is None and "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    if declared is None:
        return {"object"} if "properties" in schema else {"any"}
    types = set(declared) if isinstance(declared, list) else {declared}
    if schema.get("nullable"):
        types.add("null")
    return types


def _enum(schema: dict[str, Any], resolve: Any) -> set[Any] | None:
    schema = resolve(schema)
    members = schema.get("oneOf") or schema.get("anyOf")
    if members:
        values = [_enum(member, resolve) for member in members]
        return None if any(v is None for v in values) else set().union(*values)  # type: ignore[arg-type]
    if "const" in schema:
        return {schema["const"]}
    return set(schema["enum"]) if "enum" in schema else None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {str: "string", type(None): "null", dict: "object", list: "array"}[type(value)]


class _Comparison:
    def __init__(self, key: str, ours: SchemaCatalog, spec: _Spec) -> None:
        self.key = key
        self.ours = ours
        self.spec = spec
        self.problems: list[str] = []
        self.deviations_used: set[tuple[str, str, str]] = set()

    def _ours(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Resolve `$ref`; sibling keywords narrow the referenced schema (2020-12 semantics)."""
        while "$ref" in schema:
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            base = self.ours.defs[schema["$ref"].rsplit("/", 1)[1]]
            properties = {**base.get("properties", {}), **extra.pop("properties", {})}
            schema = {**base, **extra, **({"properties": properties} if properties else {})}
        return schema

    def problem(self, where: str, what: str, detail: str) -> None:
        deviation = (self.key, where, what)
        if deviation in DEVIATIONS:
            self.deviations_used.add(deviation)
        else:
            self.problems.append(f"{self.key} at {where}: {what}: {detail}")

    def compare(self, ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
        ours, theirs = self._ours(ours), self.spec.resolve(theirs)
        our_types, their_types = _types(ours, self._ours), _types(theirs, self.spec.resolve)
        if "any" not in their_types and not our_types <= their_types:
            self.problem(where, "type", f"ours {sorted(our_types)}, spec {sorted(their_types)}")
            return
        their_enum, our_enum = _enum(theirs, self.spec.resolve), _enum(ours, self._ours)
        if their_enum is not None and (our_enum is None or not our_enum <= their_enum):
            self.problem(where, "enum", f"ours {sorted(map(str, our_enum or []))}, spec {sorted(map(str, their_enum))}")
        if "properties" in theirs:
            self._compare_object(self._object_member(ours), theirs, where)
        if "items" in theirs:
            member = self._array_member(ours)
            if member is not None:
                self.compare(member["items"], theirs["items"], where + "[]")

    def _object_member(self, schema: dict[str, Any]) -> dict[str, Any]:
        for member in schema.get("oneOf", [schema]):
            member = self._ours(member)
            if "properties" in member:
                return member
        return schema

    def _array_member(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        for member in schema.get("oneOf", [schema]):
            member = self._ours(member)
            if "items" in member:
                return member
        return None

    def _compare_object(self, ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
        our_props, their_props = ours.get("properties", {}), theirs["properties"]
        if set(our_props) != set(their_props):
            extra, missing = sorted(set(our_props) - set(their_props)), sorted(set(their_props) - set(our_props))
            self.problem(where, "properties", f"only ours {extra}, only the spec {missing}")
        missing_required = set(theirs.get("required", [])) - set(ours.get("required", []))
        if missing_required:
            self.problem(where, "required", f"spec requires {sorted(missing_required)}")
        for name in sorted(set(our_props) & set(their_props)):
            self.compare(our_props[name], their_props[name], f"{where}.{name}")


def _operations(edition: str) -> list[str]:
    return sorted(SchemaCatalog(edition).operations)


def _compare_edition(edition: str) -> tuple[list[str], set[tuple[str, str, str]]]:
    """Every served operation against the edition's spec: the problems, and the named
    deviations that excused others."""
    spec = _Spec(_load_spec(edition))
    ours = SchemaCatalog(edition)
    problems: list[str] = []
    used: set[tuple[str, str, str]] = set()
    for key, operation in sorted(ours.operations.items()):
        official = spec.operation(key)
        if official is None:
            if key not in NOT_IN_SPEC:
                problems.append(f"{key} is served but is not in the official spec")
            continue
        comparison = _Comparison(key, ours, spec)
        our_params = {p.name for p in operation.parameters}
        if our_params != spec.parameters(official):
            comparison.problem("parameters", "names", f"ours {sorted(our_params)}, spec {sorted(spec.parameters(official))}")
        their_body = spec.body(official)
        if (their_body is None) != (operation.request_body is None):
            comparison.problem("requestBody", "presence", f"ours {operation.request_body}, spec {their_body}")
        elif their_body is not None and operation.request_body is not None:
            comparison.compare(operation.request_body, their_body, "requestBody")
        our_statuses = {str(status) for status in operation.responses}
        for status, their_schema in spec.responses(official).items():
            if status not in our_statuses:
                comparison.problem(status, "status", "declared by the spec, missing from ours")
                continue
            our_schema = operation.responses[int(status)]
            if their_schema is not None and our_schema is not None:
                comparison.compare(our_schema, their_schema, status)
        for status in sorted(our_statuses - set(spec.responses(official))):
            comparison.problem(status, "status", "ours declares a status the spec does not")
        problems += comparison.problems
        used |= comparison.deviations_used
    return problems, used


@pytest.mark.parametrize("edition", ["ce", "ee"])
def test_every_served_operation_agrees_with_the_official_spec(edition: str) -> None:
    problems, _ = _compare_edition(edition)
    assert problems == []


def test_every_named_deviation_is_still_needed() -> None:
    """A deviation that excuses nothing in either edition hides nothing, and must go."""
    used = _compare_edition("ce")[1] | _compare_edition("ee")[1]
    assert sorted(set(DEVIATIONS) - used) == []


def test_every_schema_file_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    for name, document in schema_files().items():
        for definition in document.get("$defs", {}).values():
            Draft202012Validator.check_schema(definition)
        for key, operation in document["operations"].items():
            for schema in operation["responses"].values():
                if schema is not None:
                    Draft202012Validator.check_schema(schema)
            assert key.split(" ")[0] in {"GET", "POST", "PUT", "DELETE"}, f"{name}: {key}"


def test_ee_only_properties_are_stripped_for_ce() -> None:
    ce, ee = SchemaCatalog("ce"), SchemaCatalog("ee")
    assert "role" not in ce.defs["api_key"]["properties"]
    assert ee.defs["api_key"]["properties"]["role"]["enum"] == ["administrator", "viewer", "publisher"]
    assert "role" not in ce.operations["POST /api_key"].request_body["properties"]  # type: ignore[index]
