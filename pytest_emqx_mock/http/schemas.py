"""A flavour's JSON schemas (EMQX 5's: `pytest_emqx_mock/flavours/v5/schemas/*.json`), one file per
EMQX API module, and response validation against them.

Each file holds `$defs` (shared by name across files) and `operations`, keyed `"METHOD /path"`,
each with `parameters`, an optional `requestBody` and its `responses` by status. A property
marked `"x-edition": "ee"` exists only in EMQX Enterprise: for edition `ce` it is removed, so CE
responses may not carry it and CE requests that send it are refused as unknown fields.

An operation may also carry `x-not-in-spec` (why EMQX 5.8.9 serves it though the 5.8.1 spec
lacks it) and `x-deviations` (`{"<where> <what>": "<why>"}`: where our schema knowingly differs
from the spec's); tests/test_schemas.py proves everything else against the official spec.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterator

from jsonschema import Draft202012Validator, ValidationError, validators

from .replies import Fragment, Fragments, encode_text

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


class ResponseSchemaError(AssertionError):
    """The fake answered something its own schema forbids: a bug in the fake."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "query" or "path"
    schema: dict[str, Any]


@dataclass(frozen=True)
class OperationSchema:
    key: str
    parameters: tuple[Parameter, ...]
    request_body: dict[str, Any] | None
    responses: dict[int, dict[str, Any] | None]


def _fragment_aware_items(validator: Any, items: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, Fragments):
        expected = items.get("x-ref") if isinstance(items, dict) else None
        wrong = {fragment.ref for fragment in instance if fragment.ref != expected}
        if wrong:
            yield ValidationError(f"rows validated as {sorted(wrong)} where {expected} is expected")
        return
    yield from Draft202012Validator.VALIDATORS["items"](validator, items, instance, schema)


#: Draft 2020-12, except that pre-validated Fragments pass the `items` they were validated for.
_Validator = validators.extend(Draft202012Validator, {"items": _fragment_aware_items})


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with every `$ref` to our `$defs` replaced by the definition itself (an
    `allOf` beside any sibling keywords, as 2020-12 evaluates them), marked `x-ref` so a
    Fragment validated against that definition is recognized. Resolving references on every
    validation was the largest cost of checking a page."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    inlined = {key: _inline(value, defs) for key, value in schema.items() if key != "$ref"}
    if "$ref" in schema:
        ref = schema["$ref"]
        inlined["allOf"] = [*inlined.get("allOf", []), _inline(defs[ref.rsplit("/", 1)[1]], defs)]
        inlined["x-ref"] = ref
    return inlined


def _strip_other_editions(node: Any, edition: str) -> Any:
    """Drop the properties and parameters marked for another edition."""
    if isinstance(node, dict):
        result = {k: _strip_other_editions(v, edition) for k, v in node.items()}
        for container in ("properties", "parameters"):
            members = result.get(container)
            if not isinstance(members, dict):
                continue
            dropped = [name for name, sub in members.items() if isinstance(sub, dict) and sub.get("x-edition", edition) != edition]
            for name in dropped:
                del members[name]
            if container == "properties" and "required" in result:
                result["required"] = [name for name in result["required"] if name not in dropped]
        return result
    if isinstance(node, list):
        return [_strip_other_editions(item, edition) for item in node]
    return node


