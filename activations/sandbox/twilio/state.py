"""What the Twilio sandbox's account holds: messages both ways, opt-outs and counts; inspectable.

Sandbox choices where the documents are silent (each a rule a client can rely on here):
- The account owns `senders` (phone numbers), all in its one Messaging Service
  (`messaging_service_sid`), which is the `messaging_service_sid` of every message ("A unique
  default value is assigned if a Messaging Service is not used", the spec).
- Opt-outs are per recipient for the whole account: a reply with an opt-out keyword to any sender
  opts the number out of the Messaging Service, so of every sender ("When a user opts out of a
  phone number that belongs to a Messaging Service, the user is also opted out to receiving all
  messages sent from that particular Messaging Service", Twilio support on error 21610). Only a
  single-word reply counts, case-insensitively, surrounding whitespace ignored.
- Status follows the API clock. Sent from a number, a message is "queued"; sent through the
  Messaging Service alone it is "accepted" with no `from` and `num_segments` "0" (the spec: "For
  messages sent via a Messaging Service, `num_segments` is initially `0`, since a sender hasn't
  yet been assigned") until the first sender is picked. It is "sent" `sent_seconds` after it was
  created and "delivered" `delivered_seconds` after. A recipient in `delivery_failures` ends as
  its failure says: "failed" at `sent_seconds` (never sent: no `date_sent`) or "undelivered" at
  `delivered_seconds`, with the failure's `error_code` and `error_message`.
- A refused request stores no message; it is counted in `errors` by Twilio code.
- `price` and `price_unit` stay null: the sandbox bills nothing (the spec: the price "may not be
  immediately available").
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any, Literal

from activations.sandbox.limits import ApiClock
from activations.sandbox.twilio.segments import segment
from activations.sandbox.twilio.spec import API_VERSION, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
Direction = Literal["outbound-api", "inbound"]


@dataclass(frozen=True)
class DeliveryFailure:
    """How a message to a given recipient ends: its final status and Twilio's error for it."""

    status: Literal["failed", "undelivered"]
    code: int
    message: str


# twilio.com/docs/api/errors/30003: "the destination handset is unavailable on the carrier network"
UNREACHABLE_HANDSET = DeliveryFailure("undelivered", 30003, "Unreachable destination handset")
# twilio.com/docs/api/errors/30006: "the destination number cannot receive your message"
LANDLINE = DeliveryFailure("failed", 30006, "Landline or unreachable carrier")


