"""EMQX's front doors, each a flavour over the one state (`http.flavour`), chosen by name:
`v5` (EMQX 5.8, `/api/v5`, the default), `v4` (EMQX 4.4, `/api/v4`), and the EMQX Cloud
deployments `cloud-v4` (4.x at `/api`) and `cloud-v5` (`/api/v5`, a "dedicated" or a
"serverless" deployment), and the account-level EMQX Platform API `platform` (`/platform`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from ..http.flavour import FlavourFactory

#: The flavours by name, the default first.
FLAVOUR_NAMES = ("v5", "v4", "cloud-v4", "cloud-v5", "platform")
#: A `cloud-v5` deployment's kinds, the default first.
DEPLOYMENTS = ("dedicated", "serverless")


def flavour_named(name: str, deployment: str = DEPLOYMENTS[0]) -> FlavourFactory:
    """The flavour called `name` (imported when asked for), a `cloud-v5` one of the kind
    `deployment`; ValueError for no such flavour or kind."""
    if deployment not in DEPLOYMENTS:
        raise ValueError(f"no deployment {deployment!r}: one of {', '.join(DEPLOYMENTS)}")
    if name == "v5":
        from .v5 import Emqx5

        return Emqx5
    if name == "v4":
        from .v4 import Emqx4

        return Emqx4
    if name == "cloud-v4":
        from .cloud import CloudV4

        return CloudV4
    if name == "cloud-v5":
        from .cloud import CloudV5, ServerlessV5

        return ServerlessV5 if deployment == "serverless" else CloudV5
    if name == "platform":
        from .platform import EmqxPlatform

        return EmqxPlatform
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
