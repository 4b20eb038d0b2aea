"""The version axis: which EMQX release line the fake answers as, and every difference between
the lines as data, one table (`CHANGES`) that reads as a changelog.

A line is what a user chooses (`EmqxServer(version="6.3")`); the fake reports its release
(`RELEASES`: the newest patch whose source the fake follows, as `emqx_release.hrl` names it on
that line's branch). A row of the table names the release that brought the change (a patch
release where EMQX backported it, as the changelog of `emqx/emqx` says), and applies to every
line whose release is that or later. So a line between two others (5.9, 5.10) is one entry in
`RELEASES` and no code: the rows decide what it serves and how.

What a row may say, and the query each kind answers:
- ADDED / REMOVED: an endpoint served from that release on, or no longer (`serves`). The
  endpoint is an operation (`"GET /bridges"`) or a path template (`"/bridges/{id}"`: every
  method); an endpoint whose first row is ADDED is not served before it, every other one is
  (EMQX 5.8's operations are the baseline). A flavour drops the routes its line does not serve
  when it is built, so that such a request is the route miss it is in EMQX, at no cost per
  request. A renamed endpoint is the old one REMOVED and the new one ADDED.
- DEFAULT: a setting's default changed (`default`), from `before`.
- ERROR_CODE: an error code renamed (`error_code`).
- BEHAVIOUR / AUTH: an answer or an auth rule that changed (`behaves`: whether the line does it).

From 5.9 on EMQX has one edition, the enterprise build under the BSL (`LICENSE` at 6.2.2): the
edition is a choice at 5.8 only (`edition_at`).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

#: The lines a fake can answer as, oldest first, and the release each reports
#: (`emqx_release.hrl` on its branch: `release-60` is 6.0.3, ...; 6.3 is its beta's source,
#: which `release-63` still names).
RELEASES = {"5.8": "5.8.9", "6.0": "6.0.3", "6.1": "6.1.4", "6.2": "6.2.2", "6.3": "6.3.0-beta.2"}
VERSIONS = tuple(RELEASES)
DEFAULT_VERSION = "5.8"
#: The first release of the single edition (`changes/e5.9.0.en.md`).
_SINGLE_EDITION = "5.9.0"

ADDED = "added"
REMOVED = "removed"
DEFAULT = "default"
ERROR_CODE = "error code"
BEHAVIOUR = "behaviour"
AUTH = "auth"
_ENDPOINT_KINDS = (ADDED, REMOVED)
#: The AUTH and BEHAVIOUR rows' names (`behaves`).
API_SPEC_CREDENTIALS = "the API description needs credentials"
SWAGGER_UI_GONE = "/api-docs redirects to /api-spec.html"

#: The settings and behaviours the rows name, as the code asks for them.
NO_MATCH = "authorization.no_match"
STATUS_JSON_CLUSTER = "`/status?format=json` names the `cluster` instead of `rel_vsn`"
DELAYED_PUBLISH_OK = "`POST /publish` of a `$delayed/...` message answers 200 `{\"id\"}` (was 202 reason code 16)"


@dataclass(frozen=True)
class Change:
    """One row: at release `at`, `subject` (an endpoint, a setting, an error code, a behaviour's
    name) was `kind`; `value` is a setting's new default or a code's new name, `before` a
    setting's default until then; `why`: the EMQX change (PR, changelog file) that made it."""

    at: str
    kind: str
    subject: str
    why: str
    value: Any = None
    before: Any = None


#: Every difference from EMQX 5.8.9, oldest first (`../shared/reference/emqx6-api-delta.md`).
CHANGES: tuple[Change, ...] = (
    Change("5.9.0", BEHAVIOUR, DELAYED_PUBLISH_OK, "#14182, emqx_mgmt_api_publish:publish_result_to_http_reply/2"),
    # Bridges V1 (`emqx_bridge_api`): connectors, actions and sources replace them.
    *(
        Change("6.0.0", REMOVED, path, "#15864, changes/e6.0.0.en.md")
        for path in (
            "/bridges",
            "/bridges/{id}",
            "/bridges/{id}/metrics",
            "/bridges/{id}/metrics/reset",
            "/bridges/{id}/enable/{enable}",
            "/bridges/{id}/{operation}",
            "/nodes/{node}/bridges/{id}/{operation}",
            "/bridges_probe",
        )
    ),
    Change("6.0.0", DEFAULT, NO_MATCH, "#15820, changes/e6.0.0.en.md", value="deny", before="allow"),
    # `emqx_ds_shared_sub_api`, replaced by Message Queues (absent from 6.0.0's paths).
    Change("6.0.0", REMOVED, "/durable_queues", "emqx_ds_shared_sub_api, gone in e6.0.0"),
    Change("6.0.0", REMOVED, "/durable_queues/{id}", "emqx_ds_shared_sub_api, gone in e6.0.0"),
    # `emqx_mgmt_api_status:do_get_status/2`: `cluster` came in e5.9.0 (#14254), `rel_vsn` went in 6.0 (#17187)
    Change("6.0.0", BEHAVIOUR, STATUS_JSON_CLUSTER, "#14254, #17187"),
    # EMQX 6's API description, from the dashboard listener's root (`http.apispec`): brought by
    # 6.2.0 and backported to 6.0.3 and 6.1.2 (`emqx_dashboard:api_spec_dispatch/0`).
    *(
        Change("6.0.3", ADDED, f"GET {path}", "emqx_dashboard_api_spec_handler, 6.0.3 / 6.1.2 / 6.2.0")
        for path in ("/api-spec.json", "/api-spec.md", "/api-spec.html", "/api-spec/{tag}", "/api-spec/{tag}/{name}")
    ),
    Change("6.3.0", AUTH, API_SPEC_CREDENTIALS, "changes/ee/feat-17381.en.md: they and /api-docs/swagger.json need credentials"),
    Change("6.3.0", BEHAVIOUR, SWAGGER_UI_GONE, "changes/ee/breaking-17215.en.md: /api-docs and /api-docs/index.html 308 to /api-spec.html"),
)


