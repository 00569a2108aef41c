"""The refresh's anomaly scan judges only the series with a changed period since the last scan (the months the
builds since then rebuilt), keeps the other findings as they were, and leaves the detector's tables exactly as a
full scan would; anything it cannot know from the builds (no earlier scan, a full build, other rules) means a full
scan."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, datetime

import duckdb

from tests.unit.test_anomalies import RULES, marts_with_a_shock, monthly
from tradewatch import audit
from tradewatch.anomalies import by_severity, changed_months, scan_anomalies, scan_changed

JUNE = date(2025, 6, 1)
#: What a full and an incremental scan must agree on: every column but the time of detection.
FINDINGS = ("SELECT * EXCLUDE (detected_at) FROM detector.anomaly_findings ORDER BY anomaly_id")
PARTS = "SELECT * FROM detector.anomaly_contributions ORDER BY ALL"


def warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    """The marts of test_anomalies (US-reported totals falling in spring 2025), China's side falling too (and
    already published for June), two US import chapters, and the audit tables of the full build that made them."""
    con = marts_with_a_shock(tmp_path)
    china = monthly(date(2017, 1, 1), JUNE, level=30e9, seed=11,
                    shocks={date(2025, 4, 1): 0.7, date(2025, 5, 1): 0.6, JUNE: 0.6})
    con.executemany("INSERT INTO marts.trade_balance_monthly VALUES ('CHN', 'USA', ?, 1, ?, 1000, false, 'gacc')",
                    [(p.period, int(p.value)) for p in china])
    for code, level in (("85", 8e9), ("61", 2e9)):
        con.executemany("INSERT INTO marts.trade_monthly VALUES ('USA', 'CHN', 'import', 'HS2', ?, ?, 1, ?, "
                        "'census', false)", [(code, p.period, int(p.value))
                                             for p in monthly(date(2017, 1, 1), date(2025, 5, 1), level=level)])
    audit.migrate(con)  # the audit layout of a real warehouse
    con.execute("INSERT INTO audit.releases (release_id, source, dataset, period, status, loaded_at) VALUES "
                "('census-1', 'census', 'census_imports_hs', '2025-05-01', 'published', '2026-07-01'), "
                "('gacc-1', 'gacc', 'gacc_trade_by_country', '2025-06-01', 'published', '2026-07-01'), "
                "('comtrade-1', 'comtrade', 'comtrade_cn_monthly', '2025-05-01', 'published', '2026-07-01')")
    build(con, "full", [], datetime(2026, 7, 1))
    return con


def build(con: duckdb.DuckDBPyConnection, mode: str, periods: list[date], at: datetime, finished: bool = True,
          datasets: tuple[str, ...] = ("census_imports_hs",)) -> None:
    con.execute("INSERT INTO audit.builds (started_at, finished_at, mode, periods, project_fingerprint, datasets) "
                "VALUES (?, ?, ?, ?, 'test', ?)", [at, at if finished else None, mode, periods, list(datasets)])


def june_published(con: duckdb.DuckDBPyConnection) -> None:
    """Census's June: US imports from China fall again (the totals), chapter 61 is not reported (vanished) and the
    build that rebuilt the month is recorded; China's side (GACC) had its June already."""
    con.execute(f"INSERT INTO marts.trade_balance_monthly VALUES ('USA', 'CHN', '{JUNE}', 1, 11000000000, "
                "15000000000, true, 'census')")
    con.execute(f"INSERT INTO marts.trade_monthly VALUES ('USA', 'CHN', 'import', 'HS2', '85', '{JUNE}', 1, "
                "3000000000, 'census', false)")
    build(con, "incremental", [JUNE], datetime(2026, 8, 1))


def rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    return con.execute(query).fetchall()


