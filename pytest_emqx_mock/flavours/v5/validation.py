"""Request checks in EMQX's way (`emqx_dashboard_swagger:filter_check_request`, backed by
hocon and typerefl): path and declared query parameters one at a time in declared order (the
first failure is reported), then the body (all failures of the first bad level, as an array
when more than one), each a 400 `BAD_REQUEST` whose message is hocon's error as JSON text.

The rules are read from the same schema files that describe the responses. JSON Schema says
what is valid; how a value is converted, and what the error says when it is not, follows the
hocon type the schema stands for:

* integer with minimum and maximum: `range(Min, Max)`, whose text is parsed as an Erlang term;
  with only `minimum: 1`: `pos_integer()`; unbounded: `integer()`;
* `"x-hocon": "qos"`, `"epoch_millisecond"`, `"epoch_second"`: those EMQX types;
  `"emqx_schema:duration_ms()"` and the other hocon texts of `HOCON_TEXT_TYPES`: parsed by
  `erlang.hocon`, the value then held to the schema's `minimum` (its `x-reasons` word);
  `"singleton"` on a `const`: an atom literal in a union;
* `"x-hocon-type"` on an integer: the type name hocon reports when JSON Schema's bounds cannot
  say it (typerefl's `range(1, inf)` is `"1..inf"`, not `pos_integer()`);
* `"x-reasons"` on a string: the words of the field's own validator (`length`, `pattern`,
  `enum`: a string validated against a list, not an enum of atoms);
* string with `enum`: an enum of atoms; other strings: `binary()`;
* object with `properties`: a struct; with `additionalProperties` only: `map()`;
* `oneOf`: a union (first member that matches); `"x-csv": true` splits a query value on commas;
* `"x-deprecated": true` on a struct field: hocon's `deprecated`, a field that is accepted (not
  unknown) and dropped unchecked, whatever its value (`clientid` in `/publish`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.datastructures import MultiDict

from ...erlang.hocon import boolean, bytesize, duration_ms, timeout_duration_ms
from ...http.replies import ApiError, encode_text
from ...http.schemas import OperationSchema, SchemaCatalog
from ...state.clock import parse_rfc3339

_ERLANG_INT = re.compile(r"^[+-]?[0-9]+(_[0-9]+)*$")
_ERLANG_BASED_INT = re.compile(r"^([0-9]{1,2})#([0-9a-zA-Z]+)$")
_ERLANG_FLOAT = re.compile(r"^[+-]?[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?$")
_ERLANG_ATOM = re.compile(r"^[a-z][A-Za-z0-9_@]*$")
_MAX_EPOCH_MS = 253402214400000
_PARSE_FAILED = object()


def hocon_text(value: Any) -> str:
    """JSON text as EMQX's jiffy writes hocon errors: compact, object keys in descending order."""

    def ordered(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: ordered(node[key]) for key in sorted(node, reverse=True)}
        if isinstance(node, list):
            return [ordered(item) for item in node]
        return node

    return encode_text(ordered(value))


def invalid(detail: dict[str, Any] | list[dict[str, Any]]) -> ApiError:
    """A 400 whose message is a hocon error report (or a list of them), built by the handler (hocon checks that
    the declared schema cannot express: a union member chosen by a field, a type selector)."""
    return ApiError(400, "BAD_REQUEST", hocon_text(detail))


def check_definition(catalog: SchemaCatalog, definition: str, value: Any) -> tuple[Any, list[dict[str, Any]]]:
    """`value` checked against one of our `$defs` as hocon checks a request body: the value
    converted, and the error reports (none when it passes)."""
    operation = OperationSchema(definition, (), {"$ref": f"#/$defs/{definition}"}, {})
    try:
        return RequestChecker(catalog).body(operation, value), []
    except ApiError as error:
        found = json.loads(error.message)
        return None, found if isinstance(found, list) else [found]


class _Invalid(Exception):
    """One hocon validation error: `{kind: validation_error, path, ...}`."""

    def __init__(self, path: str, **fields: Any) -> None:
        super().__init__(path)
        self.fields = {"kind": "validation_error", "path": path, **fields}


def _bad_request(errors: list[_Invalid]) -> ApiError:
    detail = errors[0].fields if len(errors) == 1 else [error.fields for error in errors]
    return ApiError(400, "BAD_REQUEST", hocon_text(detail))


