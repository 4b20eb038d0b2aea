"""JSON as minirest decodes request bodies with jsx (3.1, its default options): invalid UTF-8
replaced, a BOM, comments, trailing commas and raw control characters (a NUL too) inside strings
tolerated; NaN, Infinity and numbers out of float range refused."""

from __future__ import annotations

import json
import re
from typing import Any


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} does not fit a float")
    return number


def decode(data: bytes) -> Any:
    """The JSON value of `data` as jsx reads it; ValueError when jsx refuses it."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    # `strict_control_codes` is off by default: a control character needs no escape in a string
    options: dict[str, Any] = {"parse_constant": _no_constants, "parse_float": _finite_float, "strict": False}
    try:
        value = json.loads(text, **options)
    except ValueError:
        value = json.loads(_without_comments_and_trailing_commas(text), **options)
    return _without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _without_lone_surrogates(value: Any) -> Any:
    """jsx turns a `\\ud800` escape without its pair into U+FFFD (a pair is one character)."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _without_comments_and_trailing_commas(text: str) -> str:
    kept: list[str] = []
    index, in_string = 0, False
    while index < len(text):
        char = text[index]
        if in_string:
            kept.append(char)
            if char == "\\":
                kept.append(text[index + 1 : index + 2])
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            kept.append(char)
        elif text.startswith("//", index):
            index = text.find("\n", index)
            index = len(text) if index < 0 else index
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            index = end + 2
            continue
        elif char == "," and text[index + 1 :].lstrip()[:1] in ("]", "}"):
            pass  # a trailing comma
        else:
            kept.append(char)
        index += 1
    return "".join(kept)
