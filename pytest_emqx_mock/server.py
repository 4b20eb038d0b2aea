"""The handle: one object that owns the state, the WSGI app and the HTTP server."""

from __future__ import annotations

import contextlib
import email.parser
import errno
import io
import os
import selectors
import socket
import ssl
import threading
import time
import traceback
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Iterable,
    Mapping,
    Sequence,
    TextIO,
    TypeVar,
)

from werkzeug.exceptions import ClientDisconnected, InternalServerError
from werkzeug.serving import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    connection_dropped_errors,
)
from werkzeug.wsgi import LimitedStream, get_content_length

from .flavours import DEPLOYMENTS, FLAVOUR_NAMES, flavour_list, flavour_named
from .http.app import EmqxApp, WsgiApp
from .http.cors import Cors
from .http.flavour import FlavourFactory
from .http.head import EarlyError, read_head
from .http.requestlog import RequestLog
from .scripting import scenario
from .scripting.control import PREFIX as CONTROL_PREFIX
from .scripting.control import ControlApi
from .scripting.faults import Faults, sockets_to_reset
from .scripting.journal import Journal, JournalEntry
from .scripting.stubs import Stubs
from .state.access import (
    ADMINISTRATOR,
    ApiKey,
    BootstrapEntry,
    DashboardUser,
    parse_bootstrap_file,
)
from .state.apps import DEFAULT_APP_ID, DEFAULT_APP_SECRET, App
from .state.auth_mnesia import MnesiaUser
from .state.authn import BUILTIN_DB_ID, Authenticator, BuiltinUser
from .state.authz import Decision, Source
from .state.banned import Ban
from .state.broker import CE, DEFAULT_NODE, Broker, BrokerConfig, Published
from .state.cluster import Alarm, Node
from .state.platform import Deployment, Link, PlatformKey, new_deployment_id
from .state.registry import SEEDINGS
from .state.sessions import Message, Session
from .versions import DEFAULT_VERSION, checked_version, edition_at

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .http.tls import Certificates
    from .state.vocabulary import (
        AlarmFields,
        ApiKeyFields,
        AppFields,
        AuthenticatorFields,
        AuthzSettings,
        AuthzSourceFields,
        BanFields,
        ClientFields,
        DeploymentFields,
        MnesiaLogin,
        PlatformKeyFields,
        PublishFields,
        RetainedFields,
        RulesOwner,
        SubscribeOptions,
        UserFields,
    )

_Made = TypeVar("_Made")

#: The administrator API key every fake starts with unless told otherwise.
DEFAULT_API_KEY = "pytest-emqx-mock"
DEFAULT_API_SECRET = "pytest-emqx-mock-secret"


