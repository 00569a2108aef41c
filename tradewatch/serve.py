"""Publishing the marts for readers, only after a fully successful refresh, atomically.

- A read-only DuckDB snapshot (`serving/tradewatch.duckdb`): the marts copied into a new file, checkpointed, made
  read-only, then renamed over the old one. A reader that has the old file open keeps reading the old state (the
  old inode lives while it is open); the next open sees the new one. Never a half-written file.
- Parquet (`serving/parquet/current/<mart>.parquet`): each publication in its own folder, `current` a symlink
  swapped by rename; the last few publications are kept.
- PostgreSQL, when TRADEWATCH_SERVING_URL (or the Airflow connection `tradewatch_serving`) names one: see
  tradewatch.serving_pg (stage a new schema, swap it in with one transaction).

The refresh's private warehouse is never what readers open, so a reader never blocks the next refresh; and publishing
holds it (read-only) only while it writes the new files, never while PostgreSQL makes it wait.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tradewatch.errors import TradewatchError
from tradewatch.notifiers import ConnectionLookup
from tradewatch.settings import Settings
from tradewatch.sql import identifier, literal
from tradewatch.warehouse import open_warehouse

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "tradewatch.duckdb"
PUBLICATION_TABLE = "publication"


@dataclass(frozen=True)
class Mart:
    name: str
    comment: str | None
    columns: tuple[tuple[str, str, str | None], ...]  # (name, DuckDB type, comment)


def new_publication_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def marts(con: duckdb.DuckDBPyConnection) -> list[Mart]:
    """Every table in the warehouse's marts schema, with its column types and comments (from the dbt docs)."""
    tables = con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts' AND "
                         "database_name = current_database() ORDER BY table_name").fetchall()
    out = []
    for name, comment in tables:
        columns = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = "
                              "'marts' AND table_name = ? AND database_name = current_database() "
                              "ORDER BY column_index", [name]).fetchall()
        out.append(Mart(name, comment, tuple(columns)))
    return out


def write_snapshot(con: duckdb.DuckDBPyConnection, tables: list[Mart], target: Path, publication_id: str) -> Path:
    """Copy the marts into a new, hidden DuckDB file beside `target`, checkpointed, read-only and synced; return it.
    `install_snapshot` renames it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{publication_id}.tmp")
    con.execute(f"ATTACH {literal(str(tmp))} AS tw_snapshot (READ_WRITE)")
    try:
        con.execute("CREATE SCHEMA tw_snapshot.marts")
        for mart in tables:
            table = f"tw_snapshot.marts.{identifier(mart.name)}"
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM marts.{identifier(mart.name)}")
            if mart.comment:
                con.execute(f"COMMENT ON TABLE {table} IS {literal(mart.comment)}")
            for column, _type, comment in mart.columns:
                if comment:
                    con.execute(f"COMMENT ON COLUMN {table}.{identifier(column)} IS {literal(comment)}")
        con.execute(f"CREATE TABLE tw_snapshot.marts.{PUBLICATION_TABLE} AS SELECT ? AS publication_id, "
                    "now()::TIMESTAMP AS published_at, ? AS marts", [publication_id, len(tables)])
        con.execute("CHECKPOINT tw_snapshot")
    finally:
        con.execute("DETACH tw_snapshot")
    os.chmod(tmp, 0o444)
    _fsync(tmp)
    return tmp


def install_snapshot(staged: Path, target: Path) -> Path:
    """Rename the staged snapshot over `target` (atomic: a reader has the old file or the new one)."""
    os.replace(staged, target)
    _fsync(target.parent)
    return target


def write_parquet(con: duckdb.DuckDBPyConnection, tables: list[Mart], root: Path, publication_id: str) -> Path:
    """Every mart as Parquet in a folder of its own, `releases/<publication id>`; `link_parquet` makes it current."""
    folder = root / "releases" / publication_id
    folder.mkdir(parents=True, exist_ok=False)
    for mart in tables:
        con.execute(f"COPY marts.{identifier(mart.name)} TO {literal(str(folder / (mart.name + '.parquet')))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
    (folder / "_PUBLICATION").write_text(publication_id + "\n")
    return folder


def link_parquet(root: Path, publication_id: str, keep: int = 3) -> Path:
    """`current` becomes a symlink to this publication's folder, swapped by rename; the last `keep` are kept."""
    link, tmp_link = root / "current", root / f".current.{publication_id}"
    for stale in root.glob(".current.*"):
        stale.unlink(missing_ok=True)
    os.symlink(Path("releases") / publication_id, tmp_link)
    os.replace(tmp_link, link)
    _fsync(root)
    releases = sorted(p for p in (root / "releases").iterdir() if p.is_dir())
    for old in releases[:-max(keep, 2)]:
        shutil.rmtree(old, ignore_errors=True)
    return link


def _remove_unfinished(root: Path) -> None:
    """Parquet folders newer than `current` were written by a publish that did not finish (publishes are
    serialised, and `current` moves last)."""
    if not (root / "releases").is_dir():
        return
    current = (root / "current").resolve().name if (root / "current").is_symlink() else ""
    for folder in (root / "releases").iterdir():
        if folder.is_dir() and folder.name > current:
            shutil.rmtree(folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _one_publish_at_a_time(directory: Path) -> Iterator[None]:
    """An exclusive lock on `directory/.publish.lock` for the whole publish (released if the process dies): two
    publishes would otherwise remove each other's staged files. The warehouse is opened read-only, so its own lock
    no longer serialises them."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".publish.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another publish is running: waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def publish(settings: Settings, lookup: ConnectionLookup | None = None) -> dict:
    """Publish every mart: PostgreSQL (if configured), the DuckDB snapshot and Parquet, in that order.

    The warehouse is open (read-only) only while the snapshot file and the Parquet folder are written; PostgreSQL is
    then loaded from the snapshot file, so however long PostgreSQL makes the swap wait, the warehouse is free for
    the other commands. The files are swapped in after PostgreSQL has committed: if PostgreSQL fails, nothing at
    all has changed for any reader."""
    from tradewatch import serving_pg

    publication_id = new_publication_id()
    serving = settings.serving
    target = serving_pg.target(settings, lookup)
    snapshot, parquet_root = serving.directory / SNAPSHOT_NAME, serving.directory / "parquet"
    result: dict = {"publication_id": publication_id}
    with _one_publish_at_a_time(serving.directory):
        _remove_unfinished(parquet_root)
        with open_warehouse(settings.duckdb_path, read_only=True) as con:
            tables = marts(con)
            if not tables:
                raise TradewatchError("the warehouse has no marts to publish yet: run the refresh first (make demo, "
                                      "or the DAG), or `tradewatch build` after loading releases")
            staged = write_snapshot(con, tables, snapshot, publication_id)
            folder = write_parquet(con, tables, parquet_root, publication_id)
        try:
            if target is not None:
                result["postgres"] = serving_pg.publish(staged, tables, target, publication_id)
        except BaseException:
            staged.unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        result["snapshot"] = str(install_snapshot(staged, snapshot))
        result["parquet"] = str(link_parquet(parquet_root, publication_id, serving.keep_publications))
    result["marts"] = [m.name for m in tables]
    log.info("published %d marts as %s: snapshot %s, parquet %s%s", len(tables), publication_id,
             result["snapshot"], result["parquet"], ", PostgreSQL" if target is not None else "")
    return result
