"""`EmqxServer(request_log=stream)`: one line per request (the command's `--log-requests`)."""

from __future__ import annotations

import io
import re

import pytest
import requests

from pytest_emqx_mock import EmqxServer


def _lines(log: io.StringIO) -> list[str]:
    return [re.sub(r" [0-9]+\.[0-9] ms", " <t> ms", line) for line in log.getvalue().splitlines()]


def test_each_request_one_line_with_the_fault_that_met_it() -> None:
    log = io.StringIO()
    with EmqxServer(request_log=log) as emqx:
        emqx.faults.delay("GET /nodes", 0.01, times=1)
        emqx.faults.transport("GET /alarms", "empty", times=1)
        assert requests.get(emqx.api_url + "/nodes", auth=emqx.auth, timeout=30).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get(emqx.api_url + "/alarms", auth=emqx.auth, timeout=30)
        assert requests.get(emqx.api_url + "/clients/a%2Fb?x=1", auth=emqx.auth, timeout=30).status_code == 404
        assert requests.delete(emqx.control_url + "/faults", timeout=30).status_code == 204
    assert _lines(log) == [
        "GET /api/v5/nodes 200 <t> ms fault: delay 0.01 s on GET /nodes",
        "GET /api/v5/alarms - <t> ms fault: connection empty on GET /alarms",  # no status: the connection broke
        "GET /api/v5/clients/a%2Fb?x=1 404 <t> ms",  # the path as sent
        "DELETE /_mock/faults 204 <t> ms (control API)",
    ]



def test_a_log_nobody_reads_any_more_does_not_fail_the_requests() -> None:
    """`emqx-mock -v | head -3`: once `head` is gone, the fake serves on."""
    log = io.StringIO()
    log.close()
    with EmqxServer(request_log=log) as emqx:
        response = requests.get(emqx.api_url + "/clients", auth=emqx.auth, timeout=30)
        assert (response.status_code, emqx.errors) == (200, [])
