"""The generated schemas (`python -m pytest_emqx_mock.schemagen`), the overlays over them, and
the coverage report (`emqx-mock coverage`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from pytest_emqx_mock import schemagen
from pytest_emqx_mock.cli import coverage_report
from pytest_emqx_mock.flavours.v5.validation import RequestChecker
from pytest_emqx_mock.http.replies import ApiError
from pytest_emqx_mock.http.schemas import (
    ResponseSchemaError,
    SchemaCatalog,
    generated_file,
    generated_index,
)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"


def _reference() -> Path:
    if not all((REFERENCE / name).exists() for name in schemagen.SPECS.values()):
        if os.environ.get("CI"):
            pytest.fail(f"{REFERENCE} is missing: CI must prove the generated schemas against the official spec")
        pytest.skip(f"official spec not available at {REFERENCE} (../shared/reference is absent)")
    return REFERENCE


def test_regenerating_gives_the_committed_files() -> None:
    assert schemagen.stale_files(schemagen.generate(_reference())) == []


def test_the_generator_checks_and_writes(tmp_path: Path) -> None:
    reference = _reference()
    check = subprocess.run(
        [sys.executable, "-m", "pytest_emqx_mock.schemagen", "--reference", str(reference), "--check"],
        capture_output=True, text=True, timeout=120,
    )
    assert (check.returncode, check.stderr) == (0, "")
    files = schemagen.generate(reference)
    schemagen.write({**files, "gone.json": "{}\n"}, tmp_path)
    schemagen.write(files, tmp_path)  # a file no longer generated goes
    assert schemagen.stale_files(files, tmp_path) == []
    (tmp_path / "alarms.json").write_text("{}\n")
    assert schemagen.stale_files(files, tmp_path) == ["alarms.json"]


def test_coverage_totals_are_the_specs_operation_counts() -> None:
    reference = _reference()
    for edition, name in schemagen.SPECS.items():
        spec = json.loads((reference / name).read_text())
        operations = sum(method in schemagen.METHODS for item in spec["paths"].values() for method in item)
        assert coverage_report()["totals"][edition]["total"] == operations


_NAMES = ("properties", "parameters", "responses", "operations", "$defs", "tags", "x-enum-editions", "x-request-media")


def _keywords(node: Any) -> set[str]:
    """The keywords used anywhere in a generated document (not the names of its members)."""
    if isinstance(node, list):
        return set().union(*(_keywords(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key in _NAMES and isinstance(value, dict):
            found |= set().union(*(_keywords(member) for member in value.values())) if value else set()
        elif key == "x-response-media":  # by status, then by media type
            found |= set().union(*(_keywords(schema) for media in value.values() for schema in media.values()))
        elif key not in ("default", "enum"):
            found |= _keywords(value)
    return found


def test_only_facts_are_generated() -> None:
    used = set().union(*(_keywords(generated_file(group["file"])) for group in generated_index().values()))
    used |= _keywords(generated_file("defs.json")) | _keywords(generated_file("index.json"))
    assert not used & {"description", "summary", "example", "examples", "is_template", "title"}
    assert used <= {
        "$comment", "$ref", "default", "enum", "file", "format", "in", "items", "maxLength", "maximum", "minLength",
        "minimum", "oneOf", "readOnly", "required", "requestBody", "schema", "type", "x-deprecated", "x-edition",
        "x-response-media", *_NAMES,
    }


def _schemas(node: Any) -> list[dict[str, Any]]:
    operation_schemas = [spec["schema"] for spec in node.get("parameters", {}).values()]
    operation_schemas += [node["requestBody"]] if "requestBody" in node else []
    return operation_schemas + [schema for schema in node["responses"].values() if schema is not None]


def test_every_generated_schema_is_valid_json_schema() -> None:
    """Checked against draft 7's metaschema: every keyword generated means the same there as in
    2020-12, and draft 2020-12's metaschema takes some 20 s over this megabyte of schemas."""
    for definition in generated_file("defs.json")["$defs"].values():
        Draft7Validator.check_schema(definition)
    for group in generated_index().values():
        for key, operation in generated_file(group["file"])["operations"].items():
            assert key in group["operations"]
            for schema in _schemas(operation):
                Draft7Validator.check_schema(schema)


