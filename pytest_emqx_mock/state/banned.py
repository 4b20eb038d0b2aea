"""The ban list (`emqx_banned`): who may not connect, until when.

EMQX keys a ban by its parsed `who`: a peer host is an address (`127.1` and `127.0.0.1` are the
same ban), a network its first address and length (`10.1.2.3/8` is `10.0.0.0/8`), a pattern its
own text. `Ban` normalizes `who` the same way, with Erlang's parsers reproduced here:
`inet:parse_address/1` and `inet:ntoa/1`, `esockd_cidr` (5.13.0), and PCRE's compile errors.
A ban applies while `until` is in the future; an expired one is treated as purged (EMQX's
expiry timer deletes it within a minute), so it is neither listed nor found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..erlang.terms import Atom, pretty
from .clock import now, rfc3339_s
from .errors import AlreadyExists, Invalid, NotFound

#: What a ban names: `as` in the API.
BAN_KINDS = ("clientid", "username", "peerhost", "clientid_re", "username_re", "peerhost_net")
#: Bans kept in EMQX's rule table (listed first); the others are in the individual table.
RULE_KINDS = ("clientid_re", "username_re", "peerhost_net")
#: The kinds each fuzzy listing filter (`like_<field>`) looks at (`ms_from_qstring/1`).
SEARCHED_KINDS = {
    "clientid": ("clientid", "clientid_re"),
    "username": ("username", "username_re"),
    "peerhost": ("peerhost",),
    "peerhost_net": ("peerhost_net",),
}

Address = tuple[int, ...]  # 4 octets or 8 16-bit groups
Cidr = tuple[Address, Address, int]  # esockd: {StartAddr, EndAddr, PrefixLen}


class BadWho(Invalid):
    """A `who` EMQX cannot parse for its kind; `str()` is EMQX's error text (`~p` of the reason)."""


# -- inet:parse_address/1 and inet:ntoa/1 ------------------------------------------------------

_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
_HEX_GROUP = re.compile(r"^[0-9a-fA-F]{1,4}$")


def _ipv4_number(part: str) -> int | None:
    if not _IPV4_PART.match(part):
        return None
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if part.startswith("0") and len(part) > 1:
        return int(part, 8)
    return int(part)


