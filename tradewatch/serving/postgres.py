"""Publishing the marts to the PostgreSQL serving database (its roles: tradewatch.serving.roles).

`publish` reads the new DuckDB snapshot file (never the warehouse, which is closed by then) and
1. stages schema `marts__next` with every table (types, comments, data by COPY) and `publication`, committed;
2. swaps it in, in one transaction: grant the reader group on `marts__next`, lock the live tables (ACCESS EXCLUSIVE),
   rename `marts` away and `marts__next` into place, drop the old schema, commit. A reader's statement sees the old
   marts or the new ones, never a missing table or a mix: a statement that touched an old table holds its lock
   until it ends, and the swap waits for it.
The lock is asked for in short steps, each shorter than deadlock_timeout, so a reader whose statement locks the
tables in another order never deadlocks with the swap: the swap backs off. For TRADEWATCH_SERVING_LOCK_WAIT_SECONDS
readers go first; after that every reader session still holding a live table is cut — a running statement is
cancelled; a session idle in an open transaction (where a cancel does nothing), or one cancelled twice already, is
terminated — and each cut is logged with the role, pid, application, state and for how long. Sessions of any other
role are never touched: if they still hold the tables at TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS, publishing fails
naming them, and readers keep the previous publication. The timeouts `serving init` sets on the reader roles make
cuts rare; they are no guarantee (a reader may SET them off in its own session), the cut is.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tradewatch.errors import TradewatchError
from tradewatch.serving import roles
from tradewatch.sql import identifier, literal

if TYPE_CHECKING:
    from tradewatch.serving.connection import Target
    from tradewatch.serving.marts import Mart

log = logging.getLogger(__name__)

SCHEMA = roles.SCHEMA
NEXT_SCHEMA, OLD_SCHEMA = f"{SCHEMA}__next", f"{SCHEMA}__old"
_PUBLISH_LOCK = (0x7477, 0x7075)  # pg_try_advisory_lock keys: one publish at a time per serving database
_SIMPLE_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
                 "DOUBLE": "double precision", "FLOAT": "real", "DATE": "date", "BOOLEAN": "boolean",
                 "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "JSON": "jsonb",
                 "HUGEINT": "numeric(38,0)", "UUID": "uuid"}


def _pg_type(duck_type: str) -> str:
    if duck_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[duck_type]
    if match := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type):
        return f"numeric({match.group(1)},{match.group(2)})"
    if duck_type.startswith("TIMESTAMP"):
        return "timestamp"
    return "text"  # lists, structs, maps: their text form


def publish(snapshot: Path, tables: list[Mart], target: Target, publication_id: str) -> dict:
    """Copy every mart of the DuckDB `snapshot` file into schema marts__next, then swap it in (see the module)."""
    started = time.monotonic()
    serving = target.serving
    with target.errors("publishing to the serving database"), \
            target.connect(autocommit=True, application_name="tradewatch publish") as conn:
        from psycopg import sql

        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{serving.swap_timeout_seconds}s")))
        if not conn.execute("SELECT pg_try_advisory_lock(%s, %s)", _PUBLISH_LOCK).fetchall()[0][0]:
            raise TradewatchError("another publish to this serving database is running (from another machine?); "
                                  "the previous publication stays live: publish again when it has finished")
        roles.require_group(conn, serving)
        roles.enforce(conn, roles.owner_role(conn), serving)
        rows = _stage(conn, snapshot, tables, publication_id)
        try:  # the readers' wait and the swap's bound start now, however long staging took
            cuts = _swap(conn, target, time.monotonic())
        except BaseException:
            _discard(conn)
            raise
    log.info("PostgreSQL: published %d marts (%d rows) as %s in %.1f s%s", len(tables), sum(rows.values()),
             publication_id, time.monotonic() - started,
             f"; cut {len(cuts)} reader session(s) that held the live marts" if cuts else "")
    return {"tables": len(tables), "rows": rows, "cut_sessions": cuts}


def _stage(conn, snapshot: Path, tables: list[Mart], publication_id: str) -> dict[str, int]:
    """Schema marts__next with every table and its data, committed (readers have no grant on it yet)."""
    import duckdb
    from psycopg import sql

    rows = {}
    with conn.transaction(), duckdb.connect(str(snapshot), read_only=True) as duck, \
            tempfile.TemporaryDirectory(prefix="tradewatch-pg-") as scratch:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(NEXT_SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(NEXT_SCHEMA)))
        for mart in tables:
            rows[mart.name] = _copy_table(duck, conn, mart, NEXT_SCHEMA, Path(scratch))
        conn.execute(sql.SQL("CREATE TABLE {}.{} AS SELECT %s::text AS publication_id, now() AS published_at, "
                             "%s::integer AS marts").format(sql.Identifier(NEXT_SCHEMA), sql.Identifier("publication")),
                     [publication_id, len(tables)])
    return rows


def _discard(conn) -> None:
    """After a failed swap: drop the staged schema (best effort; the next publish drops it anyway)."""
    import psycopg
    from psycopg import sql

    try:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(NEXT_SCHEMA)))
    except psycopg.Error as exc:
        log.warning("could not drop the staged schema %s: %s", NEXT_SCHEMA, exc)


def _swap(conn, target: Target, started: float, attempts: int = 3) -> list[dict]:
    """Rename marts__next into place in one transaction; retried (within the time bound) after a deadlock."""
    from psycopg import errors, sql

    serving = target.serving
    deadline = started + serving.swap_timeout_seconds
    cuts: list[dict] = []
    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():
                roles.grant(conn, NEXT_SCHEMA, serving.reader_group)
                live = conn.execute("SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON "
                                    "n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
                                    "ORDER BY c.relname", [SCHEMA]).fetchall()
                if live:
                    _lock_live_tables(conn, target, live, started, cuts)
                remaining = max(deadline - time.monotonic(), 1.0)
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{remaining:.0f}s")))
                if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA]).fetchall():
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(OLD_SCHEMA)))
                    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(SCHEMA),
                                                                               sql.Identifier(OLD_SCHEMA)))
                    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(NEXT_SCHEMA),
                                                                               sql.Identifier(SCHEMA)))
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(OLD_SCHEMA)))
                else:
                    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(NEXT_SCHEMA),
                                                                               sql.Identifier(SCHEMA)))
            return cuts
        except (errors.DeadlockDetected, errors.SerializationFailure) as exc:
            if attempt == attempts or time.monotonic() >= deadline:
                raise
            log.warning("the swap was rolled back (%s); trying again (attempt %d of %d)", target.clean(exc),
                        attempt + 1, attempts)
    return cuts


@dataclass(frozen=True)
class _Holder:
    """A session holding a lock on a live table."""

    pid: int
    role_oid: int
    role: str
    application: str
    state: str  # empty when the owner may not see it (another role's session)
    state_seconds: float
    transaction_seconds: float

    def describe(self) -> str:
        state = f"{self.state} for {self.state_seconds:.1f} s" if self.state else "state not visible"
        return f"pid {self.pid} (role {self.role}, application {self.application!r}, {state})"


def _holders(conn, relations: list[int]) -> list[_Holder]:
    """The sessions holding a lock on `relations` now. Inside a transaction PostgreSQL shows pg_stat_activity as of
    its first read (a snapshot): clear it first, and measure durations with clock_timestamp(), not now() (the start
    of our transaction)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = conn.execute(
        "SELECT a.pid, a.usesysid, a.usename, coalesce(a.application_name, ''), coalesce(a.state, ''), "
        "coalesce(extract(epoch FROM clock_timestamp() - a.state_change), 0)::float8, "
        "coalesce(extract(epoch FROM clock_timestamp() - a.xact_start), 0)::float8 FROM pg_stat_activity a "
        "WHERE a.pid <> pg_backend_pid() AND a.pid IN (SELECT l.pid FROM pg_locks l WHERE l.granted AND "
        "l.locktype = 'relation' AND l.relation = ANY(%s::oid[]) AND "
        "l.database = (SELECT oid FROM pg_database WHERE datname = current_database())) ORDER BY a.pid",
        [relations]).fetchall()
    return [_Holder(*row) for row in rows]


