"""A project's own SMS rules: `vars: sms_rules:` in dbt_project.yml, under every segment's.

The rules a text is decided by are layered: cohortflow's defaults (`rules.DEFAULT_RULES`), then
the project's `sms_rules`, then the segment's own `sms` block, each changing only the keys it
sets. A brand whose lawyers want 09:00 to 20:00 everywhere says it once, not in every segment.
It is read from dbt_project.yml, beside the other rules that decide segments, rather than from
the environment: it is policy, reviewed with the project, not a per-machine setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from activations.sms.rules import DEFAULT_RULES, SmsRules, SmsRulesError, rules_from_options

PROJECT_FILE = "dbt_project.yml"


def project_rules(project_dir: Path) -> SmsRules:
    """cohortflow's defaults with the project's `vars: sms_rules:` applied (the defaults when
    it has none).

    Raises:
        SmsRulesError: `sms_rules` is not a mapping, or one of its settings cannot be used.
    """
    path = project_dir / PROJECT_FILE
    if not path.is_file():  # a manifest read outside its project (tools, tests): no policy
        return DEFAULT_RULES
    try:
        project: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SmsRulesError(f"{path}: cannot read the project's sms_rules: {error}") from None
    variables = project.get("vars") or {} if isinstance(project, dict) else {}
    given = variables.get("sms_rules") if isinstance(variables, dict) else None
    if given is None:
        return DEFAULT_RULES
    if not isinstance(given, dict):
        raise SmsRulesError(f"{PROJECT_FILE} vars.sms_rules: must be a mapping of rules.")
    try:
        return rules_from_options(given)
    except SmsRulesError as error:
        raise SmsRulesError(f"{PROJECT_FILE} vars.sms_rules: {error}") from None
