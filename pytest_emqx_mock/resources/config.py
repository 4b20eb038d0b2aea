"""Config-shaped operations, declared: `GET` answers a root's raw config tree, `PUT` checks the
body (the route's request schema, in the pipeline), lets the operation check what the schema
cannot say, then updates the root (`state.config.RawConfig`) with the body as sent, and
answers the new raw tree. EMQX's config APIs echo the raw config, so a value is answered as it
was sent (`"1m"` stays `"1m"`), not as the broker runs with it.

An operation is declared once (see CONTRIBUTING.md, "Adding a config-shaped operation"):

    serve_config(routes, ConfigOperation("/mqtt/retainer", lambda broker: broker.retained.config))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..http.replies import ApiError
from ..http.routing import Call, Routes
from ..state.errors import Invalid

if TYPE_CHECKING:
    from ..state.broker import Broker
    from ..state.config import RawConfig


@dataclass(frozen=True)
class ConfigOperation:
    """One config root served over HTTP."""

    #: The operation's path, e.g. "/mqtt/retainer" (GET and PUT).
    path: str
    #: Where the broker keeps the root.
    root: Callable[[Broker], RawConfig]
    #: Checks EMQX makes beyond the declared schema, on the body as sent (raise an ApiError);
    #: returns the body EMQX updates with (the body, or the part of it EMQX reads).
    check_body: Callable[[Call, dict[str, Any]], dict[str, Any]] | None = None
    #: EMQX's answer when the root's validator refuses the updated tree; None: the flavour's
    #: usual answer to `Invalid`.
    refused: Callable[[Invalid], ApiError] | None = None


def serve_config(routes: Routes, operation: ConfigOperation) -> None:
    """Register the operation's GET and PUT."""

    @routes.get(operation.path)
    def get_config(call: Call) -> dict[str, Any]:
        return operation.root(call.broker).view()

    @routes.put(operation.path)
    def update_config(call: Call) -> dict[str, Any]:
        # EMQX checks the body, then updates with the unconverted body (`check_schema`
        # without `translate_body`); the pipeline has checked it against the route's schema
        body = {} if call.raw_body is None else call.raw_body
        if operation.check_body is not None:
            body = operation.check_body(call, body)
        def renderable(tree: dict[str, Any]) -> None:
            # never keep a tree this operation's own GET could not answer with: a gap in
            # our checks is then a 500 that changed nothing, not a root broken until a reset
            call.catalog.check_response(f"GET {operation.path}", 200, tree)

        try:
            return operation.root(call.broker).update(dict(body), accept=renderable)
        except Invalid as error:
            if operation.refused is None:
                raise
            raise operation.refused(error) from None
