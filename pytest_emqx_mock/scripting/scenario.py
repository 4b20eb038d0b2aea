"""Scenarios and snapshots: the whole state of the fake as one JSON-able document.

A scenario is written by hand (a JSON or YAML file, or a dict) to set the fake up; a snapshot
is the same document as `snapshot()` writes it, complete to the last counter. So loading a
file, restoring a snapshot and the control API share one piece of code: `prepare` builds the
new state on a scratch broker with the same config, checking every field on the way (a
`ScenarioError` names the file and the field path), and `Prepared.install` moves the finished
state into the real broker under its lock. A bad document therefore loads nothing.

Sections, all optional; a section left out is as after a reset:

* `version`: 1, the format's version.
* `nodes`: names, or objects with a `name` and any other `Node` field (`status`, `role`...).
  They replace the config's nodes: a scenario may describe another cluster.
* `clients`: objects with any `Broker.add_client` field, `subscriptions`, `mqueue` and
  `inflight` included (a queued message is a payload, or an object of `Message` fields with
  `priority`). What a client leaves out gets add_client's realistic defaults. Snapshots add
  what only a history makes: `mqueue_dropped`, `awaiting_rel_cnt`, `authz_cache`, and each
  queued message's `inserted_at_ns` and `delivered_qos` (when lower than its own QoS).
* `retainer` (the retainer's raw config, merged over its defaults) and `retained` messages.
* `bans`, in EMQX's words: `as`, `who`, `by`, `reason`, `at`, `until`.
* `authentication`: the chain in order, each a `password_based:built_in_database`
  authenticator: `password_hash_algorithm` (default sha256, salt prefix), `user_id_type`,
  `enable`, `bootstrap_file`, `bootstrap_type`, `users` (`user_id`, a plain `password` or the
  stored `password_hash` and `salt`, `is_superuser`) and `metrics` by node (`total`, `success`,
  `failed`, `nomatch`). A client's `is_superuser` says how it authenticated.
* `authorization`: `settings` (`no_match`, `deny_action`, `cache`), `sources` (the chain in
  order, replacing the default `file` source: `{type: file, enable, rules}` or
  `{type: built_in_database, enable, max_rules}`, each with optional `metrics`), and the
  built-in database's `rules`: `{users: {name: [rule]}, clients: {id: [rule]}, all: [rule]}`.
* `api_keys`, `users` (dashboard users), `tokens` (their bearer tokens), `alarms`.
* `metrics`: counters by node, in EMQX's names.
* `faults`: descriptions for `Faults.add`, set once the state is in (a snapshot has none:
  faults are not state).

Times are epoch seconds or RFC 3339 text; payloads are text, or base64 beside
`"payload_encoding": "base64"`. Hand-written files give users a plain `password`; snapshots
give the stored `password_hash` and `salt`. API key secrets are written as the model keeps
them. The config's bootstrap API keys and default dashboard user stay unless the scenario
lists them (by name, or an API key by its `api_key`), so tests can still authenticate.

Left out of snapshots: the histories of what happened (published messages, each client's
deliveries: records like the request journal, not state the API serves); the dashboard
monitor's samples and the stats' maxima (a history of the clock: a loaded state is sampled
afresh from the moment it is loaded); and shared groups' round-robin turns (in EMQX a
dispatcher's position, not kept state).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import difflib
import ipaddress
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

import yaml

from ..erlang.hocon import bytesize, duration_ms, valid_rate
from ..state.access import (
    ADMINISTRATOR,
    USER_ROLES,
    ApiKeys,
    DashboardUsers,
    Token,
    Tokens,
    username_problem,
)
from ..state.authn import Authenticator, AuthnMetrics, builtin_db_config
from ..state.authz import SOURCE_METRICS, make_source, normalize_rule
from ..state.banned import BAN_KINDS, Ban
from ..state.broker import CE, Broker, _message
from ..state.clock import parse_rfc3339
from ..state.cluster import RUNNING, STOPPED, Alarm, Node
from ..state.errors import Invalid, ModelError
from ..state.metrics import REPORTED_METRICS
from ..state.monitor import Monitor
from ..state.retainer import _Retained, default_raw_config
from ..state.routes import _gc_paused
from ..state.sessions import (
    STAT_NAMES,
    Message,
    NoLocalOnShared,
    QueuedMessage,
    Session,
    insert_timestamp_ns,
)
from ..state.topics import validate_name

FORMAT_VERSION = 1
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


class _Problem(Exception):
    """What is wrong, and where: the path's keys and list indexes are added as the problem
    travels up through the objects and lists that hold the bad value (so checking a good
    document builds no paths at all)."""

    def __init__(self, problem: str, *segments: str | int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.segments = list(segments)

    def within(self, *segments: str | int) -> _Problem:
        self.segments[:0] = segments
        return self

    @property
    def path(self) -> str:
        """`clients[3].subscriptions[0].qos`."""
        return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" if i else s for i, s in enumerate(self.segments))


# -- reading and writing files ------------------------------------------------------------------


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
            with _gc_paused():  # a big document is many objects: no collections while they are made
                return json.loads(text), name
        except json.JSONDecodeError as error:
            raise ScenarioError(name, f"line {error.lineno}, column {error.colno}", error.msg) from None
    return _load_yaml(text, name), name


def _load_yaml(text: str, name: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when it is there: 10x faster
    try:
        with _gc_paused():
            return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ScenarioError(name, where, str(error.problem or error.context)) from None
    except yaml.YAMLError as error:
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
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
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


# -- field checks: each returns the value as the model takes it, or raises _Problem ----------

Check = Callable[[Any], Any]


def _describe(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return f"a {type(value).__name__}"


def _must(expected: str, value: Any, *segments: str | int) -> _Problem:
    return _Problem(f"must be {expected}, not {_describe(value)}", *segments)


def _twice(value: Any, first: str, *segments: str | int) -> _Problem:
    return _Problem(f"{_describe(value)} is listed twice (first at {first})", *segments)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _must("a string", value)
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _must("a non-empty string", value)
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _must("true or false", value)
    return value


def _integer(low: int = 0, high: int | None = None) -> Check:
    expected = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"

    def check(value: Any) -> int:
        if type(value) is not int or value < low or (high is not None and value > high):
            raise _must(expected, value)
        return value

    return check


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not 0 <= value < math.inf:
        raise _must("a number >= 0", value)
    return float(value)


def _either(choices: Sequence[Any]) -> str:
    shown = [json.dumps(choice) for choice in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _choice(*choices: Any) -> Check:
    expected = _either(choices)
    allowed = {(type(choice), choice) for choice in choices}  # by type too: true is no 1

    def check(value: Any) -> Any:
        try:
            known = (type(value), value) in allowed
        except TypeError:  # a list or an object
            known = False
        if not known:
            raise _must(expected, value)
        return value

    return check


#: 10000-01-01 in epoch seconds: the API shows times in RFC 3339, whose years have four digits.
_YEAR_10000 = 253402300800


def _time(value: Any) -> float:
    """Epoch seconds, RFC 3339 text, or a YAML timestamp (UTC when it names no offset)."""
    seconds: float | None = None
    if type(value) in (int, float):
        seconds = float(value)
    elif isinstance(value, datetime.datetime):
        seconds = (value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)).timestamp()
    elif isinstance(value, str):
        seconds = parse_rfc3339(value)
    if seconds is None:
        raise _must("epoch seconds or an RFC 3339 date-time", value)
    if not 0 <= seconds < _YEAR_10000:  # NaN fails this too
        raise _must("a time from 1970 to 9999", value)
    return seconds


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _json_object(value: Any) -> dict[str, Any]:
    """Any JSON object, copied: the document stays the caller's."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise _must("an object", value)
    return _plain(value)  # type: ignore[no-any-return]


