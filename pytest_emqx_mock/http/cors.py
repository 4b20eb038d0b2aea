"""CORS as EMQX's dashboard listener does it when `dashboard.cors = true`.

`emqx_dashboard_middleware:add_cors_flag/2` runs before cowboy's router: when the option is on
and the request carries an `Origin` header (any value, even empty), every response gets
`Access-Control-Allow-Origin: *`, and nothing else. EMQX 5.8.9 answers no preflight: an
`OPTIONS` request goes on to the router like any other, so it gets minirest's 405 with
`allow` on an API path (`minirest_handler:handle/2`) and the 404 page elsewhere, each with
that one header; and it reaches the handler, so the journal records it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from .app import WsgiApp


class Cors:
    """`app` with `Access-Control-Allow-Origin: *` on each response to a request with an Origin."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if "HTTP_ORIGIN" not in environ:
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Access-Control-Allow-Origin", "*")], exc_info)

        return self.app(environ, start)
