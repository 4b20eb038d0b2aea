"""Messages as the sections that hold them (clients' queues, retained messages) write them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..fields import (
    QOS,
    Check,
    choice,
    flag,
    json_object,
    must,
    non_empty,
    payload_data,
    plain,
    text,
    timestamp,
    topic_name,
)
from ..sessions import Message

#: A message's own fields (`Message`).
MESSAGE_CHECKS: dict[str, Check] = {
    "topic": topic_name,
    "payload": payload_data,
    "payload_encoding": choice("plain", "base64"),
    "qos": QOS,
    "retain": flag,
    "from_clientid": text,
    "from_username": text,
    "publish_at": timestamp,
    "msgid": non_empty,
    "properties": json_object,
}


def payload(fields: dict[str, Any]) -> bytes:
    """The message's payload as bytes, taking its text (and its encoding) out of `fields`."""
    return decoded(fields.pop("payload", ""), fields.pop("payload_encoding", "plain"))


def decoded(written: str | bytes, encoding: str) -> bytes:
    """A payload as written (text, or bytes from Python) in its `payload_encoding`, as bytes."""
    if encoding == "plain":
        return written if isinstance(written, bytes) else written.encode()
    try:
        return base64.b64decode(written, validate=True)
    except binascii.Error:
        raise must("base64 (with payload_encoding base64)", written, "payload") from None


def message_document(message: Message, with_retain: bool = True) -> dict[str, Any]:
    try:
        shown = {"payload": message.payload.decode()}
    except UnicodeDecodeError:
        shown = {"payload": base64.b64encode(message.payload).decode(), "payload_encoding": "base64"}
    document: dict[str, Any] = {"topic": message.topic, **shown, "qos": message.qos}
    if with_retain:
        document["retain"] = message.retain
    document.update(
        from_clientid=message.from_clientid,
        from_username=message.from_username,
        publish_at=message.publish_at,
        msgid=message.msgid,
        properties=plain(message.properties),
    )
    return document