def _strings(value: Any) -> dict[str, str]:
    """An object of strings (client attributes), copied."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise _must("an object", value)
    for key, item in value.items():
        if not isinstance(item, str):
            raise _must("a string", item, key)
    return dict(value)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise _must("a list", value)
    return list(value)


def _unknown(key: Any, known: Iterable[str]) -> _Problem:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f" (did you mean {close[0]}?)" if close else f" (one of: {', '.join(known)})"
    return _Problem("unknown field" + hint, str(key))


def _fields(value: Any, checks: Mapping[str, Check], required: Iterable[str] = ()) -> dict[str, Any]:
    """An object whose every key is one of `checks` (a typo is an error, not a silent
    default), each value checked."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _must("an object", value)
    unknown = value.keys() - checks.keys()
    if unknown:
        raise _unknown(next(key for key in value if key in unknown), checks)
    try:
        found = {key: checks[key](item) for key, item in value.items()}  # the common case, at C speed
    except _Problem:
        found = {}  # again, one field at a time, to say which is wrong
        for key, item in value.items():
            try:
                found[key] = checks[key](item)
            except _Problem as problem:
                raise problem.within(key) from None
    for key in required:
        if key not in found:
            raise _Problem("is required", key)
    return found


def _counters(names: Iterable[str]) -> Check:
    """An object of counters (integers >= 0) by name: checked in one loop, there are many."""
    known = tuple(names)
    known_set = frozenset(known)

    def check(value: Any) -> dict[str, int]:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _must("an object", value)
        for key, item in value.items():
            if key not in known_set:
                raise _unknown(key, known)
            if type(item) is not int or item < 0:
                raise _must("an integer >= 0", item, key)
        return dict(value)

    return check


def _items(value: Any, build: Callable[[Any], Any]) -> list[Any]:
    """`build` of each item of a list, a problem placed at its index."""
    results = []
    for index, item in enumerate(_list(value)):
        try:
            results.append(build(item))
        except _Problem as problem:
            raise problem.within(index) from None
    return results


def _topic_name(value: Any) -> str:
    topic = _text(value)
    try:
        validate_name(topic)
    except Invalid as error:
        raise _Problem(f"must be a topic name, not {_describe(value)} ({error})") from None
    return topic


def _priority(value: Any) -> int | str:
    if value == "infinity" or type(value) is int:
        return value  # type: ignore[no-any-return]
    raise _must('an integer or "infinity"', value)


def _hex(length: int) -> Check:
    pattern = re.compile(f"[0-9a-f]{{{length}}}")

    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise _must(f"{length} lowercase hex digits", value)
        return value

    return check


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _ip_address(value: Any) -> str:
    if isinstance(value, str) and _IPV4.fullmatch(value):  # the common case, ten times faster
        return value
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise _must("an IP address", value) from None
    return value  # type: ignore[no-any-return]


def _count_or_infinity(value: Any) -> int | str:
    if value == "infinity" or (type(value) is int and value >= 0):
        return value  # type: ignore[no-any-return]
    raise _must('an integer >= 0 or "infinity"', value)


