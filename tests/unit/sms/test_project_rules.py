"""Project-wide SMS rules: dbt_project.yml's `vars: sms_rules:` under every segment's own block,
key by key, and a project setting that cannot be used refused when the segments are read."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from activations import transform
from activations.destinations.sms import SmsOptions
from activations.sms.project_rules import project_rules
from activations.sms.rules import DEFAULT_RULES, FrequencyCap, SmsRulesError


def project(tmp_path: Path, rules: str | None) -> Path:
    text = "name: shop\nvars:\n  churn_days: 365\n"
    if rules is not None:
        text += f"  sms_rules:\n{rules}"
    (tmp_path / "dbt_project.yml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_project_without_sms_rules_has_cohortflows_defaults(tmp_path: Path) -> None:
    assert project_rules(project(tmp_path, None)) == DEFAULT_RULES


def test_the_shipped_project_states_the_defaults_explicitly() -> None:
    assert project_rules(transform.DBT_PROJECT_DIR) == DEFAULT_RULES


def test_a_segment_overrides_the_project_key_by_key(tmp_path: Path) -> None:
    base = project_rules(
        project(
            tmp_path,
            "    consent_required: false\n"
            '    quiet_hours: {allowed_from: "09:00", allowed_until: "20:00"}\n'
            "    frequency_caps: [{max_messages: 2, per: 24h}]\n",
        )
    )
    assert not base.consent_required
    assert base.frequency_caps == (FrequencyCap(2, timedelta(hours=24)),)
    assert base.send_window == DEFAULT_RULES.send_window, "unset keys keep cohortflow's default"

    segment = SmsOptions(on_enter="winback", quiet_hours={"allowed_until": "19:00"}).rules(base)
    assert (segment.quiet_hours.allowed_from, segment.quiet_hours.allowed_until) == (
        time(9),
        time(19),
    ), "a segment's half of the quiet hours keeps the project's other half"
    assert not segment.consent_required, "a segment that does not say keeps the project's rule"
    assert SmsOptions(on_enter="w", consent_required=True).rules(base).consent_required
    assert segment.frequency_caps == base.frequency_caps


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("    send_window: soon\n", "send_window"),
        ("    consent_required: sometimes\n", "true or false"),
        ("    quiet_hour: {allowed_from: '09:00'}\n", "quiet_hour"),
        ("    - 24h\n", "must be a mapping"),
    ],
)
def test_project_rules_that_cannot_be_used_are_refused_naming_the_file(
    tmp_path: Path, rules: str, message: str
) -> None:
    with pytest.raises(SmsRulesError, match=message) as refused:
        project_rules(project(tmp_path, rules))
    assert str(refused.value).startswith("dbt_project.yml vars.sms_rules:")
