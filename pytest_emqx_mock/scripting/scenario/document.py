"""A scenario document as a whole: `prepare` builds the state it describes on a scratch
broker with the real one's config, each kind of state loading its sections as the registry
says (`state.registry`), and tries the scenario's stubs and faults there; `Prepared.install`
moves the finished state into the real broker under its lock. A bad document therefore loads
nothing. `snapshot` is the same document written from a broker's state."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ...flavours import DEPLOYMENTS, FLAVOUR_NAMES, flavour_list
from ...state import registry
from ...state.broker import Broker
from ...state.fields import Problem, checked, choice, each, json_object, must
from ...state.monitor import Monitor
from ...state.routes import gc_paused
from ...versions import checked_version
from .files import DICT_SOURCE, ScenarioError

FORMAT_VERSION = 1


class RuleSet(Protocol):
    """What `prepare` needs of a server's stubs or faults to try a scenario's out
    (`scripting.stubs.Stubs`, `scripting.faults.Faults`)."""

    def add(self, description: Mapping[str, Any]) -> object: ...

    def clear(self) -> None: ...


#: Stubs and faults to try a scenario's on, the faults over a scratch state (`EmqxApp.trial`).
Trial = Callable[[Broker], "tuple[RuleSet, RuleSet]"]


@dataclass
class Prepared:
    """A scenario's state, built and checked, ready to replace the broker's; and its stubs and faults."""

    broker: Broker
    state: Broker
    stubs: list[dict[str, Any]]
    faults: list[dict[str, Any]]

    def install(self) -> None:
        """Move the built state into the broker, as one change under its lock."""
        broker, state = self.broker, self.state
        with broker.lock:
            for name, value in vars(state).items():
                if name not in ("config", "lock"):
                    setattr(broker, name, value)
            registry.wire(broker)  # to the broker that now owns it, as a reset wires it


def prepare(
    broker: Broker,
    document: Any,
    source: str = DICT_SOURCE,
    trial: Trial | None = None,
) -> Prepared:
    """Build the state a scenario describes beside `broker` (which it leaves alone), and try
    its stubs and faults on the sets `trial(state)` gives; ScenarioError for the first problem."""
    state = Broker(broker.config)
    state.monitor = Monitor(broker.monitor.clock)  # a test's clock stays
    try:
        with gc_paused():  # a big state is many objects: no collections while they are made
            sections = _sections(document)
            registry.load(registry.Building(state), sections)
            stubs, faults = _try_rules(state, sections, trial)
            return Prepared(broker, state, stubs, faults)
    except Problem as problem:
        raise ScenarioError(source, problem.path, problem.problem) from None


@dataclass(frozen=True)
class Doors:
    """The front doors a scenario is written for: its `flavour` (one name or a list) and, for
    a `cloud-v5` one, its `deployment`."""

    flavours: tuple[str, ...]
    deployment: str = DEPLOYMENTS[0]

    def __str__(self) -> str:
        serverless = self.deployment != DEPLOYMENTS[0] and "cloud-v5" in self.flavours
        return ", ".join(self.flavours) + (f" (deployment {self.deployment})" if serverless else "")


def doors(document: Any, source: str = DICT_SOURCE) -> Doors | None:
    """The doors a scenario document names, None when it names none; ScenarioError for a
    `flavour` that names no flavour, or a `deployment` without a `cloud-v5` flavour."""
    if not isinstance(document, Mapping) or ("flavour" not in document and "deployment" not in document):
        return None
    try:
        return _doors(document)
    except Problem as problem:
        raise ScenarioError(source, problem.path, problem.problem) from None


def emqx_version(document: Any, source: str = DICT_SOURCE) -> str | None:
    """The EMQX version a scenario document is for (`emqx_version`: "6.3"), None when it names
    none; ScenarioError for one the fake does not answer as."""
    if not isinstance(document, Mapping) or "emqx_version" not in document:
        return None
    try:
        return checked_version(document["emqx_version"])
    except ValueError as error:
        raise ScenarioError(source, "emqx_version", str(error)) from None


def _doors(document: Mapping[str, Any]) -> Doors:
    given = document.get("flavour")
    if given is None:
        raise Problem("needs a flavour: cloud-v5 beside it", "deployment")
    if not isinstance(given, (str, list)):
        raise must(f"a flavour ({', '.join(FLAVOUR_NAMES)}) or a list of them", given, "flavour")
    try:
        flavours = tuple(flavour_list(given))
    except ValueError as error:
        raise Problem(str(error), "flavour") from None
    if "deployment" not in document:
        return Doors(flavours)
    try:
        deployment = choice(*DEPLOYMENTS)(document["deployment"])
    except Problem as problem:
        raise problem.within("deployment") from None
    if "cloud-v5" not in flavours:
        raise Problem("is a cloud-v5 deployment's kind: name cloud-v5 in flavour", "deployment")
    return Doors(flavours, deployment)


def _sections(document: Any) -> dict[str, Any]:
    """The document's sections, each name known: its version and doors (`doors` reads them),
    the registered kinds' sections in load order, its stubs and its faults."""
    names = ["version", "emqx_version", "flavour", "deployment", *(section.name for section in registry.sections()), "stubs", "faults"]
    if not isinstance(document, Mapping):
        raise must(f"an object of sections ({', '.join(names)})", document)
    sections = checked(document, dict.fromkeys(names, lambda value: value))
    if "version" in sections:
        try:
            choice(FORMAT_VERSION)(sections["version"])
        except Problem as problem:
            raise problem.within("version") from None
    if "flavour" in sections or "deployment" in sections:
        _doors(sections)  # checked here too: `prepare` alone refuses a bad one
    if "emqx_version" in sections:
        try:
            checked_version(sections["emqx_version"])
        except ValueError as error:
            raise Problem(str(error), "emqx_version") from None
    return sections