def _node_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise _must("a node name (name@host)", value)
    return value


_QOS = _choice(0, 1, 2)
_NODE_CHECKS: dict[str, Check] = {
    "name": _node_name,
    "status": _choice(RUNNING, STOPPED),
    "role": _choice("core", "replicant"),
    "version": _name,
    "otp_release": _name,
    "started_at": _time,
    "memory_total": _name,
    "memory_used": _name,
    "max_fds": _integer(),
    "process_available": _integer(),
    "load1": _number,
    "load5": _number,
    "load15": _number,
}
#: A client's fields that are `Session` arguments, as a snapshot writes them.
_SESSION_CHECKS: dict[str, Check] = {
    "node": _name,
    "username": _optional(_text),
    "ip_address": _optional(_ip_address),
    "port": _optional(_integer(0, 65535)),
    "listener": _name,
    "proto_name": _name,
    "proto_ver": _choice(3, 4, 5),
    "clean_start": _flag,
    "keepalive": _integer(0, 65535),
    "expiry_interval": _integer(0, 4294967295),
    "connected": _flag,
    "created_at": _time,
    "connected_at": _time,
    "disconnected_at": _optional(_time),
    "is_bridge": _flag,
    "mountpoint": _optional(_text),
    "enable_authn": _flag,
    "client_attrs": _strings,
    "peersni": _optional(_text),
    "auth_expire_at": _optional(_time),
    "inflight_max": _integer(),
    "mqueue_max": _integer(),
    "awaiting_rel_max": _integer(),
    "subscriptions_max": _count_or_infinity,
    "stats": _counters(STAT_NAMES),
}
_CLIENT_CHECKS: dict[str, Check] = {
    "clientid": _name,
    **_SESSION_CHECKS,
    "subscriptions": _list,
    "mqueue": _list,
    "inflight": _list,
    "mqueue_dropped": _integer(),
    "awaiting_rel_cnt": _integer(),
    "authz_cache": _list,
    "is_superuser": _flag,
}
_SUBSCRIPTION_CHECKS: dict[str, Check] = {
    "topic": _text,
    "qos": _QOS,
    "nl": _choice(0, 1),
    "rap": _choice(0, 1),
    "rh": _choice(0, 1, 2),
}
#: A message's own fields (`Message`), as every section that holds messages writes them.
_MESSAGE_CHECKS: dict[str, Check] = {
    "topic": _topic_name,
    "payload": _text,
    "payload_encoding": _choice("plain", "base64"),
    "qos": _QOS,
    "retain": _flag,
    "from_clientid": _text,
    "from_username": _text,
    "publish_at": _time,
    "msgid": _name,
    "properties": _json_object,
}
_INFLIGHT_CHECKS: dict[str, Check] = {**_MESSAGE_CHECKS, "inserted_at_ns": _integer(), "delivered_qos": _QOS}
_MQUEUE_CHECKS: dict[str, Check] = {**_INFLIGHT_CHECKS, "priority": _priority}
_RETAINED_CHECKS: dict[str, Check] = {key: check for key, check in _MESSAGE_CHECKS.items() if key != "retain"}
_RETAINED_CHECKS["expires_at"] = _time
_AUTHZ_ACCESS_CHECKS: dict[str, Check] = {"action_type": _choice("publish", "subscribe"), "qos": _QOS, "retain": _flag}
_AUTHZ_SOURCE_CHECKS: dict[str, Check] = {
    "type": _choice("file", "built_in_database"),
    "enable": _flag,
    "rules": _text,
    "max_rules": _integer(1),
    "metrics": lambda value: {node: _counters(SOURCE_METRICS)(counters) for node, counters in _json_object(value).items()},
}
_AUTHZ_CHECKS: dict[str, Check] = {
    "access": lambda value: _fields(value, _AUTHZ_ACCESS_CHECKS, required=("action_type", "qos")),
    "result": _choice("allow", "deny"),
    "topic": _text,
    "updated_time": _integer(),
}
_AUTHENTICATOR_CHECKS: dict[str, Check] = {
    "mechanism": _choice("password_based"),
    "backend": _choice("built_in_database"),
    "password_hash_algorithm": _json_object,
    "user_id_type": _choice("clientid", "username"),
    "enable": _flag,
    "bootstrap_file": _text,
    "bootstrap_type": _choice("hash", "plain"),
    "users": _list,
    "metrics": _json_object,
}
_AUTHN_USER_CHECKS: dict[str, Check] = {
    "user_id": _name,
    "password": _text,
    "password_hash": _text,
    "salt": _text,
    "is_superuser": _flag,
}
_BAN_CHECKS: dict[str, Check] = {
    "as": _choice(*BAN_KINDS),
    "who": _name,
    "by": _text,
    "reason": _text,
    "at": _time,
    "until": _optional(_time),
}
_API_KEY_CHECKS: dict[str, Check] = {
    "name": _name,
    "api_key": _name,
    "api_secret": _name,
    "desc": _text,
    "enable": _flag,
    "expired_at": _optional(_time),
    "created_at": _time,
    "role": _name,
}
_USER_CHECKS: dict[str, Check] = {
    "username": _name,
    "password": _name,
    "password_hash": _hex(64),
    "salt": _name,
    "description": _text,
    "role": _name,
}
_TOKEN_CHECKS: dict[str, Check] = {"token": _name, "username": _name, "role": _choice(*USER_ROLES), "expires_at": _time}
_ALARM_CHECKS: dict[str, Check] = {
    "name": _name,
    "node": _name,
    "message": _text,
    "details": _json_object,
    "activate_at": _time,
    "deactivate_at": _optional(_time),
}