class PortInUse(OSError):
    """The fake cannot listen: another process holds its host and port."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} on {host} is in use")
        self.host = host
        self.port = port


class FakeServerError(AssertionError):
    """An exception raised inside the fake while it served a request (a bug in the fake, or a
    response that broke its schema); the original is its `__cause__`."""

    @classmethod
    def about(cls, errors: Sequence[BaseException]) -> FakeServerError:
        """The error for what `take_errors` gave: the first exception as its cause."""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        error = cls(f"the fake EMQX server failed while serving a request{more}: {errors[0]}")
        error.__cause__ = errors[0]
        return error


#: cowboy's defaults, which EMQX's dashboard listener keeps (`cowboy_http`): how long a
#: kept-alive connection waits for its next request's head, whole (`request_timeout`), how
#: long a request's body may pause (`idle_timeout`), how many requests one connection serves
#: (`max_keepalive`), how much of a body no handler read is skipped to serve the next request
#: rather than closing the connection (`max_skip_body_length`), and how long a connection
#: closing on an error goes on reading what the client still sends (`linger_timeout`), so that
#: the answer is not lost to a TCP reset.
REQUEST_TIMEOUT = 5.0
IDLE_TIMEOUT = 60.0
MAX_KEEPALIVE = 1000
MAX_SKIP_BODY = 1_000_000
LINGER_TIMEOUT = 1.0


class _MalformedChunk(BaseException):
    """A chunked request body that does not parse. cowboy's connection process decodes the
    body, not the handler: it terminates the stream, stopping the handler wherever it is
    (`cowboy_http:parse_body/2`). So this is no Exception, which the app would answer as its own
    failure; it unwinds the app, and the connection answers it."""


class _BodyLost(BaseException):
    """The connection failed while a request's body came: it paused longer than `idle_timeout`,
    or the client went away. cowboy's connection process terminates (`cowboy_http:timeout/2`,
    or `loop/1` on the closed socket), and the handler waiting for the body with it: no answer,
    and nothing the request would have done happens. No Exception either, like _MalformedChunk."""


#: A connection that fails: Werkzeug's (a reset, a timeout, a TLS connection ended without its
#: close_notify), or its TLS records failing (a bad record: OpenSSL sends its alert and the
#: connection is over, as with ssl's answer to one in EMQX's listeners).
_DROPPED: tuple[type[BaseException], ...] = (*connection_dropped_errors, ssl.SSLError)
_CONNECTION_LOST: tuple[type[BaseException], ...] = (*_DROPPED, _BodyLost)


class _Body(LimitedStream):
    """A body of a known length as the app reads it, its connection failing raising _BodyLost."""

    def on_disconnect(self, error: Exception | None = None) -> None:
        raise _BodyLost() from error


class _ChunkedBody(io.RawIOBase):
    """A chunked request body as the app reads it (Werkzeug's `DechunkedInput`), a chunk that
    does not parse raising _MalformedChunk, the connection failing _BodyLost."""

    def __init__(self, chunks: io.RawIOBase) -> None:
        super().__init__()
        self._chunks = chunks

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        try:
            return self._chunks.readinto(buffer)
        except OSError as error:
            if type(error) is not OSError:  # a subclass is the socket's (a timeout, a reset)
                raise _BodyLost() from error
            raise _MalformedChunk(str(error)) from error  # `DechunkedInput`'s own refusal


def _tokens(header: str | None) -> set[str]:
    return {token.strip().lower() for token in header.split(",")} if header else set()


class _Handler(WSGIRequestHandler):
    """One connection, served as cowboy serves HTTP/1.1 (`cowboy_http`): kept alive unless the
    request says `connection: close` (HTTP/1.0: unless it says `keep-alive`), pipelined
    requests answered in order, a body no handler read skipped before the next request. Werkzeug
    builds the environ; the exchange is ours, because Werkzeug's closes every connection.

    No access log: a user's test output stays clean. The head and the first piece of the body
    go out in one write, so no Nagle delay holds a body back behind its headers."""

    disable_nagle_algorithm = True  # a trickled body is written in pieces
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.served = 0

    def handle_one_request(self) -> None:
        """The next request on the connection: its head read as cowboy reads it (`http.head`),
        refused as cowboy refuses it, else served."""
        if not self.server.waiting(self.connection):  # the server is stopping
            self.close_connection = True
            return
        deadline = time.monotonic() + REQUEST_TIMEOUT  # for the whole head, as cowboy's timer

        def before_read() -> None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no request head before request_timeout")
            self.connection.settimeout(left)

        self.close_connection = True  # until a request is served and says otherwise
        try:
            head = read_head(self.rfile, lambda: self.server.busy(self.connection), before_read)
        except EarlyError as error:
            self._close_with(error.response())
            return
        except _DROPPED:  # no request before the timeout, or the client went away
            return
        if head is None:  # the client closed the connection between requests
            return
        self.command, self.path, self.request_version = head.method, head.target, head.version
        self.requestline = f"{head.method} {head.target} {head.version}"
        # as `http.client.parse_headers` parses them, without its own limits
        self.headers = email.parser.Parser(_class=self.MessageClass).parsestr(head.header_block.decode("latin-1"))
        if head.version == "HTTP/1.1" and self.headers.get("Expect", "").lower() == "100-continue":
            self.handle_expect_100()
        self.run_wsgi()

    def _close_with(self, response: bytes) -> None:
        """Send `response` and close as `cowboy_http:terminate/2` does: the write side shut, then
        what the client still sends read and dropped until it closes, `linger_timeout` at most."""
        self.close_connection = True
        deadline = time.monotonic() + LINGER_TIMEOUT
        with contextlib.suppress(OSError):  # the client went away: nothing to answer
            self.wfile.write(response)
            self.connection.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break

    def _keeps_alive(self) -> bool:
        """`cowboy_http:maybe_req_close/3`, and the last request `max_keepalive` allows."""
        connection = _tokens(self.headers.get("Connection"))
        asked = "keep-alive" in connection if self.request_version == "HTTP/1.0" else "close" not in connection
        return asked and self.served < MAX_KEEPALIVE

    def run_wsgi(self) -> None:
        self.served += 1
        self.connection.settimeout(IDLE_TIMEOUT)
        keep_alive = self._keeps_alive()
        environ = self.make_environ()
        if environ.get("wsgi.input_terminated"):  # a chunked body ends by itself
            environ["wsgi.input"] = _ChunkedBody(environ["wsgi.input"])
        else:
            environ["wsgi.input"] = _Body(environ["wsgi.input"], get_content_length(environ) or 0)
        no_body = self.command == "HEAD"
        head = b""
        sent = False

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            nonlocal head, keep_alive
            if exc_info and sent:  # too late to replace the response
                raise exc_info[1].with_traceback(exc_info[2])
            code = int(status.split(None, 1)[0])
            names = {name.lower() for name, _ in headers}
            framed = "content-length" in names or no_body or code in (204, 304)
            keep_alive = keep_alive and framed  # else the body ends where the connection does
            lines = [f"{self.protocol_version} {status}", f"Server: {self.version_string()}", f"Date: {self.date_time_string()}"]
            lines += [f"{name}: {value}" for name, value in headers]
            if not keep_alive:
                lines.append("Connection: close")
            elif self.request_version == "HTTP/1.0":
                lines.append("Connection: keep-alive")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            return write

        def write(data: bytes) -> None:
            nonlocal sent
            if no_body:
                data = b""
            if not sent:
                data, sent = head + data, True
            if data:
                self.wfile.write(data)

        try:
            self._respond(self.server.app, environ, start_response, write)
        except _CONNECTION_LOST:  # a transport fault, or the client went away
            self.close_connection = True
            return
        except _MalformedChunk:
            # `cowboy_http:stream_terminate/3` for a connection_error: a 400 with an empty body
            # unless the response has begun, then the connection closes (`terminate/2`)
            if not sent:
                start_response("400 Bad Request", [("content-length", "0")])
            self._close_with(b"" if sent else head)
            return
        except Exception:
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            if sent:
                self.close_connection = True
                return
            self._respond(InternalServerError(), environ, start_response, write)
        self.close_connection = not (self._skip_body(environ["wsgi.input"]) and keep_alive)

    @staticmethod
    def _respond(app: Any, environ: dict[str, Any], start_response: Any, write: Callable[[bytes], None]) -> None:
        chunks = app(environ, start_response)
        try:
            for chunk in chunks:
                write(chunk)
            write(b"")  # the head, when the body was empty
        finally:
            if hasattr(chunks, "close"):
                chunks.close()

    @staticmethod
    def _skip_body(body: Any) -> bool:
        """Read what is left of the request's body, up to `max_skip_body_length`; False when
        more is left (or the body is broken): the connection is closed instead."""
        try:
            skipped = 0
            while chunk := body.read(65536):
                skipped += len(chunk)
                if skipped > MAX_SKIP_BODY:
                    return False
            return True
        except (OSError, ValueError, ClientDisconnected, _MalformedChunk, _BodyLost):
            return False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error" and self.server.verbose:
            super().log(type, message, *args)


class _Server(ThreadedWSGIServer):
    """Werkzeug's threaded server, one thread per connection, woken through a socket pair to
    stop at once instead of after its 0.5 s shutdown poll. Stopping closes the connections
    waiting for a request and lets those in the middle of one answer it, then close.

    With an SSL context, each connection's TLS handshake is made on its own thread (Werkzeug
    would make it in `accept`, on the serving thread, where one client that never finishes its
    handshake would hold every other back), within `request_timeout`, as cowboy's ranch_ssl
    listener bounds it by its `handshake_timeout`."""

    block_on_close = False  # do not wait for the connections' threads on close
    verbose = False

    def __init__(self, listener: socket.socket, app: Any, ssl_context: ssl.SSLContext | None = None) -> None:
        self._wake_read, self._wake_write = socket.socketpair()
        self._stopping = False
        #: each open connection: True while it waits for its next request
        self._connections: dict[socket.socket, bool] = {}
        self._connections_lock = threading.Lock()
        host, port = listener.getsockname()[:2]
        super().__init__(host, port, app, _Handler, fd=listener.fileno())
        self.ssl_context = ssl_context  # after Werkzeug's own: the environ's `wsgi.url_scheme` follows it

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopping:
                        self._handle_request_noblock()  # type: ignore[attr-defined]  # socketserver's own step

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections[request] = True
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve a connection on its thread, after its TLS handshake when the server has TLS: a
        handshake that fails or times out ends the connection, unanswered."""
        if self.ssl_context is not None:
            raw = request
            try:  # stop() shuts the raw socket meanwhile: the handshake fails
                raw.settimeout(REQUEST_TIMEOUT)
                request = self.ssl_context.wrap_socket(raw, server_side=True)
            except (OSError, ValueError):  # a failed wrap closes the socket
                request = None
            with self._connections_lock:
                self._connections.pop(raw, None)
                if request is not None and not self._stopping:
                    self._connections[request] = True
                elif request is not None:
                    request.close()
                    request = None
            if request is None:
                return
        super().process_request_thread(request, client_address)

    def waiting(self, connection: socket.socket) -> bool:
        """The connection waits for its next request; False once the server is stopping."""
        with self._connections_lock:
            self._connections[connection] = True
            return not self._stopping

    def busy(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections[connection] = False

    def shutdown_request(self, request: Any) -> None:
        """A connection a "reset" fault met is closed at once, SO_LINGER 0: a TCP reset."""
        with self._connections_lock:  # stop() must not shut a closed socket's reused descriptor
            self._connections.pop(request, None)
            if request in sockets_to_reset:
                sockets_to_reset.discard(request)
                self.close_request(request)
                return
            super().shutdown_request(request)

    def stop(self) -> None:
        """Wake the serving loop and let it end (the caller joins its thread, then closes:
        closing the wake-up pair from the loop raced with this write); close the connections
        that wait for a request: their threads see the end of their input."""
        with self._connections_lock:
            self._stopping = True
            idle = [connection for connection, waiting in self._connections.items() if waiting]
            for connection in idle:
                try:  # the socket's own shutdown: an SSLSocket's would drop its TLS state under its thread
                    socket.socket.shutdown(connection, socket.SHUT_RDWR)
                except OSError:  # the client closed it already
                    pass
        self._wake_write.send(b"\0")

    def close(self) -> None:
        self.server_close()
        self._wake_read.close()
        self._wake_write.close()


class ServerThread:
    """A WSGI app served on a background thread by the quiet, fast-stopping server."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        try:
            listener = socket.create_server((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise
        try:
            self.server = _Server(listener, app, ssl_context)
        finally:
            listener.close()  # the server serves a duplicate of it
        self.port = int(self.server.port)
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"emqx-mock:{self.port}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.stop()
        self.thread.join()
        self.server.close()


def load_bootstrap_file(path: str | os.PathLike[str], edition: str = CE) -> list[BootstrapEntry]:
    """Read an EMQX bootstrap API-key file (`key:secret[:role]` per line); a line EMQX would
    refuse ends the load with a BootstrapFileWarning, as EMQX logs an error and goes on."""
    return parse_bootstrap_file(Path(path).read_text(encoding="utf-8"), BrokerConfig(edition=edition).api_key_roles, str(path))


class EmqxServer:
    """A fake EMQX 5 cluster behind a real HTTP server on 127.0.0.1.

    >>> with EmqxServer() as emqx:
    ...     emqx.add_client("sensor-1")
    ...     requests.get(emqx.api_url + "/clients", auth=emqx.auth)
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        edition: str | None = None,
        version: str = DEFAULT_VERSION,
        nodes: Sequence[str] = (DEFAULT_NODE,),
        bootstrap_api_keys: Iterable[BootstrapEntry] | str | os.PathLike[str] | None = None,
        admin_api_key: tuple[str, str] | None = (DEFAULT_API_KEY, DEFAULT_API_SECRET),
        seed: int | None = None,
        validate_responses: bool = True,
        journal_capacity: int = 10_000,
        journal_max_bytes: int = 16 * 1024 * 1024,
        control_api: bool = True,
        flavours: Sequence[FlavourFactory] | None = None,
        flavour: str | Sequence[str] | None = None,
        cors: bool = False,
        swagger_support: bool = True,
        request_log: TextIO | None = None,
        https: bool | None = None,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        app: tuple[str, str] | None = None,
        deployment: str = "dedicated",
        platform_key: tuple[str, str] | None = None,
    ) -> None:
        """`flavour`: the front doors to serve side by side over the one state, by name ("v5",
        the default, EMQX 5's `/api/v5`; "v4", EMQX 4.4's `/api/v4`), one or a list (or names
        separated by commas); `api_url` is the first one's. `flavours`: the same as Flavour
        classes taking the broker (a door of your own). `cors`: as EMQX's `dashboard.cors =
        true` (`http.cors`). `swagger_support`: as EMQX's `dashboard.swagger_support`, each
        flavour's OpenAPI document and its page (`/api-docs/swagger.json`,
        `/api-docs/index.html`; `http.apidocs`). `request_log`: a stream to write one line per
        request to (`http.requestlog`). `https`: serve HTTPS (`http.tls`; the default: only
        when a flavour has nothing else, as the Cloud ones), with the certificate in `cert_file`
        (its key in `key_file`, or in the same file), else with one made for `localhost` and
        `127.0.0.1` by a CA whose certificate is `ca_file`. `app`: the application (AppID,
        AppSecret) every reset starts with: EMQX 4's `management.default_application`
        (`admin`/`public` unless given), a Cloud deployment's App ID / App Secret (none unless
        given: every call is refused until one is added). `deployment`: a `cloud-v5`
        deployment's kind, "dedicated" (the whole EMQX 5 API) or "serverless" (`flavours.cloud`).
        `platform_key`: the EMQX Platform API key (Key, Secret) every reset starts with, reaching
        every feature and project (the `platform` flavour has none unless given). `version`: the
        EMQX line to answer as, "5.8" (the default), "6.0", "6.1", "6.2" or "6.3" (`versions`);
        `edition`: "ce" (the default) or "ee" at 5.8, from 6.0 the one edition, the enterprise
        build (edition="ce" is a ValueError there)."""
        edition = edition_at(checked_version(version), edition)
        if flavour is not None and flavours is not None:
            raise ValueError("give flavour (names) or flavours (classes), not both")
        if flavours is None:
            flavours = [flavour_named(name, deployment) for name in (flavour_list(flavour) if flavour is not None else FLAVOUR_NAMES[:1])]
        if isinstance(bootstrap_api_keys, (str, os.PathLike)):
            bootstrap_api_keys = load_bootstrap_file(bootstrap_api_keys, edition)
        entries = list(bootstrap_api_keys or ())
        if admin_api_key is not None:
            entries.insert(0, BootstrapEntry(*admin_api_key, ADMINISTRATOR))
        self.admin_api_key = admin_api_key
        self.host = host
        self._requested_port = port
        cloud = any(getattr(factory, "cloud", False) for factory in flavours)
        if app is None and not cloud:
            app = (DEFAULT_APP_ID, DEFAULT_APP_SECRET)
        config = BrokerConfig(
            edition=edition,
            version=version,
            nodes=nodes,
            bootstrap_api_keys=tuple(entries),
            seed=seed,
            default_app=app,
            builtin_database=any(getattr(factory, "builtin_database", False) for factory in flavours),
            platform_key=platform_key,
            serverless=any(getattr(factory, "serverless", False) for factory in flavours),
        )
        self.broker = Broker(config)
        self.journal = Journal(journal_capacity, journal_max_bytes)
        self._errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        self.app = EmqxApp(
            self.broker,
            flavours=flavours,
            journal=self.journal,
            validate_responses=validate_responses,
            on_error=self._record_error,
            swagger_support=swagger_support,
        )
        #: Faults to inject: `faults.error(...)`, `faults.delay(...)`, `faults.node_down(...)`...
        self.faults: Faults = self.app.faults
        #: Answers of the test's own, on any method and path: listed, removed, cleared here.
        self.stubs: Stubs = self.app.stubs
        #: Set a stub (`Stubs.stub`): `stub("GET /rules", json=[])`, `stub("GET /rules", handler)`,
        #: `stub("GET /rules", responses=[...])`. It answers in place of the handler (the request
        #: changes nothing) or of the 404/405 (no credentials needed).
        self.stub = self.stubs.stub
        self._control_api = control_api
        #: What the HTTP server serves: the EMQX app, behind the control API (`/_mock`) unless
        #: disabled, then the CORS and request-log layers when asked for (each costs nothing otherwise).
        self.wsgi_app: WsgiApp = ControlApi(self, self.app, on_error=self._record_error) if control_api else self.app
        if cors:
            self.wsgi_app = Cors(self.wsgi_app)
        if request_log is not None:
            self.wsgi_app = RequestLog(self.wsgi_app, self.journal, request_log, CONTROL_PREFIX)
        if https is False and cloud:
            raise ValueError("a Cloud deployment serves HTTPS only: https=False cannot be honoured")
        if not (https or cloud) and (cert_file is not None or key_file is not None):
            raise ValueError("a certificate for a server without HTTPS: give https=True too")
        self.https = bool(https or cloud)
        self.tls: Certificates | None = None
        if self.https:
            # imported here: a plain HTTP server does not import it
            from .http.tls import certificates

            self.tls = certificates(host, *(None if path is None else os.fspath(path) for path in (cert_file, key_file)))
        self._serving: ServerThread | None = None
        doors = [flavour.deployment for flavour in self.app.flavours if flavour.deployment is not None]
        #: The ID of the Cloud deployment this server's Cloud door is (None: it serves none), as
        #: an EMQX Platform account lists it (`link_deployment`; a server serving the `platform`
        #: flavour too lists its own).
        self.deployment_id: str | None = new_deployment_id() if doors else None
        self._deployment_kind = doors[0] if doors else None
        #: The servers linked (`link_deployment`), by deployment ID, with their gates.
        self._links: dict[str, tuple[EmqxServer, Callable[[], bool]]] = {}
        if doors and self._serves_platform:
            self.link_deployment(self)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> EmqxServer:
        if self._serving is not None:
            raise RuntimeError("the fake EMQX server is already running")
        self._serving = ServerThread(self.wsgi_app, self.host, self._requested_port, self.tls.context if self.tls else None)
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def reset(self) -> None:
        """Back to the initial state: bootstrap keys, the default dashboard user, the nodes;
        empty journal, no faults, no stubs, no recorded errors."""
        self.faults.reset()  # first: ending a cluster fault touches the nodes the reset replaces
        self.stubs.reset()
        self.broker.reset()
        self.journal.clear()
        with self._errors_lock:
            self._errors.clear()

    def __enter__(self) -> EmqxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._serving is not None

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("the fake EMQX server is not running")
        return self._serving.port

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> str | None:
        """The file of the CA that signed the server's certificate, to verify it with
        (`requests`' `verify=`, `ssl.create_default_context(cafile=...)`, `curl --cacert`);
        None over plain HTTP, or with a certificate of the user's own."""
        return self.tls.ca_file if self.tls else None

    @property
    def api_url(self) -> str:
        return self.url + self.app.flavours[0].prefix

    @property
    def control_url(self) -> str:
        """The control API's root (`GET` it for the list of endpoints)."""
        if not self._control_api:
            raise RuntimeError("this server was started without the control API")
        return f"{self.url}{CONTROL_PREFIX}"

    @property
    def edition(self) -> str:
        return self.broker.edition

    @property
    def version(self) -> str:
        """The EMQX line the fake answers as ("5.8", "6.3"...; its release: `broker.config.release`)."""
        return self.broker.config.version

    # -- credentials -------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        if self.admin_api_key is None:
            raise RuntimeError("this server was started without the ready administrator key")
        return self.admin_api_key[0]

    @property
    def api_secret(self) -> str:
        if self.admin_api_key is None:
            raise RuntimeError("this server was started without the ready administrator key")
        return self.admin_api_key[1]

    @property
    def auth(self) -> tuple[str, str]:
        """The ready credentials of the first front door, as `requests`' `auth=`: EMQX 5's
        administrator key `(api_key, api_secret)`, or EMQX 4's and a Cloud deployment's
        application `(app_id, app_secret)`: the one every reset starts with, else the only one
        added."""
        if self.app.flavours[0].credentials == "api_key":
            return (self.api_key, self.api_secret)
        if self.app.flavours[0].credentials == "platform_key":
            return self._platform_credentials()
        if self.broker.config.default_app is not None:
            return self.broker.config.default_app
        apps = list(self.broker.apps)
        if len(apps) != 1:
            raise RuntimeError(
                f"{len(apps)} applications and none ready to call with: give EmqxServer(app=(app_id, "
                "app_secret)) (the marker's app=, emqx-mock --app), or add one with add_app()"
            )
        return (apps[0].app_id, apps[0].secret)

    def _platform_credentials(self) -> tuple[str, str]:
        """The Platform API key every reset starts with, else the only one added."""
        if self.broker.config.platform_key is not None:
            return self.broker.config.platform_key
        keys = list(self.broker.platform.keys.values())
        if len(keys) != 1:
            raise RuntimeError(
                f"{len(keys)} Platform API keys and none ready to call with: give EmqxServer(platform_key=(key, secret)) "
                "(the marker's platform_key=, emqx-mock --platform-key), or add one with add_platform_key()"
            )
        return (keys[0].key, keys[0].secret)

    # -- the EMQX Platform account ---------------------------------------------------------

    @property
    def _serves_platform(self) -> bool:
        return any(flavour.credentials == "platform_key" for flavour in self.app.flavours)

    def add_deployment(self, deployment_id: str | None = None, **fields: Unpack[DeploymentFields]) -> Deployment:
        """A deployment of the EMQX Platform account, served by no server (its API lists it,
        starts and stops it): a generated ID (a letter and 7 hex digits) unless given, running,
        dedicated, v5 unless told otherwise; SeedError for a bad field or an ID taken."""
        given = fields if deployment_id is None else {"deployment_id": deployment_id, **fields}
        return self._seeded("deployments", self.broker.add_deployment, given)

    def add_platform_key(self, key: str, **fields: Unpack[PlatformKeyFields]) -> PlatformKey:
        """An EMQX Platform API key: a generated `secret` unless given, every feature
        ("deployments", "tls") and project unless `features` and `projects` narrow it (a call
        beyond them is a 403)."""
        return self._seeded("platform_keys", self.broker.add_platform_key, {"key": key, **fields})

    def link_deployment(self, server: EmqxServer, **fields: Unpack[DeploymentFields]) -> Deployment:
        """List `server`'s Cloud deployment (its `cloud-v4` or `cloud-v5` door: its ID, kind
        and version) in this server's EMQX Platform account, with `fields` (name, project_name,
        region...), from now on and after every reset. Stopping it through the Platform API
        makes `server`'s Cloud door answer as a stopped deployment's host does: every request
        meets a TCP reset, until a start brings it back with its state intact."""
        if server.deployment_id is None or server._deployment_kind is None:
            raise ValueError("that server serves no Cloud deployment door (cloud-v4, cloud-v5) to link")
        if not self._serves_platform:
            raise ValueError("this server serves no EMQX Platform API (flavour \"platform\") to list the deployment")
        deployment_type, version = server._deployment_kind
        given = {**fields, "deployment_id": server.deployment_id, "deployment_type": deployment_type, "version": version}
        checked = SEEDINGS["deployments"].check(self.broker.config, given)
        deployment_id = server.deployment_id
        with self.broker.lock:
            if any(known.deployment_id == deployment_id for known in self.broker.config.deployment_links):
                raise ValueError(f"the deployment {deployment_id} is linked already")
            deployment = self.broker.platform.add(**checked, replace=True, linked=True)
            # every reset lists it as created now, not at the reset
            self.broker.config.deployment_links.append(Link(tuple({**checked, "create_at": deployment.create_at}.items())))
        broker = self.broker
        gate = lambda: broker.platform.serving(deployment_id)  # noqa: E731
        server.app.deployment_gates.append(gate)
        self._links[deployment_id] = (server, gate)
        return deployment

    def unlink_deployment(self, server: EmqxServer) -> None:
        """Undo `link_deployment`: the account lists `server`'s deployment no more, and no
        longer decides whether it answers."""
        if server.deployment_id not in self._links:
            raise ValueError("that server's deployment is not linked to this one")
        deployment_id = server.deployment_id
        linked, gate = self._links.pop(deployment_id)
        linked.app.deployment_gates.remove(gate)
        with self.broker.lock:
            links = self.broker.config.deployment_links
            links[:] = [link for link in links if link.deployment_id != deployment_id]
            self.broker.platform.deployments.pop(deployment_id, None)

    # -- errors inside the fake ----------------------------------------------------------

    def _record_error(self, error: BaseException) -> None:
        with self._errors_lock:
            self._errors.append(error)

    @property
    def errors(self) -> list[BaseException]:
        with self._errors_lock:
            return list(self._errors)

    def take_errors(self) -> list[BaseException]:
        """The exceptions raised inside the fake since the last reset or take, oldest first,
        each with its traceback; forgotten here."""
        with self._errors_lock:
            errors, self._errors = self._errors, []
        return errors

    def check_errors(self) -> None:
        """Raise FakeServerError for the first exception raised inside the fake since the
        last reset (and forget them all)."""
        errors = self.take_errors()
        if errors:
            raise FakeServerError.about(errors)

    def check_expectations(self) -> None:
        """Raise AssertionError for faults and stubs set with `expect=True` that never triggered."""
        missed = [
            f"expected {rules} never triggered: " + "; ".join(str(rule) for rule in untriggered)
            for rules, untriggered in (("faults", self.faults.untriggered()), ("stubs", self.stubs.untriggered()))
            if untriggered
        ]
        if missed:
            raise AssertionError("\n".join(missed))

    def unmatched_requests(self) -> list[JournalEntry]:
        """The requests to paths the fake does not serve (its 404s) that no stub answered, oldest first."""
        return [entry for entry in self.journal.entries() if entry.operation is None and entry.status == 404 and entry.stub is None]

    # -- seeding -------------------------------------------------------------------------

    def _seeded(self, kind: str, make: Callable[..., _Made], fields: Mapping[str, Any], *, counted: bool = False) -> _Made:
        """`make(**fields)`, the fields checked first by the seeding entry `kind` under this
        fake's config (`Seeding.call`)."""
        return SEEDINGS[kind].call(self.broker.config, make, fields, counted=counted)

    def add_client(self, clientid: str | None = None, **fields: Unpack[ClientFields]) -> Session:
        """Seed a client session: any field a scenario's client takes (see `Broker.add_client`
        and `ClientFields`), checked; SeedError names a bad one, and nothing is seeded."""
        return self._seeded("clients", self.broker.add_client, fields if clientid is None else {"clientid": clientid, **fields})

    def add_clients(self, count: int, **fields: Unpack[ClientFields]) -> list[Session]:
        """Seed `count` clients sharing `fields` (checked once), each with its own generated
        clientid (a `clientid` among them is a SeedError)."""
        return self._seeded("clients", self.broker.add_clients, {"count": count, **fields}, counted=True)

    def add_api_key(self, name: str, **options: Unpack[ApiKeyFields]) -> ApiKey:
        return self._seeded("api_keys", self.broker.add_api_key, {"name": name, **options})

    def add_app(self, app_id: str, **fields: Unpack[AppFields]) -> App:
        """An EMQX 4.x application (AppID / AppSecret) the v4 flavour authenticates: a
        generated `secret` unless given, `status` False to disable it, `expired` (a time) to
        make it expire; SeedError for an AppID EMQX refuses or one taken."""
        return self._seeded("apps", self.broker.add_app, {"app_id": app_id, **fields})

    def add_user(self, username: str, password: str, **options: Unpack[UserFields]) -> DashboardUser:
        return self._seeded("users", self.broker.add_user, {"username": username, "password": password, **options})

    def connect(self, clientid: str | None = None, *, password: str | None = None, **fields: Unpack[ClientFields]) -> Session:
        """A client connects: like `add_client`, refused with `Banned` while a ban matches,
        then with `NotAuthorized` when the authentication chain refuses its password."""
        given = fields if clientid is None else {"clientid": clientid, **fields}
        return self._seeded("connect", self.broker.connect, {**given, "password": password})

    def add_authenticator(self, password_hash_algorithm: Mapping[str, Any] | None = None, **options: Unpack[AuthenticatorFields]) -> Authenticator:
        given = options if password_hash_algorithm is None else {"password_hash_algorithm": password_hash_algorithm, **options}
        return self._seeded("authenticators", self.broker.add_authenticator, given)

    def add_authn_user(self, user_id: str, password: str, *, is_superuser: bool = False, authenticator: str = BUILTIN_DB_ID) -> BuiltinUser:
        fields = {"user_id": user_id, "password": password, "is_superuser": is_superuser, "authenticator": authenticator}
        return self._seeded("authn_users", self.broker.add_authn_user, fields)

    def add_auth_mnesia_user(self, password: str, **login: Unpack[MnesiaLogin]) -> MnesiaUser:
        """An EMQX 4.4 `emqx_auth_mnesia` user of `clientid=` or `username=`: a client that
        connects with that login must give its password (the v4 `/auth_clientid` and
        `/auth_username` list it)."""
        return self._seeded("auth_mnesia_users", self.broker.add_mnesia_user, {"password": password, **login})

    def add_auth_mnesia_acl(self, topic: str, action: str, access: str, **login: Unpack[MnesiaLogin]) -> None:
        """An EMQX 4.4 `emqx_auth_mnesia` ACL rule of `clientid=`, `username=` or (neither)
        `$all`: `action` pub, sub or pubsub, `access` allow or deny."""
        fields = {"topic": topic, "action": action, "access": access, **login}
        self._seeded("auth_mnesia_acl", self.broker.add_mnesia_acl, fields)

    def set_auth_mnesia_password_hash(self, password_hash: str) -> None:
        """`auth.mnesia.password_hash`: plain, md5, sha, sha256 (after a reset) or sha512."""
        self._seeded("auth_mnesia_password_hash", self.broker.set_mnesia_password_hash, {"password_hash": password_hash})

    def disconnect(self, clientid: str) -> Session | None:
        """A client disconnects; its session stays while its expiry interval allows."""
        return self._seeded("disconnect", self.broker.disconnect, {"clientid": clientid})

    def expire(self, clientid: str) -> None:
        """A disconnected session expires and is discarded."""
        self._seeded("expire", self.broker.expire, {"clientid": clientid})

    def publish(self, topic: str, payload: str | bytes = b"", **options: Unpack[PublishFields]) -> Published:
        """Publish as the API does (or as an MQTT client, with `from_clientid=`)."""
        return self._seeded("publish", self.broker.publish, {"topic": topic, "payload": payload, **options})

    def subscribe(self, clientid: str, topic: str, qos: int = 0, **options: Unpack[SubscribeOptions]) -> Decision:
        """The MQTT client subscribes: authorized as EMQX authorizes a SUBSCRIBE packet (the
        REST subscribe is never authorized); a denied filter gets no subscription."""
        return self._seeded("subscribe", self.broker.subscribe, {"clientid": clientid, "topic": topic, "qos": qos, **options})

    def add_authz_source(self, type: str, **config: Unpack[AuthzSourceFields]) -> Source:
        """Add an authorization source at the front of the chain (see `Broker.add_authz_source`)."""
        return self._seeded("authz_sources", self.broker.add_authz_source, {"type": type, **config})

    def set_authz_settings(self, **settings: Unpack[AuthzSettings]) -> None:
        """`no_match`, `deny_action`, `cache`, as `PUT /authorization/settings` sets them."""
        self._seeded("authz_settings", self.broker.set_authz_settings, settings)

    def add_authz_rules(self, rules: Iterable[Mapping[str, Any]], **owner: Unpack[RulesOwner]) -> None:
        """Built-in database rules for `username=`, `clientid=`, or (neither) all clients."""
        self._seeded("authz_rules", self.broker.add_authz_rules, {"rules": rules, **owner})

    def add_retained(self, topic: str, payload: str | bytes, **fields: Unpack[RetainedFields]) -> Message:
        return self._seeded("retained", self.broker.add_retained, {"topic": topic, "payload": payload, **fields})

    def add_ban(self, kind: str, who: str, **fields: Unpack[BanFields]) -> Ban:
        """Ban: a clientid ban kicks that session at once; every kind refuses the next connect
        of a client it matches. `kind` is EMQX's field `as` (a Python keyword): refusals name it
        `as`, and the data forms (`/_mock/seed/bans`, scenarios, snapshots) take `as`."""
        return self._seeded("bans", self.broker.add_ban, {"as": kind, "who": who, **fields})

    def add_alarm(self, name: str, **fields: Unpack[AlarmFields]) -> Alarm:
        return self._seeded("alarms", self.broker.add_alarm, {"name": name, **fields})

    def set_node_status(self, node: str, status: str) -> Node:
        """Stop ("stopped") or start ("running") a node of the cluster."""
        return self._seeded("node_status", self.broker.set_node_status, {"node": node, "status": status})

    @property
    def published(self) -> list[Published]:
        """The messages published so far (through the API or from Python), oldest first."""
        with self.broker.lock:
            return list(self.broker.published)

    def client(self, clientid: str) -> Session:
        """A seeded or API-created session, live: changes through the API show on it."""
        with self.broker.lock:
            return self.broker.sessions.get(clientid)

    def login(self, username: str = "admin", password: str = "public") -> str:
        """A bearer token for a dashboard user, as `POST /login` would issue."""
        with self.broker.lock:
            user = self.broker.users.login(username, password)
            if user is None:
                raise ValueError(f"no dashboard user {username!r} with that password")
            return self.broker.tokens.issue(user).token

    # -- scenarios and snapshots ---------------------------------------------------------

    def load_scenario(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> None:
        """Replace the state with a scenario's (a .json, .yaml or .yml file, a packaged
        scenario's name such as "small-fleet", or a dict; see `scripting.scenario`), then set
        its stubs and faults. All or nothing: a bad scenario raises ScenarioError naming the
        file and the field, and loads nothing. Stubs and faults set before stay (they are not
        state); a later `reset()` returns to the server's own initial state."""
        if not isinstance(source, Mapping):
            source = scenario.locate(source, (Path.cwd(),))
        document, name = scenario.read(source)
        wanted = scenario.doors(document, name)
        if wanted is not None and not self.serves(wanted.flavours, wanted.deployment):
            raise scenario.ScenarioError(
                name, "flavour", f"the scenario is for {wanted}, and this server serves {', '.join(self.door_names())}: "
                "start one with its doors (EmqxServer(flavour=...), the marker's flavour=, emqx-mock --flavour)"
            )
        prepared = scenario.prepare(self.broker, document, name, trial=self.app.trial)
        prepared.install()
        for description in prepared.stubs:
            self.stubs.add(description)
        for description in prepared.faults:
            self.faults.add(description)

    def serves(self, flavour: str | Sequence[str], deployment: str = DEPLOYMENTS[0]) -> bool:
        """Whether every door named (as `flavour=` names them; a `cloud-v5` one of the kind
        `deployment`) is one this server serves."""
        served = {type(door) for door in self.app.flavours}
        return all(flavour_named(name, deployment) in served for name in flavour_list(flavour))

    def door_names(self) -> list[str]:
        """The names of the doors served, in order (a door of your own: its class's name)."""
        names = {flavour_named(name, kind): name + ("" if kind == DEPLOYMENTS[0] else f" ({kind})") for kind in reversed(DEPLOYMENTS) for name in FLAVOUR_NAMES}
        return [names.get(type(door), type(door).__name__) for door in self.app.flavours]

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON-able scenario, independent of later changes: `restore`
        it (or save it to a file and load that) to return to this point."""
        return scenario.snapshot(self.broker)

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Return to a `snapshot()` (faults set since stay: they are not state)."""
        self.load_scenario(snapshot)

    def save_state(self, path: str | os.PathLike[str]) -> None:
        """Write `snapshot()` to a .json, .yaml or .yml file atomically: the file is replaced
        whole or, if anything fails, left as it was."""
        scenario.save(path, self.snapshot())
