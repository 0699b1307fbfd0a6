"""Whether a warehouse is far enough along for a command: the one place that says what to run.

The commands that read what a run built (`plan`, `approve`, `changes`, `checks`, `sync`) would
otherwise fail deep inside a query with the driver's "table does not exist" and a traceback.
They ask here first and get one line naming the command that builds what is missing. Tables are
looked up in information_schema, which DuckDB and PostgreSQL both answer the same way.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from activations.errors import CohortflowError
from activations.migrations import pending_migrations
from activations.queries import statement
from activations.transform import MODELS_SCHEMA
from activations.warehouse import Warehouse, connect

# What `cohortflow run` builds and every reader of segments needs: the members and the consent
# the plan and the payload checks join them to.
MODEL_TABLES = ("segment_membership", "contact_consent")


class ModelsMissing(CohortflowError):
    """The warehouse exists but the segment models have not been built in it yet."""


class StateNotCurrent(CohortflowError):
    """The state schema is missing (no run recorded) or older than this cohortflow."""


def present_tables(connection: Connection, schema: str) -> set[str]:
    """The names of the tables and views in `schema` (empty when the schema does not exist)."""
    query = statement(connection, "select_raw_tables")
    return {str(name) for (name,) in connection.execute(query, {"schema": schema})}


def require_models(connection: Connection) -> None:
    """Raise unless the segment models are built.

    Raises:
        ModelsMissing: a model table is missing, naming it and `cohortflow run`.
    """
    present = present_tables(connection, MODELS_SCHEMA)
    missing = [f"{MODELS_SCHEMA}.{name}" for name in MODEL_TABLES if name not in present]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ModelsMissing(
            f"the warehouse has no segment models yet ({', '.join(missing)} {verb} missing): "
            "run `cohortflow run` first, which builds them."
        )


def require_state(connection: Connection, state_schema: str) -> None:
    """Raise unless the state schema exists at this cohortflow's version; changes nothing.

    Readers come here instead of migrating: the commands that record state bring it forward.

    Raises:
        StateNotCurrent: no run was recorded yet, or migrations are pending, naming the command.
    """
    if "schema_migrations" not in present_tables(connection, state_schema):
        raise StateNotCurrent(
            f"the warehouse has no recorded run yet ({state_schema} is missing): run "
            "`cohortflow run` first, which records one."
        )
    pending = pending_migrations(connection, state_schema)
    if pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        raise StateNotCurrent(
            f"{state_schema} was written by an older cohortflow (not applied yet: {names}): "
            "the next `cohortflow run` or `cohortflow sync` applies them, then try again."
        )


def require_built(warehouse: Warehouse, state_schema: str | None = None) -> None:
    """Raise unless `warehouse` exists and its segment models are built and, given
    `state_schema`, its state is current; creates nothing.

    Raises:
        WarehouseError: the warehouse does not exist or cannot be reached.
        ModelsMissing: the models are not built yet.
        StateNotCurrent: see `require_state`.
    """
    with connect(warehouse) as connection:
        require_models(connection)
        if state_schema is not None:
            require_state(connection, state_schema)
