"""Authorization: `settings` (`no_match`, `deny_action`, `cache`), `sources` (the chain in
order, replacing the default `file` source, each with optional `metrics`), and the built-in
database's `rules`: `{users: {name: [rule]}, clients: {id: [rule]}, all: [rule]}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ...versions import NO_MATCH, default
from ..authz import (
    ALLOW,
    DENY,
    SOURCE_METRICS,
    Authorization,
    make_source,
    normalize_rule,
)
from ..errors import Invalid, ModelError
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    counter_map,
    describe,
    each,
    expecting,
    flag,
    integer,
    json_object,
    non_empty,
    plain,
    text,
)
from ..registry import Building, Kind, Section, Seeding, register

if TYPE_CHECKING:
    from ..broker import Broker

SOURCE_CHECKS: dict[str, Check] = {
    "type": choice("file", "built_in_database"),
    "enable": flag,
    "rules": text,
    "max_rules": integer(1),
    "metrics": lambda value: {node: counter_map(SOURCE_METRICS)(counters) for node, counters in json_object(value).items()},
}


#: The settings' schema (`emqx_authz_schema`): `no_match` allow or deny, `deny_action` ignore or
#: disconnect; the cache's own fields are the model's to judge (`_settings_refused`).
SETTINGS_CHECKS: dict[str, Check] = {"no_match": choice(ALLOW, DENY), "deny_action": choice("ignore", "disconnect"), "cache": json_object}


def _rule(value: Any) -> dict[str, Any]:
    """A built-in database rule, as `emqx_authz_api_mnesia` stores it (`normalize_rule`)."""
    try:
        return normalize_rule(json_object(value))
    except Invalid as error:
        raise Problem(f"is refused: {error}") from None


@expecting("a list of rules (objects of topic, permission, action, and qos and retain if need be)")
def authz_rules(value: Any) -> list[dict[str, Any]]:
    return each(value, _rule)


#: Built-in database rules seeded from Python: those of a username, of a clientid, or of all.
RULES_CHECKS: dict[str, Check] = {"rules": authz_rules, "username": non_empty, "clientid": non_empty}


def _settings_refused(fields: Mapping[str, Any], error: ModelError) -> Problem:
    """Settings the model refuses: the only field the checks leave it to judge is the cache."""
    return Problem(f"is refused: {error}", "cache")


def _unwired(*arguments: Any) -> None:
    """What the chain counts and drains with until `_wire` connects it to its broker."""


def _reset(broker: Broker) -> None:
    broker.authz = Authorization(_unwired, _unwired, default(broker.config.version, NO_MATCH))
    if broker.config.builtin_database:
        broker.authz.add_source({"type": "built_in_database"})


def _wire(broker: Broker) -> None:
    broker.authz.count = broker.metrics.inc
    broker.authz.drain = broker.clear_authz_cache


def _load(building: Building, value: Any) -> None:
    sections = checked(value, {"settings": json_object, "sources": a_list, "rules": json_object})
    authz = building.state.authz
    if "settings" in sections:
        try:
            settings = checked(sections["settings"], SETTINGS_CHECKS)
            try:
                authz.update_settings(settings.get("no_match", default(building.config.version, NO_MATCH)), settings.get("deny_action", "ignore"), settings.get("cache", {}))
            except Invalid as error:
                raise _settings_refused(settings, error) from None
        except Problem as problem:
            raise problem.within("settings") from None
    if "sources" in sections:
        authz.sources = []
        for index, item in enumerate(sections["sources"]):
            try:
                fields = checked(item, SOURCE_CHECKS, required=("type",))
                metrics = fields.pop("metrics", {})
                try:
                    source = make_source(fields)
                except Invalid as error:
                    raise Problem(f"is refused: {error}") from None
                if authz.source(source.type) is not None:
                    raise Problem(f"{describe(source.type)} is listed twice", "type")
                for node, counters in metrics.items():
                    source.metrics[building.node(node, "metrics", node)] = {**dict.fromkeys(SOURCE_METRICS, 0), **counters}
                authz.sources.append(source)
            except Problem as problem:
                raise problem.within("sources", index) from None
    rules = checked(sections.get("rules", {}), {"users": json_object, "clients": json_object, "all": a_list})
    for kind in ("users", "clients"):
        for key, entries in rules.get(kind, {}).items():
            authz.rules.set(kind, key, _rules(entries, "rules", kind, key))
    if "all" in rules:
        authz.rules.set("all", "", _rules(rules["all"], "rules", "all"))


def _rules(value: Any, *segments: str) -> list[dict[str, Any]]:
    try:
        return authz_rules(value)
    except Problem as problem:
        raise problem.within(*segments) from None


def _dump(broker: Broker) -> dict[str, Any]:
    authz = broker.authz
    return {
        "settings": plain(authz.settings),
        "sources": [{**plain(source.config), "metrics": plain(source.metrics)} for source in authz.sources],
        "rules": {"users": plain(authz.rules.users), "clients": plain(authz.rules.clients), "all": plain(authz.rules.all)},
    }


register(
    Kind("authorization", _reset, _wire, sections=(Section("authorization", _load, _dump, snapshot_rank=11),)),
    Seeding(
        "authz_sources", "add_authz_source", rank=13,
        checks={key: check for key, check in SOURCE_CHECKS.items() if key != "metrics"}, required=("type",),
    ),
    Seeding("authz_settings", "set_authz_settings", rank=14, checks=SETTINGS_CHECKS, refused=_settings_refused),
    Seeding("authz_rules", "add_authz_rules", rank=15, checks=RULES_CHECKS, required=("rules",)),
)  # fmt: skip