@dataclass
class Message:
    """A message as stored; instants are API seconds on the sandbox's clock.

    `params` are the request's form parameters as received (StatusCallback, MediaUrl, ...), so a
    test can check what a client sent beyond the fields a Message resource shows.
    """

    sid: str
    direction: Direction
    to: str
    sender: str | None
    body: str
    num_media: int
    num_segments: int
    status: str
    created_at: float
    updated_at: float
    sent_at: float | None = None
    error_code: int | None = None
    error_message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class TwilioState:
    """The account's data. Handlers hold `lock` and call `advance` before reading or writing;
    `inbound` and `summary`, called from tests and the sandbox routes, take the lock themselves.

    Args:
        clock: the API clock status changes are timed on.
        seed: seeds message sids.
        account_sid: the one account.
        senders: the account's phone numbers (E.164), all in its Messaging Service.
        messaging_service_sid: the account's Messaging Service.
        sent_seconds: API seconds from creation until a message is sent.
        delivered_seconds: API seconds from creation until it is delivered.
        delivery_failures: recipients whose messages fail or go undelivered, and how.
    """

    def __init__(
        self,
        clock: ApiClock,
        seed: int,
        *,
        account_sid: str,
        senders: Sequence[str],
        messaging_service_sid: str,
        sent_seconds: float,
        delivered_seconds: float,
        delivery_failures: Mapping[str, DeliveryFailure],
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.account_sid = account_sid
        self.senders = tuple(senders)
        self.messaging_service_sid = messaging_service_sid
        self.sent_seconds = sent_seconds
        self.delivered_seconds = delivered_seconds
        self.delivery_failures = dict(delivery_failures)
        self._ids = random.Random(f"twilio-ids:{seed}")
        self.messages: dict[str, Message] = {}  # every message by sid, in creation order
        # Every outbound message accepted, in order: the judge of "sent exactly once". A message
        # whose answer was lost (drop_after, timeout) is here too; a refused request never is.
        self.outbound: list[Message] = []
        self.received: list[Message] = []  # inbound messages, in order
        self.opted_out: set[str] = set()
        self.requests: Counter[str] = Counter()  # API requests that reached a route, by operation
        self.errors: Counter[int] = Counter()  # refusals, by Twilio error code
        self.faults: Counter[str] = Counter()  # injected faults, by kind
        self._pending: list[Message] = []  # outbound messages without a final status

    @property
    def account_uri(self) -> str:
        """The account's resource path, relative to https://api.twilio.com."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}"

    def rfc2822(self, api_seconds: float | None) -> str | None:
        """An API instant as Twilio writes dates, e.g. "Thu, 24 Aug 2023 05:01:45 +0000"."""
        if api_seconds is None:
            return None
        return format_datetime(self.clock.datetime_at(api_seconds))

    def send(self, to: str, sender: str | None, body: str, params: Mapping[str, Any]) -> Message:
        """Accept an outbound message (checked by the handler): queued from `sender`, or accepted
        for the Messaging Service to pick one when `sender` is None."""
        media = list(params.get("MediaUrl", ()))
        now = self.clock.now()
        message = Message(
            sid=self._new_sid("MM" if media else "SM"),
            direction="outbound-api",
            to=to,
            sender=sender,
            body=body,
            num_media=len(media),
            num_segments=0 if sender is None else _segments(body, media),
            status="accepted" if sender is None else "queued",
            created_at=now,
            updated_at=now,
            params=dict(params),
        )
        self.messages[message.sid] = message
        self.outbound.append(message)
        self._pending.append(message)
        return message

    def inbound(self, from_number: str, body: str, to: str | None = None) -> Message:
        """A text from `from_number` to one of the senders (default: the first), as a phone would
        send it. An opt-out keyword opts the number out of every sender, an opt-in keyword back in.

        Raises:
            ValueError: `from_number` is not E.164, or `to` is not one of the account's senders.
        """
        if not E164.match(from_number):
            raise ValueError(f"an inbound message comes from an E.164 number, not {from_number!r}")
        to = self.senders[0] if to is None else to
        if to not in self.senders:
            raise ValueError(f"{to!r} is not one of the account's senders {self.senders}")
        with self.lock:
            self.advance()
            now = self.clock.now()
            message = Message(
                sid=self._new_sid("SM"),
                direction="inbound",
                to=to,
                sender=from_number,
                body=body,
                num_media=0,
                num_segments=_segments(body, []),
                status="received",
                created_at=now,
                updated_at=now,
                sent_at=now,
            )
            self.messages[message.sid] = message
            self.received.append(message)
            keyword = body.strip().upper()
            if keyword in OPT_OUT_KEYWORDS:
                self.opted_out.add(from_number)
            elif keyword in OPT_IN_KEYWORDS:
                self.opted_out.discard(from_number)
            return message

    def advance(self) -> None:
        """Move every pending message along its timeline to the current API instant."""
        now = self.clock.now()
        self._pending = [m for m in self._pending if not self._progress(m, now)]

    def document(self, message: Message) -> dict[str, Any]:
        """The Message resource (`api.v2010.account.message` in the spec)."""
        path = f"{self.account_uri}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": self.rfc2822(message.created_at),
            "date_sent": self.rfc2822(message.sent_at),
            "date_updated": self.rfc2822(message.updated_at),
            "direction": message.direction,
            "error_code": message.error_code,
            "error_message": message.error_message,
            "from": message.sender,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(message.num_media),
            "num_segments": str(message.num_segments),
            "price": None,
            "price_unit": None,
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {"media": f"{path}/Media.json"},
            "to": message.to,
            "uri": f"{path}.json",
        }

    def summary(self) -> dict[str, Any]:
        """Everything held, for `GET /__sandbox__/state`."""
        with self.lock:
            self.advance()
            return {
                "account_sid": self.account_sid,
                "senders": list(self.senders),
                "messaging_service_sid": self.messaging_service_sid,
                "outbound": [self.document(m) for m in self.outbound],
                "inbound": [self.document(m) for m in self.received],
                "opted_out": sorted(self.opted_out),
                "requests": dict(self.requests),
                "errors": {str(code): n for code, n in sorted(self.errors.items())},
                "faults": dict(self.faults),
            }

    def _new_sid(self, prefix: str) -> str:
        """`SM` or `MM` and 32 hex digits, the spec's Sid pattern."""
        return f"{prefix}{self._ids.getrandbits(128):032x}"

    def _progress(self, message: Message, now: float) -> bool:
        """Apply the status changes due by `now` at the instants they were due; True when final."""
        sent_at = message.created_at + self.sent_seconds
        if now < sent_at:
            return False
        failure = self.delivery_failures.get(message.to)
        if failure is not None and failure.status == "failed":
            _fail(message, failure, sent_at)
            return True
        if message.sent_at is None:
            if message.sender is None:  # the Messaging Service picks its first sender
                message.sender = self.senders[0]
                message.num_segments = _segments(message.body, message.params.get("MediaUrl", []))
            message.status, message.sent_at, message.updated_at = "sent", sent_at, sent_at
        delivered_at = message.created_at + self.delivered_seconds
        if now < delivered_at:
            return False
        if failure is None:
            message.status, message.updated_at = "delivered", delivered_at
        else:
            _fail(message, failure, delivered_at)
        return True


def _fail(message: Message, failure: DeliveryFailure, at: float) -> None:
    message.status, message.updated_at = failure.status, at
    message.error_code, message.error_message = failure.code, failure.message


def _segments(body: str, media: Sequence[str]) -> int:
    """An MMS (any media) is one message; an SMS is as many segments as its body needs."""
    return 1 if media else segment(body).segments
