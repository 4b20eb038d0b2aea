"""The EMQX Platform API (`platform`): the account-level API of EMQX Cloud, Key / Secret over
HTTP Basic, HTTPS only (`../shared/reference/emqx4-and-cloud-api-surface.md` §2.1, and
`deployment_manage.md`, `tls_certificate.md`, `api_platform.md` of emqx/cloud-docs).

Its documents write the base address only as `{api}` (copied from the console): the fake
mounts it at `/platform`, apart from the deployment doors (`/api`, `/api/v5`) one server may
serve beside it. Successes are bare JSON (a deployment, a list of them, a start's or stop's
`{"deploymentID", "deploymentName", "operation"}` with 201, a certificate's
`{"tlsType", "expire", "status"}`, a deletion's 204). Errors are documented by status alone
(401 key authentication failed, 403 no permission, 404 deployment not found, 422 invalid
properties, 429 over the rate limit); the documents show no body for them, and every answer
of the API is JSON ("All response content is presented in JSON format"), so the fake answers
the least a client can read: `{"message": "<why>"}`.
"""

from __future__ import annotations

import base64
import binascii
import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from ... import __version__
from ...http.flavour import Flavour
from ...http.principal import Principal
from ...http.replies import ApiError, Reply
from ...http.schemas import SchemaCatalog
from ...state.access import ADMINISTRATOR
from ...state.errors import Invalid, NotFound
from ...state.platform import Forbidden, RateLimited
from .endpoints import deployments, key_auth_failed, tls

if TYPE_CHECKING:
    from werkzeug import Request

    from ...http.routing import Route
    from ...state.broker import Broker
    from ...state.errors import ModelError

SCHEMAS = resources.files(__name__) / "schemas"

#: The model's refusals by status, as the documents list them.
_STATUSES: tuple[tuple[type, int], ...] = ((Forbidden, 403), (RateLimited, 429), (NotFound, 404), (Invalid, 422))


@functools.lru_cache(maxsize=None)
def schemas(edition: str) -> SchemaCatalog:
    return SchemaCatalog(edition, SCHEMAS)


def _key_holder(request: Request, broker: Broker) -> Principal | None:
    """The Platform API key a request's Basic credentials name, its secret right; None for
    anything else (Digest, Bearer, no header, a header that does not decode)."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key, colon, secret = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    with broker.lock:
        found = broker.platform.authorized(key, secret) if colon else None
    return Principal("platform_key", found.key, ADMINISTRATOR) if found is not None else None


class EmqxPlatform(Flavour):
    """The Platform API door."""

    prefix = "/platform"
    cloud = True
    credentials = "platform_key"
    api_docs_at = "/platform/api-docs"

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.catalog = schemas(broker.edition)
        self.routes = [*deployments.routes.routes, *tls.routes.routes]

    def api_docs_frame(self, broker: Broker) -> dict[str, Any]:
        """The Platform publishes no OpenAPI document: this one describes the fake's door (its
        version the fake's), Basic authentication on every operation."""
        return {
            "openapi": "3.0.0",
            "info": {"title": "EMQX Platform API (pytest-emqx-mock)", "version": __version__},
            "servers": [{"url": self.prefix}],
            "security": [{"basicAuth": []}],
            "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
        }

    def authenticate(self, request: Request, route: Route, broker: Broker) -> Principal:
        principal = _key_holder(request, broker)
        if principal is None:
            raise key_auth_failed()
        return principal

    def identify(self, request: Request, broker: Broker) -> Principal | None:
        return _key_holder(request, broker)

    def not_found(self, request: Request) -> Reply:
        return Reply(404, {"message": "Not Found"})

    def refusal(self, error: ApiError) -> Reply:
        return Reply(error.status, {"message": error.message}, dict(error.headers), delay=error.delay)

    def model_error(self, route: Route, error: ModelError) -> Reply:
        status = next((status for kind, status in _STATUSES if isinstance(error, kind)), 500)
        return Reply(status, {"message": str(error)})

    def faulted(self, reply: Reply) -> Reply:
        """A fault's error in the Platform's shape: its status, its message."""
        return Reply(reply.status, {"message": reply.body["message"]})

    def check_response(self, route: Route, reply: Reply) -> None:
        self.catalog.check_response(route.key, reply.status, reply.body)
