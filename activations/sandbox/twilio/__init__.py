"""A local Twilio Programmable Messaging: send, list and fetch SMS, served to Twilio's own spec.

Follows `specs/twilio-2010-04-01.json`, the CreateMessage, ListMessage and FetchMessage operations
of `shared/api-specs/twilio/twilio_api_v2010.json` and the schemas they reference, extracted by
`extract_spec.py`. Routes, the form fields of a send, the list's filters and paging parameters,
and the shape of a Message come from the spec; error codes from Twilio's error dictionary.

Implemented: HTTP Basic auth (20003); form-encoded sends only; the documented validation codes
(21604, 21211, 21603, 21701, 21705, 21606, 21602, 21617) and opt-outs (21610) with Twilio's
default STOP / START keywords, driven by simulated inbound texts (`TwilioState.inbound`,
`POST /__sandbox__/inbound`); `num_segments` for GSM-7 and UCS-2 bodies; statuses queued (or
accepted) -> sent -> delivered on the API clock, with configured numbers ending undelivered
(30003) or failed (30006); newest-first listing with the To, From and DateSent filters and
PageSize/Page/PageToken paging; a configurable per-account cap on CreateMessage requests in a
sliding window of API time (429, 20429; reads are not capped); the shared
fault injection with Twilio's error body; and `GET /__sandbox__/state`.

Not implemented: status callbacks (StatusCallback is stored, never requested), Twilio's automatic
replies to STOP/START/HELP, HELP keywords, content templates (ContentSid: a send needs a Body or
a MediaUrl), scheduling (SendAt), the Media and Feedback
subresources the `subresource_uris` name, updating or deleting messages, channels other than SMS
(`whatsapp:` addresses are refused as invalid), prices (always null), subaccounts, API keys, and
the XML and CSV formats of the 2010 API.

Layout: `app` (the ASGI pipeline), `handlers` (operation logic), `state` (what the account holds),
`segments` (GSM-7/UCS-2 segment counting), `forms` (typed form decoding), `problems` (Twilio's
error body), `spec` (document, operations, stated limits, keywords).
"""

from __future__ import annotations

from activations.sandbox.twilio.app import DEFAULT_SEND_LIMIT, DEFAULT_SENDER, TwilioSandbox
from activations.sandbox.twilio.problems import DOCUMENTED, TwilioError
from activations.sandbox.twilio.segments import Segmentation, segment
from activations.sandbox.twilio.spec import (
    API_VERSION,
    OPERATIONS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    SPEC_PATH,
    STATED_LIMITS,
)
from activations.sandbox.twilio.state import (
    LANDLINE,
    UNREACHABLE_HANDSET,
    DeliveryFailure,
    Message,
    TwilioState,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_SENDER",
    "DEFAULT_SEND_LIMIT",
    "DOCUMENTED",
    "LANDLINE",
    "OPERATIONS",
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "SPEC_PATH",
    "STATED_LIMITS",
    "UNREACHABLE_HANDSET",
    "DeliveryFailure",
    "Message",
    "Segmentation",
    "TwilioError",
    "TwilioSandbox",
    "TwilioState",
    "segment",
]
