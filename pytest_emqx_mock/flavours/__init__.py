"""EMQX's front doors, each a flavour over the one state (`http.flavour`), chosen by name:
`v5` (EMQX 5.8, `/api/v5`, the default) and `v4` (EMQX 4.4, `/api/v4`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from ..http.flavour import FlavourFactory

#: The flavours by name, the default first.
FLAVOUR_NAMES = ("v5", "v4")


def flavour_named(name: str) -> FlavourFactory:
    """The flavour called `name` (imported when asked for); ValueError for no such flavour."""
    if name == "v5":
        from .v5 import Emqx5

        return Emqx5
    if name == "v4":
        from .v4 import Emqx4

        return Emqx4
    raise ValueError(f"no flavour {name!r}: one of {', '.join(FLAVOUR_NAMES)}")


def flavour_list(names: str | Sequence[str]) -> list[str]:
    """Flavour names as given: one name, several separated by commas, or a list of names;
    ValueError for an unknown one, one named twice, or none."""
    listed = [part.strip() for part in names.split(",")] if isinstance(names, str) else list(names)
    for name in listed:
        if not isinstance(name, str) or name not in FLAVOUR_NAMES:
            raise ValueError(f"no flavour {name!r}: one of {', '.join(FLAVOUR_NAMES)}")
    if not listed or len(set(listed)) != len(listed):
        raise ValueError(f"name each flavour once (of {', '.join(FLAVOUR_NAMES)}), not {names!r}")
    return listed
