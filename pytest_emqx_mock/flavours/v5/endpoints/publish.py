"""`emqx_mgmt_api_publish`: publish one message (`POST /publish`) or a batch (`POST /publish/bulk`).

Replies are MQTT reason codes, outside EMQX's error envelope (jsx encodes them, keys ascending):

* 200 `{"id"}`: the message reached at least one subscription. EMQX counts a message handed to
  a subscriber's session process as delivered, whatever the session then does with it (sent,
  inflight, queued for an offline session, or dropped because its mqueue is full);
* 202 `{"reason_code":16,"message":"no_matching_subscribers"}`: nothing matched (a retained
  message is stored all the same);
* 503 `{"reason_code":131,"message":"failed_to_dispatch"}`: it matched, but every dispatch failed;
* 400 `{"reason_code":144|151|131,...}`: refused before publishing (`make_message/1`), checked in
  EMQX's order: the base64 payload, the topic name, then the estimated packet size.

A bulk request checks every message first; the first refused one is the whole (single-object)
reply and nothing is published. Otherwise each is published in turn and the reply is every
result in request order: 200 when all are 200, 503 when any dispatch failed, 202 otherwise.

MQTT properties are kept on `Message.properties` under EMQX's names (`Payload-Format-Indicator`,
`Message-Expiry-Interval`, `Response-Topic`, `Correlation-Data`, `User-Property` as a list of
pairs, `Content-Type`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ....erlang import terms as erlang
from ....http.replies import Reply, handler_crash
from ....http.routing import Call, Routes
from ....state.broker import Broker
from ....state.errors import Invalid
from ....state.topics import validate_name
from ....versions import DELAYED_PUBLISH_OK, behaves

routes = Routes()

#: `mqtt.max_packet_size`, default 1MB: the limit of a message's estimated size.
MAX_PACKET_SIZE = 1024 * 1024

ALL_IS_WELL, PARTIALLY_OK, BAD_REQUEST, DISPATCH_ERROR = 200, 202, 400, 503
RC_NO_MATCHING_SUBSCRIBERS = 16
RC_IMPLEMENTATION_SPECIFIC_ERROR = 131
RC_TOPIC_NAME_INVALID = 144
RC_QUOTA_EXCEEDED = 151  # 0x95 packet_too_large is no PUBACK reason code, so EMQX answers 0x97

_PROPERTY_NAMES = {
    "payload_format_indicator": "Payload-Format-Indicator",
    "message_expiry_interval": "Message-Expiry-Interval",
    "response_topic": "Response-Topic",
    "correlation_data": "Correlation-Data",
    "user_properties": "User-Property",
    "content_type": "Content-Type",
}


class _Refused(Exception):
    """A message `make_message/1` refuses: the whole request's 400 reply."""

    def __init__(self, reason_code: int, message: str) -> None:
        super().__init__(message)
        self.body = {"reason_code": reason_code, "message": message}


# -- checking a message (emqx_mgmt_api_publish:make_message/1) ----------------------------


_BASE64_WHITESPACE = re.compile(rb"[\t\n\r ]")
_BASE64_QUAD = re.compile(rb"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def decode_base64(text: str) -> bytes | None:
    """OTP's `base64:decode/1`: whitespace (tab, LF, CR, space) is skipped anywhere, the rest
    must be whole quads of the standard alphabet, `=` padding only at the very end and required;
    None where it would crash."""
    compact = _BASE64_WHITESPACE.sub(b"", text.encode())
    if not _BASE64_QUAD.match(compact):
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error:  # pragma: no cover - the pattern admits only what decodes
        return None


def estimate_size(topic: str, payload: bytes) -> int:
    """`emqx_message:estimate_size/1`: fixed header 1, variable length 4, topic length 2,
    the topic, packet id 2, the payload."""
    return 1 + 4 + 2 + len(topic.encode()) + 2 + len(payload)


def _properties(requested: dict[str, Any]) -> dict[str, Any]:
    properties = {_PROPERTY_NAMES[name]: value for name, value in requested.items()}
    if "User-Property" in properties:
        properties["User-Property"] = sorted(properties["User-Property"].items())  # maps:to_list/1
    return properties


def make_message(request: dict[str, Any]) -> dict[str, Any]:
    """Check one (schema-checked) message as EMQX does before publishing it; the arguments of
    `Broker.publish`, or _Refused."""
    if request["payload_encoding"] == "base64":
        payload = decode_base64(request["payload"])
        if payload is None:
            term = "{decode_base64_payload_failed," + erlang.binary(request["payload"].encode()) + "}"
            raise _Refused(RC_IMPLEMENTATION_SPECIFIC_ERROR, term)
    else:
        payload = request["payload"].encode()
    topic = request["topic"]
    try:
        validate_name(topic)
    except Invalid:
        raise _Refused(RC_TOPIC_NAME_INVALID, "topic_name_invalid") from None
    if estimate_size(topic, payload) > MAX_PACKET_SIZE:
        raise _Refused(RC_QUOTA_EXCEEDED, "packet_too_large")
    return {
        "topic": topic,
        "payload": payload,
        "qos": request["qos"],
        "retain": request["retain"],
        "properties": _properties(request.get("properties", {})),
    }


# -- publishing and the reply -------------------------------------------------------------


def outcome(message_id: str, matched: int, failed: int = 0, delayed: bool = False) -> tuple[int, dict[str, Any]]:
    """`publish_result_to_http_reply/2`: the status and body for one published message that
    matched `matched` subscriptions, `failed` of whose dispatches failed; a `delayed` one
    (`$delayed/...`, which `emqx_delayed` holds back, matching none) is published all the same
    from 5.9 (the clause on the topic, #14182)."""
    if matched == 0 and delayed:
        return ALL_IS_WELL, {"id": message_id}
    if matched == 0:
        return PARTIALLY_OK, {"reason_code": RC_NO_MATCHING_SUBSCRIBERS, "message": "no_matching_subscribers"}
    if failed < matched:
        return ALL_IS_WELL, {"id": message_id}
    return DISPATCH_ERROR, {"reason_code": RC_IMPLEMENTATION_SPECIFIC_ERROR, "message": "failed_to_dispatch"}


def bulk_status(statuses: list[int]) -> int:
    """`publish_results_to_http_reply/1`: 200 when all are 200, 503 when any is, else 202."""
    distinct = set(statuses)
    if distinct == {ALL_IS_WELL}:
        return ALL_IS_WELL
    return DISPATCH_ERROR if DISPATCH_ERROR in distinct else PARTIALLY_OK


def _publish(broker: Broker, message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    published = broker.publish(**message)
    delayed = message["topic"].startswith("$delayed/") and behaves(broker.config.version, DELAYED_PUBLISH_OK)
    return outcome(published.message.msgid, published.matched, published.failed, delayed)


@routes.post("/publish")
def publish(call: Call) -> Reply:
    try:
        message = make_message(call.body)
    except _Refused as error:
        return Reply(BAD_REQUEST, error.body)
    status, body = _publish(call.broker, message)
    return Reply(status, body)


@routes.post("/publish/bulk")
def publish_bulk(call: Call) -> Reply:
    if not call.body:  # messages([]) returns {errror, ...}, which no case clause matches
        raise handler_crash('{case_clause,{errror,<<"empty_batch">>}}')
    try:
        messages = [make_message(request) for request in call.body]
    except _Refused as error:
        return Reply(BAD_REQUEST, error.body)  # the first refused message; nothing published
    results = [_publish(call.broker, message) for message in messages]
    return Reply(bulk_status([status for status, _ in results]), [body for _, body in results])