def _parse_ipv4(text: str) -> Address | None:
    """BSD `inet_aton` forms, as Erlang accepts them: `a.b.c.d`, `a.b.c` (c 16 bits), `a.b`
    (b 24 bits), `a` (32 bits); each part decimal, `0x` hex or `0` octal."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    values: list[int] = [number for number in numbers if number is not None]
    *head, last = values
    if any(value > 255 for value in head) or last >= 1 << (8 * (5 - len(values))):
        return None
    octets = head + [(last >> shift) & 255 for shift in range(8 * (4 - len(values)), -1, -8)]
    return tuple(octets)


def _parse_strict_ipv4(text: str) -> Address | None:
    parts = text.split(".")
    if len(parts) != 4 or not all(part.isdigit() and part.isascii() and int(part) <= 255 for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _groups(text: str, allow_ipv4: bool) -> list[int] | None:
    if text == "":
        return []
    parts = text.split(":")
    groups: list[int] = []
    for index, part in enumerate(parts):
        if allow_ipv4 and index == len(parts) - 1 and "." in part:
            ipv4 = _parse_strict_ipv4(part)
            if ipv4 is None:
                return None
            groups += [ipv4[0] << 8 | ipv4[1], ipv4[2] << 8 | ipv4[3]]
        elif _HEX_GROUP.match(part):
            groups.append(int(part, 16))
        else:
            return None
    return groups


_SCOPED = (0xFE80, 0xFF02)  # link-local prefixes Erlang keeps a scope id in (the second group)


def _parse_ipv6(text: str) -> Address | None:
    text, scoped, _scope = text.partition("%")  # `fe80::1%eth0`: the scope is dropped
    address = _parse_ipv6_groups(text)
    if scoped and (address is None or "." in text or address[0] not in _SCOPED or address[1] != 0):
        return None
    return address


def _parse_ipv6_groups(text: str) -> Address | None:
    if text.count("::") > 1:
        return None
    if "::" in text:
        left, right = text.split("::")
        head, tail = _groups(left, allow_ipv4=False), _groups(right, allow_ipv4=True)
        if head is None or tail is None or len(head) + len(tail) > 7:
            return None
        groups = head + [0] * (8 - len(head) - len(tail)) + tail
    else:
        parsed = _groups(text, allow_ipv4=True)
        if parsed is None or len(parsed) != 8:
            return None
        groups = parsed
    return tuple(groups)


def parse_address(text: str) -> Address | None:
    """`inet:parse_address/1`: an IPv4 or IPv6 address, or None where Erlang says `einval`."""
    if not text.isascii():
        return None
    return _parse_ipv4(text) if ":" not in text else _parse_ipv6(text)


def _ntoa(address: Address) -> str:
    if len(address) == 4:
        return ".".join(str(octet) for octet in address)
    if address == (0,) * 8:
        return "::"
    if address == (0,) * 7 + (1,):
        return "::1"
    dotted = f"{address[6] >> 8}.{address[6] & 255}.{address[7] >> 8}.{address[7] & 255}"
    if address[:6] == (0,) * 6:
        return "::" + dotted
    if address[:6] == (0,) * 5 + (0xFFFF,):
        return "::ffff:" + dotted
    best_start, best_length, index = -1, 1, 0
    while index < 8:  # the first longest run of two or more zero groups is written `::`
        if address[index] == 0:
            end = index
            while end < 8 and address[end] == 0:
                end += 1
            if end - index > best_length:
                best_start, best_length = index, end - index
            index = end
        else:
            index += 1
    hexes = [format(group, "x") for group in address]
    if best_start < 0:
        return ":".join(hexes)
    return ":".join(hexes[:best_start]) + "::" + ":".join(hexes[best_start + best_length :])


def ntoa(address: Address) -> str:
    """`inet:ntoa/1` (a link-local address shows its second group as a scope: `fe80::1%01`)."""
    if len(address) == 8 and address[0] in _SCOPED and address[1] != 0:
        return _ntoa(address[:1] + (0,) + address[2:]) + f"%0{address[1]}"
    return _ntoa(address)


# -- esockd_cidr (5.13.0) -----------------------------------------------------------------------


def _bmask(length: int, bits: int) -> int:
    return (0xFF if bits == 8 else 0xFFFF) >> (length % bits)


def _end_mask(width: int, length: int) -> Address:
    """esockd's `end_mask/2`, its IPv6 table included (a /48 falls in the `>= 32` row)."""
    if width == 4:
        if length == 32:
            return (0, 0, 0, 0)
        zeros = 3 if length >= 24 else 2 if length >= 16 else 1 if length >= 8 else 0
        return (0,) * zeros + (_bmask(length, 8),) + (0xFF,) * (3 - zeros)
    if length == 128:
        return (0,) * 8
    zeros = next(z for bound, z in ((112, 7), (96, 6), (80, 5), (64, 4), (49, 3), (32, 2), (16, 1), (0, 0)) if length >= bound)
    return (0,) * zeros + (_bmask(length, 16),) + (0xFFFF,) * (7 - zeros)


def parse_cidr(text: str) -> Cidr:
    """`esockd_cidr:parse(Text, true)` (a host address in the network is adjusted to the
    network's start). Raises BadWho with the Erlang error EMQX prints."""
    tokens = [token for token in text.split("/") if token]
    if len(tokens) not in (1, 2):
        raise BadWho(pretty((Atom("case_clause"), tokens)))
    address = parse_address(tokens[0])
    if address is None:
        raise BadWho("{badmatch,{error,einval}}")
    width = len(address)
    if len(tokens) == 1:
        return (address, address, 32 if width == 4 else 128)
    if not re.match(r"^[+-]?[0-9]+$", tokens[1]) or not tokens[1].isascii():
        raise BadWho("badarg")
    length = int(tokens[1])
    if not 0 <= length <= (32 if width == 4 else 128):
        raise BadWho("function_clause")
    end_mask = _end_mask(width, length)
    start = tuple(part & ~mask for part, mask in zip(address, end_mask, strict=True))
    end = tuple(part | mask for part, mask in zip(start, end_mask, strict=True))
    return (start, end, length)


def cidr_to_string(cidr: Cidr) -> str:
    return f"{ntoa(cidr[0])}/{cidr[2]}"


def cidr_match(address: Address, cidr: Cidr) -> bool:
    """`esockd_cidr:match/2`: every part within its start..end bounds."""
    start, end, _ = cidr
    if len(address) != len(start):
        return False
    return all(low <= part <= high for part, low, high in zip(address, start, end, strict=True))


# -- PCRE (Erlang `re`) ---------------------------------------------------------------------------


