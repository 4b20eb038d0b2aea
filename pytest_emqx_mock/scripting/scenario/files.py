"""Scenario files: finding one by its path or a packaged scenario's name, reading a JSON or
YAML document (its syntax errors named by line and column), and writing one atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ...erlang.nesting import TooDeep, check_json, check_value, check_yaml
from ...state.routes import gc_paused

#: The name a scenario given as a dict goes by in error messages.
DICT_SOURCE = "<scenario>"
FILE_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


class ScenarioError(ValueError):
    """A scenario that cannot be loaded: `str()` names the file (or `<scenario>` for a dict),
    the field path and what is wrong, e.g. `fleet.yaml: clients[3].subscriptions[0].qos: must
    be 0, 1 or 2, not 7`."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        super().__init__(f"{source}: {path}: {problem}" if path else f"{source}: {problem}")
        self.source = source
        self.path = path
        self.problem = problem


#: The example scenarios the package ships, which the marker and the command load by name.
PACKAGED = Path(__file__).resolve().parents[2] / "scenarios"


def packaged() -> dict[str, Path]:
    """The packaged scenarios by name: the file's name without its extension."""
    return {path.stem: path for path in sorted(PACKAGED.iterdir()) if path.suffix.lower() in FILE_FORMATS}


def locate(name: str | os.PathLike[str], folders: Sequence[str | os.PathLike[str]]) -> Path:
    """The file a scenario named by the user is: an absolute path as it is; a relative one in
    the first of `folders` that holds it; else the packaged scenario of that name
    (`small-fleet`, or `small-fleet.yaml`). ScenarioError naming what was tried and the
    packaged names when it is none of these."""
    path = Path(name)
    if path.is_absolute():
        return path
    tried = list(dict.fromkeys(Path(folder) / path for folder in folders))  # the rootdir may be the test's folder
    for candidate in tried:
        if candidate.is_file():
            return candidate
    shipped = packaged()
    found = {**shipped, **{file.name: file for file in shipped.values()}}.get(os.fspath(name))
    if found is None:
        raise ScenarioError(
            os.fspath(name),
            "",
            f"no such file (tried {', '.join(map(str, tried))}), nor a packaged scenario ({', '.join(shipped)})",
        )
    return found


def file_format(path: str | os.PathLike[str]) -> str:
    """"json" or "yaml", by the file's extension; ScenarioError for any other."""
    found = FILE_FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise ScenarioError(os.fspath(path), "", "a scenario file is .json, .yaml or .yml")
    return found


def read(source: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[Any, str]:
    """The document (unchecked: `prepare` checks it) and the name errors give it: a dict as it
    is, or a file parsed."""
    if isinstance(source, Mapping):
        try:
            check_value(dict(source))  # before the field checks recurse: see `nesting`
        except TooDeep as error:
            raise ScenarioError(DICT_SOURCE, "", str(error)) from None
        return source, DICT_SOURCE
    name = os.fspath(source)
    kind = file_format(name)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(name, "", f"cannot read the file: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ScenarioError(name, "", f"not UTF-8 text: {error.reason} at byte {error.start}") from None
    if kind == "json":
        try:
            check_json(text)  # before any recursive walk: see `nesting`
            with gc_paused():  # a big document is many objects: no collections while they are made
                return json.loads(text), name
        except json.JSONDecodeError as error:
            raise ScenarioError(name, f"line {error.lineno}, column {error.colno}", error.msg) from None
        except TooDeep as error:
            raise ScenarioError(name, "", str(error)) from None
    return _load_yaml(text, name), name


def _load_yaml(text: str, name: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when it is there: 10x faster
    try:
        check_yaml(text, loader)  # before the composer recurses: see `nesting`
        with gc_paused():
            return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ScenarioError(name, where, str(error.problem or error.context)) from None
    except (yaml.YAMLError, TooDeep) as error:
        raise ScenarioError(name, "", str(error)) from None


def dumps(document: Mapping[str, Any], kind: str) -> str:
    """The document as JSON (one record a line: readable, diffable, and fast to write) or YAML."""
    if kind == "yaml":
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return str(yaml.dump(dict(document), Dumper=dumper, sort_keys=False, allow_unicode=True))
    sections = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            rows = ",\n    ".join(json.dumps(row, ensure_ascii=False) for row in value)
            sections.append(f"  {json.dumps(key)}: [\n    {rows}\n  ]")
        else:
            sections.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(sections) + "\n}\n"


def save(path: str | os.PathLike[str], document: Mapping[str, Any]) -> None:
    """Write the document atomically: serialised first, then written to a temporary file in
    the same directory, synced, and renamed over `path`. A failure at any point leaves the file
    as it was, never half-written."""
    text = dumps(document, file_format(path))
    target = Path(path)
    directory = target.resolve().parent
    temporary = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # created as any new file is (the umask applies: mkstemp's would be private, 0600); a file
    # replaced keeps its own mode
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(file.fileno(), stat.S_IMODE(target.stat().st_mode))
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a crash once the directory is synced
        directory_handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_handle)
        finally:
            os.close(directory_handle)

