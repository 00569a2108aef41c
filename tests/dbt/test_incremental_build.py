"""The monthly refresh builds incrementally: only the periods published since the last build, with the same result
as a full rebuild; nothing new means no dbt run at all; a changed dbt project means a full rebuild."""

import json
from datetime import date

import duckdb
import pytest

from tests.conftest import make_settings
from tradewatch import cli, pipeline, transform
from tradewatch.periods import format_month, month_range

pytestmark = pytest.mark.slow
MONTHS = [format_month(m) for m in month_range(date(2024, 11, 1), date(2025, 6, 1))]


def refresh(settings, months):
    for dataset in pipeline.DATASETS:
        pipeline.fetch(settings, dataset, months)
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    return pipeline.build(settings)


def revise(archive, month: str, factor: int = 2) -> None:
    """A new vintage of one Census month: the quantities of its HS6 lines revised (values, and so every sum and
    the suite's size check, unchanged)."""
    path = archive / f"census/imports_hs/{month}_HS6.json"
    rows = json.loads(path.read_text())
    column = rows[0].index("CON_QY1_MO")
    for row in rows[1:]:
        row[column] = str(int(row[column]) * factor)
    path.write_text(json.dumps(rows))


def rows(settings, table="trade_monthly"):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()


def builds(settings):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute("SELECT mode, periods FROM audit.builds WHERE finished_at IS NOT NULL "
                           "ORDER BY started_at").fetchall()


def models_of_last_build(settings) -> tuple[list[str], dict]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        models, fingerprints = con.execute("SELECT models, fingerprints FROM audit.builds WHERE finished_at IS NOT "
                                           "NULL ORDER BY started_at DESC LIMIT 1").fetchall()[0]
    return models, json.loads(fingerprints)


def test_incremental_build_rebuilds_only_changed_periods_and_equals_a_full_rebuild(archive_copy, tmp_path,
                                                                                  monkeypatch, capsys):
    settings = make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(archive_copy))
    assert refresh(settings, MONTHS)["built"] == "full"
    before = rows(settings)

    revise(archive_copy, "2025-03")
    result = refresh(settings, ["2025-03"])
    assert result == {"built": "incremental", "periods": 1, "freshness_warnings": result["freshness_warnings"]}
    assert builds(settings)[-1] == ("incremental", [date(2025, 3, 1)])
    after = rows(settings)
    differs = set(after) ^ set(before)
    # exactly the revised rows differ: US imports at HS6 in March 2025 (their quantities); every other period and
    # level is as it was
    assert {(r[0], r[2], r[3], r[5].strftime("%Y-%m")) for r in differs} == {("USA", "import", "HS6", "2025-03")}
    assert len(differs) > 1000
    # the models downstream of the revised dataset only, and not the tariff chain below its unchanged weights
    models, fingerprints = models_of_last_build(settings)
    assert {"stg_census__imports", "trade_monthly", "tariff_rates_monthly"} <= set(models)
    assert not {"stg_bls__observations", "prices_monthly", "int_tariff_line_states", "tariff_rates_daily",
                "tariff_schedule"} & set(models)
    assert set(fingerprints) == {"int_tariff_weight_sources"}
    incremental = {table: rows(settings, table) for table in
                   ("trade_monthly", "commodity_trade_monthly", "trade_balance_monthly", "tariff_rates_monthly",
                    "tariff_rates_daily", "tariff_schedule", "prices_monthly")}

    # nothing published since: no dbt run, the marts untouched (here through the command an operator runs)
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(settings.data_dir))
    assert cli.main(["build"]) == 0 and "'built': 'skip'" in capsys.readouterr().out
    assert len(builds(settings)) == 2

    # the same warehouse rebuilt from scratch gives exactly the incremental result
    assert pipeline.build(settings, full=True)["built"] == "full"
    for table, expected in incremental.items():
        assert rows(settings, table) == expected, table

    # weights that changed since the last build (a new complete year): the tariff chain is rebuilt too
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("UPDATE audit.builds SET fingerprints = '{\"int_tariff_weight_sources\": \"other\"}'")
    revise(archive_copy, "2025-03", factor=3)
    assert refresh(settings, ["2025-03"])["built"] == "incremental"
    assert {"int_tariff_line_states", "tariff_rates_daily"} <= set(models_of_last_build(settings)[0])

    # a changed dbt project (a model or seed edited by an upgrade) rebuilds everything
    monkeypatch.setattr(transform, "project_fingerprint", lambda project_dir: "changed")
    revise(archive_copy, "2025-04")
    assert refresh(settings, ["2025-04"])["built"] == "full"
    assert [mode for mode, _ in builds(settings)] == ["full", "incremental", "full", "incremental", "full"]


