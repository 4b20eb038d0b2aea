"""Derive EMQX 4.4.19's REST operations from its `-rest_api` declarations.

    python -m pytest_emqx_mock.restapigen --git-dir DIR [--check]

reads the `-rest_api(#{name, method, path, ...})` attributes of every module under `apps/*/src`
and `lib-ce/*/src` at tag `v4.4.19` of a clone of emqx/emqx (`DIR`, its git directory: a bare
clone or a checkout's `.git`), and writes `pytest_emqx_mock/flavours/v4/declared.json`: each
module's operations in declaration order, as name, method and path (facts only: no `descr`
text). The file is committed, so users need no clone: `emqx-mock coverage` reports from it.

With `--check` nothing is written: the exit code says whether the committed file is current.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

TAG = "v4.4.19"
OUTPUT = Path(__file__).resolve().parent / "flavours" / "v4" / "declared.json"
#: Where minirest finds API modules: the applications' sources (tests and CI tools are not).
_SOURCES = ("apps/*/src/*.erl", "apps/*/src/*/*.erl", "lib-ce/*/src/*.erl")
_DECLARATION = re.compile(r"^-rest_api\(\s*#\{(.*?)\}\s*\)\.", re.S | re.M)
_FIELDS = {
    "name": re.compile(r"\bname\s*=>\s*'?([A-Za-z0-9_]+)'?"),
    "method": re.compile(r"\bmethod\s*=>\s*'([A-Z]+)'"),
    "path": re.compile(r'\bpath\s*=>\s*"([^"]*)"'),
}


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True).stdout


def generate(git_dir: Path) -> str:
    """The file's text: `{"source", "modules": {module: [{name, method, path}]}}`, modules by name."""
    listed = _git(git_dir, "grep", "-l", "-e", "-rest_api(", TAG, "--", *_SOURCES).split()
    modules: dict[str, list[dict[str, str]]] = {}
    for entry in listed:
        path = entry.split(":", 1)[1]
        operations = []
        for body in _DECLARATION.findall(_git(git_dir, "show", entry)):
            found = {field: pattern.search(body) for field, pattern in _FIELDS.items()}
            missing = [field for field, match in found.items() if match is None]
            if missing:
                raise ValueError(f"{path}: a declaration without a literal {', '.join(missing)}: {body.strip()[:80]}")
            operations.append({field: match[1] for field, match in found.items() if match is not None})
        modules[Path(path).stem] = operations
    document: dict[str, Any] = {"source": f"emqx/emqx {TAG}: the -rest_api declarations of {', '.join(_SOURCES)}", "modules": dict(sorted(modules.items()))}
    return json.dumps(document, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_emqx_mock.restapigen", description="Derive EMQX 4.4.19's REST operations from its -rest_api declarations.")
    parser.add_argument("--git-dir", type=Path, required=True, help="the git directory of a clone of emqx/emqx that has the tag v4.4.19")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the committed file is not current")
    args = parser.parse_args(argv)
    try:
        text = generate(args.git_dir)
    except (subprocess.CalledProcessError, ValueError) as error:
        print(f"restapigen: {getattr(error, 'stderr', None) or error}", file=sys.stderr)
        return 2
    if args.check:
        current = OUTPUT.exists() and OUTPUT.read_text() == text
        if not current:
            print(f"restapigen: {OUTPUT} is not current", file=sys.stderr)
        return 0 if current else 1
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
