"""Sending what the outbox holds, at most once: settle what is in doubt, send what is due, read
back what was delivered.

Order matters, and each step commits before the next request:
0. STOP replies to the sender number in the last week are recorded as opt-outs (once each).
1. Messages left `sending` by an earlier sync (a crash, a lost answer) are looked up in Twilio's
   message list. Found: `sent`. Not found: `unknown`, never re-sent, unless the segment chose
   `delivery: at_least_once` (then planned again). Nothing new is sent before this is done, so
   the frequency caps count every text that may have gone.
2. Each due message is decided again at send time (`activations.sms.rules.decide`): the
   warehouse may have withdrawn consent, the person may have left the segment or texted STOP,
   the caps may have filled. Deferred ones get their `send_after`; the rest are sent one by one,
   each marked `sending` in its own transaction before the request.
3. Messages sent in the last day without a final status are fetched for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from activations.destinations.twilio import (
    Accepted,
    InDoubt,
    NotSent,
    Refused,
    TwilioMessages,
)
from activations.failpoints import failpoint
from activations.http import AuthError
from activations.sms import outbox
from activations.sms.outbox import Due, Status, Transition
from activations.sms.rules import Decision, Expire, Send, SmsRules, decide, is_stop_message
from activations.sms.zones import resolve_zones
from activations.warehouse import Warehouse, connect

STATUS_LOOKBACK = timedelta(hours=24)  # how long after sending a delivery status is asked for
# How far back every sync reads STOP replies: long enough to cover syncs missed for days.
STOP_LOOKBACK = timedelta(days=7)
_FINAL_TWILIO: frozenset[Status] = frozenset({"delivered", "undelivered", "failed"})


class Recipient(Protocol):
    """What the rules need to know about a text's recipient (an outbox row, a previewed member)."""

    @property
    def phone(self) -> str | None: ...
    @property
    def timezone(self) -> str | None: ...
    @property
    def consent_status(self) -> str | None: ...
    @property
    def consented_at(self) -> datetime | None: ...
    @property
    def opted_out_at(self) -> datetime | None: ...
    @property
    def opted_out_by(self) -> str | None: ...


def decide_text(
    recipient: Recipient,
    *,
    now: datetime,
    planned_at: datetime,
    sent: Sequence[datetime],
    rules: SmsRules,
) -> Decision:
    """The rules' decision for one text to `recipient`, from what the warehouse holds."""
    consents = (
        [(recipient.consented_at, recipient.consent_status)]
        if recipient.consented_at is not None and recipient.consent_status is not None
        else []
    )
    opt_outs = (
        [(recipient.opted_out_at, recipient.opted_out_by or "opt-out")]
        if recipient.opted_out_at is not None
        else []
    )
    return decide(
        now=now,
        planned_at=planned_at,
        zones=resolve_zones(recipient.phone, recipient.timezone).zoneinfos(),
        consents=consents,
        opt_outs=opt_outs,
        sent=sent,
        rules=rules,
    )


@dataclass
class SegmentTexts:
    """One segment's texts in one sync: how many went, and why the others did not."""

    sent: int = 0
    deferred: int = 0
    in_doubt: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass
class Delivery:
    """What a sync did with the outbox, per segment."""

    segments: dict[str, SegmentTexts] = field(default_factory=dict)

    def of(self, segment: str) -> SegmentTexts:
        return self.segments.setdefault(segment, SegmentTexts())


