"""Versioned migrations of the state schema (`cohortflow_state`), applied by cohortflow itself.

Each migration is `sql/migrations/NNNN_<name>.sql`, applied once, in order, inside the caller's
transaction, and recorded in `schema_migrations`. Nobody creates state tables by hand, and a
warehouse at any older version is brought forward by the next run.

`migrate` is called once by each entry point that writes state (change detection, the phone
lookup, the checks, an approval, a sync, an undo), never by the ledger's writes or by readers:
readers ask `activations.readiness.require_state` and are told which command brings the state
forward, so a `plan` never changes the warehouse it plans for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from sqlalchemy.engine import Connection

from activations.queries import statement
from activations.warehouse import quote_identifier

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with cohortflow, in version order."""
    folder = resources.files("activations") / "sql" / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
            )
    return sorted(found, key=lambda migration: migration.version)


def migrate(connection: Connection, state_schema: str) -> list[int]:
    """Apply every migration the state schema has not had yet; return their versions."""
    connection.execute(statement(connection, "lock_state_migrations"))
    connection.execute(statement(connection, "create_schema", schema=state_schema))
    connection.execute(statement(connection, "create_schema_migrations", state_schema=state_schema))
    applied = _applied(connection, state_schema)
    schema = quote_identifier(connection, state_schema)
    done = []
    for migration in available_migrations():
        if migration.version in applied:
            continue
        for sql in _statements(migration.sql.replace("{state_schema}", schema)):
            connection.exec_driver_sql(sql)
        connection.execute(
            statement(connection, "insert_schema_migration", state_schema=state_schema),
            {
                "version": migration.version,
                "name": migration.name,
                "applied_at": datetime.now(UTC).replace(tzinfo=None),
            },
        )
        done.append(migration.version)
    return done


def pending_migrations(connection: Connection, state_schema: str) -> list[Migration]:
    """The migrations an existing `schema_migrations` table has not recorded; reads only."""
    applied = _applied(connection, state_schema)
    return [migration for migration in available_migrations() if migration.version not in applied]


def _applied(connection: Connection, state_schema: str) -> set[int]:
    query = statement(connection, "select_schema_migrations", state_schema=state_schema)
    return {int(row.version) for row in connection.execute(query)}


def _statements(script: str) -> list[str]:
    """Split a migration into statements (migrations hold no semicolons inside literals)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
