"""Authorization (`emqx_authz`, `emqx_access_control:authorize/3`, `emqx_authz_cache`): the
sources in chain order, the settings, the built-in database's rules, each client's cache and
the counters, and the check that runs them for a client's PUBLISH or SUBSCRIBE.

EMQX authorizes only what an MQTT client sends: the REST API's `/publish` and
`/clients/{id}/subscribe` are never checked. So the check runs for the simulated client
actions (`Broker.subscribe`, `Broker.publish(from_clientid=...)`), not for those endpoints.

Rules are compiled once and their topics indexed in a topic tree (those with placeholders
once per client identity), so a check tries only the rules whose topic matches, in their
order: first match wins. 1,000 rules cost about what 10 do.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..erlang.hocon import boolean, duration_ms
from ..erlang.terms import Atom, pretty
from .acl_conf import DEFAULT_ACL_CONF
from .clock import now
from .config import REPLACE_FIELDS, RawConfig
from .errors import AlreadyExists, Invalid, LimitReached, NotFound
from .ordering import reordered

if TYPE_CHECKING:
    from .auth_mnesia import MnesiaAcl
    from .sessions import Session

ALLOW, DENY, NOMATCH = "allow", "deny", "nomatch"
PUBLISH, SUBSCRIBE = "publish", "subscribe"
#: Source types of EMQX CE, in the order of its enum.
SOURCE_TYPES = ("file", "built_in_database", "http", "redis", "mysql", "postgresql", "mongodb", "ldap")
#: The sources the fake can run; the others need a backend it does not have.
SERVED_TYPES = ("file", "built_in_database")
DEFAULT_CACHE: dict[str, Any] = {"enable": True, "excludes": [], "max_size": 32, "ttl": "1m"}
DEFAULT_SETTINGS: dict[str, Any] = {"cache": DEFAULT_CACHE, "deny_action": "ignore", "no_match": "allow"}
DEFAULT_MAX_RULES = 100
SOURCE_METRICS = ("total", "allow", "deny", "nomatch", "ignore")


class AclError(Invalid):
    """An acl.conf text EMQX refuses; `str()` is the `~p` of EMQX's reason."""


# -- Erlang terms: the acl.conf grammar ----------------------------------------------------------


_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<comment>%[^\n]*)|(?P<string>"(?:[^"\\]|\\.)*")|(?P<quoted>'(?:[^'\\]|\\.)*')"""
    r"""|(?P<int>-?[0-9]+)|(?P<atom>[a-z][A-Za-z0-9_@]*)|(?P<dot>\.(?=\s|%|$))|(?P<punct>[{}\[\],])""",
    re.S,
)


def _syntax_error(line: int, before: Any) -> AclError:
    """erl_parse names the token it stopped before as text: `'}'`, `foo`, `"\\"x\\""` (none at the end)."""
    token = pretty(pretty(before)) if before != "" else '""'
    return AclError(f'{{bad_acl_file_content,{{{line},erl_parse,["syntax error before: ",{token}]}}}}')


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    position, line = 0, 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _syntax_error(line, Atom(text[position]))
        kind, value = match.lastgroup or "", match.group()
        if kind == "string":
            tokens.append(("term", re.sub(r"\\(.)", r"\1", value[1:-1]), line))
        elif kind == "quoted":
            tokens.append(("term", Atom(re.sub(r"\\(.)", r"\1", value[1:-1])), line))
        elif kind == "int":
            tokens.append(("term", int(value), line))
        elif kind == "atom":
            tokens.append(("term", Atom(value), line))
        elif kind in ("dot", "punct"):
            tokens.append((value, Atom(value), line))
        line += value.count("\n")
        position = match.end()
    return tokens


