"""The whole state of the fake EMQX cluster: a plain Python model, no HTTP in it.

Every public method that changes state takes `lock`, and the HTTP layer holds the same lock
around each handler, so each request and each seeding call is atomic.
"""

from __future__ import annotations

import collections
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ..erlang.terms import binary
from ..versions import DEFAULT_VERSION, checked_version, release
from . import registry
from .access import (
    ADMINISTRATOR,
    API_KEY_ROLES,
    USER_ROLES,
    ApiKey,
    ApiKeys,
    BootstrapEntry,
    DashboardUser,
    DashboardUsers,
    PasswordMismatch,
    Tokens,
    password_problem,
)
from .apps import DEFAULT_APP_ID, DEFAULT_APP_SECRET, App, Apps
from .auth_mnesia import ALL, MnesiaUser, target_of
from .authn import (
    BUILTIN_DB_ID,
    Authenticator,
    AuthnChain,
    BuiltinUser,
    NotAuthorized,
    builtin_db_config,
)
from .authz import (
    PUBLISH,
    SUBSCRIBE,
    Access,
    Authorization,
    Decision,
    Source,
    normalize_rule,
)
from .banned import Ban, Bans
from .clock import now
from .cluster import RUNNING, STOPPED, Alarm, Node
from .errors import Invalid, NotAllowed, NotFound
from .fields import Problem, SeedError, checked, choice
from .kinds.clients import session_of
from .kinds.messages import decoded
from .kinds.nodes import node_names
from .locking import StateLock
from .metrics import Metrics
from .monitor import Monitor
from .platform import Deployment, Link, Platform, PlatformKey
from .retainer import RetainedMessages
from .seeding import ClientDefaults
from .sessions import (
    QUEUED,
    QUEUED_DROPPING_OLDEST,
    FilterLog,
    Message,
    Session,
    Sessions,
    Subscription,
    insert_timestamp_ns,
)
from .topics import parse_filter, validate_filter, validate_name

CE = "ce"
EE = "ee"
EDITIONS = (CE, EE)
DEFAULT_NODE = "emqx@127.0.0.1"
_CONFIG_CHECKS = {"edition": choice(*EDITIONS), "nodes": node_names}


@dataclass(frozen=True)
class BrokerConfig:
    """What a reset returns to: the edition, the nodes, the bootstrap keys, the default user;
    and the EMQX line the fake answers as (`versions`)."""

    edition: str = CE
    nodes: Sequence[str] = (DEFAULT_NODE,)  # kept as a tuple
    bootstrap_api_keys: tuple[BootstrapEntry, ...] = ()
    default_username: str = "admin"
    default_password: str = "public"
    version: str = DEFAULT_VERSION
    seed: int | None = None
    #: EMQX 4's `management.default_application` (id, secret); None: no app (a Cloud deployment's).
    default_app: tuple[str, str] | None = (DEFAULT_APP_ID, DEFAULT_APP_SECRET)
    #: The built-in database authenticator and authorization source exist after every reset
    #: (a Cloud Serverless deployment's, whose API cannot create them).
    builtin_database: bool = False
    #: The EMQX Platform API key (Key, Secret) every reset starts with, reaching everything.
    platform_key: tuple[str, str] | None = None
    #: The deployments other servers of the process serve (`EmqxServer.link_deployment`),
    #: which every reset starts with; added to as servers are linked.
    deployment_links: list[Link] = field(default_factory=list, compare=False, hash=False)
    #: The nodes are a Cloud Serverless deployment's: multi-tenant, behind the Cloud's TLS proxy,
    #: which shows in every client's info (`flavours.v5.endpoints.clients.client_row`).
    serverless: bool = False

    def __post_init__(self) -> None:
        """The edition and the nodes checked as a scenario checks them: SeedError names the
        field (`nodes[0]: must be a node name (name@host), not "bad"`)."""
        try:
            found = checked({"edition": self.edition, "nodes": self.nodes}, _CONFIG_CHECKS)
        except Problem as problem:
            raise SeedError(problem) from None
        object.__setattr__(self, "nodes", found["nodes"])  # a tuple, whatever list was given
        checked_version(self.version)

    @property
    def release(self) -> str:
        """The EMQX release the fake reports (`versions.RELEASES`)."""
        return release(self.version)

    @property
    def api_key_roles(self) -> tuple[str, ...]:
        """EMQX CE has no roles: every key is an administrator."""
        return API_KEY_ROLES if self.edition == EE else (ADMINISTRATOR,)

    @property
    def user_roles(self) -> tuple[str, ...]:
        """The dashboard users' roles: EMQX CE has administrators only."""
        return USER_ROLES if self.edition == EE else (ADMINISTRATOR,)


