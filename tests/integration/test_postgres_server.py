"""The throwaway PostgreSQL helper itself: usable URL, full cleanup, servers side by side.

Why: every PostgreSQL test (and the benchmarks) stands on this helper, so a leaked server or
temp dir, or a URL SQLAlchemy cannot use, would surface as confusing failures elsewhere.
Each test starts its own server(s) (about a second each) because cleanup is what is tested.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.postgres_server import find_pg_bin, throwaway_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


@pytest.fixture(autouse=True)
def _require_pg_binaries() -> None:
    """Skip (visibly, with -ra) rather than fail where PostgreSQL is not installed at all."""
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (initdb/pg_ctl not found)")


def _port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _roundtrip(url: str, table: str, value: str) -> tuple[Path, list[str]]:
    """Create a table, insert and read back; return (data directory, values in the table)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE {table} (id serial PRIMARY KEY, name text)"))
            conn.execute(sa.text(f"INSERT INTO {table} (name) VALUES (:v)"), {"v": value})
        with engine.connect() as conn:
            data_dir = conn.execute(sa.text("SHOW data_directory")).scalar_one()
            values = list(conn.execute(sa.text(f"SELECT name FROM {table} ORDER BY id")).scalars())
    finally:
        engine.dispose()
    return Path(data_dir), values


def test_find_pg_bin_points_at_the_server_tools() -> None:
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    for exe in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bin_dir / exe, os.X_OK), exe


def test_url_supports_sqlalchemy_create_write_read() -> None:
    with throwaway_postgres() as url:
        parsed = sa.make_url(url)
        assert (parsed.host, parsed.username, parsed.database) == (
            "127.0.0.1",
            "postgres",
            "cohortflow",
        )
        _, values = _roundtrip(url, "people", "ada")
        assert values == ["ada"]


def test_server_and_directory_are_gone_after_exit() -> None:
    with throwaway_postgres() as url:
        port = sa.make_url(url).port
        assert port is not None and _port_is_open(port)
        data_dir, _ = _roundtrip(url, "t", "x")
        assert data_dir.is_dir()
    assert not _port_is_open(port)
    assert not data_dir.exists()
    assert not data_dir.parent.exists()  # the whole temp dir (socket, log), not just the cluster


def test_cleanup_happens_even_when_the_body_raises() -> None:
    class Boom(Exception):
        pass

    seen: dict[str, object] = {}
    with pytest.raises(Boom), throwaway_postgres() as url:
        seen["port"] = sa.make_url(url).port
        seen["data_dir"], _ = _roundtrip(url, "t", "x")
        raise Boom
    port, data_dir = seen["port"], seen["data_dir"]
    assert isinstance(port, int) and isinstance(data_dir, Path)
    assert not _port_is_open(port)
    assert not data_dir.parent.exists()


def test_two_servers_run_at_once_on_different_ports() -> None:
    with throwaway_postgres("first") as url_a, throwaway_postgres("second") as url_b:
        port_a, port_b = sa.make_url(url_a).port, sa.make_url(url_b).port
        assert port_a != port_b
        # Same table name in both: each server has its own cluster, so no clash, no cross-talk.
        dir_a, values_a = _roundtrip(url_a, "shared_name", "from a")
        dir_b, values_b = _roundtrip(url_b, "shared_name", "from b")
        assert (values_a, values_b) == (["from a"], ["from b"])
        assert dir_a != dir_b
        assert sa.make_url(url_b).database == "second"
    assert not _port_is_open(port_a) and not _port_is_open(port_b)
    assert not dir_a.parent.exists() and not dir_b.parent.exists()
