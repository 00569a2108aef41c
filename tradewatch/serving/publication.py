"""Publishing the marts for readers, only after a fully successful refresh, atomically, rewriting only what changed.

- A read-only DuckDB snapshot (`serving/tradewatch.duckdb`): the marts in a new file, checkpointed, made read-only,
  then renamed over the old one. A reader that has the old file open keeps reading the old state (the old inode
  lives while it is open); the next open sees the new one. Never a half-written file. The new file starts as a copy
  of the current one, and only the marts whose rows or columns changed are written into it (only the changed
  months of `trade_monthly`).
- Parquet (`serving/parquet/current/<mart>.parquet`, and `trade_monthly` as one file per month in
  `current/trade_monthly/<YYYY-MM-DD>.parquet`): each publication in its own folder, `current` a symlink swapped by
  rename; the last few publications are kept. A file whose rows did not change is a hard link to the previous
  publication's file, not a new one.
- PostgreSQL, when TRADEWATCH_SERVING_URL (or the Airflow connection `tradewatch_serving`) names one: see
  tradewatch.serving_pg (stage a new schema, swap it in with one transaction).

What changed is known from fingerprints: a hash of each mart's columns and rows, and of each month of
`trade_monthly`, kept with each publication (in the snapshot's `tradewatch.publication_manifest`, in each Parquet
folder's `_manifest.json`) and compared with the warehouse's. A build that changed nothing publishes nothing new.

The refresh's private warehouse is never what readers open, so a reader never blocks the next refresh; and publishing
holds it (read-only) only while it writes the new files, never while PostgreSQL makes it wait.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import duckdb

from tradewatch.errors import TradewatchError
from tradewatch.settings import Settings
from tradewatch.sql import identifier, literal
from tradewatch.warehouse import open_warehouse

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "tradewatch.duckdb"
PUBLICATION_TABLE = "publication"
#: Marts published in parts, by this column: one Parquet file per value, and only changed parts written again.
PARTITIONED = {"trade_monthly": "period_month"}
#: Where a publication keeps its fingerprints: in the snapshot file (a schema readers can ignore), in each Parquet
#: publication folder.
MANIFEST_TABLE = "tradewatch.publication_manifest"
MANIFEST_FILE = "_manifest.json"


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


def _sha(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Fingerprints:
    """What a publication holds, hashed: each mart's columns (with their types and comments), each mart's rows, and
    each part of a partitioned mart (its value as text -> the hash of its rows)."""

    schemas: dict[str, str]
    marts: dict[str, str]
    parts: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"schemas": self.schemas, "marts": self.marts, "parts": self.parts}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Fingerprints | None:
        try:
            found = json.loads(text or "")
            return cls(found["schemas"], found["marts"], found.get("parts", {}))
        except (ValueError, KeyError, TypeError):
            return None  # an earlier publication, or an unreadable manifest: everything is written again


def fingerprint(con: duckdb.DuckDBPyConnection, tables: list[Mart]) -> Fingerprints:
    """Hash every mart in the warehouse: one scan each (DuckDB's row hash, summed: the order of rows is not part of
    a mart); a partitioned mart by part."""
    schemas, hashed, parts = {}, {}, {}
    for mart in tables:
        table = f"marts.{identifier(mart.name)}"
        schemas[mart.name] = _sha(mart.comment, mart.columns)
        if column := PARTITIONED.get(mart.name):
            parts[mart.name] = {str(part): _sha(rows, total) for part, rows, total in con.execute(
                f"SELECT CAST({identifier(column)} AS VARCHAR), count(*), sum(hash(t)) FROM {table} t GROUP BY 1"
            ).fetchall()}
            hashed[mart.name] = _sha(schemas[mart.name], sorted(parts[mart.name].items()))
        else:
            rows, total = con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchall()[0]
            hashed[mart.name] = _sha(schemas[mart.name], rows, total)
    return Fingerprints(schemas, hashed, parts)


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
    _fsync(tmp)
    return tmp, written


def install_snapshot(staged: Path, target: Path) -> Path:
    """Rename the staged snapshot over `target` (atomic: a reader has the old file or the new one)."""
    os.replace(staged, target)
    _fsync(target.parent)
    return target


def _link(source: Path, target: Path) -> None:
    """The same file under a second name (a hard link: no bytes written); a copy where links are not possible."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _current_parquet(root: Path) -> tuple[Path, Fingerprints] | None:
    """The current publication's folder and fingerprints (None: nothing published, or no manifest)."""
    current = root / "current"
    if not current.is_symlink():
        return None
    folder = current.resolve()
    manifest = folder / MANIFEST_FILE
    prints = Fingerprints.from_json(manifest.read_text()) if manifest.exists() else None
    return (folder, prints) if prints else None


