"""Paging as EMQX reads its ETS tables (`emqx_mgmt_api:cluster_query/5`,
`select_table_with_count`): subscriptions and alarms (a table per running node), the built-in
authentication users and the built-in authorization rules."""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

Row = TypeVar("Row")


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