def _payload(fields: dict[str, Any]) -> bytes:
    """The message's payload as bytes, taking its text (and its encoding) out of `fields`."""
    text = fields.pop("payload", "")
    if fields.pop("payload_encoding", "plain") == "plain":
        return text.encode()  # type: ignore[no-any-return]
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _must("base64 (with payload_encoding base64)", text, "payload") from None


def _retainer_config(value: Any) -> dict[str, Any]:
    """The retainer's raw config, merged over the defaults two levels deep; each value of the
    type its default has, durations, sizes and rates in forms EMQX parses."""
    defaults = default_raw_config()

    def like(default: Any) -> Check:
        expected = {bool: "true or false", int: "an integer", str: "a string", list: "a list", dict: "an object"}[type(default)]

        def check(item: Any) -> Any:
            if type(item) is not type(default):
                raise _must(expected, item)
            return item

        return check

    backend_checks = {key: like(default) for key, default in defaults["backend"].items()}
    backend_checks["type"] = _choice("built_in_database")
    backend_checks["storage_type"] = _choice("ram", "disc")
    backend_checks["max_retained_messages"] = _integer()
    backend_checks["index_specs"] = lambda item: _items(item, lambda spec: _items(spec, _integer(1)))
    checks: dict[str, Check] = {key: like(default) for key, default in defaults.items()}
    checks["backend"] = lambda item: {**defaults["backend"], **_fields(item, backend_checks)}
    config = {**defaults, **_fields(value, checks)}
    parsers: dict[str, Callable[[Any], Any]] = {
        "msg_expiry_interval": duration_ms,
        "msg_clear_interval": duration_ms,
        "max_payload_size": bytesize,
        "delivery_rate": lambda text: text if valid_rate(text) else None,
        "max_publish_rate": lambda text: text if valid_rate(text) else None,
        "msg_expiry_interval_override": lambda text: text if text == "disabled" else duration_ms(text),
    }
    for key, parse in parsers.items():
        if parse(config[key]) is None:
            raise _Problem(f"cannot be parsed: {_describe(config[key])}", key)
    return config


# -- building the state ---------------------------------------------------------------------------


class FaultSet(Protocol):
    """What `prepare` needs of the server's faults to try a scenario's out (`api.faults.Faults`)."""

    def add(self, description: Mapping[str, Any]) -> object: ...

    def clear(self) -> None: ...


@dataclass
class Prepared:
    """A scenario's state, built and checked, ready to replace the broker's; and its faults."""

    broker: Broker
    state: Broker
    faults: list[dict[str, Any]]

    def install(self) -> None:
        """Move the built state into the broker, as one change under its lock."""
        broker, state = self.broker, self.state
        with broker.lock:
            for name, value in vars(state).items():
                if name not in ("config", "lock"):
                    setattr(broker, name, value)
            # wired to the broker that owns them, as Broker.reset wires them
            broker.sessions.lock = broker.lock
            broker.sessions.on_delivered = broker._count_settled
            broker.metrics.before_read = broker.settle
            broker.authz.count = broker.metrics.inc
            broker.authz.drain = broker.clear_authz_cache


def prepare(
    broker: Broker,
    document: Any,
    source: str = DICT_SOURCE,
    faults: Callable[[Broker], FaultSet] | None = None,
) -> Prepared:
    """Build the state a scenario describes beside `broker` (which it leaves alone), and try
    its faults on that state with a `faults(state)` set; ScenarioError for the first problem."""
    try:
        with _gc_paused():  # a big state is many objects: no collections while they are made
            return _Builder(broker, faults).build(document)
    except _Problem as problem:
        raise ScenarioError(source, problem.path, problem.problem) from None


