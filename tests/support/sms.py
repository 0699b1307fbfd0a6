"""What SMS tests share: a Twilio sandbox with the environment pointing at it, phone-keyed
segments texting with `dbt_project/sms/winback.txt`, recipients placed in zones chosen from
the clock at test time (so quiet hours do not depend on when the suite runs), and readers of
the outbox and of what the sandbox accepted (its log is the judge of what was sent)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from activations.sandbox import Faults, SandboxServer
from activations.sandbox.twilio import TwilioSandbox
from activations.segment_config import SegmentConfig, parse_segment_config
from activations.warehouse import Warehouse, connect
from tests.support.activation import Person, Store

ACCOUNT_SID = "AC" + "9e" * 16
AUTH_TOKEN = "sms-test-token-41c2"
SENDER = "+15005550006"
# Zones without daylight saving, one per whole-hour offset: one is at midday at any instant.
FIXED_ZONES = (
    "Pacific/Pago_Pago", "Pacific/Honolulu", "Pacific/Gambier", "Pacific/Pitcairn",
    "America/Phoenix", "America/Guatemala", "America/Bogota", "America/Caracas",
    "America/Argentina/Buenos_Aires", "America/Noronha", "Atlantic/Cape_Verde", "Africa/Abidjan",
    "Africa/Lagos", "Africa/Johannesburg", "Europe/Istanbul", "Asia/Dubai", "Asia/Karachi",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane",
    "Pacific/Noumea", "Pacific/Tarawa",
)  # fmt: skip


def zone_at(local_hour: int) -> str:
    """A zone whose wall clock shows `local_hour` (within the hour) now."""
    now = datetime.now(UTC)
    return min(FIXED_ZONES, key=lambda name: abs(now.astimezone(ZoneInfo(name)).hour - local_hour))


@contextmanager
def twilio_sandbox(
    faults: Faults | None = None, auth_token: str = AUTH_TOKEN
) -> Iterator[tuple[TwilioSandbox, dict[str, str]]]:
    """The sandbox on loopback and the environment that sends into it."""
    sandbox = TwilioSandbox(
        ACCOUNT_SID, auth_token, senders=(SENDER,), time_scale=1000.0, faults=faults, seed=5
    )
    with SandboxServer(sandbox.app) as server:
        yield (
            sandbox,
            {
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": auth_token,
                "TWILIO_FROM": SENDER,
                "TWILIO_BASE_URL": server.url,
                "COHORTFLOW_HTTP_TIMEOUT": "0.3",
                "COHORTFLOW_TIME_SCALE": "1000",
            },
        )


def sms_configs(segments: Sequence[str], **options: Any) -> dict[str, SegmentConfig]:
    """Phone-keyed segments texting entries with the `winback` template."""
    block = {"on_enter": "winback", **options}
    meta = {"key": "phone", "traits": ["first_name"], "destinations": {"sms": block}}
    return {segment: parse_segment_config(segment, meta) for segment in segments}


def recipient(store: Store, i: int, *, zone: str, consent: str | None = "subscribed") -> str:
    """Person `p{i}` with a phone in `zone` and that SMS consent (None: no record); the phone."""
    phone = f"+1415555{i:04d}"
    store.people[f"p{i}"] = Person(f"p{i}", None, phone, timezone=zone)
    if consent is not None:
        store.sms_consent[phone] = consent
    return phone


def texted(sandbox: TwilioSandbox) -> Counter[str]:
    """How many texts the sandbox accepted per recipient."""
    with sandbox.state.lock:
        return Counter(str(m.params["To"]) for m in sandbox.state.outbound)


def outbox_rows(warehouse: Warehouse) -> list[tuple[str, str, str | None]]:
    """(person id, status, reason code) of every outbox row."""
    with connect(warehouse) as connection:
        rows = connection.execute(
            sa.text("select person_id, status, reason_code from cohortflow_state.sms_outbox")
        )
        return sorted((str(p), str(s), c) for p, s, c in rows)
