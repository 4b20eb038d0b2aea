from __future__ import annotations

from typing import Iterator

import pytest

from pytest_emqx_mock import EmqxServer

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def ee_server() -> Iterator[EmqxServer]:
    """An Enterprise-edition fake beside the plugin's (CE) one."""
    with EmqxServer(edition="ee") as server:
        yield server


def reset_for_a_test(server: EmqxServer) -> Iterator[EmqxServer]:
    """A private fake, reset; like `emqx_server`, the test fails if the fake failed."""
    server.reset()
    yield server
    server.check_errors()


@pytest.fixture
def ee(ee_server: EmqxServer) -> Iterator[EmqxServer]:
    """The Enterprise fake, reset."""
    yield from reset_for_a_test(ee_server)


@pytest.fixture(scope="session")
def cluster_server() -> Iterator[EmqxServer]:
    """A fake cluster of two nodes, `emqx@n1` and `emqx@n2`."""
    with EmqxServer(nodes=["emqx@n1", "emqx@n2"]) as server:
        yield server


@pytest.fixture
def cluster(cluster_server: EmqxServer) -> Iterator[EmqxServer]:
    """The two-node fake, reset."""
    yield from reset_for_a_test(cluster_server)