def _try_rules(state: Broker, sections: dict[str, Any], trial: Trial | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Set each stub, then each fault (which may name a path only a stub answers), on the sets
    `trial` gives for the built state, then end them all: a bad description fails before
    anything loads, and the state is left as the scenario describes it."""
    described = {}
    for name in ("stubs", "faults"):
        try:
            described[name] = each(sections.get(name, []), json_object)
            if described[name] and trial is None:
                raise Problem("are set on a server: load the scenario with EmqxServer.load_scenario")
        except Problem as problem:
            raise problem.within(name) from None
    if trial is not None and (described["stubs"] or described["faults"]):
        sets = trial(state)
        try:
            for name, rules in zip(("stubs", "faults"), sets):
                for index, description in enumerate(described[name]):
                    try:
                        rules.add(description)
                    except ValueError as error:
                        raise Problem(str(error), index).within(name) from None
        finally:
            for rules in reversed(sets):
                rules.clear()
    return described["stubs"], described["faults"]


def snapshot(broker: Broker) -> dict[str, Any]:
    """The whole state as a scenario document (see `scripting.scenario` for what is left out),
    sharing nothing with the broker: later changes do not show in it."""
    with broker.lock, gc_paused():
        broker.settle()  # what the filter logs hold for the sessions is theirs
        return {"version": FORMAT_VERSION, **registry.dump(broker)}


def checkpoint(broker: Broker) -> Callable[[], None]:
    """A way back to the broker's state as it is now, for changes that apply whole or not at
    all (the caller holds the lock throughout): what a snapshot holds comes back as a restore
    brings it, and the broker's records stay its own (the monitor's samples, the publish
    history as it was, the seeded clients' defaults at the draw they had reached)."""
    saved = snapshot(broker)
    published, monitor, defaults = list(broker.published), broker.monitor, copy.deepcopy(broker.defaults)

    def back() -> None:
        prepare(broker, saved).install()
        broker.monitor, broker.defaults = monitor, defaults
        broker.published.extend(published)

    return back