def _erlang_term(text: str) -> Any:
    """What `erl_parse:parse_term` makes of a query value (the subset that matters here)."""
    text = text.strip()
    if text == "":
        return []
    if _ERLANG_INT.match(text):
        return int(text.replace("_", ""))
    based = _ERLANG_BASED_INT.match(text)
    if based and 2 <= int(based.group(1)) <= 36:
        try:
            return int(based.group(2), int(based.group(1)))
        except ValueError:
            return _PARSE_FAILED
    if _ERLANG_FLOAT.match(text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    if _ERLANG_ATOM.match(text):
        return text
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[0] not in text[1:-1]:
        return text[1:-1]
    return _PARSE_FAILED


class RequestChecker:
    """Checks and converts one request's input against its operation's schema."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self.defs = catalog.defs

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**self.defs[schema["$ref"].rsplit("/", 1)[1]], **extra}
        return schema

    # -- parameters ----------------------------------------------------------------------

    def parameters(
        self, operation: OperationSchema, path_args: dict[str, str], query: MultiDict
    ) -> tuple[dict[str, str], dict[str, Any]]:
        path: dict[str, str] = {}
        for parameter in operation.parameters:
            if parameter.location == "path":
                try:
                    path[parameter.name] = self._convert(parameter.name, parameter.schema, path_args[parameter.name])
                except _Invalid as error:
                    raise _bad_request([error]) from None
        converted: dict[str, Any] = {}
        for parameter in operation.parameters:
            if parameter.location != "query":
                continue
            schema = self._resolve(parameter.schema)
            # minirest collects repeats newest first: a scalar takes the head, that is the last
            # occurrence in the URL; an array parameter gets them all, newest first.
            values = query.getlist(parameter.name)[::-1]
            if not values:
                if "default" not in schema:
                    continue
                raw: Any = schema["default"]
            elif schema.get("type") == "array":
                raw = values
            elif schema.get("x-csv") and len(values) > 1:
                # the comma-splitting converter has no clause for a list of values
                crash = _Invalid(parameter.name, reason="converter_crashed", exception="{error,function_clause}")
                raise _bad_request([crash])
            else:
                raw = values[0]
            try:
                converted[parameter.name] = self._convert(parameter.name, schema, raw, from_query=True)
            except _Invalid as error:
                raise _bad_request([error]) from None
        return path, converted

    # -- body ----------------------------------------------------------------------------

    def body(self, operation: OperationSchema, body: Any) -> Any:
        if operation.request_body is None:
            return body
        if isinstance(body, (str, bytes)):  # not JSON, or a bare JSON string
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "content-type:application/json Required")
        try:
            return self._convert("root", self._resolve(operation.request_body), {} if body is None else body)
        except _Invalid as error:
            raise _bad_request([error]) from None
        except _Errors as errors:
            raise _bad_request(errors.errors) from None

    # -- conversion, one hocon type at a time --------------------------------------------

    def _convert(self, path: str, schema: dict[str, Any], value: Any, from_query: bool = False) -> Any:
        schema = self._resolve(schema)
        if "oneOf" in schema:
            return self._union(path, schema, value, from_query)
        hocon = schema.get("x-hocon")
        if "const" in schema:
            if value != schema["const"]:
                # an atom singleton says it in words; an enum-like literal names what it expected
                reason = f"Expected: {schema['const']}, got:{value}" if hocon == "singleton" else {"expected": schema["const"]}
                raise _Invalid(path, value=value, reason=reason)
            return value
        kind = schema.get("type")
        if hocon in ("epoch_millisecond", "epoch_second"):
            return _epoch(path, value, 1000 if hocon == "epoch_millisecond" else 1)
        if hocon in HOCON_TEXT_TYPES:
            return _hocon_text_type(path, schema, hocon, value)
        if hocon == "qos":
            return _qos(path, value)
        if kind == "object":
            return self._object(path, schema, value) if "properties" in schema else _map(path, value)
        if kind == "array":
            return self._array(path, schema, value)
        if kind == "integer":
            return _integer(path, schema, value, from_query)
        if kind == "boolean":
            flag = boolean(value)
            if flag is None:
                raise _Invalid(path, value=value, reason="Unable to parse boolean value")
            return flag
        if "enum" in schema and "enum" not in schema.get("x-reasons", {}):
            return _enum(path, schema["enum"], value)
        return _binary(path, schema, value)

    def _union(self, path: str, schema: dict[str, Any], value: Any, from_query: bool) -> Any:
        if schema.get("x-csv") and isinstance(value, str) and value not in _consts(schema):
            value = [part for part in value.split(",") if part]
        mismatches: dict[str, Any] = {}
        for member in schema["oneOf"]:
            member = self._resolve(member)
            try:
                return self._convert(path, member, value, from_query)
            except _Invalid as error:
                mismatches[_readable_type(member)] = error.fields
            except _Errors as errors:
                mismatches[_readable_type(member)] = errors.errors[0].fields
        raise _Invalid(path, reason="matched_no_union_member", mismatches=mismatches)

    def _object(self, path: str, schema: dict[str, Any], value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Invalid(path, value=value, reason="bad_value_for_struct")
        properties: dict[str, Any] = schema["properties"]
        present = {key: item for key, item in value.items() if item is not None}  # null is absent
        unknown = sorted(key for key in present if key not in properties)
        if unknown and schema.get("additionalProperties") is False:
            unmatched = sorted(name for name in properties if name not in present)
            raise _Invalid(path, reason="unknown_fields", unknown=_listing(unknown), unmatched=_listing(unmatched))
        result: dict[str, Any] = {}
        errors: list[_Invalid] = []
        for name, sub in properties.items():
            if self._resolve(sub).get("x-deprecated"):
                continue  # accepted and dropped, never checked
            sub_path = f"{path}.{name}"
            if name not in present:
                if name in schema.get("required", ()):
                    errors.append(_Invalid(sub_path, reason="required_field"))
                elif "default" in self._resolve(sub):
                    result[name] = self._resolve(sub)["default"]
                continue
            try:
                result[name] = self._convert(sub_path, sub, present[name])
            except _Invalid as error:
                errors.append(error)
            except _Errors as nested:
                errors.extend(nested.errors)
        if errors:
            raise _Errors(errors)
        return result

    def _array(self, path: str, schema: dict[str, Any], value: Any) -> list[Any]:
        if isinstance(value, dict):  # hocon reads an object as an array indexed "1", "2", ...
            keys = list(value)
            if any(not str(key).isdigit() for key in keys):
                raise _Invalid(path, bad_array_index_keys=[k for k in keys if not str(k).isdigit()])
            indexes = sorted(int(key) for key in keys)
            for expected, got in enumerate(indexes, start=1):
                if got != expected:
                    raise _Invalid(path, expected_index=expected, got_index=got)
            value = [value[str(index)] for index in indexes]
        if not isinstance(value, list):
            raise _Invalid(path, expected_data_type="array", got="string" if isinstance(value, str) else value)
        result = []
        for index, item in enumerate(value, start=1):
            result.append(self._convert(f"{path}.{index}", schema["items"], item))  # stops at the first bad one
        return result


class _Errors(Exception):
    """Several hocon errors from one struct, in schema field order."""

    def __init__(self, errors: list[_Invalid]) -> None:
        super().__init__(len(errors))
        self.errors = errors


def _listing(names: list[str]) -> str:
    """hocon's short list: none, a, "a,b", or "a,b,..." for three or more."""
    if not names:
        return "none"
    return ",".join(names[:2]) + (",..." if len(names) > 2 else "")


def _consts(schema: dict[str, Any]) -> list[Any]:
    return [member["const"] for member in schema["oneOf"] if "const" in member]


_READABLE_TYPES = {"epoch_second": "emqx_utils_calendar:epoch_second()", "epoch_millisecond": "emqx_utils_calendar:epoch_millisecond()"}


def _readable_type(schema: dict[str, Any]) -> str:
    """The name hocon gives a union member in `mismatches`."""
    if "const" in schema:
        return str(schema["const"])
    hocon = schema.get("x-hocon")
    return _READABLE_TYPES.get(hocon, hocon) if hocon else str(schema.get("type", "union"))


def _range_name(schema: dict[str, Any]) -> str:
    if "x-hocon-type" in schema:
        return str(schema["x-hocon-type"])
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{low}..{high}"
    if low == 1 and high is None:
        return "pos_integer()"
    if low == 0 and high is None:
        return "non_neg_integer()"
    return "integer()"


def _integer(path: str, schema: dict[str, Any], value: Any, from_query: bool) -> int:
    name = _range_name(schema)
    if name == "integer()":
        if isinstance(value, str):
            if not _ERLANG_INT.match(value.strip()):
                raise _Invalid(path, value=value, reason="Unable to parse integer value")
            value = int(value.strip().replace("_", ""))
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(path, value=value, reason={"expected": name})
        return value
    if isinstance(value, str):  # ranges and pos_integer() parse their text as an Erlang term
        parsed = _erlang_term(value)
        if parsed is _PARSE_FAILED:
            raise _Invalid(path, value=value, reason="Unable to parse Erlang term")
        value = parsed
    low, high = schema.get("minimum"), schema.get("maximum")
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise _Invalid(path, value=value, reason={"expected": name})
    return value


def _qos(path: str, value: Any) -> int:
    if isinstance(value, float):
        raise _Invalid(path, value=value, reason={"expected": "qos()"})
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text in ("0", "1", "2"):
        return int(text)  # type: ignore[arg-type]
    raise _Invalid(path, value=value, reason="Unable to parse string")


def _enum(path: str, options: list[Any], value: Any) -> Any:
    """`hocon_tconf:check_enum_symbol/2`: an atom (a text taken as one, a boolean) or an integer
    outside the symbols is `not_a_enum_symbol`; any other value (an object, an array, a
    float) cannot be converted. (Compared by equality: the value may be unhashable.)"""
    if value in options:
        return value
    if isinstance(value, str) and _ERLANG_INT.match(value.strip()):
        raise _Invalid(path, value=int(value.strip().replace("_", "")), reason="not_a_enum_symbol")
    if isinstance(value, int):  # a boolean is an atom too
        raise _Invalid(path, value=value, reason="not_a_enum_symbol")
    raise _Invalid(path, value=value, reason="unable_to_convert_to_enum_symbol")


def _binary(path: str, schema: dict[str, Any], value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif value == []:
        value = ""
    if not isinstance(value, str):
        raise _Invalid(path, value=value, reason={"expected": "binary()"})
    reasons = schema.get("x-reasons", {})  # the words of the field's own validator
    size = len(value.encode())
    if size < schema.get("minLength", 0) or size > schema.get("maxLength", size):
        raise _Invalid(path, value=value, reason=reasons.get("length", "length out of range"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise _Invalid(path, value=value, reason=reasons.get("pattern", "pattern mismatch"))
    if "enum" in schema and value not in schema["enum"]:  # a string checked by its own validator
        raise _Invalid(path, value=value, reason=reasons["enum"])
    return value


def _map(path: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(path, value=value, reason={"expected": "map()"})
    return value


def _epoch(path: str, value: Any, per_second: int) -> int:
    """`emqx_utils_calendar:epoch_millisecond()` / `epoch_second()`: an epoch integer (as a
    number or text) or an RFC 3339 date-time, in the type's unit."""
    text = str(value).strip()
    if _ERLANG_INT.match(text) and not isinstance(value, bool):
        epoch = int(text.replace("_", ""))
        if 0 <= epoch <= _MAX_EPOCH_MS // 1000 * per_second:
            return epoch
        raise _Invalid(path, value=value, reason="bad_epoch")
    seconds = parse_rfc3339(text) if isinstance(value, str) else None
    if seconds is None:
        raise _Invalid(path, value=value, reason="bad_rfc3339_timestamp")
    return int(seconds * per_second)


#: hocon types written as text (or an integer), each with its parser (answering the value,
#: None, or the refusal's reason as text) and the reason hocon gives for an unparsable text.
HOCON_TEXT_TYPES = {
    "emqx_schema:duration()": (duration_ms, "Not a valid duration"),
    "emqx_schema:duration_ms()": (duration_ms, "Not a valid duration"),
    "emqx_schema:timeout_duration_ms()": (timeout_duration_ms, "Not a valid duration"),
    "emqx_schema:bytesize()": (bytesize, "Not a valid bytesize"),
}


def _hocon_text_type(path: str, schema: dict[str, Any], hocon: str, value: Any) -> int:
    """A value of one of HOCON_TEXT_TYPES; only texts are parsed (typerefl's `from_string`),
    other values must already be integers."""
    parse, unparsable = HOCON_TEXT_TYPES[hocon]
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _Invalid(path, value=value, reason={"expected": hocon})
    parsed = parse(value)
    if not isinstance(parsed, int):
        raise _Invalid(path, value=value, reason=unparsable if parsed is None else parsed)
    if parsed < schema.get("minimum", parsed):  # the field's own validator
        raise _Invalid(path, value=parsed, reason=schema["x-reasons"]["minimum"])
    return parsed
