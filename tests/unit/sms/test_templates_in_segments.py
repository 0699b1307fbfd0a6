"""A segment's SMS templates are checked when the segments are read, like the rest of its YAML:
a missing file or an undeclared trait stops `segments validate` and `run` before any text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activations.segment_config import SegmentConfigError, load_segment_configs


def project(tmp_path: Path, template: str | None, traits: list[str]) -> Path:
    """A project folder with a manifest routing seg_winback to sms; returns the manifest."""
    meta = {
        "key": "phone",
        "traits": traits,
        "destinations": {"sms": {"on_enter": "winback"}},
    }
    node = {
        "resource_type": "model",
        "name": "seg_winback",
        "config": {"meta": {"cohortflow": meta}},
    }
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"nodes": {"model.p.seg_winback": node}}), encoding="utf-8")
    if template is not None:
        (tmp_path / "sms").mkdir()
        (tmp_path / "sms" / "winback.txt").write_text(template, encoding="utf-8")
    return manifest


def test_a_template_using_declared_traits_is_accepted(tmp_path: Path) -> None:
    configs = load_segment_configs(project(tmp_path, "Hi {{ first_name }}\n", ["first_name"]))
    assert list(configs) == ["winback"]


def test_a_missing_template_file_is_a_segment_problem(tmp_path: Path) -> None:
    with pytest.raises(SegmentConfigError, match=r"seg_winback: destinations\.sms: .*winback"):
        load_segment_configs(project(tmp_path, None, ["first_name"]))


def test_a_template_reading_an_undeclared_trait_is_a_segment_problem(tmp_path: Path) -> None:
    with pytest.raises(SegmentConfigError, match="uses last_order_at") as refused:
        load_segment_configs(project(tmp_path, "{{ last_order_at }}", ["first_name"]))
    assert [p.path for p in refused.value.problems] == ["destinations.sms"]


def test_templates_are_found_from_a_manifest_dagster_parsed_into_target_dagster(
    tmp_path: Path,
) -> None:
    manifest = project(tmp_path, "Hi {{ first_name }}\n", ["first_name"])
    (tmp_path / "dbt_project.yml").write_text("name: shop\n", encoding="utf-8")
    nested = tmp_path / "target" / "dagster" / "manifest.json"
    nested.parent.mkdir()
    nested.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
    assert list(load_segment_configs(nested)) == ["winback"]
