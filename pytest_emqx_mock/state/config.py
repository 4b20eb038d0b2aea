"""EMQX's raw config, one root at a time (`emqx:get_raw_config/1`, `emqx_conf:update/3`).

EMQX keeps two copies of its config: the raw one, as the user wrote it (texts like `"1m"` stay
texts), which the API echoes; and the checked one the broker runs with. So here a root holds
its raw tree, and tells the state that owns it (`on_change`) what it runs with whenever the
tree changes; the owner converts what it needs there, once, rather than on every read.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

#: The body's fields are merged into the raw tree one level deep (a nested object in the body
#: replaces the stored one whole): `emqx_retainer:update_config/1`.
MERGE = "merge"
#: Each field of the body replaces the stored one, a nested object filled from that field's
#: defaults, as hocon fills a struct when a sub-root is updated on its own
#: (`emqx_authz_api_settings` updates `[authorization, cache]` and its siblings so).
REPLACE_FIELDS = "replace_fields"

Tree = dict[str, Any]


class RawConfig:
    """One root of the raw config: its tree, EMQX's defaults, how an update applies, the root's
    validator (`check`, raising `errors.Invalid` with EMQX's reason), and the owner's hook."""

    def __init__(
        self,
        defaults: Tree,
        *,
        mode: str = MERGE,
        check: Callable[[Tree], None] | None = None,
        on_change: Callable[[Tree], None] | None = None,
    ) -> None:
        self.defaults = defaults
        self.mode = mode
        self.check = check
        self.on_change = on_change
        #: Never changed in place (an update builds a new tree), so the defaults can be shared
        #: by every reset: copying them made a reset four times dearer.
        self.raw: Tree = defaults
        if on_change is not None:
            on_change(defaults)  # EMQX's defaults pass its validators

    def view(self) -> Tree:
        """The raw tree as `GET` answers it (a copy)."""
        return copy.deepcopy(self.raw)

    def update(self, body: Tree, accept: Callable[[Tree], None] | None = None) -> Tree:
        """Apply an update (already type-checked): refused by the root's validator, or by
        `accept` (the caller's last look at the tree it is about to keep), it changes nothing.
        A null is an absent field (`without_nulls`): a null field of the body falls back to its
        default. Answers the new raw tree (a copy)."""
        raw = dict(self.raw)
        for key, value in without_nulls(body).items():
            default = self.defaults.get(key)
            if self.mode == REPLACE_FIELDS and isinstance(value, dict) and isinstance(default, dict):
                value = {**copy.deepcopy(default), **value}
            raw[key] = value
        for key in (key for key, value in body.items() if value is None):
            if key in self.defaults:
                raw[key] = self.defaults[key]  # shared: a tree is never changed in place
            else:
                raw.pop(key, None)
        if self.check is not None:
            self.check(raw)
        if accept is not None:
            accept(raw)
        if self.on_change is not None:
            self.on_change(raw)
        self.raw = raw
        return self.view()


def without_nulls(tree: Tree) -> Tree:
    """A copy of `tree` with every null field left out, at every depth: hocon treats a null as
    an absent field in each struct it checks (`hocon_tconf:drop_nulls/2`), so the config EMQX
    runs with takes the field's default. (EMQX's raw config keeps the null it merged in,
    `emqx_config_handler:merge_to_old_config/2`, and echoes it; the fake's raw tree leaves it
    out, or holds a root field's default, so a GET never answers a null its schema lacks.)"""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if item is not None}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    stripped: Tree = strip(tree)
    return stripped