def test_an_incremental_scan_judges_the_changed_series_and_equals_a_full_scan(tmp_path):
    con = warehouse(tmp_path)
    assert changed_months(con, RULES) == (None, "no earlier scan recorded")
    scan_changed(con, RULES)  # the first: full
    detected = dict(rows(con, "SELECT anomaly_id, detected_at FROM detector.anomaly_findings"))
    china = {a for a, in rows(con, "SELECT anomaly_id FROM detector.anomaly_findings WHERE reporter_iso3 = 'CHN'")}
    assert china and len(detected) > len(china)

    june_published(con)
    assert changed_months(con, RULES)[0] == [JUNE]
    found = scan_changed(con, RULES)
    judged = {a.series.series_id for a in found}
    # the changed series are judged again: June's fall, and chapter 61 gone from a group that reported June
    assert {(a.series.series_id, a.period, a.method) for a in found if a.period == JUNE} >= {
        ("total:USA:CHN:import", JUNE, "yoy+robust_z"), ("chapter:USA:CHN:import:61:census", JUNE, "vanished")}
    assert not any(s.startswith("total:CHN:") for s in judged)  # China's June is GACC's, unchanged
    after = dict(rows(con, "SELECT anomaly_id, detected_at FROM detector.anomaly_findings"))
    assert {a: after[a] for a in china} == {a: detected[a] for a in china}  # kept as they were, not re-detected
    assert rows(con, "SELECT mode, months FROM detector.scans ORDER BY scanned_at") == [
        ("full", None), ("incremental", [JUNE])]
    incremental = rows(con, FINDINGS), rows(con, PARTS), by_severity(con)

    con.close()  # the same warehouse, scanned in full
    shutil.copy(tmp_path / "w.duckdb", tmp_path / "full.duckdb")
    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    scan_anomalies(full, RULES)
    assert (rows(full, FINDINGS), rows(full, PARTS), by_severity(full)) == incremental

    # nothing built since: nothing judged, nothing lost
    assert changed_months(full, RULES)[0] == []
    assert {a.series.domain for a in scan_changed(full, RULES)} <= {"release"}  # one query, always re-checked
    assert rows(full, FINDINGS) == incremental[0]


def test_a_full_or_unfinished_build_or_other_rules_mean_a_full_scan(tmp_path):
    con = warehouse(tmp_path)
    scan_changed(con, RULES)
    build(con, "incremental", [date(2025, 5, 1)], datetime(2026, 8, 1))
    assert changed_months(con, RULES)[0] == [date(2025, 5, 1)]
    assert changed_months(con, replace(RULES, z_threshold=RULES.z_threshold + 1)) == (
        None, "the rules, the events or the detector changed since the last scan")
    con.execute("UPDATE marts.tariff_events SET rate_after_pct = 145")
    assert changed_months(con, RULES)[0] is None
    con.execute("UPDATE marts.tariff_events SET rate_after_pct = 125")
    build(con, "incremental", [date(2025, 4, 1)], datetime(2026, 8, 2), finished=False)
    assert changed_months(con, RULES) == (None, "a full or unfinished build since the last scan")
    con.execute("DELETE FROM audit.builds WHERE finished_at IS NULL")
    build(con, "full", [], datetime(2026, 8, 3))
    assert changed_months(con, RULES)[0] is None
    scan_changed(con, RULES)
    assert rows(con, "SELECT mode FROM detector.scans ORDER BY scanned_at") == [("full",), ("full",)]
    assert changed_months(con, RULES)[0] == []


def test_comtrade_arriving_after_gacc_gives_china_s_fall_its_chapters_as_a_full_scan_would(tmp_path):
    """China's total is GACC's and its breakdown Comtrade's, published months later: the scan after Comtrade's
    month judges China's series of that month again, so the fall gets the chapters that carried it."""
    con = warehouse(tmp_path)
    scan_changed(con, RULES)  # the first: full; China's June has no Comtrade detail yet
    china_june = ("SELECT count(*) FROM detector.anomaly_contributions c JOIN detector.anomaly_findings f "
                  f"USING (anomaly_id) WHERE f.series_id = 'total:CHN:USA:export' AND f.period_month = '{JUNE}'")
    assert rows(con, "SELECT count(*) FROM detector.anomaly_findings WHERE series_id = 'total:CHN:USA:export' "
                     f"AND period_month = '{JUNE}'") == [(1,)]
    assert rows(con, china_june) == [(0,)]
    for code, share in (("85", 0.6), ("61", 0.4)):  # Comtrade's June and the June before, by chapter
        con.execute("INSERT INTO marts.trade_monthly SELECT 'CHN', 'USA', 'export', 'HS2', ?, period_month, 1, "
                    "(exports_usd * ?)::BIGINT, 'comtrade', false FROM marts.trade_balance_monthly WHERE reporter_iso3 "
                    "= 'CHN' AND period_month IN (?, ?)", [code, share, JUNE, date(2024, 6, 1)])
    build(con, "incremental", [JUNE, date(2024, 6, 1)], datetime(2026, 9, 1), datasets=("comtrade_cn_monthly",))
    scan_changed(con, RULES)
    assert rows(con, china_june)[0][0] > 0
    incremental = rows(con, FINDINGS), rows(con, PARTS)

    con.close()  # the same warehouse, scanned in full
    shutil.copy(tmp_path / "w.duckdb", tmp_path / "full.duckdb")
    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    scan_anomalies(full, RULES)
    assert (rows(full, FINDINGS), rows(full, PARTS)) == incremental