PUBLISH_HISTORY = 10_000
#: A filter log this long makes its sessions take what it holds (memory stays bounded).
LOG_LIMIT = 10_000


@dataclass(frozen=True)
class Published:
    """What one publish did: the message, and how many sessions it reached."""

    message: Message
    matched: int  # subscriptions chosen (a shared group counts once), after no-local
    delivered: int  # of those, the sessions that took the message
    failed: int = 0  # dispatches that failed (an EMQX node failing mid-publish)
    authorized: bool = True  # False: the sending client was denied, nothing was routed


class Banned(Invalid):
    """A client that a ban keeps out."""


@dataclass(eq=False)
class Broker:
    config: BrokerConfig = field(default_factory=BrokerConfig)
    # The state, each part set by the reset of the kind that registers it (`state.kinds`).
    nodes: dict[str, Node] = field(init=False, repr=False)
    metrics: Metrics = field(init=False, repr=False)
    retained: RetainedMessages = field(init=False, repr=False)
    bans: Bans = field(init=False, repr=False)
    alarms: list[Alarm] = field(init=False, repr=False)
    sessions: Sessions = field(init=False, repr=False)
    api_keys: ApiKeys = field(init=False, repr=False)
    apps: Apps = field(init=False, repr=False)
    platform: Platform = field(init=False, repr=False)
    users: DashboardUsers = field(init=False, repr=False)
    tokens: Tokens = field(init=False, repr=False)
    authn: AuthnChain = field(init=False, repr=False)
    authz: Authorization = field(init=False, repr=False)
    # The broker's own records, reset by `_reset_records`.
    monitor: Monitor = field(init=False, repr=False)
    #: The last messages published (through the API or from Python), oldest first.
    published: collections.deque[Published] = field(init=False, repr=False)
    _share_turns: dict[tuple[str, str], itertools.count[int]] = field(init=False, repr=False)
    _pending_logs: dict[str, FilterLog] = field(init=False, repr=False)
    _sequence: itertools.count[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lock = StateLock()
        self.defaults = ClientDefaults(self.config.seed)
        self.reset()
        # every change is made holding the lock: a sample due before a change sees the state
        # before it, whichever way (Python, REST, scenario) the change comes
        self.lock.on_hold = self._sample_due

    def _sample_due(self) -> None:
        self.monitor.observe(self)

    def reset(self) -> None:
        """Every registered kind of state back to its initial state."""
        with self.lock:
            registry.reset(self)

    @property
    def edition(self) -> str:
        return self.config.edition

    @property
    def running_nodes(self) -> list[str]:
        """Names of the running nodes, in cluster order."""
        return [name for name, node in self.nodes.items() if node.status == RUNNING]

    @property
    def api_node(self) -> str:
        """The node that serves the API (and so publishes what the API publishes)."""
        return self.running_nodes[0] if self.running_nodes else next(iter(self.nodes))

    # -- seeding ---------------------------------------------------------------------------

    def add_client(self, clientid: str | None = None, **fields: Any) -> Session:
        """Add (or take over) a session from a client's fields as a scenario gives them, checked
        (`kinds.clients.CLIENT_CHECKS`: the handle checks them); unset fields get realistic
        defaults. Problem for what only the session can tell (a bad subscription, a queue
        over its max). A connected client that a ban matches is refused with `Banned`."""
        return self._admit(clientid, fields, credentials=None)

    def _admit(self, clientid: str | None, fields: dict[str, Any], credentials: tuple[str | None] | None) -> Session:
        """Build and store a session; with `credentials` (the password), run authentication
        after the ban check, as a CONNECT does."""
        if clientid is not None:
            fields["clientid"] = clientid
        with self.lock:
            session = session_of(registry.Building(self), fields, live=True)
            ban = self.bans.find(session.clientid, session.username, session.ip_address) if session.connected else None
            if ban is not None:  # a banned client cannot connect, seeded or not
                raise Banned(f"client {session.clientid!r} is banned ({ban.kind} {ban.who!r})")
            if credentials is not None:
                session.is_superuser = self._authenticate(session, credentials[0])
            self.sessions.put(session)
            return session

    def connect(self, clientid: str | None = None, *, password: str | None = None, **fields: Any) -> Session:
        """A client connects (a connected `add_client`): refused with Banned while a ban
        matches, then run through the authentication chain with `password` (no password is
        a CONNECT without one): refused with `NotAuthorized`; a superuser user makes the
        session's `is_superuser` True. An empty chain lets everyone in."""
        return self._admit(clientid, {**fields, "connected": True}, credentials=(password,))

    def _authenticate(self, session: Session, password: str | None) -> bool:
        """`emqx_access_control:authenticate/1` and its counters on the client's node."""
        node = session.node
        self.metrics.inc(node, "client.authenticate")
        try:
            # a listener with `enable_authn: false` lets its clients in anonymously
            superuser = self.authn.authenticate(node, session.username, session.clientid, password) if session.enable_authn else None
        except NotAuthorized:
            self.metrics.inc(node, "authentication.failure")
            for name in ("packets.connack.sent", "packets.connack.error", "packets.connack.auth_error"):
                self.metrics.inc(node, name)
            raise
        self.metrics.inc(node, "authentication.success")
        if superuser is None:  # no enabled authenticator: anonymous
            self.metrics.inc(node, "client.auth.anonymous")
            self.metrics.inc(node, "authentication.success.anonymous")
            return False
        return superuser

    def disconnect(self, clientid: str) -> Session | None:
        """A client disconnects: its session stays (`connected: false`) while its expiry
        interval allows, and is discarded at once when that is 0. Returns it if it stays."""
        with self.lock:
            session = self.sessions.get(clientid)
            if session.expiry_interval <= 0:
                self.sessions.remove(clientid)
                return None
            session.connected = False
            session.disconnected_at = now()
            return session

    def expire(self, clientid: str) -> None:
        """A disconnected session's expiry interval runs out: it is discarded."""
        with self.lock:
            self.sessions.remove(clientid)

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
        api_key: str | None = None,
        created_at: float | None = None,
    ) -> ApiKey:
        """An API key; its role one the edition has, as the handle checks it (`kinds.api_keys`)."""
        with self.lock:
            key = self.api_keys.create(
                name, desc=desc, enable=enable, expired_at=expired_at, role=role, api_key=api_key, api_secret=api_secret
            )
            if created_at is not None:
                key.created_at = created_at
            return key

    def add_app(
        self,
        app_id: str,
        *,
        secret: str | None = None,
        name: str = "",
        desc: str = "",
        status: bool = True,
        expired: float | None = None,
    ) -> App:
        """An EMQX 4.x application (`emqx_mgmt_auth:add_app/6`): a generated secret unless
        given; refused when its AppID is not sane or is taken."""
        with self.lock:
            return self.apps.add(app_id, secret, name=name, desc=desc, status=status, expired=expired)

    def add_deployment(self, deployment_id: str | None = None, **fields: Any) -> Deployment:
        """A deployment of the EMQX Platform account (`Platform.add`); refused when its ID is taken."""
        with self.lock:
            return self.platform.add(deployment_id, **fields)

    def add_platform_key(self, key: str, **fields: Any) -> PlatformKey:
        """An EMQX Platform API key (`Platform.add_key`); refused when its Key is taken."""
        with self.lock:
            return self.platform.add_key(key, **fields)

    def add_user(
        self, username: str, password: str, *, description: str = "", role: str = ADMINISTRATOR
    ) -> DashboardUser:
        """A dashboard user; its role one the edition has, as the handle checks it (`kinds.dashboard`)."""
        with self.lock:
            return self.users.add(username, password, description=description, role=role)

    def add_retained(
        self, topic: str, payload: str | bytes, *, payload_encoding: str = "plain", expires_at: float | None = None, **fields: Any
    ) -> Message:
        """Seed a retained message (as if published with retain; `expires_at` overrides the
        expiry its properties and the retainer's config give it)."""
        with self.lock:
            validate_name(topic)
            message = Message(topic=topic, payload=decoded(payload, payload_encoding), retain=True, **fields)
            self.retained.store(message, expires_at)
            return message

    def add_ban(self, kind: str, who: str, **fields: Any) -> Ban:
        """Ban. As in EMQX (`emqx_banned:on_banned/1`), a clientid ban kicks that client's
        session at once, connected or not; every kind refuses the client's next connect."""
        with self.lock:
            ban = Ban(kind, who, **fields)
            self.bans.add(ban)
            if ban.kind == "clientid" and ban.who in self.sessions:
                self.sessions.remove(ban.who)
            return ban

    def create_ban(self, kind: str, who: str, *, at: int | None = None, until: int | None = None, **fields: Any) -> Ban:
        """`POST /banned`: refused as `Bans.check_new` says (`at` defaults to now), else `add_ban`."""
        with self.lock:
            at = int(now()) if at is None else at
            self.bans.check_new(kind, who, at, until)
            return self.add_ban(kind, who, at=at, until=until, **fields)

    def add_alarm(self, name: str, *, node: str | None = None, **fields: Any) -> Alarm:
        with self.lock:
            alarm = Alarm(name, node or self.api_node, **fields)
            self.alarms.append(alarm)
            return alarm

    def add_authz_source(self, type: str, **config: Any) -> Source:
        """Add an authorization source (`file` with `rules` text, or `built_in_database` with
        `max_rules`) at the front of the chain, as `POST /authorization/sources` does."""
        with self.lock:
            return self.authz.add_source({"type": type, **config})

    def set_authz_settings(
        self, *, no_match: str = "allow", deny_action: str = "ignore", cache: Mapping[str, Any] | None = None
    ) -> None:
        """`PUT /authorization/settings`: `cache` keys (`enable`, `max_size`, `ttl`,
        `excludes`) left out take their defaults."""
        with self.lock:
            self.authz.update_settings(no_match, deny_action, dict(cache or {}))

    def add_authz_rules(
        self, rules: Iterable[Mapping[str, Any]], *, username: str | None = None, clientid: str | None = None
    ) -> None:
        """Set the built-in database rules of a username, a clientid, or (neither given) of
        all clients. Each rule: `topic`, `permission`, `action`, optional `qos`, `retain`.
        The `built_in_database` source must exist (`add_authz_source`) for them to apply."""
        if username is not None and clientid is not None:
            raise ValueError("rules are for a username or a clientid, not both")
        normalized = [normalize_rule(dict(rule)) for rule in rules]
        with self.lock:
            if username is not None:
                self.authz.rules.set("users", username, normalized)
            elif clientid is not None:
                self.authz.rules.set("clients", clientid, normalized)
            else:
                self.authz.rules.set("all", "", normalized)

    def add_authenticator(self, password_hash_algorithm: Mapping[str, Any] | None = None, **options: Any) -> Authenticator:
        """Append a `password_based:built_in_database` authenticator to the chain, as
        `POST /authentication` does (`password_hash_algorithm` defaults to sha256, salt
        prefix; `options`: `user_id_type`, `enable`)."""
        with self.lock:
            return self.authn.create(builtin_db_config(dict(password_hash_algorithm or {"name": "sha256"}), **options))

    def add_authn_user(
        self, user_id: str, password: str, *, is_superuser: bool = False, authenticator: str = BUILTIN_DB_ID
    ) -> BuiltinUser:
        """Add a built-in database user with a plain password, hashed as its authenticator is
        configured to hash."""
        with self.lock:
            return self.authn.for_users(authenticator).add_user(user_id, password, is_superuser)

    def add_mnesia_user(self, password: str, *, clientid: str | None = None, username: str | None = None) -> MnesiaUser:
        """An EMQX 4.4 `emqx_auth_mnesia` user of a clientid or of a username (as
        `POST /auth_clientid` and `/auth_username` add one), its password hashed with
        `auth.mnesia.password_hash`; AlreadyExists for a login present."""
        target = target_of(clientid, username)
        if target is None or target[0] == ALL:
            raise Invalid("an emqx_auth_mnesia user is a clientid's or a username's")
        with self.lock:
            return self.authn.mnesia.add(target[0], target[1], password)

    def add_mnesia_acl(self, topic: str, action: str, access: str, *, clientid: str | None = None, username: str | None = None) -> None:
        """An EMQX 4.4 `emqx_auth_mnesia` ACL rule of a clientid, a username, or (neither)
        `$all`, as `POST /acl` adds one (`action`: pub, sub or pubsub; `access`: allow or deny)."""
        target = target_of(clientid, username)
        if target is None:
            raise Invalid("an ACL rule is a clientid's, a username's or $all's, not both")
        with self.lock:
            self.authz.mnesia.add(target, topic, action, access)

    def set_mnesia_password_hash(self, password_hash: str) -> None:
        """`auth.mnesia.password_hash` (sha256 after a reset)."""
        with self.lock:
            self.authn.mnesia.set_hash_type(password_hash)

    def node(self, name: str) -> Node:
        if name not in self.nodes:
            raise NotFound(f"Node not found: {name}")
        return self.nodes[name]

    def set_node_status(self, node: str, status: str) -> Node:
        """Start or stop a node ("running" / "stopped")."""
        if status not in (RUNNING, STOPPED):
            raise ValueError(f"a node is {RUNNING!r} or {STOPPED!r}, not {status!r}")
        with self.lock:
            found = self.node(node)
            self.settle()  # what was published while the node ran still reached its sessions
            found.status = status
            return found

    # -- operations the API performs -------------------------------------------------------

    def publish(
        self,
        topic: str,
        payload: str | bytes = b"",
        *,
        payload_encoding: str = "plain",
        qos: int = 0,
        retain: bool = False,
        from_clientid: str = "http_api",
        from_username: str = "",
        properties: dict[str, Any] | None = None,
    ) -> Published:
        """Route a message to every matching subscription (one member of each shared group),
        store or delete it as retained, and count it. `from_clientid` other than "http_api"
        publishes as that MQTT client (no-local then applies); when that client has a session,
        its PUBLISH is authorized first, and a denied one is not routed (`authorized` False)."""
        content = decoded(payload, payload_encoding)
        with self.lock:
            validate_name(topic)
            sender = self.sessions.find(from_clientid) if from_clientid != "http_api" else None
            if sender is not None and not self._authorized(sender, Access(PUBLISH, qos, retain), topic):
                return Published(Message(topic=topic, payload=content, qos=qos, retain=retain), 0, 0, authorized=False)
            message = Message(
                topic=topic,
                payload=content,
                qos=qos,
                retain=retain,
                from_clientid=from_clientid,
                from_username=from_username,
                properties=dict(properties or {}),
            )
            node = self.api_node
            # the API's messages count as received too (`emqx_mgmt:publish/1`, `inc_msg`)
            self.metrics.inc(node, "messages.received")
            self.metrics.inc(node, f"messages.qos{qos}.received")
            self.metrics.inc(node, "messages.publish")
            if retain:
                self.retained.store(message)
            stamp = insert_timestamp_ns()
            logged = 0
            if self._may_log(from_clientid):
                # every node runs and no-local cannot apply: the plain subscriptions take the
                # message from their filters' logs when next looked at (FilterLog)
                entry = (next(self._sequence), stamp, message)
                for topic_filter, log, readers in self.sessions.index.logs_matching(topic):
                    log.entries.append(entry)
                    logged += readers
                    self._pending_logs[topic_filter] = log
                    if len(log.entries) >= LOG_LIMIT:
                        self._settle_filter(topic_filter, log)
                chosen = self._pick_members(self.sessions.index.shared_matching(topic))
            else:
                chosen = self._subscribers(topic, from_clientid)
            if not chosen and not logged:
                self.metrics.inc(node, "messages.dropped")
                self.metrics.inc(node, "messages.dropped.no_subscribers")
            outcomes: dict[tuple[str, str, int], int] = {}
            for session, subscription in chosen:
                granted = qos if qos <= subscription.qos else subscription.qos
                key = (session.node, session.deliver(message, granted, subscription.topic, stamp), granted)
                outcomes[key] = outcomes.get(key, 0) + 1
            delivered = self._count_deliveries(outcomes) + logged  # a session always takes it
            published = Published(message, len(chosen) + logged, delivered)
            self.published.append(published)
            return published

    def subscribe(self, clientid: str, topic: str, qos: int = 0, **options: Any) -> Decision:
        """The client sends SUBSCRIBE for one filter: authorized first, as EMQX does for MQTT
        clients (never for the REST subscribe). Allowed: subscribed. Denied: no subscription
        (SUBACK 0x87), and with `deny_action: disconnect` the client is disconnected."""
        with self.lock:
            session = self.sessions.get(clientid)
            validate_filter(parse_filter(topic))  # a malformed filter is refused before any check
            decision = self.authz.authorize(session, Access(SUBSCRIBE, qos), topic)
            if decision.result == "allow":
                session.subscribe(topic, qos, **options)
            else:
                self.metrics.inc(session.node, "packets.subscribe.auth_error")
                self._deny(session)
            return decision

    def _authorized(self, sender: Session, access: Access, topic: str) -> bool:
        """Authorize a client's PUBLISH; a denial counts and follows `deny_action`."""
        if self.authz.authorize(sender, access, topic).result == "allow":
            return True
        if self.authz.settings["deny_action"] == "ignore" and access.qos > 0:
            # the PUBACK/PUBREC 0x87 (a QoS 0 message is dropped silently; `disconnect` sends DISCONNECT)
            self.metrics.inc(sender.node, "packets.publish.auth_error")
        self._deny(sender)
        return False

    def _deny(self, session: Session) -> None:
        if self.authz.settings["deny_action"] == "disconnect" and session.connected:
            self.disconnect(session.clientid)

    def clear_authz_cache(self, clientid: str | None = None) -> None:
        """`DELETE /authorization/cache`, or any change of the sources: every client's cache;
        with a client id (`DELETE /clients/{clientid}/authorization/cache`), that client's."""
        with self.lock:
            for session in self.sessions if clientid is None else (self.sessions.get(clientid),):
                if session.authz_cache:
                    session.authz_cache = []

    def _may_log(self, from_clientid: str) -> bool:
        """Whether a publish may go through the filter logs: every node runs (a stopped
        node's sessions must miss it) and the sender has no no-local subscription."""
        if len(self.running_nodes) != len(self.nodes):
            return False
        sender = self.sessions.find(from_clientid) if from_clientid != "http_api" else None
        return sender is None or not any(s.nl for s in sender.subscriptions.values())

    def settle(self) -> None:
        """Let every session take what its filter logs hold for it, and forget what all have
        taken: before the broker's counters are read, and before a node stops or starts."""
        with self.lock:
            pending, self._pending_logs = self._pending_logs, {}
            for topic_filter, log in pending.items():
                self._settle_filter(topic_filter, log)

    def _settle_filter(self, topic_filter: str, log: FilterLog) -> None:
        for session in self.sessions.index.readers(topic_filter):
            session.settle()
        log.trim(log.end)

    def count_settled(self, node: str, counts: dict[tuple[str, int], int]) -> None:
        self._count_deliveries({(node, outcome, qos): count for (outcome, qos), count in counts.items()})

    def _subscribers(self, topic: str, from_clientid: str) -> list[tuple[Session, Subscription]]:
        """The subscriptions a message goes to: every plain one (no-local ones skip their own
        client's messages), and one member of each shared group, taken in turn, connected
        members first."""
        chosen: list[tuple[Session, Subscription]] = []
        shared: list[tuple[Session, Subscription]] = []
        running = set(self.running_nodes)
        for session, subscription in self.sessions.index.matching(topic):
            if session.node not in running:
                continue
            if subscription.share_group is not None:
                shared.append((session, subscription))
            elif subscription.nl and session.clientid == from_clientid and from_clientid != "http_api":
                # (the API's sender is an atom in EMQX: it never equals a client id)
                self.metrics.inc(session.node, "delivery.dropped")
                self.metrics.inc(session.node, "delivery.dropped.no_local")
            else:
                chosen.append((session, subscription))
        return _in_subscription_order(chosen) + self._pick_members(shared)

    def _pick_members(self, shared: list[tuple[Session, Subscription]]) -> list[tuple[Session, Subscription]]:
        """One member of each shared group, taken in turn, connected members first."""
        groups: dict[tuple[str, str], list[tuple[Session, Subscription]]] = {}
        for session, subscription in shared:
            group = (subscription.share_group or "", parse_filter(subscription.topic).filter)
            groups.setdefault(group, []).append((session, subscription))
        chosen = []
        for group, members in groups.items():
            connected = [member for member in members if member[0].connected] or members
            turn = self._share_turns.setdefault(group, itertools.count())
            chosen.append(connected[next(turn) % len(connected)])
        return chosen

    def _count_deliveries(self, outcomes: dict[tuple[str, str, int], int]) -> int:
        """Count one publish's deliveries into each subscriber node's metrics, once per kind
        (a publish to 1,000 subscribers makes a few counter updates, not thousands).
        Returns how many sessions took the message."""
        delivered = 0
        for (node, outcome, qos), count in outcomes.items():
            delivered += count
            if outcome == QUEUED_DROPPING_OLDEST:
                for name in ("delivery.dropped", "delivery.dropped.queue_full", "messages.dropped"):
                    self.metrics.inc(node, name, count)
            if outcome not in (QUEUED, QUEUED_DROPPING_OLDEST):
                for name in ("messages.delivered", "messages.sent", f"messages.qos{qos}.sent", "packets.publish.sent", "packets.sent"):
                    self.metrics.inc(node, name, count)
        return delivered

    def kick(self, clientid: str) -> None:
        """Disconnect a client and discard its session."""
        with self.lock:
            self.sessions.remove(clientid)

    def update_user(self, username: str, *, description: str, role: str) -> DashboardUser:
        """`emqx_dashboard_admin:update_user/3`: the role is checked before the lookup; a role
        change logs the user out."""
        if role not in USER_ROLES:
            raise Invalid("Role does not exist")
        with self.lock:
            user = self.users.get(username)
            if role != user.role:
                user.role = role
                self.tokens.revoke_user(username)
            user.description = description
            return user

    def delete_user(self, username: str, *, by: str | None = None) -> None:
        """Delete a dashboard user and its tokens; `by`, the user asking with a token, may not
        delete itself, and nobody deletes the default user (`emqx_dashboard_api:user/2`)."""
        if username == self.config.default_username:
            raise NotAllowed('Cannot delete user ' + binary(username.encode()))
        if by == username:
            raise NotAllowed("Cannot delete self")
        with self.lock:
            self.users.delete(username)
            self.tokens.revoke_user(username)

    def change_password(self, username: str, old_password: str, new_password: str) -> None:
        """`emqx_dashboard_admin:change_password/3`, checks in its order; the user's tokens
        are revoked."""
        with self.lock:
            try:
                user = self.users.get(username)
            except NotFound:
                raise NotFound("User not found") from None
            if not user.check_password(old_password):
                raise PasswordMismatch("Old password not match")
            problem = password_problem(new_password)
            if problem:
                raise Invalid(problem)
            user.set_password(new_password)
            self.tokens.revoke_user(username)


def _in_subscription_order(chosen: list[tuple[Session, Subscription]]) -> list[tuple[Session, Subscription]]:
    """A session with several subscriptions matching one message takes it once for each, in
    the order it subscribed (as when it takes the message from its filter logs)."""
    by_session: dict[int, list[tuple[Session, Subscription]]] = {}
    for pair in chosen:
        by_session.setdefault(id(pair[0]), []).append(pair)
    ordered: list[tuple[Session, Subscription]] = []
    for pairs in by_session.values():
        if len(pairs) > 1:
            order = list(pairs[0][0].subscriptions)
            pairs.sort(key=lambda pair: order.index(pair[1].topic))
        ordered.extend(pairs)
    return ordered


def _reset_records(broker: Broker) -> None:
    """What the broker records as it goes, none of it in a snapshot: the monitor's samples,
    the publish history, shared groups' round-robin turns, the filter logs not yet settled;
    and the seeded clients' defaults start over (the same seed draws the same clients)."""
    broker.monitor = Monitor()
    broker.published = collections.deque(maxlen=PUBLISH_HISTORY)
    broker._share_turns = {}
    broker._pending_logs = {}
    broker._sequence = itertools.count()
    broker.defaults.reseed()


registry.register(registry.Kind("records", _reset_records))
