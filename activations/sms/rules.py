"""When a marketing text may go, if at all: consent, opt-outs, quiet hours, caps, send window.

A text is the channel where a mistake costs most (sent at 02:00, sent twice, sent after STOP), so
every rule here answers with a reason that can be shown and counted, and a text held back by
quiet hours or a frequency cap is deferred to the earliest instant every rule allows, not dropped.
`decide` applies them in order:

1. consent: the latest SMS consent change is "subscribed" (a tie at that instant is not consent);
2. opt-outs: a STOP or Twilio error 21610 suppresses the phone until a consent change dated
   after it;
3. quiet hours: the instant must be inside the allowed local hours in every candidate zone of
   the recipient (`activations.sms.zones`): the strictest reading of an unsure location;
4. frequency caps: across all segments, e.g. at most 1 text per 24 h and 4 per 7 days;
5. send window: a text whose earliest allowed instant is later than `planned_at + send_window`
   expires: a win-back text three days late is worse than none.

Instants are naive UTC, as everywhere in cohortflow (`activations.instants`); an aware datetime
is converted. Nothing here reads a clock, the warehouse or the network.

A decision is a plan for this instant, not a permission to keep: the outbox decides again right
before it sends, with the opt-outs and sends known then.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from activations.errors import CohortflowError

SEARCH_HORIZON = timedelta(days=8)
"""How far ahead `next_allowed` looks: if no instant in 8 days is allowed in every zone, the
zones are too far apart for the allowed hours and none will ever be (a day repeats; DST moves a
zone by an hour at most twice a year)."""

# Zone offsets are sampled this often to find DST transitions; two transitions within one step
# that cancel out would go unseen (the tz database has none since 1900).
_OFFSET_PROBE = timedelta(hours=1)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
# Zones listed by name in a reason before the rest are counted.
_NAMED_ZONES = 3


class SmsRulesError(CohortflowError):
    """A project's or segment's SMS rules cannot be used; the message names the setting."""


class ReasonCode(StrEnum):
    """What held a text back, for counting; `Reason.detail` says it for people."""

    NO_CONSENT = "no_consent"
    UNSUBSCRIBED = "unsubscribed"
    CONSENT_TIE = "consent_tie"
    OPTED_OUT = "opted_out"
    NO_TIME_ZONE = "no_time_zone"
    NO_COMMON_HOURS = "no_common_hours"
    QUIET_HOURS = "quiet_hours"
    FREQUENCY_CAP = "frequency_cap"
    SEND_WINDOW_PASSED = "send_window_passed"


@dataclass(frozen=True)
class Reason:
    """Why a text is skipped, deferred or expired: a code to count, a sentence to show."""

    code: ReasonCode
    detail: str

    def __str__(self) -> str:
        return self.detail


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class QuietHours:
    """The local hours in which texts may go: from `allowed_from` (included) to `allowed_until`
    (excluded), in each recipient zone. Default 08:00–21:00.

    `allowed_from` later than `allowed_until` wraps midnight: 22:00–06:00 allows the night and
    forbids the day. 08:00–00:00 allows until midnight. Equal times are refused: they could mean
    always or never, and neither belongs in a config by accident.

    "Local hours" means the wall clock at that instant: on a spring-forward day whose 08:00 does
    not exist, sending starts at the instant the clock jumps past it; on a fall-back day the
    hour read twice is allowed or not each time the clock shows it."""

    allowed_from: time = time(8, 0)
    allowed_until: time = time(21, 0)

    def __post_init__(self) -> None:
        for name in ("allowed_from", "allowed_until"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise SmsRulesError(
                    f"quiet hours: {name} must be a local time without a zone (e.g. 08:00), "
                    f"not {value!r}"
                )
        if self.allowed_from == self.allowed_until:
            raise SmsRulesError(
                f"quiet hours: allowed_from and allowed_until are both "
                f"{_clock(self.allowed_from)}: give two different times (e.g. 08:00 and 21:00)"
            )

    @property
    def wraps_midnight(self) -> bool:
        return self.allowed_from > self.allowed_until

    def allows(self, local: time) -> bool:
        """Whether a wall-clock time is inside the allowed hours."""
        local = local.replace(tzinfo=None)
        if self.wraps_midnight:
            return local >= self.allowed_from or local < self.allowed_until
        return self.allowed_from <= local < self.allowed_until

    def describe(self) -> str:
        return f"{_clock(self.allowed_from)}–{_clock(self.allowed_until)}"


@dataclass(frozen=True)
class FrequencyCap:
    """At most `max_messages` marketing texts to one person in any `per`-long stretch of time,
    counted across all segments."""

    max_messages: int
    per: timedelta

    def __post_init__(self) -> None:
        if isinstance(self.max_messages, bool) or not isinstance(self.max_messages, int):
            raise SmsRulesError(
                f"frequency cap: max_messages must be a whole number, not {self.max_messages!r}"
            )
        if self.max_messages < 1:
            raise SmsRulesError(
                f"frequency cap: max_messages is {self.max_messages}; it must be at least 1 "
                "(to send no texts, do not route the segment to SMS)"
            )
        if not isinstance(self.per, timedelta) or self.per <= timedelta(0):
            raise SmsRulesError(f"frequency cap: per must be a positive duration, not {self.per}")

    def describe(self) -> str:
        texts = "text" if self.max_messages == 1 else "texts"
        return f"at most {self.max_messages} {texts} per {_duration(self.per)}"


DEFAULT_FREQUENCY_CAPS = (
    FrequencyCap(max_messages=1, per=timedelta(hours=24)),
    FrequencyCap(max_messages=4, per=timedelta(days=7)),
)


@dataclass(frozen=True)
class SmsRules:
    """The rules one segment's texts are decided by (a project's defaults, overridden per
    segment with `rules_from_options`).

    `consent_required` False lets a phone without any consent change receive texts (consent
    held outside the warehouse); an "unsubscribed" latest change, a tie and an opt-out still
    refuse them. `send_window` counts from when the text was planned."""

    consent_required: bool = True
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    frequency_caps: tuple[FrequencyCap, ...] = DEFAULT_FREQUENCY_CAPS
    send_window: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if not isinstance(self.consent_required, bool):
            raise SmsRulesError(
                f"consent_required must be true or false, not {self.consent_required!r}"
            )
        if not isinstance(self.quiet_hours, QuietHours):
            raise SmsRulesError(f"quiet_hours must be QuietHours, not {self.quiet_hours!r}")
        caps = tuple(self.frequency_caps)
        if not all(isinstance(cap, FrequencyCap) for cap in caps):
            raise SmsRulesError(f"frequency_caps must be FrequencyCap values, not {caps!r}")
        object.__setattr__(self, "frequency_caps", caps)
        if not isinstance(self.send_window, timedelta) or self.send_window <= timedelta(0):
            raise SmsRulesError(f"send_window must be a positive duration, not {self.send_window}")

    @property
    def cap_lookback(self) -> timedelta:
        """How far back a person's sends matter to the caps: the longest cap's window (the
        sends `decide` needs are those since `now - cap_lookback`, and any booked later)."""
        return max((cap.per for cap in self.frequency_caps), default=timedelta(0))


DEFAULT_RULES = SmsRules()

_OPTION_KEYS = ("consent_required", "quiet_hours", "frequency_caps", "send_window")
_QUIET_KEYS = ("allowed_from", "allowed_until")
_CAP_KEYS = ("max_messages", "per")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def rules_from_options(options: Mapping[str, Any], base: SmsRules = DEFAULT_RULES) -> SmsRules:
    """`base` with the settings `options` gives (a project's or a segment's `sms` block, as read
    from YAML): only the keys present change, so a segment overrides its project key by key.

        consent_required: true
        quiet_hours: {allowed_from: "08:00", allowed_until: "21:00"}
        frequency_caps: [{max_messages: 1, per: 24h}, {max_messages: 4, per: 7d}]
        send_window: 24h

    Durations are whole minutes (m), hours (h) or days (d). `frequency_caps` replaces the list.

    Raises:
        SmsRulesError: an unknown key or a value that cannot be used, named.
    """
    _refuse_unknown(options, _OPTION_KEYS, "sms rules")
    changes: dict[str, Any] = {}
    if "consent_required" in options:
        changes["consent_required"] = options["consent_required"]
    if "quiet_hours" in options:
        changes["quiet_hours"] = _quiet_hours(options["quiet_hours"], base.quiet_hours)
    if "frequency_caps" in options:
        changes["frequency_caps"] = _caps(options["frequency_caps"])
    if "send_window" in options:
        changes["send_window"] = parse_duration(options["send_window"], "send_window")
    return replace(base, **changes)


def parse_duration(value: Any, setting: str) -> timedelta:
    """'90m', '24h', '7d' (or a timedelta) as a timedelta.

    Raises:
        SmsRulesError: `value` is none of those; the message names `setting`.
    """
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise SmsRulesError(
            f"{setting}: {value!r} is not a duration; write whole minutes, hours or days, "
            "e.g. 90m, 24h or 7d"
        )
    amount, unit = match.groups()
    return timedelta(**{_DURATION_UNITS[unit]: int(amount)})


def parse_clock(value: Any, setting: str) -> time:
    """'08:00' (or a time) as a local time.

    Raises:
        SmsRulesError: `value` is not HH:MM; the message names `setting`.
    """
    if isinstance(value, time):
        return value
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value.strip()):
            raise ValueError(value)
        return time.fromisoformat(value.strip())
    except ValueError:
        raise SmsRulesError(
            f"{setting}: {value!r} is not a local time; write HH:MM, e.g. 08:00 or 21:00"
        ) from None


def _quiet_hours(value: Any, base: QuietHours) -> QuietHours:
    if not isinstance(value, Mapping):
        raise SmsRulesError(
            f"quiet_hours must be a mapping with allowed_from and allowed_until, not {value!r}"
        )
    _refuse_unknown(value, _QUIET_KEYS, "quiet_hours")
    return QuietHours(
        allowed_from=parse_clock(
            value.get("allowed_from", base.allowed_from), "quiet_hours.allowed_from"
        ),
        allowed_until=parse_clock(
            value.get("allowed_until", base.allowed_until), "quiet_hours.allowed_until"
        ),
    )


def _caps(value: Any) -> tuple[FrequencyCap, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise SmsRulesError(
            f"frequency_caps must be a list of {{max_messages, per}} mappings, not {value!r}"
        )
    caps = []
    for position, item in enumerate(value, start=1):
        setting = f"frequency_caps[{position}]"
        if not isinstance(item, Mapping) or set(item) != set(_CAP_KEYS):
            raise SmsRulesError(f"{setting} must have exactly max_messages and per, not {item!r}")
        caps.append(
            FrequencyCap(
                max_messages=item["max_messages"], per=parse_duration(item["per"], setting)
            )
        )
    return tuple(caps)


def _refuse_unknown(options: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    unknown = sorted(str(key) for key in options if key not in known)
    if unknown:
        raise SmsRulesError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )


# ---------------------------------------------------------------- consent and opt-outs


class ConsentChange(NamedTuple):
    """One row of a phone's SMS consent history (the `consents` table, channel `sms`)."""

    occurred_at: datetime
    status: str  # "subscribed" or "unsubscribed"


