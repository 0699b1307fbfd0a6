"""Text messages: whether, when and what a marketing text says (the policy core), and the
outbox, sender and sync built around it.

The policy core, four modules:

    zones      which IANA zones a recipient may be in (customer timezone, phone number, country)
    rules      consent, opt-outs, quiet hours, frequency caps and the send window, combined by
               `decide` into Send(at) / Skip(reason) / Expire(reason)
    length     GSM-7 or UCS-2, SMS segments, Twilio's 1600-character limit
    templates  `{{ trait }}` messages with Jinja2: strict, unescaped, checked against traits

What the core deliberately does not do: I/O. It reads no clock (callers pass `now`), no
warehouse (callers pass a person's consent history, opt-outs and sends), no network and no
environment, and keeps no state; the only files it opens are a template when asked
(`load_template`) and the tz database behind `zoneinfo`. The outbox table, the Twilio client,
recording STOPs and 21610s, and the CLI call into it and never the other way round, so every rule
can be tested, replayed and explained on its own.

The names below are the core's; they are imported on first use (PEP 562), so importing
`activations.sms.length` does not load Jinja2 or the phone number time zone data.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activations.sms.length import (
        MAX_BODY_CHARACTERS,
        BodyLength,
        Encoding,
        body_length,
        encoding,
        segments,
    )
    from activations.sms.rules import (
        DEFAULT_RULES,
        ConsentChange,
        Decision,
        Earliest,
        Expire,
        FrequencyCap,
        OptOut,
        QuietHours,
        Reason,
        ReasonCode,
        Send,
        Skip,
        SmsRules,
        SmsRulesError,
        cap_decision,
        consent_decision,
        decide,
        is_stop_message,
        next_allowed,
        quiet_hours_decision,
        rules_from_options,
    )
    from activations.sms.templates import (
        MissingTraitError,
        SmsTemplate,
        SmsTemplateError,
        check_traits,
        load_template,
        render,
        undeclared_variables,
    )
    from activations.sms.zones import RecipientZones, ZoneSource, country_zones, resolve_zones

# Public name -> the module that defines it.
_EXPORTS = {
    **dict.fromkeys(
        ("MAX_BODY_CHARACTERS", "BodyLength", "Encoding", "body_length", "encoding", "segments"),
        "activations.sms.length",
    ),
    **dict.fromkeys(
        (
            "DEFAULT_RULES",
            "ConsentChange",
            "Decision",
            "Earliest",
            "Expire",
            "FrequencyCap",
            "OptOut",
            "QuietHours",
            "Reason",
            "ReasonCode",
            "Send",
            "Skip",
            "SmsRules",
            "SmsRulesError",
            "cap_decision",
            "consent_decision",
            "decide",
            "is_stop_message",
            "next_allowed",
            "quiet_hours_decision",
            "rules_from_options",
        ),
        "activations.sms.rules",
    ),
    **dict.fromkeys(
        (
            "MissingTraitError",
            "SmsTemplate",
            "SmsTemplateError",
            "check_traits",
            "load_template",
            "render",
            "undeclared_variables",
        ),
        "activations.sms.templates",
    ),
    **dict.fromkeys(
        ("RecipientZones", "ZoneSource", "country_zones", "resolve_zones"),
        "activations.sms.zones",
    ),
}

__all__ = [
    "DEFAULT_RULES",
    "MAX_BODY_CHARACTERS",
    "BodyLength",
    "ConsentChange",
    "Decision",
    "Earliest",
    "Encoding",
    "Expire",
    "FrequencyCap",
    "MissingTraitError",
    "OptOut",
    "QuietHours",
    "Reason",
    "ReasonCode",
    "RecipientZones",
    "Send",
    "Skip",
    "SmsRules",
    "SmsRulesError",
    "SmsTemplate",
    "SmsTemplateError",
    "ZoneSource",
    "body_length",
    "cap_decision",
    "check_traits",
    "consent_decision",
    "country_zones",
    "decide",
    "encoding",
    "is_stop_message",
    "load_template",
    "next_allowed",
    "quiet_hours_decision",
    "render",
    "resolve_zones",
    "rules_from_options",
    "segments",
    "undeclared_variables",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'activations.sms' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
