"""Scenarios and snapshots: the whole state of the fake as one JSON-able document.

A scenario is written by hand (a JSON or YAML file, or a dict) to set the fake up; a snapshot
is the same document as `snapshot()` writes it, complete to the last counter. So loading a
file, restoring a snapshot and the control API share one piece of code (`document.prepare`),
checking every field on the way: a `ScenarioError` names the file and the field path, and a
bad document loads nothing. Each section belongs to a kind of state and is read and written by
that kind's registration (`state.kinds`); `files` finds, reads and writes the documents.

Sections, all optional; a section left out is as after a reset:

* `version`: 1, the format's version.
* `emqx_version`: the EMQX version the scenario is for ("6.3": `versions`). Where a scenario
  starts a server it picks its version unless one is given; loading one into a server of
  another version is a ScenarioError (its defaults and endpoints differ). Snapshots name none.
* `flavour`: the front doors the scenario is for (`v4`, or a list such as `[v5, v4]`), and
  `deployment` (`serverless`) beside a `cloud-v5` one. Where a scenario starts a server (the
  marker, `emqx-mock --seed`) they pick its doors unless those are given; loading one into a
  server that does not serve them all is a ScenarioError: its clients would be asked for at
  a door that is not there. Snapshots name none (doors are not state).
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
* `stubs`: descriptions for `Stubs.add` (`{request: GET /rules, json: []}`), and `faults`:
  descriptions for `Faults.add`, set once the state is in, stubs first (a snapshot has none:
  stubs and faults are not state).

Times are epoch seconds (milliseconds from 1e11 up) or RFC 3339 text; payloads are text, or base64 beside
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

from .document import (
    FORMAT_VERSION,
    Doors,
    Prepared,
    RuleSet,
    Trial,
    checkpoint,
    doors,
    emqx_version,
    prepare,
    snapshot,
)
from .files import (
    DICT_SOURCE,
    PACKAGED,
    ScenarioError,
    dumps,
    file_format,
    locate,
    packaged,
    read,
    save,
)

__all__ = [
    "DICT_SOURCE",
    "Doors",
    "FORMAT_VERSION",
    "PACKAGED",
    "Prepared",
    "RuleSet",
    "ScenarioError",
    "checkpoint",
    "doors",
    "dumps",
    "emqx_version",
    "file_format",
    "locate",
    "packaged",
    "prepare",
    "read",
    "save",
    "snapshot",
    "Trial",
]