class OptOut(NamedTuple):
    """A permanent suppression of a phone: an inbound STOP or a Twilio error 21610."""

    occurred_at: datetime
    source: str  # "STOP", "21610", ...


# Twilio's default opt-out keywords (and the FCC's 2025 additions), matched as a whole message
# or its first word, case-insensitively: a "Stop texting me" must suppress too.
STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)


def is_stop_message(body: str) -> bool:
    """Whether an inbound text asks to stop: its whole text or its first word is an opt-out
    keyword, whatever the case and punctuation. Honouring a STOP that was not meant costs one
    customer; missing one that was costs far more."""
    words = re.findall(r"[^\W\d_]+", body)
    if not words:
        return False
    return words[0].upper() in STOP_KEYWORDS or "".join(words).upper() in STOP_KEYWORDS


def consent_decision(
    consents: Iterable[tuple[datetime, str]],
    opt_outs: Iterable[tuple[datetime, str]] = (),
    *,
    as_of: datetime,
    consent_required: bool = True,
) -> Reason | None:
    """None when a marketing text may go to this phone as far as consent goes; else why not.

    `consents` is the phone's SMS consent history (occurred_at, status); changes after `as_of`
    are not known yet and are ignored, as in `contact_consent`. The latest change decides; when
    "subscribed" and "unsubscribed" share the latest instant, that is not consent.

    `opt_outs` (occurred_at, source) suppress the phone permanently: only a "subscribed" change
    dated strictly after the latest opt-out lifts it. Opt-outs dated after `as_of` count too: a
    STOP is honoured early rather than late when clocks disagree."""
    as_of = _naive_utc(as_of)
    known = [(_naive_utc(at), status) for at, status in consents if _naive_utc(at) <= as_of]
    latest = max((at for at, _ in known), default=None)
    statuses = {status for at, status in known if at == latest}
    if latest is None:
        if consent_required:
            return Reason(ReasonCode.NO_CONSENT, "no SMS consent")
    elif len(statuses) > 1:
        return Reason(
            ReasonCode.CONSENT_TIE,
            f"tie is not consent: {' and '.join(sorted(statuses))} both at {_stamp(latest)}",
        )
    elif statuses != {"subscribed"}:
        status = statuses.pop()
        code = ReasonCode.UNSUBSCRIBED if status == "unsubscribed" else ReasonCode.NO_CONSENT
        return Reason(code, f"{status} at {_stamp(latest)}")
    stops = [(_naive_utc(at), source) for at, source in opt_outs]
    if not stops:
        return None
    stop_at, source = max(stops)
    if latest is not None and latest > stop_at:
        return None
    return Reason(ReasonCode.OPTED_OUT, f"opted out ({source}) at {_stamp(stop_at)}")


