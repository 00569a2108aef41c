"""The audit schema's numbered migrations: a new warehouse, one built by the code before migrations, and readers
that change nothing."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from tradewatch import audit, pipeline
from tradewatch.errors import TradewatchError
from tradewatch.warehouse import open_warehouse

#: The DDL the code before versioned migrations ran on every connection (tradewatch/warehouse.py's AUDIT_DDL, a
#: frozen copy): the layout of every warehouse built until then.
BEFORE_MIGRATIONS = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS audit.releases (
        release_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, dataset VARCHAR NOT NULL, period DATE NOT NULL,
        vintage INTEGER, status VARCHAR NOT NULL, row_count BIGINT, headline_total DECIMAL(38,3),
        synthetic BOOLEAN NOT NULL DEFAULT false, fetched_at TIMESTAMP, loaded_at TIMESTAMP NOT NULL,
        decided_at TIMESTAMP, detail VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.landings (
        release_id VARCHAR NOT NULL, part VARCHAR NOT NULL, url VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
        path VARCHAR NOT NULL, http_status INTEGER, bytes BIGINT, fetched_at TIMESTAMP,
        PRIMARY KEY (release_id, part))""",
    # one row per release validated: its own verdict and what failed in it (tradewatch.quality)
    """CREATE TABLE IF NOT EXISTS audit.validations (
        release_id VARCHAR NOT NULL, suite VARCHAR NOT NULL, success BOOLEAN NOT NULL,
        evaluated INTEGER, failed INTEGER, failed_expectations VARCHAR, results JSON, duration_s DOUBLE,
        result_path VARCHAR, validated_at TIMESTAMP NOT NULL, chunk_id VARCHAR)""",
    # added with the chunked gate: earlier validations (one GX run per release) have no chunk
    "ALTER TABLE audit.validations ADD COLUMN IF NOT EXISTS chunk_id VARCHAR",
    # one row per GX run over a chunk of releases (a row-level and a release-level suite): its result, its page
    """CREATE TABLE IF NOT EXISTS audit.validation_chunks (
        chunk_id VARCHAR NOT NULL, dataset VARCHAR NOT NULL, suite VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        success BOOLEAN NOT NULL, evaluated INTEGER, failed INTEGER, releases INTEGER, row_count BIGINT,
        results JSON, duration_s DOUBLE, run_time VARCHAR NOT NULL, validated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (chunk_id, suite))""",
    """CREATE TABLE IF NOT EXISTS audit.release_decisions (
        release_id VARCHAR NOT NULL, action VARCHAR NOT NULL, reason VARCHAR, decided_by VARCHAR,
        decided_at TIMESTAMP NOT NULL)""",
    # one row per dbt build (finished_at is null until it succeeds): the incremental refresh rebuilds the periods
    # published since the last successful build, and everything after one that did not finish
    """CREATE TABLE IF NOT EXISTS audit.builds (
        started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, mode VARCHAR NOT NULL,
        periods VARCHAR[], project_fingerprint VARCHAR NOT NULL, reason VARCHAR)""",
    # an incremental build also rebuilds only the models downstream of what changed (tradewatch.transform): the
    # datasets with new releases, the models it selected, and the fingerprints of the models that gate a chain
    "ALTER TABLE audit.builds ADD COLUMN IF NOT EXISTS datasets VARCHAR[]",
    "ALTER TABLE audit.builds ADD COLUMN IF NOT EXISTS models VARCHAR[]",
    "ALTER TABLE audit.builds ADD COLUMN IF NOT EXISTS fingerprints VARCHAR",
    # one row per alert and channel: sent once, retried while pending (tradewatch.alerts)
    """CREATE TABLE IF NOT EXISTS audit.alerts (
        alert_key VARCHAR NOT NULL, channel VARCHAR NOT NULL, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL,
        title VARCHAR NOT NULL, message VARCHAR NOT NULL, fields JSON, status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL, created_at TIMESTAMP NOT NULL, position INTEGER NOT NULL,
        last_attempt_at TIMESTAMP, sent_at TIMESTAMP, last_error VARCHAR, PRIMARY KEY (alert_key, channel))""",
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


def test_a_warehouse_from_before_the_chunked_gate_gains_the_later_columns(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA audit")
    con.execute("CREATE TABLE audit.validations (release_id VARCHAR NOT NULL, suite VARCHAR NOT NULL, success "
                "BOOLEAN NOT NULL, evaluated INTEGER, failed INTEGER, failed_expectations VARCHAR, results JSON, "
                "duration_s DOUBLE, result_path VARCHAR, validated_at TIMESTAMP NOT NULL)")
    con.execute("CREATE TABLE audit.builds (started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, mode VARCHAR NOT "
                "NULL, periods VARCHAR[], project_fingerprint VARCHAR NOT NULL, reason VARCHAR)")
    con.execute("INSERT INTO audit.builds VALUES (TIMESTAMP '2025-07-10 06:00:00', TIMESTAMP '2025-07-10 06:05:00', "
                "'incremental', ['2025-05'], 'abc', 'one period')")
    audit.migrate(con)
    columns = {(t, c) for t, c in con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                                              "WHERE schema_name = 'audit'").fetchall()}
    assert {("validations", "chunk_id"), ("builds", "datasets"), ("builds", "models"),
            ("builds", "fingerprints")} <= columns
    assert audit.last_finished_build(con) == (None, {})
    assert con.execute("SELECT periods FROM audit.builds").fetchall() == [([date(2025, 5, 1)],)]


def test_the_cli_migrates_and_says_what_it_applied(tmp_path, monkeypatch, capsys):
    from tradewatch import cli

    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(tmp_path))
    assert cli.main(["migrate"]) == 0
    assert f"version {audit.LATEST}; migrations applied: 1, 2" in capsys.readouterr().out
    assert cli.main(["migrate"]) == 0
    assert "migrations applied: none (it was current)" in capsys.readouterr().out
