"""dbt build on the sample, checked against figures recomputed independently from the archive files."""

import json
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import make_settings
from tradewatch import pipeline, quality, summary
from tradewatch.errors import QualityGateFailed
from tradewatch.periods import add_months, format_month, month_range

pytestmark = pytest.mark.slow
MONTHS = [format_month(m) for m in month_range(date(2024, 1, 1), date(2025, 6, 1))]


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_archive):
    root = tmp_path_factory.mktemp("dbt")
    archive = root / "archive"
    shutil.copytree(small_archive, archive)
    settings = make_settings(root / "data", TRADEWATCH_ARCHIVE_DIR=str(archive))
    for dataset in pipeline.DATASETS:
        pipeline.fetch(settings, dataset, MONTHS)
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    pipeline.build(settings)
    return settings, archive


def mart(settings, partner="CHN"):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        cursor = con.execute("SELECT * FROM marts.trade_balance_monthly WHERE partner_iso3 = ? ORDER BY period_month",
                             [partner])
        names = [d[0] for d in cursor.description]
        return {row[2].strftime("%Y-%m"): dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def recompute(archive: Path, cty: str = "5700") -> dict[str, dict[str, int]]:
    """Imports and exports per month straight from the landed JSON, with Python's json module (not dbt SQL)."""
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for flow, folder, value in (("imports", "imports_hs", "GEN_VAL_MO"), ("exports", "exports_hs", "ALL_VAL_MO")):
        for month in MONTHS:
            rows = json.loads((archive / f"census/{folder}/{month}_HS2.json").read_text())
            header = rows[0]
            totals[month][flow] = sum(int(r[header.index(value)]) for r in rows[1:]
                                      if r[header.index("CTY_CODE")] == cty)
    return totals


def test_mart_matches_an_independent_recomputation(built):
    settings, archive = built
    expected, rows = recompute(archive), mart(settings)
    assert sorted(rows) == MONTHS
    for month in MONTHS:
        row, exp = rows[month], expected[month]
        assert (row["exports_usd"], row["imports_usd"]) == (exp["exports"], exp["imports"]), month
        assert row["balance_usd"] == exp["exports"] - exp["imports"]
        year_ago = format_month(add_months(date.fromisoformat(month + "-01"), -12))
        if year_ago in expected:
            assert row["imports_yoy_pct"] == pytest.approx(
                100 * (exp["imports"] / expected[year_ago]["imports"] - 1), abs=1e-3)
        else:
            assert row["imports_yoy_pct"] is None
        ytd = [m for m in MONTHS if m[:4] == month[:4] and m <= month]
        assert row["exports_ytd_usd"] == sum(expected[m]["exports"] for m in ytd)
        window = [m for m in MONTHS if m <= month][-12:]
        if len(window) == 12 and window[0] >= "2024-01" and month >= "2024-12":
            assert row["balance_rolling_12m_usd"] == sum(expected[m]["exports"] - expected[m]["imports"]
                                                         for m in window)
        else:
            assert row["balance_rolling_12m_usd"] is None
        assert row["is_synthetic"] is True


def test_world_partner_and_shock_visible(built):
    settings, archive = built
    world, china = mart(settings, "WLD"), mart(settings)
    recomputed = recompute(archive, "-")
    assert world["2025-05"]["imports_usd"] == recomputed["2025-05"]["imports"]
    assert china["2025-05"]["imports_yoy_pct"] < -25  # the spring-2025 shock
    assert all(china[m]["imports_usd"] < world[m]["imports_usd"] for m in MONTHS)


def test_a_quarantined_release_never_reaches_the_mart_until_released(built):
    settings, archive = built
    before = mart(settings)
    path = archive / "census/imports_hs/2025-06_HS2.json"
    rows = json.loads(path.read_text())
    path.write_text(json.dumps(rows[:30]))  # a new 2025-06 vintage that lost most of its rows
    pipeline.fetch(settings, "census_imports_hs", ["2025-06"])
    assert pipeline.load(settings, "census_imports_hs")["loaded"] == 1
    with pytest.raises(QualityGateFailed) as exc:
        pipeline.validate(settings, "census_imports_hs")
    pipeline.build(settings)
    assert mart(settings) == before  # the marts keep the last good data

    quality.release_quarantined(settings, exc.value.failed_release_ids[0], "test: accept the partial release",
                                "tester")
    pipeline.build(settings)
    after = mart(settings)
    assert after["2025-06"]["imports_usd"] < before["2025-06"]["imports_usd"]
    assert after["2025-05"] == before["2025-05"]


def test_a_late_release_is_a_freshness_warning_not_a_failure(built, tmp_path):
    from tradewatch import transform

    settings, _ = built
    copy = tmp_path / "stale.duckdb"
    shutil.copy(settings.duckdb_path, copy)
    stale = make_settings(tmp_path / "data", TRADEWATCH_DUCKDB_PATH=str(copy))
    assert transform.source_freshness(stale) == []
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE raw.census_imports_hs SET fetched_at = now()::TIMESTAMP - INTERVAL 60 DAY")
    warnings = transform.source_freshness(stale)
    assert len(warnings) == 1 and "census.census_imports_hs" in warnings[0]


def test_prices_take_the_newest_release_of_each_month(built):
    settings, archive = built
    releases = {m: json.loads((archive / f"bls/series/{m}_series.json").read_text()) for m in ("2025-03", "2025-06")}

    def value(release, series, period):
        data = next(s["data"] for s in releases[release]["Results"]["series"] if s["seriesID"] == series)
        return float(next(d["value"] for d in data if f"{d['year']}-{d['period'][1:]}" == period))

    assert value("2025-03", "WPUFD4", "2025-03") != value("2025-06", "WPUFD4", "2025-03")  # revised since
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = dict(con.execute("SELECT strftime(period_month, '%Y-%m'), index_value FROM marts.prices_monthly "
                                "WHERE series_code = 'PPI' AND country_iso3 = 'USA'").fetchall())
        yoy = con.execute("SELECT yoy_pct FROM marts.prices_monthly WHERE series_code = 'CPI' AND country_iso3 = 'USA' "
                          "AND period_month = '2025-06-01'").fetchall()[0][0]
    assert rows["2025-03"] == value("2025-06", "WPUFD4", "2025-03")
    cpi_now, cpi_then = value("2025-06", "CUUR0000SA0", "2025-06"), value("2025-06", "CUUR0000SA0", "2024-06")
    assert yoy == pytest.approx(100 * (cpi_now / cpi_then - 1), abs=1e-3)


def test_china_reported_may_2025_matches_the_published_gacc_figures(built):
    """The sample carries GACC's published May 2024 and May 2025 levels: the mart must give -34.5% and -18.1%."""
    settings, _ = built
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        exports_yoy, imports_yoy, months = con.execute(
            "SELECT exports_yoy_pct, imports_yoy_pct, months_in_period FROM marts.trade_balance_monthly "
            "WHERE reporter_iso3 = 'CHN' AND partner_iso3 = 'USA' AND period_month = '2025-05-01'").fetchall()[0]
        february = con.execute("SELECT count(*) FROM marts.trade_balance_monthly WHERE reporter_iso3 = 'CHN' "
                               "AND month(period_month) = 2").fetchall()[0][0]
    assert exports_yoy == pytest.approx(-34.5, abs=0.1) and imports_yoy == pytest.approx(-18.1, abs=0.1)
    assert months == 1 and february == 0  # January-February is one period, never February


# ---- every mart against figures recomputed in Python from the archive files (not the dbt SQL) ----------------


def census_rows(archive: Path, folder: str, month: str, level: str) -> list[dict]:
    rows = json.loads((archive / f"census/{folder}/{month}_{level}.json").read_text())
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def gacc_us(archive: Path, month: str) -> tuple[int, int]:
    """China's exports to and imports from the US, in US dollars, from the landed page (the USD edition)."""
    from tradewatch.sources import gacc

    header, rows = gacc.parse_page((archive / f"gacc/4/usd/{month}.html").read_text(), gacc.COUNTRY_TABLE,
                                   "country_table", date.fromisoformat(month + "-01"), "test")
    us = next(r for r in rows if r["region"] == "United States (US)")
    return round(us["exports_month"] * header.multiplier), round(us["imports_month"] * header.multiplier)


def one(settings, sql):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert len(rows) == 1, (sql, rows)
    return rows[0]


def china_total(archive, folder, value, month, level="HS2"):
    return sum(int(r[value]) for r in census_rows(archive, folder, month, level) if r["CTY_CODE"] == "5700")


def test_mirror_gap_recomputed(built):
    settings, archive = built
    cn_exports, cn_imports = gacc_us(archive, "2025-05")
    us_imports = china_total(archive, "imports_hs", "GEN_VAL_MO", "2025-05")
    us_exports = china_total(archive, "exports_hs", "ALL_VAL_MO", "2025-05")
    assert one(settings, "SELECT exporter_reported_usd, importer_reported_usd FROM marts.mirror_gap_monthly "
                         "WHERE direction = 'CN->US' AND period_month = '2025-05-01'") == (cn_exports, us_imports)
    assert one(settings, "SELECT exporter_reported_usd, importer_reported_usd FROM marts.mirror_gap_monthly "
                         "WHERE direction = 'US->CN' AND period_month = '2025-05-01'") == (us_exports, cn_imports)
    jan_feb = sum(china_total(archive, "imports_hs", "GEN_VAL_MO", m) for m in ("2025-01", "2025-02"))
    assert one(settings, "SELECT importer_reported_usd, months_in_period FROM marts.mirror_gap_monthly "
                         "WHERE direction = 'CN->US' AND period_month = '2025-01-01'") == (jan_feb, 2)


def test_effective_tariff_is_a_ratio_of_sums(built):
    settings, archive = built
    rows = [r for r in census_rows(archive, "imports_hs", "2025-05", "HS2") if r["CTY_CODE"] == "5700"]
    expected = 100 * sum(int(r["CAL_DUT_MO"]) for r in rows) / sum(int(r["CON_VAL_MO"]) for r in rows)
    chapter = next(r for r in rows if r["I_COMMODITY"] == "85")
    (total,) = one(settings, "SELECT effective_rate_pct FROM marts.tariff_rates_monthly WHERE imposing_side = 'US' "
                             "AND hs_level = 'TOTAL' AND period_month = '2025-05-01'")
    (ch85,) = one(settings, "SELECT effective_rate_pct FROM marts.tariff_rates_monthly WHERE imposing_side = 'US' "
                            "AND hs_code = '85' AND period_month = '2025-05-01'")
    assert total == pytest.approx(expected, abs=1e-3)
    assert ch85 == pytest.approx(100 * int(chapter["CAL_DUT_MO"]) / int(chapter["CON_VAL_MO"]), abs=1e-3)


def test_monthly_statutory_rate_is_the_day_weighted_daily_series(built):
    """April 2025 (five states: 10%, 34->84%, 125%, ...) and May 2025 recomputed from tariff_rates_daily in Python."""
    settings, _ = built
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        states = con.execute(
            "SELECT imposing_side, change_date, state_until, additional_rate_pct, total_rate_pct "
            "FROM marts.tariff_rates_daily WHERE weighting = 'fixed_base_year' AND hs_level = 'TOTAL'").fetchall()
        monthly = {(side, month.isoformat()): rates for side, month, *rates in con.execute(
            "SELECT imposing_side, period_month, statutory_additional_rate_pct, statutory_total_rate_pct, "
            "statutory_additional_rate_month_end_pct FROM marts.tariff_rates_monthly WHERE hs_level = 'TOTAL'"
        ).fetchall()}
    for side in ("US", "CN"):
        for first, last in ((date(2025, 4, 1), date(2025, 4, 30)), (date(2025, 5, 1), date(2025, 5, 31))):
            days, additional, total, month_end = 0, 0.0, 0.0, None
            for s, start, until, add, tot in states:
                if s != side:
                    continue
                overlap = (min(last, until or last) - max(first, start)).days + 1
                if overlap > 0:
                    days, additional, total = days + overlap, additional + add * overlap, total + tot * overlap
                if start <= last <= (until or last):
                    month_end = add
            assert days == (last - first).days + 1
            got = monthly[(side, first.isoformat())]
            assert got[0] == pytest.approx(additional / days, abs=1e-3), (side, first)
            assert got[1] == pytest.approx(total / days, abs=1e-3), (side, first)
            assert got[2] == pytest.approx(month_end, abs=1e-3), (side, first)
    # the US average of April 2025 lies between the month's lowest and highest state (125% reciprocal for 3 weeks)
    assert 60 < monthly[("US", "2025-04-01")][0] < 120


def test_baskets_and_hs4_lines_recomputed(built):
    settings, archive = built
    hs6 = [r for r in census_rows(archive, "imports_hs", "2025-05", "HS6") if r["CTY_CODE"] == "5700"]
    chips = sum(int(r["GEN_VAL_MO"]) for r in hs6 if r["I_COMMODITY"][:4] in ("8541", "8542"))
    assert one(settings, "SELECT value_usd FROM marts.commodity_trade_monthly WHERE basket = 'semiconductors' AND "
                         "reporter_iso3 = 'USA' AND flow = 'import' AND period_month = '2025-05-01'") == (chips,)
    magnets = sum(int(r["GEN_VAL_MO"]) for r in hs6 if r["I_COMMODITY"].startswith("8505"))
    assert one(settings, "SELECT value_usd FROM marts.trade_monthly WHERE reporter_iso3 = 'USA' AND partner_iso3 = "
                         "'CHN' AND flow = 'import' AND hs_level = 'HS4' AND hs_code = '8505' "
                         "AND period_month = '2025-05-01'") == (magnets,)


def test_china_reported_baskets_from_the_gacc_commodity_tables(built):
    """Rare-earth exports and soybean imports as China reports them (all partners), recomputed from the landed
    pages with the parser: value in US dollars, quantity in base units, January-February as one period."""
    from tradewatch.sources import gacc

    settings, archive = built
    for section, part, label, basket, flow, factor in ((5, "exports", "Rare earth", "rare_earths", "export", 1000),
                                                       (6, "imports", "Soya beans", "soybeans", "import", 1e7)):
        for month, months in (("2025-05", 1), ("2025-01", 2)):
            header, rows = gacc.parse_page((archive / f"gacc/{section}/usd/{month}.html").read_text(),
                                           gacc.COMMODITIES, part, date.fromisoformat(month + "-01"), "test")
            line = next(r for r in rows if r["commodity"] == label)
            expected = (round(line["value_month"] * header.multiplier), round(line["quantity_month"] * factor),
                        months)
            assert one(settings, "SELECT value_usd, quantity, months_in_period FROM marts.commodity_trade_monthly "
                                 f"WHERE basket = '{basket}' AND reporter_iso3 = 'CHN' AND partner_iso3 = 'WLD' "
                                 f"AND flow = '{flow}' AND source = 'gacc' AND period_month = '{month}-01'") == \
                expected


def test_first_published_values_come_from_the_first_release(built):
    settings, archive = built
    first = json.loads((archive / "bls/series/2025-02_series.json").read_text())
    data = next(s["data"] for s in first["Results"]["series"] if s["seriesID"] == "WPUFD4")
    published = float(next(d["value"] for d in data if (d["year"], d["period"]) == ("2025", "M02")))
    assert one(settings, "SELECT value, first_published_value FROM marts.release_revisions WHERE source = 'bls' "
                         "AND series = 'WPUFD4' AND period_month = '2025-02-01' AND vintage = 1") == (
        published, published)


def test_hs10_annual_staging_recomputed_from_the_archive_and_consistent_with_the_months(built):
    """The annual HS10 lines through load, gate and staging equal the archive's file, line by line; a chapter's year
    equals the twelve monthly HS2 values the marts hold for it (general imports, US from China)."""
    settings, archive = built
    rows = json.loads((archive / "census/imports_hs10_annual/2024-12_HS10.json").read_text())
    expected = sorted((2024, "CHN", r["I_COMMODITY"], r["I_COMMODITY"][:8], r["I_COMMODITY"][:6], r["I_COMMODITY"][:2],
                       r["I_COMMODITY_SDESC"], int(r["CON_VAL_YR"]), int(r["GEN_VAL_YR"]), int(r["CAL_DUT_YR"]),
                       int(r["DUT_VAL_YR"]), True)
                      for r in (dict(zip(rows[0], row, strict=True)) for row in rows[1:]))
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        staged = con.execute("SELECT * EXCLUDE (release_id) FROM staging.stg_census__imports_hs10_annual "
                             "ORDER BY ALL").fetchall()
        mismatched = con.execute("""
            SELECT count(*) FROM (SELECT hs2, sum(general_imports_usd) AS v FROM staging.stg_census__imports_hs10_annual
                                  GROUP BY hs2) a
            FULL JOIN (SELECT hs_code AS hs2, sum(value_usd) AS v FROM marts.trade_monthly WHERE reporter_iso3 = 'USA'
                       AND partner_iso3 = 'CHN' AND flow = 'import' AND hs_level = 'HS2' AND year(period_month) = 2024
                       GROUP BY hs_code) m USING (hs2)
            WHERE a.v IS DISTINCT FROM m.v""").fetchall()
    assert staged == expected and len(staged) > 500
    assert mismatched == [(0,)]


def test_dbt_docs_generate_works_and_documents_every_mart(built):
    from tradewatch import transform

    settings, _ = built
    transform.run_dbt(settings, "docs", "generate")
    manifest = json.loads((settings.data_dir / "dbt" / "target" / "manifest.json").read_text())
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert {n["name"] for n in marts} == {  # the public contract (README, docs/serving.md)
        "trade_monthly", "trade_balance_monthly", "mirror_gap_monthly", "tariff_schedule", "tariff_rates_daily",
        "tariff_rates_monthly", "tariff_events", "commodity_trade_monthly", "prices_monthly", "release_revisions",
        "anomalies", "trade_diversion_monthly"}
    for node in marts:
        assert node["description"], node["name"]
        assert node["config"]["contract"]["enforced"], node["name"]
    for name in ("anomalies", "trade_diversion_monthly"):  # every column documented
        node = manifest["nodes"][f"model.tradewatch.{name}"]
        assert all(column["description"] for column in node["columns"].values()), name
    assert {e["name"] for e in manifest["exposures"].values()} == {"bi_serving", "monthly_report"}
    serving = manifest["exposures"]["exposure.tradewatch.bi_serving"]["depends_on"]["nodes"]
    assert {n["unique_id"] for n in marts} == set(serving)  # every public mart is in the lineage to BI tools
    assert (settings.data_dir / "dbt" / "target" / "index.html").exists()


# ---- the rerouting monitor and the anomalies mart -------------------------------------------------------------


def test_the_2025_rerouting_pattern_is_found_and_nothing_else(built):
    """The sample moves smartphones from China to Vietnam and laptops to Mexico from April 2025 (with China's exports
    of them rising there): those two lines are flagged, both with high confidence (Comtrade publishes both lines,
    China's side of the same line); no other line in any month, although the sample also lifts
    Vietnam's and Mexico's share of every line in 2025."""
    settings, _ = built
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        flagged = con.execute(
            "SELECT DISTINCT hs_code, rerouting_partner_iso3, rerouting_confidence, rerouting_horizon "
            "FROM marts.trade_diversion_monthly WHERE hs_level = 'HS6' AND rerouting_signal ORDER BY 1").fetchall()
        may = con.execute(
            "SELECT hs_code, china_share_change_yoy_pts, vietnam_share_change_yoy_pts, mexico_share_change_yoy_pts, "
            "rerouting_evidence_level, rerouting_cn_exports_change_pct, rerouting_explanation, rerouting_lines "
            "FROM marts.trade_diversion_monthly WHERE hs_level = 'HS6' AND rerouting_signal "
            "AND period_month = '2025-05-01' ORDER BY 1").fetchall()
        chapters = con.execute(
            "SELECT hs_code, rerouting_lines FROM marts.trade_diversion_monthly WHERE hs_level = 'HS2' "
            "AND rerouting_signal AND period_month = '2025-06-01' ORDER BY 1").fetchall()
        base = con.execute("SELECT count(*) FROM marts.trade_diversion_monthly "
                           "WHERE china_share_change_since_base_pts IS NOT NULL").fetchall()[0][0]
    assert flagged == [("847130", "MEX", "high", "yoy"), ("851713", "VNM", "high", "yoy")]
    laptops, phones = may
    assert laptops[1] < -5 and laptops[3] >= -laptops[1] / 2 and laptops[4] == "HS6" and laptops[5] > 10
    assert phones[1] < -5 and phones[2] >= -phones[1] / 2 and phones[4] == "HS6" and phones[5] > 10
    assert phones[6].startswith("Vietnam +") and "China's exports of this line (Comtrade) to Vietnam +" in phones[6]
    assert chapters == [("84", 1), ("85", 1)]  # rolled up into their chapters
    assert base == 0  # the archive starts in 2023: no base year (2017) to compare with
    printed = summary.rerouting_summary(settings)  # what the demo prints
    assert printed.startswith("  June 2025: HS6 lines where a third country took China's place")
    assert "851713  SMARTPHONES" in printed and "847130  PORTABLE DIGITAL COMPUTERS" in printed


def test_anomalies_are_built_by_dbt_with_their_contributions(built):
    """The scan writes the detector's findings; dbt builds marts.anomalies from them (with its contract, tests and
    the check that every anomaly's contributions add up to its change)."""
    settings, _ = built
    result = pipeline.scan_anomalies(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.anomalies").fetchall()[0][0] == result["anomalies"] > 0
        assert con.execute("SELECT count(*) FROM marts.anomalies m ANTI JOIN detector.anomaly_findings f "
                           "USING (anomaly_id)").fetchall() == [(0,)]
        total, summary, parts = con.execute(
            "SELECT change_usd, top_contributions, contributions::VARCHAR FROM marts.anomalies "
            "WHERE series_id = 'total:USA:CHN:import' AND period_month = '2025-05-01'").fetchall()[0]
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = "
                              "'anomalies' AND column_name = 'contributions'").fetchall()[0][0]
    chapters = [p for p in json.loads(parts) if p["parent_code"] is None]
    assert sum(p["change_usd"] for p in chapters) == pytest.approx(total, abs=1)
    assert summary.startswith("HS 85 carried ") and "% of the fall" in summary
    assert "JSON list of the components" in comment  # documented, and the docs reach the table
    from tradewatch import alerts, stories

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        grouped = stories.group(alerts.anomaly_alerts(con, settings))
        assert grouped and all(len(con.execute(s.query).fetchall()) >= len(s.alerts) for s in grouped if s.related)
    manifest = json.loads((settings.data_dir / "dbt" / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.tradewatch.anomalies"]
    assert node["config"]["contract"]["enforced"] and "model.tradewatch.stg_detector__anomaly_findings" in \
        node["depends_on"]["nodes"]
