"""What faults and stubs share: a rule applies to the requests a matcher picks (see `matching`),
for the next N of them, for a while, or until removed, optionally with a seeded probability;
one set with `expect=True` that no request meets fails its test. A `RuleSet` holds them in the
order they were set: the first that applies to a request wins."""

from __future__ import annotations

import inspect
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    Generic,
    Iterator,
    Mapping,
    Sequence,
    TypeVar,
)

from ..state.fields import unknown_field
from .matching import RequestMatcher, RequestSpec

if TYPE_CHECKING:
    from .recorded import JournalEntry


@dataclass(eq=False)
class Rule:
    KIND: ClassVar[str] = "rule"  # its name in the control API's listings
    matcher: RequestMatcher | None  # None: a rule that meets no request (a cluster fault)
    times: int | None = None  # how many more requests it applies to; None: until removed
    deadline: float | None = None  # `time.monotonic()` after which it no longer applies
    probability: float = 1.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    expected: bool = False  # set with `expect=True`: never triggered is a test failure
    triggered: int = 0
    id: int = 0  # set by its RuleSet: how the control API names it

    def live(self, now: float) -> bool:
        return (self.times is None or self.times > 0) and (self.deadline is None or now < self.deadline)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, self.KIND: str(self), "triggered": self.triggered, "remaining": self.times}


#: The fields `scoped` takes beside a rule's own arguments.
SCOPE = ("times", "duration", "probability", "seed", "expect", "credential", "body", "query")


def described(method: Callable[..., Any], request: Any, arguments: Mapping[str, Any]) -> None:
    """A description's `arguments` checked against what `method` (given `request` first) takes,
    with the scope's fields when it takes a scope: a typo is named as seeding names one
    (`stauts: unknown field (did you mean status?)`). Raises ValueError."""
    signature = inspect.signature(method)
    parameters = signature.parameters
    known = [name for name, parameter in parameters.items() if parameter.kind is not parameter.VAR_KEYWORD][1:]
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values()):
        known += SCOPE
    _refuse_unknown(arguments, known)
    try:
        signature.bind(request, **arguments)
    except TypeError as error:
        raise ValueError(str(error)) from None


def _refuse_unknown(arguments: Mapping[str, Any], known: Sequence[str]) -> None:
    unknown = next((key for key in arguments if key not in known), None)
    if unknown is not None:
        problem = unknown_field(unknown, known)
        raise ValueError(f"{problem.path}: {problem.problem}")


def scoped(spec: RequestSpec, scope: dict[str, Any]) -> dict[str, Any]:
    """A rule's fields from a request spec and its `scope`: `times=N`, `duration=S` (a window
    from now), `probability=P` with `seed=`, `expect=True`, and the matcher's `credential=`,
    `body=`, `query=`. Raises ValueError naming what is wrong (a typo as seeding names one)."""
    _refuse_unknown(scope, SCOPE)
    scope = dict(scope)
    times, duration = scope.pop("times", None), scope.pop("duration", None)
    probability, seed = scope.pop("probability", 1.0), scope.pop("seed", None)
    expected = scope.pop("expect", False)
    check(times is None or (is_int(times) and times >= 1), "times must be an integer >= 1")
    check(duration is None or is_seconds(duration), seconds_wanted("duration"))
    check(is_number(probability) and 0 <= probability <= 1, "probability must be a number from 0 to 1")
    check(seed is None or is_int(seed), "seed must be an integer")
    check(isinstance(expected, bool), "expect must be true or false")
    return {
        "matcher": RequestMatcher.parse(spec, **scope),
        "times": times,
        "deadline": None if duration is None else time.monotonic() + duration,
        "probability": probability,
        "rng": random.Random(seed),
        "expected": expected,
    }


R = TypeVar("R", bound=Rule)


class RuleSet(Generic[R]):
    """Rules in the order they were set, taken atomically by the requests they apply to."""

    def __init__(self) -> None:
        self._rules: list[R] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _register(self, rule: R) -> R:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __repr__(self) -> str:
        """The rules held, each with its id (what `remove` takes): `<Stubs: #1 200 response on GET /rules>`."""
        return f"<{type(self).__name__}: {'; '.join(f'#{rule.id} {rule}' for rule in self) or 'none'}>"

    def __iter__(self) -> Iterator[R]:
        with self._lock:
            return iter(list(self._rules))

    def untriggered(self) -> list[R]:
        """The rules set with `expect=True` that no request has met."""
        with self._lock:
            return [rule for rule in self._rules if rule.expected and not rule.triggered]

    def _remove(self, rule_id: int) -> list[R]:
        with self._lock:
            found = [rule for rule in self._rules if rule.id == rule_id]
            for rule in found:
                self._rules.remove(rule)
        return found

    def _clear(self) -> list[R]:
        with self._lock:
            ended, self._rules = self._rules, []
        return ended

    def clear(self) -> None:
        """Remove every rule."""
        self._clear()

    def reset(self) -> None:
        """Back to the initial set, as a server's reset is: no rules, and the next one is #1."""
        self.clear()
        with self._lock:
            self._ids = itertools.count(1)

    def first(self, request: JournalEntry) -> R | None:
        """The first live rule whose matcher meets this request, leaving it untouched (chance
        aside: whether it would apply)."""
        now = time.monotonic()
        with self._lock:
            return next((rule for rule in self._rules if rule.matcher is not None and rule.live(now) and rule.matcher.matches(request)), None)

    def take(self, request: JournalEntry) -> R | None:
        """The rule that applies to this request, counted as triggered (atomically: with
        `times=1`, exactly one of many concurrent requests gets it)."""
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                if rule.matcher is None or not rule.live(now) or not rule.matcher.matches(request):
                    continue
                if rule.probability < 1.0 and rule.rng.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                rule.triggered += 1
                return rule
        return None


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def http_status(value: Any) -> int:
    check(is_int(value) and 100 <= value <= 599, "status must be an HTTP status from 100 to 599")
    return int(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: The longest wait Python's sleep and timers take (`threading.TIMEOUT_MAX`, about 292 years): a
#: longer one would be accepted here and then fail where it is waited, inside the fake.
MAX_SECONDS = threading.TIMEOUT_MAX


def is_seconds(value: Any) -> bool:
    return is_number(value) and 0 <= value <= MAX_SECONDS


def seconds_wanted(name: str) -> str:
    """The refusal of a `name` that is not `is_seconds`."""
    return f"{name} must be a number of seconds from 0 to {MAX_SECONDS:.0f}"
