"""Publishing the marts for readers, only after a fully successful refresh, atomically, rewriting only what changed.

- A read-only DuckDB snapshot (`serving/tradewatch.duckdb`, tradewatch.serving.snapshot): the marts in a new file,
  renamed over the old one; a reader that has the old file open keeps reading the old state. Never a half-written
  file; only the marts whose rows or columns changed are written (only the changed months of `trade_monthly`).
- Parquet (`serving/parquet/current/...`, tradewatch.serving.parquet): each publication in its own folder,
  `current` a symlink swapped by rename; a file whose rows did not change is a hard link to the previous one.
- PostgreSQL, when TRADEWATCH_SERVING_URL (or the Airflow connection `tradewatch_serving`) names one: see
  tradewatch.serving.postgres (stage a new schema, swap it in with one transaction).

What changed is known from fingerprints: a hash of each mart's columns and rows, and of each month of
`trade_monthly`, kept with each publication (in the snapshot's `tradewatch.publication_manifest`, in each Parquet
folder's `_manifest.json`) and compared with the warehouse's. A build that changed nothing publishes nothing new.

The refresh's private warehouse is never what readers open, so a reader never blocks the next refresh; and publishing
holds it (read-only) only while it writes the new files, never while PostgreSQL makes it wait.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tradewatch.errors import TradewatchError
from tradewatch.serving import connection, postgres
from tradewatch.serving.marts import fingerprint, marts, new_publication_id
from tradewatch.serving.parquet import link_parquet, remove_unfinished, write_parquet
from tradewatch.serving.snapshot import SNAPSHOT_NAME, install_snapshot, write_snapshot
from tradewatch.settings import Settings
from tradewatch.sql import literal
from tradewatch.warehouse import open_warehouse

log = logging.getLogger(__name__)


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
    publication_id = new_publication_id()
    serving = settings.serving
    target = connection.target(settings)
    snapshot, parquet_root = serving.directory / SNAPSHOT_NAME, serving.directory / "parquet"
    result: dict = {"publication_id": publication_id}
    with _one_publish_at_a_time(serving.directory):
        remove_unfinished(parquet_root)
        with open_warehouse(settings.duckdb_path, read_only=True) as con:
            # Parquet partitioned by month buffers every open partition: unbounded, a ten-year backfill's first
            # publish peaked at 2.3 GB; bounded, DuckDB flushes early (docs/benchmarks.md)
            con.execute(f"SET memory_limit = {literal(settings.publish_memory_limit)}")
            tables = marts(con)
            if not tables:
                raise TradewatchError("the warehouse has no marts to publish yet: run the refresh first (make demo, "
                                      "or the DAG), or `tradewatch build` after loading releases")
            prints = fingerprint(con, tables)
            staged, written = write_snapshot(con, tables, snapshot, publication_id, prints)
            folder, files = write_parquet(con, tables, parquet_root, publication_id, prints)
        try:
            if target is not None:
                result["postgres"] = postgres.publish(staged, tables, target, publication_id)
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