# ---------------------------------------------------------------- quiet hours


@dataclass(frozen=True)
class Earliest:
    """The earliest instant a rule allows, and why it is later than asked (None if it is not)."""

    at: datetime
    reason: Reason | None = None


def next_allowed(
    instant_utc: datetime, zones: Sequence[ZoneInfo], quiet: QuietHours
) -> datetime | None:
    """The earliest instant at or after `instant_utc` (naive UTC) whose wall-clock time is inside
    `quiet`'s allowed hours in every one of `zones`; None when there is none in SEARCH_HORIZON
    (the zones are too far apart for the allowed hours), or when `zones` is empty.

    Computed, not searched minute by minute: each zone's offset is constant between DST
    transitions, so its allowed hours are plain intervals there; the answer is the start of the
    first interval common to all zones that ends after `instant_utc`."""
    instant = _naive_utc(instant_utc)
    if not zones:
        return None
    start = instant.replace(microsecond=0)
    end = start + SEARCH_HORIZON
    common = _allowed_intervals(zones[0], quiet, start, end)
    for zone in zones[1:]:
        common = _intersect(common, _allowed_intervals(zone, quiet, start, end))
    for low, high in common:
        if high > instant:
            return max(low, instant)
    return None


def quiet_hours_decision(
    instant_utc: datetime, zones: Sequence[ZoneInfo], quiet: QuietHours
) -> Earliest | Reason:
    """`next_allowed` with its reason: deferred by quiet hours, or no common hours at all."""
    if not zones:
        return Reason(ReasonCode.NO_TIME_ZONE, "no time zone known for the recipient")
    instant = _naive_utc(instant_utc)
    at = next_allowed(instant, zones, quiet)
    names = _zone_list(zones)
    if at is None:
        return Reason(
            ReasonCode.NO_COMMON_HOURS,
            f"no instant in {SEARCH_HORIZON.days} days is within {quiet.describe()} local time "
            f"in all of {names}",
        )
    if at == instant:
        return Earliest(at)
    return Earliest(
        at,
        Reason(
            ReasonCode.QUIET_HOURS,
            f"quiet hours: texts go {quiet.describe()} local time in {names}; "
            f"next allowed {_stamp(at)} UTC",
        ),
    )


