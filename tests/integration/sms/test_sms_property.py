"""The SMS rules hold end to end, over random zones, send times, consent histories, STOP replies
and segment churn: the whole sync (planning, the outbox, the sender, the Twilio client) runs
against the sandbox on a simulated calendar, and what the sandbox accepted is judged against
the scenario itself, not against cohortflow's own records:

- no text inside quiet hours (08:00 to 21:00 where the recipient is: the customer's zone, else
  every zone the number's area code spans, as Google's libphonenumber data lists them);
- none without the phone's latest SMS consent saying subscribed, none after a STOP;
- none to someone who is no longer in the segment when it goes;
- at most one per entry, and never over the caps (1 per 24 h, 4 per 7 days).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import parse
from phonenumbers.timezone import time_zones_for_number

from activations.reports import SyncReport
from activations.sandbox import SandboxServer
from activations.sandbox.twilio import TwilioSandbox
from activations.settings import Settings
from activations.sms.sync import run_sms
from tests.support.activation import Person, Store, empty_models, publish
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, SENDER, sms_configs

pytestmark = pytest.mark.integration

EPOCH = datetime(2026, 3, 2, 0, 0)  # naive UTC, as the warehouse keeps instants
PEOPLE = 6
ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Adelaide",
    None,  # unknown: the phone's area code decides
)
# Area codes by person: San Francisco, New York, Honolulu, Chicago, Alaska, Seattle.
AREA_CODES = ("415", "212", "808", "312", "907", "206")
ALLOWED = (8, 21)


@dataclass(frozen=True)
class Step:
    """One day-ish of the store: time passes, the segment churns, consent moves, people reply."""

    minutes: int
    members: frozenset[int]
    consent: dict[int, str]
    stops: frozenset[int]


@dataclass
class History:
    """What the scenario did and when, on the simulated calendar (naive UTC)."""

    membership: list[tuple[datetime, frozenset[int]]] = field(default_factory=list)
    consent: list[tuple[datetime, int, str]] = field(default_factory=list)
    stops: list[tuple[datetime, int]] = field(default_factory=list)
    baseline_members: frozenset[int] = frozenset()

    def members_at(self, at: datetime) -> frozenset[int]:
        return next((m for t, m in reversed(self.membership) if t <= at), frozenset())

    def consented_at(self, person: int, at: datetime) -> bool:
        latest = [status for t, p, status in self.consent if p == person and t <= at]
        return bool(latest) and latest[-1] == "subscribed"

    def stopped_before(self, person: int, at: datetime) -> bool:
        """A STOP before `at` that no later subscribed consent lifted (a STOP and a consent
        change in one step: the STOP came last, a moment after the publish)."""
        resubscribed = [t for t, p, s in self.consent if p == person and s == "subscribed"]
        return any(
            p == person and t <= at and not any(t < r <= at for r in resubscribed)
            for t, p in self.stops
        )

    def entries(self, person: int) -> int:
        """How often `person` entered after the SMS baseline."""
        count, was = 0, person in self.baseline_members
        for _, members in self.membership[1:]:
            count += person in members and not was
            was = person in members
        return count


steps = st.lists(
    st.builds(
        Step,
        minutes=st.integers(min_value=20, max_value=36 * 60),
        members=st.frozensets(st.integers(0, PEOPLE - 1)),
        consent=st.dictionaries(
            st.integers(0, PEOPLE - 1), st.sampled_from(["subscribed", "unsubscribed"])
        ),
        stops=st.frozensets(st.integers(0, PEOPLE - 1), max_size=1),
    ),
    min_size=2,
    max_size=5,
)


class SimulatedClock:
    """The scenario's calendar: jumps between steps, runs at wall speed within one, so the
    sender, the outbox and the sandbox agree on every instant."""

    def __init__(self) -> None:
        self.instant = EPOCH
        self.wall = time.monotonic()

    def jump(self, minutes: int) -> None:
        self.instant = self.now() + timedelta(minutes=minutes)
        self.wall = time.monotonic()

    def now(self) -> datetime:
        return self.instant + timedelta(seconds=time.monotonic() - self.wall)

    def seconds(self) -> float:
        """Seconds since the epoch: the sandbox's monotonic clock."""
        return (self.now() - EPOCH).total_seconds()


