"""The audit trail: every `audit.*` table, its layout (numbered migrations) and every read and write of it.

No other module writes (or names) an audit table: they call the functions here.

- `audit.releases`: one row per release loaded (or rejected), its vintage and status. A release moves through
  pending (loaded, not yet validated) -> published (visible to staging) | quarantined (failed its suite);
  quarantined -> released (an operator released it with a recorded reason) | published (re-validated after a fix);
  rejected: its bytes could not be parsed, nothing of it is in raw. dbt reads it as a source (staging keeps only
  published and released vintages; marts.release_revisions).
- `audit.landings`: the landed files of each release (tradewatch.landing).
- `audit.validations`, `audit.validation_chunks`: the quality gate's verdicts (tradewatch.quality).
- `audit.release_decisions`: an operator's release or re-validation, with the reason.
- `audit.builds`: one row per dbt build (tradewatch.transform); finished_at is null until it succeeds.
- `audit.alerts`: one row per alert and channel, sent once, retried while pending (tradewatch.alerts).
- `audit.schema_version`: the migrations applied.

The layout is created and changed only by `migrate`: numbered steps, each applied once, in order, in one
transaction, and recorded in `audit.schema_version`. The refresh's first task and the CLI run it; a writer that
opens a warehouse left behind by an older version migrates it first (one query when it is current); readers never
change anything. Migration 1 is the layout the code before migrations created on every connection (every statement
is idempotent), so a warehouse built by that code migrates cleanly. A change to an audit table is a new migration
appended to MIGRATIONS, never an edit of an applied one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from tradewatch.periods import Month
from tradewatch.sql import table_exists

log = logging.getLogger(__name__)

SCHEMA = "audit"
VISIBLE_STATUSES = ("published", "released")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the audit tables as created before versioned migrations (releases, landings, validations, "
                 "validation chunks, release decisions, builds, alerts)", (
        """CREATE TABLE IF NOT EXISTS audit.releases (
            release_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, dataset VARCHAR NOT NULL, period DATE NOT NULL,
            vintage INTEGER, status VARCHAR NOT NULL, row_count BIGINT, headline_total DECIMAL(38,3),
            synthetic BOOLEAN NOT NULL DEFAULT false, fetched_at TIMESTAMP, loaded_at TIMESTAMP NOT NULL,
            decided_at TIMESTAMP, detail VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS audit.landings (
            release_id VARCHAR NOT NULL, part VARCHAR NOT NULL, url VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
            path VARCHAR NOT NULL, http_status INTEGER, bytes BIGINT, fetched_at TIMESTAMP,
            PRIMARY KEY (release_id, part))""",
        # one row per release validated: its own verdict and what failed in it
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
        # the incremental refresh rebuilds the periods published since the last successful build, and everything
        # after one that did not finish; it also rebuilds only the models downstream of what changed: the datasets
        # with new releases, the models it selected, and the fingerprints of the models that gate a chain
        """CREATE TABLE IF NOT EXISTS audit.builds (
            started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, mode VARCHAR NOT NULL,
            periods VARCHAR[], project_fingerprint VARCHAR NOT NULL, reason VARCHAR)""",
        "ALTER TABLE audit.builds ADD COLUMN IF NOT EXISTS datasets VARCHAR[]",
        "ALTER TABLE audit.builds ADD COLUMN IF NOT EXISTS models VARCHAR[]",
        "ALTER TABLE audit.builds ADD COLUMN IF NOT EXISTS fingerprints VARCHAR",
        """CREATE TABLE IF NOT EXISTS audit.alerts (
            alert_key VARCHAR NOT NULL, channel VARCHAR NOT NULL, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL,
            title VARCHAR NOT NULL, message VARCHAR NOT NULL, fields JSON, status VARCHAR NOT NULL,
            attempts INTEGER NOT NULL, created_at TIMESTAMP NOT NULL, position INTEGER NOT NULL,
            last_attempt_at TIMESTAMP, sent_at TIMESTAMP, last_error VARCHAR, PRIMARY KEY (alert_key, channel))""",
    )),
    # Not ALTER ... SET DATA TYPE ... USING list_transform(...): DuckDB's write-ahead log keeps that expression, and
    # replaying it after a crash needs an extension DuckDB cannot install here. An UPDATE is logged as its values.
    Migration(2, "audit.builds.periods as DATE[] (the first day of each month), like every other period", (
        "ALTER TABLE audit.builds ADD COLUMN period_dates DATE[]",
        "UPDATE audit.builds SET period_dates = list_transform(periods, lambda p: CAST(p || '-01' AS DATE))",
        "ALTER TABLE audit.builds DROP COLUMN periods",
        "ALTER TABLE audit.builds RENAME COLUMN period_dates TO periods",
    )),
)
LATEST = MIGRATIONS[-1].version


# --- the layout -----------------------------------------------------------------------------------------------------

def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The last migration applied to this warehouse: 0 for a new one, or one left by code before migrations."""
    if not table_exists(con, "audit", "schema_version"):
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM audit.schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this warehouse has not had, each in one transaction; return their versions."""
    current = schema_version(con)
    if current > LATEST:
        from tradewatch.errors import TradewatchError

        raise TradewatchError(f"the warehouse's audit schema is at version {current}, newer than this tradewatch "
                              f"knows ({LATEST}): upgrade tradewatch; nothing was changed")
    applied = []
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS audit")
            con.execute("CREATE TABLE IF NOT EXISTS audit.schema_version (version INTEGER PRIMARY KEY, "
                        "description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
            for statement in migration.statements:
                con.execute(statement)
            con.execute("INSERT INTO audit.schema_version VALUES (?, ?, CAST(now() AS TIMESTAMP))",
                        [migration.version, migration.description])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        log.info("audit schema migrated to version %d: %s", migration.version, migration.description)
        applied.append(migration.version)
    if applied:  # the new layout in the database file, not only in the write-ahead log
        con.execute("CHECKPOINT")
    return applied


# --- releases and their landed files ----------------------------------------------------------------------------------

def release_status(con: duckdb.DuckDBPyConnection, release_id: str) -> str | None:
    rows = con.execute("SELECT status FROM audit.releases WHERE release_id = ?", [release_id]).fetchall()
    return rows[0][0] if rows else None


def held_periods(con: duckdb.DuckDBPyConnection) -> set[tuple[str, Month]]:
    """(dataset, month) of every release the warehouse holds (any status but rejected); none before the first
    migration."""
    if not schema_version(con):
        return set()
    return {(ds, Month.of(period)) for ds, period in con.execute(
        "SELECT DISTINCT dataset, period FROM audit.releases WHERE status <> 'rejected'").fetchall()}


@dataclass(frozen=True)
class ReleaseRecord:
    """What `record_loaded` needs of a landed release."""
    release_id: str
    source: str
    dataset: str
    period: Month
    synthetic: bool
    fetched_at: str


@dataclass(frozen=True)
class LandingRecord:
    release_id: str
    part: str
    url: str
    sha256: str
    path: str
    http_status: int | None
    bytes: int | None
    fetched_at: str


def record_loaded(con: duckdb.DuckDBPyConnection, batch: Sequence[ReleaseRecord], landings: Sequence[LandingRecord],
                  raw_table: str, headline: str) -> dict[str, tuple[int, int]]:
    """Inside the loading transaction: the pending rows of releases whose raw rows are in `raw_table` (their row
    count and the sum of `headline`), and their landed files. Vintages number a period's releases in the order
    they were fetched. Returns release id -> (vintage, rows)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _loading (release_id VARCHAR, source VARCHAR, dataset VARCHAR, "
                "period DATE, synthetic BOOLEAN, fetched_at TIMESTAMP)")
    con.executemany("INSERT INTO _loading VALUES (?, ?, ?, ?, ?, ?)",
                    [[r.release_id, r.source, r.dataset, r.period, r.synthetic, r.fetched_at] for r in batch])
    con.execute("DELETE FROM audit.releases WHERE release_id IN (SELECT release_id FROM _loading)")
    con.execute(
        f"""INSERT INTO audit.releases (release_id, source, dataset, period, vintage, status, row_count,
                headline_total, synthetic, fetched_at, loaded_at)
            SELECT l.release_id, l.source, l.dataset, l.period,
                coalesce(v.latest, 0) + row_number() OVER (PARTITION BY l.period ORDER BY l.fetched_at, l.release_id),
                'pending', coalesce(n.rows, 0), coalesce(n.total, 0), l.synthetic, l.fetched_at, now()
            FROM _loading l
            LEFT JOIN (SELECT period, max(vintage) AS latest FROM audit.releases WHERE dataset = ?
                       AND status <> 'rejected' GROUP BY period) v USING (period)
            LEFT JOIN (SELECT release_id, count(*) AS rows, sum({headline}) AS total FROM {raw_table}
                       WHERE release_id IN (SELECT release_id FROM _loading) GROUP BY release_id) n
                USING (release_id)""",
        [batch[0].dataset])
    con.execute("DELETE FROM audit.landings WHERE release_id IN (SELECT release_id FROM _loading)")
    con.executemany("INSERT INTO audit.landings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [[p.release_id, p.part, p.url, p.sha256, p.path, p.http_status, p.bytes, p.fetched_at]
                     for p in landings])
    loaded = con.execute("SELECT a.release_id, a.vintage, a.row_count FROM audit.releases a JOIN _loading USING "
                         "(release_id)").fetchall()
    con.execute("DROP TABLE _loading")
    return {rid: (vintage, rows) for rid, vintage, rows in loaded}


