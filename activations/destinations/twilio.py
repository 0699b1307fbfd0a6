"""Twilio Programmable Messaging: send one text, find a text sent earlier, read its status.

Twilio has no idempotency key, so this module never decides to re-send anything: `send` says
whether Twilio took the message, refused it, never got it, or might have it (`InDoubt`, after a
timeout, a dropped connection or a 500 once the request was written), and `find` looks a
message up in the account's message list, which is how the SMS sender settles a message left in
doubt (docs/destinations/sms.md). Contract: Twilio's OpenAPI document for the 2010-04-01 API
(`shared/api-specs/twilio/`), CreateMessage, ListMessage and FetchMessage.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from activations.destinations.environment import positive_seconds
from activations.errors import CohortflowError
from activations.http import (
    AuthError,
    ClientError,
    HttpClient,
    RateLimit,
    RateLimiter,
    RetryableError,
    time_scale,
)
from activations.secrets import Secret

DEFAULT_BASE_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
OPTED_OUT = "21610"  # the recipient texted STOP: never send again until they text START
# Twilio documents no request rate for the Messages API; a sender's throughput is per number
# (a US long code sends about 1 message per second). Sends are paced here, overridable per
# account with TWILIO_MESSAGES_PER_SECOND.
DEFAULT_MESSAGES_PER_SECOND = 1
LIST_PAGE_SIZE = 1000  # the largest page ListMessage returns
FIND_MARGIN = timedelta(minutes=5)  # clock skew between us and Twilio when finding a message


class TwilioConfigError(CohortflowError):
    """Twilio credentials or settings cannot be used."""


@dataclass(frozen=True)
class Accepted:
    """Twilio took the message: its sid and status (`queued`, `accepted`, `sent`...)."""

    sid: str
    status: str


@dataclass(frozen=True)
class Refused:
    """Twilio refused the message for good: resending the same request fails the same way."""

    code: str | None
    reason: str

    @property
    def opted_out(self) -> bool:
        return self.code == OPTED_OUT


@dataclass(frozen=True)
class NotSent:
    """The message certainly did not reach Twilio (429, 503, a refused connection, retries
    spent): it may be sent again."""

    reason: str


@dataclass(frozen=True)
class InDoubt:
    """Twilio may or may not have the message: look it up (`find`) before anything else."""

    reason: str


SendOutcome = Accepted | Refused | NotSent | InDoubt


@dataclass(frozen=True)
class Listed:
    """A message as Twilio lists it."""

    sid: str
    to: str
    sender: str
    direction: str
    body: str
    status: str
    error_code: int | None
    created_at: datetime | None


@dataclass(frozen=True)
class TwilioSettings:
    """Where and as whom to send. Environment only: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    (required), TWILIO_FROM (a phone number) or TWILIO_MESSAGING_SERVICE_SID (one of the two),
    TWILIO_BASE_URL (default https://api.twilio.com), TWILIO_MESSAGES_PER_SECOND (default 1),
    COHORTFLOW_HTTP_TIMEOUT (seconds per request, default 30)."""

    account_sid: str
    auth_token: Secret
    sender: Mapping[str, str]
    base_url: str = DEFAULT_BASE_URL
    messages_per_second: int = DEFAULT_MESSAGES_PER_SECOND
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TwilioSettings:
        sid = environ.get("TWILIO_ACCOUNT_SID", "").strip()
        token = environ.get("TWILIO_AUTH_TOKEN", "").strip()
        if not sid or not token:
            raise TwilioConfigError(
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send SMS (Twilio "
                "Console > Account info)."
            )
        sender = {
            name: value
            for name, variable in (
                ("From", "TWILIO_FROM"),
                ("MessagingServiceSid", "TWILIO_MESSAGING_SERVICE_SID"),
            )
            if (value := environ.get(variable, "").strip())
        }
        if len(sender) != 1:
            raise TwilioConfigError(
                "set exactly one of TWILIO_FROM (the sending phone number, E.164) and "
                "TWILIO_MESSAGING_SERVICE_SID to send SMS."
            )
        rate = environ.get("TWILIO_MESSAGES_PER_SECOND", "").strip()
        if rate and (not rate.isdigit() or int(rate) < 1):
            raise TwilioConfigError(
                f"TWILIO_MESSAGES_PER_SECOND must be a whole number >= 1, got {rate!r}."
            )
        return cls(
            account_sid=sid,
            auth_token=Secret(token),
            sender=sender,
            base_url=environ.get("TWILIO_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            messages_per_second=int(rate) if rate else DEFAULT_MESSAGES_PER_SECOND,
            timeout=positive_seconds(environ, "COHORTFLOW_HTTP_TIMEOUT", 30.0),
        )

    def client(self, limiter: RateLimiter | None = None) -> HttpClient:
        """The HTTP client every Twilio call goes through; the account is the sid."""
        basic = f"{self.account_sid}:{self.auth_token.reveal()}".encode()
        return HttpClient(
            self.base_url,
            headers={
                "Authorization": "Basic " + base64.b64encode(basic).decode(),
                "Accept": "application/json",
            },
            secrets=(self.auth_token.reveal(),),
            account=self.account_sid,
            timeout=self.timeout,
            limiter=limiter or RateLimiter(time_scale=time_scale()),
        )


class TwilioMessages:
    """The Messages resource of one account, through one paced, retrying client."""

    def __init__(self, settings: TwilioSettings, client: HttpClient) -> None:
        self.settings = settings
        self.client = client
        self._path = f"/{API_VERSION}/Accounts/{settings.account_sid}/Messages"
        rate = settings.messages_per_second
        self._sends = RateLimit("twilio:messages", burst=rate, steady=rate * 60)
        self._reads = RateLimit("twilio:reads", burst=None, steady=600)

    def send(self, to: str, body: str) -> SendOutcome:
        """POST one message. Never resent after a failure that may have reached Twilio."""
        form = urlencode({"To": to, "Body": body, **self.settings.sender})
        try:
            response = self.client.request(
                "POST",
                f"{self._path}.json",
                limit=self._sends,
                content=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                retry_on_timeout=False,
            )
        except AuthError:
            raise  # refused credentials refuse every text: the sync stops, nothing is marked
        except ClientError as error:
            code = error.codes[0] if error.codes else None
            return Refused(code, f"Twilio refused it ({error.status}, code {code or 'none'})")
        except RetryableError as error:
            reason = str(error)
            return InDoubt(reason) if error.maybe_sent else NotSent(reason)
        message = response.json()
        return Accepted(str(message["sid"]), str(message.get("status") or "queued"))

    def find(self, to: str, body: str, since: datetime) -> Listed | None:
        """The message to `to` with exactly `body` created at or after `since` (naive UTC), if
        Twilio lists one: the evidence that a send left in doubt went out.

        The list is read by recipient and sender, newest first, down to `since` less a margin
        for clock skew. It is not filtered by `DateSent`: a message Twilio accepted but has not
        sent yet has no sent date, and must be found too."""
        oldest = since - FIND_MARGIN
        for listed in self.listed(to):
            if listed.created_at is not None and listed.created_at < oldest:
                return None  # newest first: every later one is older still
            if listed.body == body:
                return listed
        return None

    def listed(self, to: str) -> Iterator[Listed]:
        """Every outbound message to `to` from this sender, newest first, page by page."""
        query: dict[str, Any] = {"To": to}
        if "From" in self.settings.sender:
            query["From"] = self.settings.sender["From"]
        return (m for m in self._pages(query) if m.direction.startswith("outbound"))

    def received(self, since: datetime) -> Iterator[Listed]:
        """Texts people sent to this sender number since `since` (naive UTC), newest first:
        where their STOP replies are. Empty for a Messaging Service sender, whose numbers this
        client does not know."""
        number = self.settings.sender.get("From")
        if number is None:
            return
        for message in self._pages({"To": number}):
            if message.created_at is not None and message.created_at < since:
                return
            if message.direction == "inbound":
                yield message

    def _pages(self, query: Mapping[str, Any]) -> Iterator[Listed]:
        path: str = f"{self._path}.json"
        params: dict[str, Any] | None = {**query, "PageSize": LIST_PAGE_SIZE}
        while True:
            page = self.client.request("GET", path, limit=self._reads, params=params).json()
            yield from (_listed(message) for message in page.get("messages") or [])
            following = page.get("next_page_uri")
            if not following:
                return
            path, params = str(following), None  # the next page's uri carries its query

    def fetch(self, sid: str) -> Listed:
        """One message by sid: how a delivery status is read back."""
        response = self.client.request("GET", f"{self._path}/{sid}.json", limit=self._reads)
        return _listed(response.json())


def _listed(message: Mapping[str, Any]) -> Listed:
    created = message.get("date_created")
    code = message.get("error_code")
    return Listed(
        sid=str(message["sid"]),
        to=str(message.get("to") or ""),
        sender=str(message.get("from") or ""),
        direction=str(message.get("direction") or "outbound-api"),
        body=str(message.get("body") or ""),
        status=str(message.get("status") or ""),
        error_code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        created_at=(
            parsedate_to_datetime(created).astimezone(UTC).replace(tzinfo=None) if created else None
        ),
    )


@contextmanager
def open_twilio(environ: Mapping[str, str]) -> Iterator[TwilioMessages]:
    """The account's Messages resource from the environment, its client closed afterwards."""
    settings = TwilioSettings.from_env(environ)
    with settings.client() as client:
        yield TwilioMessages(settings, client)
