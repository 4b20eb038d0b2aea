"""EMQX 4.x's applications (`emqx_mgmt_auth`, the `mqtt_app` table): the AppID / AppSecret
pairs its REST API authenticates with HTTP Basic, each enabled or not (`status`) and valid
until an optional `expired` time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from .access import base62_secret
from .clock import now
from .errors import AlreadyExists, Invalid

#: `management.default_application.id` / `.secret` in `etc/plugins/emqx_management.conf`,
#: added on every start as `emqx_mgmt_auth:add_default_app/0` adds them.
DEFAULT_APP_ID = "admin"
DEFAULT_APP_SECRET = "public"

#: `emqx_misc:is_sane_id/1`'s `?VALID_STR_RE` and its length bounds (0 < length =< 256).
_SANE_ID = re.compile(r"^[A-Za-z0-9]+[A-Za-z0-9-_]*$")
_MAX_ID_LENGTH = 256


@dataclass(eq=False)
class App:
    """One `#mqtt_app{}` record."""

    app_id: str
    secret: str
    name: str = ""
    desc: str = ""
    status: bool = True
    expired: float | None = None  # epoch seconds; None is EMQX's `undefined`: never

    def document(self) -> dict[str, Any]:
        """The app as a scenario's `apps` section writes it."""
        return {"app_id": self.app_id, "secret": self.secret, "name": self.name, "desc": self.desc, "status": self.status, "expired": self.expired}

    def valid(self, at: float | None = None) -> bool:
        """`emqx_mgmt_auth:is_expired/1` (which answers true for an app still valid): no
        expiry, or one not yet past."""
        return self.expired is None or self.expired >= int(now() if at is None else at)


def sane_id_problem(app_id: str) -> str | None:
    """`emqx_misc:is_sane_id/1`'s refusal of an AppID, in its words; None for a sane one."""
    if not 0 < len(app_id) <= _MAX_ID_LENGTH:
        return f"0 < Length =< {_MAX_ID_LENGTH}"
    if not _SANE_ID.match(app_id):
        return f"required: {_SANE_ID.pattern}"
    return None


class Apps:
    """The `mqtt_app` table."""

    def __init__(self) -> None:
        self._apps: dict[str, App] = {}

    def __iter__(self) -> Iterator[App]:
        return iter(list(self._apps.values()))

    def __len__(self) -> int:
        return len(self._apps)

    def __contains__(self, app_id: str) -> bool:
        return app_id in self._apps

    def add(
        self,
        app_id: str,
        secret: str | None = None,
        *,
        name: str = "",
        desc: str = "",
        status: bool = True,
        expired: float | None = None,
        replace: bool = False,
    ) -> App:
        """`emqx_mgmt_auth:add_app/6` (`force_add_app/6` with `replace`: a scenario's app, a
        bootstrapped one): an insane id is refused (Invalid), a taken one unless replaced
        (AlreadyExists, `already_existed`); no secret, or an empty one, gets a generated one."""
        problem = sane_id_problem(app_id)
        if problem is not None:
            raise Invalid(problem)
        if app_id in self._apps and not replace:
            raise AlreadyExists("already_existed")
        app = App(app_id, secret or base62_secret(), name, desc, status, expired)
        self._apps[app_id] = app
        return app

    def authorized(self, app_id: str, secret: str) -> App | None:
        """`emqx_mgmt_auth:is_authorized/2`: the app, when it exists, is enabled, has not
        expired and its secret is exactly `secret`; None otherwise."""
        app = self._apps.get(app_id)
        if app is None or not app.status or not app.valid() or app.secret != secret:
            return None
        return app


def default_apps(default_app: tuple[str, str] | None) -> Apps:
    """The table on a fresh node: the default application (`add_default_app/0`, the AppID and
    AppSecret of `management.default_application`), or none (a Cloud deployment's)."""
    apps = Apps()
    if default_app is not None:
        apps.add(*default_app, name="Default", desc="Application user")
    return apps
