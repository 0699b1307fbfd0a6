"""Destinations segments may already name whose sync is not built yet.

Their YAML blocks are validated like any other (a typo is an error today, not on the day the
destination lands), and segments routed to them are built and tracked; `cohortflow plan` and
`run` say that nothing is sent. Each moves to its own module when it is implemented.
"""

from __future__ import annotations

from activations.destinations.base import Registration
from activations.destinations.options import DestinationOptions, Name


class WebhookOptions(DestinationOptions):
    """`destinations.webhook` (DESIGN section 7)."""

    url: Name | None = None
    events: bool = False


WEBHOOK = Registration(name="webhook", options=WebhookOptions)
