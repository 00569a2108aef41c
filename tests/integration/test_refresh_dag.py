"""The monthly refresh DAG end to end, through Airflow's own `airflow dags test`, on the sample archive."""

import json

import duckdb
import pytest

from tests.conftest import Reply, make_settings
from tradewatch import airflow_local

pytestmark = pytest.mark.slow
DAG_ID = "tradewatch_monthly_refresh"
LOGICAL_DATE = "2025-08-10T06:00:00+00:00"  # reference month 2025-06, the small archive's last month
#: `airflow dags test` waits out retry delays; a run that needs a retry is a failure here, not a 15-minute wait.
TIMEOUT = 300


def query(settings, sql):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def received(receiver) -> list[dict]:
    return [alert for body in receiver.bodies for alert in json.loads(body)["alerts"]]


def test_refresh_runs_end_to_end_then_a_broken_release_fails_the_run_and_publishes_nothing(tmp_path,
                                                                                           archive_copy,
                                                                                           fake_publisher):
    settings = make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(archive_copy))
    receiver = fake_publisher(Reply(200, b"ok"))
    extra = {"TRADEWATCH_START_MONTH": "2024-01", "TRADEWATCH_ALERT_WEBHOOK_URL": f"{receiver.base_url}/hook"}
    log = tmp_path / "airflow.log"

    code = airflow_local.dags_test(settings, DAG_ID, LOGICAL_DATE, log, extra_env=extra, timeout=TIMEOUT)
    assert code == 0, log.read_text()[-4000:]
    assert query(settings, "SELECT dataset, count(*) FROM audit.releases WHERE status = 'published' "
                           "GROUP BY 1 ORDER BY 1") == [("bls_series", 18), ("census_exports_hs", 18),
                                                        ("census_imports_hs", 18),
                                                        ("census_imports_hs10_annual", 1),  # 2024's December
                                                        ("comtrade_cn_monthly", 18),
                                                        ("gacc_major_commodities", 16),
                                                        ("gacc_preliminary", 16),  # Jan-Feb together
                                                        ("gacc_trade_by_country", 16),
                                                        ("nbs_price_indexes", 18),
                                                        ("usitc_hts_lines", 1)]  # only the revision in force
    assert query(settings, "SELECT mode, finished_at IS NOT NULL FROM audit.builds") == [("full", True)]
    assert query(settings, "SELECT DISTINCT year, partner_iso3 FROM staging.stg_census__imports_hs10_annual") == [
        (2024, "CHN")]  # the tariff weights' year, through the gate and staging
    marts = query(settings, "SELECT * FROM marts.trade_balance_monthly ORDER BY ALL")
    # US: 18 months x 5 partners; China: 16 periods (Jan-Feb as one) x the 12 regions of the sample's country table
    # that the label seed maps to a country or the world
    assert len(marts) == 18 * 5 + 16 * 12
    latest = query(settings, "SELECT max(period_month) FROM marts.trade_balance_monthly")[0][0]
    assert latest.strftime("%Y-%m") == "2025-06"
    assert query(settings, "SELECT country_iso3, series_code, count(*) FROM marts.prices_monthly "
                           "GROUP BY ALL ORDER BY ALL") == [
        ("CHN", "CPI", 29), ("CHN", "PPI", 29),  # NBS: the 12 months before 2024-01 onward, 2023-02 .. 2025-06
        ("USA", "CPI", 30), ("USA", "IMPORT_PRICES_ALL", 30), ("USA", "IMPORT_PRICES_FROM_CHN", 30),
        ("USA", "PPI", 30)]  # BLS: January of the year before 2024-01 onward, 2023-01 .. 2025-06

    # The spring-2025 shock, found and sent once; with 18 months of history only the YoY rule applies.
    assert query(settings, "SELECT method, confidence, severity, likely_cause_event_id FROM marts.anomalies "
                           "WHERE series_id = 'total:USA:CHN:import' AND period_month = '2025-05-01'") == [
        ("yoy", "low", "warning", "US-2025-30")]
    first = received(receiver)
    assert first and {a["kind"] for a in first} == {"anomaly"}
    assert any(a["title"].startswith("US imports from China (US-reported) fell") for a in first)
    assert all(a["period_month"] >= "2025-04-01" for a in first)  # recent only: history is stored, not paged
    (body,) = [json.loads(b) for b in receiver.bodies]  # one message for the whole refresh, in stories
    stories = body["stories"]
    assert len(stories) < len(first) and sum(len(s["keys"]) for s in stories) == len(first)
    assert [s["severity"] for s in stories] == sorted((s["severity"] for s in stories), key=["critical",
                                                      "warning"].index)  # the most severe first
    trade = next(s for s in stories if "direction = 'CN->US'" in s["message"])  # goods from China, both reports
    assert "US imports from China (US-reported)" in trade["message"] and "China's exports to the US" in \
        trade["message"]
    assert "% of the fall" in trade["message"] and "Chapters: HS " in trade["message"]  # what carried it
    recorded = query(settings, "SELECT count(*) FROM audit.alerts WHERE channel = 'webhook'")
    assert recorded == [(len(first),)]  # each anomaly recorded (and sent once) on its own

    # Published for readers: the snapshot with every mart and the anomalies, Parquet, the report.
    snapshot = settings.serving.directory / "tradewatch.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        published = con.execute("SELECT publication_id FROM marts.publication").fetchall()
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'trade_balance_monthly' "
                           "AND column_name = 'balance_usd'").fetchall()[0][0]  # dbt docs carried as comments
    assert {"trade_monthly", "trade_balance_monthly", "anomalies", "publication"} <= tables
    assert (settings.serving.directory / "parquet" / "current" / "anomalies.parquet").exists()
    assert (settings.serving.directory / "report" / "index.html").exists()

    # The publisher re-issues June with most rows missing: the run must fail at the gate and publish nothing.
    for level in ("HS2", "HS6"):
        path = archive_copy / f"census/imports_hs/2025-06_{level}.json"
        path.write_text(json.dumps(json.loads(path.read_text())[:25]))
    second_log = tmp_path / "airflow_second.log"
    code = airflow_local.dags_test(settings, DAG_ID, LOGICAL_DATE, second_log, extra_env=extra, timeout=TIMEOUT)
    assert code == 1, second_log.read_text()[-4000:]
    text = second_log.read_text()
    assert "failed their quality suite" in text
    assert "tradewatch: task validate[0] of tradewatch_monthly_refresh failed" in text  # failure callback
    assert query(settings, "SELECT * FROM marts.trade_balance_monthly ORDER BY ALL") == marts
    with duckdb.connect(str(snapshot), read_only=True) as con:  # a failed refresh publishes nothing
        assert con.execute("SELECT publication_id FROM marts.publication").fetchall() == published
    later = received(receiver)[len(first):]
    assert [a["kind"] for a in later] == ["quarantine", "task_failure"]  # no anomaly sent twice
    assert later[0]["release_id"].startswith("census_imports_hs:2025-06")
    assert later[1]["title"] == "task validate[0] of tradewatch_monthly_refresh failed"
    assert query(settings, "SELECT status, vintage FROM audit.releases WHERE dataset = 'census_imports_hs' "
                           "AND period = '2025-06-01' ORDER BY vintage") == [("published", 1), ("quarantined", 2)]