@dataclass(frozen=True)
class Sender:
    """Sends one account's due texts of `segments` (others, e.g. held by a check, wait);
    `rules` and `at_least_once` by segment."""

    warehouse: Warehouse
    state_schema: str
    messages: TwilioMessages
    rules: Mapping[str, SmsRules]
    segments: frozenset[str]
    at_least_once: frozenset[str] = frozenset()
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC).replace(tzinfo=None))

    def deliver(self) -> Delivery:
        delivery = Delivery()
        self._read_stops()
        self._settle_in_doubt()
        self._send_due(delivery)
        self._read_statuses()
        return delivery

    # ------------------------------------------------------------ 0. STOP replies

    def _read_stops(self) -> None:
        """Record every STOP reply of the last `STOP_LOOKBACK` as an opt-out, before any text is
        decided: a person who replied STOP to the last text is not sent the next one."""
        now = self.clock()
        stops = [
            message
            for message in self.messages.received(since=now - STOP_LOOKBACK)
            if is_stop_message(message.body)
        ]
        if not stops:
            return
        with connect(self.warehouse) as connection:
            for message in stops:
                outbox.suppress(
                    connection,
                    self.state_schema,
                    message.sender,
                    "STOP",
                    message.created_at or now,
                    now,
                )

    # ------------------------------------------------------------ 1. in doubt

    def _settle_in_doubt(self) -> None:
        with connect(self.warehouse) as connection:
            doubtful = outbox.in_doubt(connection, self.state_schema)
        for message in doubtful:
            found = self.messages.find(message.phone, message.body, since=message.sending_at)
            if found is not None:
                moved = Transition(
                    message.message_id,
                    "sent",
                    sent_at=found.created_at or message.sending_at,
                    twilio_sid=found.sid,
                    twilio_status=found.status,
                )
            elif message.segment in self.at_least_once:
                moved = Transition(
                    message.message_id,
                    "planned",
                    reason_code="resent",
                    reason="Twilio does not list it: planned again (delivery: at_least_once)",
                )
            else:
                moved = Transition(
                    message.message_id,
                    "unknown",
                    reason_code="not_listed",
                    reason="sent without an answer and Twilio does not list it: not re-sent",
                )
            self._move(moved)

    # ------------------------------------------------------------ 2. due

    def _send_due(self, delivery: Delivery) -> None:
        now = self.clock()
        longest = max((rules.cap_lookback for rules in self.rules.values()), default=timedelta(0))
        with connect(self.warehouse) as connection:
            due = [
                m
                for m in outbox.due(connection, self.state_schema, now)
                if m.segment in self.segments
            ]
            history = outbox.recent_sends(
                connection, self.state_schema, (m.phone for m in due if m.phone), now - longest
            )
        for message in due:
            texts = delivery.of(message.segment)
            moved = self._decided(message, history.get(str(message.phone), []))
            if moved is None:
                self._send(message, texts, history)
                continue
            self._move(moved)
            if moved.status == "deferred":
                texts.deferred += 1
            else:
                texts.statuses[moved.status] += 1
                texts.reasons[moved.reason or moved.status] += 1

    def _decided(self, message: Due, sent: list[datetime]) -> Transition | None:
        """The message's transition when it must not go now; None when it goes now."""
        if not message.still_applies:
            left = "left the segment" if message.change == "entered" else "came back"
            return Transition(
                message.message_id,
                "expired",
                reason_code="no_longer_applies",
                reason=f"the person {left} before it was sent",
            )
        if message.phone is None or message.body is None:
            return Transition(
                message.message_id, "suppressed", reason_code="no_phone", reason="no phone number"
            )
        decision = decide_text(
            message,
            now=self.clock(),
            planned_at=message.planned_at,
            sent=sent,
            rules=self.rules[message.segment],
        )
        if isinstance(decision, Send):
            if not decision.deferred:
                return None
            reason = "; ".join(str(r) for r in decision.deferred_by)
            return Transition(
                message.message_id,
                "deferred",
                reason_code=decision.deferred_by[0].code.value,
                reason=reason,
                send_after=decision.at,
            )
        status: Status = "expired" if isinstance(decision, Expire) else "suppressed"
        return Transition(
            message.message_id,
            status,
            reason_code=decision.reason.code.value,
            reason=decision.reason.detail,
        )

    def _send(self, message: Due, texts: SegmentTexts, history: dict[str, list[datetime]]) -> None:
        phone, body = str(message.phone), str(message.body)
        sending_at = self.clock()
        self._move(Transition(message.message_id, "sending", sending_at=sending_at))
        history.setdefault(phone, []).append(sending_at)  # counts for the caps from now on
        failpoint("sms_after_sending")
        try:
            outcome = self.messages.send(phone, body)
        except AuthError:
            # Twilio refused the credentials, not the text: it was not accepted, and the sync
            # stops here; the text waits for the next sync with working credentials.
            self._move(Transition(message.message_id, "planned", reason_code="not_sent"))
            raise
        failpoint("sms_after_send")
        if isinstance(outcome, Accepted):
            self._move(
                Transition(
                    message.message_id,
                    "sent",
                    sent_at=self.clock(),
                    twilio_sid=outcome.sid,
                    twilio_status=outcome.status,
                )
            )
            texts.sent += 1
        elif isinstance(outcome, Refused):
            self._refused(message, outcome, texts)
        elif isinstance(outcome, NotSent):
            history[phone].remove(sending_at)
            self._move(
                Transition(
                    message.message_id,
                    "planned",
                    reason_code="not_sent",
                    reason=f"not sent, tried again next sync: {outcome.reason}",
                )
            )
            texts.reasons["not sent, tried again next sync"] += 1
        else:
            assert isinstance(outcome, InDoubt)
            texts.in_doubt += 1  # stays `sending`: the next sync looks it up

    def _refused(self, message: Due, refused: Refused, texts: SegmentTexts) -> None:
        if refused.opted_out:
            with connect(self.warehouse) as connection:
                now = self.clock()
                outbox.suppress(
                    connection, self.state_schema, str(message.phone), "Twilio 21610", now, now
                )
            moved = Transition(
                message.message_id,
                "suppressed",
                reason_code="opted_out",
                reason="the recipient opted out (Twilio 21610)",
                error_code=int(refused.code or 0),
            )
        else:
            moved = Transition(
                message.message_id,
                "failed",
                reason_code="refused",
                reason=refused.reason,
                error_code=int(refused.code) if refused.code and refused.code.isdigit() else None,
            )
        self._move(moved)
        texts.statuses[moved.status] += 1
        texts.reasons[moved.reason or moved.status] += 1

    # ------------------------------------------------------------ 3. statuses

    def _read_statuses(self) -> None:
        with connect(self.warehouse) as connection:
            waiting = outbox.awaiting_status(
                connection, self.state_schema, self.clock() - STATUS_LOOKBACK
            )
        for message_id, sid in waiting:
            listed = self.messages.fetch(sid)
            final = next((s for s in _FINAL_TWILIO if s == listed.status), None)
            if final is None:
                continue  # queued, sending, sent: asked again next sync
            self._move(
                Transition(
                    message_id,
                    final,
                    twilio_status=listed.status,
                    error_code=listed.error_code,
                    reason=None if final == "delivered" else f"Twilio: {listed.status}",
                )
            )

    def _move(self, transition: Transition) -> None:
        with connect(self.warehouse) as connection:
            outbox.move(connection, self.state_schema, [transition], self.clock())
