"""The EMQX Platform account (the Platform API's state, `../shared/reference/
emqx4-and-cloud-api-surface.md` §2.1): its deployments, each with its status and its TLS
certificate, the Platform API keys (Key / Secret, each scoped to features and projects), and
the per-endpoint rate limits the documents give ("can only be requested N times within 60
minutes"), counted on the fake's clock.

The Platform's own code is not public: the rules here are the documented ones
(`deployment_manage.md`, `tls_certificate.md`, `api_platform.md` of emqx/cloud-docs), and where
the documents are silent the choice is said where it is made.
"""

from __future__ import annotations

import collections
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from .clock import now
from .errors import AlreadyExists, Invalid, LimitReached, NotAllowed, NotFound

#: A deployment's kinds (`deploymentType`) and EMQX major versions (`version`).
DEPLOYMENT_TYPES = ("dedicated", "serverless")
VERSIONS = ("v5", "v4")
#: `status`: the documented values ("running", "starting" while it is created or started,
#: "stopped"). There is no "stopping": a stop's 201 says `"operation": "stopping"`, and the
#: deployment is "stopped" from then on.
RUNNING, STARTING, STOPPED = "running", "starting", "stopped"
STATUSES = (RUNNING, STARTING, STOPPED)
#: A TLS certificate's `tlsType` and `status` ("pending" while it is being applied).
TLS_TYPES = ("one-way", "two-way")
TLS_STATUSES = ("running", "pending")

#: The Platform API key's functionality scopes (the console's "Deployment Management" and
#: "TLS Certificate Management").
FEATURES = ("deployments", "tls")
#: Deployment IDs as the Platform gives them: a letter, then 7 hexadecimal digits (`mdfba81f`,
#: `w41b11c0`, `ge6a1a75` in the documents).
DEPLOYMENT_ID = re.compile(r"[a-z][0-9a-f]{7}")

#: The documented rate limits, per operation: requests within RATE_WINDOW seconds.
RATE_WINDOW = 3600.0
RATE_LIMITS = {
    "list": 60,
    "get": 60,
    "start": 1,
    "stop": 1,
    "tls_get": 60,
    "tls_create": 6,
    "tls_update": 6,
    "tls_delete": 6,
}

_PEM_BLOCK = r"-----BEGIN {0}-----\s*[A-Za-z0-9+/=\s]+-----END {0}-----\s*"
#: One certificate, or a chain of them (the server's first, as a PEM bundle writes it).
_CERTIFICATES = re.compile(f"(?:{_PEM_BLOCK.format('CERTIFICATE')})+")
_PRIVATE_KEY = re.compile(r"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----\s*[A-Za-z0-9+/=\s]+-----END \1-----\s*")


class Forbidden(NotAllowed):
    """The key's scope does not reach the feature or the deployment's project: 403."""


class RateLimited(LimitReached):
    """Over the operation's rate limit: 429."""


def new_deployment_id() -> str:
    """A fresh ID of the Platform's form."""
    return secrets.choice("abcdefghijklmnopqrstuvwxyz") + secrets.token_hex(4)[:7]


def platform_time(epoch_seconds: float, seconds: bool = True) -> str:
    """The Platform's times: `2034-05-22 02:43:21` (a certificate's expiry), or to the minute
    (`2024-11-21 02:51`, a deployment's `createAt`), in UTC."""
    shown = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@dataclass(eq=False)
class TlsCertificate:
    """A deployment's custom TLS certificate."""

    tls_type: str
    expire: float  # epoch seconds: the certificate's notAfter
    cert: str = ""
    key: str = ""
    cacert: str = ""
    settles_at: float = 0.0  # "pending" until then

    def status_at(self, at: float) -> str:
        return "running" if at >= self.settles_at else "pending"

    def view(self, at: float) -> dict[str, Any]:
        """`GET /deployments/{id}/tls`'s body."""
        return {"expire": platform_time(self.expire), "status": self.status_at(at), "tlsType": self.tls_type}

    def document(self, at: float) -> dict[str, Any]:
        """The certificate as a deployment's `tls` field writes it."""
        return {"tls_type": self.tls_type, "expire": self.expire, "status": self.status_at(at), "cert": self.cert, "key": self.key, "cacert": self.cacert}


