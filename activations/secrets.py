"""A type for credentials: a value that prints as *** everywhere except where it is sent.

API keys travel from the environment to one HTTP header. Wrapping them means a settings object
can be logged, put in an exception or shown in Dagster metadata without leaking the key: only
`reveal()` gives the value, and only the HTTP client calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    """A credential whose repr and str are `***`."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __bool__(self) -> bool:
        return bool(self._value)
