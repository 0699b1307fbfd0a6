"""The quickstart names the asset groups the Dagster UI shows; it must name exactly those."""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.definitions import defs

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
NUMBERS = {"nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


def test_the_quickstart_lists_every_asset_group() -> None:
    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    text = QUICKSTART.read_text(encoding="utf-8")
    section = text[text.index("## 4. Dagster") : text.index("## 5.")]
    said = re.search(r"in (\w+) groups", section)
    assert said and NUMBERS.get(said.group(1)) == len(groups), "the group count drifted"
    named = set(re.findall(r"`([a-z_]+)`", section))
    assert groups <= named, f"groups the quickstart does not name: {sorted(groups - named)}"
