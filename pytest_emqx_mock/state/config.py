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
        self.raw: Tree = {}
        self.update(defaults)

    def view(self) -> Tree:
        """The raw tree as `GET` answers it (a copy)."""
        return copy.deepcopy(self.raw)

    def update(self, body: Tree) -> Tree:
        """Apply an update (already type-checked; a null field counts as absent): refused by
        the root's validator, it changes nothing. Answers the new raw tree (a copy)."""
        fields = {key: copy.deepcopy(value) for key, value in body.items() if value is not None}
        if self.mode == REPLACE_FIELDS:
            for key, value in fields.items():
                default = self.defaults.get(key)
                if isinstance(value, dict) and isinstance(default, dict):
                    fields[key] = {**copy.deepcopy(default), **{name: item for name, item in value.items() if item is not None}}
        raw = {**self.raw, **fields}
        if self.check is not None:
            self.check(raw)
        if self.on_change is not None:
            self.on_change(raw)
        self.raw = raw
        return self.view()