@dataclass(eq=False)
class Deployment:
    """One deployment of the account."""

    deployment_id: str
    name: str
    deployment_type: str = "dedicated"
    version: str = "v5"
    platform: str = "AWS"
    region: str = "N. Virginia (us-east-1)"
    project_name: str = "default"
    connections: int = 1000
    create_at: float = 0.0  # epoch seconds (`Platform.add`: now unless given)
    #: Seconds a start (or a new certificate) takes on the fake's clock: "starting" (or
    #: "pending") until then. 0: settled at the next read.
    startup: float = 0.0
    status: str = RUNNING  # as set: a "starting" one is running from `settles_at` on
    settles_at: float = 0.0
    tls: TlsCertificate | None = None
    #: Served by an EmqxServer of this process (its Cloud door), which answers as this
    #: deployment's status says: kept through resets and restores (`Platform.links`).
    linked: bool = False

    def status_at(self, at: float) -> str:
        return RUNNING if self.status == STARTING and at >= self.settles_at else self.status

    def view(self, at: float) -> dict[str, Any]:
        """A deployment as `GET /deployments` lists it."""
        return {
            "connections": self.connections,
            "createAt": platform_time(self.create_at, seconds=False),
            "deploymentID": self.deployment_id,
            "deploymentName": self.name,
            "deploymentType": self.deployment_type,
            "platform": self.platform,
            "projectName": self.project_name,
            "region": self.region,
            "status": self.status_at(at),
            "version": self.version,
        }

    def document(self, at: float) -> dict[str, Any]:
        """The deployment as a scenario's `deployments` section writes it (the fields
        `Platform.add` takes)."""
        return {
            "deployment_id": self.deployment_id,
            "name": self.name,
            "deployment_type": self.deployment_type,
            "version": self.version,
            "status": self.status_at(at),
            "platform": self.platform,
            "region": self.region,
            "project_name": self.project_name,
            "connections": self.connections,
            "create_at": self.create_at,
            "startup": self.startup,
            "tls": self.tls.document(at) if self.tls else None,
        }


@dataclass(eq=False)
class PlatformKey:
    """A Platform API key: its Key and Secret, the features it may use, and the projects it
    reaches (None: every project)."""

    key: str
    secret: str
    features: tuple[str, ...] = FEATURES
    projects: tuple[str, ...] | None = None
    desc: str = ""

    def reaches(self, deployment: Deployment) -> bool:
        return self.projects is None or deployment.project_name in self.projects

    def document(self) -> dict[str, Any]:
        return {"key": self.key, "secret": self.secret, "features": list(self.features), "projects": None if self.projects is None else list(self.projects), "desc": self.desc}


@dataclass(frozen=True)
class Link:
    """A deployment another EmqxServer of the process serves: the record every reset starts
    with (its fields as `Platform.add` takes them)."""

    fields: tuple[tuple[str, Any], ...]

    @property
    def deployment_id(self) -> str:
        return str(dict(self.fields)["deployment_id"])


def check_certificate(text: Any, what: str) -> float:
    """The notAfter (epoch seconds) of a PEM certificate (the first of a chain); Invalid
    naming `what` otherwise."""
    if not isinstance(text, str) or not _CERTIFICATES.fullmatch(text.strip() + "\n"):
        raise Invalid(f"{what} is not a PEM certificate")
    # trustme's own dependency, imported by this check alone
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(text.encode()).not_valid_after_utc.timestamp()
    except ValueError:
        raise Invalid(f"{what} is not a PEM certificate") from None


def check_private_key(text: Any) -> None:
    if not isinstance(text, str) or not _PRIVATE_KEY.fullmatch(text.strip() + "\n"):
        raise Invalid("key is not a PEM private key")


