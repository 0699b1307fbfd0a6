"""Validate a warehouse table with a Great Expectations suite, computed inside the warehouse.

GX's SQL datasource turns each expectation into aggregate queries, so a 10M-row table is never
pulled into Python. On PostgreSQL it works as shipped. On DuckDB it needs the `duckdb+buffered`
dialect (see `duckdb_buffered`) and the same DuckDB settings as cohortflow's own connections
(DuckDB refuses a second in-process connection to a file with different settings). GX's two
engines keep their pools while validating (reopening the file for each of GX's many small
queries cost more than the queries) and are disposed afterwards, so nothing holds the file.

Column expectations make GX read a query asset's columns by running the whole query: on DuckDB
the buffered dialect then reads every row into Python. cohortflow's own checks therefore use
table-level expectations and `UnexpectedRowsExpectation`s over query assets; a segment's
declared column expectations pay that read once per segment model.

Whatever the warehouse, a metric GX could not compute is raised as `MetricsUnavailable`, never
reported as failed data: GX's own habit of turning errors into `success=False` with an empty
result is exactly how the DuckDB bug hid.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from typing import Any, Literal

from activations.errors import CohortflowError
from activations.quality import duckdb_buffered
from activations.warehouse import Warehouse, check_identifier, duckdb_config

ResultFormat = Literal["BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE"]


def preload_great_expectations() -> threading.Thread:
    """Import Great Expectations in a background thread and return it.

    The import takes ~3 s whatever the data; a run that will check its data starts it before
    the dbt build, which mostly waits on the warehouse, so the checks after the build do not
    pay for it. Importing the same module from two threads is safe: the second waits."""
    thread = threading.Thread(
        target=importlib.import_module,
        args=("great_expectations",),
        name="preload-great-expectations",
        daemon=True,
    )
    thread.start()
    return thread


class MetricsUnavailable(CohortflowError):
    """Great Expectations could not compute a metric; its verdict says nothing about the data."""


def datasource_arguments(warehouse: Warehouse) -> tuple[str, dict[str, Any]]:
    """GX `add_sql` connection string and engine kwargs for this warehouse.

    PostgreSQL keeps GX's default pool: GX reads rows after closing its connection, which
    psycopg2 survives only while the pool keeps that connection open.
    """
    url = warehouse.url
    kwargs: dict[str, Any] = {}
    if warehouse.kind == "duckdb":
        duckdb_buffered.register()
        url = url.set(drivername=duckdb_buffered.DRIVER_NAME)
        kwargs = {"connect_args": {"config": duckdb_config()}}
    return url.render_as_string(hide_password=False), kwargs


def validate_table(
    warehouse: Warehouse,
    *,
    schema: str,
    table: str,
    expectations: Sequence[Any],
    suite_name: str,
    result_format: ResultFormat = "SUMMARY",
) -> Any:
    """Run `expectations` (GX expectation objects) on `schema.table`; return GX's result.

    Raises:
        MetricsUnavailable: GX could not compute a metric (the result would be meaningless).
    """
    # A query, not a table asset: GX drops `schema_name` from some metric queries on DuckDB
    # (`select * from people` instead of `quality.people`). Identifiers are checked.
    relation = f"{check_identifier(schema)}.{check_identifier(table)}"
    query = f"select * from {relation}"
    return validate_queries(warehouse, [(suite_name, query, expectations)], result_format)[0]


def validate_queries(
    warehouse: Warehouse,
    suites: Sequence[tuple[str, str, Sequence[Any]]],
    result_format: ResultFormat = "SUMMARY",
) -> list[Any]:
    """Validate each (name, SQL query, expectations) in one GX context; GX's results in order.

    Every metric is computed by the warehouse: GX sends aggregate queries over each query.

    Raises:
        MetricsUnavailable: GX could not compute a metric (the result would be meaningless).
    """
    import great_expectations as gx  # heavy: only when validating
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX sets this logger to INFO itself and announces every ephemeral context's temporary folder.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    connection_string, kwargs = datasource_arguments(warehouse)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(
        name="warehouse",
        connection_string=connection_string,
        kwargs=kwargs,  # type: ignore[call-arg]  # accepted at runtime (create_engine kwargs)
    )
    results = []
    try:
        for name, query, expectations in suites:
            asset = source.add_query_asset(name=name, query=query)
            batch = asset.add_batch_definition_whole_table("whole table")
            suite = context.suites.add(
                gx.ExpectationSuite(name=name, expectations=[*expectations, _canary()])
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            result = definition.run(result_format=result_format)
            raise_on_metric_errors(result, name)
            results.append(_in_suite_order(result, suite, name))
    finally:
        source.get_execution_engine().engine.dispose()
        source.get_engine().dispose()
    return results


def _canary() -> Any:
    """An expectation whose query returns exactly one row. If GX reads zero, results are being
    lost on the way back (the DuckDB bug's signature: empty answers read as "no problem"), so
    nothing the validation says can be trusted."""
    import great_expectations as gx

    # An aggregate without GROUP BY is exactly one row, empty batch or not; `limit 1` keeps it
    # from reading the batch. GX wants `{batch}` in every such query.
    query = "select count(*) as canary from (select 1 as one from {batch} limit 1) as probe"
    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=query, description="cohortflow canary"
    )


def _in_suite_order(result: Any, suite: Any, name: str) -> Any:
    """GX's result with one outcome per expectation in the suite's order, the canary checked
    and removed."""
    by_id = {outcome.expectation_config.id: outcome for outcome in result.results}
    ordered = [by_id[expectation.id] for expectation in suite.expectations]
    canary = ordered.pop()
    if canary.result.get("observed_value") != 1:
        raise MetricsUnavailable(
            f"suite {name}: Great Expectations read {canary.result.get('observed_value')!r} "
            "rows from a query that returns exactly one; results are being lost between the "
            "warehouse and GX, so no verdict is given. See docs/architecture.md (Great "
            "Expectations on DuckDB)."
        )
    result.results = ordered
    return result


def raise_on_metric_errors(result: Any, suite_name: str) -> None:
    """Raise when any expectation's metrics raised inside GX instead of being computed."""
    broken = []
    for outcome in result.results:
        info = outcome.exception_info or {}
        nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        if info.get("raised_exception") or nested:
            config = outcome.expectation_config
            column = config.kwargs.get("column")
            broken.append(f"{config.type}({column})" if column else config.type)
    if broken:
        raise MetricsUnavailable(
            f"suite {suite_name}: Great Expectations could not compute {', '.join(broken)}; its "
            "verdict would be meaningless. Run with COHORTFLOW_DEBUG=1 and see "
            "docs/architecture.md (Great Expectations on DuckDB)."
        )
