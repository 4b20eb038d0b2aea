"""Erlang terms as EMQX's error messages print them (`io_lib:format("~p")`).

Python stands for Erlang as: `Atom` an atom, `str` a string (a list of characters), `bytes`
a binary, `tuple` a tuple, `list` a list, `dict` a map with atom keys, `bool` and `int` as
themselves."""

from __future__ import annotations

import re
from typing import Any

_BARE_ATOM = re.compile(r"^[a-z][A-Za-z0-9_@]*$")
# `erl_scan:reserved_word/1` on EMQX 5.8.9's OTP 26: `maybe` and `else` are reserved only
# where the `maybe_expr` feature is on, which it is not (EMQX prints `maybe` bare).
_RESERVED = frozenset(
    "after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let "
    "not of or orelse receive rem try when xor".split()
)
_ESCAPES = {0x22: b'\\"', 0x5C: b"\\\\", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t",
            0x0B: b"\\v", 0x08: b"\\b", 0x0C: b"\\f", 0x1B: b"\\e"}  # fmt: skip


class Atom(str):
    """An Erlang atom (a plain `str` is an Erlang string)."""


def atom(name: str) -> str:
    """`emqx@n1` bare when it may be, else in single quotes: `'emqx@10.0.0.2'`."""
    if _BARE_ATOM.match(name) and name not in _RESERVED:
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def binary(data: bytes) -> str:
    """`<<"text">>` when every byte is printable Latin-1 (so UTF-8 text whose continuation
    bytes are all >= 0xA0 shows as itself), `<<1,2,3>>` otherwise; the empty one `<<>>`."""
    if not data:
        return "<<>>"
    if all(32 <= byte <= 126 or byte >= 160 or byte in _ESCAPES for byte in data):
        text = b"".join(_ESCAPES.get(byte, bytes((byte,))) for byte in data)
        return '<<"' + text.decode(errors="replace") + '">>'
    return "<<" + ",".join(str(byte) for byte in data) + ">>"


def _printable(text: str) -> bool:
    """`io_lib:printable_list/1` in the default Latin-1 range: ~p prints such a list as text."""
    return all(32 <= ord(c) <= 126 or 160 <= ord(c) <= 255 or ord(c) in _ESCAPES for c in text)


def pretty(term: Any) -> str:
    """`io_lib:format("~p", [Term])` on one line (see the module's doc for the Python types)."""
    if isinstance(term, Atom):
        return atom(term)
    if isinstance(term, bool):
        return "true" if term else "false"
    if isinstance(term, str):
        if not term or not _printable(term):
            return "[" + ",".join(str(ord(c)) for c in term) + "]"
        return '"' + "".join(_ESCAPES.get(ord(c), c.encode("latin-1")).decode("latin-1") for c in term) + '"'
    if isinstance(term, bytes):
        return binary(term)
    if isinstance(term, tuple):
        return "{" + ",".join(pretty(item) for item in term) + "}"
    if isinstance(term, list):
        return "[" + ",".join(pretty(item) for item in term) + "]"
    if isinstance(term, dict):  # atom keys, in term order
        return "#{" + ",".join(f"{atom(key)} => {pretty(term[key])}" for key in sorted(term)) + "}"
    if isinstance(term, int):
        return str(term)
    raise TypeError(f"no Erlang term for {term!r}")
