"""The request log (`emqx-mock --log-requests`): one line per request, for a developer who
watches the traffic rather than polling the journal. A WSGI layer installed only when asked,
so a fake without it pays nothing.

    GET /api/v5/clients?limit=1 200 1.3 ms
    POST /api/v5/publish 503 0.4 ms fault: error 503 SERVICE_UNAVAILABLE on POST /publish
    GET /api/v5/rules 200 0.3 ms stub: 200 response on GET /rules
    POST /_mock/seed/clients 200 0.9 ms (control API)

The time runs from the request's arrival until its answer is ready (a fault's delay included;
a trickled body: until its last piece is out), and the line is written before the answer goes
out, so a client holding a response finds its line. The status is the one sent, `-` when a
fault broke the connection instead.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable, Iterator, TextIO

from ..scripting.journal import Journal, JournalEntry
from .app import WsgiApp
from .routing import raw_path


class RequestLog:
    """Write a line to `stream` for each request `app` answers (flushed at once: the stream is
    usually a pipe). The fault comes from the journal entry the request's thread recorded; a
    request under `control_prefix` (the control API's, which the journal does not record) is
    marked as such."""

    def __init__(self, app: WsgiApp, journal: Journal, stream: TextIO, control_prefix: str) -> None:
        self.app = app
        self.stream = stream
        self.control_prefix = control_prefix
        self._lock = threading.Lock()  # one line at a time from the server's threads
        self._recorded = threading.local()
        journal.listen(self._remember)

    def _remember(self, entry: JournalEntry) -> None:
        self._recorded.entry = entry

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.perf_counter()
        self._recorded.entry = None
        sent: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status.split(None, 1)[0]]
            return start_response(status, headers, exc_info)

        try:
            chunks = self.app(environ, start)
        except BaseException:
            self._write(environ, sent, started)
            raise
        if isinstance(chunks, list) or not sent:  # the whole answer is ready, or it is a broken connection
            self._write(environ, sent, started)
            return chunks
        return self._logged(chunks, environ, sent, started)

    def _logged(self, chunks: Iterable[bytes], environ: dict[str, Any], sent: list[str], started: float) -> Iterator[bytes]:
        """A body made as it goes (a trickle fault's): the line once its last piece is out."""
        try:
            yield from chunks
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
            self._write(environ, sent, started)

    def _write(self, environ: dict[str, Any], sent: list[str], started: float) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        entry: JournalEntry | None = self._recorded.entry
        path = raw_path(environ)
        query = environ.get("QUERY_STRING")
        line = f"{environ['REQUEST_METHOD']} {path}{'?' + query if query else ''} {sent[0] if sent else '-'} {elapsed:.1f} ms"
        if entry is not None:
            line += "".join(f" {name}: {value}" for name, value in (("stub", entry.stub), ("fault", entry.fault)) if value)
        elif path == self.control_prefix or path.startswith(self.control_prefix + "/"):
            line += " (control API)"
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # the log's reader is gone (`emqx-mock -v | head`): serve on
                pass