def consult(text: str) -> list[Any]:
    """`file:consult/1` on a text: its terms, each ended by a dot."""
    tokens = _tokens(text)
    terms: list[Any] = []
    index = 0

    def term() -> Any:
        nonlocal index
        if index >= len(tokens):
            raise _syntax_error(tokens[-1][2] if tokens else 1, "")
        kind, value, line = tokens[index]
        index += 1
        if kind == "term":
            return value
        if kind in ("{", "["):
            closing = "}" if kind == "{" else "]"
            items: list[Any] = []
            if index < len(tokens) and tokens[index][0] == closing:
                index += 1
            else:
                while True:
                    items.append(term())
                    if index >= len(tokens):
                        raise _syntax_error(line, "")
                    separator, _, where = tokens[index]
                    index += 1
                    if separator == closing:
                        break
                    if separator != ",":
                        raise _syntax_error(where, separator)
            return tuple(items) if kind == "{" else items
        raise _syntax_error(line, value)

    while index < len(tokens):
        terms.append(term())
        if index >= len(tokens) or tokens[index][0] != ".":
            raise _syntax_error(tokens[min(index, len(tokens) - 1)][2], tokens[index][1] if index < len(tokens) else "")
        index += 1
    return terms


# -- compiled rules (`emqx_authz_rule`) -----------------------------------------------------------

Who = Callable[["Session"], bool]


def _everyone(session: Session) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """One compiled rule: who, what action (type, QoS set, retain), which topics."""

    permission: str
    who: Who
    action: str  # publish | subscribe | all
    qos: frozenset[int] | None  # None: any
    retain: bool | None  # None: any
    topics: tuple[Topic, ...]


@dataclass(frozen=True)
class Topic:
    """A rule topic: MQTT filter words, `eq` words (compared literally), or `all`."""

    words: tuple[str, ...]
    eq: bool = False
    everything: bool = False  # the atom `all`: even `$` topics
    templated: bool = False  # holds a placeholder rendered per check


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_KNOWN_PLACEHOLDER = re.compile(r"^(username|clientid|cert_common_name|zone|client_attrs\.[^}]+)$")


def parse_topic(text: str) -> Topic:
    eq = text.startswith("eq ")
    body = text[3:] if eq else text
    templated = any(_KNOWN_PLACEHOLDER.match(name) for name in _PLACEHOLDER.findall(body))
    return Topic(tuple(body.split("/")), eq=eq, templated=templated)


def _render(topic: Topic, session: Session) -> tuple[str, ...] | None:
    """The topic's words with placeholders filled in (a value may hold `/`: the text is
    rendered whole, then split); None when a value is missing."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name == "username":
            return "undefined" if session.username is None else session.username
        if name == "clientid":
            return session.clientid
        if name == "zone":
            return "default"
        if name.startswith("client_attrs.") and name[13:] in session.client_attrs:
            return session.client_attrs[name[13:]]
        if _KNOWN_PLACEHOLDER.match(name):
            missing = True  # `${cert_common_name}` on a plain TCP client, an absent attribute
            return ""
        return match.group()

    text = _PLACEHOLDER.sub(value, "/".join(topic.words))
    return None if missing else tuple(text.split("/"))


def topic_matches(name: tuple[str, ...], rule: tuple[str, ...]) -> bool:
    """`emqx_topic:match/2`: topic (or subscribed filter) words against rule filter words."""
    if name and name[0][:1] == "$" and rule and rule[0] in ("+", "#"):
        return False
    size = len(name)
    for index, word in enumerate(rule):
        if word == "#":
            return True
        if index >= size or (word != "+" and word != name[index]):
            return False
    return len(rule) == size


def _topic_matches(topic: Topic, words: tuple[str, ...], session: Session) -> bool:
    if topic.everything:
        return True
    rule_words = _render(topic, session) if topic.templated else topic.words
    if rule_words is None:
        return False
    return words == rule_words if topic.eq else topic_matches(words, rule_words)


@dataclass(frozen=True)
class Access:
    """What a client asks to do."""

    action: str  # publish | subscribe
    qos: int
    retain: bool = False

    def view(self) -> dict[str, Any]:
        """As the client's cache lists it."""
        if self.action == PUBLISH:
            return {"action_type": PUBLISH, "qos": self.qos, "retain": self.retain}
        return {"action_type": SUBSCRIBE, "qos": self.qos}


def _action_matches(rule: Rule, access: Access) -> bool:
    if rule.action != "all" and rule.action != access.action:
        return False
    if rule.qos is not None and access.qos not in rule.qos:
        return False
    return access.action == SUBSCRIBE or rule.retain is None or rule.retain == access.retain


class _Node:
    """A level of the topic index: rules whose filter ends here, or goes on with `#`."""

    __slots__ = ("children", "ends", "rest")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}  # by literal word, and "+"
        self.ends: list[int] = []
        self.rest: list[int] = []  # the filter's next word is `#`


