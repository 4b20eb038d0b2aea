"""EMQX Cloud's deployment APIs: the EMQX 4.x and EMQX 5 front doors as a Cloud deployment
serves them (`../shared/reference/emqx4-and-cloud-api-surface.md` Part 2).

- `cloud-v4` (a Dedicated/BYOC deployment on 4.x): EMQX 4.4's resources at `/api/<resource>`
  (no `v4` segment: every Cloud example calls `https://<id>.<region>.emqx.cloud:8443/api/clients`),
  minirest's envelope and refusals as the `v4` flavour answers them; no `/status`.
- `cloud-v5`: `/api/v5` with EMQX 5's behaviour; a "dedicated" deployment serves the whole v5
  API, a "serverless" one only what the Serverless documents list (clients, subscriptions,
  publish, built-in database authentication users, built-in database authorization rules), any
  other path being EMQX's 404.

Both are HTTPS only, with one App ID / App Secret per deployment (the apps table, as EMQX 4's
applications) and no default one; HTTP Basic only. One version of the Cloud overview claimed
"digest authentication", a bullet copied from another product's page (§2.3): no Cloud example
or SDK uses it, so Digest, Bearer or anything else is a 401 here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..http.principal import Principal
from ..http.replies import ApiError, RawReply
from ..state.access import ADMINISTRATOR
from .v4 import Emqx4
from .v4 import auth as v4_auth
from .v4.endpoints import status as v4_status
from .v5 import Emqx5
from .v5 import auth as v5_auth

if TYPE_CHECKING:
    from werkzeug import Request

    from ..http.routing import Route
    from ..state.broker import Broker

#: Said in the refusal when the deployment has no App ID at all, which a real one always has.
NO_APP_HINT = (
    "this fake Cloud deployment has no App ID: give one with EmqxServer(app=(app_id, app_secret)), "
    "@pytest.mark.emqx(app=(...)), a scenario's apps, add_app(), or emqx-mock --app ID:SECRET"
)


class CloudV4(Emqx4):
    """A Cloud deployment on EMQX 4.x: the `v4` flavour's routes and rules under `/api`."""

    prefix = "/api"
    cloud = True
    deployment = ("dedicated", "v4")
    api_docs_at = "/api-docs/cloud-v4"
    title = "EMQX Cloud deployment API (EMQX 4.x)"

    def __init__(self, broker: Broker) -> None:
        super().__init__(broker)
        # the deployment API is the management API alone: no node `/status` beside it
        self.routes = [route for route in self.routes if route not in v4_status.routes.routes]

    def unauthorized(self) -> RawReply:
        """minirest's 401 (`UNAUTHORIZED`), the hint added while the deployment has no app."""
        refused = super().unauthorized()
        if len(self.broker.apps):
            return refused
        return RawReply(dataclasses.replace(refused.reply, body=b"UNAUTHORIZED: " + NO_APP_HINT.encode()))


def _app_holder(request: Request, broker: Broker) -> Principal:
    """The app a request's Basic credentials name (the deployment's App ID / App Secret);
    any other scheme, and credentials that name no app, a 401 in EMQX 5's words
    (`emqx_dashboard:authorize/2`). A Basic header that does not decode is cowboy's 400."""
    header = request.headers.get("Authorization", "").strip()
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(401, "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic", dict(v5_auth.CHALLENGE))
    app_id, secret = v5_auth.basic_credentials(credentials.strip())
    with broker.lock:
        app = broker.apps.authorized(app_id, secret)
        no_app = not len(broker.apps)
    if app is None:
        message = NO_APP_HINT if no_app else "Check api_key/api_secret"
        raise ApiError(401, "BAD_API_KEY_OR_SECRET", message, dict(v5_auth.CHALLENGE))
    return Principal("app", app.app_id, ADMINISTRATOR)


class CloudV5(Emqx5):
    """A Dedicated (or BYOC) deployment on EMQX 5: the whole `v5` flavour, App ID / App Secret."""

    cloud = True
    deployment = ("dedicated", "v5")
    credentials = "app"
    #: Named for the door, as every door but EMQX 5's own (`Emqx4.api_docs_at`).
    api_docs_at = "/api-docs/cloud-v5"
    #: A deployment's API has no dashboard listener of its own to serve them from.
    api_spec = False
    title = "EMQX Cloud Dedicated deployment API (EMQX 5)"

    def api_docs_frame(self, broker: Broker) -> dict[str, Any]:
        return v4_auth.app_frame(self.title, broker.config.release, self.prefix)

    def authenticate(self, request: Request, route: Route, broker: Broker) -> Principal:
        return _app_holder(request, broker)

    def identify(self, request: Request, broker: Broker) -> Principal | None:
        try:
            return _app_holder(request, broker)
        except (ApiError, RawReply):
            return None


#: What a Serverless deployment serves (§2.5: `clients_v5.md`, `subscriptions_v5.md`,
#: `publish_v5.md`, `auth_v5.md`, `acl_v5.md`).
SERVERLESS_OPERATIONS = frozenset(
    {
        "GET /clients",
        "GET /clients/{clientid}",
        "DELETE /clients/{clientid}",
        "POST /clients/{clientid}/subscribe",
        "POST /clients/{clientid}/subscribe/bulk",
        "POST /clients/{clientid}/unsubscribe",
        "POST /clients/{clientid}/unsubscribe/bulk",
        "GET /clients/{clientid}/subscriptions",
        "GET /subscriptions",
        "POST /publish",
        "POST /publish/bulk",
        "GET /authentication/{id}/users",
        "POST /authentication/{id}/users",
        "GET /authentication/{id}/users/{user_id}",
        "PUT /authentication/{id}/users/{user_id}",
        "DELETE /authentication/{id}/users/{user_id}",
        "POST /authentication/{id}/import_users",
        *(
            f"{method} /authorization/sources/built_in_database/rules/{owners}"
            for owners in ("clients", "users")
            for method in ("GET", "POST")
        ),
        *(f"{method} /authorization/sources/built_in_database/rules/all" for method in ("GET", "POST", "DELETE")),
        *(
            f"{method} /authorization/sources/built_in_database/rules/{owner}"
            for owner in ("clients/{clientid}", "users/{username}")
            for method in ("GET", "PUT", "DELETE")
        ),
    }
)


class ServerlessV5(CloudV5):
    """A Serverless deployment: the operations its documents list, nothing else; its built-in
    database authenticator and authorization source exist from the start (its API has no way to
    create them); its nodes' client info has the Serverless extras (`BrokerConfig.serverless`)."""

    builtin_database = True
    deployment = ("serverless", "v5")
    serverless = True
    title = "EMQX Cloud Serverless deployment API (EMQX 5)"

    def __init__(self, broker: Broker) -> None:
        super().__init__(broker)
        self.routes = [route for route in self.routes if route.key in SERVERLESS_OPERATIONS]
