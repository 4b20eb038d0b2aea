"""`emqx_mgmt_api_banned`: the ban list (clientid, username and peerhost bans: EMQX 4.4 has
no rule bans, so the state's `*_re` and `peerhost_net` bans are not in its table).

* `POST /banned` echoes the parameters it was given (not the stored ban), fills `by`
  ("user"), `at` (now) and `until` (now + 300 s) when absent, and needs a `reason`: without
  one its pattern match fails, a 500. A ban on the same `who` replaces the old one; a
  clientid ban kicks that client.
* `DELETE /banned/{as}/{who}` answers 0 whether or not the ban existed.
* `at` and `until` are epoch seconds.
"""

from __future__ import annotations

from typing import Any

from ....http.routing import Call
from ....state.banned import BadWho, Ban
from ....state.clock import now
from ..api import (
    MISSING_PARAMETER,
    PARAMETER_TYPE,
    RestApi,
    crash,
    failed,
    paged,
    param,
    params,
    table_page,
)

api = RestApi()
routes = api.routes

KINDS = ("clientid", "username", "peerhost")
#: The banned defaults `pack_banned/1` fills in.
DEFAULT_BY = "user"
DEFAULT_SECONDS = 300


def ban_row(ban: Ban) -> dict[str, Any]:
    """`format/1` (a ban without end, which only the other doors make, as the atom `infinity`)."""
    until = "infinity" if ban.until is None else int(ban.until)
    return {"who": ban.who, "as": ban.kind, "by": ban.by, "reason": ban.reason, "at": int(ban.at), "until": until}


def _checked(pairs: list[tuple[str, Any]]) -> str:
    """`ensure_required/1` then `validate_params/1`: the ban's kind, or 107 / 108."""
    if not {"who", "as"} <= {key for key, _ in pairs}:
        raise failed(MISSING_PARAMETER, "missing mandatory params: ['who', 'as']")
    kind = param(pairs, "as")
    if kind not in KINDS:
        raise failed(PARAMETER_TYPE, "value of 'as' must be one of: ['clientid', 'username', 'peerhost']")
    return kind  # type: ignore[no-any-return]


@api.rest("list_banned", "GET", "/banned/", "List banned")
def list_banned(call: Call) -> Any:
    rows, meta = table_page([ban_row(ban) for ban in call.broker.bans if ban.kind in KINDS], params(call))
    return paged(rows, meta)


@api.rest("create_banned", "POST", "/banned/", "Create banned")
def create_banned(call: Call) -> dict[str, Any]:
    """The fields' last values are kept (`do_pack_banned/2` folds over them); a `who`, `by` or
    `reason` that is not text, an `at` or `until` that is no integer, or a peerhost that
    `inet:parse_address/1` refuses, is a crash (500) here, as the last is in EMQX."""
    pairs = params(call)
    kind = _checked(pairs)
    fields = dict(pairs)
    if "reason" not in fields:
        raise crash()
    stamp = int(now())
    who, by, reason = param(pairs, "who"), fields.get("by", DEFAULT_BY), fields["reason"]
    at, until = fields.get("at", stamp), fields.get("until", stamp + DEFAULT_SECONDS)
    if not all(isinstance(value, str) for value in (who, by, reason)) or not all(type(value) is int for value in (at, until)):
        raise crash()
    try:
        call.broker.add_ban(kind, who, by=by, reason=reason, at=at, until=until)
    except BadWho:
        raise crash() from None
    return fields


@api.rest("delete_banned", "DELETE", "/banned/:as/:who", "Delete banned")
def delete_banned(call: Call) -> None:
    kind = _checked([("who", call.path["who"]), ("as", call.path["as"])])
    try:
        call.broker.bans.delete(kind, call.path["who"])
    except BadWho:
        raise crash() from None