def phone(person: int) -> str:
    return f"+1{AREA_CODES[person]}555{person:04d}"


def local_hours_ok(at: datetime, person: int, zone: str | None) -> bool:
    zones = (zone,) if zone is not None else time_zones_for_number(parse(phone(person)))
    assert zones and "Etc/Unknown" not in zones
    for name in zones:
        local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(name))
        if not ALLOWED[0] <= local.hour < ALLOWED[1]:
            return False
    return True


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=PEOPLE, max_size=PEOPLE),
    start_minutes=st.integers(min_value=0, max_value=24 * 60 - 1),
    scenario=steps,
)
def test_no_text_breaks_a_rule_whatever_the_zones_consent_and_churn(
    duckdb_url: str,
    monkeypatch: pytest.MonkeyPatch,
    zones: list[str | None],
    start_minutes: int,
    scenario: list[Step],
) -> None:
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")  # the client's pacing, not the calendar
    clock = SimulatedClock()
    sandbox = TwilioSandbox(
        ACCOUNT_SID,
        AUTH_TOKEN,
        senders=(SENDER,),
        clock=clock.seconds,
        started=EPOCH.replace(tzinfo=UTC),
    )
    history = History()
    store = Store()
    for person, zone in enumerate(zones):
        store.people[f"p{person}"] = Person(f"p{person}", None, phone(person), timezone=zone)
    configs = sms_configs(["winback"])
    with SandboxServer(sandbox.app) as server, empty_models(duckdb_url) as warehouse:
        environ = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": SENDER,
            "TWILIO_BASE_URL": server.url,
        }

        def sync(now: Callable[[], datetime]) -> None:
            report = SyncReport(destination="sms", run_id=None)
            run_sms(Settings(warehouse=warehouse), configs, {}, environ, report, clock=now)

        clock.jump(start_minutes)
        for number, step in enumerate(scenario):
            if number:
                clock.jump(step.minutes)
            at = clock.now()
            for person, status in step.consent.items():
                store.sms_consent[phone(person)] = status
                store.consent_at[phone(person)] = at
                history.consent.append((at, person, status))
            for person in step.stops:
                sandbox.state.inbound(phone(person), "STOP")
                history.stops.append((at, person))
            store.members = {("winback", f"p{p}"): {"first_name": f"P{p}"} for p in step.members}
            history.membership.append((at, step.members))
            if number == 0:
                history.baseline_members = step.members
            publish(warehouse, store, at)
            sync(clock.now)

    with sandbox.state.lock:
        sent = [
            (int(str(m.params["To"])[-4:]), EPOCH + timedelta(seconds=m.created_at))
            for m in sandbox.state.outbound
        ]
    by_person: dict[int, list[datetime]] = {}
    for person, at in sent:
        by_person.setdefault(person, []).append(at)
        assert local_hours_ok(at, person, zones[person]), f"p{person} texted at {at} UTC"
        assert history.consented_at(person, at), f"p{person} texted without SMS consent"
        assert not history.stopped_before(person, at), f"p{person} texted after STOP"
        assert person in history.members_at(at), f"p{person} texted after leaving the segment"
    for person, times in by_person.items():
        assert len(times) <= history.entries(person), f"p{person}: more texts than entries"
        times.sort()
        for earlier, later in zip(times, times[1:], strict=False):
            assert later - earlier >= timedelta(hours=24), f"p{person}: 2 texts within 24 h"
        for first, fifth in zip(times, times[4:], strict=False):
            assert fifth - first >= timedelta(days=7), f"p{person}: 5 texts within 7 days"
