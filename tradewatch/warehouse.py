"""The DuckDB warehouse: connections, the raw tables, and loading landed releases into them.

Each release loaded is recorded in the audit trail (tradewatch.audit: its states, from pending to published or
quarantined). Staging reads only published and released vintages, so a failing release never reaches a mart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tradewatch import audit, sources
from tradewatch.anomalies import findings
from tradewatch.batching import consecutive_batches
from tradewatch.errors import ReleaseFormatError, TradewatchError
from tradewatch.landing import LandedRelease, LandingZone
from tradewatch.lineage import LINEAGE_COLUMNS, RELEASE_ID
from tradewatch.sources.base import DatasetSpec

log = logging.getLogger(__name__)


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


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the warehouse's layout up to this version: the audit schema's numbered migrations (tradewatch.audit),
    then the raw and detector tables. The refresh's first task and the CLI run it; returns the audit migrations
    applied."""
    applied = audit.migrate(con)
    bootstrap(con)
    return applied


def bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """Migrate the audit schema if it is behind (one query when current), and create the raw and detector schemas
    and tables if missing. Idempotent. A raw table left by an earlier version with other columns is an error that
    says how to re-parse its releases (the landing zone keeps them all)."""
    if audit.schema_version(con) < audit.LATEST:
        audit.migrate(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    findings.bootstrap(con)  # the detector's tables, which dbt reads as a source
    for ds in sources.all_datasets().values():
        con.execute(raw_table_ddl(ds))
    check_raw_layouts(con)


def stale_raw_layouts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The datasets whose raw table was created by an earlier version with other columns -> how they differ."""
    stale = {}
    for ds in sources.all_datasets().values():
        have = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND "
                                          "table_name = ? ORDER BY column_index", [ds.name]).fetchall()]
        want = [RELEASE_ID, *(c for c, _ in ds.data_columns), *(c for c, _ in LINEAGE_COLUMNS)]
        if have and have != want:
            stale[ds.name] = (f"raw.{ds.name} has {sorted(set(have) - set(want)) or 'the same'} that this version "
                              f"does not, and lacks {sorted(set(want) - set(have)) or 'none'}")
    return stale


def _reparse_command(datasets) -> str:
    return f"`tradewatch reparse {' '.join(sorted(datasets))}`"


def check_raw_layouts(con: duckdb.DuckDBPyConnection) -> None:
    stale = stale_raw_layouts(con)
    if not stale:
        return
    raise TradewatchError(
        f"{len(stale)} raw table(s) were created by an earlier version of tradewatch with other columns: "
        f"{'; '.join(stale.values())}. Nothing was changed. The landing zone keeps every release: run "
        f"{_reparse_command(stale)} to parse them again with this version (then the refresh, or `tradewatch build`, "
        "rebuilds the marts). For the demo's own data, `make clean` starts afresh")


def reset_datasets(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> dict[str, int]:
    """Drop raw.<dataset> and forget its releases (tradewatch.audit.forget_dataset) for each of `names`, all in one
    transaction, then create the tables in this version's layout: the next load parses every landed release of them
    again. Refuses (changing nothing) an unknown dataset, or a set that leaves another stale raw table behind (the
    load that follows would stop on it). Returns the releases forgotten per dataset; the landing zone keeps the
    bytes."""
    datasets, names = sources.all_datasets(), list(dict.fromkeys(names))  # each once, in the order given
    unknown = sorted(set(names) - set(datasets))
    if unknown or not names:
        raise TradewatchError(f"unknown dataset(s) {', '.join(map(repr, unknown)) or '(none given)'}: "
                              f"one of {', '.join(sorted(datasets))}")
    if audit.schema_version(con) < audit.LATEST:
        audit.migrate(con)
    left = set(stale_raw_layouts(con)) - set(names)
    if left:
        raise TradewatchError(f"{', '.join(sorted(left))} also have a raw table of an earlier layout; reparse them "
                              f"together: {_reparse_command(set(names) | left)}. Nothing was changed")
    forgotten = {}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for name in names:
            con.execute(f"DROP TABLE IF EXISTS raw.{name}")
            forgotten[name] = audit.forget_dataset(con, name)
            con.execute(raw_table_ddl(datasets[name]))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    for name, count in forgotten.items():
        log.info("%s: raw table re-created, %d release(s) to parse again from the landing zone", name, count)
    return forgotten


@dataclass(frozen=True)
class LoadResult:
    release_id: str
    dataset: str
    period: str
    status: str  # loaded | unchanged | rejected
    vintage: int | None = None
    rows: int = 0
    detail: str = ""


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
                                      release.month)
        con.execute(
            f"INSERT INTO raw.{ds.name} ({RELEASE_ID}, {', '.join(data_cols)}, {', '.join(lineage)}) "
            f"SELECT ?, {', '.join(data_cols)}, ?, ?, CAST(? AS TIMESTAMP) FROM ({select})",
            [release.release_id, part.url, part.sha256, release.fetched_at],
        )


def _record_loaded(con: duckdb.DuckDBPyConnection, batch: list[LandedRelease], ds: DatasetSpec) -> dict[str, tuple]:
    """Inside the loading transaction: the audit rows of releases whose raw rows are in. Returns release id ->
    (vintage, rows)."""
    return audit.record_loaded(con, [_record(r) for r in batch],
                               [audit.LandingRecord(r.release_id, p.name, p.url, p.sha256, p.path, p.status, p.bytes,
                                                    r.fetched_at) for r in batch for p in r.parts],
                               f"raw.{ds.name}", ds.headline_var)


def _record(release: LandedRelease) -> audit.ReleaseRecord:
    return audit.ReleaseRecord(release.release_id, release.source, release.dataset, release.month,
                               release.synthetic, release.fetched_at)


def load_release(con: duckdb.DuckDBPyConnection, zone: LandingZone, release: LandedRelease) -> LoadResult:
    """Load one landed release into raw as a pending vintage, in one transaction.

    The same bytes loaded twice change nothing; a changed release for a loaded period becomes the next vintage.
    A release that cannot be parsed is rolled back entirely and recorded as rejected with the reason.
    """
    ds = sources.dataset(release.dataset)
    rid = release.release_id
    status = audit.release_status(con, rid)
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
        audit.record_rejected(con, _record(release), detail)
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


#: Landed bytes loaded in one transaction by a batch load (bounds the memory of one batch).
BATCH_BYTES = 256 * 1024 * 1024


def load_pending(con: duckdb.DuckDBPyConnection, zone: LandingZone, dataset: str) -> tuple[dict[str, int], list[str]]:
    """Load every landed release of `dataset` that the warehouse does not hold yet. Returns the counts (loaded,
    unchanged, rejected) and a line per rejected release saying why.

    Publishers that parse many files at once load in batches (one pass, one transaction per batch); the others one
    transaction per release. Either way a release that cannot be parsed is rejected alone."""
    counts = {"loaded": 0, "unchanged": 0, "rejected": 0}
    rejected = []
    todo = []
    for release in zone.releases(dataset):
        status = audit.release_status(con, release.release_id)
        if status is not None and status != "rejected":
            counts["unchanged"] += 1
        else:
            todo.append(release)
    batched = sources.publisher_of(dataset).stage_files is not None
    done = 0
    groups = consecutive_batches(todo, lambda r: sum(p.bytes for p in r.parts), BATCH_BYTES) if batched \
        else [[release] for release in todo]
    for group in groups:
        results = load_batch(con, zone, group) if batched else [load_release(con, zone, group[0])]
        for result in results:
            counts[result.status] += 1
            if result.status == "rejected":
                rejected.append(f"{dataset} {result.period}: {result.detail}")
        if (done + len(group)) // 24 > done // 24 or done + len(group) == len(todo):
            log.info("%s: %d of %d new release(s) loaded", dataset, done + len(group), len(todo))
        done += len(group)
    return counts, rejected
