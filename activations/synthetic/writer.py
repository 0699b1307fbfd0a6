"""Writing a generated store as one Parquet file per raw table, as `cohortflow load` reads it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from activations.raw_contract import RAW_TABLES_BY_NAME


def write_store(tables: dict[str, pa.Table], out_dir: Path) -> dict[str, int]:
    """Write <table>.parquet for each contract table into out_dir; return row counts per table.

    Keys that are not contract tables (the identity truth) are skipped on purpose: the truth must
    never reach the warehouse the identity models are evaluated on.

    Args:
        tables: what `generate_store` returned.
        out_dir: folder to write into; created if missing.

    Returns:
        Rows written per table name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, table in tables.items():
        if name not in RAW_TABLES_BY_NAME:
            continue
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        counts[name] = table.num_rows
    return counts
