"""Raw sources as external assets, and `phone_e164`, the lookup staging needs before dbt runs.

Keys follow the dbt source names (`raw.<table>`, `cohortflow_state.phone_e164`), not the warehouse
schemas, which are configurable: `CohortflowTranslator` maps each dbt source to the same key, so
the staging models hang off these assets in the graph.
"""

# No `from __future__ import annotations` here: Dagster checks the `context` annotation of an
# asset against the class itself and rejects the string PEP 563 leaves (dagster-io/dagster#26837).

import dagster as dg
from dagster import AssetExecutionContext

from activations.phones import refresh_phone_lookup
from activations.pipeline import check_raw_tables
from activations.raw_contract import RAW_TABLES, RawTable
from activations.warehouse import connect
from orchestration.resources import WarehouseResource

RAW_SOURCE = "raw"
STATE_SOURCE = "cohortflow_state"
PHONE_E164_KEY = dg.AssetKey([STATE_SOURCE, "phone_e164"])
# DuckDB lets one process open its file while another writes it, reads included: every step that
# opens the warehouse claims a slot of this pool, and the shipped dagster.yaml limits each pool
# to one step at a time. PostgreSQL admits many sessions, so an instance may raise this pool's
# limit there (docs/scheduling.md).
WAREHOUSE_POOL = "cohortflow_warehouse"


def raw_asset_key(table: str) -> dg.AssetKey:
    """The key of raw table `table`, as the dbt source `raw.<table>` is keyed."""
    return dg.AssetKey([RAW_SOURCE, table])


def _raw_spec(table: RawTable) -> dg.AssetSpec:
    columns = [dg.TableColumn(column.name, column.type) for column in table.columns]
    return dg.AssetSpec(
        key=raw_asset_key(table.name),
        description=(
            f"Raw {table.name} (DESIGN §3), loaded outside Dagster by `cohortflow load` or a "
            "loader such as Fivetran."
        ),
        group_name=RAW_SOURCE,
        kinds={"warehouse"},
        metadata={"dagster/column_schema": dg.TableSchema(columns=columns)},
    )


RAW_SPECS: tuple[dg.AssetSpec, ...] = tuple(_raw_spec(table) for table in RAW_TABLES)


@dg.asset(
    key=PHONE_E164_KEY,
    deps=[spec.key for spec in RAW_SPECS],
    group_name="state",
    kinds={"python"},
    pool=WAREHOUSE_POOL,
    description=(
        "Every raw phone normalised to E.164 with `phonenumbers`. SQL cannot parse phones "
        "portably, so this fills the dbt source cohortflow_state.phone_e164 before staging runs."
    ),
)
def phone_e164(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """Fail early, naming missing raw tables, then parse only phones the lookup has not seen.

    Checking the raw contract here (not in dbt) gives one readable error instead of a dbt
    compilation failure per staging model. The connection closes before dbt starts, because
    DuckDB allows a single writer.
    """
    settings = warehouse.settings()
    context.log.info(f"refreshing phones in {settings.warehouse.describe()}")
    with connect(settings.warehouse) as connection:
        check_raw_tables(connection, settings.raw_schema)
        refresh = refresh_phone_lookup(
            connection,
            raw_schema=settings.raw_schema,
            state_schema=settings.state_schema,
            default_region=settings.default_phone_region,
        )
    return dg.MaterializeResult(
        metadata={
            "phones_added": dg.MetadataValue.int(refresh.added),
            "phones_invalid": dg.MetadataValue.int(refresh.invalid),
            "raw_schema": dg.MetadataValue.text(settings.raw_schema),
            "state_schema": dg.MetadataValue.text(settings.state_schema),
            "default_phone_region": dg.MetadataValue.text(settings.default_phone_region),
        }
    )


def defs() -> dg.Definitions:
    """Raw table specs and the phone lookup asset."""
    return dg.Definitions(assets=[*RAW_SPECS, phone_e164])