def test_an_operation_without_an_overlay_gets_its_generated_schema() -> None:
    ce = SchemaCatalog("ce")
    trace = ce.operations["POST /trace"]
    assert trace.request_body is not None and trace.request_body["required"] == ["name", "type"]
    assert trace.request_body["properties"]["type"] == {"enum": ["clientid", "topic", "ip_address", "ruleid"], "type": "string"}
    assert ce.operations["GET /trace"].responses[200] == {"items": {"$ref": "#/$defs/trace.trace"}, "type": "array"}
    assert ce.defs["trace.trace"]["properties"]["status"]["enum"] == ["running", "stopped", "waiting"]
    ce.check_response("POST /trace", 200, {"name": "t1", "type": "clientid", "clientid": "c1"})
    with pytest.raises(ResponseSchemaError, match="at type"):
        ce.check_response("POST /trace", 200, {"name": "t1", "type": "nope"})
    checker = RequestChecker(ce)
    with pytest.raises(ApiError) as refused:
        checker.body(trace, {"name": "t1"})
    assert json.loads(refused.value.message) == {"kind": "validation_error", "path": "root.type", "reason": "required_field"}


def test_each_edition_sees_its_own_operations_parameters_members_and_values() -> None:
    ce, ee = SchemaCatalog("ce"), SchemaCatalog("ee")
    assert ("GET /license" in ce.operations, "GET /license" in ee.operations) == (False, True)
    assert ("GET /telemetry/status" in ce.operations, "GET /telemetry/status" in ee.operations) == (True, False)
    with pytest.raises(KeyError):
        ce.operations["GET /license"]
    assert [p.name for p in ce.operations["POST /logout"].parameters] == []
    assert [p.name for p in ee.operations["POST /logout"].parameters] == ["backend"]
    gateway = {catalog.edition: catalog.operations["GET /gateways/{name}"].parameters[0].schema["enum"] for catalog in (ce, ee)}
    assert gateway == {"ce": ["coap", "exproto", "lwm2m", "mqttsn", "stomp"], "ee": ["coap", "exproto", "gbt32960", "jt808", "lwm2m", "mqttsn", "ocpp", "stomp"]}
    assert (len(ce.operations["POST /connectors"].request_body["oneOf"]), len(ee.operations["POST /connectors"].request_body["oneOf"])) == (2, 37)  # type: ignore[index]
    assert len(ce.operations) == len(set(ce.operations)) == coverage_report()["totals"]["ce"]["total"] + len(coverage_report()["served_not_in_spec"])


def test_an_overlay_replaces_its_generated_operation_whole() -> None:
    ce = SchemaCatalog("ce")
    generated = generated_file("authentication.json")["operations"]["POST /authentication/{id}/import_users"]
    assert "requestBody" in generated  # the spec's JSON body...
    assert ce.operations["POST /authentication/{id}/import_users"].request_body is None  # ...the overlay has none
    assert ce.operations["GET /banned"].parameters[0].schema == {"$ref": "#/$defs/page"}  # the overlay's own definition
    assert "emqx_mgmt_api_banned.ban" in ce.defs and "ban" in ce.defs  # both kinds of $defs, by name


def _emqx_mock(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_emqx_mock.cli", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_coverage_command_lists_every_operation_served_or_not_with_totals() -> None:
    report = json.loads(_emqx_mock("coverage", "--json").stdout)
    rows = {row["operation"]: row for tag_rows in report["tags"].values() for row in tag_rows}
    assert {"operation": "GET /clients", "served": True} in report["tags"]["Clients"]
    assert rows["GET /trace"] == {"operation": "GET /trace", "served": False}
    assert rows["GET /license"] == {"operation": "GET /license", "served": False, "edition": "ee"}
    assert "PUT /clients/{clientid}/keepalive" in report["served_not_in_spec"]
    for edition in ("ce", "ee"):
        in_edition = [row for row in rows.values() if row.get("edition", edition) == edition]
        assert report["totals"][edition] == {"served": sum(row["served"] for row in in_edition), "total": len(in_edition)}
    text = _emqx_mock("coverage").stdout
    assert "\nClients  " in text and "  [x] GET /clients\n" in text and "  [ ] GET /license  (ee)\n" in text
    total = re.search(r"^Total: CE (\d+)/(\d+) served, EE (\d+)/(\d+) served$", text, flags=re.M)
    assert total is not None
    assert [int(n) for n in total.groups()] == [report["totals"][e][k] for e in ("ce", "ee") for k in ("served", "total")]
    assert total.group(0) in (ROOT / "README.md").read_text()  # the README quotes what the command prints
