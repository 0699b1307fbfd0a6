"""Twilio's error format, `{"code", "message", "more_info", "status"}`, raised as `TwilioError`.

The spec documents no error responses, so every code here is taken from Twilio's error dictionary
(twilio.com/docs/api/errors/<code>), with the HTTP status Twilio answers it with and the title of
its page as the default message. A client branches on `code`, so the sandbox never invents one:
a refusal no specific code covers is the dictionary's generic `400` "Bad Request".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# Twilio error code -> (HTTP status, the title of its page in Twilio's error dictionary)
DOCUMENTED: dict[int, tuple[int, str]] = {
    400: (400, "Bad Request"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' or 'MessagingServiceSid' parameter is required to send a message"),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The 'From' phone number provided is not a valid message-capable Twilio phone number "
        "for this destination/account",
    ),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit"),
    21701: (400, "The Messaging Service does not exist"),
    21705: (400, "The Messaging Service is invalid"),
}


@dataclass(eq=False)  # compared and hashed by identity, as exceptions are
class TwilioError(Exception):
    """An error answer: Twilio's `code`, the HTTP `status`, and the `message` shown to the user.

    `retry_after` (seconds) becomes a Retry-After header on a 429.
    """

    status: int
    code: int
    message: str
    retry_after: int | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    def document(self) -> dict[str, Any]:
        """The error body, as Twilio writes it."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }


def twilio_error(
    code: int, message: str | None = None, *, retry_after: int | None = None
) -> TwilioError:
    """The documented error `code`, with its dictionary title unless a `message` says more."""
    status, title = DOCUMENTED[code]
    return TwilioError(status, code, message or title, retry_after)