def _write_parts(con: duckdb.DuckDBPyConnection, mart: Mart, folder: Path, previous: tuple[Path, Fingerprints] | None,
                 prints: Fingerprints) -> tuple[int, int]:
    """A partitioned mart as `<mart>/<part>.parquet`, one file per part: unchanged parts linked from the previous
    publication, the others written in one pass. Returns (written, linked)."""
    out = folder / mart.name
    out.mkdir()
    now, linked = prints.parts[mart.name], 0
    if previous and previous[1].schemas.get(mart.name) == prints.schemas[mart.name]:
        before = previous[1].parts.get(mart.name, {})
        for part, value in now.items():
            files = sorted((previous[0] / mart.name).glob(f"{part}*.parquet"))
            if before.get(part) == value and files:
                for file in files:
                    _link(file, out / file.name)
                linked += 1
    todo = sorted(set(now) - {p.name.split(".")[0] for p in out.iterdir()})
    if todo:
        column, scratch = identifier(PARTITIONED[mart.name]), folder / f".{mart.name}.parts"
        con.execute(f"COPY (SELECT * FROM marts.{identifier(mart.name)} WHERE CAST({column} AS VARCHAR) IN "
                    f"(SELECT unnest($parts))) TO {literal(str(scratch))} (FORMAT parquet, COMPRESSION zstd, "
                    f"PARTITION_BY ({column}), WRITE_PARTITION_COLUMNS true)", {"parts": todo})
        for directory in scratch.iterdir():  # <column>=<value>/data_<n>.parquet: the value names the file
            part = unquote(directory.name.split("=", 1)[1])
            for index, file in enumerate(sorted(directory.glob("*.parquet"))):
                file.rename(out / (f"{part}.parquet" if index == 0 else f"{part}.{index}.parquet"))
        shutil.rmtree(scratch)
    return len(todo), linked


def write_parquet(con: duckdb.DuckDBPyConnection, tables: list[Mart], root: Path, publication_id: str,
                  prints: Fingerprints | None = None) -> tuple[Path, dict[str, int]]:
    """Every mart as Parquet in a folder of its own, `releases/<publication id>`, a partitioned mart as a folder of
    one file per part; what did not change since the current publication is linked to its file, not written again.
    Returns the folder and how many files were written and linked. `link_parquet` makes it current."""
    prints = prints or fingerprint(con, tables)
    previous = _current_parquet(root)
    folder = root / "releases" / publication_id
    folder.mkdir(parents=True, exist_ok=False)
    counts = {"written": 0, "linked": 0}
    for mart in tables:
        if mart.name in PARTITIONED:
            written, linked = _write_parts(con, mart, folder, previous, prints)
            counts["written"] += written
            counts["linked"] += linked
            continue
        target, unchanged = folder / f"{mart.name}.parquet", None
        if previous and previous[1].marts.get(mart.name) == prints.marts[mart.name]:
            unchanged = previous[0] / f"{mart.name}.parquet"
        if unchanged is not None and unchanged.exists():
            _link(unchanged, target)
            counts["linked"] += 1
        else:
            con.execute(f"COPY marts.{identifier(mart.name)} TO {literal(str(target))} "
                        "(FORMAT parquet, COMPRESSION zstd)")
            counts["written"] += 1
    (folder / MANIFEST_FILE).write_text(prints.to_json())
    (folder / "_PUBLICATION").write_text(publication_id + "\n")
    return folder, counts


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


def publish(settings: Settings) -> dict:
    """Publish every mart: PostgreSQL (if configured), the DuckDB snapshot and Parquet, in that order.

    The warehouse is open (read-only) only while the snapshot file and the Parquet folder are written; PostgreSQL is
    then loaded from the snapshot file, so however long PostgreSQL makes the swap wait, the warehouse is free for
    the other commands. The files are swapped in after PostgreSQL has committed: if PostgreSQL fails, nothing at
    all has changed for any reader."""
    from tradewatch import serving_pg

    publication_id = new_publication_id()
    serving = settings.serving
    target = serving_pg.target(settings)
    snapshot, parquet_root = serving.directory / SNAPSHOT_NAME, serving.directory / "parquet"
    result: dict = {"publication_id": publication_id}
    with _one_publish_at_a_time(serving.directory):
        _remove_unfinished(parquet_root)
        with open_warehouse(settings.duckdb_path, read_only=True) as con:
            tables = marts(con)
            if not tables:
                raise TradewatchError("the warehouse has no marts to publish yet: run the refresh first (make demo, "
                                      "or the DAG), or `tradewatch build` after loading releases")
            prints = fingerprint(con, tables)
            staged, written = write_snapshot(con, tables, snapshot, publication_id, prints)
            folder, files = write_parquet(con, tables, parquet_root, publication_id, prints)
        try:
            if target is not None:
                result["postgres"] = serving_pg.publish(staged, tables, target, publication_id)
        except BaseException:
            staged.unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        result["snapshot"] = str(install_snapshot(staged, snapshot))
        result["parquet"] = str(link_parquet(parquet_root, publication_id, serving.keep_publications))
    result.update(marts=[m.name for m in tables], changed=written, parquet_files=files)
    log.info("published %d marts as %s (changed: %s; Parquet files written %d, linked unchanged %d): snapshot %s, "
             "parquet %s%s", len(tables), publication_id, ", ".join(written) or "none", files["written"],
             files["linked"], result["snapshot"], result["parquet"], ", PostgreSQL" if target is not None else "")
    return result
