"""pytest-emqx-mock: a fake EMQX management REST API for tests."""

from .model.access import ApiKey, BootstrapEntry, DashboardUser
from .model.authn import Authenticator, BuiltinUser, NotAuthorized
from .model.banned import Ban
from .model.broker import Banned, Broker, BrokerConfig, Published
from .model.cluster import Alarm, Node
from .model.scenario import ScenarioError
from .model.sessions import Delivery, Message, QueuedMessage, Session, Subscription
from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, EmqxServer, FakeServerError

__all__ = [
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
    "Session",
    "Subscription",
]
