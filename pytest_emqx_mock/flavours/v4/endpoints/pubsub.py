"""`emqx_mgmt_api_pubsub`: publish, subscribe and unsubscribe over HTTP, one at a time or in
batches (4.4.19).

* `topic` wins over `topics`; either is split on commas, and each part that is not a valid
  topic name (publish) or filter (subscribe) is dropped; none left: 115 `bad_topic`.
* A `clientid` that is not text: 108 (publish may leave it out); the client's channel on no
  running node: 112 `channel_not_found` (a subscribe is then sent to it, never authorized).
  Checks in this order: clientid, topic, QoS (116 `bad_qos`, subscribe only), channel.
* Publish parameters that do not parse (bad base64, an unknown property, a user property that
  is not a scalar): 108 `bad_params`; a QoS out of 0..2 crashes (500). With `return`, the
  message id (`msgid`), or every one when `topics` was given (`msgids`).
* A batch answers each item's code in order (`{topic, code}`, `{clientid, topic, code}`).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ....http.replies import ApiError
from ....http.routing import Call
from ....state.errors import Invalid
from ....state.topics import TopicFilter, parse_filter, validate_filter, validate_name
from ..api import PARAMETER_TYPE, RestApi, crash, failed, param, params

api = RestApi()
routes = api.routes

BAD_TOPIC, BAD_QOS, NOT_ONLINE = 115, 116, 112

#: `?PROP_MAPPING`: the publish properties EMQX 4.4 takes.
PROPERTIES = ("payload_format_indicator", "message_expiry_interval", "response_topic", "correlation_data", "user_properties", "subscription_identifier", "content_type")


class BadParams(Exception):
    """`parse_publish_params/1` failed: 108 `bad_params`."""


def _valid(topic: str, filter_allowed: bool) -> bool:
    """`emqx_topic:validate/1` of a name, or of a filter (the whole text, `$share/` included)."""
    try:
        validate_filter(TopicFilter(topic)) if filter_allowed else validate_name(topic)
    except Invalid:
        return False
    return True


def topics(pairs: list[tuple[str, Any]], filter_allowed: bool) -> list[str]:
    """`topics/3`: `topic`, else `topics` (default ""), split on commas, the invalid dropped;
    TypeError for a value that is not text (`binary:split/3` fails)."""
    given = param(pairs, "topic")
    if given is None:
        given = param(pairs, "topics", "")
    if not isinstance(given, str):
        raise TypeError(given)
    return [topic for topic in given.split(",") if _valid(topic, filter_allowed)]


def _shown_topic(pairs: list[tuple[str, Any]]) -> Any:
    """`resp_topic/2`: the item's `topic`, else its `topics`, else ""."""
    topic = param(pairs, "topic")
    return param(pairs, "topics", "") if topic is None else topic


def _online(call: Call, clientid: str) -> None:
    session = call.broker.sessions.find(clientid)
    if session is None or session.node not in call.broker.running_nodes:
        raise failed(NOT_ONLINE, "channel_not_found")


def _bad_clientid() -> ApiError:
    return failed(PARAMETER_TYPE, "bad clientid: must be string")


# -- subscribe ------------------------------------------------------------------------------


def _subscribe(call: Call, pairs: list[tuple[str, Any]]) -> None:
    """`parse_subscribe_params/1` then `do_subscribe/3`."""
    try:
        found = topics(pairs, filter_allowed=True)
    except TypeError:
        raise crash() from None
    clientid, qos = param(pairs, "clientid"), param(pairs, "qos", 0)
    if not isinstance(clientid, str):
        raise _bad_clientid()
    if not found:
        raise failed(BAD_TOPIC, "bad_topic")
    if type(qos) is not int or qos not in (0, 1, 2):
        raise failed(BAD_QOS, "bad_qos")
    _online(call, clientid)
    session = call.broker.sessions.get(clientid)
    for topic in found:
        try:
            parse_filter(topic)
        except Invalid:
            raise crash() from None  # `emqx_topic:parse/1` refuses what `validate/1` let through
    for topic in found:
        session.subscribe(topic, qos)


def _unsubscribe(call: Call, pairs: list[tuple[str, Any]]) -> None:
    """`do_unsubscribe/2`: one filter, `topic` only; a filter the client never had is ok."""
    clientid, topic = param(pairs, "clientid"), param(pairs, "topic")
    if not isinstance(clientid, str):
        raise _bad_clientid()
    if not isinstance(topic, str) or not _valid(topic, filter_allowed=True):
        raise failed(BAD_TOPIC, "bad_topic")
    _online(call, clientid)
    call.broker.sessions.get(clientid).unsubscribe(topic)


def _code(action: Any, call: Call, pairs: list[tuple[str, Any]]) -> int:
    try:
        action(call, pairs)
    except ApiError as error:
        if error.status != 200:
            raise
        return int(error.code)
    return 0


def _items(call: Call) -> list[list[tuple[str, Any]]]:
    """A batch's body: a list of objects (none: an empty batch); anything else crashes."""
    if call.body is None:
        return []
    if not isinstance(call.body, list) or not all(isinstance(item, dict) for item in call.body):
        raise crash()
    return [list(item.items()) for item in call.body]