def _lock_live_tables(conn, target: Target, live: list[tuple[int, str]], started: float, cuts: list[dict]) -> None:
    """ACCESS EXCLUSIVE on every live table, waited for in steps shorter than deadlock_timeout; after the polite
    wait, the reader sessions holding them are cut; never any other role's."""
    from psycopg import errors, sql

    serving = target.serving
    deadline = started + serving.swap_timeout_seconds
    polite_until = started + serving.lock_wait_seconds
    deadlock_ms = conn.execute("SELECT setting::int FROM pg_settings WHERE name = 'deadlock_timeout'").fetchall()[0][0]
    step = sql.Literal(f"{max(20, min(500, deadlock_ms // 2))}ms")
    lock = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
        sql.SQL(", ").join(sql.Identifier(SCHEMA, name) for _, name in live))
    readers = {oid for oid, _ in roles.reader_logins(conn, serving.reader_group)}
    times_cut: dict[int, int] = {}
    attempt = 0
    while True:
        try:
            with conn.transaction():  # a savepoint: a timed-out attempt releases what it locked
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(step))
                conn.execute(lock)
            return
        except errors.LockNotAvailable:
            attempt += 1
        holders = _holders(conn, [oid for oid, _ in live])
        now = time.monotonic()
        if now >= deadline:
            others = [h for h in holders if h.role_oid not in readers]
            held = "; ".join(h.describe() for h in (others or holders)) or "sessions that have since let go"
            raise TradewatchError(
                f"could not lock the live marts for the swap within {serving.swap_timeout_seconds:g} s; the previous "
                f"publication stays live. Held by {held}"
                + (". Sessions of roles other than the readers are never cut: end them, or raise "
                   "TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS" if others else ""))
        if now < polite_until:
            time.sleep(min(0.05 * attempt, 0.5))
            continue
        for holder in holders:  # a session found "idle" has let go since pg_locks was read
            if holder.role_oid in readers and holder.state != "idle":
                cuts.append(_cut(conn, holder, times_cut))


