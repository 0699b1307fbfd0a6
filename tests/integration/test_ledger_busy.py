"""An acknowledgement waits for a DuckDB file another process is writing to, instead of being lost
(a lost acknowledgement means the vendor's confirmed work is sent again by the next sync)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from activations.migrations import migrate
from activations.reports import SegmentReport, SyncReport
from activations.rows import RowAck
from activations.runner import _LedgerSink
from activations.settings import Settings
from activations.warehouse import Warehouse, WarehouseBusy, connect
from tests.support.activation import empty_models, ledger_keys

pytestmark = pytest.mark.integration

HOLD = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_the_file(path: str, seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, path, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    return child


def test_an_acknowledgement_waits_for_another_writer_then_lands(duckdb_url: str) -> None:
    with empty_models(duckdb_url) as warehouse, connect(warehouse) as connection:
        migrate(connection, "cohortflow_state")  # what a sync does before its first write
    report = SyncReport(destination="klaviyo", run_id=None)
    sink = _LedgerSink(Settings(warehouse=warehouse), "klaviyo", report)
    sink.segment = SegmentReport("klaviyo", "vip", "plan-1")
    child = hold_the_file(duckdb_url, 1.5)
    try:
        with pytest.raises(WarehouseBusy), connect(Warehouse.from_location(duckdb_url)):
            pass
        # The file was busy a moment ago; the write waits for it instead of failing.
        sink.rows([RowAck("a@example.com", "p1", "add", "h1", ok=True)])
    finally:
        child.wait(timeout=30)
    assert ledger_keys(warehouse, "klaviyo", "vip") == {"a@example.com"}
    assert sink.segment.added == 1
