"""Putting a chain (authenticators, authorization sources) in the order a request gives, as
EMQX's `reorder_authenticators/4` and `reorder_sources/4` both do it."""

from __future__ import annotations

from typing import Callable, TypeVar

from .errors import Invalid

Item = TypeVar("Item")


def reordered(items: list[Item], order: list[str], name: Callable[[Item], str], what: str) -> list[Item]:
    """`items` in `order` (their names, each taken once), or Invalid with EMQX's message: the
    names it could not take (a repeated one too), newest first as EMQX accumulates them, and
    the items left without a position. `what` names the items in the message."""
    remaining = list(items)
    placed: list[Item] = []
    not_found: list[str] = []
    for wanted in order:
        found = next((item for item in remaining if name(item) == wanted), None)
        if found is None:
            not_found.insert(0, wanted)
        else:
            remaining.remove(found)
            placed.append(found)
    problems = []
    if not_found:
        problems.append(f"{what[0].upper()}{what[1:]}: {', '.join(not_found)} are not found")
    if remaining:
        problems.append(f"No positions are specified for {what}: {', '.join(name(item) for item in remaining)}")
    if problems:
        raise Invalid(", ".join(problems))
    return placed