def _allowed_intervals(
    zone: ZoneInfo, quiet: QuietHours, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The [low, high) UTC intervals within [start, end) in which `zone`'s wall clock is inside
    the allowed hours, sorted and merged."""
    intervals: list[tuple[datetime, datetime]] = []
    for low, high, offset in _constant_offsets(zone, start, end):
        local_low, local_high = low + offset, high + offset
        day = local_low.date() - _DAY
        while day <= local_high.date():
            window_low, window_high = _window(day, quiet)
            overlap_low, overlap_high = max(window_low, local_low), min(window_high, local_high)
            if overlap_low < overlap_high:
                _append_merged(intervals, overlap_low - offset, overlap_high - offset)
            day += _DAY
    return intervals


def _window(day: date, quiet: QuietHours) -> tuple[datetime, datetime]:
    """The allowed local hours that begin on `day`, as naive local datetimes."""
    low = datetime.combine(day, quiet.allowed_from)
    until_day = day + _DAY if quiet.wraps_midnight else day
    return low, datetime.combine(until_day, quiet.allowed_until)


def _constant_offsets(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut at `zone`'s transitions: (low, high, UTC offset in force)."""
    pieces = []
    low, offset = start, _offset(zone, start)
    probe = start
    while probe < end:
        ahead = min(probe + _OFFSET_PROBE, end)
        if _offset(zone, ahead) == offset:
            probe = ahead
            continue
        change = _first_change(zone, probe, ahead, offset)
        pieces.append((low, change, offset))
        low, offset, probe = change, _offset(zone, change), change
    pieces.append((low, end, offset))
    return pieces


def _first_change(zone: ZoneInfo, before: datetime, after: datetime, offset: timedelta) -> datetime:
    """The first whole second in (before, after] at which `zone`'s offset is no longer `offset`
    (transitions fall on whole seconds; `before` is one)."""
    while after - before > _SECOND:
        middle = before + _SECOND * ((after - before) // _SECOND // 2)
        if _offset(zone, middle) == offset:
            before = middle
        else:
            after = middle
    return after


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _intersect(
    first: Sequence[tuple[datetime, datetime]], second: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The intervals in both sorted, disjoint lists."""
    common, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        low = max(first[i][0], second[j][0])
        high = min(first[i][1], second[j][1])
        if low < high:
            common.append((low, high))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return common


def _append_merged(
    intervals: list[tuple[datetime, datetime]], low: datetime, high: datetime
) -> None:
    if intervals and intervals[-1][1] >= low:
        intervals[-1] = (intervals[-1][0], max(intervals[-1][1], high))
    else:
        intervals.append((low, high))


# ---------------------------------------------------------------- frequency caps


def cap_decision(
    instant_utc: datetime, sent: Iterable[datetime], caps: Sequence[FrequencyCap]
) -> Earliest:
    """The earliest instant at or after `instant_utc` a new text may go without breaking any cap,
    given the instants of the person's other marketing texts (sent, sending or scheduled, in any
    segment; not the text being decided).

    A cap of N per W is broken when N + 1 texts, the new one among them, fit within less than
    W: so the new one is refused wherever it would join N others closer than W, and the earliest
    instant it may go is where the oldest of them falls out of its window. Texts scheduled after
    `instant_utc` count too, so a text never lands just before another one that is booked."""
    instant = _naive_utc(instant_utc)
    history = sorted(_naive_utc(at) for at in sent)
    at, binding = instant, None
    moved = True
    while moved:
        moved = False
        for cap in caps:
            blocked_until = _blocked_until(at, history, cap)
            if blocked_until is not None:
                at, binding, moved = blocked_until, cap, True
    if binding is None:
        return Earliest(at)
    return Earliest(
        at,
        Reason(
            ReasonCode.FREQUENCY_CAP,
            f"frequency cap: {binding.describe()} across segments; next allowed {_stamp(at)} UTC",
        ),
    )


def _blocked_until(at: datetime, history: Sequence[datetime], cap: FrequencyCap) -> datetime | None:
    """When `cap` stops refusing a text at `at`: the latest end of a run of N consecutive texts
    that would fit with it in less than the cap's window; None when none does."""
    n, window = cap.max_messages, cap.per
    if len(history) < n:
        return None
    # Only runs starting within `window` before `at` and ending within `window` after it can
    # hold `at` in less than `window`.
    first = bisect.bisect_right(history, at - window)
    last = bisect.bisect_left(history, at + window)
    blocked: datetime | None = None
    for i in range(first, last - n + 1):
        oldest, newest = history[i], history[i + n - 1]
        if max(at, newest) - min(at, oldest) < window:
            until = oldest + window
            blocked = until if blocked is None else max(blocked, until)
    return blocked


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True)
class Send:
    """Send at `at`: now, or later when a rule deferred it (`deferred_by` says which)."""

    at: datetime
    deferred_by: tuple[Reason, ...] = ()

    @property
    def deferred(self) -> bool:
        return bool(self.deferred_by)


@dataclass(frozen=True)
class Skip:
    """Never send this text: a rule about the person (consent, opt-out, where they are)."""

    reason: Reason


@dataclass(frozen=True)
class Expire:
    """Do not send this text: the earliest instant the rules allow is past its send window.
    `earliest` is how late it would have gone at least (the search stops at the window)."""

    reason: Reason
    earliest: datetime | None = None


Decision = Send | Skip | Expire


def decide(
    *,
    now: datetime,
    planned_at: datetime,
    zones: Sequence[ZoneInfo],
    consents: Iterable[tuple[datetime, str]],
    opt_outs: Iterable[tuple[datetime, str]] = (),
    sent: Iterable[datetime] = (),
    rules: SmsRules = DEFAULT_RULES,
) -> Decision:
    """Whether and when one marketing text goes: `Send(at)` with `at` == `now` when it may go
    now, later when quiet hours or caps defer it; `Skip` when consent, an opt-out or the
    recipient's zones refuse it; `Expire` when it could only go after `planned_at + send_window`.

    The deferral instant satisfies quiet hours and caps at once: each can push the other later
    (a cap frees at 23:00, quiet hours then wait until 08:00), so they are applied in turn until
    neither moves it. Every turn that moves it lands on a cap's release instant, later each time,
    so the turns are bounded by the history's size (and stop at the send window)."""
    now, planned_at = _naive_utc(now), _naive_utc(planned_at)
    consent = consent_decision(
        consents, opt_outs, as_of=now, consent_required=rules.consent_required
    )
    if consent is not None:
        return Skip(consent)
    if not zones:
        return Skip(Reason(ReasonCode.NO_TIME_ZONE, "no time zone known for the recipient"))
    deadline = planned_at + rules.send_window
    history = sorted(_naive_utc(at) for at in sent)
    deferrals: dict[ReasonCode, Reason] = {}
    at = now
    for _ in range(len(history) * len(rules.frequency_caps) + 2):
        quiet = quiet_hours_decision(at, zones, rules.quiet_hours)
        if isinstance(quiet, Reason):
            return Skip(quiet)
        capped = cap_decision(quiet.at, history, rules.frequency_caps)
        for reason in (quiet.reason, capped.reason):
            if reason is not None:
                deferrals[reason.code] = reason
        if capped.at > deadline:
            return _expired(capped.at, planned_at, deadline, deferrals)
        if capped.at == quiet.at:
            return Send(capped.at, tuple(deferrals.values()))
        at = capped.at
    # Unreachable: each turn moves `at` to a later cap release, and there are only so many.
    return _expired(at, planned_at, deadline, deferrals)


def _expired(
    earliest: datetime,
    planned_at: datetime,
    deadline: datetime,
    deferrals: Mapping[ReasonCode, Reason],
) -> Expire:
    window = f"send window closed at {_stamp(deadline)} UTC (planned {_stamp(planned_at)})"
    if deferrals:
        held = " and ".join(code.value.replace("_", " ") for code in deferrals)
        why = f"held by {held} until at least {_stamp(earliest)} UTC"
    else:
        why = f"decided at {_stamp(earliest)} UTC"
    return Expire(Reason(ReasonCode.SEND_WINDOW_PASSED, f"{window}; {why}"), earliest)


# ---------------------------------------------------------------- formatting


def _naive_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        return instant
    return instant.astimezone(UTC).replace(tzinfo=None)


def _stamp(instant: datetime) -> str:
    return f"{instant:%Y-%m-%d %H:%M:%S}"


def _clock(value: time) -> str:
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0 and seconds > 86400:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return str(value)


def _zone_list(zones: Sequence[ZoneInfo]) -> str:
    names = sorted(zone.key for zone in zones)
    if len(names) <= _NAMED_ZONES:
        return ", ".join(names)
    return f"{', '.join(names[:_NAMED_ZONES])} and {len(names) - _NAMED_ZONES} more"