class Platform:
    """The account: deployments by ID (in the order they were added), keys by Key, the rate
    limits' counts (calls per key, operation and deployment, within the last RATE_WINDOW)."""

    def __init__(self, links: Iterable[Link] = ()) -> None:
        self.deployments: dict[str, Deployment] = {}
        self.keys: dict[str, PlatformKey] = {}
        self._calls: dict[tuple[str, str, str | None], collections.deque[float]] = {}
        for link in links:
            self.add(**dict(link.fields), linked=True)

    def __iter__(self) -> Iterator[Deployment]:
        return iter(list(self.deployments.values()))

    def documents(self) -> list[dict[str, Any]]:
        """The deployments as a scenario's `deployments` section writes them, now."""
        at = now()
        return [deployment.document(at) for deployment in self.deployments.values()]

    # -- seeding -------------------------------------------------------------------------

    def add(self, deployment_id: str | None = None, *, tls: dict[str, Any] | None = None, replace: bool = False, **fields: Any) -> Deployment:
        """A deployment (`fields` as `Deployment` takes them, a name `deployment-<id>` unless
        given); AlreadyExists for an ID taken, unless `replace` (a scenario's, which keeps
        a linked deployment linked)."""
        deployment_id = deployment_id or new_deployment_id()
        known = self.deployments.get(deployment_id)
        if known is not None and not replace:
            raise AlreadyExists(f"the deployment {deployment_id} exists already")
        fields.setdefault("name", f"deployment-{deployment_id}")
        fields.setdefault("create_at", now())
        if known is not None and known.linked:
            fields["linked"] = True
        deployment = Deployment(deployment_id, **fields)
        if deployment.status == STARTING:
            deployment.settles_at = now() + deployment.startup
        if tls is not None:
            pending = tls.get("status") == "pending"
            deployment.tls = TlsCertificate(
                tls["tls_type"], tls["expire"], tls.get("cert", ""), tls.get("key", ""), tls.get("cacert", ""),
                now() + deployment.startup if pending else 0.0,
            )  # fmt: skip
        self.deployments[deployment_id] = deployment
        return deployment

    def add_key(self, key: str, secret: str | None = None, *, replace: bool = False, **fields: Any) -> PlatformKey:
        """A Platform API key (a generated secret unless given); AlreadyExists for a Key taken."""
        if key in self.keys and not replace:
            raise AlreadyExists(f"the Platform API key {key} exists already")
        made = PlatformKey(key, secret or secrets.token_urlsafe(24), **fields)
        self.keys[key] = made
        return made

    def authorized(self, key: str, secret: str) -> PlatformKey | None:
        """The key, when `secret` is its own; None otherwise (401)."""
        found = self.keys.get(key)
        return found if found is not None and secrets.compare_digest(found.secret, secret) else None

    def serving(self, deployment_id: str) -> bool:
        """Whether the deployment answers its API: running (a deployment this account does
        not hold is not this account's to stop)."""
        deployment = self.deployments.get(deployment_id)
        return deployment is None or deployment.status_at(now()) == RUNNING

    # -- the API's operations ------------------------------------------------------------

    def listed(self, caller: PlatformKey) -> list[dict[str, Any]]:
        """`GET /deployments`: those of the projects the key reaches."""
        at = self._admit(caller, "deployments", "list", None)
        listed = [deployment.view(at) for deployment in self.deployments.values() if caller.reaches(deployment)]
        self._count(caller, "list", None, at)
        return listed

    def get(self, caller: PlatformKey, deployment_id: str) -> dict[str, Any]:
        at = self._admit(caller, "deployments", "get", deployment_id)
        deployment = self._reached(caller, deployment_id)
        self._count(caller, "get", deployment_id, at)
        return deployment.view(at)

    def start(self, caller: PlatformKey, deployment_id: str) -> dict[str, Any]:
        """A stopped deployment starts: "starting" for its `startup` seconds, then running.
        One not stopped cannot start (422, the documented "invalid request parameters")."""
        at = self._admit(caller, "deployments", "start", deployment_id)
        deployment = self._reached(caller, deployment_id)
        if deployment.status_at(at) != STOPPED:
            raise Invalid(f"the deployment {deployment_id} is {deployment.status_at(at)}, not stopped")
        deployment.status, deployment.settles_at = STARTING, at + deployment.startup
        self._count(caller, "start", deployment_id, at)
        return _operation(deployment, "starting")

    def stop(self, caller: PlatformKey, deployment_id: str) -> dict[str, Any]:
        """A running deployment stops, at once; one not running cannot stop (422)."""
        at = self._admit(caller, "deployments", "stop", deployment_id)
        deployment = self._reached(caller, deployment_id)
        if deployment.status_at(at) != RUNNING:
            raise Invalid(f"the deployment {deployment_id} is {deployment.status_at(at)}, not running")
        deployment.status = STOPPED
        self._count(caller, "stop", deployment_id, at)
        return _operation(deployment, "stopping")

    def tls(self, caller: PlatformKey, deployment_id: str) -> dict[str, Any]:
        """The deployment's certificate; NotFound when it has none (the documents list no
        answer for that: a 404, as for an absent deployment, says there is nothing to show)."""
        at = self._admit(caller, "tls", "tls_get", deployment_id)
        deployment = self._reached(caller, deployment_id)
        if deployment.tls is None:
            raise NotFound(f"the deployment {deployment_id} has no TLS certificate")
        self._count(caller, "tls_get", deployment_id, at)
        return deployment.tls.view(at)

    def set_tls(self, caller: PlatformKey, deployment_id: str, body: Any, *, update: bool) -> dict[str, Any]:
        """`POST` (a deployment without one) or `PUT` (one with one) of a certificate: checked
        (422 "Wrong Properties"), then "pending" for the deployment's `startup` seconds (0:
        running from the next read on)."""
        operation = "tls_update" if update else "tls_create"
        at = self._admit(caller, "tls", operation, deployment_id)
        deployment = self._reached(caller, deployment_id)
        _tls_capable(deployment)
        if update and deployment.tls is None:
            raise Invalid(f"the deployment {deployment_id} has no TLS certificate to update: POST one")
        if not update and deployment.tls is not None:
            raise Invalid(f"the deployment {deployment_id} has a TLS certificate already: PUT to replace it")
        deployment.tls = _certificate(body, at + deployment.startup)
        self._count(caller, operation, deployment_id, at)
        # the answer is the request's: "pending" (as the documents' examples), whatever the startup
        return {**deployment.tls.view(at), "status": "pending"}

    def delete_tls(self, caller: PlatformKey, deployment_id: str) -> None:
        at = self._admit(caller, "tls", "tls_delete", deployment_id)
        deployment = self._reached(caller, deployment_id)
        if deployment.tls is None:
            raise Invalid(f"the deployment {deployment_id} has no TLS certificate")
        deployment.tls = None
        self._count(caller, "tls_delete", deployment_id, at)

    # -- the checks every operation makes, in order --------------------------------------

    def _admit(self, caller: PlatformKey, feature: str, operation: str, deployment_id: str | None) -> float:
        """The key's feature scope (403), then the operation's rate limit (429): a gateway's
        checks, made before the deployment is looked for. The time of the call."""
        if feature not in caller.features:
            raise Forbidden(f"the API key has no access to {feature}")
        at = now()
        calls = self._calls.get((caller.key, operation, deployment_id))
        if calls is not None:
            while calls and calls[0] <= at - RATE_WINDOW:
                calls.popleft()
            if len(calls) >= RATE_LIMITS[operation]:
                raise RateLimited(f"{operation} may be requested {RATE_LIMITS[operation]} times within 60 minutes")
        return at

    def _count(self, caller: PlatformKey, operation: str, deployment_id: str | None, at: float) -> None:
        """A call that succeeded counts against the limit (a refused one changes nothing).
        Counted per deployment: the documents do not say, and a limit of one start an hour
        shared by every deployment of the account would make the API useless for fleets."""
        self._calls.setdefault((caller.key, operation, deployment_id), collections.deque()).append(at)

    def _reached(self, caller: PlatformKey, deployment_id: str) -> Deployment:
        """The deployment (404), in a project the key reaches (403)."""
        deployment = self.deployments.get(deployment_id)
        if deployment is None:
            raise NotFound(f"deployment {deployment_id} not found")
        if not caller.reaches(deployment):
            raise Forbidden(f"the API key has no access to the project {deployment.project_name}")
        return deployment


