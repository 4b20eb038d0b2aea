"""Page/limit listing with EMQX's meta variants (surface notes §4.1): `counted` lists report
`count` (rows matching in all) and `hasnext`; `fuzzy` ones (a `like_*` filter) only `hasnext`."""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Sequence, TypeVar

T = TypeVar("T")


def counted_meta(page: int, limit: int, count: int) -> dict[str, Any]:
    return {"page": page, "limit": limit, "count": count, "hasnext": page * limit < count}


def paginate(rows: Iterable[T], page: int, limit: int, *, counted: bool) -> tuple[list[T], dict[str, Any]]:
    """One page of `rows` (in listing order) and its meta; a page past the end is empty."""
    start = (page - 1) * limit
    if isinstance(rows, Sequence):
        found = list(rows[start : start + limit])
        total = len(rows)
        if counted:
            return found, counted_meta(page, limit, total)
        return found, {"page": page, "limit": limit, "hasnext": start + limit < total}
    iterator = iter(rows)
    skipped = sum(1 for _ in itertools.islice(iterator, start))
    found = list(itertools.islice(iterator, limit))
    if counted:
        return found, counted_meta(page, limit, skipped + len(found) + sum(1 for _ in iterator))
    return found, {"page": page, "limit": limit, "hasnext": next(iterator, None) is not None}
