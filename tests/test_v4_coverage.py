"""`emqx-mock coverage` for EMQX 4.4.19 and the Cloud doors: the operations EMQX 4.4.19 declares
(`flavours/v4/declared.json`, derived by `restapigen` from its `-rest_api` attributes), which the
fake serves, and that the generator derives the file from such declarations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pytest_emqx_mock import restapigen
from pytest_emqx_mock.cli import coverage_report
from pytest_emqx_mock.coverage import V4_UNDECLARED, declared
from pytest_emqx_mock.flavours import v4
from pytest_emqx_mock.flavours.cloud import SERVERLESS_OPERATIONS

ROOT = Path(__file__).resolve().parents[1]


def _clone_declaring(tmp_path: Path, modules: dict[str, list[dict[str, str]]], extra: str = "") -> Path:
    """A git directory whose tag v4.4.19 holds one Erlang module per entry of `modules`, each
    declaring its operations as EMQX 4.4.19's modules do (`-rest_api(#{...}).`), `extra` after."""
    work = tmp_path / "emqx"
    for module, operations in modules.items():
        source = work / "apps" / "emqx_management" / "src" / f"{module}.erl"
        source.parent.mkdir(parents=True, exist_ok=True)
        declarations = "".join(
            f'-rest_api(#{{name => {op["name"]},\n            method => \'{op["method"]}\',\n'
            f'            path => "{op["path"]}",\n            func => {op["name"]},\n            descr => "..."}}).\n\n'
            for op in operations
        )
        source.write_text(f"-module({module}).\n\n{declarations}{extra}")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "m"], ["tag", restapigen.TAG]):
        subprocess.run(git + command, check=True, capture_output=True)
    return work / ".git"


def _restapigen(git_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest_emqx_mock.restapigen", "--git-dir", str(git_dir), "--check"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_generator_derives_the_committed_file_from_the_declarations(tmp_path: Path) -> None:
    """The committed file round-trips: EMQX-shaped declarations of its operations give it back
    (`--check` passes); one operation fewer, and the file is not current. (Against a real clone
    of emqx/emqx: `python3 -m pytest_emqx_mock.restapigen --git-dir DIR --check`.)"""
    modules = json.loads(restapigen.OUTPUT.read_text())["modules"]
    assert (_restapigen(_clone_declaring(tmp_path / "same", modules)).returncode, restapigen.generate(_clone_declaring(tmp_path / "again", modules))) == (
        0, restapigen.OUTPUT.read_text()
    )  # fmt: skip
    fewer = {**modules, "emqx_mgmt_api_listeners": modules["emqx_mgmt_api_listeners"][1:]}
    outdated = _restapigen(_clone_declaring(tmp_path / "fewer", fewer))
    assert (outdated.returncode, outdated.stderr) == (1, f"restapigen: {restapigen.OUTPUT} is not current\n")


def test_a_declaration_the_generator_cannot_read_is_refused(tmp_path: Path) -> None:
    git_dir = _clone_declaring(tmp_path, {"emqx_mgmt_api_x": []}, extra="-rest_api(#{name => x, method => Method, path => \"/x\"}).\n")
    refused = _restapigen(git_dir)
    assert (refused.returncode, refused.stderr.startswith("restapigen: apps/emqx_management/src/emqx_mgmt_api_x.erl: a declaration without a literal method")) == (2, True)


def test_every_operation_the_v4_door_serves_is_declared_or_named_with_its_reason() -> None:
    report = coverage_report()["v4"]
    keys = [row["operation"] for rows in report["modules"].values() for row in rows]
    assert len(keys) == len(set(keys)) == 149  # no operation declared twice
    served = v4.served_operations()
    assert set(report["served_not_declared"]) == served - set(keys) == set(V4_UNDECLARED)
    assert all(report["served_not_declared"].values())
    assert report["totals"] == {"served": len(served & set(keys)), "total": len(keys)}
    assert report["totals"]["served"] == sum(row["served"] for rows in report["modules"].values() for row in rows)


def test_the_fake_s_declarations_are_emqx_s() -> None:
    """Each route the v4 door lists (`GET /api/v4`) has the name and path EMQX declares."""
    emqx = {declaration.key: declaration for declarations in declared().values() for declaration in declarations}
    for declaration in v4.declarations():
        assert (declaration.name, declaration.method, declaration.path.rstrip("/")) == (
            emqx[declaration.key].name, emqx[declaration.key].method, emqx[declaration.key].path.rstrip("/")
        )  # fmt: skip
    listeners = coverage_report()["v4"]["modules"]["emqx_mgmt_api_listeners"]
    assert listeners == [
        {"operation": "GET /listeners", "name": "list_listeners", "served": True},
        {"operation": "GET /nodes/{node}/listeners", "name": "list_node_listeners", "served": True},
        {"operation": "PUT /listeners/{identifier}/restart", "name": "restart_listener", "served": True},
        {"operation": "PUT /nodes/{node}/listeners/{identifier}/restart", "name": "restart_node_listener", "served": True},
    ]
    assert coverage_report()["v4"]["modules"]["emqx_prometheus"] == [{"operation": "GET /emqx_prometheus", "name": "stats", "served": True}]


def test_the_cloud_doors_coverage_follows() -> None:
    report = coverage_report()
    assert report["cloud"]["cloud-v4"] == report["v4"]["totals"]  # the same operations at /api
    assert report["cloud"]["cloud-v5"] == {"serverless": {"served": 30, "total": 30}, "dedicated": report["totals"]["ee"]}
    in_spec = {row["operation"] for rows in report["tags"].values() for row in rows}
    assert len(SERVERLESS_OPERATIONS) == 30 and SERVERLESS_OPERATIONS <= in_spec


def test_the_command_prints_the_v4_and_cloud_sections() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest_emqx_mock.cli", "coverage"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    report = json.loads(subprocess.run([sys.executable, "-m", "pytest_emqx_mock.cli", "coverage", "--json"], capture_output=True, text=True, timeout=60, cwd=ROOT).stdout)
    text = result.stdout
    assert "\nemqx_mgmt_api_listeners  4/4\n  [x] GET /listeners  (list_listeners)\n" in text
    assert "\n  [x] PUT /listeners/{identifier}/restart  (restart_listener)\n" in text
    assert "  [ ] GET /rules  (list_rules)\n" in text
    modules = re.findall(r"^(emqx_[a-z0-9_]+)  (\d+)/(\d+)$", text, flags=re.M)
    assert Counter({name: (int(s), int(t)) for name, s, t in modules}) == Counter(
        {name: (sum(row["served"] for row in rows), len(rows)) for name, rows in report["v4"]["modules"].items()}
    )
    count = report["v4"]["totals"]
    assert f"\nTotal: 4.4.19 {count['served']}/{count['total']} served\n" in text
    assert f"cloud-v4 {count['served']}/{count['total']} served (the 4.4.19 operations at /api)" in text
    assert "cloud-v5 serverless 30/30 (the operations its documents list)" in text
