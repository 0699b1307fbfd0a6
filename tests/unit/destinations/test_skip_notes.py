"""A destination that was not synced is explained without pointing at a doc that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from activations.destinations.registry import skip_note

REPO = Path(__file__).resolve().parents[3]


def test_every_skip_note_names_only_docs_that_exist() -> None:
    for name in ("klaviyo", "omnisend", "sms", "webhook"):
        note = skip_note(name, "KLAVIYO_API_KEY not set")
        for doc in re.findall(r"docs/\S+\.md", note):
            assert (REPO / doc).is_file(), note
    assert "docs/destinations/klaviyo.md" in skip_note("klaviyo", "KLAVIYO_API_KEY not set")
