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

from typing import Any

from ....http.replies import ApiError, Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.banned import BadWho
from ....state.errors import AlreadyExists
from ....state.paging import page_meta, paginate

routes = Routes()

EXACT_FILTERS = ("clientid", "username", "peerhost")
LIKE_FILTERS = ("like_clientid", "like_username", "like_peerhost", "like_peerhost_net")


# -- listing --------------------------------------------------------------------------------------


@routes.get("/banned")
def list_bans(call: Call) -> dict[str, Any]:
    query, bans = call.query, call.broker.bans
    page, limit = query["page"], query["limit"]
    exact = [(name, query[name]) for name in EXACT_FILTERS if name in query]
    # `parse_qstring` drops a fuzzy key when the exact one of the same field is present
    fuzzy = [(name[5:], query[name]) for name in LIKE_FILTERS if name in query and name[5:] not in query]
    if not exact and not fuzzy:
        every = list(bans)
        rows, _ = paginate(every, page, limit, counted=True)
        return {"data": [ban.view() for ban in rows], "meta": page_meta(page, limit, count=len(every))}
    if len(exact) + len(fuzzy) > 1:
        raise ApiError(400, "BAD_REQUEST", "too_many_filters")
    if exact:
        found = bans.get(*exact[0])
        matches = [] if found is None else [found]
        meta = page_meta(page, limit, count=len(matches), hasnext=False)
        return {"data": [ban.view() for ban in matches], "meta": meta}
    rows, meta = paginate(bans.search(*fuzzy[0]), page, limit, counted=False)
    return {"data": [ban.view() for ban in rows], "meta": meta}


# -- create and delete ----------------------------------------------------------------------------


@routes.post("/banned", errors={AlreadyExists: (400, "ALREADY_EXISTS")})
def create_ban(call: Call) -> dict[str, Any]:
    body = call.body
    until = None if body["until"] == "infinity" else body["until"]
    ban = call.broker.create_ban(
        body["as"], body["who"], at=body.get("at"), until=until, by=body.get("by", "mgmt_api"), reason=body.get("reason", "")
    )
    return ban.view()


@routes.delete("/banned")
def clear_bans(call: Call) -> Reply:
    call.broker.bans.clear()
    return Reply(204)


@routes.delete("/banned/{as}/{who}")
def delete_ban(call: Call) -> Reply:
    try:
        call.broker.bans.remove(call.path["as"], call.path["who"])
    except BadWho:
        # `look_up/1` hands the parse error to `table/1`, which has no clause for it
        raise handler_crash("function_clause") from None
    return Reply(204)
