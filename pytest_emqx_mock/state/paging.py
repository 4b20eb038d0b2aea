"""Every listing's page and `meta`, in EMQX's variants (surface notes §4.1).

* `page_meta`: the one place a `meta` is built; a listing names what it knows: `count` (rows
  matching in all) and `hasnext`, either left out where EMQX leaves it out.
* `paginate`: page/limit over rows in listing order; a `counted` list reports `count` and
  `hasnext`, a `fuzzy` one (a `like_*` filter) only `hasnext`.
* `ets_page`: EMQX reading its ETS tables in chunks (`emqx_mgmt_api:cluster_query/5`,
  `select_table_with_count`): subscriptions and alarms (a table per running node), the
  built-in authentication users and the built-in authorization rules.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable, Sequence, TypeVar

Row = TypeVar("Row")


def page_meta(page: int, limit: int, *, count: int | None = None, hasnext: bool | None = None) -> dict[str, Any]:
    """A listing's `meta`: `count` and `hasnext` only where the listing reports them."""
    meta: dict[str, Any] = {"page": page, "limit": limit}
    if count is not None:
        meta["count"] = count
    if hasnext is not None:
        meta["hasnext"] = hasnext
    return meta


def counted_meta(page: int, limit: int, count: int) -> dict[str, Any]:
    """The meta of a counted listing: `hasnext` follows from the count."""
    return page_meta(page, limit, count=count, hasnext=page * limit < count)


def paginate(rows: Iterable[Row], page: int, limit: int, *, counted: bool) -> tuple[list[Row], dict[str, Any]]:
    """One page of `rows` (in listing order) and its meta; a page past the end is empty."""
    start = (page - 1) * limit
    if isinstance(rows, Sequence):
        found = list(rows[start : start + limit])
        total = len(rows)
        if counted:
            return found, counted_meta(page, limit, total)
        return found, page_meta(page, limit, hasnext=start + limit < total)
    iterator = iter(rows)
    skipped = sum(1 for _ in itertools.islice(iterator, start))
    found = list(itertools.islice(iterator, limit))
    if counted:
        return found, counted_meta(page, limit, skipped + len(found) + sum(1 for _ in iterator))
    return found, page_meta(page, limit, hasnext=next(iterator, None) is not None)


def ets_listing(
    tables: Sequence[Sequence[Row]], page: int, limit: int, keep: Callable[[Row], bool] | None = None
) -> tuple[list[Row], dict[str, Any]]:
    """`ets_page` with its meta: counted (every table's rows) unless a fuzzy `keep` filters."""
    rows, hasnext = ets_page(tables, page, limit, keep)
    count = None if keep is not None else sum(len(table) for table in tables)
    return rows, page_meta(page, limit, count=count, hasnext=hasnext)


def ets_page(
    tables: Sequence[Sequence[Row]], page: int, limit: int, keep: Callable[[Row], bool] | None = None
) -> tuple[list[Row], bool]:
    """Page `page` of the tables' rows, read one table after the other, and its `hasnext`.

    Each table (its rows in the order EMQX selects them) is read in chunks of `limit`
    (`ets:select_reverse/3`); `keep`, a fuzzy `like_*` filter, then drops rows of each chunk.
    A chunk shorter than `limit` is the end of that table; a full one carries a continuation
    even when nothing follows. So `hasnext` is true when the page ends inside a chunk, and when
    it ends at a chunk's end unless that was the end of the last table: a page that ends
    exactly at a full chunk says `hasnext: true` though no row follows.
    """
    page_start, page_end = (page - 1) * limit, page * limit
    cursor = 0
    found: list[Row] = []
    for index, rows in enumerate(tables):
        last_table = index == len(tables) - 1
        position, size = 0, len(rows)
        while True:
            if keep is None:  # whole chunks before the page: only the cursor moves
                skipped = min((page_start - cursor) // limit, (size - position) // limit)
                if skipped > 0:
                    cursor += skipped * limit
                    position += skipped * limit
            chunk = list(rows[position : position + limit])
            position += len(chunk)
            complete = len(chunk) < limit
            if keep is not None:
                chunk = [row for row in chunk if keep(row)]
            new_cursor = cursor + len(chunk)
            if new_cursor >= page_end:
                wanted = chunk[max(0, page_start - cursor) :][: limit - len(found)]
                overflow = limit - len(found) < len(chunk)
                found.extend(wanted)
                return found, overflow or not (complete and last_table)
            if new_cursor > page_start:
                found.extend(chunk[max(0, page_start - cursor) :])
            cursor = new_cursor
            if complete:
                break
    return found, False
