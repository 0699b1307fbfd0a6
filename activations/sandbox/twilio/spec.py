"""The slice of Twilio's 2010-04-01 REST API document the sandbox serves, and the rules it states.

The subset `specs/twilio-2010-04-01.json` keeps CreateMessage, ListMessage and FetchMessage of
`shared/api-specs/twilio/twilio_api_v2010.json` with the schemas they reference. Limits the spec
states only in the prose of a property or parameter description are constants here, each backed
by the sentence quoted in `STATED_LIMITS` (the sandbox tests check the sentences are still in the
committed subset). The opt-out keywords come from Twilio's documentation, not the spec.
"""

from __future__ import annotations

from pathlib import Path

SPEC_PATH = Path(__file__).parent.parent / "specs" / "twilio-2010-04-01.json"
API_VERSION = "2010-04-01"  # the version segment of every path, and `api_version` of a Message
OPERATIONS: tuple[str, ...] = ("CreateMessage", "ListMessage", "FetchMessage")

MAX_BODY_CHARACTERS = 1600
MAX_MEDIA_URLS = 10
DEFAULT_PAGE_SIZE = 50

# operation -> sentences of its parameter descriptions the limits above come from
STATED_LIMITS: dict[str, tuple[str, ...]] = {
    "CreateMessage": (
        "Can be up to 1,600 characters in length.",
        "You can include up to ten `media_url` parameters per message.",
    ),
    "ListMessage": ("The default is 50, and the maximum is 1000.",),
}

# Single-word replies Twilio acts on for long codes. Opt-out: "STOP, UNSUBSCRIBE, END, QUIT,
# STOPALL, REVOKE, OPTOUT, and CANCEL" (twilio.com/docs/messaging/tutorials/advanced-opt-out);
# opt-in: "START, YES, or UNSTOP" (help.twilio.com, "Twilio support for opt-out keywords").
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
