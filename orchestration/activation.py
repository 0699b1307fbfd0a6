"""Activation assets: one per destination, downstream of membership_changes.

Each runs `activations.runner.run_sync` for its destination and reports what the destination
acknowledged as materialization metadata. The mass-removal gate on membership_changes is a
blocking check, so none of these runs on a plan that would empty a list; the data-quality checks
gate them the same way and are evaluated again inside, so a segment they hold is never sent. A
sync whose rows failed permanently still records everything that landed, then fails the run
visibly.

A destination without credentials in the run's environment is skipped, not failed: a newcomer
materialising everything has not configured Klaviyo yet. The asset then yields no
materialization (nothing was synced, so nothing may look fresh), logs a warning and records an
observation with `status: not configured` and the reason, which the asset's page shows.
"""

# No `from __future__ import annotations`: Dagster inspects the annotations at definition time.

import os
from collections.abc import Iterator
from datetime import UTC

import dagster as dg
from dagster import AssetExecutionContext

from activations.destinations.registry import NAMES, unavailable_reason
from activations.quality.gate import run_checks
from activations.reports import SyncReport
from activations.runner import run_sync
from activations.segment_config import load_segment_configs, routed_blocks
from orchestration.changes import MEMBERSHIP_CHANGES_KEY
from orchestration.dbt import dbt_project
from orchestration.raw import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

ACTIVATION_GROUP = "activation"
NOT_CONFIGURED = "not configured"
# When the earliest deferred text may go, on activation/sms: the sensor `deferred_texts` reads it.
NEXT_DEFERRED = "outbox/next_deferred_at"


def sync_metadata(report: SyncReport) -> dict[str, dg.MetadataValue]:
    """Totals, API traffic, a per-segment table and `<segment>/<count>` series."""
    lines = [
        "| segment | status | added | removed | updated | events | failed | API calls | waited (s) "
        "| top reason |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    metadata: dict[str, dg.MetadataValue] = {}
    for s in report.segments:
        reason = s.reasons.most_common(1)
        lines.append(
            f"| {s.segment} | {s.status} | {s.added} | {s.removed} | {s.updated} | {s.events} "
            f"| {s.failed + s.failed_events} | {s.api_calls} | {s.rate_limit_wait_seconds:.1f} "
            f"| {reason[0][0] if reason else ''} |"
        )
        for count in ("added", "removed", "updated", "events", "failed"):
            metadata[f"{s.segment}/{count}"] = dg.MetadataValue.int(getattr(s, count))
    totals = {
        count: sum(getattr(s, count) for s in report.segments)
        for count in ("added", "removed", "updated", "events", "failed", "permanent_failures")
    }
    return {
        "run_id": dg.MetadataValue.text(report.run_id or "none"),
        **{count: dg.MetadataValue.int(value) for count, value in totals.items()},
        "consents_granted": dg.MetadataValue.int(report.consents_granted),
        "consents_revoked": dg.MetadataValue.int(report.consents_revoked),
        "api_calls": dg.MetadataValue.int(report.api_calls),
        "retries": dg.MetadataValue.int(report.retries),
        "rate_limited": dg.MetadataValue.int(report.rate_limited),
        "rate_limit_wait_seconds": dg.MetadataValue.float(round(report.rate_limit_wait_seconds, 3)),
        "duration_seconds": dg.MetadataValue.float(round(report.duration_seconds, 3)),
        "segments": dg.MetadataValue.md("\n".join(lines)),
        **metadata,
        **{f"outbox/{state}": dg.MetadataValue.int(n) for state, n in report.outbox.items()},
        **(
            {}
            if report.next_deferred_at is None
            else {
                NEXT_DEFERRED: dg.MetadataValue.timestamp(
                    report.next_deferred_at.replace(tzinfo=UTC)
                )
            }
        ),
    }


def activation_asset(destination: str) -> dg.AssetsDefinition:
    """The asset that syncs every segment routed to `destination`."""

    @dg.asset(
        key=dg.AssetKey(["activation", destination]),
        deps=[MEMBERSHIP_CHANGES_KEY],
        group_name=ACTIVATION_GROUP,
        kinds={destination},
        pool=WAREHOUSE_POOL,
        output_required=False,
        description=(
            f"Sync every segment routed to {destination} (adds, removes, trait updates, "
            f"enter/exit events, consent) as of the last recorded run: "
            f"docs/destinations/{destination}.md. Skipped with status '{NOT_CONFIGURED}' while "
            "its credentials are not in the run's environment."
        ),
    )
    def sync_destination(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult[None]]:
        project = dbt_project()
        configs = load_segment_configs(project.manifest_path)
        reason = unavailable_reason(destination, os.environ, routed_blocks(configs, destination))
        if reason is not None:
            context.log.warning(
                f"{destination} {NOT_CONFIGURED}, skipped: {reason} in the run's environment "
                f"(docs/destinations/{destination}.md)."
            )
            context.log_event(not_configured(context.asset_key, reason))
            return
        settings = warehouse.settings()
        # The blocking checks on membership_changes gate this asset inside a job; evaluated again
        # here, a materialization on its own (a click in the UI) cannot bypass the payload and
        # state checks either. (Raw-source checks run only in jobs that select them.)
        checks = run_checks(
            settings,
            configs=configs,
            parts=("payload", "state"),
            manifest_path=project.manifest_path,
        )
        report = run_sync(
            settings, destination=destination, configs=configs, environ=os.environ, checks=checks
        )
        metadata = sync_metadata(report)
        for segment in report.blocked:
            context.log.warning(f"blocked: {segment.message}")
        if report.permanent_failures or report.failed:
            raise dg.Failure(
                description=(
                    f"{destination}: {report.permanent_failures} rows failed permanently (reasons "
                    "in the metadata and cohortflow_state.sync_row_errors)"
                    + "".join(f"; {segment.message}" for segment in report.failed)
                    + ". Everything the destination confirmed was recorded."
                ),
                metadata=metadata,
                allow_retries=False,
            )
        yield dg.MaterializeResult(metadata=metadata)

    return sync_destination


def not_configured(key: dg.AssetKey, reason: str) -> dg.AssetObservation:
    """The observation a skipped destination leaves on its asset: what is missing, and where."""
    return dg.AssetObservation(
        asset_key=key,
        metadata={
            "status": dg.MetadataValue.text(NOT_CONFIGURED),
            "reason": dg.MetadataValue.text(f"{reason} in the run's environment"),
            "setup": dg.MetadataValue.text(f"docs/destinations/{key.path[-1]}.md"),
        },
    )


activation_assets = [activation_asset(destination) for destination in NAMES]


def defs() -> dg.Definitions:
    """One activation asset per destination."""
    return dg.Definitions(assets=activation_assets)
