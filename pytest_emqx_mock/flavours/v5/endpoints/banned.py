"""`emqx_mgmt_api_banned`: the ban list.

* `GET /banned` takes at most one filter (`too_many_filters` otherwise; an exact filter and
  the `like_` one of the same field count once, the exact one wins). Without a filter the
  meta is `{page, limit, count}`; an exact one (`clientid`, `username`, `peerhost`) answers its
  ban whatever the page, with `{page, limit, hasnext: false, count}`; a `like_*` filter is a
  regular expression run on each candidate's `who` (a pattern ban's own text included), meta
  `{page, limit, hasnext}`. Rule bans (`*_re`, `peerhost_net`) are listed first.
* `POST /banned` answers the ban itself. Creating a `clientid` ban kicks that client's
  session (only that kind: EMQX kicks nobody for the others, who are refused when they next
  connect). A live ban on the same `who` is `ALREADY_EXISTS`, with that ban as JSON text.
* Error texts are Erlang's: `"bad peerhost"` with its quotes, a CIDR's crash reason,
  `{"nothing to repeat",0}` for a bad pattern, the `~p` layout of the expired-ban message.
"""

from __future__ import annotations

import json
from typing import Any

from ....http.pagination import paginate
from ....http.replies import ApiError, Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.banned import (
    BadWho,
    Ban,
    PcreError,
    compile_pcre,
    expired_ban_text,
    normalize_who,
)
from ....state.clock import now, rfc3339_s

routes = Routes()

EXACT_FILTERS = ("clientid", "username", "peerhost")
LIKE_FILTERS = ("like_clientid", "like_username", "like_peerhost", "like_peerhost_net")
#: The kinds each `like_*` filter looks at (`ms_from_qstring/1`).
_LIKE_KINDS = {
    "clientid": ("clientid", "clientid_re"),
    "username": ("username", "username_re"),
    "peerhost": ("peerhost",),
    "peerhost_net": ("peerhost_net",),
}


def ban_view(ban: Ban) -> dict[str, Any]:
    """`emqx_banned:format/1`."""
    return {
        "as": ban.kind,
        "who": ban.who,
        "by": ban.by,
        "reason": ban.reason,
        "at": rfc3339_s(ban.at),
        "until": "infinity" if ban.until is None else rfc3339_s(ban.until),
    }


def _jiffy(value: dict[str, Any]) -> str:
    """JSON text as `emqx_utils_json:encode/1` (jiffy) writes a small map: keys descending."""
    return json.dumps({key: value[key] for key in sorted(value, reverse=True)}, ensure_ascii=False, separators=(",", ":"))


# -- listing --------------------------------------------------------------------------------------


@routes.get("/banned")
def list_bans(call: Call) -> dict[str, Any]:
    query, bans = call.query, call.broker.bans
    page, limit = query["page"], query["limit"]
    exact = [(name, query[name]) for name in EXACT_FILTERS if name in query]
    # `parse_qstring` drops a fuzzy key when the exact one of the same field is present
    fuzzy = [(name[5:], query[name]) for name in LIKE_FILTERS if name in query and name[5:] not in query]
    if not exact and not fuzzy:
        rows, _ = paginate(list(bans), page, limit, counted=True)
        return {"data": [ban_view(ban) for ban in rows], "meta": {"page": page, "limit": limit, "count": len(bans)}}
    if len(exact) + len(fuzzy) > 1:
        raise ApiError(400, "BAD_REQUEST", "too_many_filters")
    if exact:
        kind, who = exact[0]
        try:
            found = bans.get(kind, who)
        except BadWho as error:
            raise ApiError(400, "BAD_REQUEST", str(error)) from None
        matches = [] if found is None else [found]
        return {
            "data": [ban_view(ban) for ban in matches],
            "meta": {"page": page, "limit": limit, "hasnext": False, "count": len(matches)},
        }
    field, pattern = fuzzy[0]
    try:
        regex = compile_pcre(pattern)
    except PcreError as error:
        detail = {
            "message": "The filter is not a validation regex expression",
            "reason": error.message,
            "position": error.position,
            "filter": pattern,
        }
        raise ApiError(400, "BAD_REQUEST", _jiffy(detail)) from None
    kinds = _LIKE_KINDS[field]
    candidates = [ban for ban in bans if ban.kind in kinds and regex.search(ban.who) is not None]
    rows, meta = paginate(candidates, page, limit, counted=False)
    return {"data": [ban_view(ban) for ban in rows], "meta": meta}


# -- create and delete ----------------------------------------------------------------------------


@routes.post("/banned")
def create_ban(call: Call) -> dict[str, Any]:
    body, bans = call.body, call.broker.bans
    kind, who = body["as"], body["who"]
    try:
        normalize_who(kind, who)  # `emqx_banned:parse_who/1`
    except BadWho as error:
        raise ApiError(400, "BAD_REQUEST", str(error)) from None
    at = body.get("at", int(now()))
    until = None if body["until"] == "infinity" else body["until"]
    if until is not None and until <= int(now()):
        raise ApiError(400, "BAD_REQUEST", expired_ban_text(at, until))
    existing = bans.get(kind, who)
    if existing is not None:
        raise ApiError(400, "ALREADY_EXISTS", _jiffy(ban_view(existing)))
    ban = call.broker.add_ban(kind, who, by=body.get("by", "mgmt_api"), reason=body.get("reason", ""), at=at, until=until)
    return ban_view(ban)


@routes.delete("/banned")
def clear_bans(call: Call) -> Reply:
    call.broker.bans.clear()
    return Reply(204)


@routes.delete("/banned/{as}/{who}")
def delete_ban(call: Call) -> Reply:
    kind, who = call.path["as"], call.path["who"]
    try:
        found = call.broker.bans.get(kind, who)
    except BadWho:
        # `look_up/1` hands the parse error to `table/1`, which has no clause for it
        raise handler_crash("function_clause") from None
    if found is None:
        raise ApiError(404, "NOT_FOUND", f"{kind}: {who} not found")
    call.broker.bans.delete(kind, who)
    return Reply(204)
