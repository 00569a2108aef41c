"""The audit schema's numbered migrations: a new warehouse, one built by the code before migrations, and readers
that change nothing."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from tradewatch import audit, pipeline
from tradewatch.errors import TradewatchError
from tradewatch.warehouse import open_warehouse

#: The audit DDL as the code before versioned migrations ran it on every connection (tradewatch/warehouse.py's
#: AUDIT_DDL, the builds and alerts tables; the others are the same as migration 1's).
BEFORE_MIGRATIONS = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS audit",
    *audit.MIGRATIONS[0].statements,
]


def test_a_new_warehouse_gets_every_migration_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert audit.schema_version(con) == 0
    assert audit.migrate(con) == [m.version for m in audit.MIGRATIONS]
    assert audit.schema_version(con) == audit.LATEST
    assert audit.migrate(con) == []  # applied once
    assert con.execute("SELECT count(*) FROM audit.schema_version").fetchall()[0][0] == len(audit.MIGRATIONS)
    kinds = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'audit' "
                             "AND table_name = 'builds'").fetchall())
    assert kinds["periods"] == "DATE[]"


def test_a_warehouse_built_before_migrations_migrates_and_keeps_its_rows(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for statement in BEFORE_MIGRATIONS:
        con.execute(statement)
    con.execute("INSERT INTO audit.releases (release_id, source, dataset, period, status, loaded_at) VALUES "
                "('r1', 'census', 'census_imports_hs', DATE '2025-05-01', 'published', now())")
    con.execute("INSERT INTO audit.builds (started_at, finished_at, mode, periods, project_fingerprint) VALUES "
                "(TIMESTAMP '2025-07-10 06:00:00', TIMESTAMP '2025-07-10 06:05:00', 'incremental', "
                "['2025-04', '2025-05'], 'abc'), (TIMESTAMP '2025-06-10 06:00:00', NULL, 'full', [], 'abc')")
    assert audit.schema_version(con) == 0
    assert audit.migrate(con) == [m.version for m in audit.MIGRATIONS]
    assert con.execute("SELECT periods FROM audit.builds ORDER BY started_at").fetchall() == [
        ([],), ([date(2025, 4, 1), date(2025, 5, 1)],)]
    assert audit.release_status(con, "r1") == "published"
    assert audit.last_build(con) == (datetime(2025, 7, 10, 6), datetime(2025, 7, 10, 6, 5), "abc")


def test_a_warehouse_newer_than_the_code_is_refused_unchanged(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    audit.migrate(con)
    con.execute("INSERT INTO audit.schema_version VALUES (?, 'from the future', now())", [audit.LATEST + 1])
    with pytest.raises(TradewatchError, match="newer than this tradewatch"):
        audit.migrate(con)


def test_a_failed_migration_leaves_the_version_where_it_was(tmp_path, monkeypatch):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    broken = (*audit.MIGRATIONS, audit.Migration(audit.LATEST + 1, "broken", ("ALTER TABLE audit.nope ADD x INT",)))
    monkeypatch.setattr(audit, "MIGRATIONS", broken)
    monkeypatch.setattr(audit, "LATEST", audit.LATEST + 1)
    with pytest.raises(duckdb.Error):
        audit.migrate(con)
    assert audit.schema_version(con) == broken[-2].version


def test_planning_reads_without_writing(settings):
    pipeline.plan(settings, "2025-08-10T06:00:00+00:00")
    assert not settings.duckdb_path.exists()  # planning on nothing creates nothing
    assert pipeline.migrate(settings)["schema_version"] == audit.LATEST
    before = settings.duckdb_path.stat().st_mtime_ns
    pipeline.plan(settings, "2025-08-10T06:00:00+00:00")
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        assert audit.schema_version(con) == audit.LATEST
    assert settings.duckdb_path.stat().st_mtime_ns == before
