"""The operation handlers, one module per resource; `HANDLERS` maps each operationId to its own.

A handler runs on a worker thread under the state lock, once the request is authenticated, within
its rate limits and valid against the spec. It answers a `Reply` or raises `ApiError`.
"""

from __future__ import annotations

from collections.abc import Callable

from activations.sandbox.klaviyo.handlers import (
    events,
    import_jobs,
    lists,
    profiles,
    subscriptions,
)
from activations.sandbox.klaviyo.jsonapi import Call, Reply
from activations.sandbox.klaviyo.state import KlaviyoState

Handler = Callable[[KlaviyoState, Call], Reply]

HANDLERS: dict[str, Handler] = {
    "get_lists": lists.get_lists,
    "create_list": lists.create_list,
    "add_profiles_to_list": lists.add_profiles_to_list,
    "remove_profiles_from_list": lists.remove_profiles_from_list,
    "bulk_import_profiles": import_jobs.bulk_import_profiles,
    "get_bulk_import_profiles_job": import_jobs.get_job,
    "get_errors_for_bulk_import_profiles_job": import_jobs.get_job_errors,
    "get_profiles_for_bulk_import_profiles_job": import_jobs.get_job_profiles,
    "get_profiles": profiles.get_profiles,
    "create_or_update_profile": profiles.create_or_update_profile,
    "bulk_create_events": events.bulk_create_events,
    "bulk_subscribe_profiles": subscriptions.bulk_subscribe,
    "bulk_unsubscribe_profiles": subscriptions.bulk_unsubscribe,
}
