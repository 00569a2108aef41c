"""Anomaly detection on synthetic series: the drop is flagged, the same series without it is not, the Lunar New
Year moving between January and February is not, and a short history falls back to the YoY rule."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import pytest

from tradewatch.anomalies import (
    Event,
    Point,
    Rules,
    Series,
    attach_events,
    blocks,
    detect,
    period_label,
    scan_anomalies,
    vanished,
)
from tradewatch.periods import month_range

RULES = Rules()
SEASON = [1.02, 0.80, 0.82, 0.93, 0.98, 0.98, 1.04, 1.08, 1.09, 1.12, 1.07, 1.07]
#: Lunar New Year: late January in some years, February in others (the dip follows it).
LNY_MONTH = {2017: 1, 2018: 2, 2019: 2, 2020: 1, 2021: 2, 2022: 2, 2023: 1, 2024: 2, 2025: 1}


def monthly(start: date, end: date, *, level: float = 40e9, shocks: dict[date, float] | None = None,
            dip: dict[int, int] | None = None, seed: int = 7, season: bool = True, bilateral: float | None = None
            ) -> list[Point]:
    rng = random.Random(seed)
    points = []
    for month in month_range(start, end):
        value = level * (SEASON[month.month - 1] if season else 1.0) * (1 + rng.uniform(-0.03, 0.03))
        value *= (shocks or {}).get(month, 1.0)
        if dip and dip.get(month.year) == month.month:
            value *= 0.70  # factories close for the holiday
        points.append(Point(month, value, 1, bilateral))
    return points


def series(points, domain="total", **kw) -> Series:
    return Series(kw.pop("series_id", "total:USA:CHN:import"), domain, kw.pop("label", "US imports from China"),
                  points, direction="CN->US", reporter="USA", partner="CHN", flow="import", **kw)


SHOCK = {date(2025, 4, 1): 0.78, date(2025, 5, 1): 0.62}


def test_a_drop_is_flagged_with_its_score_expectation_and_history():
    found = detect(series(monthly(date(2017, 1, 1), date(2025, 5, 1), shocks=SHOCK)), RULES)
    assert [a.period for a in found] == [date(2025, 4, 1), date(2025, 5, 1)]
    may = found[-1]
    assert may.method == "yoy+robust_z" and may.confidence == "normal" and may.severity == "critical"
    assert may.change_pct == pytest.approx(-38, abs=4)
    assert may.score < -RULES.z_threshold
    # expected: April's level carried by the usual April->May change of earlier years
    assert may.expected == pytest.approx(found[0].observed * SEASON[4] / SEASON[3], rel=0.08)
    assert may.largest_fall_since is None and may.history_start == date(2017, 1, 1)  # the largest on record
    assert may.consecutive_months == 2


def test_the_same_series_without_the_drop_is_not_flagged():
    assert detect(series(monthly(date(2017, 1, 1), date(2025, 5, 1))), RULES) == []


def test_a_lunar_new_year_moving_between_january_and_february_is_not_flagged():
    points = monthly(date(2017, 1, 1), date(2025, 5, 1), dip=LNY_MONTH)
    assert detect(series(points), RULES) == []
    # ... while judged month by month it would have been: February 2021 against a January holiday in 2020.
    by = {p.period: p.value for p in points}
    assert by[date(2021, 2, 1)] / by[date(2020, 2, 1)] - 1 < -RULES.yoy_total_pct / 100


def test_january_is_judged_with_february_and_march_with_february():
    points = monthly(date(2023, 1, 1), date(2024, 4, 1))
    judged = {(b.period, b.months) for b in blocks(series(points))}
    assert (date(2024, 1, 1), 1) not in {(p, m) for p, m in judged}
    assert (date(2024, 2, 1), 2) in judged and (date(2024, 3, 1), 2) in judged and (date(2024, 4, 1), 1) in judged
    assert period_label(date(2024, 2, 1), 2) == "Jan–Feb 2024"
    assert period_label(date(2024, 3, 1), 2) == "Feb–Mar 2024"
    assert period_label(date(2024, 1, 1), 2) == "Jan–Feb 2024"  # China's customs label its combined period January


def test_china_combined_january_february_periods_compare_like_with_like():
    monthly_points = monthly(date(2017, 1, 1), date(2025, 3, 1), dip=LNY_MONTH)
    value = {p.period: p.value for p in monthly_points}
    combined = [Point(p.period, p.value + value[p.period.replace(month=2)], 2) if p.period.month == 1 else p
                for p in monthly_points if p.period.month != 2]
    assert detect(series(combined), RULES) == []
    with_drop = [Point(p.period, p.value * (0.6 if p.period == date(2025, 1, 1) else 1), p.months) for p in combined]
    found = detect(series(with_drop), RULES)
    assert [(a.period, a.months, a.period_label) for a in found] == [(date(2025, 1, 1), 2, "Jan–Feb 2025")]


def test_a_short_history_falls_back_to_the_yoy_rule_with_low_confidence():
    short = monthly(date(2023, 6, 1), date(2025, 5, 1), shocks=SHOCK)
    found = detect(series(short), RULES)
    assert found and all(a.method == "yoy" and a.confidence == "low" and a.score is None for a in found)
    assert detect(series(monthly(date(2023, 6, 1), date(2025, 5, 1))), RULES) == []
    assert detect(series(monthly(date(2025, 1, 1), date(2025, 5, 1), shocks=SHOCK)), RULES) == []  # no year back


def test_baskets_are_never_silenced_by_their_size_and_a_tiny_base_is_flagged():
    """Rare earths are a sliver of the flow but users follow them: a basket's fall pages whatever its share; a
    year-earlier level under US$5 million a month gets no YoY headline (is_low_base)."""
    tiny = monthly(date(2017, 1, 1), date(2025, 5, 1), level=3e6, shocks=SHOCK, bilateral=40e9)
    found = detect(series(tiny, "basket", code="rare_earths"), RULES)
    assert found and {a.severity for a in found} <= {"warning", "critical"} and found[-1].is_material
    assert found[-1].share_pct < RULES.materiality_pct and found[-1].is_low_base
    assert found[-1].prior == pytest.approx(3e6 * SEASON[4], rel=0.05)
    big = detect(series(monthly(date(2017, 1, 1), date(2025, 5, 1), level=8e9, shocks=SHOCK), "basket",
                        code="smartphones"), RULES)
    assert not big[-1].is_low_base


def test_small_chapters_do_not_page_anyone():
    big = monthly(date(2017, 1, 1), date(2025, 5, 1), level=8e9, shocks=SHOCK, bilateral=40e9)
    small = monthly(date(2017, 1, 1), date(2025, 5, 1), level=0.1e9, shocks=SHOCK, bilateral=40e9)
    big_found = detect(series(big, "chapter", code="85"), RULES)
    small_found = detect(series(small, "chapter", code="05"), RULES)
    assert big_found and {a.severity for a in big_found} <= {"warning", "critical"}
    assert big_found[-1].share_pct == pytest.approx(20, rel=0.05)
    assert small_found and {a.severity for a in small_found} == {"info"} and not small_found[0].is_material


def test_a_series_going_to_zero_or_vanishing_is_a_data_drop():
    points = monthly(date(2023, 1, 1), date(2025, 5, 1))
    zeroed = points[:-1] + [Point(points[-1].period, 0.0)]
    found = detect(series(zeroed), RULES)
    assert [(a.method, a.category, a.severity) for a in found] == [("went_to_zero", "data", "critical")]

    present = series(points, series_id="a")
    gone = series(points[:-1], series_id="b", label="US imports from China, chapter 85")
    long_gone = series(points[:-6], series_id="c")
    dropped = vanished([present, gone, long_gone], RULES)
    assert [(a.series.series_id, a.period, a.method) for a in dropped] == [("b", date(2025, 5, 1), "vanished")]


def _event(event_id, side, kind, measure, effective, before=None, after=None, scope="all", baskets=None):
    return Event(event_id, side, kind, measure, effective, before, after, scope, baskets)


EVENTS = [
    _event("US-1", "US", "tariff", "EO 14259 (84%)", date(2025, 4, 9), 34, 84),
    _event("US-2", "US", "tariff", "EO 14266 (125%)", date(2025, 4, 10), 84, 125),
    _event("CN-1", "CN", "tariff", "China 125%", date(2025, 4, 12), 84, 125),
    _event("US-3", "US", "tariff", "Geneva cut", date(2025, 5, 14), 125, 30),
    _event("EC-1", "CN", "export_control", "Rare-earth licensing", date(2025, 4, 4), scope=None,
           baskets="rare_earths;magnets"),
    _event("US-old", "US", "tariff", "List 1", date(2018, 7, 6), 0, 25, scope=None),
]


def test_the_likely_cause_is_the_tightest_step_on_the_right_side_in_the_window():
    may = detect(series(monthly(date(2017, 1, 1), date(2025, 5, 1), shocks=SHOCK)), RULES)[-1]
    named = attach_events(may, EVENTS, {}, 6)
    assert named.likely_cause_event_id == "US-2"  # not China's own step, not the later easing, not 2018
    assert "EO 14266" in named.likely_cause and "84% -> 125%" in named.likely_cause
    assert "CN-1" not in named.events and "China 125%" not in named.events and "List 1" not in named.events

    magnets = Series("basket:USA:CHN:import:magnets", "basket", "US imports of magnets", may.series.points,
                     direction="CN->US", code="magnets")
    basket_drop = detect(magnets, RULES)[-1]
    assert attach_events(basket_drop, EVENTS, {"magnets": ["850511"]}, 6).likely_cause_event_id == "EC-1"

    quiet = [e for e in EVENTS if e.effective.year == 2018]
    assert "no tariff step" in attach_events(may, quiet, {}, 6).likely_cause

    # an exemption on the very lines (laptops out of the reciprocal tariff) is relief, never the cause of a fall
    laptops = Series("basket:USA:CHN:import:laptops", "basket", "US imports of laptops", may.series.points,
                     direction="CN->US", code="laptops")
    exclusion = _event("US-X", "US", "exemption", "Electronics excluded", date(2025, 4, 5), scope="8471")
    named = attach_events(detect(laptops, RULES)[-1], [*EVENTS, exclusion], {"laptops": ["847130"]}, 6)
    assert named.likely_cause_event_id == "US-2" and "Electronics excluded" in named.events


def marts_with_a_shock(tmp_path) -> duckdb.DuckDBPyConnection:
    """The marts the scan reads, with US imports from China falling in spring 2025."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA reference")
    con.execute("CREATE TABLE reference.commodity_baskets (basket VARCHAR, hs_code VARCHAR, description VARCHAR)")
    con.execute("""CREATE TABLE marts.tariff_events AS SELECT 'US-2' AS event_id, 'US' AS side, 'tariff' AS event_type,
                   'EO 14266' AS measure, DATE '2025-04-10' AS date_effective, 84.0 AS rate_before_pct,
                   125.0 AS rate_after_pct, 'all' AS hs_scope, NULL AS affected_baskets, false AS is_alternative""")
    con.execute("""CREATE TABLE marts.trade_balance_monthly (reporter_iso3 VARCHAR, partner_iso3 VARCHAR,
                   period_month DATE, months_in_period INTEGER, exports_usd BIGINT, imports_usd BIGINT,
                   is_synthetic BOOLEAN, source VARCHAR)""")
    imports = monthly(date(2017, 1, 1), date(2025, 5, 1), shocks=SHOCK)
    exports = monthly(date(2017, 1, 1), date(2025, 5, 1), level=12e9, seed=3)
    con.executemany("INSERT INTO marts.trade_balance_monthly VALUES ('USA', 'CHN', ?, 1, ?, ?, true, 'census')",
                    [(i.period, int(e.value), int(i.value)) for i, e in zip(imports, exports, strict=True)])
    con.execute("""CREATE TABLE marts.trade_monthly (reporter_iso3 VARCHAR, partner_iso3 VARCHAR, flow VARCHAR,
                   hs_level VARCHAR, hs_code VARCHAR, period_month DATE, months_in_period INTEGER, value_usd BIGINT,
                   source VARCHAR, is_synthetic BOOLEAN)""")
    con.execute("""CREATE TABLE marts.commodity_trade_monthly (basket VARCHAR, reporter_iso3 VARCHAR,
                   partner_iso3 VARCHAR, flow VARCHAR, period_month DATE, value_usd BIGINT,
                   share_of_bilateral_pct DOUBLE, is_synthetic BOOLEAN, months_in_period INTEGER, source VARCHAR)""")
    con.execute("""CREATE TABLE marts.prices_monthly (country_iso3 VARCHAR, series_code VARCHAR, period_month DATE,
                   index_value DOUBLE, value_kind VARCHAR, series_name VARCHAR, is_synthetic BOOLEAN,
                   source VARCHAR)""")
    con.execute("""CREATE TABLE marts.mirror_gap_monthly (direction VARCHAR, period_month DATE,
                   months_in_period INTEGER, exporter_reported_usd BIGINT, importer_reported_usd BIGINT,
                   is_synthetic BOOLEAN, exporter_source VARCHAR, importer_source VARCHAR)""")
    return con


