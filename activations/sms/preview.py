"""`cohortflow sms preview`: what a segment's entry text would say to its members now, how long
it is, and who would not get it and why, without writing or sending anything."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from activations.queries import statement
from activations.sms import outbox
from activations.sms.length import BodyLength, body_length
from activations.sms.rules import Expire, Send, SmsRules
from activations.sms.sender import decide_text
from activations.sms.templates import SmsTemplate, SmsTemplateError
from activations.sms.zones import resolve_zones
from activations.transform import MODELS_SCHEMA


@dataclass(frozen=True)
class Member:
    """A segment member as the rules see them."""

    person_id: str
    phone: str | None
    traits: dict[str, object]
    consent_status: str | None
    consented_at: datetime | None
    opted_out_at: datetime | None
    opted_out_by: str | None
    timezone: str | None


@dataclass(frozen=True)
class Previewed:
    """One member's text: the body and its length, or why there is none, and when it would go."""

    person_id: str
    phone: str | None
    zones: str
    body: str | None
    length: BodyLength | None
    outcome: str  # "send now", "deferred", "skipped", "expired"
    code: str | None  # what held it back, for counting
    detail: str | None

    @property
    def tally(self) -> str:
        return self.outcome if self.code is None else f"{self.outcome}: {self.code}"


def preview(
    connection: Connection,
    *,
    state_schema: str,
    segment: str,
    template: SmsTemplate,
    rules: SmsRules,
    now: datetime,
    limit: int,
) -> tuple[list[Previewed], Counter[str]]:
    """The first `limit` members' texts, and every member's outcome counted by its reason."""
    ids = {"state_schema": state_schema, "models_schema": MODELS_SCHEMA}
    rows = connection.execute(
        statement(connection, "select_sms_preview", **ids), {"segment": segment}
    )
    members = [
        Member(**{**row._mapping, "traits": json.loads(row.traits) if row.traits else {}})
        for row in rows
    ]
    history = outbox.recent_sends(
        connection, state_schema, (m.phone for m in members if m.phone), now - rules.cap_lookback
    )
    shown: list[Previewed] = []
    tally: Counter[str] = Counter()
    for member in members:
        previewed = _previewed(member, template, rules, now, history.get(str(member.phone), []))
        tally[previewed.tally] += 1
        if len(shown) < limit:
            shown.append(previewed)
    return shown, tally


def _previewed(
    member: Member, template: SmsTemplate, rules: SmsRules, now: datetime, sent: list[datetime]
) -> Previewed:
    def made(outcome: str, code: str | None = None, detail: str | None = None) -> Previewed:
        return Previewed(member.person_id, member.phone, zones, body, length, outcome, code, detail)

    zones = resolve_zones(member.phone, member.timezone).explain()
    body: str | None = None
    length: BodyLength | None = None
    try:
        body = template.render(member.traits)
        length = body_length(body)
    except SmsTemplateError as error:
        return made("skipped", "template", str(error))
    if member.phone is None:
        return made("skipped", "no_phone", "no phone number")
    decision = decide_text(member, now=now, planned_at=now, sent=sent, rules=rules)
    if isinstance(decision, Send):
        if not decision.deferred:
            return made("send now")
        reasons = "; ".join(str(r) for r in decision.deferred_by)
        code = decision.deferred_by[0].code.value
        return made("deferred", code, f"until {decision.at:%Y-%m-%d %H:%M} UTC: {reasons}")
    outcome = "expired" if isinstance(decision, Expire) else "skipped"
    return made(outcome, decision.reason.code.value, decision.reason.detail)
