"""The request journal and its assertions, each seen passing and failing with its message."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from api import delete, get, post

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.scripting.matching import RequestMatcher


@pytest.fixture
def traffic(emqx_server: EmqxServer) -> EmqxServer:
    """Four requests: a listing, a subscribe, a publish and a kick."""
    emqx_server.add_client("c1")
    get(emqx_server, "/clients", params={"limit": "5"})
    post(emqx_server, "/clients/c1/subscribe", {"topic": "t/1", "qos": 1})
    post(emqx_server, "/publish", {"topic": "t/1", "payload": "hello"})
    delete(emqx_server, "/clients/c1")
    return emqx_server


LISTING = """Recorded requests, oldest first:
  1. GET /api/v5/clients?limit=5 -> 200
  2. POST /api/v5/clients/c1/subscribe {"qos": 1, "topic": "t/1"} -> 200
  3. POST /api/v5/publish {"payload": "hello", "topic": "t/1"} -> 200
  4. DELETE /api/v5/clients/c1 -> 204"""


def test_entries_record_what_was_asked_and_answered(traffic: EmqxServer) -> None:
    first, subscribe, *_ = traffic.journal.entries()
    assert (first.method, first.path, first.query, first.status, first.operation) == (
        "GET", "/api/v5/clients", {"limit": ["5"]}, 200, "GET /clients",
    )  # fmt: skip
    assert first.credential == f"api_key:{traffic.api_key}"
    assert subscribe.body == {"topic": "t/1", "qos": 1}
    assert subscribe.response["topic"] == "t/1"


@pytest.mark.parametrize(
    "spec",
    ["POST /publish", "/publish", "POST /api/v5/publish", re.compile(r"/publish$"), RequestMatcher(method="POST", path="/publish")],
)
def test_a_request_is_found_by_method_and_path_in_every_form(traffic: EmqxServer, spec: object) -> None:
    assert [entry.path for entry in traffic.journal.requests(spec)] == ["/api/v5/publish"]  # type: ignore[arg-type]


def test_templates_match_every_path_of_the_operation(traffic: EmqxServer) -> None:
    post(traffic, "/clients/other/subscribe", {"topic": "x"})
    found = traffic.journal.requests("POST /clients/{clientid}/subscribe")
    assert [entry.path for entry in found] == ["/api/v5/clients/c1/subscribe", "/api/v5/clients/other/subscribe"]


def test_body_query_and_credential_narrow_the_match(traffic: EmqxServer) -> None:
    journal = traffic.journal
    assert len(journal.requests("POST /publish", body={"topic": "t/1"})) == 1
    assert journal.requests("POST /publish", body={"topic": "t/2"}) == []
    assert len(journal.requests("GET /clients", query={"limit": 5})) == 1
    assert journal.requests("GET /clients", query={"limit": "6"}) == []
    assert len(journal.requests("DELETE /clients/c1", credential=f"api_key:{traffic.api_key}")) == 1
    assert journal.requests("DELETE /clients/c1", credential="token:admin") == []


def test_assert_called_passes_and_fails_with_a_listing(traffic: EmqxServer) -> None:
    journal = traffic.journal
    assert len(journal.assert_called("POST /publish", times=1, body={"topic": "t/1"})) == 1
    journal.assert_called("/clients/{clientid}", at_least=1)
    with pytest.raises(AssertionError) as failure:
        journal.assert_called("POST /publish", times=2)
    assert str(failure.value) == "expected POST /publish exactly 2 times, but it was called once.\n" + LISTING
    with pytest.raises(AssertionError, match=r"^expected POST /publish with body \{\"topic\": \"t/9\"\} at least once, but it was called 0 times"):
        journal.assert_called("POST /publish", body={"topic": "t/9"})
    with pytest.raises(AssertionError, match=r"^expected \* /clients/\{clientid\} 2 to 3 times, but it was called once"):
        journal.assert_called("/clients/{clientid}", at_least=2, at_most=3)


def test_assert_not_called(traffic: EmqxServer) -> None:
    traffic.journal.assert_not_called("POST /publish/bulk")
    with pytest.raises(AssertionError) as failure:
        traffic.journal.assert_not_called("DELETE /clients/{clientid}")
    assert str(failure.value) == "expected DELETE /clients/{clientid} exactly 0 times, but it was called once.\n" + LISTING


def test_assert_called_in_order(traffic: EmqxServer) -> None:
    traffic.journal.assert_called_in_order("GET /clients", "POST /publish", "DELETE /clients/{clientid}")
    with pytest.raises(AssertionError) as failure:
        traffic.journal.assert_called_in_order("POST /publish", "POST /clients/{clientid}/subscribe")
    assert str(failure.value) == (
        "expected the order POST /publish -> POST /clients/{clientid}/subscribe, "
        "but found no POST /clients/{clientid}/subscribe after POST /publish.\n" + LISTING
    )


def test_wait_for_a_request_made_from_another_thread(emqx_server: EmqxServer) -> None:
    release = threading.Event()

    def code_under_test() -> None:
        release.wait(5)
        requests.delete(emqx_server.api_url + "/clients/late", auth=emqx_server.auth, timeout=30)

    worker = threading.Thread(target=code_under_test)
    worker.start()
    release.set()
    found = emqx_server.journal.wait_for("DELETE /clients/{clientid}", timeout=10)
    worker.join()
    assert [(entry.path, entry.status) for entry in found] == [("/api/v5/clients/late", 404)]


def test_wait_for_fails_with_the_listing(emqx_server: EmqxServer) -> None:
    get(emqx_server, "/clients")
    with pytest.raises(AssertionError) as failure:
        emqx_server.journal.wait_for("POST /publish", times=2, timeout=0.05)
    assert str(failure.value) == (
        "waited 0.05 s for POST /publish 2 times, but it was called 0 times.\n"
        "Recorded requests, oldest first:\n  1. GET /api/v5/clients -> 200"
    )


@pytest.mark.filterwarnings("ignore::pytest_emqx_mock.plugin.UnmatchedRequestWarning")  # asked for on purpose
def test_unknown_paths_are_journaled_without_an_operation(emqx_server: EmqxServer) -> None:
    get(emqx_server, "/no/such/thing")
    (entry,) = emqx_server.journal.requests("/no/such/thing")
    assert (entry.status, entry.operation) == (404, None)
    assert emqx_server.journal.requests("/no/{thing}") == []  # a template names a routed operation


def test_the_journal_keeps_the_newest_requests_within_its_bounds() -> None:
    with EmqxServer(journal_capacity=3) as emqx:
        for limit in range(1, 6):
            get(emqx, "/clients", params={"limit": str(limit)})
        assert [entry.query["limit"] for entry in emqx.journal] == [["3"], ["4"], ["5"]]
    with EmqxServer() as emqx:
        emqx.add_clients(2)
        page = len(get(emqx, "/clients", params={"limit": "1"}).content)
        emqx.journal.max_bytes = 2 * page + page // 2  # room for two such pages, not three
        for _ in range(3):
            get(emqx, "/clients", params={"limit": "1"})
        assert [len(entry.response_body) for entry in emqx.journal] == [page, page]
        get(emqx, "/clients", params={"limit": "2"})  # a larger page pushes both out
        assert [entry.query["limit"] for entry in emqx.journal] == [["2"]]
        emqx.journal.clear()
        get(emqx, "/clients", params={"limit": "1"})
        get(emqx, "/clients", params={"limit": "1"})
        assert len(emqx.journal) == 2  # clearing forgot the bytes held too