def test_an_incremental_build_tests_the_months_it_rebuilt_and_a_failed_one_is_followed_by_a_full_one(
        tmp_path, small_archive):
    settings = make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(small_archive))
    refresh(settings, ["2025-04"])
    for dataset in ("census_imports_hs",):
        pipeline.fetch(settings, dataset, ["2025-05"])
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    with duckdb.connect(str(settings.duckdb_path)) as con:  # a duplicated line slips into the new month
        con.execute("INSERT INTO raw.census_imports_hs SELECT * FROM raw.census_imports_hs "
                    "WHERE period = '2025-05-01' AND comm_lvl = 'HS6' LIMIT 1")
    before = rows(settings)
    # caught in the first model that has it, the Census staging view; nothing below it is built from the bad month
    with pytest.raises(transform.TradewatchError, match="unique_combination_of_columns_stg_census__imports"):
        pipeline.build(settings)
    assert rows(settings) == before  # the marts keep their previous state
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("DELETE FROM raw.census_imports_hs WHERE rowid = (SELECT max(rowid) FROM raw.census_imports_hs)")
    assert pipeline.build(settings)["built"] == "full"  # the failed build did not finish: everything again
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT mode, periods, finished_at IS NOT NULL FROM audit.builds ORDER BY started_at"
                           ).fetchall() == [("full", [], True), ("incremental", [date(2025, 5, 1)], False),
                                            ("full", [], True)]


def test_the_refresh_scan_judges_only_the_changed_series_and_gives_a_full_scan_marts_anomalies(tmp_path,
                                                                                              small_archive):
    """After a month of US imports only, the scan judges the series of the groups with that month (the others keep
    their findings as they were) and marts.anomalies is exactly what a full scan gives."""
    from tradewatch import anomalies
    from tradewatch.warehouse import open_warehouse

    settings = make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(small_archive))
    for dataset in pipeline.DATASETS:  # everything but US imports' June
        pipeline.fetch(settings, dataset, MONTHS[:-1] if dataset == "census_imports_hs" else MONTHS)
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    pipeline.build(settings)
    pipeline.scan_anomalies(settings)
    mart = "SELECT * EXCLUDE (detected_at) FROM marts.anomalies ORDER BY anomaly_id"
    detected = "SELECT anomaly_id, series_id, detected_at FROM marts.anomalies"
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        before = con.execute(detected).fetchall()
    pipeline.fetch(settings, "census_imports_hs", MONTHS[-1:])
    pipeline.load(settings, "census_imports_hs")
    pipeline.validate(settings, "census_imports_hs")
    assert pipeline.build(settings)["built"] == "incremental"
    counts = pipeline.scan_anomalies(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        scans = con.execute("SELECT mode, months, series FROM detector.scans ORDER BY scanned_at").fetchall()
        incremental = con.execute(mart).fetchall()
        assert con.execute("SELECT count(*) FROM marts.anomalies").fetchall()[0][0] == counts["anomalies"]
        after = {a: at for a, _, at in con.execute(detected).fetchall()}
        judged = {s.series_id for s in anomalies.load_series(con, [date(2025, 6, 1)], ["census"])}
    assert [(mode, months) for mode, months, _ in scans] == [("full", None), ("incremental", [date(2025, 6, 1)])]
    assert 0 < scans[1][2] == len(judged) < scans[0][2]
    # the findings of the series not judged are kept as they were; those of the judged series are new
    assert all(after[a] == at for a, series, at in before if series not in judged and not series.startswith("rel"))
    assert all(after.get(a) != at for a, series, at in before if series in judged)
    assert any(series in judged for _, series, _ in before)  # some judged again
    assert any(series not in judged for _, series, _ in before)  # some kept

    with open_warehouse(settings.duckdb_path) as con:  # the same marts, scanned in full
        anomalies.scan_anomalies(con, anomalies.rules_from(settings))
    transform.build_anomalies(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute(mart).fetchall() == incremental
