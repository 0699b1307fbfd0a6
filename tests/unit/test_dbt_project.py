"""The dbt project agrees with the Python side: sources match the raw contract, the segment
registry lists every seg_* model, and every segment has YAML with meta.cohortflow."""

from __future__ import annotations

from pathlib import Path

import yaml

from activations.raw_contract import RAW_TABLES
from activations.segments import (
    REGISTRY_PATH,
    refresh_segment_registry,
    render_registry,
    segment_model_names,
)
from activations.transform import DBT_PROJECT_DIR


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_raw_sources_declare_exactly_the_contract_tables_and_columns() -> None:
    sources = _yaml(DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml")["sources"]
    raw = next(source for source in sources if source["name"] == "raw")
    declared = {t["name"]: [c["name"] for c in t["columns"]] for t in raw["tables"]}
    assert declared == {t.name: list(t.column_names) for t in RAW_TABLES}


def test_committed_segment_registry_lists_every_segment_model() -> None:
    registry = (DBT_PROJECT_DIR / REGISTRY_PATH).read_text(encoding="utf-8")
    assert registry == render_registry(segment_model_names(DBT_PROJECT_DIR))


def test_refresh_adds_a_new_segment_and_is_idempotent(tmp_path: Path) -> None:
    (tmp_path / "models" / "segments").mkdir(parents=True)
    (tmp_path / "macros").mkdir()
    (tmp_path / "models" / "segments" / "seg_b.sql").write_text("select 1 as person_id")
    assert refresh_segment_registry(tmp_path) is True
    (tmp_path / "models" / "segments" / "seg_a.sql").write_text("select 1 as person_id")
    assert refresh_segment_registry(tmp_path) is True
    text = (tmp_path / REGISTRY_PATH).read_text()
    assert text.index("'seg_a'") < text.index("'seg_b'")
    assert refresh_segment_registry(tmp_path) is False


def test_every_segment_has_a_description_and_cohortflow_meta() -> None:
    models = _yaml(DBT_PROJECT_DIR / "models" / "segments" / "segments.yml")["models"]
    by_name = {model["name"]: model for model in models}
    for name in segment_model_names(DBT_PROJECT_DIR):
        assert name in by_name, f"{name} has no YAML entry"
        model = by_name[name]
        assert model.get("description"), f"{name} has no description"
        meta = model["config"]["meta"]["cohortflow"]
        assert meta["key"] in {"email", "phone", "person_id"}
        columns = {column["name"]: column for column in model["columns"]}
        assert {"unique", "not_null"} <= set(columns["person_id"]["data_tests"])
