"""The config store (`state.config.RawConfig`, `resources.config`) and the hocon primitives
every config root shares (`erlang.hocon`, `erlang.terms`), as EMQX 5.8.9 / hocon 0.44 parse
and print them (`hocon_postprocess:duration/1`, `emqx_schema:to_duration_ms/1`,
`to_bytesize/1`, `io_lib:format("~p")`)."""

from __future__ import annotations

from typing import Any

import pytest
from api import error, get, hocon, ok, put

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.erlang.hocon import bytesize, duration_ms, timeout_duration_ms
from pytest_emqx_mock.erlang.terms import Atom, pretty
from pytest_emqx_mock.state.config import MERGE, REPLACE_FIELDS, RawConfig
from pytest_emqx_mock.state.errors import Invalid

SETTINGS = {"cache": {"enable": True, "excludes": [], "max_size": 32, "ttl": "1m"}, "deny_action": "ignore", "no_match": "allow"}


# -- one duration, one bytesize ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1h30m", 5_400_000), ("500ms", 500), ("500MS", 500), ("1.5s", 1500), (".5s", 500),
        ("1f", 14 * 86_400_000), ("1m30s", 90_000), ("1ms30s", 30_001), ("0.0005s", 1),
        ("1s\n", 1000),  # PCRE's `$` matches before a final newline
        ("1500", 1500), ("-3", -3), ("+7", 7), (60000, 60000),
        ("1.5", None), (" 1s", None), ("1 s", None), ("1Ms", None), ("1m30", None), ("1.2.3s", None),
        ("", None), ("s", None), (" 12", None), ("1_000", None), (True, None), (1.5, None),
    ],
)  # fmt: skip
def test_durations_as_hocon_parses_them(text: Any, ms: int | None) -> None:
    assert duration_ms(text) == ms


def test_a_timeout_duration_has_a_ceiling() -> None:
    assert timeout_duration_ms("49d17h2m47s295ms") == 4_294_967_295
    assert timeout_duration_ms("4294967296") == "timeout value too large (max: 4294967295 ms)"
    assert timeout_duration_ms("soon") is None


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1MB", 1024**2), ("512kb", 512 * 1024), ("  4b", 4), ("2GB", 2 * 1024**3), ("100", 100), (64, 64),
        ("\t1MB", None),  # the Erlang source's `\s` is a space, not any white space
        ("1Mb", None), ("1.5MB", None), ("1 MB", None), ("1MB ", None), ("1_000", None), ("Kb", None),
    ],
)  # fmt: skip
def test_byte_sizes_as_hocon_parses_them(text: Any, size: int | None) -> None:
    assert bytesize(text) == size


def test_every_duration_field_takes_the_same_durations(emqx_server: EmqxServer) -> None:
    """`PUT /mqtt/retainer` and `PUT /authorization/settings` agree: `"1.5s"` is a duration."""
    assert ok(put(emqx_server, "/mqtt/retainer", {"msg_expiry_interval": "1.5s"}))["msg_expiry_interval"] == "1.5s"
    body = {**SETTINGS, "cache": {"ttl": "1.5s"}}
    assert ok(put(emqx_server, "/authorization/settings", body))["cache"]["ttl"] == "1.5s"
    for path, field, value in [("/mqtt/retainer", "msg_expiry_interval", "1.5"), ("/mqtt/retainer", "msg_clear_interval", " 1s")]:
        error(put(emqx_server, path, {field: value}), 400, "BAD_REQUEST", hocon(path=f"root.{field}", reason="Not a valid duration", value=value))
    error(put(emqx_server, "/authorization/settings", {**SETTINGS, "cache": {"ttl": "1.5"}}), 400, "BAD_REQUEST",
          hocon(path="cache.ttl", reason="Not a valid duration", value="1.5"))  # fmt: skip