class _Index:
    """Topic filters in a tree and `eq` topics by their words, each naming its rule."""

    __slots__ = ("tree", "eq")

    def __init__(self) -> None:
        self.tree = _Node()
        self.eq: dict[tuple[str, ...], list[int]] = {}

    def add(self, topic: Topic, words: tuple[str, ...], position: int) -> None:
        if topic.eq:
            self.eq.setdefault(words, []).append(position)
            return
        node = self.tree
        for word in words:
            if word == "#":
                node.rest.append(position)
                return
            node = node.children.setdefault(word, _Node())
        node.ends.append(position)

    def lookup(self, words: tuple[str, ...], found: list[int]) -> None:
        """Add the rules whose topic matches `words` to `found`."""
        found += self.eq.get(words, ())
        # a `$` topic is not matched by a filter that starts with a wildcard
        level = [self.tree]
        for depth, word in enumerate(words):
            following = []
            for node in level:
                if node.rest and (depth or word[:1] != "$"):
                    found += node.rest
                literal = node.children.get(word)
                if literal is not None:
                    following.append(literal)
                wildcard = node.children.get("+") if word != "+" else None
                if wildcard is not None and (depth or word[:1] != "$"):
                    following.append(wildcard)
            if not following:
                return
            level = following
        for node in level:
            found += node.rest  # `a/#` matches `a` too
            found += node.ends


_RENDERED_KEPT = 1024


