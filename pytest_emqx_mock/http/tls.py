"""HTTPS: the TLS side of a server that serves it (`EmqxServer(https=True)`).

A server given no certificate of its own gets one made here with `trustme`: a throw-away CA,
and a server certificate it signed for `localhost`, `127.0.0.1` and `::1` (and the host the
server listens on, when it is another name). Clients verify against the CA's file
(`EmqxServer.ca_file`) instead of turning verification off. Making keys is what costs (tens of
milliseconds, and importing `cryptography` some hundreds): it is done once per process and
identities, and every server after the first reuses the files and the SSL context. Nothing
here is imported by a server that serves plain HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The names every made certificate is for: a client reaches a local fake by one of them.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Certificates:
    """A server's certificate chain and key, as files, and the CA that a client trusts (None
    for a certificate of the user's own: the user knows its CA)."""

    cert_file: str
    key_file: str
    ca_file: str | None

    @functools.cached_property
    def context(self) -> ssl.SSLContext:
        """The server side's SSL context (TLS 1.2 and up, as EMQX's listeners by default)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def identities(host: str) -> tuple[str, ...]:
    """The names a certificate for a server listening on `host` is for: the local ones, and
    `host` itself unless it is one of them or a wildcard address."""
    return LOCAL_NAMES if host in LOCAL_NAMES or host in ("", "0.0.0.0", "::") else (*LOCAL_NAMES, host)


@functools.lru_cache(maxsize=None)
def _authority() -> tuple[Any, tempfile.TemporaryDirectory[str]]:
    """The process's CA (a `trustme.CA`) and the folder its files are written to, which goes
    when the process exits (the cache holds it until then)."""
    import trustme  # here: a plain HTTP server never imports it (nor `cryptography`)

    folder = tempfile.TemporaryDirectory(prefix="emqx-mock-tls-")
    ca = trustme.CA(organization_name="pytest-emqx-mock")
    ca.cert_pem.write_to_path(str(Path(folder.name) / "ca.pem"))
    return ca, folder


@functools.lru_cache(maxsize=None)
def made_for(names: tuple[str, ...]) -> Certificates:
    """A certificate for `names` signed by the process's CA, made on the first call for them."""
    ca, folder = _authority()
    issued = ca.issue_cert(*names)
    stem = Path(folder.name) / ("server-" + hashlib.sha256(" ".join(names).encode()).hexdigest()[:12])
    cert_file, key_file = f"{stem}.pem", f"{stem}-key.pem"
    for pem in issued.cert_chain_pems:  # the server's certificate, then any intermediate
        pem.write_to_path(cert_file, append=pem is not issued.cert_chain_pems[0])
    issued.private_key_pem.write_to_path(key_file)
    return Certificates(cert_file, key_file, str(Path(folder.name) / "ca.pem"))


def certificates(host: str, cert_file: str | None = None, key_file: str | None = None) -> Certificates:
    """The user's certificate (`cert_file`, its key in `key_file` or in the same file) or one
    made for `host`; ssl.SSLError or OSError for files that do not hold a usable pair, now
    rather than at the first connection."""
    if cert_file is None:
        if key_file is not None:
            raise ValueError("a key file without its certificate: give cert_file too")
        return made_for(identities(host))
    given = Certificates(cert_file, key_file or cert_file, None)
    given.context  # loaded now: a bad file fails the start, not every handshake
    return given
