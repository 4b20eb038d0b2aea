"""How deep a JSON or YAML document nests, measured on its text before it is decoded: a limit
the fake needs where EMQX's JSON decoders (jsx, jiffy: each keeps an explicit stack) have none.

Everything the fake does with a decoded value walks it recursively (the decoders themselves,
the request checks, the schema validation, the field checks, the journal's copies), and Python
recursion is bounded (`sys.getrecursionlimit()`, 1000 by default, shared with the frames of the
server and pytest). So a document is refused before any of that when it nests deeper than
`MAX_DEPTH`; the measuring here is iterative.

Why the limit is safe: the schemas of the operations the fake serves nest far less than
`MAX_DEPTH` levels, so EMQX refuses any body nested deeper with a 400 too: jsx, minirest's
decoder, has no depth limit (`minirest_body:json_decoder/1` decodes it), and the schema check
(`emqx_dashboard_swagger:filter_check_request/2`) refuses it. The fake's 400 is minirest's for a
body it cannot decode ("Invalid json message received"), where EMQX's names the first field its
check refuses: a deviation in the message only. And a scenario, a stub or a seeded object
nested 100 levels deep is no test's need.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import yaml

#: The deepest nesting taken: a few frames a level stay well inside Python's recursion limit.
MAX_DEPTH = 100

#: A JSON string (its brackets are text), a comment (jsx tolerates them), or a bracket.
#: An unterminated string or comment runs to the end, so that no text is scanned twice.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)|//[^\n]*|/\*.*?(?:\*/|\Z)|([\[{])|([\]}])', re.DOTALL)


class TooDeep(ValueError):
    """A document nested deeper than `MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def check_json(text: str | bytes) -> None:
    """Raise TooDeep when the JSON `text` nests deeper than `MAX_DEPTH` (text that is not
    JSON is left to the decoder to refuse)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        if match.group(1):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeep()
        elif match.group(2):
            depth -= 1


def check_value(value: Any) -> None:
    """Raise TooDeep when a Python value (a scenario given as a dict) nests dicts and lists
    deeper than `MAX_DEPTH`."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth == MAX_DEPTH:
                raise TooDeep()
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))


def check_yaml(text: str | bytes, loader: Any = yaml.SafeLoader) -> None:
    """Raise TooDeep when the YAML `text` nests deeper than `MAX_DEPTH`, an alias counting as
    deep as the node it names (PyYAML's parser, which yields these events, is iterative; its
    composer, which builds the value, recurses). yaml.YAMLError when it is not YAML."""
    try:
        _check_events(yaml.parse(text, Loader=loader))
    except yaml.MarkedYAMLError as error:
        # libyaml (the C loader, since PyYAML 6.0.4) refuses nesting past its own limit, deeper
        # than ours, while it scans ahead of the events that would have reached ours
        if error.problem == "exceeded maximum nesting depth":
            raise TooDeep() from None
        raise


def _check_events(events: Iterable[yaml.Event]) -> None:
    #: for each open collection: its anchor, and the deepest level seen inside it
    open_nodes: list[tuple[str | None, int]] = []
    heights: dict[str, int] = {}  # an anchored node's own depth: what an alias to it adds

    def reach(depth: int) -> None:
        if depth > MAX_DEPTH:
            raise TooDeep()
        if open_nodes:
            anchor, deepest = open_nodes[-1]
            open_nodes[-1] = (anchor, max(deepest, depth))

    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            reach(len(open_nodes) + 1)
            open_nodes.append((event.anchor, len(open_nodes) + 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, deepest = open_nodes.pop()
            if anchor is not None:
                heights[anchor] = deepest - len(open_nodes)
            reach(deepest)
        elif isinstance(event, yaml.AliasEvent):
            reach(len(open_nodes) + heights.get(event.anchor or "", 0))
