"""pytest-emqx-mock: a fake EMQX management REST API for tests."""

from .model.access import ApiKey, BootstrapEntry, DashboardUser
from .model.broker import Broker, BrokerConfig
from .model.sessions import Message, QueuedMessage, Session, Subscription
from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, EmqxServer, FakeServerError

__all__ = [
    "ApiKey",
    "BootstrapEntry",
    "Broker",
    "BrokerConfig",
    "DashboardUser",
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "EmqxServer",
    "FakeServerError",
    "Message",
    "QueuedMessage",
    "Session",
    "Subscription",
]