def _cut(conn, holder: _Holder, times_cut: dict[int, int]) -> dict:
    """Cancel a reader's running statement; terminate its session when it sits in an open transaction (a cancel
    does nothing there) or kept its locks through two cancels."""
    before = times_cut.get(holder.pid, 0)
    times_cut[holder.pid] = before + 1
    cancel = holder.state == "active" and before < 2
    function = "pg_cancel_backend" if cancel else "pg_terminate_backend"
    signalled = conn.execute(f"SELECT {function}(%s)", [holder.pid]).fetchall()[0][0]
    action = "cancelled the statement of" if cancel else "terminated"
    log.warning("publish: %s reader session %s, transaction open %.1f s: it held the live marts the swap must lock%s",
                action, holder.describe(), holder.transaction_seconds, "" if signalled else " (it had already ended)")
    return {"action": "cancel" if cancel else "terminate", "pid": holder.pid, "role": holder.role,
            "application": holder.application, "state": holder.state,
            "state_seconds": round(holder.state_seconds, 1),
            "transaction_seconds": round(holder.transaction_seconds, 1)}


def _copy_table(duck, conn, mart: Mart, schema: str, scratch: Path) -> int:
    from psycopg import sql

    table = sql.Identifier(schema, mart.name)
    columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_pg_type(kind)))
                                 for name, kind, _ in mart.columns)
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
    if mart.comment:
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(mart.comment)))
    for name, _kind, comment in mart.columns:
        if comment:
            conn.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(table, sql.Identifier(name),
                                                                          sql.Literal(comment)))
    path = scratch / f"{mart.name}.csv"
    duck.execute(f"COPY (SELECT * FROM marts.{identifier(mart.name)}) TO {literal(str(path))} "
                 "(FORMAT csv, HEADER false)")
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)) as copy, \
            path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    path.unlink()
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchall()[0][0]
