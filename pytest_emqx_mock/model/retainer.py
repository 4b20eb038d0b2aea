"""Retained messages (`emqx_retainer`, built-in database backend)."""

from __future__ import annotations

from typing import Iterator

from .sessions import Message
from .topics import matches


class RetainedMessages:
    """One retained message per topic; publishing an empty retained payload deletes it."""

    def __init__(self) -> None:
        self._by_topic: dict[str, Message] = {}

    def __len__(self) -> int:
        return len(self._by_topic)

    def __iter__(self) -> Iterator[Message]:
        """In EMQX's listing order: ascending topic."""
        return iter([self._by_topic[topic] for topic in sorted(self._by_topic)])

    def store(self, message: Message) -> None:
        if message.payload:
            self._by_topic[message.topic] = message
        else:
            self._by_topic.pop(message.topic, None)

    def get(self, topic: str) -> Message | None:
        return self._by_topic.get(topic)

    def delete(self, topic: str) -> bool:
        return self._by_topic.pop(topic, None) is not None

    def clear(self) -> None:
        self._by_topic.clear()

    def matching(self, topic_filter: str) -> list[Message]:
        """Retained messages whose topic the filter matches, ascending by topic."""
        return [message for message in self if matches(message.topic, topic_filter)]
