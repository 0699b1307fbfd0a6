"""SMS through Twilio: a segment's `sms` block, and how its texts are sent.

SMS does not fit the segment-and-acknowledgement protocol the ESPs share: nothing is held at
Twilio that could be listed, added or removed, and a text is sent at most once, per person,
under rules that read the warehouse at send time (consent, opt-outs, the person's time zone,
what was texted lately). So the registration's `run` replaces the generic sync: it fills the
outbox from the segment's changes after its SMS baseline (`activations/sms/planning.py`) and
sends what is due (`activations/sms/sender.py`). docs/destinations/sms.md says what is sent
when.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from activations.destinations.options import DestinationOptions, Fraction, Name, Strict
from activations.sms.rules import DEFAULT_RULES, SmsRules, SmsRulesError, rules_from_options

NAME = "sms"
TEMPLATE_DIR = "sms"  # templates live in dbt_project/sms/<name>.txt
Clock = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", examples=["08:00"])]
Duration = Annotated[str, Field(pattern=r"^\s*\d+\s*[mhd]\s*$", examples=["24h"])]


class QuietHoursOptions(Strict):
    """The local hours in which texts may go (`allowed_from` included, `allowed_until` not);
    an end not given is the project's (by default 08:00 and 21:00)."""

    allowed_from: Clock | None = None
    allowed_until: Clock | None = None


class CapOptions(Strict):
    """At most `max_messages` texts to one person per `per` (e.g. 24h, 7d), across segments."""

    max_messages: Annotated[int, Field(ge=1)]
    per: Duration


class SmsOptions(DestinationOptions):
    """A segment's `destinations.sms` block (docs/destinations/sms.md)."""

    on_enter: Name | None = None
    on_exit: Name | None = None
    # None: the project's rule (`vars: sms_rules:` in dbt_project.yml), true unless it says so.
    consent_required: bool | None = None
    quiet_hours: QuietHoursOptions | None = None
    frequency_caps: list[CapOptions] | None = None
    send_window: Duration | None = None
    delivery: Literal["at_most_once", "at_least_once"] = "at_most_once"
    # Texts hold no membership at Twilio: there is nothing a mass removal could take away.
    max_exit_fraction: Fraction = 1.0

    @model_validator(mode="after")
    def _usable_rules(self) -> SmsOptions:
        """Refuse settings the rules cannot use (equal quiet hours, a zero window) when the
        segment is read, not when the first text is due."""
        try:
            self.rules()
        except SmsRulesError as error:
            raise ValueError(str(error)) from None
        return self

    @property
    def templates(self) -> dict[str, str]:
        """The template each change kind is texted with ({"entered": ..., "exited": ...})."""
        named = {"entered": self.on_enter, "exited": self.on_exit}
        return {change: name for change, name in named.items() if name is not None}

    def rules(self, base: SmsRules = DEFAULT_RULES) -> SmsRules:
        """The rules this segment's texts are decided by: `base` (the project's,
        `activations.sms.project_rules`) with the keys this block sets overridden."""
        given: dict[str, Any] = self.model_dump(
            include={"consent_required", "quiet_hours", "frequency_caps", "send_window"},
            exclude_none=True,
        )
        return rules_from_options(given, base=base)
