"""Derive every EMQX 5 operation's schemas from the official OpenAPI documents.

    python -m pytest_emqx_mock.schemagen [--reference DIR] [--check]

reads EMQX 5.8.1's CE and Enterprise specs (by default from `../shared/reference/` beside a
checkout) and writes `pytest_emqx_mock/flavours/v5/schemas/generated/`: facts only (types,
enums, formats, required fields, bounds, defaults, nullable), never the spec's description,
summary or example text. The files are committed, so users never need the spec:

* `index.json`: every operation of either spec by tag, with the file holding the tag's
  operations; an operation's entry has `"x-edition"` when only one edition has it (what
  `emqx-mock coverage` reports, and how the catalog finds an operation without reading all);
* `<tag>.json`: the tag's operations in our schema format (http/schemas.py), `$ref`s pointing
  at `defs.json`'s `$defs`, named as the spec's components are (`module.name`);
* `defs.json`: every component the operations use.

Both editions go into one set of files. Where they differ, the member only one edition has is
marked with that edition: an operation, parameter or property (`"x-edition": "ee"`, as our
hand-written schemas do), a union member (`oneOf`/`anyOf`), or an enum value
(`"x-enum-editions": {"<value>": "ee"}`); the catalog drops the other edition's members.
Any other difference between the editions stops the generator: it has no way to say it.

With `--check` nothing is written: the exit code says whether the committed files are current.
Output is deterministic (operations and definitions sorted; properties, parameters, enums and
unions in the spec's order, which is meaningful: hocon reports fields in that order).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

SPECS = {"ce": "emqx-5.8.1-ce-openapi.json", "ee": "emqx-enterprise-5.8.1-openapi.json"}
DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
OUTPUT = Path(__file__).resolve().parent / "flavours" / "v5" / "schemas" / "generated"
INDEX = "index.json"
DEFS = "defs.json"

METHODS = ("get", "post", "put", "delete", "patch")
#: The keywords that state facts; every other keyword (description, example, summary, hocon's
#: is_template...) is left out.
_FACTS = frozenset(
    {"type", "enum", "format", "required", "minimum", "maximum", "minLength", "maxLength", "pattern", "default", "readOnly"}
)
_MEMBER_LISTS = ("oneOf", "anyOf", "allOf")
_NAMED_MEMBERS = ("properties", "parameters", "responses")
_JSON = "application/json"


class GenerationError(ValueError):
    """The specs say something our schema format cannot."""


def tag_file(tag: str) -> str:
    """The generated file holding a tag's operations: `"API Keys"` -> `api_keys.json`."""
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_") + ".json"


# -- one spec, facts only -------------------------------------------------------------------