class RuleList:
    """Rules in order, indexed so that a check tries only the rules that may match its topic:
    plain topics once, topics with placeholders once per client identity (rendered), and the
    rules for `all` topics always. The candidates are then tried in rule order."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self._index = _Index()
        self._templated: list[tuple[int, Topic]] = []
        self._always: list[int] = []
        self._rendered: dict[tuple[Any, ...], _Index] = {}
        for position, rule in enumerate(self.rules):
            for topic in rule.topics:
                if topic.everything:
                    self._always.append(position)
                elif topic.templated:
                    self._templated.append((position, topic))
                else:
                    self._index.add(topic, topic.words, position)

    def _rendered_index(self, session: Session) -> _Index:
        """The templated topics rendered for one client identity (kept for the next check)."""
        key = (session.clientid, session.username, tuple(sorted(session.client_attrs.items())))
        index = self._rendered.get(key)
        if index is None:
            if len(self._rendered) >= _RENDERED_KEPT:
                self._rendered.clear()
            index = self._rendered[key] = _Index()
            for position, topic in self._templated:
                words = _render(topic, session)
                if words is not None:
                    index.add(topic, words, position)
        return index

    def first_match(self, session: Session, access: Access, words: tuple[str, ...]) -> str:
        """The permission of the first rule that matches, or `nomatch`."""
        candidates = list(self._always)
        self._index.lookup(words, candidates)
        if self._templated:
            self._rendered_index(session).lookup(words, candidates)
        if not candidates:
            return NOMATCH
        rules = self.rules
        for position in sorted(set(candidates)) if len(candidates) > 1 else candidates:
            rule = rules[position]
            if (
                _action_matches(rule, access)
                and rule.who(session)
                and any(_topic_matches(topic, words, session) for topic in rule.topics)
            ):
                return rule.permission
        return NOMATCH


# -- acl.conf rules (`emqx_authz_rule:compile/1`) -------------------------------------------------


def _reason(reason: str, **fields: Any) -> AclError:
    return AclError(pretty({"reason": Atom(reason), **fields}))


def _pattern(value: Any, who: Any) -> Callable[[str | None], bool]:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "re" and isinstance(value[1], str):
        try:
            regex = re.compile(value[1])
        except re.error:
            raise _reason("invalid_client_match_condition", identifier=who) from None
        return lambda text: text is not None and regex.search(text) is not None
    if isinstance(value, str) and not isinstance(value, Atom):
        return lambda text: text == value
    raise _reason("invalid_client_match_condition", identifier=who)


def _network(text: Any, who: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except (ValueError, TypeError):
        raise _reason("invalid_client_match_condition", identifier=who) from None


def _in_networks(networks: list[Any]) -> Who:
    def matches(session: Session) -> bool:
        try:
            address = ipaddress.ip_address(session.ip_address or "")
        except ValueError:
            return False
        return any(address in network for network in networks)

    return matches


def _compile_who(who: Any) -> Who:
    if who == "all" and isinstance(who, Atom):
        return _everyone
    if isinstance(who, tuple) and len(who) == 2:
        kind, value = who
        if kind in ("user", "username"):
            by_username = _pattern(value, who)
            return lambda session: by_username(session.username)
        if kind in ("client", "clientid"):
            by_clientid = _pattern(value, who)
            return lambda session: by_clientid(session.clientid)
        if kind == "ipaddr":
            return _in_networks([_network(value, who)])
        if kind == "ipaddrs" and isinstance(value, list):
            return _in_networks([_network(item, who) for item in value])
        if kind in ("and", "or") and isinstance(value, list):
            parts = [_compile_who(item) for item in value]
            combine = all if kind == "and" else any
            return lambda session: combine(part(session) for part in parts)
    if isinstance(who, tuple) and len(who) == 3 and who[0] == "client_attr" and isinstance(who[1], str):
        name, by_value = who[1], _pattern(who[2], who)
        return lambda session: by_value(session.client_attrs.get(name))
    raise _reason("invalid_client_match_condition", identifier=who)


def _compile_action(action: Any) -> tuple[str, frozenset[int] | None, bool | None]:
    if isinstance(action, Atom) and action in ("publish", "subscribe", "all"):
        return str(action), None, None
    if isinstance(action, tuple) and len(action) == 2 and action[0] in ("publish", "subscribe", "all") and isinstance(action[1], list):
        qos: frozenset[int] | None = None
        retain: bool | None = None
        for option in action[1]:
            if isinstance(option, tuple) and len(option) == 2 and option[0] == "qos":
                levels = option[1] if isinstance(option[1], list) else [option[1]]
                if not all(isinstance(level, int) and 0 <= level <= 2 for level in levels):
                    raise _reason("invalid_authorization_qos", qos=option[1])
                qos = frozenset(levels)
            elif isinstance(option, tuple) and len(option) == 2 and option[0] == "retain":
                if option[1] not in ("true", "false", "all"):
                    raise _reason("invalid_authorization_retain", value=option[1])
                retain = None if option[1] == "all" else option[1] == "true"
            else:
                raise _reason("invalid_authorization_action", value=action)
        return str(action[0]), qos, retain
    raise _reason("invalid_authorization_action", value=action)


def _compile_topic(topic: Any) -> Topic:
    if isinstance(topic, tuple) and len(topic) == 2 and topic[0] == "eq" and isinstance(topic[1], str):
        return parse_topic("eq " + topic[1])
    if isinstance(topic, str) and not isinstance(topic, Atom):
        return parse_topic(topic)
    raise _reason("invalid_authorization_rule", value=topic)


def compile_term(term: Any) -> Rule:
    if isinstance(term, tuple) and len(term) == 2 and term[1] == "all":
        term = (term[0], Atom("all"), Atom("all"), Atom("all"))
    if not isinstance(term, tuple) or len(term) != 4:
        raise _reason("invalid_authorization_rule", value=term)
    permission, who, action, topics = term
    if permission not in ("allow", "deny") or not isinstance(permission, Atom):
        raise _reason("invalid_authorization_permission", value=permission)
    compiled_who = _compile_who(who)
    action_type, qos, retain = _compile_action(action)
    if topics == "all" and isinstance(topics, Atom):
        compiled_topics: tuple[Topic, ...] = (Topic((), everything=True),)
    elif isinstance(topics, list):
        compiled_topics = tuple(_compile_topic(topic) for topic in topics)
    else:
        raise _reason("invalid_authorization_rule", value=term)
    return Rule(str(permission), compiled_who, action_type, qos, retain, compiled_topics)


@functools.lru_cache(maxsize=64)
def compile_acl(text: str) -> RuleList:
    """The rules of an acl.conf text, or AclError with EMQX's reason. Compiled once per text
    (a RuleList does not change): every reset brings back the default acl.conf."""
    return RuleList(compile_term(term) for term in consult(text))


# -- built-in database rules (`emqx_authz_rule_raw`) ----------------------------------------------


def normalize_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A built-in database rule as EMQX stores and shows it (defaults filled)."""
    for name in ("topic", "permission", "action"):
        if name not in rule:
            raise Invalid(f"a rule needs {name!r}")
    if rule["permission"] not in (ALLOW, DENY):
        raise Invalid(f"permission is allow or deny, not {rule['permission']!r}")
    if rule["action"] not in (PUBLISH, SUBSCRIBE, "all"):
        raise Invalid(f"action is publish, subscribe or all, not {rule['action']!r}")
    qos = [int(level) for level in rule.get("qos", [0, 1, 2])]
    if not all(0 <= level <= 2 for level in qos):
        raise Invalid(f"qos levels are 0, 1 or 2, not {qos!r}")
    retain = rule.get("retain", "all")
    if retain in ("true", "false"):
        retain = retain == "true"
    if retain not in (True, False, "all"):
        raise Invalid(f"retain is true, false or all, not {retain!r}")
    unknown = set(rule) - {"topic", "permission", "action", "qos", "retain"}
    if unknown:
        raise Invalid(f"unknown rule fields {sorted(unknown)}")
    return {"action": rule["action"], "permission": rule["permission"], "qos": qos, "retain": retain, "topic": str(rule["topic"])}


