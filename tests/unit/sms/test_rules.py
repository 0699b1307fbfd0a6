"""SMS rules: consent, opt-outs, quiet hours in every candidate zone, caps and the send window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from activations.sms.rules import (
    DEFAULT_RULES,
    SEARCH_HORIZON,
    Expire,
    FrequencyCap,
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

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # +10:30, and +11 in summer: a half-hour DST shift
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30 all year
LONDON = ZoneInfo("Europe/London")
SUBSCRIBED = [(datetime(2025, 1, 1), "subscribed")]
DAYTIME = QuietHours()  # 08:00–21:00


# ---------------------------------------------------------------- references the tests trust


def allowed_in(zone: ZoneInfo, instant: datetime, quiet: QuietHours) -> bool:
    """Whether the wall clock in `zone` at `instant` (naive UTC) shows an allowed time."""
    local = instant.replace(tzinfo=UTC).astimezone(zone).time()
    start, end = quiet.allowed_from, quiet.allowed_until
    return start <= local < end if start < end else (local >= start or local < end)


def allowed_everywhere(zones: Sequence[ZoneInfo], instant: datetime, quiet: QuietHours) -> bool:
    return all(allowed_in(zone, instant, quiet) for zone in zones)


def breaks_a_cap(at: datetime, sent: Sequence[datetime], caps: Sequence[FrequencyCap]) -> bool:
    """Whether a text at `at` makes some window of a cap's length hold more than its maximum:
    it suffices to look at windows starting at `at` or at an earlier text."""
    for cap in caps:
        for start in [at, *(s for s in sent if s <= at)]:
            if not start <= at < start + cap.per:
                continue
            inside = sum(1 for s in sent if start <= s < start + cap.per)
            if inside + 1 > cap.max_messages:
                return True
    return False


def has_consent(
    consents: Sequence[tuple[datetime, str]],
    opt_outs: Sequence[tuple[datetime, str]],
    now: datetime,
    required: bool = True,
) -> bool:
    known = [(at, status) for at, status in consents if at <= now]
    if known:
        latest = max(at for at, _ in known)
        if {status for at, status in known if at == latest} != {"subscribed"}:
            return False
    elif required:
        return False
    if not opt_outs:
        return True
    last_stop = max(at for at, _ in opt_outs)
    return bool(known) and max(at for at, _ in known) > last_stop


def grid(start: datetime, end: datetime, most: int = 1500) -> list[datetime]:
    """Minutes from `start` before `end`: all of them, or an even sample and the last 120."""
    count = int((end - start) / MINUTE)
    if (end - start) % MINUTE == timedelta(0):
        count -= 1  # `end` itself is not before `end`
    if count < 0:
        return []
    if count <= most:
        steps: Sequence[int] = range(count + 1)
    else:
        stride = count // most + 1
        steps = sorted({*range(0, count + 1, stride), *range(max(0, count - 120), count + 1)})
    return [start + step * MINUTE for step in steps]


# ---------------------------------------------------------------- strategies

ZONE_NAMES = sorted(available_timezones())
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31))
zone_sets = st.lists(st.sampled_from(ZONE_NAMES), min_size=1, max_size=3, unique=True).map(
    lambda names: [ZoneInfo(name) for name in names]
)
clock_times = st.builds(time, hour=st.integers(0, 23), minute=st.integers(0, 59))


def _quiet_hours(start: time, minutes: int) -> QuietHours:
    """Allowed for `minutes` (1 to 23 h 59) from `start`, wrapping midnight when it runs past."""
    end = (datetime.combine(datetime(2000, 1, 1), start) + minutes * MINUTE).time()
    return QuietHours(start, end)


quiet_hours = st.builds(_quiet_hours, clock_times, st.integers(1, 24 * 60 - 1))
caps = st.lists(
    st.builds(
        FrequencyCap,
        max_messages=st.integers(1, 4),
        per=st.integers(1, 7 * 24).map(lambda hours: hours * HOUR),
    ),
    max_size=2,
)


@st.composite
def situations(draw: st.DrawFn) -> dict[str, object]:
    """A text to decide: when, for whom (zones, consent, opt-outs, sends) and by which rules."""
    now = draw(instants)
    # Few distinct instants around now, so consent rows tie and opt-outs meet consents.
    moments = [now + offset * HOUR for offset in (-72, -48, -24, -1, 0, 1)]
    status = st.sampled_from(["subscribed", "subscribed", "subscribed", "unsubscribed"])
    consents = [(now - 30 * DAY, "subscribed")] if draw(st.integers(0, 9)) < 7 else []
    consents += draw(st.lists(st.tuples(st.sampled_from(moments), status), max_size=2))
    stop = st.tuples(st.sampled_from(moments[:4]), st.sampled_from(["STOP", "21610"]))
    opt_outs = [draw(stop)] if draw(st.integers(0, 2)) == 0 else []
    sent = draw(
        st.lists(
            st.integers(-8 * 24 * 60, 3 * 24 * 60).map(lambda minutes: now + minutes * MINUTE),
            max_size=6,
        )
    )
    rules = SmsRules(
        consent_required=draw(st.booleans()),
        quiet_hours=draw(st.one_of(st.just(DAYTIME), quiet_hours)),
        frequency_caps=tuple(draw(caps)),
        send_window=draw(st.one_of(st.just(DAY), st.integers(1, 72).map(lambda h: h * HOUR))),
    )
    return {
        "now": now,
        "planned_at": now - draw(st.integers(0, 12 * 60)) * MINUTE,
        "zones": draw(zone_sets),
        "consents": consents,
        "opt_outs": opt_outs,
        "sent": sent,
        "rules": rules,
    }


# ---------------------------------------------------------------- next_allowed, by property


@settings(max_examples=200, deadline=None)
@given(instant=instants, zones=zone_sets, quiet=quiet_hours)
def test_next_allowed_is_the_first_instant_every_zone_allows(
    instant: datetime, zones: list[ZoneInfo], quiet: QuietHours
) -> None:
    at = next_allowed(instant, zones, quiet)
    event("no common hours" if at is None else "found")
    if at is None:
        horizon = instant + SEARCH_HORIZON
        assert not any(allowed_everywhere(zones, u, quiet) for u in grid(instant, horizon, 4000))
        return
    assert at >= instant
    assert at - instant < SEARCH_HORIZON
    assert allowed_everywhere(zones, at, quiet)
    assert not any(allowed_everywhere(zones, u, quiet) for u in grid(instant, at))


@settings(max_examples=100, deadline=None)
@given(instant=instants, zones=zone_sets, quiet=quiet_hours)
def test_an_allowed_instant_is_its_own_next_allowed(
    instant: datetime, zones: list[ZoneInfo], quiet: QuietHours
) -> None:
    at = next_allowed(instant, zones, quiet)
    assume(at is not None)
    assert at is not None
    assert next_allowed(at, zones, quiet) == at


# ---------------------------------------------------------------- next_allowed, by example


def test_on_the_spring_forward_day_new_york_opens_at_0800_daylight_time() -> None:
    # 8 March 2026: 02:00 EST becomes 03:00 EDT; 00:00 EST is 05:00 UTC, 08:00 EDT is 12:00 UTC.
    assert next_allowed(datetime(2026, 3, 8, 5), [NEW_YORK], DAYTIME) == datetime(2026, 3, 8, 12)


def test_on_the_fall_back_day_new_york_opens_at_0800_standard_time() -> None:
    # 1 November 2026: 02:00 EDT becomes 01:00 EST; 06:30 UTC is 01:30 EDT, 08:00 EST is 13:00.
    at = datetime(2026, 11, 1, 6, 30)
    assert next_allowed(at, [NEW_YORK], DAYTIME) == datetime(2026, 11, 1, 13)


def test_a_window_opening_at_a_time_that_does_not_exist_opens_when_the_clock_jumps() -> None:
    # 02:30 never shows in New York on 8 March 2026: the clock jumps from 02:00 to 03:00 EDT.
    quiet = QuietHours(time(2, 30), time(21))
    assert next_allowed(datetime(2026, 3, 8, 5), [NEW_YORK], quiet) == datetime(2026, 3, 8, 7)


def test_a_window_closing_in_the_hour_read_twice_reopens_when_the_clock_goes_back() -> None:
    # Allowed 22:00–01:30. On 1 November 2026 01:30 EDT (05:30 UTC) closes it; at 06:00 UTC the
    # clock shows 01:00 EST, inside the window again until 01:30 EST (06:30 UTC).
    quiet = QuietHours(time(22), time(1, 30))
    assert next_allowed(datetime(2026, 11, 1, 5, 45), [NEW_YORK], quiet) == datetime(2026, 11, 1, 6)
    assert next_allowed(datetime(2026, 11, 1, 6, 30), [NEW_YORK], quiet) == datetime(2026, 11, 2, 3)


def test_lord_howe_opens_at_0800_on_both_sides_of_its_half_hour_shift() -> None:
    # DST starts 4 October 2026 (02:00 +10:30 becomes 02:30 +11): 08:00 is 21:00 UTC the day before.
    assert next_allowed(datetime(2026, 10, 3, 12), [LORD_HOWE], DAYTIME) == datetime(
        2026, 10, 3, 21
    )
    # DST ends 5 April 2026 (02:00 +11 becomes 01:30 +10:30): 08:00 is 21:30 UTC the day before.
    assert next_allowed(datetime(2026, 4, 4, 12), [LORD_HOWE], DAYTIME) == datetime(
        2026, 4, 4, 21, 30
    )


def test_lord_howe_skips_a_half_hour_and_reads_a_half_hour_twice() -> None:
    # Window from 02:15, which 4 October 2026 skips: it opens at the jump, 15:30 UTC.
    assert next_allowed(
        datetime(2026, 10, 3, 12), [LORD_HOWE], QuietHours(time(2, 15), time(21))
    ) == datetime(2026, 10, 3, 15, 30)
    # Window 22:00–01:45 closed at 01:50 +11 (14:50 UTC); at 15:00 UTC the clock shows 01:30.
    assert next_allowed(
        datetime(2026, 4, 4, 14, 50), [LORD_HOWE], QuietHours(time(22), time(1, 45))
    ) == datetime(2026, 4, 4, 15)


def test_kolkata_opens_at_0800_on_its_half_hour_offset() -> None:
    assert next_allowed(datetime(2026, 6, 1), [KOLKATA], DAYTIME) == datetime(2026, 6, 1, 2, 30)
    assert next_allowed(datetime(2026, 6, 1, 15, 30), [KOLKATA], DAYTIME) == datetime(
        2026, 6, 2, 2, 30
    )


def test_two_zones_allow_only_the_hours_they_share() -> None:
    # June: Kolkata allows 02:30–15:30 UTC, London (BST) 07:00–20:00 UTC; both 07:00–15:30.
    zones = [KOLKATA, LONDON]
    assert next_allowed(datetime(2026, 6, 1), zones, DAYTIME) == datetime(2026, 6, 1, 7)
    assert next_allowed(datetime(2026, 6, 1, 15, 29), zones, DAYTIME) == datetime(
        2026, 6, 1, 15, 29
    )
    assert next_allowed(datetime(2026, 6, 1, 15, 30), zones, DAYTIME) == datetime(2026, 6, 2, 7)


def test_a_window_wrapping_midnight_allows_the_night() -> None:
    quiet = QuietHours(time(22), time(6))
    assert quiet.wraps_midnight
    assert next_allowed(datetime(2026, 6, 1, 12), [KOLKATA], quiet) == datetime(2026, 6, 1, 16, 30)
    assert next_allowed(datetime(2026, 6, 1, 20), [KOLKATA], quiet) == datetime(2026, 6, 1, 20)


def test_zones_too_far_apart_for_the_window_give_no_instant_and_a_reason() -> None:
    # January: London allows 08–21 UTC, Shanghai 00–13, Los Angeles 16–05: no hour in all three.
    zones = [LONDON, ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Los_Angeles")]
    assert next_allowed(datetime(2026, 1, 10), zones, DAYTIME) is None
    reason = quiet_hours_decision(datetime(2026, 1, 10), zones, DAYTIME)
    assert isinstance(reason, Reason) and reason.code is ReasonCode.NO_COMMON_HOURS
    decision = decide(
        now=datetime(2026, 1, 10),
        planned_at=datetime(2026, 1, 10),
        zones=zones,
        consents=SUBSCRIBED,
    )
    assert isinstance(decision, Skip)
    assert decision.reason.code is ReasonCode.NO_COMMON_HOURS


def test_an_aware_instant_means_the_same_instant_in_utc() -> None:
    aware = datetime(2026, 3, 8, 0, tzinfo=NEW_YORK)  # 05:00 UTC
    assert next_allowed(aware, [NEW_YORK], DAYTIME) == datetime(2026, 3, 8, 12)


def test_no_zone_allows_nothing() -> None:
    assert next_allowed(datetime(2026, 1, 1), [], DAYTIME) is None


# ---------------------------------------------------------------- consent and opt-outs

T0 = datetime(2026, 5, 1, 12)


def test_the_latest_subscribed_change_is_consent() -> None:
    history = [(T0 - DAY, "unsubscribed"), (T0, "subscribed")]
    assert consent_decision(history, as_of=T0) is None


def test_no_consent_history_is_no_consent() -> None:
    reason = consent_decision([], as_of=T0)
    assert reason is not None and reason.code is ReasonCode.NO_CONSENT
    assert str(reason) == "no SMS consent"


def test_an_unsubscribe_after_consent_withdraws_it() -> None:
    reason = consent_decision([(T0 - DAY, "subscribed"), (T0, "unsubscribed")], as_of=T0)
    assert reason is not None and reason.code is ReasonCode.UNSUBSCRIBED


def test_a_tie_between_subscribed_and_unsubscribed_is_not_consent() -> None:
    for history in (
        [(T0, "subscribed"), (T0, "unsubscribed")],
        [(T0, "unsubscribed"), (T0, "subscribed")],
    ):
        reason = consent_decision(history, as_of=T0)
        assert reason is not None and reason.code is ReasonCode.CONSENT_TIE
        assert "tie is not consent" in str(reason)


def test_a_tie_is_not_consent_even_when_consent_is_not_required() -> None:
    reason = consent_decision(
        [(T0, "subscribed"), (T0, "unsubscribed")], as_of=T0, consent_required=False
    )
    assert reason is not None and reason.code is ReasonCode.CONSENT_TIE


def test_consent_given_after_now_is_not_known_yet() -> None:
    reason = consent_decision([(T0 + HOUR, "subscribed")], as_of=T0)
    assert reason is not None and reason.code is ReasonCode.NO_CONSENT


def test_a_stop_suppresses_a_consent_given_before_it() -> None:
    reason = consent_decision([(T0 - DAY, "subscribed")], [(T0 - HOUR, "STOP")], as_of=T0)
    assert reason is not None and reason.code is ReasonCode.OPTED_OUT
    assert str(reason) == f"opted out (STOP) at {T0 - HOUR:%Y-%m-%d %H:%M:%S}"


def test_a_consent_given_after_the_stop_lifts_it() -> None:
    assert consent_decision([(T0, "subscribed")], [(T0 - HOUR, "STOP")], as_of=T0) is None


def test_a_consent_at_the_very_instant_of_the_stop_does_not_lift_it() -> None:
    reason = consent_decision([(T0, "subscribed")], [(T0, "21610")], as_of=T0)
    assert reason is not None and reason.code is ReasonCode.OPTED_OUT


def test_a_stop_dated_after_now_is_honoured_already() -> None:
    reason = consent_decision([(T0 - DAY, "subscribed")], [(T0 + HOUR, "STOP")], as_of=T0)
    assert reason is not None and reason.code is ReasonCode.OPTED_OUT


def test_an_opt_out_stands_when_consent_is_not_required() -> None:
    reason = consent_decision([], [(T0 - DAY, "21610")], as_of=T0, consent_required=False)
    assert reason is not None and reason.code is ReasonCode.OPTED_OUT
    assert consent_decision([], as_of=T0, consent_required=False) is None


@settings(max_examples=200, deadline=None)
@given(situation=situations())
def test_consent_is_decided_by_the_latest_change_and_the_latest_opt_out(
    situation: dict[str, object],
) -> None:
    consents = situation["consents"]
    opt_outs = situation["opt_outs"]
    now = situation["now"]
    rules = situation["rules"]
    assert isinstance(consents, list) and isinstance(opt_outs, list)
    assert isinstance(now, datetime) and isinstance(rules, SmsRules)
    reason = consent_decision(
        consents, opt_outs, as_of=now, consent_required=rules.consent_required
    )
    assert (reason is None) == has_consent(consents, opt_outs, now, rules.consent_required)


@settings(max_examples=200, deadline=None)
@given(
    now=instants,
    older=st.lists(
        st.tuples(
            st.integers(1, 90 * 24).map(lambda hours: hours * HOUR),
            st.sampled_from(["subscribed", "unsubscribed"]),
        ),
        max_size=3,
    ),
    tie_age=st.integers(0, 90 * 24).map(lambda hours: hours * HOUR),
)
def test_a_tie_at_the_latest_change_never_lets_a_text_go(
    now: datetime, older: list[tuple[timedelta, str]], tie_age: timedelta
) -> None:
    tie = now - tie_age
    history = [(tie - age, status) for age, status in older]
    history += [(tie, "subscribed"), (tie, "unsubscribed")]
    decision = decide(now=now, planned_at=now, zones=[KOLKATA], consents=history)
    assert isinstance(decision, Skip)
    assert decision.reason.code is ReasonCode.CONSENT_TIE


@settings(max_examples=200, deadline=None)
@given(
    now=instants,
    stop_age=st.integers(0, 90 * 24 * 60).map(lambda minutes: minutes * MINUTE),
    consent_age=st.integers(0, 90 * 24 * 60).map(lambda minutes: minutes * MINUTE),
    source=st.sampled_from(["STOP", "21610"]),
)
def test_only_a_consent_newer_than_the_stop_lifts_it(
    now: datetime, stop_age: timedelta, consent_age: timedelta, source: str
) -> None:
    stop, consented = now - stop_age, now - consent_age
    reason = consent_decision([(consented, "subscribed")], [(stop, source)], as_of=now)
    if consented > stop:
        assert reason is None
    else:
        assert reason is not None and reason.code is ReasonCode.OPTED_OUT
        assert source in str(reason)


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", " Stop. ", "STOP ALL", "Unsubscribe", "cancel", "Stop texting me", "opt out"],
)
def test_inbound_stop_keywords_are_opt_outs(body: str) -> None:
    assert is_stop_message(body)


@pytest.mark.parametrize("body", ["", "Thanks!", "when does the sale stop?", "START", "HELP"])
def test_other_inbound_texts_are_not_opt_outs(body: str) -> None:
    assert not is_stop_message(body)


# ---------------------------------------------------------------- frequency caps

CAPS = DEFAULT_RULES.frequency_caps


def test_no_earlier_text_means_no_wait() -> None:
    assert cap_decision(T0, [], CAPS).at == T0
    assert cap_decision(T0, [], CAPS).reason is None


def test_a_text_within_24_hours_of_another_waits_for_it_to_age_out() -> None:
    earliest = cap_decision(T0, [T0 - 10 * HOUR], CAPS)
    assert earliest.at == T0 + 14 * HOUR
    assert earliest.reason is not None and earliest.reason.code is ReasonCode.FREQUENCY_CAP


def test_a_text_exactly_24_hours_after_another_may_go() -> None:
    assert cap_decision(T0, [T0 - DAY], CAPS).at == T0


def test_four_texts_in_seven_days_make_the_fifth_wait_for_the_oldest_to_age_out() -> None:
    sent = [T0 - 6 * DAY, T0 - 4 * DAY, T0 - 3 * DAY, T0 - 2 * DAY]
    assert cap_decision(T0, sent, CAPS).at == T0 + DAY


def test_a_text_is_not_squeezed_in_just_before_one_already_booked() -> None:
    # Another segment's text is booked for tomorrow 09:00: a text now would be 21 h before it.
    booked = T0 + 21 * HOUR
    assert cap_decision(T0, [booked], CAPS).at == booked + DAY


@settings(max_examples=200, deadline=None)
@given(
    instant=instants,
    offsets=st.lists(st.integers(-10 * 24 * 60, 3 * 24 * 60), max_size=8),
    limits=caps,
)
def test_the_capped_instant_is_the_first_that_breaks_no_cap(
    instant: datetime, offsets: list[int], limits: list[FrequencyCap]
) -> None:
    sent = [instant + offset * MINUTE for offset in offsets]
    at = cap_decision(instant, sent, limits).at
    assert at >= instant
    assert not breaks_a_cap(at, sent, limits)
    assert all(breaks_a_cap(u, sent, limits) for u in grid(instant, at, 600))


# ---------------------------------------------------------------- decide

NOON_NY = datetime(2026, 1, 15, 17)  # 12:00 in New York (EST)


def test_a_text_that_breaks_no_rule_goes_now() -> None:
    decision = decide(now=NOON_NY, planned_at=NOON_NY, zones=[NEW_YORK], consents=SUBSCRIBED)
    assert decision == Send(NOON_NY)
    assert isinstance(decision, Send) and not decision.deferred


def test_a_text_planned_in_quiet_hours_is_deferred_to_the_morning() -> None:
    night = datetime(2026, 1, 15, 4)  # 23:00 in New York
    decision = decide(now=night, planned_at=night, zones=[NEW_YORK], consents=SUBSCRIBED)
    assert isinstance(decision, Send)
    assert decision.at == datetime(2026, 1, 15, 13)
    assert [reason.code for reason in decision.deferred_by] == [ReasonCode.QUIET_HOURS]


def test_a_cap_freeing_in_quiet_hours_defers_to_the_morning_after() -> None:
    # The last text went at 03:00 UTC (22:00 on the 14th in NY): the cap frees at 03:00 UTC on
    # the 16th, inside quiet hours, so the text waits until 08:00 in NY (13:00 UTC).
    decision = decide(
        now=NOON_NY,
        planned_at=NOON_NY,
        zones=[NEW_YORK],
        consents=SUBSCRIBED,
        sent=[datetime(2026, 1, 15, 3)],
        rules=SmsRules(send_window=timedelta(hours=48)),
    )
    assert isinstance(decision, Send)
    assert decision.at == datetime(2026, 1, 16, 13)
    assert {reason.code for reason in decision.deferred_by} == {
        ReasonCode.FREQUENCY_CAP,
        ReasonCode.QUIET_HOURS,
    }


def test_quiet_hours_and_caps_are_applied_in_turn_until_both_allow_the_instant() -> None:
    # The cap frees at 03:00 UTC on the 16th (22:00 in NY: quiet) -> 13:00 UTC; there a text
    # booked for 05:00 UTC on the 17th blocks until 05:00 UTC on the 18th (00:00 in NY: quiet)
    # -> 13:00 UTC on the 18th, which both allow.
    decision = decide(
        now=NOON_NY,
        planned_at=NOON_NY,
        zones=[NEW_YORK],
        consents=SUBSCRIBED,
        sent=[datetime(2026, 1, 15, 3), datetime(2026, 1, 17, 5)],
        rules=SmsRules(send_window=timedelta(days=4)),
    )
    assert isinstance(decision, Send)
    assert decision.at == datetime(2026, 1, 18, 13)
    assert [reason.code for reason in decision.deferred_by] == [
        ReasonCode.FREQUENCY_CAP,
        ReasonCode.QUIET_HOURS,
    ]


def test_a_text_that_could_only_go_after_its_send_window_expires() -> None:
    night = datetime(2026, 1, 15, 4)  # 23:00 in New York; 08:00 is 9 hours away
    decision = decide(
        now=night,
        planned_at=night - 20 * HOUR,
        zones=[NEW_YORK],
        consents=SUBSCRIBED,
    )
    assert isinstance(decision, Expire)
    assert decision.reason.code is ReasonCode.SEND_WINDOW_PASSED
    assert decision.earliest == datetime(2026, 1, 15, 13)
    assert "quiet hours" in str(decision.reason)


def test_a_text_decided_after_its_send_window_expires_even_in_open_hours() -> None:
    decision = decide(
        now=NOON_NY, planned_at=NOON_NY - 3 * DAY, zones=[NEW_YORK], consents=SUBSCRIBED
    )
    assert isinstance(decision, Expire)


def test_a_text_without_consent_is_skipped_before_anything_else() -> None:
    decision = decide(now=NOON_NY, planned_at=NOON_NY, zones=[], consents=[])
    assert isinstance(decision, Skip)
    assert decision.reason.code is ReasonCode.NO_CONSENT


def test_a_text_after_stop_is_skipped() -> None:
    decision = decide(
        now=NOON_NY,
        planned_at=NOON_NY,
        zones=[NEW_YORK],
        consents=SUBSCRIBED,
        opt_outs=[(NOON_NY - DAY, "STOP")],
    )
    assert isinstance(decision, Skip)
    assert decision.reason.code is ReasonCode.OPTED_OUT


@settings(max_examples=200, deadline=None)
@given(situation=situations())
def test_a_decided_send_breaks_no_rule(situation: dict[str, object]) -> None:
    decision = decide(**situation)  # type: ignore[arg-type]
    event(
        f"Send {'deferred' if decision.deferred else 'now'}"
        if isinstance(decision, Send)
        else f"{type(decision).__name__} {decision.reason.code}"
    )
    now, planned_at = situation["now"], situation["planned_at"]
    zones, rules = situation["zones"], situation["rules"]
    consents, opt_outs, sent = situation["consents"], situation["opt_outs"], situation["sent"]
    assert isinstance(now, datetime) and isinstance(planned_at, datetime)
    assert isinstance(rules, SmsRules) and isinstance(zones, list)
    assert isinstance(consents, list) and isinstance(opt_outs, list) and isinstance(sent, list)
    consent = has_consent(consents, opt_outs, now, rules.consent_required)
    deadline = planned_at + rules.send_window

    def allowed(u: datetime) -> bool:
        return allowed_everywhere(zones, u, rules.quiet_hours) and not breaks_a_cap(
            u, sent, rules.frequency_caps
        )

    if isinstance(decision, Send):
        assert consent
        assert now <= decision.at <= deadline
        assert allowed_everywhere(zones, decision.at, rules.quiet_hours)
        assert not breaks_a_cap(decision.at, sent, rules.frequency_caps)
        assert decision.deferred == (decision.at > now)
        assert not any(allowed(u) for u in grid(now, decision.at, 600))
    elif isinstance(decision, Expire):
        assert consent
        assert not any(allowed(u) for u in grid(now, deadline + timedelta(seconds=1), 600))
    else:
        assert not consent or decision.reason.code is ReasonCode.NO_COMMON_HOURS


# ---------------------------------------------------------------- settings


def test_the_defaults_are_the_issues_rules() -> None:
    assert DEFAULT_RULES.consent_required
    assert DEFAULT_RULES.quiet_hours == QuietHours(time(8), time(21))
    assert DEFAULT_RULES.frequency_caps == (FrequencyCap(1, DAY), FrequencyCap(4, 7 * DAY))
    assert DEFAULT_RULES.send_window == DAY


def test_quiet_hours_starting_and_ending_at_the_same_time_are_refused() -> None:
    with pytest.raises(SmsRulesError, match="both 08:00"):
        QuietHours(time(8), time(8))


def test_a_quiet_hour_with_a_zone_is_refused() -> None:
    with pytest.raises(SmsRulesError, match="local time without a zone"):
        QuietHours(time(8, tzinfo=UTC), time(21))


@pytest.mark.parametrize("count", [0, -1])
def test_a_cap_of_fewer_than_one_text_is_refused(count: int) -> None:
    with pytest.raises(SmsRulesError, match="at least 1"):
        FrequencyCap(count, DAY)


def test_a_cap_over_no_time_is_refused() -> None:
    with pytest.raises(SmsRulesError, match="positive duration"):
        FrequencyCap(1, timedelta(0))


def test_a_send_window_of_no_time_is_refused() -> None:
    with pytest.raises(SmsRulesError, match="send_window"):
        SmsRules(send_window=timedelta(0))


def test_a_segment_overrides_its_projects_rules_key_by_key() -> None:
    project = rules_from_options({"quiet_hours": {"allowed_from": "09:00"}, "send_window": "12h"})
    segment = rules_from_options(
        {"frequency_caps": [{"max_messages": 2, "per": "7d"}], "consent_required": True},
        base=project,
    )
    assert segment.quiet_hours == QuietHours(time(9), time(21))
    assert segment.send_window == timedelta(hours=12)
    assert segment.frequency_caps == (FrequencyCap(2, 7 * DAY),)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"quiet_hour": {}}, "unknown setting"),
        ({"quiet_hours": {"allowed_from": "8am"}}, "quiet_hours.allowed_from: '8am'"),
        ({"quiet_hours": {"allowed_from": "21:00"}}, "both 21:00"),
        ({"quiet_hours": {"start": "08:00"}}, "unknown setting"),
        ({"send_window": "1 week"}, "send_window: '1 week' is not a duration"),
        ({"send_window": "0h"}, "positive duration"),
        ({"frequency_caps": [{"max_messages": 0, "per": "24h"}]}, "at least 1"),
        ({"frequency_caps": [{"max": 1}]}, r"frequency_caps\[1\]"),
        ({"frequency_caps": "1/24h"}, "must be a list"),
        ({"consent_required": "yes"}, "true or false"),
    ],
)
def test_bad_rules_are_refused_with_a_message_naming_the_setting(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(SmsRulesError, match=message):
        rules_from_options(options)
