"""Segment settings are read from dbt's manifest while another command may be rewriting it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from activations import manifest as manifest_module
from activations.errors import CohortflowError
from activations.manifest import read_manifest
from activations.segment_config import load_segment_configs

MANIFEST = {
    "nodes": {
        "model.cohortflow.seg_vip": {
            "name": "seg_vip",
            "resource_type": "model",
            "config": {"meta": {"cohortflow": {"key": "email"}}},
        }
    },
    "sources": {},
}


def test_a_manifest_read_while_dbt_rewrites_it_waits_for_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    whole = json.dumps(MANIFEST)
    path.write_text(whole[: len(whole) // 2], encoding="utf-8")  # dbt halfway through
    finisher = threading.Timer(0.3, path.write_text, args=(whole,), kwargs={"encoding": "utf-8"})
    finisher.start()
    try:
        configs = load_segment_configs(path)
    finally:
        finisher.join()
    assert list(configs) == ["vip"] and configs["vip"].key == "email"


def test_a_manifest_that_stays_broken_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_module, "_SETTLE_SECONDS", 0.2)
    path = tmp_path / "manifest.json"
    path.write_text('{"nodes": {', encoding="utf-8")
    with pytest.raises(CohortflowError, match="not valid JSON: run `cohortflow run`"):
        read_manifest(path)


def test_no_manifest_is_none_and_segments_say_how_to_make_one(tmp_path: Path) -> None:
    assert read_manifest(tmp_path / "manifest.json") is None
    with pytest.raises(CohortflowError, match="run `cohortflow run`"):
        load_segment_configs(tmp_path / "manifest.json")
