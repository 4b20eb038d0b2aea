"""One registry of the kinds of state the fake holds.

A kind registers once how it resets, how a snapshot dumps it and a scenario loads it (its
sections, with the field checks of `fields` as its vocabulary), and how it is seeded (the
`/_mock/seed/<kind>` entries and marker options that call the handle's methods, each with its
vocabulary written in the same checks, most often the very same dicts). Reset,
snapshot and restore, scenario files, the control API and the `emqx` marker all read this
registry, so a new kind of state is one `register` call; the ones the fake has are in `kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, TypeVar

from .errors import ModelError
from .fields import (
    Check,
    Problem,
    SeedError,
    checked,
    each,
    either,
    expected_of,
    integer,
    must,
)

if TYPE_CHECKING:
    from .broker import Broker, BrokerConfig

Reset = Callable[["Broker"], None]
#: A model's refusal of a seeding call's checked fields, placed on the field it is about (as
#: the kind's scenario section places it); None for one that is not about a field (a ban, a
#: failed authentication), raised as it is.
Refusal = Callable[[Mapping[str, Any], ModelError], "Problem | None"]
_Made = TypeVar("_Made")


class Handle(Protocol):
    """What a seeding entry is applied to: the handle (`server.EmqxServer`), with the seeding
    methods the entries name and the broker whose config their checks read. Named here by what
    it has: the state knows nothing of the server around it."""

    @property
    def broker(self) -> Broker: ...


class Building:
    """A scenario's state as its sections are loaded into it: a scratch broker with the real
    one's config, which the sections fill in order (each may refer to the ones before it)."""

    def __init__(self, state: Broker) -> None:
        self.state = state
        self.config = state.config

    def node(self, value: Any, *segments: str | int) -> str:
        """The name of one of the scenario's nodes, or a Problem at `segments`."""
        if value not in self.state.nodes:
            raise must(either(list(self.state.nodes)), value, *segments)
        return value  # type: ignore[no-any-return]


def each_item(load_item: Callable[[Building, Any], object]) -> Callable[[Building, Any], object]:
    """The load of a section that is a list: `load_item` of each item, a problem placed at its index."""
    return lambda building, value: each(value, lambda item: load_item(building, item))


@dataclass(frozen=True)
class Section:
    """A kind's part of a scenario document: `load` puts a checked section into the state
    being built (raising `Problem`), `dump` writes the broker's as a snapshot shows it.
    `snapshot_rank` places it in a snapshot, which lists sections in an order of its own."""

    name: str
    load: Callable[[Building, Any], object]
    dump: Callable[[Broker], Any]
    snapshot_rank: int


#: `count` in a data form of an entry with `many`: how many alike calls to make.
COUNT = integer()


