"""The only reader of activations/sql/: every SQL statement cohortflow runs outside dbt.

A statement is `sql/<name>.sql`, or `sql/<name>.<dialect>.sql` where one warehouse needs its own
syntax. Schema names are substituted as `{raw_schema}`-style placeholders after validation and
dialect quoting; values are always bound parameters (`:name`). A statement may include another as
a subquery, `{{select_plan_removes}}`, so a rule written once (who the plan removes, one member per
key) is never copied between files.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection

from activations.warehouse import quote_identifier

_INCLUDE = re.compile(r"\{\{(\w+)\}\}")


@cache
def _read(filename: str) -> str | None:
    resource = resources.files("activations") / "sql" / filename
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def sql_text(name: str, dialect: str) -> str:
    """The raw text of statement `name` for `dialect` (falls back to the portable version), each
    `{{other}}` replaced by statement `other` in parentheses."""
    found = _read(f"{name}.{dialect}.sql") or _read(f"{name}.sql")
    if found is None:
        raise LookupError(f"no SQL statement named {name!r} in activations/sql")
    return _INCLUDE.sub(lambda include: f"(\n{sql_text(include[1], dialect)}\n)", found)


def rendered(connection: Connection, name: str, **identifiers: str) -> str:
    """The SQL of statement `name` for this connection, identifiers validated and quoted in."""
    quoted = {key: quote_identifier(connection, value) for key, value in identifiers.items()}
    return sql_text(name, connection.dialect.name).format(**quoted)


def statement(connection: Connection, name: str, **identifiers: str) -> TextClause:
    """Statement `name` for this connection's dialect with schema/table identifiers quoted in."""
    return text(rendered(connection, name, **identifiers))


def count_of(connection: Connection, name: str, **identifiers: str) -> TextClause:
    """`select count(*)` over the rows query `name` returns."""
    return text(f"select count(*) as n from ({rendered(connection, name, **identifiers)}) as q")


def first_rows(connection: Connection, name: str, order_by: str, **identifiers: str) -> TextClause:
    """The first `:limit` rows of query `name` in `order_by` order (a column it returns)."""
    sql = rendered(connection, name, **identifiers)
    return text(f"select * from ({sql}) as q order by {order_by} limit :limit")
