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


@pytest.fixture
def ee(ee_server: EmqxServer) -> Iterator[EmqxServer]:
    """The Enterprise fake, reset; like `emqx_server`, a test fails if the fake failed."""
    ee_server.reset()
    yield ee_server
    ee_server.check_errors()
