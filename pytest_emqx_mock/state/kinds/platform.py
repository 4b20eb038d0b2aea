"""The EMQX Platform account (`state.platform`): its deployments and its Platform API keys.
A reset starts from the deployments other servers serve (`BrokerConfig.deployment_links`,
running, with no certificate) and the config's Platform API key; a scenario's deployments are
added to them (one with a linked deployment's ID replaces its record and stays linked), its
keys likewise. The rate limits' counts are not written: a reset or a restore starts them
afresh."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..errors import AlreadyExists, ModelError
from ..fields import (
    Check,
    Problem,
    a_list,
    checked,
    choice,
    describe,
    expecting,
    integer,
    must,
    non_empty,
    number,
    text,
    timestamp,
)
from ..platform import (
    DEPLOYMENT_ID,
    DEPLOYMENT_TYPES,
    FEATURES,
    STATUSES,
    TLS_STATUSES,
    TLS_TYPES,
    VERSIONS,
    Platform,
)
from ..registry import Building, Kind, Section, Seeding, each_item, register

if TYPE_CHECKING:
    from ..broker import Broker


@expecting("a letter and 7 hexadecimal digits (mdfba81f)")
def deployment_id(value: Any) -> str:
    if not isinstance(value, str) or not DEPLOYMENT_ID.fullmatch(value):
        raise must(deployment_id, value)
    return value


TLS_CHECKS: dict[str, Check] = {
    "tls_type": choice(*TLS_TYPES),
    "expire": timestamp,
    "status": choice(*TLS_STATUSES),
    "cert": text,
    "key": text,
    "cacert": text,
}


@expecting("null, or an object of tls_type, expire, status, cert, key and cacert")
def tls_certificate(value: Any) -> dict[str, Any] | None:
    return None if value is None else checked(value, TLS_CHECKS, required=("tls_type", "expire"))


DEPLOYMENT_CHECKS: dict[str, Check] = {
    "deployment_id": deployment_id,
    "name": non_empty,
    "deployment_type": choice(*DEPLOYMENT_TYPES),
    "version": choice(*VERSIONS),
    "status": choice(*STATUSES),
    "platform": non_empty,
    "region": non_empty,
    "project_name": non_empty,
    "connections": integer(0),
    "create_at": timestamp,
    "startup": number,
    "tls": tls_certificate,
}


@expecting("a list of the features deployments and tls")
def features(value: Any) -> tuple[str, ...]:
    listed = a_list(value)
    if any(feature not in FEATURES for feature in listed):
        raise must(features, value)
    return tuple(dict.fromkeys(listed))


@expecting("null (every project), or a list of project names")
def projects(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(non_empty(name) for name in a_list(value))


PLATFORM_KEY_CHECKS: dict[str, Check] = {
    "key": non_empty,
    "secret": non_empty,
    "features": features,
    "projects": projects,
    "desc": text,
}


def _refused_deployment(fields: Mapping[str, Any], error: ModelError) -> Problem | None:
    if isinstance(error, AlreadyExists):
        return Problem(f"the deployment {describe(fields['deployment_id'])} exists already", "deployment_id")
    return None


def _refused_key(fields: Mapping[str, Any], error: ModelError) -> Problem | None:
    if isinstance(error, AlreadyExists):
        return Problem(f"the Platform API key {describe(fields['key'])} exists already", "key")
    return None


def _reset(broker: Broker) -> None:
    broker.platform = Platform(broker.config.deployment_links)
    if broker.config.platform_key is not None:
        broker.platform.add_key(*broker.config.platform_key)


def _load_deployment(building: Building, item: Any) -> None:
    fields = checked(item, DEPLOYMENT_CHECKS)
    building.state.platform.add(fields.pop("deployment_id", None), replace=True, **fields)


def _load_key(building: Building, item: Any) -> None:
    fields = checked(item, PLATFORM_KEY_CHECKS, required=("key",))
    building.state.platform.add_key(fields.pop("key"), fields.pop("secret", None), replace=True, **fields)


def _dump_deployments(broker: Broker) -> list[dict[str, Any]]:
    return broker.platform.documents()


def _dump_keys(broker: Broker) -> list[dict[str, Any]]:
    return [key.document() for key in broker.platform.keys.values()]


register(
    Kind(
        "platform",
        _reset,
        sections=(
            Section("platform_keys", each_item(_load_key), _dump_keys, snapshot_rank=15),
            Section("deployments", each_item(_load_deployment), _dump_deployments, snapshot_rank=16),
        ),
    ),
    Seeding(
        "deployments", "add_deployment", rank=21, checks=DEPLOYMENT_CHECKS, marker=True, shorthand="deployment_id",
        refused=_refused_deployment,
    ),  # fmt: skip
    Seeding(
        "platform_keys", "add_platform_key", rank=22, checks=PLATFORM_KEY_CHECKS, required=("key",), marker=True, shorthand="key",
        refused=_refused_key,
    ),  # fmt: skip
)
