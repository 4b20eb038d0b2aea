"""A flavour's JSON schemas (EMQX 5's: `pytest_emqx_mock/flavours/v5/schemas/`), and response
validation against them.

Two sources, both in the flavour's schema folder:

* `generated/`: every operation of EMQX 5.8.1's CE and EE specs, derived by
  `python -m pytest_emqx_mock.schemagen` (facts only; see that module), committed;
* `*.json`, written by hand, one file per EMQX API module: the overlays. They are stricter
  than the spec where EMQX is (`additionalProperties: false`, hocon's types and wording) and
  say where EMQX 5.8.9 and the spec disagree.

Overlay = replace, per operation: an operation an overlay file describes is exactly what the
overlay says, and its generated schema is not read at all; every other operation gets its
generated schema. An overlay is a complete description (a deep merge into the generated
schema would mix two `$ref` worlds and let spec statuses and bodies slip into operations whose
EMQX behaviour was checked), but it need not restate what the spec already says well: its
`$ref`s may name the generated `$defs` (`#/$defs/<module>.<name>`, as the spec's components).

Each file holds `$defs` (shared by name across files) and `operations`, keyed `"METHOD /path"`,
each with `parameters`, an optional `requestBody` and its `responses` by status. A member
marked `"x-edition": "ee"` exists only in EMQX Enterprise (`"ce"`: only in CE): a property,
parameter or union member of another edition is removed, so CE responses may not carry it and
CE requests that send it are refused as unknown fields; an enum's `"x-enum-editions"` names
the values of one edition only. A generated operation of one edition only is absent from the
other's catalog.

An overlay operation may also carry `x-not-in-spec` (why EMQX 5.8.9 serves it though the 5.8.1
spec lacks it) and `x-deviations` (`{"<where> <what>": "<why>"}`: where our schema knowingly
differs from the spec's); tests/test_schemas.py proves everything else against the official spec.

The catalog is cheap to make: the overlays are read at once (as the served operations need
them), the generated files only when an operation or definition they alone hold is asked for.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterator, Mapping, TypeVar

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
    #: The operation answers a raw config tree (`x-raw-echo`): a value comes back as it was
    #: sent, so a boolean or an integer may be the text hocon accepted for it.
    raw_echo: bool = False
    #: The operation's `x-` members (`x-deviations`, `x-not-in-spec`, `x-request-media`,
    #: `x-response-media`...), which the fake's own OpenAPI document carries (`http.apidocs`).
    extensions: Mapping[str, Any] = field(default_factory=dict)
    #: The schema file describing it (an overlay's, or the generated one of its tag).
    source: str = ""


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


def _inline(schema: Any, defs: Mapping[str, Any]) -> Any:
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
    """A copy without the properties, parameters, union members and enum values marked for
    another edition."""
    if isinstance(node, dict):
        result = {k: _strip_other_editions(v, edition) for k, v in node.items()}
        for container in ("properties", "parameters"):
            members = result.get(container)
            if not isinstance(members, dict):
                continue
            dropped = [name for name, sub in members.items() if _other_edition(sub, edition)]
            for name in dropped:
                del members[name]
            if container == "properties" and "required" in result:
                result["required"] = [name for name in result["required"] if name not in dropped]
        value_editions = result.get("x-enum-editions")
        if value_editions and "enum" in result:
            result["enum"] = [value for value in result["enum"] if value_editions.get(value, edition) == edition]
        return result
    if isinstance(node, list):
        return [_strip_other_editions(item, edition) for item in node if not _other_edition(item, edition)]
    return node


def _other_edition(node: Any, edition: str) -> bool:
    return isinstance(node, dict) and node.get("x-edition", edition) != edition


def _default_folder() -> Traversable:
    return resources.files("pytest_emqx_mock.flavours.v5") / "schemas"


def schema_files(folder: Traversable | None = None) -> dict[str, dict[str, Any]]:
    """The raw overlay documents in `folder` (by default EMQX 5's), by file name."""
    folder = folder if folder is not None else _default_folder()
    return {
        entry.name: json.loads(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    }


def generated_file(name: str, folder: Traversable | None = None) -> dict[str, Any]:
    """One raw generated document (`index.json`, `defs.json` or a tag's file) of `folder` (by
    default EMQX 5's), read once; an empty one where the folder has no generated schemas."""
    where: Any = folder if folder is not None else _default_folder()  # hashable, though not typed so
    return _read_generated(name, where)


@functools.lru_cache(maxsize=None)
def _read_generated(name: str, folder: Any) -> dict[str, Any]:
    entry = folder / "generated" / name
    return json.loads(entry.read_text(encoding="utf-8")) if entry.is_file() else {}  # type: ignore[no-any-return]


def generated_index(folder: Traversable | None = None) -> dict[str, dict[str, Any]]:
    """Every operation of the CE and EE specs by tag: `{tag: {"file", "operations": {"METHOD
    /path": {"x-edition"?}}}}`."""
    return generated_file("index.json", folder).get("tags", {})  # type: ignore[no-any-return]


def _operation_schema(key: str, operation: dict[str, Any], source: str) -> OperationSchema:
    return OperationSchema(
        key=key,
        parameters=tuple(Parameter(name, spec["in"], spec["schema"]) for name, spec in operation.get("parameters", {}).items()),
        request_body=operation.get("requestBody"),
        responses={int(status): schema for status, schema in operation["responses"].items()},
        raw_echo=bool(operation.get("x-raw-echo")),
        extensions={name: value for name, value in operation.items() if name.startswith("x-")},
        source=source,
    )


_Value = TypeVar("_Value")


class _Overlaid(Mapping[str, _Value]):
    """The overlays' entries, then the generated ones that no overlay replaces, each made for
    the edition when first read."""

    def __init__(self, edition: str, folder: Traversable | None, overlays: dict[str, _Value]) -> None:
        self.edition = edition
        self.folder = folder
        self.overlays = overlays
        self._made: dict[str, _Value] = {}

    @functools.cached_property
    def _generated(self) -> dict[str, Any]:
        """The generated entries' raw material, by key."""
        raise NotImplementedError

    def _make(self, key: str, raw: Any) -> _Value:
        raise NotImplementedError

    def __getitem__(self, key: str) -> _Value:
        if key in self.overlays:
            return self.overlays[key]
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = self._make(key, self._generated[key])
        return found

    def __contains__(self, key: object) -> bool:
        return key in self.overlays or key in self._generated

    def __iter__(self) -> Iterator[str]:
        yield from self.overlays
        yield from self._generated

    def __len__(self) -> int:
        return len(self.overlays) + len(self._generated)


class _Definitions(_Overlaid[Any]):
    """`$defs`: the overlays' and the generated ones (named as the spec's components), one namespace."""

    @functools.cached_property
    def _generated(self) -> dict[str, Any]:
        generated: dict[str, Any] = generated_file("defs.json", self.folder).get("$defs", {})
        clash = set(generated) & set(self.overlays)
        if clash:
            raise ValueError(f"$defs both written by hand and generated: {sorted(clash)}")
        return generated

    def _make(self, key: str, raw: Any) -> Any:
        return _strip_other_editions(raw, self.edition)


class _Operations(_Overlaid[OperationSchema]):
    """Operations: the overlays', then the edition's generated ones."""

    @functools.cached_property
    def _generated(self) -> dict[str, Any]:
        """The file of each: the index, not every file, is read to know them."""
        return {
            key: group["file"]
            for group in generated_index(self.folder).values()
            for key, entry in group["operations"].items()
            if key not in self.overlays and entry.get("x-edition", self.edition) == self.edition
        }

    def _make(self, key: str, raw: Any) -> OperationSchema:
        operation = generated_file(raw, self.folder)["operations"][key]
        return _operation_schema(key, _strip_other_editions(operation, self.edition), raw)


class SchemaCatalog:
    """Every operation's schema in `folder` (by default EMQX 5's) for one edition, with
    validators compiled on first use."""

    def __init__(self, edition: str, folder: Traversable | None = None) -> None:
        self.edition = edition
        self.folder = folder
        defs: dict[str, Any] = {}
        operations: dict[str, OperationSchema] = {}
        for filename, document in schema_files(folder).items():
            document = _strip_other_editions(document, edition)
            for name, definition in document.get("$defs", {}).items():
                if name in defs:
                    raise ValueError(f"{filename}: $defs/{name} is defined twice")
                defs[name] = definition
            for key, operation in document["operations"].items():
                if key in operations:
                    raise ValueError(f"{filename}: operation {key} is defined twice")
                operations[key] = _operation_schema(key, operation, filename)
        self.defs: Mapping[str, Any] = _Definitions(edition, folder, defs)
        self.operations: Mapping[str, OperationSchema] = _Operations(edition, folder, operations)
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
        validator = self._validator_for(f"{key} {status}", schema, raw_echo=operation.raw_echo and status == 200)
        _raise_first(validator, body, f"{key} {status}")
        if skeleton is not None:
            if len(self._valid_skeletons) >= _MAX_SKELETONS:
                self._valid_skeletons.clear()
            self._valid_skeletons.add((key, status, skeleton))

    def answer_schema(self, key: str, status: int) -> dict[str, Any] | None:
        """The schema `check_response` holds a declared `status` answer of operation `key` to
        (None: no body): a raw config's echo with its references inlined and its raw texts allowed."""
        operation = self.operations[key]
        schema = operation.responses[status]
        if schema is not None and operation.raw_echo and status == 200:
            return _raw_texts_allowed(_inline(schema, self.defs))  # type: ignore[no-any-return]
        return schema

    def fragment(self, ref_name: str, value: Any) -> Fragment:
        """Validate `value` against `$defs/<ref_name>` once and keep its encoding."""
        ref = f"#/$defs/{ref_name}"
        _raise_first(self._validator_for(ref, {"$ref": ref}), value, ref)
        return Fragment(encode_text(value), ref)

    def _validator_for(self, name: str, schema: dict[str, Any], raw_echo: bool = False) -> Any:
        """One validator per schema, its references inlined, made on first use."""
        validator = self._validators.get(name)
        if validator is None:
            inlined = _inline(schema, self.defs)
            validator = self._validators[name] = _Validator(_raw_texts_allowed(inlined) if raw_echo else inlined)
        return validator


_MAX_SKELETONS = 4096

#: The texts hocon converts to a boolean or an integer (`hocon_postprocess`, typerefl), which a
#: raw config keeps as sent.
_RAW_TEXT = {"boolean": {"enum": ["true", "false"]}, "integer": {"type": "string", "pattern": "^[+-]?[0-9]+$"}}


def _raw_texts_allowed(schema: Any) -> Any:
    """`schema` where every boolean or integer may also be its raw text, and every array the
    object hocon reads as one (keys "1", "2", ...: `hocon_tconf`'s array check), as a raw
    config keeps them."""
    if isinstance(schema, list):
        return [_raw_texts_allowed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _raw_texts_allowed(value) for key, value in schema.items()}
    kind = schema.get("type")
    raw: Any = _RAW_TEXT.get(kind) if isinstance(kind, str) else None
    if kind == "array":
        raw = {"type": "object", "propertyNames": {"pattern": "^[0-9]+$"}, "additionalProperties": converted.get("items", {})}
    return {"anyOf": [converted, raw]} if raw is not None else converted


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


#: Errors minirest lets any operation answer, declared or not: any code on these statuses...
ANY_CODE_STATUSES = (401, 403, 415)
#: ...and these codes on these statuses.
GENERIC_ERRORS = ((400, "BAD_REQUEST"), (500, "INTERNAL_ERROR"))


def _always_allowed(status: int, body: Any) -> bool:
    if not isinstance(body, dict) or "code" not in body:
        return False
    return status in ANY_CODE_STATUSES or (status, body["code"]) in GENERIC_ERRORS


def _raise_first(validator: Any, body: Any, what: str) -> None:
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise ResponseSchemaError(f"{what}: at {where}: {error.message}")
