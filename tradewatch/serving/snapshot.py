"""The read-only DuckDB snapshot readers open (`serving/tradewatch.duckdb`).

The marts go into a new hidden file beside it, checkpointed and made read-only, then renamed over the old one. A
reader that has the old file open keeps reading the old state (the old inode lives while it is open); the next open
sees the new one. Never a half-written file. The new file starts as a copy of the current one, and only the marts
whose fingerprints changed are written into it (only the changed months of `trade_monthly`).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import duckdb

from tradewatch.serving.marts import PARTITIONED, Fingerprints, Mart, fingerprint, fsync
from tradewatch.sql import identifier, literal

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "tradewatch.duckdb"
PUBLICATION_TABLE = "publication"
#: Where a snapshot keeps its publication's fingerprints (a schema readers can ignore).
MANIFEST_TABLE = "tradewatch.publication_manifest"


def _snapshot_fingerprints(con: duckdb.DuckDBPyConnection, snapshot: Path) -> Fingerprints | None:
    """What the current snapshot holds (None: no snapshot, or one written before fingerprints were kept)."""
    if not snapshot.exists():
        return None
    try:
        con.execute(f"ATTACH {literal(str(snapshot))} AS tw_current (READ_ONLY)")
    except duckdb.Error as exc:  # not a DuckDB file we can read: the next snapshot is written whole
        log.warning("the current snapshot %s cannot be read (%s): writing every mart", snapshot, exc)
        return None
    try:
        schema, table = MANIFEST_TABLE.split(".")
        found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'tw_current' AND "
                            "schema_name = ? AND table_name = ?", [schema, table]).fetchall()[0][0]
        return Fingerprints.from_json(con.execute(f"SELECT manifest FROM tw_current.{MANIFEST_TABLE}").fetchall()[0][0]
                                      ) if found else None
    finally:
        con.execute("DETACH tw_current")


def _create(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    """Copy a mart into the attached snapshot, with its comments."""
    table = f"tw_snapshot.marts.{identifier(mart.name)}"
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM marts.{identifier(mart.name)}")
    if mart.comment:
        con.execute(f"COMMENT ON TABLE {table} IS {literal(mart.comment)}")
    for column, _type, comment in mart.columns:
        if comment:
            con.execute(f"COMMENT ON COLUMN {table}.{identifier(column)} IS {literal(comment)}")


def _update_snapshot(con: duckdb.DuckDBPyConnection, tables: list[Mart], now: Fingerprints,
                     before: Fingerprints) -> list[str]:
    """In the attached copy of the current snapshot: rewrite the marts that changed (a partitioned mart whose columns
    did not change: only its changed parts), drop the ones gone. Returns what was written."""
    written = []
    for mart in tables:
        if before.marts.get(mart.name) == now.marts[mart.name]:
            continue
        table = f"tw_snapshot.marts.{identifier(mart.name)}"
        column = PARTITIONED.get(mart.name)
        if column and before.schemas.get(mart.name) == now.schemas[mart.name]:
            old, new = before.parts.get(mart.name, {}), now.parts[mart.name]
            stale = sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))
            part = f"CAST({identifier(column)} AS VARCHAR) IN (SELECT unnest($parts))"
            con.execute(f"DELETE FROM {table} WHERE {part}", {"parts": stale})
            con.execute(f"INSERT INTO {table} SELECT * FROM marts.{identifier(mart.name)} WHERE {part}",
                        {"parts": stale})
            written.append(f"{mart.name} ({len(stale)} of {len(new)} parts)")
            continue
        con.execute(f"DROP TABLE IF EXISTS {table}")
        _create(con, mart)
        written.append(mart.name)
    names = {m.name for m in tables}
    for gone in before.marts.keys() - names:
        con.execute(f"DROP TABLE IF EXISTS tw_snapshot.marts.{identifier(gone)}")
        written.append(f"{gone} (removed)")
    return written


def write_snapshot(con: duckdb.DuckDBPyConnection, tables: list[Mart], target: Path, publication_id: str,
                   prints: Fingerprints | None = None) -> tuple[Path, list[str]]:
    """The next snapshot, as a hidden DuckDB file beside `target`, checkpointed, read-only and synced; return it and
    the marts written into it. It starts as a copy of the current snapshot when that one has fingerprints: only
    what changed is written. `install_snapshot` renames it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    prints = prints or fingerprint(con, tables)
    before = _snapshot_fingerprints(con, target)
    tmp = target.with_name(f".{target.name}.{publication_id}.tmp")
    if before is not None:
        shutil.copyfile(target, tmp)  # a reader of `target` is unaffected: the file itself never changes
        os.chmod(tmp, 0o644)
    con.execute(f"ATTACH {literal(str(tmp))} AS tw_snapshot (READ_WRITE)")
    try:
        if before is None:
            con.execute("CREATE SCHEMA tw_snapshot.marts")
            for mart in tables:
                _create(con, mart)
            written = [m.name for m in tables]
        else:
            written = _update_snapshot(con, tables, prints, before)
        con.execute(f"CREATE OR REPLACE TABLE tw_snapshot.marts.{PUBLICATION_TABLE} AS SELECT ? AS publication_id, "
                    "now()::TIMESTAMP AS published_at, ? AS marts", [publication_id, len(tables)])
        schema = MANIFEST_TABLE.split(".")[0]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS tw_snapshot.{schema}")
        con.execute(f"CREATE OR REPLACE TABLE tw_snapshot.{MANIFEST_TABLE} AS SELECT ? AS manifest",
                    [prints.to_json()])
        con.execute("CHECKPOINT tw_snapshot")
    finally:
        con.execute("DETACH tw_snapshot")
    os.chmod(tmp, 0o444)
    fsync(tmp)
    return tmp, written


def install_snapshot(staged: Path, target: Path) -> Path:
    """Rename the staged snapshot over `target` (atomic: a reader has the old file or the new one)."""
    os.replace(staged, target)
    fsync(target.parent)
    return target
