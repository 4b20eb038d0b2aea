"""pytest-emqx-mock: a fake EMQX management REST API for tests."""

#: The package's version, in this one place (the metadata and `emqx-mock --version` read it).
__version__ = "0.1.0"

from .scripting.scenario import ScenarioError
from .scripting.stubs import Stub, StubRequest, StubResponse
from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, EmqxServer, FakeServerError
from .state.access import ApiKey, BootstrapEntry, DashboardUser
from .state.authn import Authenticator, BuiltinUser, NotAuthorized
from .state.banned import Ban
from .state.broker import Banned, Broker, BrokerConfig, Published
from .state.cluster import Alarm, Node
from .state.fields import SeedError
from .state.sessions import Delivery, Message, QueuedMessage, Session, Subscription

__all__ = [
    "__version__",
    "Alarm",
    "ApiKey",
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