def schema_files(folder: Traversable | None = None) -> dict[str, dict[str, Any]]:
    """The raw schema documents in `folder` (by default EMQX 5's), by file name."""
    folder = folder if folder is not None else resources.files("pytest_emqx_mock.flavours.v5") / "schemas"
    return {
        entry.name: json.loads(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    }


class SchemaCatalog:
    """Every operation's schema in `folder` (by default EMQX 5's) for one edition, with
    validators compiled on first use."""

    def __init__(self, edition: str, folder: Traversable | None = None) -> None:
        self.edition = edition
        self.defs: dict[str, Any] = {}
        self.operations: dict[str, OperationSchema] = {}
        for filename, document in schema_files(folder).items():
            document = _strip_other_editions(copy.deepcopy(document), edition)
            for name, definition in document.get("$defs", {}).items():
                if name in self.defs:
                    raise ValueError(f"{filename}: $defs/{name} is defined twice")
                self.defs[name] = definition
            for key, operation in document["operations"].items():
                if key in self.operations:
                    raise ValueError(f"{filename}: operation {key} is defined twice")
                self.operations[key] = OperationSchema(
                    key=key,
                    parameters=tuple(
                        Parameter(name, spec["in"], spec["schema"])
                        for name, spec in operation.get("parameters", {}).items()
                    ),
                    request_body=operation.get("requestBody"),
                    responses={int(status): schema for status, schema in operation["responses"].items()},
                )
        self._validators: dict[str, Any] = {}
        self._valid_skeletons: set[tuple[str, int, str]] = set()

    def check_response(self, key: str, status: int, body: Any) -> None:
        """Raise ResponseSchemaError unless `body` is what operation `key` may answer with
        `status` (errors the pipeline itself produces are checked by `check_error`)."""
        operation = self.operations[key]
        if _always_allowed(status, body):
            self._validator_for("error", {"$ref": "#/$defs/error"}).validate(body)
            return
        if status not in operation.responses:
            raise ResponseSchemaError(f"{key} declares no {status} response (body {body!r:.300})")
        schema = operation.responses[status]
        if schema is None:
            if body is not None:
                raise ResponseSchemaError(f"{key} {status} has no body, but the fake sent {body!r:.300}")
            return
        if isinstance(body, Fragment):  # one pre-validated object, e.g. GET /clients/{clientid}
            if body.ref != schema.get("$ref"):
                raise ResponseSchemaError(f"{key} {status}: an object validated as {body.ref}, expected {schema}")
            return
        skeleton = _skeleton(body)
        if skeleton is not None and (key, status, skeleton) in self._valid_skeletons:
            return
        _raise_first(self._validator_for(f"{key} {status}", schema), body, f"{key} {status}")
        if skeleton is not None:
            if len(self._valid_skeletons) >= _MAX_SKELETONS:
                self._valid_skeletons.clear()
            self._valid_skeletons.add((key, status, skeleton))

    def fragment(self, ref_name: str, value: Any) -> Fragment:
        """Validate `value` against `$defs/<ref_name>` once and keep its encoding."""
        ref = f"#/$defs/{ref_name}"
        _raise_first(self._validator_for(ref, {"$ref": ref}), value, ref)
        return Fragment(encode_text(value), ref)

    def _validator_for(self, name: str, schema: dict[str, Any]) -> Any:
        """One validator per schema, its references inlined, made on first use."""
        validator = self._validators.get(name)
        if validator is None:
            validator = self._validators[name] = _Validator(_inline(schema, self.defs))
        return validator


_MAX_SKELETONS = 4096


def _skeleton(body: Any) -> str | None:
    """A page of pre-validated rows, as text with each run of rows reduced to its definition
    and length; None for other bodies. Rows are validated when they change, and a page is
    valid when its skeleton is: so each skeleton is validated once, not on every read."""
    if not isinstance(body, dict) or not any(isinstance(value, Fragments) for value in body.values()):
        return None
    return encode_text(
        {
            key: [sorted({row.ref for row in value}), len(value)] if isinstance(value, Fragments) else value
            for key, value in body.items()
        }
    )


def _always_allowed(status: int, body: Any) -> bool:
    """Errors minirest lets any operation answer, declared or not: any code on 401, 403 and
    415, BAD_REQUEST on 400, INTERNAL_ERROR on 500."""
    if not isinstance(body, dict) or "code" not in body:
        return False
    return status in (401, 403, 415) or (status, body["code"]) in ((400, "BAD_REQUEST"), (500, "INTERNAL_ERROR"))


def _raise_first(validator: Any, body: Any, what: str) -> None:
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise ResponseSchemaError(f"{what}: at {where}: {error.message}")
