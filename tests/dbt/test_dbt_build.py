"""dbt build on the sample, checked against figures recomputed independently from the archive files."""

import json
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import make_settings
from tradewatch import pipeline, quality
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