def changelog() -> list[str]:
    """The table as the README's "Versions" section shows it, one Markdown row per change
    (the rows of one change, such as the paths of one API removed, together)."""
    lines: list[str] = []
    grouped = itertools.groupby(CHANGES, key=lambda change: (change.at, change.kind, change.why))
    for (at, kind, why), group in grouped:
        rows = list(group)
        if kind in _ENDPOINT_KINDS:
            text = f"{kind}: " + ", ".join(f"`{change.subject}`" for change in rows)
        elif kind == DEFAULT:
            text = "; ".join(f"`{change.subject}` defaults to `{change.value}` (was `{change.before}`)" for change in rows)
        else:
            text = "; ".join(change.subject for change in rows)
        lines.append(f"| {at} | {text} | {why} |")
    return lines


def _release_numbers(release: str) -> tuple[int, ...]:
    """A release's numbers, a pre-release counting as its release: the beta of 6.3.0 carries
    the changes of 6.3.0 that the fake follows."""
    return tuple(int(part) for part in release.partition("-")[0].split("."))


def checked_version(version: Any) -> str:
    """`version` when it is a line the fake answers as; ValueError naming the lines otherwise."""
    if not isinstance(version, str) or version not in RELEASES:
        raise ValueError(f"no EMQX version {version!r}: one of {', '.join(RELEASES)}")
    return version


def release(version: str) -> str:
    """The release a line reports (`GET /nodes`' `version`, the OpenAPI `info`, `/status`)."""
    return RELEASES[version]


def _since(version: str, at: str) -> bool:
    return _release_numbers(RELEASES[version]) >= _release_numbers(at)


def _rows(version: str, kind: tuple[str, ...], subjects: tuple[str, ...]) -> list[Change]:
    return [change for change in CHANGES if change.kind in kind and change.subject in subjects]


def serves(version: str, operation: str) -> bool:
    """Whether the line serves `operation` (`"GET /clients/{clientid}"`, as routes name theirs):
    unless the table says the line does not serve it, or its path."""
    unserved = _unserved(version)
    return operation not in unserved and operation.partition(" ")[2] not in unserved


@functools.lru_cache(maxsize=None)
def _unserved(version: str) -> frozenset[str]:
    """The endpoints of the table the line does not serve, worked out once (a flavour asks for
    each of its routes whenever a server is made)."""
    unserved: set[str] = set()
    for subject in {change.subject for change in CHANGES if change.kind in _ENDPOINT_KINDS}:
        rows = _rows(version, _ENDPOINT_KINDS, (subject,))
        applied = [change for change in rows if _since(version, change.at)]
        # the last row so far decides; before any, an endpoint first ADDED is not yet served
        served = applied[-1].kind == ADDED if applied else rows[0].kind != ADDED
        if not served:
            unserved.add(subject)
    return frozenset(unserved)


def default(version: str, setting: str) -> Any:
    """A setting's default at the line; KeyError for a setting no row names."""
    rows = _rows(version, (DEFAULT,), (setting,))
    if not rows:
        raise KeyError(setting)
    applied = [change.value for change in rows if _since(version, change.at)]
    return applied[-1] if applied else rows[0].before


def error_code(version: str, code: str) -> str:
    """The name the line gives the error code EMQX 5.8 calls `code`."""
    for change in _rows(version, (ERROR_CODE,), (code,)):
        if _since(version, change.at):
            code = change.value
    return code


def behaves(version: str, behaviour: str) -> bool:
    """Whether the line does what the BEHAVIOUR or AUTH row `behaviour` says; KeyError for a
    name no row has."""
    rows = _rows(version, (BEHAVIOUR, AUTH), (behaviour,))
    if not rows:
        raise KeyError(behaviour)
    return any(_since(version, change.at) for change in rows)


def has_editions(version: str) -> bool:
    """Whether the line comes as CE and EE (5.8), rather than as the one edition of 5.9 on."""
    return not _since(version, _SINGLE_EDITION)


def edition_at(version: str, edition: str | None) -> str:
    """The edition a fake of the line is: at 5.8 the one asked for (CE unless given); from
    5.9 the single edition, the enterprise build. Asking for CE there is a ValueError rather
    than an enterprise fake: a test written for CE (no roles, CE's schemas) would otherwise
    pass or fail for reasons it does not state."""
    if has_editions(version):
        return edition or "ce"
    if edition not in (None, "ee"):
        raise ValueError(f"EMQX {version} has one edition, the enterprise build: edition={edition!r} applies to 5.8 only")
    return "ee"