class PcreError(Invalid):
    """`re:compile/1` refused a pattern: `{error, {Message, Position}}`."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


_POSIX_CLASSES = {
    "alnum": r"0-9A-Za-z", "alpha": r"A-Za-z", "ascii": r"\x00-\x7f", "blank": r" \t",
    "cntrl": r"\x00-\x1f\x7f", "digit": r"0-9", "graph": r"!-~", "lower": r"a-z",
    "print": r" -~", "punct": r"!-/:-@\[-`{-~", "space": r"\t\n\x0b\f\r ", "upper": r"A-Z",
    "word": r"0-9A-Za-z_", "xdigit": r"0-9A-Fa-f",
}


def _python_syntax(pattern: str) -> str:
    """The few PCRE spellings Python's `re` writes differently."""
    pattern = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)  # named groups
    pattern = re.sub(r"\\k<(\w+)>", r"(?P=\1)", pattern)
    pattern = re.sub(r"\[:(\w+):\]", lambda m: _POSIX_CLASSES.get(m.group(1), m.group(0)), pattern)
    return pattern.replace(r"\z", r"\Z")


def _pcre_error(pattern: str, error: re.error) -> PcreError:
    """Python's compile error in PCRE's words and at PCRE's offset (the common cases)."""
    message, position = error.msg, error.pos or 0
    end = len(pattern)
    if message in ("nothing to repeat", "multiple repeat"):
        if pattern[position : position + 1] == "{":
            position = pattern.find("}", position)
        return PcreError("nothing to repeat", position)
    if message.startswith("missing ), unterminated comment"):
        return PcreError("missing ) after comment", end)
    if message.startswith("missing )"):
        return PcreError("missing )", end)
    if message == "unbalanced parenthesis":
        return PcreError("unmatched parentheses", position)
    if message == "unterminated character set":
        return PcreError("missing terminating ] for character class", end)
    if message == "min repeat greater than max repeat":
        return PcreError("numbers out of order in {} quantifier", pattern.find("}", position))
    if message == "bad escape (end of pattern)":
        return PcreError("\\ at end of pattern", end)
    if message == "unexpected end of pattern" and pattern.endswith("(?"):
        return PcreError("unrecognized character after (? or (?-", end)
    if message.startswith("bad character range"):
        return PcreError("range out of order in character class", position + 2)
    if message.startswith("invalid group reference"):
        return PcreError("reference to non-existent subpattern", position + len(message.rsplit(" ", 1)[1]))
    if message.startswith("look-behind requires fixed-width"):
        found = re.search(r"\(\?<[=!]", pattern)  # PCRE reports the end of the assertion
        return PcreError("lookbehind assertion is not fixed length", pattern.find(")", found.start()) if found else 0)
    return PcreError(message, position)


def compile_pcre(pattern: str) -> re.Pattern[str]:
    """Compile an EMQX (PCRE) pattern for Python, or raise PcreError as `re:compile` would."""
    try:
        return re.compile(_python_syntax(pattern))
    except re.error as error:
        raise _pcre_error(pattern, error) from None


def expired_ban_text(at: int, until: int) -> str:
    """What EMQX answers for a ban whose `until` has passed: `~p` of the deep character list
    `io_lib:format("Cannot create expired banned, ~p to ~p", [At, Until])`, as io_lib_pretty
    lays it out (80 columns, continuation lines indented by one)."""
    elements = [str(ord(c)) for c in "Cannot create expired banned, "]
    elements += [f'"{at}"'] + [str(ord(c)) for c in " to "] + [f'"{until}"']
    lines: list[str] = []
    line = "["
    for index, element in enumerate(elements):
        piece = element + ("]" if index == len(elements) - 1 else ",")
        if len(line) + len(piece) > 78 and line != "[":
            lines.append(line)
            line = " " + piece
        else:
            line += piece
    lines.append(line)
    return "\n".join(lines)


def _jiffy(value: dict[str, Any]) -> str:
    """JSON text as `emqx_utils_json:encode/1` (jiffy) writes a small map: keys descending."""
    return json.dumps({key: value[key] for key in sorted(value, reverse=True)}, ensure_ascii=False, separators=(",", ":"))


# -- bans -------------------------------------------------------------------------------------------


def normalize_who(kind: str, who: str) -> str:
    """`who` as EMQX keys and shows it (`emqx_banned:parse_who/1` then `format_who/1`);
    raises BadWho with EMQX's error text where it cannot be parsed."""
    if kind == "peerhost":
        address = parse_address(who)
        if address is None:
            raise BadWho('"bad peerhost"')
        return ntoa(address)
    if kind == "peerhost_net":
        return cidr_to_string(parse_cidr(who))
    if kind in ("clientid_re", "username_re"):
        try:
            compile_pcre(who)
        except PcreError as error:
            raise BadWho(pretty((error.message, error.position))) from None
        return who
    if kind in ("clientid", "username"):
        return who
    raise Invalid(f"unknown ban kind {kind!r}; one of {BAN_KINDS}")


