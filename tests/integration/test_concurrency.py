"""Two runs at once against one warehouse never interleave their diffs: on PostgreSQL the second
waits for the first to commit; on DuckDB a second process is refused with a clear message."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from activations.changes import detect_changes
from activations.errors import WarehouseError
from activations.warehouse import Warehouse, connect
from tests.support.membership import fresh_state, publish

pytestmark = pytest.mark.integration
T0 = datetime(2026, 6, 30, 12)


@pytest.mark.postgres
def test_a_second_diff_waits_for_the_first_and_records_nothing_twice(postgres_url: str) -> None:
    with fresh_state(postgres_url) as warehouse:
        with connect(warehouse) as connection:
            publish(connection, {("vip", f"p{n}"): (None, "h1") for n in range(5)})
        first_done = threading.Event()
        results: dict[str, int] = {}

        def first() -> None:
            with connect(warehouse) as connection:
                run = detect_changes(
                    connection, state_schema="cohortflow_state", models_schema="analytics", as_of=T0
                )
                results["first"] = run.total("entered")
                first_done.set()
                time.sleep(1.5)  # hold the transaction open while the second run starts

        thread = threading.Thread(target=first)
        thread.start()
        first_done.wait(timeout=30)
        started = time.monotonic()
        with connect(warehouse) as connection:
            second = detect_changes(
                connection,
                state_schema="cohortflow_state",
                models_schema="analytics",
                as_of=T0 + timedelta(hours=1),
            )
        waited = time.monotonic() - started
        thread.join()

        assert results["first"] == 5
        assert second.segments == {}, "the second run diffed against a stale snapshot"
        assert waited > 0.5, "the second run did not wait for the first to commit"
        with connect(warehouse) as connection:
            entered = connection.execute(
                sa.text("select count(*) from cohortflow_state.membership_change_log")
            ).scalar_one()
        assert entered == 5


def test_a_second_process_on_a_duckdb_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseError) as caught, connect(Warehouse.from_location(str(path))):
            pass
        message = str(caught.value)
        assert "in use by another process" in message and "one writer" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()