@dataclass(frozen=True)
class Seeding:
    """A seeding entry: the handle's `method`, whose keyword arguments are `checks` (its
    vocabulary: the field checks of the kind's scenario section where the two take the same
    fields), `required` among them; `edition_checks` makes the checks of the fields whose
    values the broker's config decides (an edition's roles), as a scenario's sections make
    theirs from `Building.config`. The Python method, `POST /_mock/seed/<name>` (the body as
    the keyword arguments) and, with `marker`, the `emqx` marker option `<name>` (a list of
    such calls, a bare string standing for the `shorthand` field) all check a call's fields
    here (`call`). The fields are EMQX's words; `parameters` names the method's parameters
    for those that are Python keywords (a ban's `as` is `add_ban`'s `kind`). `many`: the
    handle's method taking a `count` before the fields, which the data forms call when given
    one (`add_clients`). `rank`: its place in the control API's list of kinds (the order
    they came in). `refused`: how the model's refusals of a call are placed on its fields."""

    name: str
    method: str
    rank: int
    checks: Mapping[str, Check]
    required: tuple[str, ...] = ()
    marker: bool = False
    shorthand: str | None = None
    edition_checks: Callable[[BrokerConfig], Mapping[str, Check]] | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    many: str | None = None
    refused: Refusal | None = None

    def checks_for(self, config: BrokerConfig) -> Mapping[str, Check]:
        """The vocabulary under the broker's config."""
        return self.checks if self.edition_checks is None else {**self.checks, **self.edition_checks(config)}

    def check(self, config: BrokerConfig, fields: Mapping[str, Any]) -> dict[str, Any]:
        """A data form's fields (`count` too, with `many`) as the model takes them; SeedError
        names the first bad one."""
        try:
            return self._checked(config, fields, counted=True)
        except Problem as problem:
            raise SeedError(problem) from None

    def _checked(self, config: BrokerConfig, fields: Mapping[str, Any], counted: bool) -> dict[str, Any]:
        """The fields checked; `counted`: a `count` is taken too (with `many`)."""
        if not (counted and self.many is not None and isinstance(fields, Mapping) and "count" in fields):
            return checked(fields, self.checks_for(config), self.required)
        try:
            count = COUNT(fields["count"])
        except Problem as problem:
            raise problem.within("count") from None
        if self.shorthand is not None and self.shorthand in fields:  # the field that names one: each of the many gets its own
            raise Problem(f"cannot be given with count: each of the {self.name} gets its own", self.shorthand)
        return {"count": count, **checked({key: value for key, value in fields.items() if key != "count"}, self.checks_for(config), self.required)}

    def call(self, config: BrokerConfig, make: Callable[..., _Made], fields: Mapping[str, Any], *, counted: bool = False) -> _Made:
        """`make(**fields)`, the fields checked first under the broker's `config` (and named as
        `make`'s parameters; `counted`: `make` takes a `count` too, as `many` does); a Problem
        `make` finds deeper (a subscription of a client, a node not in the cluster), or a
        refusal of the model that `refused` places, is a SeedError too. Either way nothing has
        changed: the model refuses before it changes anything."""
        try:
            found = self._checked(config, fields, counted)
            try:
                return make(**self._named(found))
            except ModelError as error:
                problem = self.refused(found, error) if self.refused is not None else None
                if problem is None:
                    raise
                raise problem from None
        except Problem as problem:
            raise SeedError(problem) from None

    def apply(self, handle: Handle, fields: Mapping[str, Any]) -> Any:
        """The handle's method called with a data form's `fields` as its keyword arguments
        (the marker's and the control API's way), checked first: a field its signature
        requires is a SeedError too, not a TypeError."""
        self.check(handle.broker.config, fields)
        method = self.many if self.many is not None and "count" in fields else self.method
        return getattr(handle, method)(**self._named(fields))

    def fields_of(self, item: Any) -> dict[str, Any]:
        """A listed call's fields (the marker's): an object, or a string standing for the
        `shorthand` field; Problem for anything else."""
        if isinstance(item, str) and self.shorthand is not None:
            return {self.shorthand: item}
        if not isinstance(item, Mapping):
            raise must(f"a string (its {self.shorthand}) or an object" if self.shorthand else "an object", item)
        return dict(item)

    def _named(self, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """The fields by the method's parameters' names."""
        return {self.parameters.get(key, key): value for key, value in fields.items()} if self.parameters else fields

    def describe(self, config: BrokerConfig) -> dict[str, Any]:
        """The vocabulary as the control API lists it: each field and what it takes."""
        fields = {"count": f"{expected_of(COUNT)}: that many alike, by {self.many}"} if self.many is not None else {}
        fields.update((name, expected_of(check)) for name, check in self.checks_for(config).items())
        return {
            "method": self.method,
            "fields": fields,
            "required": list(self.required),
            "shorthand": self.shorthand,
            "marker": self.marker,
        }


@dataclass(frozen=True)
class Kind:
    """A kind of state: `reset` sets its broker attributes to their initial state; `wire`
    connects them to the broker they live in (after a reset, and after a scenario's state
    moves in); its scenario sections, in load order."""

    name: str
    reset: Reset
    wire: Reset | None = None
    sections: tuple[Section, ...] = ()


KINDS: list[Kind] = []
#: The seeding entries by name, in the order of their ranks.
SEEDINGS: dict[str, Seeding] = {}
_RESETS: list[Reset] = []  # flat, for the per-test reset's speed
_WIRES: list[Reset] = []


def register(kind: Kind, *seedings: Seeding) -> Kind:
    """Add a kind of state (after the kinds its sections refer to) and its seeding entries."""
    if any(known.name == kind.name for known in KINDS):
        raise ValueError(f"a kind of state {kind.name!r} is registered already")
    KINDS.append(kind)
    _RESETS.append(kind.reset)
    if kind.wire is not None:
        _WIRES.append(kind.wire)
    for seeding in seedings:
        add_seeding(seeding)
    return kind


def add_seeding(seeding: Seeding) -> None:
    """A seeding entry on its own: one that acts on several kinds (`publish`, `connect`)."""
    if seeding.name in SEEDINGS:
        raise ValueError(f"a seeding kind {seeding.name!r} is registered already")
    entries = sorted([*SEEDINGS.values(), seeding], key=lambda entry: entry.rank)
    SEEDINGS.clear()
    SEEDINGS.update((entry.name, entry) for entry in entries)


def reset(broker: Broker) -> None:
    """Every kind back to its initial state, wired to `broker` (the caller holds its lock)."""
    for reset_kind in _RESETS:
        reset_kind(broker)
    wire(broker)


def wire(broker: Broker) -> None:
    for wire_kind in _WIRES:
        wire_kind(broker)


def sections() -> list[Section]:
    """The scenario sections of every kind, in load order."""
    return [section for kind in KINDS for section in kind.sections]


def load(building: Building, document: dict[str, Any]) -> None:
    """Each section `document` has, in load order, into the state being built."""
    for section in sections():
        if section.name in document:
            try:
                section.load(building, document[section.name])
            except Problem as problem:
                raise problem.within(section.name) from None


def dump(broker: Broker) -> dict[str, Any]:
    """Every section of the broker's state, as a snapshot lists them."""
    return {section.name: section.dump(broker) for section in sorted(sections(), key=lambda section: section.snapshot_rank)}
