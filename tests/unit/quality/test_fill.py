"""A column's filled share against the last accepted one and `never_empty`: what fails, and the
finding a person reads."""

from __future__ import annotations

import pytest

from activations.quality.fill import ColumnFill, summary


def column(
    filled: int, accepted: float | None = None, rows: int = 100, never_empty: bool = False
) -> ColumnFill:
    return ColumnFill("customers", "phone", rows, filled, accepted, 0.5, never_empty)


@pytest.mark.parametrize(
    ("fill", "failed"),
    [
        (column(0), False),  # first load, nothing to compare with, not required
        (column(0, accepted=0.0), False),  # always empty by nature: nothing to lose
        (column(10, accepted=0.1), False),  # sparse and steady
        (column(50, accepted=1.0), False),  # exactly half of the share went: allowed
        (column(49, accepted=1.0), True),
        (column(0, accepted=0.04), True),  # a sparse column that empties is a drop too
        (column(0, never_empty=True), True),  # required, on the first load
        (column(1, never_empty=True), False),
        (column(0, rows=0, accepted=1.0, never_empty=True), False),  # rows are judged apart
    ],
)
def test_a_column_fails_when_its_share_halves_or_a_required_one_is_empty(
    fill: ColumnFill, failed: bool
) -> None:
    assert fill.failed is failed


def test_the_finding_names_table_column_and_both_shares() -> None:
    fell = column(20, accepted=0.9)
    assert fell.finding() == (
        "customers.phone filled in 20.0% of rows, down from 90.0% at the last accepted load "
        "(at least 45.0% needed: at most 50% of the share may go)"
    )
    emptied = column(0, never_empty=True)
    assert emptied.finding() == (
        "customers.phone is empty in every row, and never_empty lists it (the identity models "
        "need it)"
    )
    assert summary([fell, emptied, column(5, accepted=0.05)]).startswith(
        "Columns that lost values: customers.phone filled in 20.0%"
    )
    assert summary([column(5, accepted=0.05), column(5)]) == (
        "2 columns filled as expected (1 against the last accepted load)."
    )
