"""Reading dbt's manifest, which dbt may be rewriting at that moment.

dbt rewrites `target/manifest.json` in place on every parse, not atomically: a command run while
another one builds the project (`cohortflow plan` during a scheduled `cohortflow run`) can read
it half-written. A half-written JSON document never parses, so such a read is retried until dbt
has finished writing, and only a file that stays unreadable is reported.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from activations.errors import CohortflowError

# dbt writes a manifest of a few MB in well under a second; a file unreadable for this long is
# not being written, it is broken.
_SETTLE_SECONDS = 5.0
_PAUSE_SECONDS = 0.05


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at `path`, parsed (None when there is no manifest).

    Raises:
        CohortflowError: the file stays unparseable for several seconds.
    """
    deadline = time.monotonic() + _SETTLE_SECONDS
    while True:
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError:
            if time.monotonic() >= deadline:
                raise CohortflowError(
                    f"the dbt manifest at {path} is not valid JSON: run `cohortflow run` "
                    "to build the project and write it again."
                ) from None
            time.sleep(_PAUSE_SECONDS)