def compile_rule(rule: dict[str, Any]) -> Rule:
    retain = None if rule["retain"] == "all" else rule["retain"]
    return Rule(rule["permission"], _everyone, rule["action"], frozenset(rule["qos"]), retain, (parse_topic(rule["topic"]),))


def _stored(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules as the API's `emqx_authz_api_mnesia` stores them: unset fields dropped, normalized."""
    return [normalize_rule({key: value for key, value in rule.items() if value is not None}) for rule in rules]


#: Per owner kind: its field name, and the words of EMQX's messages about it.
RULE_OWNERS = {
    "users": ("username", "User", "Username Not Found"),
    "clients": ("clientid", "Client", "ClientID Not Found"),
}


class RuleTable:
    """`emqx_acl` in mnesia: rules per username, per clientid, and for all. The API's
    operations take the built-in database source's `max_rules`, which bounds one entry."""

    def __init__(self) -> None:
        self.users: dict[str, list[dict[str, Any]]] = {}
        self.clients: dict[str, list[dict[str, Any]]] = {}
        self.all: list[dict[str, Any]] = []
        self._compiled: dict[tuple[str, str], RuleList] = {}

    def set(self, kind: str, key: str, rules: list[dict[str, Any]]) -> None:
        """Store (replace) the rules of a username (`users`), clientid (`clients`) or of all."""
        if kind == "all":
            self.all = rules
        else:
            self.owners(kind)[key] = rules
        self._compiled.pop((kind, key), None)

    def delete(self, kind: str, key: str) -> None:
        self.owners(kind).pop(key, None)
        self._compiled.pop((kind, key), None)

    def add_owners(self, kind: str, entries: list[tuple[str, list[dict[str, Any]]]], max_rules: int) -> None:
        """`POST .../rules/{users|clients}`: all or nothing, the first bad entry deciding."""
        _, label, _ = RULE_OWNERS[kind]
        table = self.owners(kind)
        for key, rules in entries:
            if key in table:
                raise AlreadyExists(f"{label} '{key}' already exist")
            if len(rules) > max_rules:
                raise LimitReached(f"The rules length of {label} '{key}' exceeds the maximum limit.")
        for key, rules in entries:
            self.set(kind, key, _stored(rules))

    def owner(self, kind: str, key: str) -> list[dict[str, Any]]:
        """The rules of one username or clientid."""
        try:
            return self.owners(kind)[key]
        except KeyError:
            raise NotFound("Not Found") from None

    def replace_owner(self, kind: str, key: str, rules: list[dict[str, Any]], max_rules: int) -> None:
        if len(rules) > max_rules:
            raise LimitReached("The rules length exceeds the maximum limit.")
        self.set(kind, key, _stored(rules))

    def delete_owner(self, kind: str, key: str) -> None:
        if key not in self.owners(kind):
            raise NotFound(RULE_OWNERS[kind][2])
        self.delete(kind, key)

    def replace_all(self, rules: list[dict[str, Any]], max_rules: int) -> None:
        if len(rules) > max_rules:
            raise LimitReached("The length of rules exceeds the maximum limit.")
        self.set("all", "", _stored(rules))

    def clear(self) -> None:
        self.users.clear()
        self.clients.clear()
        self.all = []
        self._compiled.clear()

    def owners(self, kind: str) -> dict[str, list[dict[str, Any]]]:
        """The rules by username (`users`) or by clientid (`clients`)."""
        return self.users if kind == "users" else self.clients

    def _rules(self, kind: str, key: str, rules: list[dict[str, Any]]) -> RuleList:
        compiled = self._compiled.get((kind, key))
        if compiled is None:
            compiled = self._compiled[(kind, key)] = RuleList(compile_rule(rule) for rule in rules)
        return compiled

    def authorize(self, session: Session, access: Access, words: tuple[str, ...]) -> str:
        """Clientid rules, then username rules, then the rules for all: first match wins."""
        lists = []
        if session.clientid in self.clients:
            lists.append(self._rules("clients", session.clientid, self.clients[session.clientid]))
        if session.username is not None and session.username in self.users:
            lists.append(self._rules("users", session.username, self.users[session.username]))
        lists.append(self._rules("all", "", self.all))
        for rules in lists:
            result = rules.first_match(session, access, words)
            if result != NOMATCH:
                return result
        return NOMATCH


# -- sources, settings, cache -------------------------------------------------------------------


@dataclass
class Source:
    """One configured source: its raw config (as the API shows it) and its counters."""

    config: dict[str, Any]
    #: Counters by node (EMQX counts each check on the client's node).
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)
    rules: RuleList | None = None  # a file source's compiled rules

    @property
    def type(self) -> str:
        return str(self.config["type"])

    @property
    def enabled(self) -> bool:
        return self.config.get("enable", True) is not False

    def count(self, node: str, result: str) -> None:
        counters = self.metrics.get(node)
        if counters is None:
            counters = self.metrics[node] = dict.fromkeys(SOURCE_METRICS, 0)
        counters["total"] += 1
        counters[result] += 1

    def node_metrics(self, node: str) -> dict[str, int]:
        return dict(self.metrics.get(node) or dict.fromkeys(SOURCE_METRICS, 0))


