"""The field-checking mini-language every kind of state's vocabulary is written in: each
check takes a value as a document (a scenario file, a snapshot, a seeding call) gives it,
and returns it as the model takes it, or raises `Problem` saying what is wrong and where.
Each check says what it takes (`expected`): its refusals and the control API's list of
seeding fields both read that one text. A check of an object whose keys are names of its own
(a client's `stats`) lists them (`naming`): a field unknown where it was given, but known there,
is pointed to (`unknown_field`)."""

from __future__ import annotations

import datetime
import difflib
import functools
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Callable, Iterable, Sequence, TypeVar

from .clock import parse_rfc3339
from .errors import Invalid
from .topics import validate_name


class Problem(Exception):
    """What is wrong, and where: the path's keys and list indexes are added as the problem
    travels up through the objects and lists that hold the bad value (so checking a good
    document builds no paths at all)."""

    def __init__(self, problem: str, *segments: str | int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.segments = list(segments)

    def within(self, *segments: str | int) -> Problem:
        self.segments[:0] = segments
        return self

    @property
    def path(self) -> str:
        """`clients[3].subscriptions[0].qos`."""
        return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" if i else s for i, s in enumerate(self.segments))


class SeedError(ValueError):
    """A seeding call refused for one of its fields, before it changed anything: `str()` is
    the field's path and the problem, in the very words a scenario file gets for it (e.g.
    `usrname: unknown field (did you mean username?)`, `subscriptions[0].qos: must be 0, 1 or
    2, not 7`)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.path}: {problem.problem}" if problem.segments else problem.problem)
        self.problem = problem.problem
        self.segments = problem.segments
        self.path = problem.path


# -- field checks: each returns the value as the model takes it, or raises Problem ----------


Check = Callable[[Any], Any]
_Checking = TypeVar("_Checking", bound=Check)


def expecting(expected: str) -> Callable[[_Checking], _Checking]:
    """Mark a check with what it takes: the text its refusals and the seeding fields' list show."""

    def mark(check: _Checking) -> _Checking:
        check.expected = expected  # type: ignore[attr-defined]
        return check

    return mark


def naming(names: Iterable[str]) -> Callable[[_Checking], _Checking]:
    """Mark a check of an object with the keys it takes: an unknown field named like one of
    them is pointed there (`unknown_field`)."""

    def mark(check: _Checking) -> _Checking:
        check.names = tuple(names)  # type: ignore[attr-defined]
        return check

    return mark


def expected_of(check: Check) -> str:
    """What a check takes, as its refusals say it."""
    return str(getattr(check, "expected"))


def describe(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return f"a {type(value).__name__}"


def must(expected: str | Check, value: Any, *segments: str | int) -> Problem:
    """`expected`: the text, or the check whose text it is."""
    return Problem(f"must be {expected if isinstance(expected, str) else expected_of(expected)}, not {describe(value)}", *segments)


def twice(value: Any, first: str, *segments: str | int) -> Problem:
    return Problem(f"{describe(value)} is listed twice (first at {first})", *segments)


@expecting("a string")
def text(value: Any) -> str:
    if not isinstance(value, str):
        raise must(text, value)
    return value


@expecting("a non-empty string")
def non_empty(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise must(non_empty, value)
    return value


@expecting("true or false")
def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise must(flag, value)
    return value


@expecting("a string (from Python, bytes too)")
def payload_data(value: Any) -> str | bytes:
    """A message's payload: text in a document, text or bytes from Python."""
    if not isinstance(value, (str, bytes)):
        raise must(payload_data, value)
    return value


def integer(low: int = 0, high: int | None = None) -> Check:
    expected = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"

    @expecting(expected)
    def check(value: Any) -> int:
        if type(value) is not int or value < low or (high is not None and value > high):
            raise must(expected, value)
        return value

    return check


@expecting("a number >= 0")
def number(value: Any) -> float:
    if type(value) not in (int, float) or not 0 <= value < math.inf:
        raise must(number, value)
    return float(value)


def either(choices: Sequence[Any]) -> str:
    shown = [json.dumps(choice) for choice in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def choice(*choices: Any) -> Check:
    expected = either(choices)
    allowed = {(type(choice), choice) for choice in choices}  # by type too: true is no 1

    @expecting(expected)
    def check(value: Any) -> Any:
        try:
            known = (type(value), value) in allowed
        except TypeError:  # a list or an object
            known = False
        if not known:
            raise must(check, value)  # its text as marked: `edition_choice` marks its own
        return value

    return check


@functools.lru_cache(maxsize=None)
def edition_choice(choices: tuple[Any, ...], edition: str) -> Check:
    """One of the `choices` an edition has (EMQX Enterprise's roles), saying which edition."""
    return expecting(f"{either(choices)} (edition {edition})")(choice(*choices))


#: 10000-01-01 in epoch seconds: the API shows times in RFC 3339, whose years have four digits.
_YEAR_10000 = 253402300800
#: Epoch numbers from here up are milliseconds (from 1973-03-03 on), below it seconds (up to
#: the year 5138): no test means either other one, and EMQX's own API takes epoch milliseconds
#: where it takes a number for a time (`emqx_utils_calendar:to_epoch_millisecond/1`), while
#: scenario files and snapshots write epoch seconds.
EPOCH_MS_FROM = 100_000_000_000


@expecting("an RFC 3339 date-time or an epoch time (seconds, or milliseconds from 1e11 up)")
def timestamp(value: Any) -> float:
    """Epoch seconds as the model keeps times, from RFC 3339 text, a datetime (a YAML
    timestamp: UTC when it names no offset), or an epoch number (`EPOCH_MS_FROM`)."""
    seconds: float | None = None
    if type(value) in (int, float):
        seconds = value / 1000 if value >= EPOCH_MS_FROM else float(value)
    elif isinstance(value, datetime.datetime):
        seconds = (value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)).timestamp()
    elif isinstance(value, str):
        seconds = parse_rfc3339(value)
    if seconds is None:
        raise must(timestamp, value)
    if not 0 <= seconds < _YEAR_10000:  # NaN fails this too
        raise must("a time from 1970 to 9999", value)
    return seconds


def optional(check: Check) -> Check:
    return expecting(f"{expected_of(check)}, or null")(lambda value: None if value is None else check(value))


@expecting("an object")
def json_object(value: Any) -> dict[str, Any]:
    """Any JSON object, copied: the document stays the caller's."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise must(json_object, value)
    return plain(value)  # type: ignore[no-any-return]


@expecting("an object of strings")
def strings(value: Any) -> dict[str, str]:
    """An object of strings (client attributes), copied."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise must("an object", value)
    for key, item in value.items():
        if not isinstance(item, str):
            raise must(text, item, key)
    return dict(value)


@expecting("a list")
def a_list(value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise must(a_list, value)
    return list(value)


def unknown_field(key: Any, known: Iterable[str] | Mapping[str, Check]) -> Problem:
    """An unknown field, with the known one it is most like; given the checks, the keys their
    objects take (`naming`) are candidates too, by their paths: `recv_msg` is a client's
    `stats.recv_msg`. Only refusals pay for the search."""
    candidates = {name: name for name in known}
    if isinstance(known, Mapping):
        for name, check in known.items():
            for inner in getattr(check, "names", ()):
                candidates.setdefault(inner, f"{name}.{inner}")
    close = difflib.get_close_matches(str(key), list(candidates), n=1)
    hint = f" (did you mean {candidates[close[0]]}?)" if close else f" (one of: {', '.join(known)})"
    return Problem("unknown field" + hint, str(key))


def checked(value: Any, checks: Mapping[str, Check], required: Iterable[str] = ()) -> dict[str, Any]:
    """An object whose every key is one of `checks` (a typo is an error, not a silent
    default), each value checked."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise must("an object", value)
    try:
        found = {key: checks[key](item) for key, item in value.items()}  # the common case, at C speed
    except (KeyError, Problem):  # an unknown field, or a bad value: again, to say which
        unknown = next((key for key in value if key not in checks), None)
        if unknown is not None:  # a typo first: its value was never meant for its check
            raise unknown_field(unknown, checks) from None
        found = {}
        for key, item in value.items():
            try:
                found[key] = checks[key](item)
            except Problem as problem:
                raise problem.within(key) from None
    for key in required:
        if key not in found:
            raise Problem("is required", key)
    return found


def counter_map(names: Iterable[str]) -> Check:
    """An object of counters (integers >= 0) by name: checked in one loop, there are many."""
    known = tuple(names)
    known_set = frozenset(known)

    @naming(known)
    @expecting("an object of counters (integers >= 0) by name")
    def check(value: Any) -> dict[str, int]:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise must("an object", value)
        for key, item in value.items():
            if key not in known_set:
                raise unknown_field(key, known)
            if type(item) is not int or item < 0:
                raise must("an integer >= 0", item, key)
        return dict(value)

    return check


def each(value: Any, build: Callable[[Any], Any]) -> list[Any]:
    """`build` of each item of a list, a problem placed at its index."""
    results = []
    for index, item in enumerate(a_list(value)):
        try:
            results.append(build(item))
        except Problem as problem:
            raise problem.within(index) from None
    return results


@expecting("a topic name")
def topic_name(value: Any) -> str:
    topic = text(value)
    try:
        validate_name(topic)
    except Invalid as error:
        raise Problem(f"must be {expected_of(topic_name)}, not {describe(value)} ({error})") from None
    return topic


@expecting('an integer or "infinity"')
def priority_value(value: Any) -> int | str:
    if value == "infinity" or type(value) is int:
        return value  # type: ignore[no-any-return]
    raise must(priority_value, value)


def hex_digits(length: int) -> Check:
    pattern = re.compile(f"[0-9a-f]{{{length}}}")

    @expecting(f"{length} lowercase hex digits")
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise must(check, value)
        return value

    return check


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


@expecting("an IP address")
def ip_address(value: Any) -> str:
    if isinstance(value, str) and _IPV4.fullmatch(value):  # the common case, ten times faster
        return value
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise must(ip_address, value) from None
    return value  # type: ignore[no-any-return]


@expecting('an integer >= 0 or "infinity"')
def count_or_infinity(value: Any) -> int | str:
    if value == "infinity" or (type(value) is int and value >= 0):
        return value  # type: ignore[no-any-return]
    raise must(count_or_infinity, value)


@expecting("a node name (name@host)")
def node_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise must(node_name, value)
    return value


def plain(value: Any) -> Any:
    """A copy in JSON's types: the model keeps some lists as tuples (`User-Property` pairs)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


QOS = choice(0, 1, 2)
