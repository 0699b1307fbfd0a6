"""How lists, bulk import jobs and profiles are rendered as JSON:API resource objects."""

from __future__ import annotations

from typing import Any

from activations.sandbox.klaviyo.jsonapi import ApiError, Call
from activations.sandbox.klaviyo.records import (
    LOCATION_FIELDS,
    PROFILE_FIELDS,
    ImportJob,
    ListRecord,
    Profile,
)
from activations.sandbox.klaviyo.state import KlaviyoState


def list_resource(record: ListRecord, base: str) -> dict[str, Any]:
    """A list as a `list` resource."""
    url = f"{base}/api/lists/{record.id}"
    return {
        "type": "list",
        "id": record.id,
        "attributes": {
            "name": record.name,
            "created": record.created,
            "updated": record.updated,
            "opt_in_process": record.opt_in_process,
        },
        "relationships": {
            "profiles": {
                "links": {
                    "self": f"{url}/relationships/profiles/",
                    "related": f"{url}/profiles/",
                }
            },
            "tags": {"links": {"self": f"{url}/relationships/tags/", "related": f"{url}/tags/"}},
        },
        "links": {"self": f"{url}/"},
    }


def job_resource(
    state: KlaviyoState, job: ImportJob, base: str, *, queued: bool = False
) -> dict[str, Any]:
    """A job as a `profile-bulk-import-job` resource (`queued`: as it is when just created)."""
    url = f"{base}/api/profile-bulk-import-jobs/{job.id}"
    done = job.status == "complete" and not queued
    return {
        "type": "profile-bulk-import-job",
        "id": job.id,
        "attributes": {
            "status": "queued" if queued else job.status,
            "created_at": state.iso(job.created_at),
            "total_count": len(job.payloads),
            "completed_count": len(job.profile_ids) if done else 0,
            "failed_count": len(job.failures) if done else 0,
            "completed_at": state.iso(job.completed_at)
            if done and job.completed_at is not None
            else None,
            "expires_at": state.iso(job.created_at + 30 * 86400),
            "started_at": None if queued else state.iso(job.created_at),
        },
        "relationships": {
            "lists": {
                "data": [{"type": "list", "id": list_id} for list_id in job.list_ids],
                "links": {"self": f"{url}/relationships/lists/", "related": f"{url}/lists/"},
            },
            "profiles": {
                "links": {
                    "self": f"{url}/relationships/profiles/",
                    "related": f"{url}/profiles/",
                }
            },
            "import-errors": {"links": {"related": f"{url}/import-errors/"}},
        },
        "links": {"self": f"{url}/"},
    }


def profile_resource(state: KlaviyoState, profile_id: str, call: Call) -> dict[str, Any]:
    """A profile as a `profile` resource, with the `additional-fields[profile]` asked for."""
    profile = state.profile(profile_id)
    if profile is None:  # cannot happen: profiles are never deleted
        raise ApiError(500, "error", "A server error occurred.", "A profile vanished.")
    url = f"{call.base}/api/profiles/{profile.id}"
    attributes: dict[str, Any] = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    attributes.update(
        created=profile.created,
        updated=profile.updated,
        last_event_date=state.last_event_date(profile.id),
        location={name: profile.location.get(name) for name in LOCATION_FIELDS},
        properties=dict(profile.properties),
    )
    extra = set(call.query.get("additional-fields[profile]", "").split(","))
    if "subscriptions" in extra:
        attributes["subscriptions"] = _subscriptions(state, profile)
    if "predictive_analytics" in extra:
        attributes["predictive_analytics"] = None
    return {
        "type": "profile",
        "id": profile.id,
        "attributes": attributes,
        "relationships": {
            "lists": {"links": {"self": f"{url}/relationships/lists/", "related": f"{url}/lists/"}},
            "segments": {
                "links": {
                    "self": f"{url}/relationships/segments/",
                    "related": f"{url}/segments/",
                }
            },
        },
        "links": {"self": f"{url}/"},
    }


def _subscriptions(state: KlaviyoState, profile: Profile) -> dict[str, Any]:
    """The `subscriptions` additional field: email and SMS marketing consent."""
    email = state.consent(profile.id, "email")
    sms = state.consent(profile.id, "sms")
    unsubscribed = email is not None and email.status == "UNSUBSCRIBED"
    return {
        "email": {
            "marketing": {
                "can_receive_email_marketing": profile.email is not None and not unsubscribed,
                "consent": email.status if email else "NEVER_SUBSCRIBED",
                "consent_timestamp": email.timestamp if email else None,
                "last_updated": email.timestamp if email else None,
                "method": "API" if email else None,
                "method_detail": "",
                "custom_method_detail": email.method_detail if email else None,
                "double_optin": False if email else None,
                "suppression": [{"reason": "USER_SUPPRESSED", "timestamp": email.timestamp}]
                if email and unsubscribed
                else [],
                "list_suppressions": [
                    {"list_id": list_id, "reason": "USER_SUPPRESSED", "timestamp": when}
                    for list_id, when in state.list_suppressions(profile.id).items()
                ],
            }
        },
        "sms": {
            "marketing": {
                "can_receive_sms_marketing": sms is not None and sms.status == "SUBSCRIBED",
                "consent": sms.status if sms else "NEVER_SUBSCRIBED",
                "consent_timestamp": sms.timestamp if sms else None,
                "method": "API" if sms else None,
                "method_detail": "",
                "last_updated": sms.timestamp if sms else None,
            }
        },
    }
