"""The errors cohortflow raises for problems a user can fix, each one line naming the next step.

    CohortflowError
     ├── WarehouseError          the warehouse location is invalid or cannot be reached
     ├── RawDataError            a raw folder or table does not match the raw data contract
     └── DbtRunError             dbt reported failed models or tests

The CLI prints these as `error: <message>` without a traceback; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class CohortflowError(Exception):
    """A problem the user can fix; the message says what failed and what to do."""


class WarehouseError(CohortflowError):
    """The warehouse location is invalid or the warehouse cannot be reached."""


class RawDataError(CohortflowError):
    """Raw input does not match the raw data contract (DESIGN §3)."""


class DbtRunError(CohortflowError):
    """dbt reported errors or failing tests."""
