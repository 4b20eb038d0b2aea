"""Collections declared as data: EMQX's many "a list of named things" APIs (API keys, dashboard
users, authenticators, authorization sources...) served by one set of generic handlers.

A `Collection` names what differs: where it lives in the state, the path parameter naming one
item, how an item is found (raising `NotFound`) and shown, and hooks for the operations where
EMQX does something of its own (create, update, delete, per-node counters). Everything else
(the routes, looking an item up before acting on it, 204 for a bodiless answer, the status
body) is `serve`'s. The declaration holds no HTTP; `serve` registers the operations on a
flavour's `Routes`, so another front door can serve the same declaration with its own
routes and rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Mapping, TypeVar

from ..http.replies import Reply

if TYPE_CHECKING:
    from ..http.routing import Call, Routes
    from ..state.broker import Broker

Item = TypeVar("Item")

#: The rates EMQX reports beside each counter: per-second figures over ticks the fake does not run.
_RATES = {"rate": 0.0, "rate_last5m": 0.0, "rate_max": 0.0}


@dataclass(frozen=True)
class Collection(Generic[Item]):
    #: The collection's path under the flavour's prefix, e.g. `/api_key`.
    path: str
    #: The path parameter naming one item: `{path}/{key}`.
    key: str
    #: Every item, in EMQX's listing order.
    items: Callable[[Broker], Iterable[Item]]
    #: The item named `key`; raises `NotFound` (answered as `errors` says).
    find: Callable[[Broker, str], Item]
    #: An item as the API shows it.
    view: Callable[[Call, Item], Any]
    #: The list answer built from the items' views (a bare array unless EMQX wraps it).
    listing: Callable[[list[Any]], Any] = list
    #: `POST {path}`: the created item's answer, or None for 204.
    create: Callable[[Call], Any] | None = None
    #: `PUT {path}/{key}`: the updated item's answer, or None for 204. Looks the item up itself
    #: (EMQX's check order varies: some check the body first).
    update: Callable[[Call, str], Any] | None = None
    #: `DELETE {path}/{key}`: remove the item (NotFound if absent); answered 204.
    delete: Callable[[Call, str], None] | None = None
    #: `GET {path}/{key}/status`: the item's counters per running node (in answer order).
    node_counters: Callable[[Broker, Item], Mapping[str, Mapping[str, int]]] | None = None
    #: True where EMQX encodes the views itself in the order they are built (jiffy).
    keep_order: bool = False
    #: The answers to the model's refusals for every operation (the not-found code...).
    errors: Mapping[type, tuple[int, str]] = field(default_factory=dict)
    #: Route options every operation shares (e.g. `api_key_block`).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def item_path(self) -> str:
        return f"{self.path}/{{{self.key}}}"

    def _reply(self, body: Any) -> Reply:
        return Reply(204) if body is None else Reply(200, body, keep_order=self.keep_order)

    def serve(self, routes: Routes) -> None:
        """Register the collection's operations (those it declares) on `routes`."""
        options = {**self.options, "errors": self.errors}
        routes.get(self.path, **options)(self.list_items)
        routes.get(self.item_path, **options)(self.get_item)
        if self.create is not None:
            routes.post(self.path, **options)(self.create_item)
        if self.update is not None:
            routes.put(self.item_path, **options)(self.update_item)
        if self.delete is not None:
            routes.delete(self.item_path, **options)(self.delete_item)
        if self.node_counters is not None:
            routes.get(self.item_path + "/status", **options)(self.item_status)

    # -- the generic handlers ---------------------------------------------------------------

    def list_items(self, call: Call) -> Reply:
        return self._reply(self.listing([self.view(call, item) for item in self.items(call.broker)]))

    def get_item(self, call: Call) -> Reply:
        return self._reply(self.view(call, self.find(call.broker, call.path[self.key])))

    def create_item(self, call: Call) -> Reply:
        assert self.create is not None
        return self._reply(self.create(call))

    def update_item(self, call: Call) -> Reply:
        assert self.update is not None
        return self._reply(self.update(call, call.path[self.key]))

    def delete_item(self, call: Call) -> Reply:
        assert self.delete is not None
        self.delete(call, call.path[self.key])
        return Reply(204)

    def item_status(self, call: Call) -> dict[str, Any]:
        """`emqx_resource`'s status of a built-in item: every running node `connected`, its
        counters per node and summed, no resource metrics."""
        assert self.node_counters is not None
        per_node = self.node_counters(call.broker, self.find(call.broker, call.path[self.key]))
        names = next(iter(per_node.values()), {}).keys()
        total = {name: sum(counters[name] for counters in per_node.values()) for name in names}
        return {
            "metrics": {**total, **_RATES},
            "node_error": [],
            "node_metrics": [{"node": node, "metrics": {**counters, **_RATES}} for node, counters in per_node.items()],
            "node_resource_metrics": [{"node": node, "metrics": {}} for node in per_node],
            "node_status": [{"node": node, "status": "connected"} for node in per_node],
            "resource_metrics": {},
            "status": "connected",
        }
