"""The ban list (`emqx_banned`): who may not connect, until when."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from .clock import now

#: What a ban names: `as` in the API.
BAN_KINDS = ("clientid", "username", "peerhost", "clientid_re", "username_re", "peerhost_net")


@dataclass(eq=False)
class Ban:
    kind: str  # one of BAN_KINDS (EMQX's `as`)
    who: str
    by: str = "mgmt_api"
    reason: str = ""
    at: float = field(default_factory=now)
    until: float | None = None  # epoch seconds; None is "infinity"

    def expired(self, at: float | None = None) -> bool:
        return self.until is not None and self.until <= (now() if at is None else at)

    def matches(self, clientid: str, username: str | None, peerhost: str | None) -> bool:
        if self.kind == "clientid":
            return clientid == self.who
        if self.kind == "username":
            return username is not None and username == self.who
        if self.kind == "peerhost":
            return peerhost is not None and peerhost == self.who
        if self.kind == "clientid_re":
            return re.search(self.who, clientid) is not None
        if self.kind == "username_re":
            return username is not None and re.search(self.who, username) is not None
        if self.kind == "peerhost_net":
            try:
                return peerhost is not None and ipaddress.ip_address(peerhost) in ipaddress.ip_network(self.who, strict=False)
            except ValueError:
                return False
        return False


class Bans:
    """Bans by (kind, who); an expired ban no longer applies and may be replaced."""

    def __init__(self) -> None:
        self._bans: dict[tuple[str, str], Ban] = {}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([ban for ban in self._bans.values() if not ban.expired()])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, kind: str, who: str) -> Ban | None:
        ban = self._bans.get((kind, who))
        return None if ban is None or ban.expired() else ban

    def add(self, ban: Ban) -> None:
        self._bans[(ban.kind, ban.who)] = ban

    def delete(self, kind: str, who: str) -> bool:
        return self._bans.pop((kind, who), None) is not None

    def clear(self) -> None:
        self._bans.clear()

    def find(self, clientid: str, username: str | None, peerhost: str | None) -> Ban | None:
        """The ban, if any, that keeps this client out."""
        return next((ban for ban in self if ban.matches(clientid, username, peerhost)), None)
