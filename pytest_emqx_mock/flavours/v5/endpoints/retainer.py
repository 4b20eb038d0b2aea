"""`emqx_retainer_api`: the retainer's config and its retained messages (built-in database).

* `GET /mqtt/retainer` answers the raw config; `PUT` merges the body into it one level deep
  (a `backend` in the body replaces the whole `backend`) and answers the new raw config. A
  config the root validator refuses (no enabled backend) is 400 `UPDATE_FAILED`.
* Listing and lookup treat `topic` as a filter (`t/+`, `t/#`): messages that expired are
  skipped, the rest come oldest first; `meta.count` (the table size) only without a filter, and
  `meta.hasnext` is true whenever the page is full (EMQX's own arithmetic).
* `GET /mqtt/retainer/message/{topic}` answers the first match with its payload in base64
  (left out above 1 MiB); `DELETE` deletes the message, or every message a wildcard matches.
"""

from __future__ import annotations

import base64
from typing import Any

from ....erlang.hocon import valid_rate
from ....erlang.terms import Atom, pretty
from ....http.replies import ApiError, Reply
from ....http.routing import Call, Routes
from ....resources.config import ConfigOperation, serve_config
from ....state.clock import rfc3339_ms
from ....state.errors import Invalid
from ....state.paging import page_meta
from ....state.sessions import Message
from ..validation import hocon_text

routes = Routes()

MAX_PAYLOAD_SHOWN = 1024 * 1024
_NOT_FOUND = "Viewed message doesn't exist"


def message_summary(message: Message) -> dict[str, Any]:
    """`format_message/1`."""
    return {
        "msgid": message.msgid,
        "topic": message.topic,
        "qos": message.qos,
        "publish_at": rfc3339_ms(message.publish_at),
        "from_clientid": message.from_clientid,
        "from_username": message.from_username,
    }


def message_detail(message: Message) -> dict[str, Any]:
    """`format_detail_message/1`: the summary and the payload, unless it is over 1 MiB."""
    detail = message_summary(message)
    if len(message.payload) <= MAX_PAYLOAD_SHOWN:
        detail["payload"] = base64.b64encode(message.payload).decode()
    return detail


# -- config ---------------------------------------------------------------------------------------


def _check_rates(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    """`emqx_limiter_schema:to_rate/1` refuses a rate with the text itself as the reason."""
    for name in ("delivery_rate", "max_publish_rate"):
        if body.get(name) is not None and not valid_rate(str(body[name])):
            error = {"kind": "validation_error", "path": f"root.{name}", "reason": str(body[name]), "value": body[name]}
            raise ApiError(400, "BAD_REQUEST", hocon_text(error))
    return body


def _update_failed(error: Invalid) -> ApiError:
    """`{ok, _} = emqx_retainer:update_config(Body)` fails its match; EMQX prints the reason
    with ~p. (The real reason also carries the checked config and the schema module.)"""
    reason = {"kind": Atom("validation_error"), "path": "retainer", "reason": Atom(str(error))}
    return ApiError(400, "UPDATE_FAILED", pretty((Atom("badmatch"), (Atom("error"), reason))) + "\n")


serve_config(
    routes,
    ConfigOperation("/mqtt/retainer", lambda broker: broker.retained.config, check_body=_check_rates, refused=_update_failed),
)


# -- messages -------------------------------------------------------------------------------------


@routes.get("/mqtt/retainer/messages")
def list_messages(call: Call) -> dict[str, Any]:
    query, retained = call.query, call.broker.retained
    page, limit = query["page"], query["limit"]
    topic = query.get("topic")
    hasnext, rows = retained.page(topic, page, limit)
    meta = page_meta(page, limit, count=len(retained) if topic is None else None, hasnext=hasnext)
    return {"data": [message_summary(message) for message in rows], "meta": meta}


@routes.delete("/mqtt/retainer/messages")
def clear_messages(call: Call) -> Reply:
    call.broker.retained.clear()
    return Reply(204)


@routes.get("/mqtt/retainer/message/{topic}")
def get_message(call: Call) -> dict[str, Any]:
    _, rows = call.broker.retained.page(call.path["topic"], 1, 1)
    if not rows:
        raise ApiError(404, "NOT_FOUND", _NOT_FOUND)
    return message_detail(rows[0])


@routes.delete("/mqtt/retainer/message/{topic}")
def delete_message(call: Call) -> Reply:
    topic = call.path["topic"]
    _, rows = call.broker.retained.page(topic, 1, 1)
    if not rows:
        raise ApiError(404, "NOT_FOUND", _NOT_FOUND)
    call.broker.retained.delete(topic)
    return Reply(204)
