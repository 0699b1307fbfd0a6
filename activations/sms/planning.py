"""From a segment's membership changes to outbox rows: one text per change, written once.

A change becomes a row the first sync after it is recorded (after the segment's SMS baseline:
people already in the segment when SMS was switched on get no text). The body is rendered then,
from the member's traits at that run, so what is sent later is what was planned. A change with
no phone, or recorded longer ago than the send window (SMS switched on late, a week of syncs
missed), is written as suppressed or expired with its reason rather than texted late.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Connection

from activations.destinations.sms import TEMPLATE_DIR, SmsOptions
from activations.sms import outbox
from activations.sms.outbox import Change, Planned, Status
from activations.sms.templates import SmsTemplate, SmsTemplateError, check_traits, load_template


def segment_templates(
    project_dir: Path, segment: str, options: SmsOptions, traits: tuple[str, ...]
) -> dict[str, SmsTemplate]:
    """The segment's templates by change kind, each checked against the traits it declares.

    Raises:
        SmsTemplateError: a template file is missing, invalid, or reads an undeclared trait.
    """
    templates = {}
    for change, name in options.templates.items():
        path = project_dir / TEMPLATE_DIR / f"{name}.txt"
        if not path.is_file():
            raise SmsTemplateError(
                f"segment {segment}: sms.{'on_enter' if change == 'entered' else 'on_exit'} "
                f"names template {name!r}, but {path} does not exist"
            )
        template = load_template(path)
        # An exit text is about someone who left: their traits are no longer the segment's.
        check_traits(template, traits if change == "entered" else (), segment=segment)
        templates[change] = template
    return templates


def plan_segment(
    connection: Connection,
    *,
    state_schema: str,
    segment: str,
    send_window: timedelta,
    templates: Mapping[str, SmsTemplate],
    now: datetime,
) -> list[Planned]:
    """Write an outbox row for each of the segment's changes that has none yet, and return
    them: those settled already (no phone, past the window, a template that cannot render) are
    reported with the texts the sender settles."""
    changes = outbox.new_changes(connection, state_schema, segment, tuple(templates))
    planned = [_planned(segment, c, templates[c.change], now, send_window) for c in changes]
    outbox.add(connection, state_schema, planned)
    return planned


def _planned(
    segment: str, change: Change, template: SmsTemplate, now: datetime, window: timedelta
) -> Planned:
    body: str | None = None
    status: Status = "planned"
    code: str | None = None
    reason: str | None = None
    if change.phone is None:
        status, code, reason = "suppressed", "no_phone", "no phone number"
    elif now - change.recorded_at > window:
        hours = (now - change.recorded_at).total_seconds() / 3600
        status, code = "expired", "send_window_passed"
        reason = f"the change was recorded {hours:.0f}h before it was planned: past the send window"
    else:
        try:
            body = template.render(change.traits)
        except SmsTemplateError as error:
            status, code, reason = "failed", "template", str(error)
    return Planned(
        message_id=change.message_id,
        segment=segment,
        person_id=change.person_id,
        change=change.change,
        template=template.name,
        phone=change.phone,
        body=body,
        status=status,
        reason_code=code,
        reason=reason,
        planned_at=now,
        expires_at=now + window,
    )
