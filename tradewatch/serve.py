"""Publishing the marts for readers, only after a fully successful refresh, atomically.

- A read-only DuckDB snapshot (`serving/tradewatch.duckdb`): the marts copied into a new file, checkpointed, made
  read-only, then renamed over the old one. A reader that has the old file open keeps reading the old state (the
  old inode lives while it is open); the next open sees the new one. Never a half-written file.
- Parquet (`serving/parquet/current/<mart>.parquet`): each publication in its own folder, `current` a symlink
  swapped by rename; the last few publications are kept.
- PostgreSQL, when TRADEWATCH_SERVING_URL (or the Airflow connection `tradewatch_serving`) names one: see
  tradewatch.serving_pg (one transaction: build a new schema, swap it in).

The refresh's private warehouse is never what readers open, so a reader never blocks the next refresh.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

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
    """Copy the marts into a new DuckDB file beside `target`, then rename it over `target` (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{publication_id}.tmp")
    con.execute(f"ATTACH {literal(str(tmp))} AS tw_snapshot")
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
    os.replace(tmp, target)
    _fsync(target.parent)
    return target


def write_parquet(con: duckdb.DuckDBPyConnection, tables: list[Mart], root: Path, publication_id: str,
                  keep: int = 3) -> Path:
    """One folder per publication; `current` is a symlink swapped by rename."""
    folder = root / "releases" / publication_id
    folder.mkdir(parents=True, exist_ok=False)
    for mart in tables:
        con.execute(f"COPY marts.{identifier(mart.name)} TO {literal(str(folder / (mart.name + '.parquet')))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
    (folder / "_PUBLICATION").write_text(publication_id + "\n")
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


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(settings: Settings, lookup: ConnectionLookup | None = None) -> dict:
    """Publish every mart: PostgreSQL first (if configured), then the DuckDB snapshot and Parquet.

    PostgreSQL goes first so that if it fails, nothing at all has changed for any reader."""
    from tradewatch import serving_pg

    publication_id = new_publication_id()
    serving = settings.serving
    result: dict = {"publication_id": publication_id}
    with open_warehouse(settings.duckdb_path) as con:
        tables = marts(con)
        if not tables:
            raise RuntimeError("the warehouse has no marts to publish; run the refresh (dbt build) first")
        target = serving_pg.target(settings, lookup)
        if target is not None:
            result["postgres"] = serving_pg.publish(con, tables, target, publication_id)
        result["snapshot"] = str(write_snapshot(con, tables, serving.directory / SNAPSHOT_NAME, publication_id))
        result["parquet"] = str(write_parquet(con, tables, serving.directory / "parquet", publication_id,
                                              serving.keep_publications))
    result["marts"] = [m.name for m in tables]
    log.info("published %d marts as %s: snapshot %s, parquet %s%s", len(tables), publication_id,
             result["snapshot"], result["parquet"], ", PostgreSQL" if target is not None else "")
    return result
