"""The hostile-input tests' helpers: raw HTTP (bytes sent exactly as written, which an HTTP client
library would mend first, and each response read back as it came), and the state a refused
request must leave as it found."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Iterator

import requests

from pytest_emqx_mock import EmqxServer


def state(server: EmqxServer) -> tuple[Any, Any, Any]:
    """Everything a request could change: the whole state, and the control API's faults and stubs."""
    faults = requests.get(server.control_url + "/faults", timeout=30, verify=server.ca_file or True).json()
    stubs = requests.get(server.control_url + "/stubs", timeout=30, verify=server.ca_file or True).json()
    return server.snapshot(), faults, stubs


@contextlib.contextmanager
def unchanged(server: EmqxServer) -> Iterator[None]:
    """The block's requests leave `state` as it was."""
    before = state(server)
    yield
    assert state(server) == before


def basic(server: EmqxServer) -> str:
    return "Basic " + base64.b64encode(f"{server.api_key}:{server.api_secret}".encode()).decode()


def request(
    server: EmqxServer,
    method: str,
    target: str | bytes,
    body: bytes | Any = b"",
    *,
    version: str = "HTTP/1.1",
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """One request as raw bytes, CRLF-framed, with a host, the ready administrator key, and
    `headers` after them; a body that is not bytes is sent as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    lines = [("Host", "emqx"), ("Authorization", basic(server)), *(headers or [])]
    if data:
        lines += [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start = target if isinstance(target, bytes) else target.encode("latin-1")
    head = b"%s %s %s\r\n" % (method.encode(), start, version.encode())
    return head + b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in lines) + b"\r\n" + data


@dataclass
class Response:
    status_line: bytes
    headers: list[tuple[str, str]]  # lower-case names, in the order sent
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """A raw connection to the fake: `send` bytes, read the next `response`, see whether the
    server `closed` it."""

    def __init__(self, server: EmqxServer, timeout: float = 30) -> None:
        self.socket = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
        if server.https:  # the same bytes inside TLS, the server verified with its CA
            context = ssl.create_default_context(cafile=server.ca_file)
            self.socket = context.wrap_socket(self.socket, server_hostname="127.0.0.1")
        self.stream = self.socket.makefile("rb")

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stream.close()
        self.socket.close()

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def response(self) -> Response:
        """The next response (every answer of the fake's says its length)."""
        status_line = self.stream.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        headers = []
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            name, value = line.decode("latin-1").split(":", 1)
            headers.append((name.lower(), value.strip()))
        length = next(int(value) for name, value in headers if name == "content-length")
        return Response(status_line.rstrip(b"\r\n"), headers, self.stream.read(length))

    def closed(self) -> bool:
        """The server closed the connection, with nothing more sent (a reset counts as closed);
        False when it sends more, or waits past the socket's timeout."""
        try:
            return self.stream.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False


def answer(server: EmqxServer, data: bytes) -> Response:
    """The response to one request, sent on a fresh connection."""
    with Connection(server) as connection:
        connection.send(data)
        return connection.response()


def exchange(server: EmqxServer, data: bytes) -> tuple[list[Response], bool]:
    """What the server answers on a fresh connection to `data` sent in one write: the responses
    until it closes or stops answering, and whether it closed the connection."""
    with Connection(server, timeout=2) as connection:
        connection.send(data)
        responses = []
        while True:
            try:
                if not connection.stream.peek(1):
                    return responses, True
            except ConnectionResetError:
                return responses, True
            except TimeoutError:
                return responses, False
            responses.append(connection.response())