def test_scan_writes_the_detector_findings_atomically(tmp_path):
    con = marts_with_a_shock(tmp_path)
    found = scan_anomalies(con, RULES)
    rows = con.execute("SELECT series_id, period_label, method, likely_cause_event_id, series_last_period, "
                       "held_previous_period, change_usd FROM detector.anomaly_findings ORDER BY period_month"
                       ).fetchall()
    assert len(rows) == len(found) == 2
    assert rows[-1][:6] == ("total:USA:CHN:import", "May 2025", "yoy+robust_z", "US-2", date(2025, 5, 1), True)
    assert rows[0][5] is False  # April: the first anomalous period
    assert rows[-1][6] == pytest.approx(found[-1].observed - found[-1].prior)  # a one-month period
    scan_anomalies(con, RULES)  # a re-scan replaces, never appends
    assert con.execute("SELECT count(*) FROM detector.anomaly_findings").fetchall()[0][0] == 2


def test_a_scan_limited_to_some_series_replaces_only_their_findings(tmp_path):
    """The interface a later, incremental scan needs: the series to judge as a parameter."""
    con = marts_with_a_shock(tmp_path)
    scan_anomalies(con, RULES)
    before = con.execute("SELECT anomaly_id, detected_at FROM detector.anomaly_findings ORDER BY 1").fetchall()
    assert scan_anomalies(con, RULES, select=lambda s: s.series_id == "total:USA:CHN:export") == []  # nothing there
    assert con.execute("SELECT anomaly_id, detected_at FROM detector.anomaly_findings ORDER BY 1").fetchall() == before
    again = scan_anomalies(con, RULES, select=lambda s: s.series_id == "total:USA:CHN:import")
    assert len(again) == 2
    after = con.execute("SELECT anomaly_id, detected_at FROM detector.anomaly_findings ORDER BY 1").fetchall()
    assert [a for a, _ in after] == [a for a, _ in before] and after != before  # re-detected, same ids




