"""Who a request was authorized as: what a flavour's authentication yields and handlers read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..state.access import Token


@dataclass(frozen=True)
class Principal:
    """The credential a request was authorized with (the journal records it as `kind:name`)."""

    kind: str  # e.g. "api_key" or "token"
    name: str  # the API key (not its name), the dashboard username...
    role: str
    token: Token | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"
