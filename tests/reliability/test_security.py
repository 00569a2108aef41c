"""Secrets never leak; the serving role cannot write; hostile values from configuration or run parameters are
rejected with a clear error before they reach SQL or a URL."""

from __future__ import annotations

import json
import logging

import duckdb
import psycopg
import pytest

from tests.conftest import Reply, make_settings
from tests.reliability.conftest import Fault, scenario
from tradewatch import alerts, cli, pipeline
from tradewatch.errors import ConfigurationError, SourceError
from tradewatch.http import Request
from tradewatch.serving import connection, publication, roles
from tradewatch.sources import census
from tradewatch.warehouse import open_warehouse

pytestmark = pytest.mark.slow  # the fault-injection suite: minutes, run by `make test` and CI

KEYS = {"CENSUS_API_KEY": "cEnSuS-sEcReT-4f9a", "BLS_API_KEY": "bLs-SeCrEt-77aa", "COMTRADE_API_KEY": "cOmTrAdE-9x9x"}
ALERT_SECRETS = {"TRADEWATCH_ALERT_WEBHOOK_TOKEN": "hook-token-5ec7"}


def every_text(settings) -> str:
    """Everything the run wrote: every file under the data directory and every value of every warehouse table."""
    texts = []
    for path in settings.data_dir.rglob("*"):
        if path.is_file() and path.suffix != ".duckdb":
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
            texts.append(json.dumps(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall(), default=str))
    return "\n".join(texts)


@scenario("Security", "API keys in logs, stored URLs, exceptions, audit tables, alert payloads",
          "after a live run with keys (with a failing release, a quarantine alert and a task-failure alert), no key or "
          "alert token appears in any file written, any table, any log record, any exception or any payload sent")
def test_keys_never_leak(tmp_path, replay_server, fake_publisher, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    for name, value in {**KEYS, **ALERT_SECRETS}.items():  # as in a deployment: the task-failure callback reads them
        monkeypatch.setenv(name, value)
    servers = {name: replay_server(name) for name in ("census", "bls", "comtrade")}
    failing = replay_server("census", [Fault("status", 500, b"error for key=cEnSuS-sEcReT-4f9a")], repeat=True)
    receiver = fake_publisher(Reply(200, b"ok"))
    env = {f"TRADEWATCH_{n.upper()}_BASE_URL": s.base_url for n, s in servers.items()}
    settings = make_settings(tmp_path / "data", TRADEWATCH_SOURCE_MODE="live", **env, **KEYS, **ALERT_SECRETS,
                             TRADEWATCH_ALERT_WEBHOOK_URL=receiver.base_url, TRADEWATCH_HTTP_MAX_ATTEMPTS="2")
    errors = []
    for dataset in ("census_imports_hs", "bls_series", "comtrade_cn_monthly"):
        pipeline.fetch(settings, dataset, ["2025-05"], as_of="2025-08-10")
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    broken = make_settings(tmp_path / "data", TRADEWATCH_SOURCE_MODE="live", **KEYS, **ALERT_SECRETS,
                           TRADEWATCH_CENSUS_BASE_URL=failing.base_url, TRADEWATCH_HTTP_MAX_ATTEMPTS="2")
    with pytest.raises(SourceError) as caught:
        pipeline.fetch(broken, "census_exports_hs", ["2025-05"], as_of="2025-08-10")
    errors.append(str(caught.value))
    alert = alerts.quarantine_alert("census_imports_hs:2025-06:x", "census_imports_hs", "2025-06",
                                    [f"key={KEYS['CENSUS_API_KEY']} echoed by a publisher"], "/x.json")
    with open_warehouse(settings.duckdb_path) as con:
        alerts.dispatch(con, settings, [alert])
    errors.append(alerts.task_failed("dag", "fetch", "run", None, RuntimeError(f"boom {KEYS['BLS_API_KEY']}")))

    assert any(KEYS["CENSUS_API_KEY"].encode() in raw for raw in servers["census"].raw)  # it was really sent
    written = every_text(settings)
    sent = b"\n".join(receiver.bodies).decode()
    for secret in (*KEYS.values(), *ALERT_SECRETS.values()):
        assert secret not in written, secret
        assert secret not in caplog.text, secret
        assert secret not in "\n".join(errors), secret
        assert secret not in sent, secret
    assert "***" in "\n".join(errors) or "***" in sent  # a secret quoted back was masked, not dropped silently


@scenario("Security", "the serving role cannot write",
          "tradewatch_reader is refused INSERT, UPDATE, DELETE and CREATE on a real PostgreSQL, even after asking "
          "for a read-write session")
def test_the_serving_role_cannot_write(tmp_path, postgres_server):
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS reliability_serving")
        admin.execute("CREATE DATABASE reliability_serving")
    settings = make_settings(tmp_path, TRADEWATCH_SERVING_URL=postgres_server.url(dbname="reliability_serving"),
                             TRADEWATCH_SERVING_READER="reliability_reader",
                             TRADEWATCH_SERVING_READER_GROUP="reliability_readers",
                             TRADEWATCH_SERVING_READER_PASSWORD="rr-pw")
    with open_warehouse(settings.duckdb_path) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS a")
    roles.init(connection.target(settings))
    publication.publish(settings)
    url = postgres_server.url("reliability_reader", "rr-pw", "reliability_serving")
    for statement in ("INSERT INTO marts.t VALUES (2)", "UPDATE marts.t SET a = 3", "DELETE FROM marts.t",
                      "CREATE TABLE marts.x (a int)"):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


HOSTILE = "2025-05'; DROP TABLE audit.releases; --"


@scenario("Security", "hostile period, partner code and release id",
          "a hostile period (CLI argument or TRADEWATCH_START_MONTH), partner code or chapter is rejected with a "
          "clear error before any SQL or URL; a hostile release id is bound as a parameter and changes nothing")
def test_hostile_values_are_rejected_or_bound(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        cli.main(["fetch", "--source", "census", "--period", HOSTILE])
    assert "is not a month in the form YYYY-MM" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["anomalies", "--since", HOSTILE])
    with pytest.raises(ConfigurationError, match="TRADEWATCH_START_MONTH"):
        make_settings(tmp_path, TRADEWATCH_START_MONTH=HOSTILE)
    dataset = census.DATASETS["census_imports_hs"]
    from datetime import date

    with pytest.raises(ConfigurationError, match="4-digit Census country codes"):
        census.build_request("https://api.census.gov/x", dataset, date(2025, 5, 1), "HS2",
                             partners=("5700&key=stolen",))
    with pytest.raises(ConfigurationError, match="chapters 2 digits"):
        census.build_request("https://api.census.gov/x", dataset, date(2025, 5, 1), "HS10", chapter="85*&time=*")
    assert isinstance(census.build_request("https://api.census.gov/x", dataset, date(2025, 5, 1), "HS2"), Request)

    settings = make_settings(tmp_path / "w")
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(settings.data_dir))
    with open_warehouse(settings.duckdb_path):
        pass
    assert cli.main(["quality", "release", HOSTILE, "--reason", "x"]) == 2  # "not quarantined": nothing to do
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit.releases").fetchall() == [(0,)]  # the table is still there
