"""The bulk profile import operations: create a job, then read its status, errors and profiles."""

from __future__ import annotations

from typing import Any

from activations.sandbox.klaviyo.jsonapi import ApiError, Call, Reply, paginate, sparse
from activations.sandbox.klaviyo.records import ImportJob
from activations.sandbox.klaviyo.resources import job_resource, list_resource, profile_resource
from activations.sandbox.klaviyo.spec import MAX_IMPORT_PROFILES
from activations.sandbox.klaviyo.state import KlaviyoState


def bulk_import_profiles(state: KlaviyoState, call: Call) -> Reply:
    """`POST /api/profile-bulk-import-jobs`: queue a job, optionally into lists."""
    data = call.body["data"]
    profiles = data["attributes"]["profiles"]["data"]
    if not profiles or len(profiles) > MAX_IMPORT_PROFILES:
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            f"A job takes 1 to {MAX_IMPORT_PROFILES:,} profiles, got {len(profiles):,}.",
            pointer="/data/attributes/profiles/data",
        )
    lists = ((data.get("relationships") or {}).get("lists") or {}).get("data") or []
    for index, item in enumerate(lists):
        if state.get_list(item["id"]) is None:
            raise ApiError(
                404,
                "not_found",
                "Not found.",
                "No list with this id.",
                pointer=f"/data/relationships/lists/data/{index}/id",
            )
    job = state.create_job(profiles, [item["id"] for item in lists])
    # Klaviyo acknowledges a new job as queued, however fast it will run.
    resource = job_resource(state, job, call.base, queued=True)
    return Reply(202, sparse({"data": resource, "links": resource["links"]}, call.query))


def _job_or_404(state: KlaviyoState, call: Call) -> ImportJob:
    job_id = call.path_params.get("job_id") or call.path_params["id"]
    job = state.job(job_id)
    if job is None:
        name = "job_id" if "job_id" in call.path_params else "id"
        raise ApiError(
            404, "not_found", "Not found.", "No import job with this id.", parameter=name
        )
    return job


def get_job(state: KlaviyoState, call: Call) -> Reply:
    """`GET /api/profile-bulk-import-jobs/{job_id}`, its lists too with `include=lists`."""
    job = _job_or_404(state, call)
    resource = job_resource(state, job, call.base)
    document: dict[str, Any] = {"data": resource, "links": resource["links"]}
    if "lists" in call.query.get("include", "").split(","):
        records = [r for list_id in job.list_ids if (r := state.get_list(list_id))]
        document["included"] = [list_resource(r, call.base) for r in records]
    return Reply(200, sparse(document, call.query))


def get_job_errors(state: KlaviyoState, call: Call) -> Reply:
    """`GET /api/profile-bulk-import-jobs/{id}/import-errors`: rows a done job refused."""
    job = _job_or_404(state, call)
    failures = job.failures if job.status == "complete" else []
    page, links = paginate(call, failures)
    data = [
        {
            "type": "import-error",
            "id": failure.id,
            "attributes": {
                "code": failure.code,
                "title": failure.title,
                "detail": failure.detail,
                "source": {"pointer": failure.pointer},
                "original_payload": failure.original_payload,
            },
        }
        for failure in page
    ]
    return Reply(200, sparse({"data": data, "links": links}, call.query))


def get_job_profiles(state: KlaviyoState, call: Call) -> Reply:
    """`GET /api/profile-bulk-import-jobs/{id}/profiles`: what a done job imported."""
    job = _job_or_404(state, call)
    ids = job.profile_ids if job.status == "complete" else []
    page, links = paginate(call, ids)
    data = [profile_resource(state, pid, call) for pid in page]
    return Reply(200, sparse({"data": data, "links": links}, call.query))
