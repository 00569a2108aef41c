"""The DuckDB warehouse: schemas, the raw tables, and the audit trail of every release.

A release moves through states recorded in `audit.releases`:
  pending (loaded, not yet validated) -> published (visible to staging) | quarantined (failed its suite)
  quarantined -> released (an operator released it with a recorded reason) | published (re-validated after a fix)
  rejected: its bytes could not be parsed; nothing of it is in raw.
Staging reads only published and released vintages, so a failing release never reaches a mart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tradewatch import sources
from tradewatch.anomalies import findings
from tradewatch.errors import ReleaseFormatError, TradewatchError
from tradewatch.landing import LandedRelease, LandingZone
from tradewatch.lineage import LINEAGE_COLUMNS, RELEASE_ID
from tradewatch.periods import parse_month
from tradewatch.sources.base import DatasetSpec

log = logging.getLogger(__name__)

VISIBLE_STATUSES = ("published", "released")

AUDIT_DDL = [
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


def raw_table_ddl(ds: DatasetSpec) -> str:
    columns = [(RELEASE_ID, "VARCHAR NOT NULL"), *ds.data_columns, *LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{ds.name} ({', '.join(f'{c} {t}' for c, t in columns)})"


def connect(path: Path, *, read_only: bool = False, wait_seconds: float = 120.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; wait while another process holds DuckDB's single-writer lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise TradewatchError(f"no warehouse at {path}; run the refresh first (make demo)")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise TradewatchError(
                    f"the warehouse {path} is locked by another process ({exc}). DuckDB allows one writer: "
                    "wait for the running refresh to finish, or close tools that opened the file read-write"
                ) from None
            time.sleep(1.0)


@contextmanager
def open_warehouse(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        if not read_only:
            bootstrap(con)
        yield con
    finally:
        con.close()


def bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw, audit and detector schemas and tables if missing. Idempotent. A raw table left by an earlier
    version with other columns is an error that says how to re-parse its releases (the landing zone keeps them all)."""
    for statement in AUDIT_DDL:
        con.execute(statement)
    findings.bootstrap(con)  # the detector's tables, which dbt reads as a source
    for ds in sources.all_datasets().values():
        con.execute(raw_table_ddl(ds))
        check_raw_layout(con, ds)


def check_raw_layout(con: duckdb.DuckDBPyConnection, ds: DatasetSpec) -> None:
    have = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND "
                                      "table_name = ? ORDER BY column_index", [ds.name]).fetchall()]
    want = [RELEASE_ID, *(c for c, _ in ds.data_columns), *(c for c, _ in LINEAGE_COLUMNS)]
    if have == want:
        return
    name = ds.name
    raise TradewatchError(
        f"raw.{name} was created by an earlier version of tradewatch with other columns (it has "
        f"{sorted(set(have) - set(want)) or 'the same'} that this version does not, and lacks "
        f"{sorted(set(want) - set(have)) or 'none'}). Nothing was changed. The landing zone keeps every release: "
        f"re-parse them with this version by running, in the DuckDB CLI on the warehouse, DROP TABLE raw.{name}; "
        f"DELETE FROM audit.validations WHERE release_id IN (SELECT release_id FROM audit.releases WHERE dataset = "
        f"'{name}'); DELETE FROM audit.releases WHERE dataset = '{name}'; then run the refresh (its load task "
        "re-parses every landed release). For the demo's own data, `make clean` starts afresh")


@dataclass(frozen=True)
class LoadResult:
    release_id: str
    dataset: str
    period: str
    status: str  # loaded | unchanged | rejected
    vintage: int | None = None
    rows: int = 0
    detail: str = ""


def release_status(con: duckdb.DuckDBPyConnection, release_id: str) -> str | None:
    rows = con.execute("SELECT status FROM audit.releases WHERE release_id = ?", [release_id]).fetchall()
    return rows[0][0] if rows else None


def _insert_parts(con: duckdb.DuckDBPyConnection, zone: LandingZone, release: LandedRelease,
                  ds: DatasetSpec) -> None:
    what = f"{release.dataset} {release.period}"
    publisher = sources.publisher_of(ds.name)
    data_cols, lineage = [c for c, _ in ds.data_columns], [c for c, _ in LINEAGE_COLUMNS]
    for part in release.parts:
        path = zone.path(part.path)
        if not path.exists():
            raise ReleaseFormatError(f"{what}: landed file {path} is missing; fetch the release again")
        select = publisher.stage_part(con, path, ds, part.name, f"{what} {part.name} [{part.url}]",
                                      parse_month(release.period))
        con.execute(
            f"INSERT INTO raw.{ds.name} ({RELEASE_ID}, {', '.join(data_cols)}, {', '.join(lineage)}) "
            f"SELECT ?, {', '.join(data_cols)}, ?, ?, CAST(? AS TIMESTAMP) FROM ({select})",
            [release.release_id, part.url, part.sha256, release.fetched_at],
        )


