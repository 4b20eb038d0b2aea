"""The seeding vocabulary as Python types, so that an editor completes the handle's seeding
methods and mypy checks their calls: one TypedDict per seeding entry, for the fields its method
takes as keywords (`**fields: Unpack[ClientFields]`). The checks that run are the entries'
own (`Seeding.checks` in `kinds`); a test holds each TypedDict's keys and its method's
parameters equal to them."""

from __future__ import annotations

import datetime
from typing import Any, Literal, Mapping, Sequence, TypedDict, Union

from .sessions import Message

#: A time: RFC 3339 text, a datetime (naive is UTC), or epoch seconds (milliseconds from 1e11 up).
Time = Union[str, float, datetime.datetime]
Qos = Literal[0, 1, 2]
#: A subscription: a topic filter, or `{"topic", "qos", "nl", "rap", "rh"}`.
SubscriptionSpec = Union[str, Mapping[str, Any]]
#: A queued message: a payload, a Message, or an object of Message fields (with `priority` in
#: an mqueue, `inserted_at_ns` and `delivered_qos` as snapshots write them).
MessageSpec = Union[str, bytes, Message, Mapping[str, Any]]


class ClientFields(TypedDict, total=False):
    """`add_client` and `connect`: a client as a scenario's `clients` lists it."""

    node: str
    username: str | None
    ip_address: str | None
    port: int | None
    listener: str
    proto_name: str
    proto_ver: Literal[3, 4, 5]
    clean_start: bool
    keepalive: int
    expiry_interval: int
    connected: bool
    created_at: Time
    connected_at: Time
    disconnected_at: Time | None
    is_bridge: bool
    mountpoint: str | None
    enable_authn: bool
    client_attrs: Mapping[str, str]
    peersni: str | None
    cn: str | None
    dn: str | None
    auth_expire_at: Time | None
    inflight_max: int
    mqueue_max: int
    awaiting_rel_max: int
    subscriptions_max: int | Literal["infinity"]
    stats: Mapping[str, int]
    subscriptions: Sequence[SubscriptionSpec]
    mqueue: Sequence[MessageSpec]
    inflight: Sequence[MessageSpec]
    mqueue_dropped: int
    awaiting_rel_cnt: int
    authz_cache: Sequence[Mapping[str, Any]]
    is_superuser: bool


class ApiKeyFields(TypedDict, total=False):
    api_key: str
    api_secret: str
    desc: str
    enable: bool
    expired_at: Time | None
    created_at: Time
    role: str


class AppFields(TypedDict, total=False):
    secret: str
    name: str
    desc: str
    status: bool
    expired: Time | None


class UserFields(TypedDict, total=False):
    description: str
    role: str


class _MessageFields(TypedDict, total=False):
    payload_encoding: Literal["plain", "base64"]
    qos: Qos
    from_clientid: str
    from_username: str
    properties: Mapping[str, Any]


class PublishFields(_MessageFields, total=False):
    retain: bool


class RetainedFields(_MessageFields, total=False):
    """`add_retained`: a retained message as a scenario's `retained` lists it."""

    publish_at: Time
    msgid: str
    expires_at: Time


class BanFields(TypedDict, total=False):
    by: str
    reason: str
    at: Time
    until: Time | None


class AlarmFields(TypedDict, total=False):
    node: str
    message: str
    details: Mapping[str, Any]
    activate_at: Time
    deactivate_at: Time | None


class AuthenticatorFields(TypedDict, total=False):
    user_id_type: Literal["clientid", "username"]
    enable: bool
    bootstrap_file: str
    bootstrap_type: Literal["hash", "plain"]


class AuthzSourceFields(TypedDict, total=False):
    enable: bool
    rules: str
    max_rules: int


class AuthzSettings(TypedDict, total=False):
    no_match: Literal["allow", "deny"]
    deny_action: Literal["ignore", "disconnect"]
    cache: Mapping[str, Any]


class MnesiaLogin(TypedDict, total=False):
    """Whose `emqx_auth_mnesia` user or ACL rule: a clientid's or a username's."""

    clientid: str
    username: str


class RulesOwner(TypedDict, total=False):
    username: str
    clientid: str


class SubscribeOptions(TypedDict, total=False):
    nl: Literal[0, 1]
    rap: Literal[0, 1]
    rh: Literal[0, 1, 2]


class TlsFields(TypedDict, total=False):
    """A deployment's TLS certificate (`tls_type` and `expire` required)."""

    tls_type: Literal["one-way", "two-way"]
    expire: Time
    status: Literal["running", "pending"]
    cert: str
    key: str
    cacert: str


class DeploymentFields(TypedDict, total=False):
    """`add_deployment` and `link_deployment`: an EMQX Platform deployment."""

    name: str
    deployment_type: Literal["dedicated", "serverless"]
    version: Literal["v5", "v4"]
    status: Literal["running", "starting", "stopped"]
    platform: str
    region: str
    project_name: str
    connections: int
    create_at: Time
    startup: float
    tls: TlsFields | None


class PlatformKeyFields(TypedDict, total=False):
    """`add_platform_key`: an EMQX Platform API key's scope (every feature and project unless given)."""

    secret: str
    features: Sequence[Literal["deployments", "tls"]]
    projects: Sequence[str] | None
    desc: str
