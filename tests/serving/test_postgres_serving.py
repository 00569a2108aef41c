"""Publishing to a real PostgreSQL server started by the test on 127.0.0.1: every mart readable by a role that can
only read; readers in a loop during publishes never see a missing table or a mixed state; a failed publish
publishes nothing anywhere."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import date

import psycopg
import pytest

from tests.conftest import make_settings
from tradewatch.errors import TradewatchError
from tradewatch.serving import connection, postgres, publication, roles
from tradewatch.serving.snapshot import SNAPSHOT_NAME
from tradewatch.warehouse import open_warehouse

READER_PASSWORD = "reader-pw-123"


@pytest.fixture
def serving_db(postgres_server):
    """A fresh database owned by a role that may create roles (not a superuser), and a unique reader name."""
    suffix = uuid.uuid4().hex[:8]
    owner, database, reader, group = f"owner_{suffix}", f"serving_{suffix}", f"reader_{suffix}", f"readers_{suffix}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD 'owner-pw'")
        admin.execute(f"CREATE DATABASE {database} OWNER {owner}")
    return {"url": postgres_server.url(owner, "owner-pw", database), "reader": reader, "database": database,
            "group": group, "owner": owner,
            "reader_url": postgres_server.url(reader, READER_PASSWORD, database), "server": postgres_server}


def settings_for(tmp_path, db, **overrides):
    return make_settings(tmp_path, TRADEWATCH_SERVING_URL=db["url"], TRADEWATCH_SERVING_READER=db["reader"],
                         TRADEWATCH_SERVING_READER_GROUP=db["group"],
                         TRADEWATCH_SERVING_READER_PASSWORD=READER_PASSWORD, **overrides)


def build_marts(settings, version: int, rows: int) -> None:
    """Stand-in marts with every column type the real ones use, with comments (as dbt persists them)."""
    with open_warehouse(settings.duckdb_path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE OR REPLACE TABLE marts.trade_monthly (reporter_iso3 VARCHAR, period_month DATE, "
                    "value_usd BIGINT, months_in_period INTEGER, yoy_pct DOUBLE, is_synthetic BOOLEAN, "
                    "loaded_at TIMESTAMP, headline DECIMAL(38,3), note VARCHAR, version INTEGER)")
        con.execute("INSERT INTO marts.trade_monthly SELECT CASE WHEN i % 2 = 0 THEN 'USA' ELSE 'CHN' END, "
                    "DATE '2017-01-01' + to_months(i % 117), i * 1000, 1, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 7 "
                    "END, true, TIMESTAMP '2025-07-10 06:00:00', i * 1.5, CASE WHEN i % 5 = 0 THEN '' WHEN i % 5 = 1 "
                    "THEN NULL ELSE 'a, \"quoted\" note' END, ? FROM range(?) t(i)", [version, rows])
        con.execute("COMMENT ON TABLE marts.trade_monthly IS 'Every flow at every level'")
        con.execute("COMMENT ON COLUMN marts.trade_monthly.value_usd IS 'Value in US dollars'")
        con.execute("CREATE OR REPLACE TABLE marts.trade_balance_monthly AS SELECT period_month, sum(value_usd) "
                    "AS balance_usd, any_value(version) AS version FROM marts.trade_monthly GROUP BY 1")


def reader_query(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_publish_serves_every_mart_to_a_reader_that_can_only_read(tmp_path, serving_db):
    settings = settings_for(tmp_path, serving_db)
    target = connection.target(settings)
    assert roles.init(target)[0].startswith("created role")
    assert roles.init(target)[0].startswith("set the password")  # idempotent
    build_marts(settings, 1, 500)
    result = publication.publish(settings)
    assert result["postgres"]["rows"] == {"trade_balance_monthly": 117, "trade_monthly": 500}

    url = serving_db["reader_url"]
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        expected = con.execute("SELECT count(*), count(yoy_pct), count(note), count(*) FILTER (WHERE note = ''), "
                               "sum(value_usd), sum(headline) FROM marts.trade_monthly").fetchall()[0]
    got = reader_query(url, "SELECT count(*), count(yoy_pct), count(note), count(*) FILTER (WHERE note = ''), "
                            "sum(value_usd), sum(headline) FROM marts.trade_monthly")[0]
    assert tuple(got) == tuple(expected)  # NULL, empty string and quotes survive the copy
    assert reader_query(url, "SELECT publication_id FROM marts.publication") == [(result["publication_id"],)]
    types = dict(reader_query(url, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                                   "table_schema = 'marts' AND table_name = 'trade_monthly'"))
    assert types == {"reporter_iso3": "text", "period_month": "date", "value_usd": "bigint",
                     "months_in_period": "integer", "yoy_pct": "double precision", "is_synthetic": "boolean",
                     "loaded_at": "timestamp without time zone", "headline": "numeric", "note": "text",
                     "version": "integer"}
    assert reader_query(url, "SELECT obj_description('marts.trade_monthly'::regclass), "
                             "col_description('marts.trade_monthly'::regclass, 3)") == [
        ("Every flow at every level", "Value in US dollars")]

    for statement in ("INSERT INTO marts.trade_monthly (reporter_iso3) VALUES ('X')",
                      "UPDATE marts.trade_monthly SET value_usd = 0", "DELETE FROM marts.trade_monthly",
                      "CREATE TABLE marts.mine (a int)", "CREATE TABLE public.mine (a int)",
                      "CREATE TEMP TABLE mine (a int)", "DROP TABLE marts.trade_monthly"):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")  # even so
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("INSERT INTO marts.trade_monthly (reporter_iso3) VALUES ('X')")  # read-only by default
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(serving_db["server"].url(serving_db["reader"], "wrong", serving_db["database"]))


def test_readers_in_a_loop_never_see_a_missing_table_or_a_mixed_state(tmp_path, serving_db):
    settings = settings_for(tmp_path, serving_db)
    roles.init(connection.target(settings))
    sizes = {1: 400, 2: 900, 3: 250, 4: 700}
    build_marts(settings, 1, sizes[1])
    publication.publish(settings)
    seen, counts, errors, stop = set(), [0], [], threading.Event()
    probe = ("SELECT (SELECT min(version) FROM marts.trade_monthly), (SELECT max(version) FROM marts.trade_monthly), "
             "(SELECT count(*) FROM marts.trade_monthly), (SELECT min(version) FROM marts.trade_balance_monthly), "
             "(SELECT count(*) FROM marts.publication)")

    def reader() -> None:
        with psycopg.connect(serving_db["reader_url"], autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.add(tuple(conn.execute(probe).fetchall()[0]))
                    counts[0] += 1
                except psycopg.Error as exc:  # a missing table would land here
                    errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for version in (2, 3, 4):
        build_marts(settings, version, sizes[version])
        publication.publish(settings)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert counts[0] > 50
    states = seen
    assert states <= {(v, v, sizes[v], v, 1) for v in sizes}, states - {(v, v, sizes[v], v, 1) for v in sizes}
    assert (4, 4, sizes[4], 4, 1) in states


def test_a_failed_publish_changes_nothing_for_any_reader(tmp_path, serving_db, monkeypatch):
    settings = settings_for(tmp_path, serving_db)
    roles.init(connection.target(settings))
    build_marts(settings, 1, 300)
    first = publication.publish(settings)
    snapshot_before = (settings.serving.directory / SNAPSHOT_NAME).read_bytes()
    parquet_before = (settings.serving.directory / "parquet" / "current").resolve()

    build_marts(settings, 2, 800)
    copy = postgres._copy_table
    calls = itertools.count()

    def failing_copy(*args, **kwargs):
        if next(calls) == 1:
            raise psycopg.errors.DiskFull("could not extend file: No space left on device")
        return copy(*args, **kwargs)

    monkeypatch.setattr(postgres, "_copy_table", failing_copy)
    with pytest.raises(TradewatchError, match="publishing to the serving database: could not extend file"):
        publication.publish(settings)
    url = serving_db["reader_url"]
    assert reader_query(url, "SELECT publication_id FROM marts.publication") == [(first["publication_id"],)]
    assert reader_query(url, "SELECT count(*), min(version) FROM marts.trade_monthly") == [(300, 1)]
    assert reader_query(url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'marts__%'") == [(0,)]
    assert (settings.serving.directory / SNAPSHOT_NAME).read_bytes() == snapshot_before
    assert (settings.serving.directory / "parquet" / "current").resolve() == parquet_before


def test_publish_without_init_says_what_to_do_and_keeps_the_password_out(tmp_path, serving_db):
    settings = settings_for(tmp_path, serving_db)
    build_marts(settings, 1, 10)
    with pytest.raises(TradewatchError, match="tradewatch serving init") as caught:
        publication.publish(settings)
    assert "owner-pw" not in str(caught.value)
    wrong = make_settings(tmp_path, TRADEWATCH_SERVING_URL=serving_db["url"].replace("owner-pw", "nope-pw"))
    with pytest.raises(TradewatchError, match="cannot connect to the serving database") as caught:
        publication.publish(wrong)
    assert "nope-pw" not in str(caught.value)


def test_marts_periods_survive_as_dates(tmp_path, serving_db):
    settings = settings_for(tmp_path, serving_db)
    roles.init(connection.target(settings))
    build_marts(settings, 1, 5)
    publication.publish(settings)
    assert reader_query(serving_db["reader_url"], "SELECT min(period_month) FROM marts.trade_monthly") == [
        (date(2017, 1, 1),)]