def _facts(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as our JSON Schema 2020-12: facts only, `$ref`s to our `$defs`."""
    result: dict[str, Any] = {}
    for key in sorted(schema):
        value = schema[key]
        if key == "$ref":
            result[key] = "#/$defs/" + value.rsplit("/", 1)[1]
        elif key == "properties":
            result[key] = {name: _facts(member) for name, member in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            result[key] = _facts(value)
        elif key in _MEMBER_LISTS:
            result[key] = [_facts(member) for member in value]
        elif key == "deprecated" and value:
            result["x-deprecated"] = True  # hocon's deprecated field: accepted, dropped unchecked
        elif key in _FACTS:
            result[key] = value
    if schema.get("nullable") and "type" in result:  # OpenAPI 3.0's way of saying null is allowed
        result["type"] = [result["type"], "null"]
    return result


def _content(content: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A request or response body: its JSON schema (None without one), and the schemas of its
    other media types."""
    others = {kind: _facts(media.get("schema", {})) for kind, media in sorted(content.items()) if kind != _JSON}
    media = content.get(_JSON)
    return (_facts(media["schema"]) if media and "schema" in media else None), others


def _operation(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        entry: dict[str, Any] = {"in": parameter["in"], "schema": _facts(parameter["schema"])}
        if parameter.get("required") and parameter["in"] != "path":  # a path parameter always is
            entry["required"] = True
        parameters[parameter["name"]] = entry
    if parameters:
        result["parameters"] = parameters
    body, other_bodies = _content(operation.get("requestBody", {}).get("content", {}))
    if body is not None:
        result["requestBody"] = body
    if other_bodies:
        result["x-request-media"] = other_bodies  # bodies our JSON pipeline does not check
    responses: dict[str, Any] = {}
    other_responses: dict[str, Any] = {}
    for status in sorted(operation["responses"], key=int):
        responses[status], others = _content(operation["responses"][status].get("content", {}))
        if others:
            other_responses[status] = others
    result["responses"] = responses
    if other_responses:
        result["x-response-media"] = other_responses
    return result


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`"METHOD /path"` -> (tag, operation facts)."""
    found = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                (tag,) = item[method]["tags"]
                found[f"{method.upper()} {path}"] = (tag, _operation(spec, item[method]))
    return found


# -- two editions, one description -----------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _marked(node: Any, edition: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise GenerationError(f"a member only {edition} has cannot be marked: {node!r:.200}")
    return {**node, "x-edition": edition}


def _merge_members(ce: dict[str, Any], ee: dict[str, Any], where: str) -> dict[str, Any]:
    """Named members (properties, parameters, responses): both editions' merged, in EE's order
    and then CE's own; a member only one edition has, marked with it."""
    merged: dict[str, Any] = {}
    for name, member in ee.items():
        merged[name] = _merge(ce[name], member, f"{where}.{name}") if name in ce else _marked(member, "ee")
    for name, member in ce.items():
        if name not in ee:
            merged[name] = _marked(member, "ce")
    return merged


def _merge_list(ce: list[Any], ee: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """Union members or enum values: EE's, then CE's own; and the edition of each that only one
    edition has."""
    ce_keys, ee_keys = {_canonical(item) for item in ce}, {_canonical(item) for item in ee}
    merged = list(ee) + [item for item in ce if _canonical(item) not in ee_keys]
    only = {_canonical(item): "ee" for item in ee if _canonical(item) not in ce_keys}
    only.update({_canonical(item): "ce" for item in ce if _canonical(item) not in ee_keys})
    return merged, only


def _merge(ce: Any, ee: Any, where: str) -> Any:
    """One schema (or operation) describing both editions; see the module's docstring."""
    if ce == ee:
        return ee
    if not (isinstance(ce, dict) and isinstance(ee, dict)):
        raise GenerationError(f"{where}: CE {ce!r:.200} and EE {ee!r:.200} differ")
    merged: dict[str, Any] = {}
    for key in sorted(set(ce) | set(ee)):
        if key in _NAMED_MEMBERS:
            merged[key] = _merge_members(ce.get(key, {}), ee.get(key, {}), f"{where}.{key}")
        elif key not in ce or key not in ee:
            raise GenerationError(f"{where}: only one edition has {key}")
        elif ce[key] == ee[key]:
            merged[key] = ee[key]
        elif key == "required" and set(ce[key]) ^ set(ee[key]) <= set(ce.get("properties", {})) ^ set(ee.get("properties", {})):
            merged[key] = _merge_list(ce[key], ee[key])[0]  # the fields of one edition's own properties
        elif key in _MEMBER_LISTS:
            members, only = _merge_list(ce[key], ee[key])
            merged[key] = [_marked(member, only[_canonical(member)]) if _canonical(member) in only else member for member in members]
        elif key == "enum":
            values, only = _merge_list(ce[key], ee[key])
            if not all(isinstance(value, str) for value in values):
                raise GenerationError(f"{where}: enum values that differ by edition must be strings")
            merged[key] = values
            merged["x-enum-editions"] = {json.loads(value): edition for value, edition in sorted(only.items())}
        else:
            merged[key] = _merge(ce[key], ee[key], f"{where}.{key}")
    return merged


def _references(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            found.add(node["$ref"].rsplit("/", 1)[1])
        for value in node.values():
            _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)
    return found


def _used_definitions(roots: Iterable[Any], definitions: dict[str, Any]) -> list[str]:
    used: set[str] = set()
    pending = _references(list(roots), set())
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending |= _references(definitions[name], set()) - used
    return sorted(used)


def generate(reference: Path) -> dict[str, str]:
    """The generated files' text, by file name."""
    specs = {edition: json.loads((reference / name).read_text(encoding="utf-8")) for edition, name in SPECS.items()}
    ce, ee = (_operations(specs[edition]) for edition in SPECS)
    index: dict[str, dict[str, Any]] = {}
    by_tag: dict[str, dict[str, Any]] = {}
    for key in sorted(set(ce) | set(ee), key=lambda k: (k.split(" ", 1)[1], k)):
        if key in ce and key in ee:
            if ce[key][0] != ee[key][0]:
                raise GenerationError(f"{key}: tagged {ce[key][0]} in CE, {ee[key][0]} in EE")
            tag, operation, entry = ee[key][0], _merge(ce[key][1], ee[key][1], key), {}
        else:
            edition = "ee" if key in ee else "ce"
            tag, operation = (ee if key in ee else ce)[key]
            operation, entry = _marked(operation, edition), {"x-edition": edition}
        by_tag.setdefault(tag, {})[key] = operation
        index.setdefault(tag, {"file": tag_file(tag), "operations": {}})["operations"][key] = entry
    components = {edition: {name: _facts(schema) for name, schema in spec["components"]["schemas"].items()} for edition, spec in specs.items()}
    definitions: dict[str, Any] = {}
    for name in sorted(set(components["ce"]) | set(components["ee"])):
        if name in components["ce"] and name in components["ee"]:
            definitions[name] = _merge(components["ce"][name], components["ee"][name], name)
        else:
            definitions[name] = components["ee"].get(name, components["ce"].get(name))
    used = _used_definitions(by_tag.values(), definitions)
    files = {
        INDEX: {"$comment": _COMMENT, "tags": dict(sorted(index.items()))},
        DEFS: {"$comment": _COMMENT, "$defs": {name: definitions[name] for name in used}},
    }
    for tag, operations in sorted(by_tag.items()):
        files[tag_file(tag)] = {"$comment": f"{_COMMENT} Tag: {tag}.", "operations": operations}
    if len(files) != len(by_tag) + 2:
        raise GenerationError("two tags share a file name")
    return {name: json.dumps(document, indent=1, ensure_ascii=False) + "\n" for name, document in sorted(files.items())}


_COMMENT = "Generated by `python -m pytest_emqx_mock.schemagen` from EMQX 5.8.1's CE and EE OpenAPI specs; do not edit."


def write(files: dict[str, str], output: Path = OUTPUT) -> None:
    """Replace the generated folder's files with `files` (a file no longer generated is removed)."""
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (output / name).write_text(text, encoding="utf-8")


def stale_files(files: dict[str, str], output: Path = OUTPUT) -> list[str]:
    """The committed files that differ from `files` (or are missing, or no longer generated)."""
    committed = {path.name: path.read_text(encoding="utf-8") for path in output.glob("*.json")}
    return sorted(name for name in set(files) | set(committed) if files.get(name) != committed.get(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_emqx_mock.schemagen",
        description="Derive every EMQX 5 operation's schemas from the official OpenAPI documents.",
    )
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="folder of the official specs (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the committed files are not current")
    args = parser.parse_args(argv)
    missing = [name for name in SPECS.values() if not (args.reference / name).exists()]
    if missing:
        print(f"schemagen: {', '.join(missing)} not found in {args.reference}", file=sys.stderr)
        return 2
    files = generate(args.reference)
    if args.check:
        stale = stale_files(files)
        for name in stale:
            print(f"schemagen: {OUTPUT / name} is not current", file=sys.stderr)
        return 1 if stale else 0
    write(files)
    print(f"schemagen: wrote {len(files)} files to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
