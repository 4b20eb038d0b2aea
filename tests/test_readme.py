"""The README's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_first_commands_install_start_and_test() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first_block is not None
    lines = [line.split("#")[0].strip() for line in first_block.group(1).strip().splitlines()]
    assert lines == [
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/emqx-mock',
        ".venv/bin/python -m pytest -n 2",
    ]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert 'python3 -m venv .venv && .venv/bin/pip install' in ci and ".venv/bin/python -m pytest -q -n 2" in ci


def test_every_example_test_passes(pytester: pytest.Pytester) -> None:
    examples = [block for block in _python_blocks() if "def test_" in block]
    assert len(examples) >= 3  # quickstart, publish-then-inspect, ban
    pytester.makepyfile(**{f"test_example_{index}": block for index, block in enumerate(examples)})
    for block in re.findall(r"```yaml\n(.*?)```", README, flags=re.S):  # the scenario files they load
        named = re.match(r"# (\S+)\n", block)
        if named:
            path = pytester.path / named.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block)
    tests = sum(block.count("\ndef test_") + block.startswith("def test_") for block in examples)
    # a parametrized example runs once per `pytest.param`, not once
    tests += sum(block.count("pytest.param(") - block.count("@pytest.mark.parametrize(") for block in examples)
    pytester.runpytest_subprocess().assert_outcomes(passed=tests)


def test_seeding_example_runs(pytester: pytest.Pytester) -> None:
    seeding = next(block for block in _python_blocks() if "add_client(" in block and "def test_" not in block)
    body = "\n".join("    " + line for line in seeding.splitlines())
    pytester.makepyfile(
        "import requests\n\n"
        f"def test_seeding(emqx_server):\n{body}\n"
        "    rows = requests.get(emqx_server.api_url + '/clients?limit=1', auth=emqx_server.auth).json()\n"
        "    assert rows['meta']['count'] == 1002  # meter-8 seeded, then disconnected: still a session\n"
        "    meter = requests.get(emqx_server.api_url + '/clients/meter-7', auth=emqx_server.auth).json()\n"
        "    assert (meter['connected'], meter['subscriptions_cnt'], meter['mqueue_len'], meter['inflight_cnt']) == (False, 2, 3, 1)  # the publish joined its mqueue\n"
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