def make_source(config: dict[str, Any]) -> Source:
    """A source from its config (defaults filled); AclError for a bad acl.conf text."""
    kind = config.get("type")
    if kind == "file":
        rules = compile_acl(str(config.get("rules", "")))
        return Source({"enable": config.get("enable", True), "rules": config.get("rules", ""), "type": "file"}, rules=rules)
    if kind == "built_in_database":
        return Source(
            {"enable": config.get("enable", True), "max_rules": config.get("max_rules", DEFAULT_MAX_RULES), "type": "built_in_database"}
        )
    raise Invalid(f"the fake runs only {' and '.join(SERVED_TYPES)} sources, not {kind!r}")


def _check_settings(raw: dict[str, Any]) -> None:
    """What the settings' schema holds a value to, for settings set from Python."""
    if raw["no_match"] not in (ALLOW, DENY) or raw["deny_action"] not in ("ignore", "disconnect"):
        raise Invalid("no_match is allow or deny; deny_action is ignore or disconnect")
    cache = raw["cache"]
    unknown = set(cache) - set(DEFAULT_CACHE)
    if unknown:
        raise Invalid(f"unknown cache settings {sorted(unknown)}")
    if duration_ms(cache["ttl"]) is None:
        raise Invalid(f"Not a valid duration: {cache['ttl']!r}")
    if boolean(cache["enable"]) is None:
        raise Invalid(f"cache enable is a boolean, not {cache['enable']!r}")
    max_size = str(cache["max_size"]).strip()
    if not max_size.isdigit() or not 1 <= int(max_size) <= 1048576:
        raise Invalid(f"cache max_size is 1..1048576, not {cache['max_size']!r}")
    if not isinstance(cache["excludes"], list) or not all(isinstance(item, str) for item in cache["excludes"]):
        raise Invalid("cache excludes is a list of topic filters")


@dataclass(frozen=True)
class Decision:
    """What one check decided, and whether the cache answered it."""

    result: str  # allow | deny
    from_cache: bool = False