def test_a_timeout_duration_too_large_is_refused(emqx_server: EmqxServer) -> None:
    error(put(emqx_server, "/mqtt/retainer", {"msg_clear_interval": "50d"}), 400, "BAD_REQUEST",
          hocon(path="root.msg_clear_interval", reason="timeout value too large (max: 4294967295 ms)", value="50d"))  # fmt: skip


def test_the_authz_cache_runs_with_the_converted_ttl(emqx_server: EmqxServer) -> None:
    ok(put(emqx_server, "/authorization/settings", {**SETTINGS, "cache": {"ttl": "1.5s", "max_size": 7}}))
    authz = emqx_server.broker.authz
    assert (authz._cache_ttl_ms, authz._cache_max_size) == (1500, 7)
    assert ok(get(emqx_server, "/authorization/settings"))["cache"] == {"enable": True, "excludes": [], "max_size": 7, "ttl": "1.5s"}


# -- the raw config store -------------------------------------------------------------------------


def test_a_merge_root_merges_one_level_deep() -> None:
    root = RawConfig({"a": 1, "nested": {"x": 1, "y": 2}}, mode=MERGE)
    assert root.update({"nested": {"x": 5}, "b": None}) == {"a": 1, "nested": {"x": 5}}


def test_a_replace_fields_root_fills_each_object_from_its_defaults() -> None:
    root = RawConfig({"a": 1, "nested": {"x": 1, "y": 2}}, mode=REPLACE_FIELDS)
    root.update({"nested": {"y": 9}})
    assert root.update({"nested": {"x": 5, "y": None}}) == {"a": 1, "nested": {"x": 5, "y": 2}}


def test_a_refused_update_changes_nothing_and_effects_follow_the_raw_tree() -> None:
    seen: list[dict[str, Any]] = []

    def check(raw: dict[str, Any]) -> None:
        if raw["a"] < 0:
            raise Invalid("negative")

    root = RawConfig({"a": 1}, check=check, on_change=seen.append)
    with pytest.raises(Invalid, match="negative"):
        root.update({"a": -1})
    view = root.view()
    view["a"] = 99  # a view is a copy
    assert (root.raw, seen) == ({"a": 1}, [{"a": 1}])
    root.update({"a": 2})
    assert seen == [{"a": 1}, {"a": 2}]


def test_the_retainer_limits_follow_its_raw_config(emqx_server: EmqxServer) -> None:
    ok(put(emqx_server, "/mqtt/retainer", {"max_payload_size": "1kb"}))
    emqx_server.publish("big", "x" * 1025, retain=True)
    emqx_server.publish("fits", "x" * 1024, retain=True)
    assert [message.topic for message in emqx_server.broker.retained] == ["fits"]


def test_a_boolean_text_is_kept_raw_and_runs_converted(emqx_server: EmqxServer) -> None:
    """EMQX stores the body unconverted (`filter_check_request` checks, then passes the body
    as sent): a retainer set to `"false"` keeps the text and is off."""
    retained = emqx_server.broker.retained
    assert retained.update_config({"enable": "false"})["enable"] == "false"
    emqx_server.publish("t", "dropped", retain=True)
    assert (retained.raw_config["enable"], list(retained)) == ("false", [])
    retained.update_config({"enable": " true"})
    emqx_server.publish("t", "kept", retain=True)
    assert [message.topic for message in retained] == ["t"]


# -- one `~p` -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ((Atom("badmatch"), (Atom("error"), {"path": "retainer", "kind": Atom("validation_error")})),
         '{badmatch,{error,#{kind => validation_error,path => "retainer"}}}'),
        (Atom("emqx@10.0.0.2"), "'emqx@10.0.0.2'"), (Atom("end"), "'end'"), (Atom("maybe"), "maybe"),
        ("a\"b\n", '"a\\"b\\n"'), ("", "[]"), ("\u2028", "[8232]"), ("é", '"é"'),
        (b"t/1", '<<"t/1">>'), (b"\x01", "<<1>>"), ([1, True], "[1,true]"),
    ],
)  # fmt: skip
def test_terms_print_as_io_lib_does(term: Any, text: str) -> None:
    assert pretty(term) == text
