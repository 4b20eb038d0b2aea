"""pytest-emqx-mock: a fake EMQX management REST API for tests.

The names below are imported on first use (PEP 562): pytest imports this package for its
plugin in every run where it is installed, and most runs never touch the fake, so importing it
costs no server, schemas or Faker."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The package's version, in this one place (the metadata and `emqx-mock --version` read it).
__version__ = "0.1.0"

if TYPE_CHECKING:  # what editors and mypy see; `_EXPORTS` says where each name is imported from
    from .scripting.scenario import ScenarioError
    from .scripting.stubs import Stub, StubRequest, StubResponse
    from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, EmqxServer, FakeServerError
    from .state.access import ApiKey, BootstrapEntry, DashboardUser
    from .state.apps import App
    from .state.authn import Authenticator, BuiltinUser, NotAuthorized
    from .state.banned import Ban
    from .state.broker import Banned, Broker, BrokerConfig, Published
    from .state.cluster import Alarm, Node
    from .state.fields import SeedError
    from .state.sessions import Delivery, Message, QueuedMessage, Session, Subscription

_EXPORTS = {
    ".scripting.scenario": ("ScenarioError",),
    ".scripting.stubs": ("Stub", "StubRequest", "StubResponse"),
    ".server": ("DEFAULT_API_KEY", "DEFAULT_API_SECRET", "EmqxServer", "FakeServerError"),
    ".state.access": ("ApiKey", "BootstrapEntry", "DashboardUser"),
    ".state.apps": ("App",),
    ".state.authn": ("Authenticator", "BuiltinUser", "NotAuthorized"),
    ".state.banned": ("Ban",),
    ".state.broker": ("Banned", "Broker", "BrokerConfig", "Published"),
    ".state.cluster": ("Alarm", "Node"),
    ".state.fields": ("SeedError",),
    ".state.sessions": ("Delivery", "Message", "QueuedMessage", "Session", "Subscription"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "__version__",
    "Alarm",
    "ApiKey",
    "App",
    "Authenticator",
    "Ban",
    "Banned",
    "BootstrapEntry",
    "Broker",
    "BrokerConfig",
    "BuiltinUser",
    "DashboardUser",
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "Delivery",
    "EmqxServer",
    "FakeServerError",
    "Message",
    "Node",
    "NotAuthorized",
    "Published",
    "QueuedMessage",
    "ScenarioError",
    "SeedError",
    "Session",
    "Stub",
    "StubRequest",
    "StubResponse",
    "Subscription",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})