def record_rejected(con: duckdb.DuckDBPyConnection, release: ReleaseRecord, detail: str) -> None:
    """A release whose bytes could not be parsed: nothing of it is in raw."""
    con.execute(
        "INSERT OR REPLACE INTO audit.releases (release_id, source, dataset, period, status, fetched_at, "
        "loaded_at, detail) VALUES (?, ?, ?, ?, 'rejected', ?, now(), ?)",
        [release.release_id, release.source, release.dataset, release.period, release.fetched_at, detail])


def set_release_status(con: duckdb.DuckDBPyConnection, release_id: str, status: str, detail: str = "") -> None:
    con.execute("UPDATE audit.releases SET status = ?, decided_at = now(), detail = ? WHERE release_id = ?",
                [status, detail, release_id])


def releases(con: duckdb.DuckDBPyConnection, *, dataset: str | None = None,
             status: str | None = None) -> list[dict]:
    query = "SELECT * FROM audit.releases WHERE 1 = 1"
    params: list = []
    if dataset:
        query += " AND dataset = ?"
        params.append(dataset)
    if status:
        query += " AND status = ?"
        params.append(status)
    cursor = con.execute(query + " ORDER BY dataset, period, vintage", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def forget_dataset(con: duckdb.DuckDBPyConnection, dataset: str) -> int:
    """Remove the records of every release of `dataset` (its validations, gate chunks, landed-file records and
    releases) so its landed files load again as new; the operators' decisions are kept as history. The caller holds
    the transaction. Returns how many releases were forgotten."""
    ids = "SELECT release_id FROM audit.releases WHERE dataset = ?"
    count = con.execute(f"SELECT count(*) FROM ({ids})", [dataset]).fetchall()[0][0]
    con.execute(f"DELETE FROM audit.validations WHERE release_id IN ({ids})", [dataset])
    con.execute("DELETE FROM audit.validation_chunks WHERE dataset = ?", [dataset])
    con.execute(f"DELETE FROM audit.landings WHERE release_id IN ({ids})", [dataset])
    con.execute("DELETE FROM audit.releases WHERE dataset = ?", [dataset])
    return count


def accepted_releases(con: duckdb.DuckDBPyConnection, dataset: str) -> list[tuple]:
    """(release_id, period, vintage, row_count, headline_total) of the dataset's published and released
    releases."""
    return con.execute("SELECT release_id, period, vintage, row_count, headline_total FROM audit.releases WHERE "
                       "dataset = ? AND status IN ('published', 'released')", [dataset]).fetchall()


def published_since(con: duckdb.DuckDBPyConnection, since: datetime) -> list[tuple[Month, str]]:
    """(month, dataset) of the releases published or released at or after `since`, in order."""
    rows = con.execute("SELECT DISTINCT period, dataset FROM audit.releases WHERE status IN ('published', "
                       "'released') AND decided_at >= ? ORDER BY 1, 2", [since]).fetchall()
    return [(Month.of(period), dataset) for period, dataset in rows]


def landed_paths(con: duckdb.DuckDBPyConnection, datasets: Iterable[str]) -> list[str]:
    """The landed files (relative to the landing root) of every release of these datasets, in order."""
    return [p for (p,) in con.execute(
        "SELECT l.path FROM audit.landings l JOIN audit.releases r USING (release_id) WHERE "
        "list_contains(?, r.dataset) ORDER BY 1", [list(datasets)]).fetchall()]


def release_counts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(dataset, status, releases, first month, last month), by dataset and status."""
    return con.execute("SELECT dataset, status, count(*), min(period), max(period) FROM audit.releases "
                       "GROUP BY ALL ORDER BY 1, 2").fetchall()


def record_decision(con: duckdb.DuckDBPyConnection, release_id: str, action: str, reason: str,
                    operator: str) -> None:
    """An operator's decision on a release (release, revalidate), with the reason."""
    con.execute("INSERT INTO audit.release_decisions VALUES (?, ?, ?, ?, now())",
                [release_id, action, reason, operator])


# --- the quality gate ---------------------------------------------------------------------------------------------

def record_validations(con: duckdb.DuckDBPyConnection, chunks: Sequence[Sequence], validations: Sequence[Sequence],
                       statuses: Sequence[tuple[str, str, str]]) -> None:
    """In one transaction: the GX runs of a chunk (audit.validation_chunks rows), each release's verdict
    (audit.validations rows, in the order of VALIDATION_COLUMNS) and its new status (release id, status, detail)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.executemany("INSERT INTO audit.validation_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunks)
        con.executemany(f"INSERT INTO audit.validations ({', '.join(VALIDATION_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in VALIDATION_COLUMNS)})", validations)
        for release_id, status, detail in statuses:
            set_release_status(con, release_id, status, detail)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


VALIDATION_COLUMNS = ("release_id", "suite", "success", "evaluated", "failed", "failed_expectations", "results",
                      "duration_s", "result_path", "validated_at", "chunk_id")


def validation_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every validation with its release, newest period first (the columns of data_docs.Validation)."""
    return con.execute(
        "SELECT v.release_id, v.suite, v.success, v.evaluated, v.failed, v.failed_expectations, v.result_path, "
        "v.validated_at, json_extract_string(v.results, '$.meta.run_id.run_name'), "
        "json_extract_string(v.results, '$.meta.run_id.run_time'), r.dataset, r.period, r.vintage, r.status, "
        "v.chunk_id FROM audit.validations v LEFT JOIN audit.releases r USING (release_id) "
        "ORDER BY coalesce(r.dataset, v.suite), r.period DESC NULLS LAST, v.validated_at DESC").fetchall()


def validation_result(con: duckdb.DuckDBPyConnection, release_id: str, suite: str, validated_at: datetime) -> str:
    """The stored GX result (JSON) of one validation."""
    return con.execute("SELECT results FROM audit.validations WHERE release_id = ? AND suite = ? AND "
                       "validated_at = ?", [release_id, suite, validated_at]).fetchall()[0][0]


def chunk_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(chunk_id, suite, kind, run_time, success) of every GX run over a chunk, the row-level suite's first."""
    return con.execute("SELECT chunk_id, suite, kind, run_time, success FROM audit.validation_chunks "
                       "ORDER BY chunk_id, kind DESC").fetchall()


def chunk_results(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(chunk_id, suite, run_time, results JSON) of every GX run over a chunk."""
    return con.execute("SELECT chunk_id, suite, run_time, results FROM audit.validation_chunks").fetchall()


def validation_counts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(suite, validations, passed, failed), by suite."""
    return con.execute(
        "SELECT suite, count(*), count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success) "
        "FROM audit.validations GROUP BY ALL ORDER BY 1").fetchall()


def gate_totals(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(validations, chunks) recorded."""
    return (con.execute("SELECT count(*) FROM audit.validations").fetchall()[0][0],
            con.execute("SELECT count(DISTINCT chunk_id) FROM audit.validation_chunks").fetchall()[0][0])


def release_total(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM audit.releases").fetchall()[0][0]


# --- dbt builds -----------------------------------------------------------------------------------------------------

def last_build(con: duckdb.DuckDBPyConnection) -> tuple[datetime, datetime | None, str] | None:
    """(started_at, finished_at, project_fingerprint) of the latest build, finished or not."""
    rows = con.execute("SELECT started_at, finished_at, project_fingerprint FROM audit.builds ORDER BY started_at "
                       "DESC LIMIT 1").fetchall()
    return rows[0] if rows else None


def last_finished_build(con: duckdb.DuckDBPyConnection) -> tuple[list[str] | None, dict]:
    """The models and the gate fingerprints of the latest successful build (None, {} before the first)."""
    rows = con.execute("SELECT models, fingerprints FROM audit.builds WHERE finished_at IS NOT NULL ORDER BY "
                       "started_at DESC LIMIT 1").fetchall()
    if not rows:
        return None, {}
    models, fingerprints = rows[0]
    return models, json.loads(fingerprints) if fingerprints else {}


def latest_build_start(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the latest build (finished or not) started; None before the first or before the first migration."""
    if not schema_version(con):
        return None
    return con.execute("SELECT max(started_at) FROM audit.builds").fetchall()[0][0]


def builds_since(con: duckdb.DuckDBPyConnection, since: datetime | None) -> list[tuple[str, bool, list[Month],
                                                                                        list[str]]]:
    """(mode, finished, months rebuilt, datasets read) of every build started after `since` (all when None), in
    order."""
    rows = con.execute("SELECT mode, finished_at IS NOT NULL, periods, datasets FROM audit.builds WHERE "
                       "started_at > coalesce(?, TIMESTAMP '-infinity') ORDER BY started_at", [since]).fetchall()
    return [(mode, finished, [Month.of(p) for p in periods or ()], list(datasets or ()))
            for mode, finished, periods, datasets in rows]


def publishers_of(con: duckdb.DuckDBPyConnection, datasets: Iterable[str]) -> list[str]:
    """The publishers (audit.releases.source) of the releases of these datasets, in order."""
    return [p for (p,) in con.execute("SELECT DISTINCT source FROM audit.releases WHERE list_contains(?, dataset) "
                                      "ORDER BY 1", [list(datasets)]).fetchall()]


def start_build(con: duckdb.DuckDBPyConnection, mode: str, periods: Sequence[Month], fingerprint: str, reason: str,
                datasets: Sequence[str], models: Sequence[str]) -> datetime:
    """Record a build about to run (finished_at null until `finish_build`); return its start, which names it."""
    started_at = con.execute("SELECT CAST(now() AS TIMESTAMP)").fetchall()[0][0]
    con.execute("INSERT INTO audit.builds (started_at, finished_at, mode, periods, project_fingerprint, reason, "
                "datasets, models) VALUES (?, NULL, ?, ?, ?, ?, ?, ?)",
                [started_at, mode, list(periods), fingerprint, reason, list(datasets), list(models)])
    return started_at


def finish_build(con: duckdb.DuckDBPyConnection, started_at: datetime, fingerprints: dict[str, str]) -> None:
    con.execute("UPDATE audit.builds SET finished_at = CAST(now() AS TIMESTAMP), fingerprints = ? "
                "WHERE started_at = ?", [json.dumps(fingerprints), started_at])


# --- alerts ---------------------------------------------------------------------------------------------------------

def record_alert(con: duckdb.DuckDBPyConnection, key: str, channel: str, kind: str, severity: str, title: str,
                 message: str, fields_json: str, created_at: datetime, position: int) -> None:
    """A new pending alert for a channel; one already recorded is left as it is."""
    con.execute("INSERT INTO audit.alerts VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, NULL, NULL, NULL) "
                "ON CONFLICT DO NOTHING",
                [key, channel, kind, severity, title, message, fields_json, created_at, position])


def pending_alerts(con: duckdb.DuckDBPyConnection, channel: str) -> list[tuple]:
    """(alert_key, kind, severity, title, message, fields JSON) pending for a channel, newest batch first."""
    return con.execute(
        "SELECT alert_key, kind, severity, title, message, fields FROM audit.alerts WHERE channel = ? AND "
        "status = 'pending' ORDER BY created_at DESC, position", [channel]).fetchall()


def mark_alerts_failed(con: duckdb.DuckDBPyConnection, channel: str, keys: list[str], when: datetime,
                       error: str) -> None:
    con.execute("UPDATE audit.alerts SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? "
                "WHERE channel = ? AND alert_key IN (SELECT unnest(?))", [when, error, channel, keys])


def mark_alerts_sent(con: duckdb.DuckDBPyConnection, channel: str, keys: list[str], when: datetime) -> None:
    con.execute("UPDATE audit.alerts SET status = 'sent', attempts = attempts + 1, last_attempt_at = ?, "
                "sent_at = ?, last_error = NULL WHERE channel = ? AND alert_key IN (SELECT unnest(?))",
                [when, when, channel, keys])


def alert_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(channel, status, alerts), by channel and status."""
    return con.execute("SELECT channel, status, count(*) FROM audit.alerts GROUP BY ALL ORDER BY 1, 2").fetchall()


def latest_alerts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The latest dispatch as one channel recorded it: (alert_key, kind, severity, title, message, fields JSON,
    created_at), in the order sent."""
    return con.execute(
        "SELECT alert_key, kind, severity, title, message, fields, created_at FROM audit.alerts WHERE channel = "
        "(SELECT min(channel) FROM audit.alerts) AND created_at = (SELECT max(created_at) FROM audit.alerts) "
        "ORDER BY position").fetchall()
