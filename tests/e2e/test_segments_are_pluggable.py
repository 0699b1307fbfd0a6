"""Adding a segment is one SQL file plus YAML: segment_membership picks it up with no edit."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from activations import transform
from activations.errors import DbtRunError
from activations.phones import refresh_phone_lookup
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.raw_files import write_raw_folder

pytestmark = pytest.mark.integration

AS_OF = datetime(2026, 6, 30, 12)
NEW_SEGMENT = """
select person_id, lifecycle_stage as stage
from {{ ref('person_lifecycle') }}
where lifecycle_stage = 'new'
"""
NEW_SEGMENT_YAML = """
version: 2
models:
  - name: seg_everyone_new
    description: Test segment added by a test.
    config:
      meta:
        cohortflow: {key: email, traits: [stage]}
"""


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(
        transform.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs")
    )
    return copy


@pytest.fixture
def loaded_settings(tmp_path: Path) -> Settings:
    from activations.loader import load_raw_folder

    settings = Settings(warehouse=Warehouse.from_location(str(tmp_path / "w.duckdb")))
    load_raw_folder(settings.warehouse, write_raw_folder(tmp_path / "raw"))
    with connect(settings.warehouse) as connection:
        refresh_phone_lookup(
            connection, raw_schema="raw", state_schema="cohortflow_state", default_region="US"
        )
    return settings


def test_a_new_segment_file_appears_in_segment_membership(
    project_copy: Path, loaded_settings: Settings
) -> None:
    segments = project_copy / "models" / "segments"
    (segments / "seg_everyone_new.sql").write_text(NEW_SEGMENT)
    (segments / "seg_everyone_new.yml").write_text(NEW_SEGMENT_YAML)
    membership_sql = (segments / "segment_membership.sql").read_text()

    transform.build(
        loaded_settings.warehouse,
        as_of=AS_OF,
        extra_vars=loaded_settings.dbt_vars(),
        project_dir=project_copy,
    )

    assert (segments / "segment_membership.sql").read_text() == membership_sql
    with connect(loaded_settings.warehouse) as connection:
        rows = (
            connection.execute(
                sa.text(
                    "select traits from analytics.segment_membership where segment = 'everyone_new'"
                )
            )
            .scalars()
            .all()
        )
    assert rows == ['{"stage":"new"}']


def test_a_stale_registry_fails_loudly_instead_of_dropping_a_segment(
    project_copy: Path, loaded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project_copy / "models" / "segments" / "seg_everyone_new.sql").write_text(NEW_SEGMENT)
    monkeypatch.setattr(transform, "refresh_segment_registry", lambda _: False)
    with pytest.raises(DbtRunError, match="cohortflow segments refresh"):
        transform.build(
            loaded_settings.warehouse,
            as_of=AS_OF,
            extra_vars=loaded_settings.dbt_vars(),
            project_dir=project_copy,
        )


def test_a_listed_trait_the_model_does_not_select_names_the_trait(
    project_copy: Path, loaded_settings: Settings
) -> None:
    segments = project_copy / "models" / "segments"
    (segments / "seg_everyone_new.sql").write_text(NEW_SEGMENT)
    (segments / "seg_everyone_new.yml").write_text(NEW_SEGMENT_YAML.replace("[stage]", "[stag]"))
    with pytest.raises(DbtRunError, match="'stag'"):
        transform.build(
            loaded_settings.warehouse,
            as_of=AS_OF,
            extra_vars=loaded_settings.dbt_vars(),
            project_dir=project_copy,
        )
