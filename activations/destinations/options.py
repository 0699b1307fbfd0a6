"""What every destination's block in a segment's YAML shares: strict types and the removal guard.

Each destination declares its own block as a subclass of `DestinationOptions` next to its code,
and registers it (`activations/destinations/registry.py`); the segment schema is assembled from
the registrations, so a new destination's options are validated without editing the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from activations.errors import CohortflowError

Fraction = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, pattern=r"\S")]


class Strict(BaseModel):
    """No unknown keys, no coercion (a string is never a boolean or a number)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DestinationOptions(Strict):
    """A destination's block under `destinations:`; `max_exit_fraction` is the mass-removal gate
    (the share of what the destination holds that one sync may remove without approval)."""

    max_exit_fraction: Fraction = 0.5

    # The option naming where a segment's members are kept at the destination (Klaviyo's list,
    # Omnisend's tag), None where there is no such place. The ledger remembers it per segment:
    # renaming it in the YAML moves the members instead of leaving the old one populated.
    target_option: ClassVar[str | None] = None

    @property
    def target(self) -> str | None:
        """Where this segment's members are kept (surrounding spaces are not part of a name)."""
        if self.target_option is None:
            return None
        return str(getattr(self, self.target_option)).strip()

    def options_at(self, target: str) -> dict[str, Any]:
        """These options with the members kept at `target` instead: how a move addresses the
        old list or tag with the destination's own removal code."""
        if self.target_option is None:
            raise ValueError(f"{type(self).__name__} keeps members nowhere to move them from")
        return {**self.model_dump(), self.target_option: target}


Options = TypeVar("Options", bound=DestinationOptions)


class DestinationOptionsError(CohortflowError):
    """A segment's block for a destination does not fit that destination's options model."""


def parse_options(model: type[Options], segment: str, options: Mapping[str, Any]) -> Options:
    """A segment's block as its destination's typed options.

    Segments read from the manifest were validated against the same model by the segment schema
    (where every problem is reported at once); a destination parses again rather than reading
    keys out of a dict, so the rules live only in the model, and work built by hand (a notebook,
    a test) is held to them too.

    Raises:
        DestinationOptionsError: one line naming the segment, the key and what is wrong.
    """
    try:
        return model.model_validate(dict(options))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg'].lower()}"
            for detail in error.errors()
        )
        raise DestinationOptionsError(f"segment {segment}: {problems}.") from None