@dataclass(eq=False)
class Ban:
    kind: str  # one of BAN_KINDS (EMQX's `as`)
    who: str  # normalized on creation, e.g. peerhost `127.1` is kept as `127.0.0.1`
    by: str = "mgmt_api"
    reason: str = ""
    at: float = field(default_factory=now)
    until: float | None = None  # epoch seconds; None is "infinity"

    def __post_init__(self) -> None:
        self.who = normalize_who(self.kind, self.who)

    def view(self) -> dict[str, Any]:
        """`emqx_banned:format/1`."""
        return {
            "as": self.kind,
            "who": self.who,
            "by": self.by,
            "reason": self.reason,
            "at": rfc3339_s(self.at),
            "until": "infinity" if self.until is None else rfc3339_s(self.until),
        }

    @property
    def table(self) -> str:
        return "rules" if self.kind in RULE_KINDS else "individual"

    def expired(self, at: float | None = None) -> bool:
        """EMQX applies a ban while `until > now` (whole seconds)."""
        return self.until is not None and self.until <= int(now() if at is None else at)

    def matches(self, clientid: str, username: str | None, peerhost: str | None) -> bool:
        """Whether this ban keeps such a client out (`emqx_banned:check/1`)."""
        if self.kind == "clientid":
            return clientid == self.who
        if self.kind == "username":
            return username is not None and username == self.who
        if self.kind == "clientid_re":
            return compile_pcre(self.who).search(clientid) is not None
        if self.kind == "username_re":
            return username is not None and compile_pcre(self.who).search(username) is not None
        address = parse_address(peerhost) if peerhost is not None else None
        if address is None:
            return False
        if self.kind == "peerhost":
            return ntoa(address) == self.who
        return cidr_match(address, parse_cidr(self.who))


class Bans:
    """Bans by (kind, normalized who); an expired ban no longer applies and may be replaced."""

    def __init__(self) -> None:
        self._bans: dict[tuple[str, str], Ban] = {}

    def __iter__(self) -> Iterator[Ban]:
        """In EMQX's listing order: the rule table, then the individual one."""
        live = [ban for ban in self._bans.values() if not ban.expired()]
        return iter([ban for ban in live if ban.table == "rules"] + [ban for ban in live if ban.table != "rules"])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, kind: str, who: str) -> Ban | None:
        """The live ban on `who` (normalized as the kind requires); BadWho if it cannot be."""
        ban = self._bans.get((kind, normalize_who(kind, who)))
        return None if ban is None or ban.expired() else ban

    def add(self, ban: Ban) -> None:
        self._bans[(ban.kind, ban.who)] = ban

    def delete(self, kind: str, who: str) -> bool:
        return self._bans.pop((kind, normalize_who(kind, who)), None) is not None

    def remove(self, kind: str, who: str) -> None:
        """`DELETE /banned/{as}/{who}`: BadWho where `who` cannot be parsed, NotFound where
        no live ban has it."""
        if self.get(kind, who) is None:
            raise NotFound(f"{kind}: {who} not found")
        self.delete(kind, who)

    def search(self, field: str, pattern: str) -> list[Ban]:
        """The live bans of `field`'s kinds whose `who` (a pattern ban's own text included)
        the regular expression matches; Invalid, with EMQX's JSON report, for a bad pattern."""
        try:
            regex = compile_pcre(pattern)
        except PcreError as error:
            detail = {
                "message": "The filter is not a validation regex expression",
                "reason": error.message,
                "position": error.position,
                "filter": pattern,
            }
            raise Invalid(_jiffy(detail)) from None
        kinds = SEARCHED_KINDS[field]
        return [ban for ban in self if ban.kind in kinds and regex.search(ban.who) is not None]

    def check_new(self, kind: str, who: str, at: int, until: int | None) -> None:
        """`emqx_mgmt_api_banned` refusing a new ban, in its order: a `who` it cannot parse
        (BadWho), an `until` already past, a live ban on the same `who` (AlreadyExists,
        that ban as JSON text)."""
        normalize_who(kind, who)  # `emqx_banned:parse_who/1`
        if until is not None and until <= int(now()):
            raise Invalid(expired_ban_text(at, until))
        existing = self.get(kind, who)
        if existing is not None:
            raise AlreadyExists(_jiffy(existing.view()))

    def clear(self) -> None:
        self._bans.clear()

    def find(self, clientid: str, username: str | None, peerhost: str | None) -> Ban | None:
        """The ban, if any, that keeps this client out."""
        if not self._bans:  # asked for every seeded client: no bans, no work
            return None
        return next((ban for ban in self if ban.matches(clientid, username, peerhost)), None)