class _Builder:
    """Builds one scenario's state on a scratch broker with the real one's config."""

    def __init__(self, broker: Broker, faults: Callable[[Broker], FaultSet] | None) -> None:
        self.broker = broker
        self.config = broker.config
        self.state = Broker(broker.config)
        self.state.monitor = Monitor(broker.monitor.clock)  # a test's clock stays
        self.try_faults = faults
        self.faults: list[dict[str, Any]] = []

    def build(self, document: Any) -> Prepared:
        # in this order: each section may refer to the ones before it (nodes, users)
        steps: dict[str, Callable[[Any], object]] = {
            "version": _choice(FORMAT_VERSION),
            "nodes": self._nodes,
            "retainer": self._retainer,
            "retained": lambda value: _items(value, self._retained),
            "bans": lambda value: _items(value, self._ban),
            "authentication": lambda value: _items(value, self._authenticator),
            "authorization": self._authorization,
            "api_keys": self._api_keys,
            "users": self._users,
            "tokens": lambda value: _items(value, self._token),
            "alarms": lambda value: _items(value, self._alarm),
            "clients": self._clients,
            "metrics": self._metrics,
            "faults": self._faults,
        }
        if not isinstance(document, Mapping):
            raise _must(f"an object of sections ({', '.join(steps)})", document)
        sections = _fields(document, dict.fromkeys(steps, lambda value: value))
        for name, step in steps.items():
            if name in sections:
                try:
                    step(sections[name])
                except _Problem as problem:
                    raise problem.within(name) from None
        return Prepared(self.broker, self.state, self.faults)

    def _node(self, value: Any, *segments: str | int) -> str:
        """The name of one of the scenario's nodes."""
        if value not in self.state.nodes:
            raise _must(_either(list(self.state.nodes)), value, *segments)
        return value  # type: ignore[no-any-return]

    # -- the cluster --------------------------------------------------------------------------

    def _nodes(self, value: Any) -> None:
        nodes: dict[str, Node] = {}
        for index, item in enumerate(_list(value)):
            try:
                fields = {"name": _node_name(item)} if isinstance(item, str) else _fields(item, _NODE_CHECKS, required=("name",))
                name = fields.pop("name")
                if name in nodes:
                    raise _Problem(f"{_describe(name)} is listed twice", *([] if isinstance(item, str) else ["name"]))
            except _Problem as problem:
                raise problem.within(index) from None
            nodes[name] = Node(name, **{"version": self.config.version, **fields})
        if not nodes:
            raise _Problem("a cluster needs at least one node")
        self.state.nodes = nodes

    def _alarm(self, item: Any) -> None:
        fields = _fields(item, _ALARM_CHECKS, required=("name",))
        node = self._node(fields.pop("node", self.state.api_node), "node")
        self.state.alarms.append(Alarm(fields.pop("name"), node, **fields))

    def _metrics(self, value: Any) -> None:
        counters = _counters(REPORTED_METRICS)
        for node, values in _fields(value, dict.fromkeys(self.state.nodes, counters)).items():
            for name, amount in values.items():
                if amount:
                    self.state.metrics.inc(node, name, amount)

    # -- authorization -------------------------------------------------------------------------

    def _authorization(self, value: Any) -> None:
        sections = _fields(value, {"settings": _json_object, "sources": _list, "rules": _json_object})
        authz = self.state.authz
        if "settings" in sections:
            settings = _fields(sections["settings"], {"no_match": _text, "deny_action": _text, "cache": _json_object})
            try:
                authz.update_settings(
                    settings.get("no_match", "allow"), settings.get("deny_action", "ignore"), settings.get("cache", {})
                )
            except Invalid as error:
                raise _Problem(f"is refused: {error}", "settings") from None
        if "sources" in sections:
            authz.sources = []
            for index, item in enumerate(sections["sources"]):
                try:
                    fields = _fields(item, _AUTHZ_SOURCE_CHECKS, required=("type",))
                    metrics = fields.pop("metrics", {})
                    try:
                        source = make_source(fields)
                    except Invalid as error:
                        raise _Problem(f"is refused: {error}") from None
                    if authz.source(source.type) is not None:
                        raise _Problem(f"{_describe(source.type)} is listed twice", "type")
                    for node, counters in metrics.items():
                        source.metrics[self._node(node, "metrics", node)] = {**dict.fromkeys(SOURCE_METRICS, 0), **counters}
                    authz.sources.append(source)
                except _Problem as problem:
                    raise problem.within("sources", index) from None
        rules = _fields(sections.get("rules", {}), {"users": _json_object, "clients": _json_object, "all": _list})
        for kind in ("users", "clients"):
            for key, entries in rules.get(kind, {}).items():
                authz.rules.set(kind, key, self._authz_rules(entries, "rules", kind, key))
        if "all" in rules:
            authz.rules.set("all", "", self._authz_rules(rules["all"], "rules", "all"))

    @staticmethod
    def _authz_rules(value: Any, *segments: str) -> list[dict[str, Any]]:
        rules = []
        for index, rule in enumerate(_list(value)):
            try:
                rules.append(normalize_rule(_json_object(rule)))
            except Invalid as error:
                raise _Problem(f"is refused: {error}", *segments, index) from None
        return rules

    # -- retained messages and bans -----------------------------------------------------------

    def _retainer(self, value: Any) -> None:
        try:
            self.state.retained.update_config(_retainer_config(value))
        except Invalid as error:  # what EMQX's root validator refuses
            raise _Problem(f"is refused: {error}", "backend", "enable") from None

    def _retained(self, item: Any) -> None:
        fields = _fields(item, _RETAINED_CHECKS, required=("topic", "payload"))
        payload = _payload(fields)
        if not payload:
            raise _Problem("must not be empty (an empty retained payload deletes the topic's message)", "payload")
        expires_at = fields.pop("expires_at", None)
        message = Message(payload=payload, retain=True, **fields)
        retained = self.state.retained
        if message.topic in retained._by_topic:
            raise _Problem(f"{_describe(message.topic)} is listed twice", "topic")
        # The table as it is, past what `store` would refuse now: a state may hold messages
        # stored before its config changed (a lower size limit, a disabled retainer).
        expiry = retained._expiry(message) if expires_at is None else expires_at
        retained._by_topic[message.topic] = _Retained(message, expiry)

    def _ban(self, item: Any) -> None:
        fields = _fields(item, _BAN_CHECKS, required=("as", "who"))
        kind = fields.pop("as")
        try:
            ban = Ban(kind, **fields)
        except Invalid as error:
            raise _Problem(f"cannot be parsed as a {kind}: {error}", "who") from None
        if self.state.bans.get(ban.kind, ban.who) is not None:
            raise _Problem(f"{ban.kind} {_describe(ban.who)} is banned twice", "who")
        self.state.bans.add(ban)  # kicking no one: the clients listed are the ones the state holds

    def _authenticator(self, item: Any) -> None:
        fields = _fields(item, _AUTHENTICATOR_CHECKS)
        users, metrics = fields.pop("users", ()), fields.pop("metrics", {})
        fields.pop("mechanism", None), fields.pop("backend", None)
        try:
            config = builtin_db_config(fields.pop("password_hash_algorithm", None), **fields)
            authenticator = self.state.authn.create(config)
        except ModelError as error:
            raise _Problem(str(error), "password_hash_algorithm") from None
        for index, user in enumerate(users):
            try:
                self._authn_user(authenticator, user)
            except _Problem as problem:
                raise problem.within("users", index) from None
        for node, counters in metrics.items():
            name = self._node(node, "metrics", node)
            found = _fields(counters, dict.fromkeys(("total", "success", "failed", "nomatch"), _integer()))
            authenticator.metrics[name] = AuthnMetrics(**found)

    @staticmethod
    def _authn_user(authenticator: Authenticator, item: Any) -> None:
        fields = _fields(item, _AUTHN_USER_CHECKS, required=("user_id",))
        user_id, is_superuser = fields["user_id"], fields.get("is_superuser", False)
        if user_id in authenticator.users:
            raise _Problem(f"{_describe(user_id)} is listed twice", "user_id")
        if ("password" in fields) == ("password_hash" in fields):
            raise _Problem("needs either a plain password or a password_hash (with its salt)")
        try:
            if "password" in fields:
                authenticator.add_user(user_id, fields["password"], is_superuser)
            else:
                authenticator.import_users([{**fields, "is_superuser": is_superuser}], plain=False)
        except ModelError as error:
            raise _Problem(str(error)) from None

    # -- who may call the API -----------------------------------------------------------------

    def _api_keys(self, value: Any) -> None:
        listed = ApiKeys()
        first_with_key: dict[str, int] = {}
        roles = self.config.api_key_roles
        for index, item in enumerate(_list(value)):
            try:
                fields = _fields(item, _API_KEY_CHECKS, required=("name",))
                if fields.get("role", ADMINISTRATOR) not in roles:
                    raise _must(f"{_either(roles)} (edition {self.config.edition})", fields["role"], "role")
                created_at = fields.pop("created_at", None)
                name = fields.pop("name")
                if name in {key.name for key in listed}:
                    raise _Problem(f"{_describe(name)} is listed twice", "name")
                try:
                    key = listed.create(name, **fields)
                except ModelError as error:
                    raise _Problem(f"cannot be created: {error}") from None
                if key.api_key in first_with_key:
                    raise _twice(key.api_key, f"api_keys[{first_with_key[key.api_key]}]", "api_key")
            except _Problem as problem:
                raise problem.within(index) from None
            first_with_key[key.api_key] = index
            if created_at is not None:
                key.created_at = created_at
        names = {key.name for key in listed}
        kept = [key for key in self.state.api_keys if key.name not in names and key.api_key not in first_with_key]
        table = ApiKeys()
        for key in [*kept, *listed]:
            try:
                copied = table.create(
                    key.name, desc=key.desc, enable=key.enable, expired_at=key.expired_at, role=key.role,
                    api_key=key.api_key, api_secret=key.api_secret,
                )  # fmt: skip
            except ModelError as error:  # over the limit, with the config's keys counted
                raise _Problem(f"cannot be created: {error}") from None
            copied.created_at = key.created_at
        self.state.api_keys = table

    def _users(self, value: Any) -> None:
        listed = DashboardUsers()
        for index, item in enumerate(_list(value)):
            try:
                self._user(listed, item)
            except _Problem as problem:
                raise problem.within(index) from None
        kept = [user for user in self.state.users if user.username not in listed]
        table = DashboardUsers()
        for user in [*kept, *listed]:
            # a table takes users by password: the stored form is set after
            copied = table.add(user.username, "", description=user.description, role=user.role, check_policy=False)
            copied.password_hash, copied.salt = user.password_hash, user.salt
        self.state.users = table

    def _user(self, listed: DashboardUsers, item: Any) -> None:
        fields = _fields(item, _USER_CHECKS, required=("username",))
        username, role = fields["username"], fields.get("role", ADMINISTRATOR)
        roles = USER_ROLES if self.config.edition != CE else (ADMINISTRATOR,)
        if role not in roles:
            raise _must(f"{_either(roles)} (edition {self.config.edition})", role, "role")
        if username in listed:
            raise _Problem(f"{_describe(username)} is listed twice", "username")
        stored = [key for key in ("password_hash", "salt") if key in fields]
        if stored and "password" in fields:
            raise _Problem("is given with its stored form (password_hash, salt): give one", "password")
        if len(stored) == 1:
            raise _Problem(f"is required with {stored[0]}", "salt" if stored == ["password_hash"] else "password_hash")
        if not stored and "password" not in fields:
            raise _Problem("is required (or password_hash and salt)", "password")
        # The password policy holds for users as the API creates them; the default user is
        # created at boot without it, as in EMQX.
        check_policy = not stored and username != self.config.default_username
        try:
            user = listed.add(username, fields.get("password", ""), description=fields.get("description", ""), role=role, check_policy=check_policy)
        except Invalid as error:
            raise _Problem(str(error), "username" if username_problem(username) else "password") from None
        if stored:
            user.password_hash, user.salt = fields["password_hash"], fields["salt"]

    def _token(self, item: Any) -> None:
        fields = _fields(item, _TOKEN_CHECKS, required=("token", "username", "expires_at"))
        users = self.state.users
        if fields["username"] not in users:
            raise _must("a dashboard user of the scenario", fields["username"], "username")
        role = fields.get("role", users.get(fields["username"]).role)
        tokens: Tokens = self.state.tokens
        tokens._tokens[fields["token"]] = Token(fields["token"], fields["username"], role, fields["expires_at"])

    # -- clients -------------------------------------------------------------------------------

    def _clients(self, value: Any) -> None:
        sessions = self.state.sessions
        first_at: dict[str, int] = {}
        for index, item in enumerate(_list(value)):
            try:
                session = self._client(item)
                if session.clientid in first_at:
                    raise _twice(session.clientid, f"clients[{first_at[session.clientid]}]", "clientid")
            except _Problem as problem:
                raise problem.within(index) from None
            first_at[session.clientid] = index
            sessions.put(session)

    def _client(self, item: Any) -> Session:
        fields: dict[str, Any] = {"clientid": _name(item)} if isinstance(item, str) else _fields(item, _CLIENT_CHECKS)
        clientid = fields.pop("clientid", None)
        subscriptions = fields.pop("subscriptions", ())
        mqueue, inflight = fields.pop("mqueue", ()), fields.pop("inflight", ())
        mqueue_dropped, awaiting_rel = fields.pop("mqueue_dropped", 0), fields.pop("awaiting_rel_cnt", 0)
        authz_cache = fields.pop("authz_cache", ())
        is_superuser = fields.pop("is_superuser", False)
        fields["node"] = self._node(fields["node"], "node") if "node" in fields else next(iter(self.state.nodes))
        defaults = self.state.defaults
        session = Session(clientid or defaults.clientid(), **defaults.fill(fields))
        for index, subscription in enumerate(subscriptions):
            try:
                self._subscribe(session, subscription)
            except _Problem as problem:
                raise problem.within("subscriptions", index) from None
        if inflight:
            queued = self._queued(session, inflight, _INFLIGHT_CHECKS, "inflight")
            if len(queued) > session.inflight_max:
                raise _Problem(f"holds at most inflight_max={session.inflight_max} messages, not {len(queued)}", "inflight")
            session.inflight.extend(queued)
        if mqueue:
            queued = self._queued(session, mqueue, _MQUEUE_CHECKS, "mqueue")
            if 0 < session.mqueue_max < len(queued):  # a max of 0 is EMQX's "no limit"
                raise _Problem(f"holds at most mqueue_max={session.mqueue_max} messages, not {len(queued)}", "mqueue")
            session.mqueue.extend(sorted(queued, key=lambda entry: entry.sort_key))
        for index, entry in enumerate(authz_cache):
            try:
                session.authz_cache.append(_fields(entry, _AUTHZ_CHECKS, required=("access", "result", "topic", "updated_time")))
            except _Problem as problem:
                raise problem.within("authz_cache", index) from None
        if is_superuser:
            session.is_superuser = True
        if mqueue_dropped:
            session._mqueue_dropped = mqueue_dropped
        if awaiting_rel:
            session.awaiting_rel_cnt = awaiting_rel
        return session

    def _subscribe(self, session: Session, item: Any) -> None:
        fields: dict[str, Any]
        topic_at: tuple[str, ...]
        if isinstance(item, str):
            fields, topic_at = {"topic": item}, ()
        else:
            fields, topic_at = _fields(item, _SUBSCRIPTION_CHECKS, required=("topic",)), ("topic",)
        topic = fields["topic"]
        if topic in session.subscriptions:
            raise _Problem(f"{_describe(topic)} is subscribed twice", *topic_at)
        try:
            session.subscribe(**fields)
        except NoLocalOnShared as error:
            raise _Problem(str(error), "nl") from None
        except Invalid as error:
            raise _Problem(f"must be a topic filter, not {_describe(topic)} ({error})", *topic_at) from None

    def _queued(self, session: Session, items: list[Any], checks: Mapping[str, Check], kind: str) -> list[QueuedMessage]:
        """An mqueue's or inflight window's messages; a message without a topic takes one its
        session's first subscription matches, as `add_client` does."""
        entries = []
        for index, item in enumerate(items):
            try:
                fields: dict[str, Any] = {"payload": _text(item)} if isinstance(item, str) else _fields(item, checks)
                inserted_at_ns, delivered_qos = fields.pop("inserted_at_ns", None), fields.pop("delivered_qos", None)
                fields["payload"] = _payload(fields)
                message, priority = _message(fields, session)
                if delivered_qos is not None and delivered_qos > message.qos:
                    raise _Problem(f"must be at most the message's qos ({message.qos}), not {delivered_qos}", "delivered_qos")
            except _Problem as problem:
                raise problem.within(kind, index) from None
            stamp = insert_timestamp_ns() if inserted_at_ns is None else inserted_at_ns
            entries.append(QueuedMessage(message, stamp, priority, -1 if delivered_qos is None else delivered_qos))
        return entries

    # -- faults --------------------------------------------------------------------------------

    def _faults(self, value: Any) -> None:
        """Set each fault on the built state, then end them all: a bad description fails
        before anything loads, and the state is left as the scenario describes it."""
        self.faults = _items(value, _json_object)
        if not self.faults:
            return
        if self.try_faults is None:
            raise _Problem("are set on a server: load the scenario with EmqxServer.load_scenario")
        trial = self.try_faults(self.state)
        try:
            for index, description in enumerate(self.faults):
                try:
                    trial.add(description)
                except ValueError as error:
                    raise _Problem(str(error), index) from None
        finally:
            trial.clear()


