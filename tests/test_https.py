"""HTTPS (`EmqxServer(https=True)`, `http.tls`): a certificate made at start for localhost and
127.0.0.1, verified by every client with the CA file the handle exposes; the connection handling
(keep-alive, pipelining, the head reader's refusals, stalled clients) the same inside TLS."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import requests
from hostile import Connection, answer, exchange, request, unchanged
from test_hostile_wire import REFUSED_HEADS, ban, early_error

from pytest_emqx_mock import EmqxServer

EMPTY_PAGE = {"data": [], "meta": {"count": 0, "hasnext": False, "limit": 100, "page": 1}}


@pytest.fixture(scope="module")
def tls_server() -> EmqxServer:
    with EmqxServer(https=True) as server:
        yield server


@pytest.fixture
def emqx_tls(tls_server: EmqxServer) -> EmqxServer:
    tls_server.reset()
    return tls_server


def test_requests_verifies_the_server_with_its_ca_file(emqx_tls: EmqxServer) -> None:
    emqx_tls.add_client("c1")
    assert emqx_tls.url == f"https://127.0.0.1:{emqx_tls.port}"
    response = requests.get(emqx_tls.api_url + "/clients/c1", auth=emqx_tls.auth, verify=emqx_tls.ca_file, timeout=30)
    assert response.status_code == 200
    assert response.json()["clientid"] == "c1"


def test_a_client_without_the_ca_refuses_the_certificate(emqx_tls: EmqxServer) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emqx_tls.api_url + "/clients", auth=emqx_tls.auth, verify=True, timeout=30)
    # and the server goes on serving
    assert requests.get(emqx_tls.api_url + "/clients", auth=emqx_tls.auth, verify=emqx_tls.ca_file, timeout=30).json() == EMPTY_PAGE


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_the_standard_library_verifies_it_by_either_name(emqx_tls: EmqxServer, host: str) -> None:
    context = ssl.create_default_context(cafile=emqx_tls.ca_file)
    with urllib.request.urlopen(f"https://{host}:{emqx_tls.port}/status", context=context, timeout=30) as response:
        assert response.status == 200
        assert response.read().startswith(b"Node emqx@127.0.0.1 is started")


def test_httpx_verifies_it(emqx_tls: EmqxServer) -> None:
    import httpx  # a test dependency: the HTTPS fixture must work with the clients users have

    context = ssl.create_default_context(cafile=emqx_tls.ca_file)
    with httpx.Client(verify=context, auth=emqx_tls.auth) as client:
        response = client.get(emqx_tls.api_url + "/clients")
    assert (response.status_code, response.json()) == (200, EMPTY_PAGE)


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
def test_curl_with_cacert(emqx_tls: EmqxServer) -> None:
    user = "{}:{}".format(*emqx_tls.auth)
    done = subprocess.run(
        ["curl", "-sS", "--cacert", str(emqx_tls.ca_file), "-u", user, emqx_tls.api_url + "/clients"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, json.loads(done.stdout)) == (0, EMPTY_PAGE), done.stderr


def test_a_kept_alive_connection_serves_request_after_request(emqx_tls: EmqxServer) -> None:
    context = ssl.create_default_context(cafile=emqx_tls.ca_file)
    connection = http.client.HTTPSConnection("127.0.0.1", emqx_tls.port, context=context, timeout=30)
    try:
        connection.request("GET", "/status")
        connection.getresponse().read()
        first = connection.sock
        for clientid in ("c1", "c2"):
            emqx_tls.add_client(clientid)
            connection.request("GET", f"/api/v5/clients/{clientid}", headers={"Authorization": _basic(emqx_tls)})
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())["clientid"]) == (200, clientid)
        assert connection.sock is first  # one TLS connection for all three
    finally:
        connection.close()


def _basic(server: EmqxServer) -> str:
    import base64

    return "Basic " + base64.b64encode("{}:{}".format(*server.auth).encode()).decode()


@pytest.mark.parametrize("case", ["header value of 4,096 bytes", "HTTP/2.0", "no host in HTTP/1.1"])
def test_the_head_reader_refuses_inside_tls_as_over_plain_http(emqx_tls: EmqxServer, case: str) -> None:
    sent, status = REFUSED_HEADS[case]
    with unchanged(emqx_tls), Connection(emqx_tls) as connection:
        connection.send(sent(emqx_tls) + ban(emqx_tls))
        assert connection.stream.read() == early_error(status)
    assert emqx_tls.journal.entries() == []


def test_pipelined_requests_inside_tls_are_answered_in_order(emqx_tls: EmqxServer) -> None:
    emqx_tls.add_client("c1")
    last = ban(emqx_tls, headers=[("Connection", "close")])
    responses, closed = exchange(emqx_tls, request(emqx_tls, "DELETE", "/api/v5/clients/c1") + last)
    assert [response.status for response in responses] == [204, 200]
    assert closed  # as the last one asked
    assert "c1" not in emqx_tls.broker.sessions
    assert emqx_tls.broker.bans.get("clientid", "c1") is not None


def test_a_client_stalled_before_its_handshake_holds_no_other_back(emqx_tls: EmqxServer) -> None:
    """The handshake is made on the connection's own thread: a client that connects and says
    nothing leaves the others served."""
    with socket.create_connection(("127.0.0.1", emqx_tls.port), timeout=30):
        assert answer(emqx_tls, request(emqx_tls, "GET", "/api/v5/banned")).status == 200


def test_plain_http_to_the_https_port_gets_no_answer_and_the_server_goes_on(emqx_tls: EmqxServer) -> None:
    with socket.create_connection(("127.0.0.1", emqx_tls.port), timeout=30) as plain:
        plain.sendall(request(emqx_tls, "GET", "/api/v5/banned"))
        try:
            received = plain.recv(65536)
        except ConnectionResetError:  # closed with the request unread
            received = b""
    assert not received.startswith(b"HTTP/")  # a TLS alert, or nothing
    assert answer(emqx_tls, request(emqx_tls, "GET", "/api/v5/banned")).status == 200


def test_one_ca_per_process_and_one_certificate_shared_by_servers(tls_server: EmqxServer) -> None:
    with EmqxServer(https=True) as other:
        assert (other.ca_file, other.tls) == (tls_server.ca_file, tls_server.tls)


def test_a_certificate_of_the_users_own(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    issued = ca.issue_cert("localhost")
    issued.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with EmqxServer(https=True, cert_file=tmp_path / "server.pem") as server:
        assert server.ca_file is None  # the user's CA, which the user has
        response = requests.get(f"https://localhost:{server.port}/status", verify=str(tmp_path / "ca.pem"), timeout=30)
        assert response.status_code == 200


def test_a_file_that_is_no_certificate_fails_the_start(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ssl.SSLError):
        EmqxServer(https=True, cert_file=tmp_path / "bad.pem")
    with pytest.raises(ValueError, match="give https=True too"):
        EmqxServer(cert_file=tmp_path / "bad.pem")


def test_a_plain_http_server_imports_nothing_of_tls() -> None:
    """HTTP, the default, pays nothing: neither trustme nor cryptography is imported."""
    code = (
        "import sys\nfrom pytest_emqx_mock import EmqxServer\n"
        "with EmqxServer() as server:\n    assert server.url.startswith('http://') and server.ca_file is None\n"
        "print(sorted(name for name in ('trustme', 'cryptography') if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


def test_the_ini_setting_and_the_marker_serve_https(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nemqx_https = true\n")
    pytester.makepyfile(
        """
        import pytest, requests

        def test_session(emqx_server):
            assert emqx_server.url.startswith("https://")
            response = requests.get(emqx_server.api_url + "/clients", auth=emqx_server.auth, verify=emqx_server.ca_file)
            assert response.status_code == 200

        @pytest.mark.emqx(https=False)
        def test_plain(emqx_server):
            assert emqx_server.url.startswith("http://") and emqx_server.ca_file is None
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_marker_alone_serves_https(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.emqx(https=True)
        def test_own(emqx_server):
            response = requests.get(emqx_server.url + "/status", verify=emqx_server.ca_file)
            assert response.status_code == 200
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_command_serves_https_and_prints_the_ca_file() -> None:
    from test_cli import _Running

    running = _Running("--port", "0", "--https")
    try:
        banner = "\n".join(running.banner)
        url = re.search(r"listening on (https://127\.0\.0\.1:[1-9][0-9]*)$", banner, flags=re.M)
        ca_file = re.search(r"^  CA certificate:  (\S+)  \(verify with it: curl --cacert \1 \.\.\.\)$", banner, flags=re.M)
        assert url is not None and ca_file is not None, banner
        assert f"curl --cacert {ca_file[1]} -u pytest-emqx-mock:pytest-emqx-mock-secret {url[1]}/api/v5/clients" in banner
        response = requests.get(url[1] + "/api/v5/clients", auth=("pytest-emqx-mock", "pytest-emqx-mock-secret"), verify=ca_file[1], timeout=30)
        assert response.json() == EMPTY_PAGE
    finally:
        code, _, err = running.stop()
    assert code == 0, err


def test_the_command_refuses_a_certificate_it_cannot_use(tmp_path: Path) -> None:
    from test_cli import _command

    (tmp_path / "bad.pem").write_text("not a certificate")
    done = subprocess.run([*_command(), "--port", "0", "--certfile", str(tmp_path / "bad.pem")], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("emqx-mock: ")
