"""How filled each raw contract column is, and whether a load lost one (part of `raw_completeness`).

A load can keep every row and lose a column: an export that drops the email field leaves
`raw.customers` full of customers nobody can reach. So each raw table's completeness covers its
columns too: the share of rows with a value (non-null, and non-blank for text), measured by one
aggregate query per table over every column at once (one scan), and judged against

- the share the last accepted load had: it may fall by at most `max_fill_drop` of itself, so a
  column that is always empty by nature (a store without phones) has nothing to lose;
- `never_empty`: the columns the identity models need (keys, customers' email, orders'
  customer and email...) must have a value somewhere whenever the table has rows, on the first
  load too.

The query is plain SQL rather than a Great Expectations `UnexpectedRowsExpectation`: its shares
become the history the next load is judged against, so they are needed when nothing failed,
while GX returns a query's rows only when it fails and runs the query twice (a count, then the
rows). The statement is built from the contract's column list (identifiers checked and quoted)
instead of being copied into one SQL file per table, which would drift from the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection

from activations.quality.config import RawTableChecks
from activations.raw_contract import RawColumn, RawTable
from activations.warehouse import quote_identifier

# The check name of the per-column observations recorded beside each `raw_completeness` result;
# only those recorded with an accepted table verdict become history (select_accepted_fill.sql).
FILL_OBSERVATION = "raw_column_fill"
ROWS_ALIAS = "row_count"
# Keeps a drop of exactly max_fill_drop allowed despite float rounding.
EPSILON = 1e-9


@dataclass(frozen=True)
class ColumnFill:
    """One column of one load: how many rows have a value, against what it must keep."""

    table: str
    column: str
    rows: int
    filled: int
    accepted: float | None
    max_drop: float
    never_empty: bool

    @property
    def subject(self) -> str:
        return f"raw.{self.table}.{self.column}"

    @property
    def share(self) -> float:
        return self.filled / self.rows if self.rows else 0.0

    @property
    def floor(self) -> float:
        """The least share that passes: what the accepted share may fall to."""
        return 0.0 if self.accepted is None else self.accepted * (1 - self.max_drop)

    @property
    def emptied(self) -> bool:
        return self.never_empty and self.rows > 0 and self.filled == 0

    @property
    def dropped(self) -> bool:
        return self.rows > 0 and self.share < self.floor - EPSILON

    @property
    def failed(self) -> bool:
        return self.emptied or self.dropped

    def finding(self) -> str:
        """What is wrong with the column, naming it and its shares before and after."""
        listed = "never_empty lists it (the identity models need it)"
        if not self.dropped:
            return f"{self.table}.{self.column} is empty in every row, and {listed}"
        finding = (
            f"{self.table}.{self.column} filled in {self.share:.1%} of rows, down from "
            f"{self.accepted or 0:.1%} at the last accepted load (at least {self.floor:.1%} "
            "needed: at most "
            f"{self.max_drop:.0%} of the share may go)"
        )
        return f"{finding}, and {listed}" if self.emptied else finding


def fill_statement(connection: Connection, schema: str, table: RawTable) -> TextClause:
    """One aggregate over `schema.table`: its row count and each column's filled count."""
    relation = f"{quote_identifier(connection, schema)}.{quote_identifier(connection, table.name)}"
    measures = [f"count(*) as {ROWS_ALIAS}"] + [
        f"count({_value(connection, column)}) as {quote_identifier(connection, column.name)}"
        for column in table.columns
    ]
    return text(f"select {', '.join(measures)} from {relation}")


def _value(connection: Connection, column: RawColumn) -> str:
    """The column where it counts as filled: blank text is as empty as null."""
    name = quote_identifier(connection, column.name)
    return f"nullif(trim({name}), '')" if column.type == "text" else name


def measure(
    connection: Connection,
    schema: str,
    table: RawTable,
    checks: RawTableChecks,
    accepted: Mapping[str, float],
) -> list[ColumnFill]:
    """Each column of `table` as loaded now, against its accepted share (by subject)."""
    row = connection.execute(fill_statement(connection, schema, table)).one()._mapping
    rows = int(row[ROWS_ALIAS])
    return [
        ColumnFill(
            table=table.name,
            column=column.name,
            rows=rows,
            filled=int(row[column.name]),
            accepted=accepted.get(f"raw.{table.name}.{column.name}"),
            max_drop=checks.max_fill_drop,
            never_empty=column.name in checks.never_empty,
        )
        for column in table.columns
    ]


def summary(columns: Sequence[ColumnFill]) -> str:
    """The columns' part of a completeness finding: every failing column, or that none failed."""
    failing = [column for column in columns if column.failed]
    if failing:
        return f"Columns that lost values: {'; '.join(c.finding() for c in failing)}."
    if not columns or columns[0].rows == 0:
        return ""
    judged = sum(column.accepted is not None for column in columns)
    return f"{len(columns)} columns filled as expected ({judged} against the last accepted load)."