def _operation(deployment: Deployment, operation: str) -> dict[str, Any]:
    return {"deploymentID": deployment.deployment_id, "deploymentName": deployment.name, "operation": operation}


def _tls_capable(deployment: Deployment) -> None:
    """"Platform API is only available for Dedicated deployment" (`api_platform.md`)."""
    if deployment.deployment_type != "dedicated":
        raise Invalid(f"TLS certificates are managed for dedicated deployments, not {deployment.deployment_type}")


def _certificate(body: Any, settles_at: float) -> TlsCertificate:
    """A certificate from the request's properties (`tlsType`, `cert`, `key`, `cacert` for
    two-way); Invalid for a missing or wrong one."""
    if not isinstance(body, dict):
        raise Invalid("the body must be an object of tlsType, cert, key and cacert")
    tls_type = body.get("tlsType")
    if tls_type not in TLS_TYPES:
        raise Invalid("tlsType must be one-way or two-way")
    expire = check_certificate(body.get("cert"), "cert")
    check_private_key(body.get("key"))
    cacert = body.get("cacert") or ""
    if tls_type == "two-way" or cacert:
        if not cacert:
            raise Invalid("cacert is required for two-way TLS")
        check_certificate(cacert, "cacert")
    return TlsCertificate(tls_type, expire, body["cert"], body["key"], cacert, settles_at)
