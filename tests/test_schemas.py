"""Our own schemas, proven against the official EMQX 5.8.1 OpenAPI documents.

For every operation of the catalog, the served ones described by their overlays and the others
by their generated schema (except those EMQX 5.8.9 has and the 5.8.1 spec lacks, each marked
`x-not-in-spec` with the reason): the same parameters and request-body fields as the spec
(EMQX rejects unknown body fields, so these must match exactly), a response schema for every
status the spec declares, and response schemas that agree with the spec's: the same
properties, every field the spec requires required, and no type or enum value the spec does
not allow. Where EMQX itself disagrees with the spec (spec-errata.md, or behaviour of 5.8.9
that the 5.8.1 spec predates) the difference is named in the operation's `x-deviations`, with
its reason; a deviation that no longer excuses anything fails the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_emqx_mock.http.schemas import SchemaCatalog, schema_files

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
SPECS = {"ce": "emqx-5.8.1-ce-openapi.json", "ee": "emqx-enterprise-5.8.1-openapi.json"}

def _deviations() -> dict[tuple[str, str, str], str]:
    """(operation, where, what) -> why, from each operation's `x-deviations` in our schema
    files: `{"<where> <what>": "<why>"}`, kept beside the schema whose difference they excuse."""
    found: dict[tuple[str, str, str], str] = {}
    for document in schema_files().values():
        for key, operation in document["operations"].items():
            for place, why in operation.get("x-deviations", {}).items():
                where, what = place.rsplit(" ", 1)
                found[(key, where, what)] = why
    return found


DEVIATIONS = _deviations()


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


def _raw_operation(key: str) -> dict[str, Any]:
    return next(doc["operations"][key] for doc in schema_files().values() if key in doc["operations"])


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
            if not _raw_operation(key).get("x-not-in-spec"):
                problems.append(f"{key} is served but is not in the official spec (say why in x-not-in-spec)")
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
