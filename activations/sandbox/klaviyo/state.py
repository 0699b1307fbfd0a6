"""The sandbox's in-memory Klaviyo account: profiles, lists, events, consent, import jobs, requests.

Reads return snapshots, so tests can inspect it from their own threads while the server writes.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from activations.sandbox.faults import FaultKind
from activations.sandbox.klaviyo.ids import IdFactory
from activations.sandbox.klaviyo.profile_rules import invalid_attributes, merged, normalise
from activations.sandbox.klaviyo.records import (
    IDENTIFIERS,
    Consent,
    ConsentRecord,
    ConsentView,
    Event,
    ImportFailure,
    ImportJob,
    ListRecord,
    LoggedRequest,
    Profile,
    Rejection,
    RequestStats,
    attribute_pointer,
)
from activations.sandbox.klaviyo.spec import MAX_PROFILE_BYTES
from activations.sandbox.limits import ApiClock


class KlaviyoState:
    """Everything the sandbox holds, behind one re-entrant lock (requests are processed on server
    threads while tests read from theirs). Reads return snapshots.

    Choices where the spec is silent:
    - Identity: a write matches an existing profile by id, else email (case-insensitively), else
      phone_number, else external_id. When the identifiers given belong to two different
      profiles the write is refused as duplicate_profile (409 / an import error), except for
      events and subscriptions, which go to the first match and leave the other's identifiers.
    - Merging: attributes not sent stay; an attribute sent as null is cleared; `properties` keys
      merge (a key sent as null is kept as null); `properties: null` clears them all.
    - Import jobs run in API time: `job_seconds` per 1,000 rows after creation they apply at once
      (until then "processing", counts 0). completed_count counts imported rows, failed_count
      rejected ones; expires_at is 30 days after creation.
    - Events, subscribe and unsubscribe jobs apply when accepted (their 202 has no job to poll).
    """

    def __init__(
        self,
        clock: ApiClock,
        seed: int,
        *,
        job_seconds: float = 0.0,
        row_fails: Callable[[], bool] = lambda: False,
    ) -> None:
        if job_seconds < 0 or not math.isfinite(job_seconds):
            raise ValueError(f"job_seconds must be a finite number >= 0, got {job_seconds!r}")
        self.lock = threading.RLock()
        self.clock = clock
        self.job_seconds = job_seconds
        self._row_fails = row_fails
        self._ids = IdFactory(seed, "objects")
        self._profiles: dict[str, Profile] = {}
        self._index: dict[str, dict[str, str]] = {name: {} for name in IDENTIFIERS}
        self._lists: dict[str, ListRecord] = {}
        self._members: dict[str, dict[str, None]] = {}
        self._events: list[Event] = []
        self._event_keys: set[tuple[str, str, str]] = set()
        self._metrics: dict[str, str] = {}
        self._last_event: dict[str, str] = {}
        self._consent: dict[str, dict[str, ConsentRecord]] = {"email": {}, "sms": {}}
        self._list_suppressions: dict[str, dict[str, str]] = {}
        self._jobs: dict[str, ImportJob] = {}
        # Request statistics have their own lock: the event loop updates them and must not wait
        # behind a worker thread applying a large import job under `lock`.
        self._stats_lock = threading.Lock()
        self._requests = RequestStats()

    # ---------------------------------------------------------------- reads (snapshots)

    @property
    def lists(self) -> dict[str, str]:
        """List id -> name."""
        with self.lock:
            return {list_id: record.name for list_id, record in self._lists.items()}

    @property
    def profiles(self) -> dict[str, Profile]:
        """Profile id -> profile (after any import job that is due)."""
        with self.lock:
            self.advance_jobs()
            return dict(self._profiles)

    @property
    def events(self) -> list[Event]:
        """Accepted events, in the order they were accepted."""
        with self.lock:
            return list(self._events)

    @property
    def subscriptions(self) -> ConsentView:
        """Email marketing consent per profile (only profiles that were ever (un)subscribed)."""
        with self.lock:
            self.advance_jobs()
            by_key: dict[str, str] = {}
            aliases: dict[str, str] = {}
            for profile_id, record in self._consent["email"].items():
                email = self._profiles[profile_id].email
                key = email if email is not None else profile_id
                by_key[key] = record.status
                aliases[profile_id] = key
            return ConsentView(by_key, aliases)

    @property
    def sms_subscriptions(self) -> dict[str, str]:
        """SMS marketing consent: phone number (or profile id) -> status."""
        with self.lock:
            return {
                self._profiles[pid].phone_number or pid: record.status
                for pid, record in self._consent["sms"].items()
            }

    @property
    def requests(self) -> RequestStats:
        """Request counts and the rate-limiter log (a snapshot)."""
        with self._stats_lock:
            return self._requests.copy()

    def list_members(self, name: str) -> set[str]:
        """Emails of the profiles in the list(s) called `name`."""
        with self.lock:
            self.advance_jobs()
            return {
                email
                for profile_id in self._member_ids(name)
                if (email := self._profiles[profile_id].email) is not None
            }

    def list_member_ids(self, name: str) -> set[str]:
        """Profile ids in the list(s) called `name`."""
        with self.lock:
            self.advance_jobs()
            return self._member_ids(name)

    def profile_by_email(self, email: str) -> Profile | None:
        """The profile with this email (matched case-insensitively), if any."""
        with self.lock:
            self.advance_jobs()
            profile_id = self._index["email"].get(normalise("email", email))
            return self._profiles[profile_id] if profile_id else None

    def summary(self) -> dict[str, Any]:
        """A JSON-ready overview: what `GET /__sandbox__/state` returns."""
        requests = self.requests
        with self.lock:
            self.advance_jobs()
            return {
                "lists": [
                    {
                        "id": record.id,
                        "name": record.name,
                        "member_count": len(self._members[record.id]),
                        "members": sorted(
                            email
                            for pid in self._members[record.id]
                            if (email := self._profiles[pid].email) is not None
                        ),
                    }
                    for record in self._lists.values()
                ],
                "profile_count": len(self._profiles),
                "events": [
                    {
                        "profile_id": event.profile_id,
                        "email": self._profiles[event.profile_id].email,
                        "metric": event.metric,
                        "unique_id": event.unique_id,
                        "properties": event.properties,
                        "time": event.time,
                        "value": event.value,
                    }
                    for event in self._events
                ],
                "subscriptions": dict(self.subscriptions),
                "sms_subscriptions": self.sms_subscriptions,
                "jobs": [
                    {
                        "id": job.id,
                        "status": job.status,
                        "total_count": len(job.payloads),
                        "completed_count": len(job.profile_ids),
                        "failed_count": len(job.failures),
                    }
                    for job in self._jobs.values()
                ],
                "requests": {
                    "total": requests.total,
                    "accepted": dict(requests.accepted),
                    "statuses": {str(k): v for k, v in requests.statuses.items()},
                    "faults": dict(requests.faults),
                },
            }

    # ---------------------------------------------------------------- request accounting

    def count_request(self) -> None:
        """One more /api/ request arrived."""
        with self._stats_lock:
            self._requests.total += 1

    def count_fault(self, kind: FaultKind) -> None:
        """A fault was injected; those answered without running the app count as requests here."""
        with self._stats_lock:
            self._requests.faults[kind] += 1
            if kind not in ("timeout", "drop_after"):
                self._requests.total += 1

    def log_request(self, operation_id: str, status: int, at: float) -> None:
        """Record the outcome of a request that reached the rate limiter."""
        with self._stats_lock:
            self._requests.statuses[status] += 1
            if 200 <= status < 300:
                self._requests.accepted[operation_id] += 1
            self._requests.log.append(LoggedRequest(at, operation_id, status))

    # ---------------------------------------------------------------- time

    def now(self) -> float:
        """API seconds since start."""
        return self.clock.now()

    def iso(self, api_seconds: float | None = None) -> str:
        """An API instant as ISO 8601 with microseconds and offset."""
        at = self.clock.now() if api_seconds is None else api_seconds
        return self.clock.datetime_at(at).isoformat(timespec="microseconds")

    # ---------------------------------------------------------------- profiles

    def profile(self, profile_id: str) -> Profile | None:
        """A profile by id."""
        with self.lock:
            return self._profiles.get(profile_id)

    def last_event_date(self, profile_id: str) -> str | None:
        """The time of the profile's latest accepted event."""
        with self.lock:
            return self._last_event.get(profile_id)

    def all_profiles(self) -> list[Profile]:
        """Every profile in creation order."""
        with self.lock:
            return list(self._profiles.values())

    def profiles_with(self, attribute: str, values: Iterable[str]) -> list[Profile]:
        """Profiles whose identifier `attribute` is one of `values`, in creation order."""
        with self.lock:
            if attribute == "id":
                ids = {v for v in values if v in self._profiles}
            else:
                index = self._index[attribute]
                ids = {pid for v in values if (pid := index.get(normalise(attribute, v)))}
            return [p for p in self._profiles.values() if p.id in ids]

    def check_profile(
        self, profile_id: str | None, attributes: Mapping[str, Any]
    ) -> Rejection | None:
        """Why writing this profile would be refused (before any conflict with existing ones)."""
        with self.lock:
            rejection = invalid_attributes(profile_id, attributes)
            if rejection is None and profile_id is not None and profile_id not in self._profiles:
                return Rejection("not_found", "Not found.", "No profile with this id.", "id")
            return rejection

    def profile_key(self, profile_id: str | None, attributes: Mapping[str, Any]) -> str:
        """Which profile a write would land on: an existing id, or a key for the new profile."""
        with self.lock:
            matches = self._matches(profile_id, attributes)
            if matches:
                return matches[0][1]
            for name in IDENTIFIERS:
                value = attributes.get(name)
                if value:
                    return f"new:{name}:{normalise(name, value)}"
            return f"new:{id(attributes)}"

    def upsert(
        self,
        profile_id: str | None,
        attributes: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
        *,
        on_conflict: Literal["reject", "first"] = "reject",
    ) -> tuple[Profile, bool] | Rejection:
        """Create or update one profile (see the class docstring for matching and merging).

        Returns:
            (the profile, True if it was created), or why it was refused.
        """
        with self.lock:
            rejection = self.check_profile(profile_id, attributes)
            if rejection is not None:
                return rejection
            matches = self._matches(profile_id, attributes)
            existing = self._profiles[matches[0][1]] if matches else None
            others = [(name, pid) for name, pid in matches if existing and pid != existing.id]
            if others:
                if on_conflict == "reject":
                    name, other = others[0]
                    return Rejection(
                        "duplicate_profile",
                        "Conflict.",
                        f"The {name} given belongs to another profile: {other}.",
                        name,
                        duplicate_of=other,
                    )
                attributes = {k: v for k, v in attributes.items() if k not in dict(others)}
            now = self.iso()
            new_id = existing.id if existing else self._ids.ulid()
            profile = merged(existing, new_id, attributes, meta, now)
            if existing is not None:
                self._unindex(existing)
            self._profiles[new_id] = profile
            self._index_profile(profile)
            return profile, existing is None

    def _matches(
        self, profile_id: str | None, attributes: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if profile_id is not None and profile_id in self._profiles:
            found.append(("id", profile_id))
        for name in IDENTIFIERS:
            value = attributes.get(name)
            if isinstance(value, str) and value:
                pid = self._index[name].get(normalise(name, value))
                if pid is not None:
                    found.append((name, pid))
        return found

    def _index_profile(self, profile: Profile) -> None:
        for name in IDENTIFIERS:
            value = getattr(profile, name)
            if value:
                self._index[name][normalise(name, value)] = profile.id

    def _unindex(self, profile: Profile) -> None:
        for name in IDENTIFIERS:
            value = getattr(profile, name)
            if value and self._index[name].get(normalise(name, value)) == profile.id:
                del self._index[name][normalise(name, value)]

    # ---------------------------------------------------------------- lists

    def create_list(self, name: str, opt_in_process: str | None) -> ListRecord:
        """A new list; names need not be unique (Klaviyo allows duplicates)."""
        with self.lock:
            now = self.iso()
            record = ListRecord(
                self._ids.short(), name, opt_in_process or "single_opt_in", now, now
            )
            self._lists[record.id] = record
            self._members[record.id] = {}
            return record

    def get_list(self, list_id: str) -> ListRecord | None:
        """A list by id."""
        with self.lock:
            return self._lists.get(list_id)

    def all_lists(self) -> list[ListRecord]:
        """Every list in creation order."""
        with self.lock:
            return list(self._lists.values())

    def delete_list(self, list_id: str) -> None:
        """Delete a list and its memberships, as a marketer can in Klaviyo's app (the profiles
        stay)."""
        with self.lock:
            del self._lists[list_id]
            del self._members[list_id]

    def add_members(self, list_id: str, profile_ids: Iterable[str]) -> None:
        """Add profiles to a list (already-members stay)."""
        with self.lock:
            members = self._members[list_id]
            for profile_id in profile_ids:
                members[profile_id] = None
            self._touch_list(list_id)

    def remove_members(self, list_id: str, profile_ids: Iterable[str]) -> None:
        """Remove profiles from a list (non-members are ignored)."""
        with self.lock:
            members = self._members[list_id]
            for profile_id in profile_ids:
                members.pop(profile_id, None)
            self._touch_list(list_id)

    def is_member(self, list_id: str, profile_id: str) -> bool:
        """Whether the profile is in the list."""
        with self.lock:
            return profile_id in self._members.get(list_id, {})

    def _touch_list(self, list_id: str) -> None:
        self._lists[list_id] = replace(self._lists[list_id], updated=self.iso())

    def _member_ids(self, name: str) -> set[str]:
        return {
            profile_id
            for list_id, record in self._lists.items()
            if record.name == name
            for profile_id in self._members[list_id]
        }

    # ---------------------------------------------------------------- events

    def record_event(
        self,
        profile_id: str,
        metric: str,
        unique_id: str | None,
        properties: dict[str, Any],
        when: str,
        value: float | None,
    ) -> bool:
        """Accept an event unless (profile, metric, unique_id) was accepted before: the first one
        wins. Without a unique_id the event's time (to the second) stands in, as the spec says.

        Returns:
            Whether the event was new.
        """
        with self.lock:
            self._metrics.setdefault(metric, self._ids.short())
            key = (profile_id, metric, unique_id if unique_id is not None else when)
            if key in self._event_keys:
                return False
            self._event_keys.add(key)
            self._events.append(Event(profile_id, metric, unique_id, properties, when, value))
            previous = self._last_event.get(profile_id)
            if previous is None or when > previous:
                self._last_event[profile_id] = when
            return True

    # ---------------------------------------------------------------- consent

    def set_consent(
        self, profile_id: str, channel: str, status: Consent, when: str, detail: str | None
    ) -> None:
        """Record marketing consent for a channel ("email" or "sms")."""
        with self.lock:
            self._consent[channel][profile_id] = ConsentRecord(status, when, detail)

    def consent(self, profile_id: str, channel: str) -> ConsentRecord | None:
        """The consent recorded for a channel, if any."""
        with self.lock:
            return self._consent[channel].get(profile_id)

    def suppress_in_list(self, profile_id: str, list_id: str) -> None:
        """A list-level unsubscribe: out of the list, with a list suppression."""
        with self.lock:
            self.remove_members(list_id, [profile_id])
            self._list_suppressions.setdefault(profile_id, {})[list_id] = self.iso()

    def lift_list_suppression(self, profile_id: str, list_id: str) -> None:
        """Subscribing again through a list lifts that list's suppression."""
        with self.lock:
            self._list_suppressions.get(profile_id, {}).pop(list_id, None)

    def list_suppressions(self, profile_id: str) -> dict[str, str]:
        """List id -> when the profile was unsubscribed from it."""
        with self.lock:
            return dict(self._list_suppressions.get(profile_id, {}))

    # ---------------------------------------------------------------- import jobs

    def create_job(self, payloads: list[dict[str, Any]], list_ids: Sequence[str]) -> ImportJob:
        """Queue a bulk import; it applies `job_seconds` per 1,000 rows of API time later."""
        with self.lock:
            now = self.now()
            duration = self.job_seconds * len(payloads) / 1000
            job = ImportJob(self._ids.ulid(), now, now + duration, payloads, tuple(list_ids))
            self._jobs[job.id] = job
            self.advance_jobs()
            return job

    def job(self, job_id: str) -> ImportJob | None:
        """A job by id (applied first if it is due)."""
        with self.lock:
            self.advance_jobs()
            return self._jobs.get(job_id)

    def advance_jobs(self) -> None:
        """Apply every import job whose time has come."""
        with self.lock:
            now = self.now()
            for job in self._jobs.values():
                if job.status != "complete" and job.ready_at <= now:
                    self._apply_job(job, now)

    def _apply_job(self, job: ImportJob, now: float) -> None:
        imported: dict[str, None] = {}
        for index, resource in enumerate(job.payloads):
            pointer = f"/data/attributes/profiles/data/{index}"
            attributes = dict(resource.get("attributes") or {})
            size = len(json.dumps(resource, separators=(",", ":")).encode())
            if size > MAX_PROFILE_BYTES:
                self._fail(
                    job,
                    "payload_too_large",
                    "Payload too large.",
                    "The profile is larger than 100KB.",
                    pointer,
                    attributes,
                )
                continue
            if self._row_fails():
                self._fail(
                    job,
                    "internal_error",
                    "Internal error.",
                    "The profile could not be imported because of a temporary error; "
                    "import it again.",
                    pointer,
                    attributes,
                )
                continue
            result = self.upsert(resource.get("id"), attributes, resource.get("meta"))
            if isinstance(result, Rejection):
                where = pointer + attribute_pointer(result.attribute)
                self._fail(job, result.code, result.title, result.detail, where, attributes)
                continue
            imported[result[0].id] = None
        job.profile_ids = list(imported)
        for list_id in job.list_ids:
            if list_id in self._lists and imported:
                self.add_members(list_id, imported)
        job.status = "complete"
        job.completed_at = max(now, job.ready_at)

    def _fail(
        self,
        job: ImportJob,
        code: str,
        title: str,
        detail: str,
        pointer: str,
        payload: dict[str, Any],
    ) -> None:
        job.failures.append(ImportFailure(self._ids.ulid(), code, title, detail, pointer, payload))