# -- snapshots ------------------------------------------------------------------------------------


def snapshot(broker: Broker) -> dict[str, Any]:
    """The whole state as a scenario document (see the module's notes for what is left out),
    sharing nothing with the broker: later changes do not show in it."""
    with broker.lock, _gc_paused():
        broker.settle()  # what the filter logs hold for the sessions is theirs
        return {
            "version": FORMAT_VERSION,
            "nodes": [{key: getattr(node, key) for key in _NODE_CHECKS} for node in broker.nodes.values()],
            "clients": [_client_document(session) for session in broker.sessions],
            "retainer": _plain(broker.retained.raw_config),
            "retained": [
                {**_message_document(entry.message, with_retain=False), "expires_at": entry.expires_at}
                for entry in broker.retained._by_topic.values()
            ],
            "authentication": [_authenticator_document(authenticator) for authenticator in broker.authn],
            "bans": [
                {"as": ban.kind, "who": ban.who, "by": ban.by, "reason": ban.reason, "at": ban.at, "until": ban.until}
                for ban in broker.bans
            ],
            "api_keys": [
                {
                    "name": key.name, "api_key": key.api_key, "api_secret": key.api_secret, "desc": key.desc,
                    "enable": key.enable, "expired_at": key.expired_at, "created_at": key.created_at, "role": key.role,
                }  # fmt: skip
                for key in broker.api_keys
            ],
            "users": [
                {"username": user.username, "password_hash": user.password_hash, "salt": user.salt, "description": user.description, "role": user.role}
                for user in broker.users
            ],
            "tokens": [
                {"token": token.token, "username": token.username, "role": token.role, "expires_at": token.expires_at}
                for token in broker.tokens._tokens.values()
            ],
            "alarms": [
                {
                    "name": alarm.name, "node": alarm.node, "message": alarm.message, "details": _plain(alarm.details),
                    "activate_at": alarm.activate_at, "deactivate_at": alarm.deactivate_at,
                }  # fmt: skip
                for alarm in broker.alarms
            ],
            "authorization": {
                "settings": _plain(broker.authz.settings),
                "sources": [{**_plain(source.config), "metrics": _plain(source.metrics)} for source in broker.authz.sources],
                "rules": {
                    "users": _plain(broker.authz.rules.users),
                    "clients": _plain(broker.authz.rules.clients),
                    "all": _plain(broker.authz.rules.all),
                },
            },
            "metrics": _metrics_document(broker),
        }