class Authorization:
    """The authorization state of the cluster, and the check. EMQX 4.4's `emqx_auth_mnesia`
    ACL (`mnesia`, set by its kind's reset) is asked before the sources."""

    mnesia: MnesiaAcl

    def __init__(self, count: Callable[[str, str], None], drain: Callable[[], None], no_match: str = ALLOW) -> None:
        """`no_match`: the default of `authorization.no_match`, the version's (`versions`)."""
        self.count = count  # (node, metric name): the broker's node counters
        self.drain = drain  # empties every client's cache: any change of the sources does
        self.sources: list[Source] = [make_source({"type": "file", "enable": True, "rules": DEFAULT_ACL_CONF})]
        self.rules = RuleTable()
        #: `authorization.{no_match, deny_action, cache}`, echoed raw (as sent)
        self.settings_config = RawConfig({**DEFAULT_SETTINGS, "no_match": no_match}, mode=REPLACE_FIELDS, check=_check_settings, on_change=self._apply_settings)

    @property
    def settings(self) -> dict[str, Any]:
        return self.settings_config.raw

    # -- sources ---------------------------------------------------------------------------

    def source(self, kind: str) -> Source | None:
        return next((source for source in self.sources if source.type == kind), None)

    def configured(self, kind: str) -> Source:
        """The source of this type; NotFound when the chain has none."""
        source = self.source(kind)
        if source is None:
            raise NotFound(f"Not found: {kind}")
        return source

    def builtin_max_rules(self) -> int:
        """`is_configured_authz_source`: the built-in database source (enabled or not) must
        exist for any rules operation; its `max_rules` bounds one entry."""
        return int(self.configured("built_in_database").config["max_rules"])

    def purge_rules(self) -> None:
        """Only a disabled built-in database source may be purged: every rule goes."""
        if self.configured("built_in_database").enabled:
            raise Invalid("'built_in_database' type source must be disabled before purge.")
        self.rules.clear()

    def add_source(self, config: dict[str, Any]) -> Source:
        """`POST /authorization/sources`: the new source goes to the FRONT of the chain."""
        source = make_source(config)
        if self.source(source.type) is not None:
            raise Invalid(f"{{duplicated_authz_source_type,{source.type}}}")
        self.sources.insert(0, source)
        self.drain()
        return source

    def replace_source(self, kind: str, config: dict[str, Any]) -> Source:
        """`PUT /authorization/sources/{type}`: the config replaced in place, counters kept;
        the body's `type` must be the path's."""
        old = self.configured(kind)
        if config.get("type") != kind:
            raise Invalid("Type mismatch")
        new = make_source(config)
        new.metrics = old.metrics
        self.sources[self.sources.index(old)] = new
        self.drain()
        return new

    def delete_source(self, kind: str) -> None:
        """Deleting an enabled built-in database source drops every rule; a disabled one's stay."""
        source = self.configured(kind)
        self.sources.remove(source)
        if source.type == "built_in_database" and source.enabled:
            self.rules.clear()
        self.drain()

    def order_sources(self, kinds: list[str]) -> None:
        """`PUT /authorization/sources/order`: an exact permutation of the configured types."""
        self.sources = reordered(self.sources, kinds, lambda source: source.type, "authorization sources")
        self.drain()

    def move_source(self, kind: str, position: str) -> None:
        """`POST /authorization/sources/{type}/move`: `front`, `rear`, `before:T`, `after:T`."""
        source = self.configured(kind)
        where, _, target = position.partition(":")
        if position in ("front", "rear"):
            self.sources.remove(source)
            self.sources.insert(0 if position == "front" else len(self.sources), source)
        elif where in ("before", "after") and target:
            other = self.source(target)
            if other is None or other is source:
                raise Invalid(f"{{pre_config_update,emqx_authz,{{not_found_source,{target}}}}}")
            self.sources.remove(source)
            self.sources.insert(self.sources.index(other) + (where == "after"), source)
        elif where in ("before", "after") and position.endswith(":"):
            raise Invalid(f"Invalid parameter. Cannot be placed {where} an empty target")
        else:
            raise Invalid("Invalid parameter. Unknow position")
        self.drain()

    def update_settings(self, no_match: str, deny_action: str, cache: dict[str, Any]) -> None:
        """`PUT /authorization/settings`: each value replaced whole (the cache filled from its
        defaults). Caches are NOT drained."""
        self.settings_config.update({"cache": cache, "deny_action": deny_action, "no_match": no_match})

    def _apply_settings(self, raw: dict[str, Any]) -> None:
        """The cache the check runs with, converted from the raw settings (checked already)."""
        cache = raw["cache"]
        self._cache_enabled = bool(boolean(cache["enable"]))
        self._cache_ttl_ms = duration_ms(cache["ttl"])
        self._cache_max_size = int(str(cache["max_size"]).strip())
        self._cache_excludes = [tuple(item.split("/")) for item in cache["excludes"]]

    # -- the check -------------------------------------------------------------------------

    def authorize(self, session: Session, access: Access, topic: str) -> Decision:
        """`emqx_access_control:authorize/3` for one client request: the cache, then the
        superuser flag, then the enabled sources in order, then `no_match`."""
        node = session.node
        cached = self._cache_enabled and not any(
            topic_matches(tuple(topic.split("/")), excluded) for excluded in self._cache_excludes
        )
        if cached:
            entry = self._cached(session, access, topic)
            if entry is not None:
                self.count(node, "authorization.cache_hit")
                self.count(node, f"authorization.{entry}")
                return Decision(entry, from_cache=True)
            self.count(node, "authorization.cache_miss")
        result = self._check(session, access, topic)
        self.count(node, f"authorization.{result}")
        if cached:
            self._store(session, access, topic, result)
        return Decision(result)

    def _check(self, session: Session, access: Access, topic: str) -> str:
        node = session.node
        self.count(node, "client.authorize")
        if session.is_superuser:
            self.count(node, "authorization.superuser")
            return ALLOW
        words = tuple(_checked_topic(topic, access).split("/"))
        result = self.mnesia.check(session, access.action, "/".join(words))
        if result != NOMATCH:
            self.count(node, f"authorization.matched.{result}")
            return result
        for source in self.sources:
            if not source.enabled:
                continue
            if source.rules is not None:
                result = source.rules.first_match(session, access, words)
            else:
                result = self.rules.authorize(session, access, words)
            source.count(node, result)
            if result != NOMATCH:
                self.count(node, f"authorization.matched.{result}")
                return result
        self.count(node, "authorization.nomatch")
        return str(self.settings["no_match"])

    # -- the per-client cache (`emqx_authz_cache`) -----------------------------------------

    def _cached(self, session: Session, access: Access, topic: str) -> str | None:
        view = access.view()
        for entry in session.authz_cache:
            if entry["topic"] == topic and entry["access"] == view:
                if now() * 1000 - entry["updated_time"] < self._cache_ttl_ms:
                    return str(entry["result"])
                return None
        return None

    def cache_of(self, session: Session) -> list[dict[str, Any]]:
        """The client's cache as `GET /clients/{id}/authorization/cache` lists it: EMQX first
        drops the entries older than the cache's `ttl` (`emqx_authz_cache:list_authz_cache/0`)."""
        stamp = now() * 1000
        live = [entry for entry in session.authz_cache if stamp - entry["updated_time"] < self._cache_ttl_ms]
        if len(live) != len(session.authz_cache):
            session.authz_cache = live
        return [dict(entry) for entry in live]

    def _store(self, session: Session, access: Access, topic: str, result: str) -> None:
        view = access.view()
        cache = [entry for entry in session.authz_cache if not (entry["topic"] == topic and entry["access"] == view)]
        stamp = int(now() * 1000)
        max_size = self._cache_max_size
        if len(cache) >= max_size:
            if stamp - cache[-1]["updated_time"] >= self._cache_ttl_ms:
                cache = []  # the newest entry has expired, so all have
            else:
                cache = cache[len(cache) - max_size + 1 :]  # the oldest goes
        cache.append({"access": view, "result": result, "topic": topic, "updated_time": stamp})
        session.authz_cache = cache


def _checked_topic(topic: str, access: Access) -> str:
    """The topic the rules see: a shared subscription's filter without `$share/<group>/`,
    a delayed publish's topic without `$delayed/<seconds>/`."""
    if access.action == SUBSCRIBE and topic.startswith("$share/"):
        return topic.split("/", 2)[2] if topic.count("/") >= 2 else topic
    if access.action == PUBLISH and topic.startswith("$delayed/"):
        return topic.split("/", 2)[2] if topic.count("/") >= 2 else topic
    return topic
