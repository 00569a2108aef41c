"""The PostgreSQL serving database: every mart in schema `marts`, readable by a login role that can only read.

Publishing is one transaction: create schema `marts__next`, create and COPY every table with its types and
comments, grant SELECT to the reader, lock the live tables, rename `marts` away and `marts__next` into place, drop
the old schema, commit. A reader's statement sees the old marts or the new ones, never a missing table or a mix; a
failure anywhere rolls everything back and readers keep the previous publication.

`init` creates the schema and the reader role idempotently: LOGIN with a password, `default_transaction_read_only`,
CONNECT on the database, USAGE on `marts`, SELECT on its tables, nothing on `public`.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tradewatch.errors import ConfigurationError, TradewatchError
from tradewatch.redact import redact
from tradewatch.settings import Secret, Settings, url_secrets

if TYPE_CHECKING:
    from tradewatch.notifiers import ConnectionLookup
    from tradewatch.serve import Mart

log = logging.getLogger(__name__)

SCHEMA = "marts"
CONNECTION_ID = "tradewatch_serving"
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SIMPLE_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
                 "DOUBLE": "double precision", "FLOAT": "real", "DATE": "date", "BOOLEAN": "boolean",
                 "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "JSON": "jsonb",
                 "HUGEINT": "numeric(38,0)", "UUID": "uuid"}


@dataclass(frozen=True)
class Target:
    url: Secret  # postgresql://owner:password@host:port/dbname (the owner creates schemas and roles)
    reader_role: str
    reader_password: Secret

    def connect(self):
        import psycopg

        try:
            return psycopg.connect(self.url.reveal() or "", connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise TradewatchError("cannot connect to the serving database (TRADEWATCH_SERVING_URL): "
                                  + redact(str(exc).strip(), self.secrets)) from None

    @property
    def secrets(self) -> list[str]:
        return url_secrets(self.url) + [v for v in (self.reader_password.reveal(),) if v]


def target(settings: Settings, lookup: ConnectionLookup | None = None) -> Target | None:
    """The configured serving database, from the environment or the Airflow connection `tradewatch_serving`."""
    serving = settings.serving
    url = serving.url
    if lookup is not None and (conn := lookup(CONNECTION_ID)) and conn.get("host"):
        from urllib.parse import quote

        auth = quote(conn.get("login") or "", safe="") + (":" + quote(conn["password"], safe="")
                                                          if conn.get("password") else "")
        url = Secret(f"postgresql://{auth}@{conn['host']}:{conn.get('port') or 5432}/{conn.get('schema') or ''}")
    if not url:
        return None
    return Target(url, serving.reader_role, serving.reader_password)


def _pg_type(duck_type: str) -> str:
    if duck_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[duck_type]
    if match := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type):
        return f"numeric({match.group(1)},{match.group(2)})"
    if duck_type.startswith("TIMESTAMP"):
        return "timestamp"
    return "text"  # lists, structs, maps: their text form


def init(target: Target) -> list[str]:
    """Create the marts schema and the read-only reader role (idempotent). Returns what was done."""
    from psycopg import sql

    if not _ROLE.match(target.reader_role):
        raise ConfigurationError(f"TRADEWATCH_SERVING_READER={target.reader_role!r}: use lower-case letters, digits "
                                 "and underscores")
    done = []
    with target.connect() as conn:
        role = sql.Identifier(target.reader_role)
        database = conn.execute("SELECT current_database()").fetchall()[0][0]
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [target.reader_role]).fetchall()
        password = target.reader_password.reveal()
        if not exists:
            if not password:
                raise ConfigurationError("TRADEWATCH_SERVING_READER_PASSWORD is not set: the read-only role "
                                         f"{target.reader_role} needs a password to log in")
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                                 "NOINHERIT").format(role, sql.Literal(password)))
            done.append(f"created role {target.reader_role}")
        elif password:
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password)))
            done.append(f"set the password of role {target.reader_role}")
        conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(role))
        conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        _grant(conn, SCHEMA, target.reader_role)
        conn.commit()
        done.append(f"schema {SCHEMA}: USAGE and SELECT for {target.reader_role}, read-only transactions, nothing on "
                    "public")
    return done


def _grant(conn, schema: str, reader: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(reader)))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema),
                                                                               sql.Identifier(reader)))


def publish(duck: duckdb.DuckDBPyConnection, tables: list[Mart], target: Target, publication_id: str) -> dict:
    """Copy every mart into a new schema and swap it in, all in one transaction."""
    from psycopg import sql

    next_schema, old_schema = f"{SCHEMA}__next", f"{SCHEMA}__old"
    rows = {}
    with tempfile.TemporaryDirectory(prefix="tradewatch-pg-") as scratch, target.connect() as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [target.reader_role]).fetchall()
        if not exists:
            raise TradewatchError(f"the serving database has no role {target.reader_role}: run `tradewatch serving "
                                  "init` once (it creates the schema and the read-only role)")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(next_schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(next_schema)))
        for mart in tables:
            rows[mart.name] = _copy_table(duck, conn, mart, next_schema, Path(scratch))
        conn.execute(sql.SQL("CREATE TABLE {}.{} AS SELECT %s::text AS publication_id, now() AS published_at, "
                             "%s::integer AS marts").format(sql.Identifier(next_schema), sql.Identifier("publication")),
                     [publication_id, len(tables)])
        _grant(conn, next_schema, target.reader_role)
        live = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                           [SCHEMA]).fetchall()]
        if live:
            _lock_all(conn, [sql.Identifier(SCHEMA, t) for t in live])
        has_live = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA]).fetchall()
        if has_live:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old_schema)))
            conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(SCHEMA),
                                                                       sql.Identifier(old_schema)))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(next_schema),
                                                                   sql.Identifier(SCHEMA)))
        if has_live:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(old_schema)))
        conn.commit()
    log.info("PostgreSQL: published %d marts (%d rows) as %s", len(tables), sum(rows.values()), publication_id)
    return {"tables": len(tables), "rows": rows}


def _lock_all(conn, tables: list, timeout_ms: int = 500, give_up_s: float = 300.0) -> None:
    """Lock every live table for the instant of the swap, without ever deadlocking with a reader.

    A reader locks the tables of its statement one by one; so would a plain LOCK TABLE a, b, c, and the two can
    wait on each other. Here a lock wait is bounded (shorter than PostgreSQL's deadlock_timeout), and on timeout
    the locks taken so far are released (rollback to a savepoint) and it tries again, so a reader always wins."""
    import time

    from psycopg import errors, sql

    deadline = time.monotonic() + give_up_s
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{timeout_ms}ms")))
    attempt = 0
    while True:
        conn.execute("SAVEPOINT tw_lock")
        try:
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(tables)))
            conn.execute("RELEASE SAVEPOINT tw_lock")
            conn.execute("SET LOCAL lock_timeout = 0")
            return
        except errors.LockNotAvailable:
            conn.execute("ROLLBACK TO SAVEPOINT tw_lock")
            attempt += 1
            if time.monotonic() > deadline:
                raise TradewatchError(f"could not lock the live marts for the swap in {give_up_s:.0f} s: readers "
                                      "hold them continuously; the previous publication stays live") from None
            time.sleep(min(0.05 * attempt, 1.0))


def _copy_table(duck: duckdb.DuckDBPyConnection, conn, mart: Mart, schema: str, scratch: Path) -> int:
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
    quoted = '"' + mart.name.replace('"', '""') + '"'
    duck.execute(f"COPY (SELECT * FROM marts.{quoted}) TO '{path}' (FORMAT csv, HEADER false)")
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)) as copy, \
            path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    path.unlink()
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchall()[0][0]