def _record_loaded(con: duckdb.DuckDBPyConnection, batch: list[LandedRelease], ds: DatasetSpec) -> dict[str, tuple]:
    """Inside the loading transaction: audit rows for releases whose raw rows are in. Vintages number a period's
    releases in the order they were fetched. Returns release id -> (vintage, rows)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _loading (release_id VARCHAR, source VARCHAR, dataset VARCHAR, "
                "period DATE, synthetic BOOLEAN, fetched_at TIMESTAMP)")
    con.executemany("INSERT INTO _loading VALUES (?, ?, ?, ?, ?, ?)",
                    [[r.release_id, r.source, r.dataset, f"{r.period}-01", r.synthetic, r.fetched_at] for r in batch])
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
            LEFT JOIN (SELECT release_id, count(*) AS rows, sum({ds.headline_var}) AS total FROM raw.{ds.name}
                       WHERE release_id IN (SELECT release_id FROM _loading) GROUP BY release_id) n
                USING (release_id)""",
        [ds.name])
    con.execute("DELETE FROM audit.landings WHERE release_id IN (SELECT release_id FROM _loading)")
    con.executemany(
        "INSERT INTO audit.landings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [[r.release_id, p.name, p.url, p.sha256, p.path, p.status, p.bytes, r.fetched_at]
         for r in batch for p in r.parts])
    loaded = con.execute("SELECT a.release_id, a.vintage, a.row_count FROM audit.releases a JOIN _loading USING "
                         "(release_id)").fetchall()
    con.execute("DROP TABLE _loading")
    return {rid: (vintage, rows) for rid, vintage, rows in loaded}


def load_release(con: duckdb.DuckDBPyConnection, zone: LandingZone, release: LandedRelease) -> LoadResult:
    """Load one landed release into raw as a pending vintage, in one transaction.

    The same bytes loaded twice change nothing; a changed release for a loaded period becomes the next vintage.
    A release that cannot be parsed is rolled back entirely and recorded as rejected with the reason.
    """
    ds = sources.dataset(release.dataset)
    rid = release.release_id
    status = release_status(con, rid)
    if status is not None and status != "rejected":
        return LoadResult(rid, release.dataset, release.period, "unchanged", detail=f"already {status}")
    con.execute("BEGIN TRANSACTION")
    try:
        _insert_parts(con, zone, release, ds)
        vintage, rows = _record_loaded(con, [release], ds)[rid]
        con.execute("COMMIT")
    except Exception as exc:
        con.execute("ROLLBACK")
        detail = str(exc)
        con.execute(
            "INSERT OR REPLACE INTO audit.releases (release_id, source, dataset, period, status, fetched_at, "
            "loaded_at, detail) VALUES (?, ?, ?, ?, 'rejected', ?, now(), ?)",
            [rid, release.source, release.dataset, f"{release.period}-01", release.fetched_at, detail])
        if isinstance(exc, TradewatchError):
            return LoadResult(rid, release.dataset, release.period, "rejected", detail=detail)
        raise
    return LoadResult(rid, release.dataset, release.period, "loaded", vintage, rows)


def load_batch(con: duckdb.DuckDBPyConnection, zone: LandingZone, batch: list[LandedRelease]) -> list[LoadResult]:
    """Load several landed releases of one dataset in one transaction, every file parsed in one pass.

    For publishers that can parse many files at once (`stage_files`). If anything in the batch is wrong, nothing
    of it stays and the releases are loaded one by one instead: the good ones load, the bad one is rejected with
    the reason naming its file, exactly as `load_release` does.
    """
    ds = sources.dataset(batch[0].dataset)
    publisher = sources.publisher_of(ds.name)
    what = f"{ds.name} batch of {len(batch)} release(s) {batch[0].period}..{batch[-1].period}"
    files = [(str(zone.path(p.path)), r.release_id, p.url, p.sha256, r.fetched_at) for r in batch for p in r.parts]
    data_cols = ", ".join(c for c, _ in ds.data_columns)
    con.execute("BEGIN TRANSACTION")
    try:
        missing = [path for path, *_ in files if not Path(path).exists()]
        if missing:
            raise ReleaseFormatError(f"{what}: {len(missing)} landed file(s) missing, e.g. {missing[0]}")
        select = publisher.stage_files(con, sorted({path for path, *_ in files}), ds, what)
        con.execute("CREATE OR REPLACE TEMP TABLE _files (file VARCHAR, release_id VARCHAR, url VARCHAR, "
                    "sha256 VARCHAR, fetched_at TIMESTAMP)")
        con.executemany("INSERT INTO _files VALUES (?, ?, ?, ?, ?)", [list(f) for f in files])
        con.execute(
            f"INSERT INTO raw.{ds.name} (release_id, {data_cols}, source_url, sha256, fetched_at) "
            f"SELECT f.release_id, {', '.join(f's.{c}' for c, _ in ds.data_columns)}, f.url, f.sha256, f.fetched_at "
            f"FROM ({select}) s JOIN _files f USING (file)")
        con.execute("DROP TABLE _files")
        loaded = _record_loaded(con, batch, ds)
        con.execute("COMMIT")
    except Exception as exc:
        con.execute("ROLLBACK")
        if not isinstance(exc, (TradewatchError, duckdb.Error, OSError)):
            raise
        log.warning("%s: %s; loading these releases one by one", what, str(exc).splitlines()[0][:300])
        return [load_release(con, zone, release) for release in batch]
    return [LoadResult(r.release_id, r.dataset, r.period, "loaded", *loaded[r.release_id]) for r in batch]


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


def previous_accepted(con: duckdb.DuckDBPyConnection, dataset: str, release_id: str) -> dict | None:
    """The latest published release of the dataset before this one (by period, then vintage)."""
    rows = con.execute(
        """SELECT r.release_id, r.period, r.row_count, r.headline_total FROM audit.releases r,
               (SELECT period, vintage FROM audit.releases WHERE release_id = ?) me
           WHERE r.dataset = ? AND r.status IN ('published', 'released') AND r.release_id <> ?
             AND (r.period < me.period OR (r.period = me.period AND r.vintage < me.vintage))
           ORDER BY r.period DESC, r.vintage DESC LIMIT 1""",
        [release_id, dataset, release_id]).fetchall()
    if not rows:
        return None
    rid, period, row_count, total = rows[0]
    return {"release_id": rid, "period": period, "row_count": row_count, "headline_total": float(total)}