@api.rest("mqtt_subscribe", "POST", "/mqtt/subscribe", "Subscribe a topic")
def subscribe(call: Call) -> None:
    _subscribe(call, params(call))


@api.rest("mqtt_unsubscribe", "POST", "/mqtt/unsubscribe", "Unsubscribe a topic")
def unsubscribe(call: Call) -> None:
    _unsubscribe(call, params(call))


@api.rest("mqtt_subscribe_batch", "POST", "/mqtt/subscribe_batch", "Batch subscribes topics")
def subscribe_batch(call: Call) -> list[dict[str, Any]]:
    return [
        {"clientid": param(item, "clientid", "undefined"), "topic": _shown_topic(item), "code": _code(_subscribe, call, item)}
        for item in _items(call)
    ]


@api.rest("mqtt_unsubscribe_batch", "POST", "/mqtt/unsubscribe_batch", "Batch unsubscribes topics")
def unsubscribe_batch(call: Call) -> list[dict[str, Any]]:
    return [
        {"clientid": param(item, "clientid", "undefined"), "topic": _shown_topic(item), "code": _code(_unsubscribe, call, item)}
        for item in _items(call)
    ]


# -- publish --------------------------------------------------------------------------------


def _payload(pairs: list[tuple[str, Any]]) -> bytes:
    """`decode_payload/2` then `maybe_maps_to_binary/1`: base64 when asked, a JSON value that
    is not text encoded as JSON."""
    payload = param(pairs, "payload", "")
    if param(pairs, "encoding", "plain") == "base64":
        if not isinstance(payload, str):
            raise BadParams()
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise BadParams() from None
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload, separators=(",", ":")).encode()


def _user_properties(value: Any) -> dict[str, str]:
    """`generate_user_props/1`: scalar values, as text."""
    if not isinstance(value, dict):
        raise BadParams()
    found = {}
    for name, item in value.items():
        if isinstance(item, bool):
            found[name] = "true" if item else "false"
        elif isinstance(item, (str, int, float)):
            found[name] = item if isinstance(item, str) else json.dumps(item)
        else:
            raise BadParams()
    return found


def _properties(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`parse_props/1`: the known properties only; the legacy top-level `user_properties`
    joined to those of `properties`."""
    given = param(pairs, "properties", {})
    if not isinstance(given, dict) or any(name not in PROPERTIES for name in given):
        raise BadParams()
    properties = {name: value for name, value in given.items() if name != "user_properties"}
    users = {**_user_properties(param(pairs, "user_properties", {})), **_user_properties(given.get("user_properties", {}))}
    if users:
        properties["user_properties"] = users
    return properties


def _given(pairs: list[tuple[str, Any]], key: str) -> bool:
    """The parameter is there, null or not (`proplists:get_value/3` tells null from absent)."""
    return any(name == key for name, _ in pairs)


def _parsed(pairs: list[tuple[str, Any]]) -> tuple[list[str], bytes, dict[str, Any]]:
    """`parse_publish_params/1`: the topics, payload and properties; BadParams when it fails."""
    try:
        return topics(pairs, filter_allowed=False), _payload(pairs), _properties(pairs)
    except TypeError:
        raise BadParams() from None


def _publish(call: Call, pairs: list[tuple[str, Any]], parsed: tuple[list[str], bytes, dict[str, Any]]) -> Any:
    """`do_publish/2`: each topic published as the API does (from `clientid` when given)."""
    found, payload, properties = parsed
    clientid, qos, retain = param(pairs, "clientid"), param(pairs, "qos", 0), param(pairs, "retain", False)
    if clientid is not None and not isinstance(clientid, str):
        raise _bad_clientid()
    if not found:
        raise failed(BAD_TOPIC, "bad_topic")
    if type(qos) is not int or qos not in (0, 1, 2):
        raise crash()  # `emqx_message:make/6`'s guard
    ids = [
        call.broker.publish(topic, payload, qos=qos, retain=retain is True, from_clientid=clientid or "http_api", properties=properties).message.msgid
        for topic in found
    ]
    if not _given(pairs, "return"):
        return None
    return {"msgids": ids} if _given(pairs, "topics") else {"msgid": ids[-1]}


@api.rest("mqtt_publish", "POST", "/mqtt/publish", "Publish a MQTT message")
def publish(call: Call) -> Any:
    pairs = params(call)
    try:
        parsed = _parsed(pairs)
    except BadParams:
        raise failed(PARAMETER_TYPE, "bad_params") from None
    return _publish(call, pairs, parsed)


@api.rest("mqtt_publish_batch", "POST", "/mqtt/publish_batch", "Batch publish MQTT messages")
def publish_batch(call: Call) -> list[dict[str, Any]]:
    """An item whose parameters do not parse answers `{code: 108, message: bad_params}`."""
    results: list[dict[str, Any]] = []
    for item in _items(call):
        try:
            parsed = _parsed(item)
        except BadParams:
            results.append({"code": PARAMETER_TYPE, "message": "bad_params"})
            continue
        results.append({"topic": _shown_topic(item), "code": _code(lambda call, item: _publish(call, item, parsed), call, item)})
    return results
