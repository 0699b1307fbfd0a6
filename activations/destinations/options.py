"""What every destination's block in a segment's YAML shares: strict types and the removal guard.

Each destination declares its own block as a subclass of `DestinationOptions` next to its code,
and registers it (`activations/destinations/registry.py`); the segment schema is assembled from
the registrations, so a new destination's options are validated without editing the schema.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, pattern=r"\S")]


class Strict(BaseModel):
    """No unknown keys, no coercion (a string is never a boolean or a number)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DestinationOptions(Strict):
    """A destination's block under `destinations:`; `max_exit_fraction` is the mass-removal gate
    (the share of what the destination holds that one sync may remove without approval)."""

    max_exit_fraction: Fraction = 0.5
