"""A segment's meta.cohortflow: typed, no unknown keys, every problem reported at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activations.destinations.klaviyo import (
    DEFAULT_ENTERED_METRIC,
    DEFAULT_EXITED_METRIC,
    KlaviyoOptions,
)
from activations.segment_config import (
    SegmentConfigError,
    load_segment_configs,
    parse_segment_config,
)

GOOD: dict[str, Any] = {
    "key": "email",
    "traits": ["first_name"],
    "destinations": {"klaviyo": {"list": "Lapsed VIPs", "events": True}},
}


def problems(meta: dict[str, Any]) -> list[str]:
    with pytest.raises(SegmentConfigError) as error:
        parse_segment_config("lapsed_vip", meta)
    return str(error.value).splitlines()


def test_a_misspelt_key_is_refused_with_a_suggestion() -> None:
    assert problems({**GOOD, "destinaton": {}}) == [
        "seg_lapsed_vip: destinaton: unknown key; did you mean `destinations`?"
    ]


def test_a_quoted_boolean_is_not_true() -> None:
    meta = {"destinations": {"klaviyo": {"list": "L", "events": "no"}}}
    assert problems(meta) == [
        "seg_lapsed_vip: destinations.klaviyo.events: must be true or false (unquoted), got 'no'."
    ]


def test_every_problem_is_reported_with_its_path() -> None:
    meta = {
        "key": "mail",
        "traits": ["first_name", ""],
        "destinations": {"klaviyo": {"max_exit_fraction": 1.5}, "omnisend": {"tagg": "x"}},
    }
    assert problems(meta) == [
        "seg_lapsed_vip: key: must be one of email, phone, person_id, got 'mail'. "
        "did you mean `email`?",
        "seg_lapsed_vip: traits[1]: must not be empty.",
        "seg_lapsed_vip: destinations.klaviyo.max_exit_fraction: must be between 0 and 1, got 1.5.",
        'seg_lapsed_vip: destinations.klaviyo.list: required, e.g. `list: "Lapsed VIPs"`.',
        'seg_lapsed_vip: destinations.omnisend.tag: required, e.g. `tag: "lapsed-vip"`.',
        "seg_lapsed_vip: destinations.omnisend.tagg: unknown key; did you mean `tag`?",
    ]


def test_checks_problems_name_the_segment_and_block() -> None:
    (line,) = problems({"checks": {"max_nul_key_fraction": 0.1}})
    assert line.startswith("seg_lapsed_vip: checks: unknown setting(s) max_nul_key_fraction")


def test_one_segment_can_go_to_every_kind_of_destination() -> None:
    config = parse_segment_config(
        "lapsed_vip",
        {
            "destinations": {
                "omnisend": {"tag": "lapsed-vip", "events": True},
                "sms": {"on_enter": "winback_sms", "consent_required": True},
                "webhook": {"url_env": "PARTNER_URL", "secret_env": "PARTNER_SECRET"},
            }
        },
    )
    assert config.destination_names == ("omnisend", "sms", "webhook")


def test_defaults_match_what_the_klaviyo_destination_uses() -> None:
    options = KlaviyoOptions(list="L")
    assert (options.entered_metric, options.exited_metric) == (
        DEFAULT_ENTERED_METRIC,
        DEFAULT_EXITED_METRIC,
    )
    (target,) = parse_segment_config("vip", GOOD).destinations
    assert (target.events, target.max_exit_fraction, target.options["list"]) == (
        True,
        0.5,
        "Lapsed VIPs",
    )


def test_the_manifest_reports_every_segment_at_once(tmp_path: Path) -> None:
    nodes = {
        f"model.cohortflow.{name}": {
            "resource_type": "model",
            "name": name,
            "config": {"meta": {"cohortflow": meta}},
        }
        for name, meta in {
            "seg_a": {"destinaton": {}},
            "seg_b": {"key": "phone"},
            "seg_c": {"traits": "first_name"},
        }.items()
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    with pytest.raises(SegmentConfigError) as error:
        load_segment_configs(path)
    assert [str(p).split(":")[0] for p in error.value.problems] == ["seg_a", "seg_c"]


WRONG_VALUES = {
    "key": st.sampled_from(["mail", 1, True]),
    "traits": st.sampled_from(["first_name", [1], [""]]),
    "destinations.klaviyo.events": st.sampled_from(["yes", "no", 1, 0]),
    "destinations.klaviyo.list": st.sampled_from(["", "  ", 3]),
    "destinations.klaviyo.max_exit_fraction": st.sampled_from([-0.1, 2, "0.5", False]),
    "destinations.sms.consent_required": st.sampled_from(["true", 1]),
}


@given(
    st.dictionaries(st.sampled_from(sorted(WRONG_VALUES)), st.none(), min_size=1).flatmap(
        lambda chosen: st.fixed_dictionaries({path: WRONG_VALUES[path] for path in chosen})
    )
)
def test_each_wrong_value_is_one_problem_at_its_path(faults: dict[str, Any]) -> None:
    meta: dict[str, Any] = {"destinations": {"klaviyo": {"list": "L"}, "sms": {}}}
    for path, value in faults.items():
        *parents, leaf = path.split(".")
        node = meta
        for part in parents:
            node = node[part]
        node[leaf] = value
    reported = {line.split(": ")[1].split("[")[0] for line in problems(meta)}
    assert reported == set(faults)
