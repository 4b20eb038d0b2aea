"""Domain errors raised by the state model; the HTTP layer maps each to EMQX's answer.

They also subclass the built-in exception a Python caller would expect from the seeding API
(`ValueError` for bad input, `LookupError` for a missing row)."""

from __future__ import annotations


class ModelError(Exception):
    """A request the model refuses; `str(error)` is the reason in EMQX's own words."""


class NotFound(ModelError, LookupError):
    pass


class AlreadyExists(ModelError, ValueError):
    pass


class Invalid(ModelError, ValueError):
    pass


class LimitReached(ModelError, ValueError):
    pass


class NotAllowed(ModelError, ValueError):
    """An operation EMQX forbids on this row (deleting the default user, or oneself)."""