def test_china_reported_baskets_from_gacc_are_scanned_as_combined_periods(tmp_path):
    """GACC's commodity tables (China's exports to all partners) are basket series like the others; their
    January-February rows are one period."""
    con = marts_with_a_shock(tmp_path)
    rows = []
    for year in range(2017, 2026):
        for month in [1, *range(3, 13)]:
            period = date(year, month, 1)
            if period > date(2025, 5, 1):
                break
            value = 60e6 * (2 if month == 1 else 1) * (1 + 0.01 * ((year * 7 + month) % 5))
            if period >= date(2025, 4, 1):
                value *= 0.4  # export controls
            rows.append(("rare_earths", "CHN", "WLD", "export", period, int(value), 5.0, False, 2 if month == 1 else 1))
    con.executemany("INSERT INTO marts.commodity_trade_monthly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'gacc')", rows)
    found = [a for a in scan_anomalies(con, RULES) if a.series.domain == "basket"]
    assert [a.period for a in found] == [date(2025, 4, 1), date(2025, 5, 1)]
    assert found[0].series.series_id == "basket:CHN:WLD:export:rare_earths"
    assert found[0].series.label == "China's exports to all partners: rare earths (China-reported, GACC)"
    january = con.execute("SELECT count(*) FROM detector.anomaly_findings WHERE series_id LIKE 'basket:CHN:WLD%' "
                          "AND months_in_period = 2").fetchall()[0][0]
    assert january == 0  # the combined January-February periods compare like with like: no false alarm


def test_the_event_window_covers_the_whole_combined_period():
    """China's January-February is labelled January: a step on 24 February is inside it."""
    points = [Point(date(y, m, 1), 40e9 * (2 if m == 1 else 1), 2 if m == 1 else 1)
              for y in range(2023, 2027) for m in range(1, 13) if m != 2 and date(y, m, 1) <= date(2026, 1, 1)]
    combined = detect(series(points[:-1] + [Point(date(2026, 1, 1), 40e9, 2)]), RULES)[-1]
    assert combined.period_label == "Jan–Feb 2026"
    step = _event("US-26", "US", "tariff", "Section 122 surcharge", date(2026, 2, 24), 0, 10)
    assert attach_events(combined, [step], {}, 6).likely_cause_event_id == "US-26"
