"""A request as the journal records it: what matchers, faults and the journal's assertions read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JournalEntry:
    method: str
    path: str  # as received, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # the decoded JSON body, the raw text otherwise, None when empty
    credential: str | None  # "api_key:<key>" or "token:<username>", None when unauthenticated
    status: int
    response_body: bytes  # kept raw: decoding every page would cost more than serving it
    operation: str | None  # "GET /clients/{clientid}", None for an unknown path
    fault: str | None = None  # the fault applied to this request, if any
    #: The prefix of the flavour that answered (`/api/v5`): a matcher's `/clients` is the path under it.
    mount: str = ""
    stub: str | None = None  # the stub that answered this request, if any

    @property
    def response(self) -> Any:
        """The response body decoded as JSON; the text when it is not JSON; None when empty."""
        if not self.response_body:
            return None
        try:
            return json.loads(self.response_body)
        except ValueError:
            return self.response_body.decode(errors="replace")

    def __str__(self) -> str:
        query = "&".join(f"{key}={value}" for key, values in self.query.items() for value in values)
        body = "" if self.body is None else " " + (json.dumps(self.body, sort_keys=True) if not isinstance(self.body, str) else repr(self.body))
        notes = "".join(f" ({name}: {value})" for name, value in (("stub", self.stub), ("fault", self.fault)) if value)
        return f"{self.method} {self.path}{'?' + query if query else ''}{body} -> {self.status}{notes}"
