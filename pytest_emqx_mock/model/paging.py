"""Paging as EMQX reads its ETS tables (`emqx_mgmt_api:cluster_query/5`,
`select_table_with_count`): each table in chunks of `limit` rows, and a chunk of exactly
`limit` rows comes with a continuation rather than the end of the table, so a full page
answers `hasnext: true` even when nothing follows. Alarms (a table per node), the built-in
authentication users and the built-in authorization rules are paged so."""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

Row = TypeVar("Row")


def ets_page(
    tables: Sequence[Sequence[Row]], page: int, limit: int, keep: Callable[[Row], bool] | None = None
) -> tuple[list[Row], bool]:
    """One page over `tables` read one after the other, and its `hasnext`. `keep` is a
    `like_*` filter: EMQX applies it to each chunk after reading it."""
    first, last = (page - 1) * limit + 1, page * limit
    if len(tables) == 1 and keep is None:  # every chunk is full until the last: a plain slice
        found = list(tables[0][first - 1 : last])
        return found, len(found) == limit
    cursor = taken = 0
    found = []
    for index, rows in enumerate(tables):
        position = 0
        while True:
            chunk = list(rows[position : position + limit])
            position += len(chunk)
            complete = len(chunk) < limit
            if keep is not None:
                chunk = [row for row in chunk if keep(row)]
            after = cursor + len(chunk)
            if after < first:
                cursor = after
            elif after < last:
                kept = chunk[max(0, first - cursor - 1) :]
                found += kept
                taken += len(kept)
                cursor = after
            else:
                kept = chunk[max(0, first - cursor - 1) :][: limit - taken]
                overflow = (limit - taken) < len(chunk)
                found += kept
                return found, overflow or not (complete and index == len(tables) - 1)
            if complete:
                break
    return found, False
