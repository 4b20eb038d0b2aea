"""Which requests a journal assertion (and, later, a fault) is about: the method and the path
(exact, an EMQX path template such as `/clients/{clientid}`, or a regular expression), and
optionally the credential, a subset of the JSON body and of the query."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Union

if TYPE_CHECKING:
    from .recorded import JournalEntry

#: What a caller may pass: a matcher, `"METHOD /path"` or `"/path"`, or a compiled pattern.
RequestSpec = Union["RequestMatcher", str, "re.Pattern[str]"]


#: RFC 9110's methods and RFC 5789's PATCH: what a request's method can be.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")

_PARAMETER = re.compile(r"\{[^{}/]*\}")


@functools.lru_cache(maxsize=1024)
def template_shape(template: str) -> str:
    """A path template with its parameters unnamed (`/clients/{}`): two templates of one shape
    name the same paths."""
    return _PARAMETER.sub("{}", template)


@functools.lru_cache(maxsize=1024)
def template_pattern(template: str, parameter: str = "[^/]+") -> re.Pattern[str]:
    """A pattern of the paths a template names: each parameter a segment, or what `parameter`
    says (a routed parameter may hold an escaped `/`, so a routed path's may be `.+`)."""
    return re.compile(parameter.join(re.escape(literal) for literal in _PARAMETER.split(template)))


def _segments_overlap(one: str, other: str) -> bool:
    """Some path is named by both paths or templates."""
    mine, theirs = one.strip("/").split("/"), other.strip("/").split("/")
    return len(mine) == len(theirs) and all(a == b or "{" in a or "{" in b for a, b in zip(mine, theirs))


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _described(value: Mapping[str, Any]) -> RequestMatcher:
    """`{"method", "path"}` or `{"method", "path_regex"}`."""
    unknown = set(value) - {"method", "path", "path_regex"}
    _check(not unknown, f"a request has no field {', '.join(sorted(unknown))}")
    _check(not ("path" in value and "path_regex" in value), "a request has a path or a path_regex, not both")
    method = value.get("method")
    _check(method is None or isinstance(method, str), "method must be a string")
    path: Any = value.get("path")
    if "path_regex" in value:
        try:
            path = re.compile(value["path_regex"])
        except (re.error, TypeError) as error:
            raise ValueError(f"path_regex: {error}") from None
    _check(path is None or isinstance(path, (str, re.Pattern)), "path must be a string")
    return RequestMatcher(method=method.upper() if method else None, path=path)


def _contains(actual: Any, expected: Any) -> bool:
    """`expected` is `actual`, or (for objects) a subset of it, recursively."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and _contains(actual[key], value) for key, value in expected.items())
    return bool(actual == expected)


@dataclass(frozen=True)
class RequestMatcher:
    method: str | None = None  # None: any method
    path: str | re.Pattern[str] | None = None  # None: any path
    credential: str | None = None  # "api_key:<key>" or "token:<username>"
    body: Any = None  # a JSON value, or an object that must be a subset of the body
    query: dict[str, Any] | None = None  # each value: the parameter's (last) value, or all of them

    @classmethod
    def of(cls, spec: RequestSpec | None = None, **criteria: Any) -> RequestMatcher:
        """`"POST /clients/{clientid}/subscribe"`, `"/publish"`, `re.compile("^/api/v5/clients")`
        or a matcher, narrowed by `credential=`, `body=`, `query=`."""
        if isinstance(spec, RequestMatcher):
            return RequestMatcher(**{**spec.__dict__, **criteria})
        method: str | None = None
        path: str | re.Pattern[str] | None = spec
        if isinstance(spec, str) and " " in spec:
            method, path = spec.split(" ", 1)
        return cls(method=method.upper() if method else None, path=path, **criteria)

    @classmethod
    def parse(cls, spec: Any, **criteria: Any) -> RequestMatcher:
        """`of` for input from outside Python's type checks (fault descriptions, scenario
        files, the control API): the spec may also be `{"method", "path" | "path_regex"}`.
        Raises ValueError naming what is wrong."""
        if isinstance(spec, Mapping):
            spec = _described(spec)
        _check(isinstance(spec, (str, re.Pattern, RequestMatcher)), 'a request is "METHOD /path", a path, or a pattern')
        _check(not (isinstance(spec, str) and spec.strip() == ""), 'a request is "METHOD /path", a path, or a pattern, not empty')
        unknown = set(criteria) - {"credential", "body", "query"}
        _check(not unknown, f"unknown field {', '.join(sorted(unknown))}")
        _check(criteria.get("credential") is None or isinstance(criteria["credential"], str), "credential must be a string")
        _check(criteria.get("query") is None or isinstance(criteria["query"], Mapping), "query must be an object")
        matcher = cls.of(spec, **criteria)
        # what no request can meet is refused, not kept to fail silently: every request's
        # method is a method and its path starts with a slash
        _check(matcher.method is None or matcher.method in HTTP_METHODS, f"{matcher.method} is not an HTTP method (one of {', '.join(HTTP_METHODS)})")
        _check(not isinstance(matcher.path, str) or matcher.path.startswith("/"), f"a path starts with /, not {matcher.path!r}")
        return matcher

    def matches(self, entry: JournalEntry) -> bool:
        if self.method is not None and entry.method != self.method:
            return False
        if self.path is not None and not self._path_matches(entry):
            return False
        if self.credential is not None and entry.credential != self.credential:
            return False
        if self.body is not None and not _contains(entry.body, self.body):
            return False
        return self.query is None or all(self._query_matches(entry, key, value) for key, value in self.query.items())

    def _path_matches(self, entry: JournalEntry) -> bool:
        if isinstance(self.path, re.Pattern):
            return self.path.search(entry.path) is not None
        assert self.path is not None
        if "{" not in self.path:
            return entry.path in (self.path, entry.mount + self.path)
        # an EMQX path template: the operation the request was routed to (its parameters named
        # as they may be), else a path the fake does not serve that fits the template (a stub's)
        shape = template_shape(self.path)
        if entry.operation is not None:
            routed = template_shape(entry.operation.split(" ", 1)[1])
            return shape in (routed, entry.mount + routed)
        pattern = template_pattern(self.path)
        if pattern.fullmatch(entry.path):
            return True
        under = entry.path[len(entry.mount) :] if entry.mount and entry.path.startswith(entry.mount + "/") else None
        return under is not None and pattern.fullmatch(under) is not None

    def overlaps(self, other: RequestMatcher, mounts: Iterable[str]) -> bool:
        """Whether one request could meet both matchers, as far as their methods and paths
        tell (a pattern may meet any path); `mounts`: the prefixes a path may be written under."""
        if self.method is not None and other.method is not None and self.method != other.method:
            return False
        if not isinstance(self.path, str) or not isinstance(other.path, str):
            return True
        mounts = ["", *mounts]
        return any(_segments_overlap(a + self.path, b + other.path) for a in mounts for b in mounts)

    @staticmethod
    def _query_matches(entry: JournalEntry, key: str, expected: Any) -> bool:
        values = entry.query.get(key, [])
        return values == expected if isinstance(expected, list) else bool(values) and values[-1] == str(expected)

    def __str__(self) -> str:
        words = [self.method or "*", self.path.pattern if isinstance(self.path, re.Pattern) else (self.path or "*")]
        if self.credential is not None:
            words.append(f"as {self.credential}")
        if self.body is not None:
            words.append(f"with body {json.dumps(self.body, sort_keys=True)}")
        if self.query is not None:
            words.append(f"with query {json.dumps(self.query, sort_keys=True)}")
        return " ".join(words)
