"""The whole state of the fake EMQX cluster: a plain Python model, no HTTP in it.

Every public method that changes state takes `lock`, and the HTTP layer holds the same lock
around each handler, so each request and each seeding call is atomic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .access import (
    ADMINISTRATOR,
    API_KEY_ROLES,
    ApiKey,
    ApiKeys,
    BootstrapEntry,
    DashboardUser,
    DashboardUsers,
    Tokens,
)
from .seeding import ClientDefaults
from .sessions import Message, Session, Sessions
from .topics import parse_filter

CE = "ce"
EE = "ee"
EDITIONS = (CE, EE)
DEFAULT_NODE = "emqx@127.0.0.1"


@dataclass(frozen=True)
class BrokerConfig:
    """What a reset returns to: the edition, the nodes, the bootstrap keys, the default user."""

    edition: str = CE
    nodes: tuple[str, ...] = (DEFAULT_NODE,)
    bootstrap_api_keys: tuple[BootstrapEntry, ...] = ()
    default_username: str = "admin"
    default_password: str = "public"
    version: str = "5.8.9"
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.edition not in EDITIONS:
            raise ValueError(f"edition must be one of {EDITIONS}, not {self.edition!r}")
        if not self.nodes:
            raise ValueError("a cluster needs at least one node")

    @property
    def api_key_roles(self) -> tuple[str, ...]:
        """EMQX CE has no roles: every key is an administrator."""
        return API_KEY_ROLES if self.edition == EE else (ADMINISTRATOR,)


MessageSpec = Message | str | bytes | Mapping[str, Any]
SubscriptionSpec = str | Mapping[str, Any]


@dataclass(eq=False)
class Broker:
    config: BrokerConfig = field(default_factory=BrokerConfig)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.defaults = ClientDefaults(self.config.seed)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.sessions = Sessions()
            self.api_keys = ApiKeys()
            self.api_keys.bootstrap(list(self.config.bootstrap_api_keys))
            self.users = DashboardUsers()
            self.users.add(
                self.config.default_username,
                self.config.default_password,
                description="administrator",
                check_policy=False,
            )
            self.tokens = Tokens()
            self.defaults.reseed()

    @property
    def edition(self) -> str:
        return self.config.edition

    @property
    def running_nodes(self) -> list[str]:
        return list(self.config.nodes)

    # -- seeding ---------------------------------------------------------------------------

    def add_client(
        self,
        clientid: str | None = None,
        *,
        subscriptions: Iterable[SubscriptionSpec] = (),
        mqueue: Iterable[MessageSpec] = (),
        inflight: Iterable[MessageSpec] = (),
        **fields: Any,
    ) -> Session:
        """Add (or take over) a session. Unset fields get realistic defaults; subscriptions
        are topic filters or `{"topic", "qos", "nl", "rap", "rh"}`; messages are payloads or
        `{"topic", "payload", "qos", "from_clientid", "from_username", "priority"}`."""
        with self.lock:
            fields.setdefault("node", self.config.nodes[0])
            session = Session(clientid or self.defaults.clientid(), **self.defaults.fill(fields))
            for subscription in subscriptions:
                session.subscribe(**({"topic": subscription} if isinstance(subscription, str) else dict(subscription)))
            inflight_specs = list(inflight)
            if len(inflight_specs) > session.inflight_max:
                raise ValueError(f"inflight holds at most inflight_max={session.inflight_max} messages")
            for entry in inflight_specs:
                session.put_inflight(_message(entry, session)[0])
            for entry in mqueue:
                message, priority = _message(entry, session)
                session.enqueue(message, priority)
            self.sessions.put(session)
            return session

    def add_clients(self, count: int, **fields: Any) -> list[Session]:
        """Seed `count` clients sharing `fields` (each gets its own generated clientid)."""
        with self.lock:
            return [self.add_client(**fields) for _ in range(count)]

    def add_api_key(
        self,
        name: str,
        *,
        api_secret: str | None = None,
        role: str = ADMINISTRATOR,
        desc: str = "",
        enable: bool = True,
        expired_at: float | None = None,
    ) -> ApiKey:
        if role not in self.config.api_key_roles:
            raise ValueError(f"edition {self.edition} has no API key role {role!r}")
        with self.lock:
            return self.api_keys.create(
                name, desc=desc, enable=enable, expired_at=expired_at, role=role, api_secret=api_secret
            )

    def add_user(
        self, username: str, password: str, *, description: str = "", role: str = ADMINISTRATOR
    ) -> DashboardUser:
        if self.edition == CE and role != ADMINISTRATOR:
            raise ValueError("edition ce has no dashboard user roles")
        with self.lock:
            return self.users.add(username, password, description=description, role=role)

    # -- operations the API performs -------------------------------------------------------

    def kick(self, clientid: str) -> None:
        """Disconnect a client and discard its session."""
        with self.lock:
            self.sessions.remove(clientid)

    def delete_user(self, username: str) -> None:
        with self.lock:
            self.users.delete(username)
            self.tokens.revoke_user(username)

    def change_password(self, user: DashboardUser, new_password: str) -> None:
        with self.lock:
            user.set_password(new_password)
            self.tokens.revoke_user(user.username)


def _topic_matching(subscription: str) -> str:
    """A topic name the subscription filter matches: the default topic of a seeded message."""
    levels = parse_filter(subscription).filter.split("/")
    name = "/".join("x" if level == "+" else level for level in levels if level != "#")
    return name or "t"


def _message(spec: MessageSpec, session: Session) -> tuple[Message, int | str]:
    """A seeded queue entry: a Message, a bare payload, or a dict of Message fields."""
    if isinstance(spec, Message):
        return spec, 0
    if isinstance(spec, (str, bytes)):
        spec = {"payload": spec}
    fields = dict(spec)
    priority = fields.pop("priority", 0)
    payload = fields.pop("payload", b"")
    if "topic" not in fields:
        fields["topic"] = _topic_matching(next(iter(session.subscriptions), "t/1"))
    message = Message(payload=payload.encode() if isinstance(payload, str) else bytes(payload), **fields)
    return message, priority