def _authenticator_document(authenticator: Authenticator) -> dict[str, Any]:
    return {
        **_plain(authenticator.config),
        "users": [
            {"user_id": user.user_id, "password_hash": user.password_hash, "salt": user.salt, "is_superuser": user.is_superuser}
            for user in authenticator.users.values()
        ],
        "metrics": {node: dict(vars(counters)) for node, counters in authenticator.metrics.items()},
    }


def _metrics_document(broker: Broker) -> dict[str, dict[str, int]]:
    """Each node's counters that are not 0."""
    document = {}
    for node in broker.nodes:
        counters = {name: value for name, value in broker.metrics.node(node).items() if value}
        if counters:
            document[node] = counters
    return document


def _plain(value: Any) -> Any:
    """A copy in JSON's types: the model keeps some lists as tuples (`User-Property` pairs)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _client_document(session: Session) -> dict[str, Any]:
    document: dict[str, Any] = {"clientid": session.clientid}
    for key in _SESSION_CHECKS:
        document[key] = getattr(session, key)
    document["client_attrs"] = dict(session.client_attrs)
    stats = session.stats
    document["stats"] = {name: stats.get(name, 0) for name in STAT_NAMES}  # every one: nothing left to defaults
    document["subscriptions"] = [
        s.topic if not (s.qos or s.nl or s.rap or s.rh) else {"topic": s.topic, "qos": s.qos, "nl": s.nl, "rap": s.rap, "rh": s.rh}
        for s in session.subscriptions.values()
    ]
    document["mqueue"] = [{**_queued_document(entry), "priority": entry.priority} for entry in session.mqueue]
    document["inflight"] = [_queued_document(entry) for entry in session.inflight]
    document["mqueue_dropped"] = session.mqueue_dropped
    document["awaiting_rel_cnt"] = session.awaiting_rel_cnt
    document["authz_cache"] = _plain(session.authz_cache)
    document["is_superuser"] = session.is_superuser
    return document


def _queued_document(entry: QueuedMessage) -> dict[str, Any]:
    document = {**_message_document(entry.message), "inserted_at_ns": entry.inserted_at_ns}
    if entry.qos != entry.message.qos:
        document["delivered_qos"] = entry.qos
    return document


def _message_document(message: Message, with_retain: bool = True) -> dict[str, Any]:
    try:
        payload = {"payload": message.payload.decode()}
    except UnicodeDecodeError:
        payload = {"payload": base64.b64encode(message.payload).decode(), "payload_encoding": "base64"}
    document: dict[str, Any] = {"topic": message.topic, **payload, "qos": message.qos}
    if with_retain:
        document["retain"] = message.retain
    document.update(
        from_clientid=message.from_clientid,
        from_username=message.from_username,
        publish_at=message.publish_at,
        msgid=message.msgid,
        properties=_plain(message.properties),
    )
    return document
