"""Contributions: the chapters and lines that carried an anomaly's change add up to the change, rises included."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tradewatch.anomalies import contributions as contrib
from tradewatch.anomalies.contributions import OTHER, UNALLOCATED, Part, contributions, decompose, shares
from tradewatch.anomalies.detection import Anomaly
from tradewatch.anomalies.series import Series

MAY, MAY_BEFORE = date(2025, 5, 1), date(2024, 5, 1)


def test_a_fall_with_a_rising_chapter_adds_up_and_the_rise_counts_against_it():
    parts = [Part("85", 40, 100), Part("84", 50, 80), Part("27", 30, 10), Part("94", 20, 30)]
    out = decompose(-80, parts, top=10)
    assert sum(p.change for p in out) == -80
    assert dict(zip([p.code for p in out], shares(-80, out), strict=True)) == {
        "85": 75.0, "84": 37.5, "27": -25.0, "94": 12.5}  # the falls carry 125%, the rise offsets 25%
    assert sum(shares(-80, out)) == pytest.approx(100)


def test_the_smaller_parts_are_one_other_part_and_what_the_detail_lacks_is_unallocated():
    parts = [Part("85", 40, 100), Part("84", 50, 80), Part("27", 30, 10), Part("94", 20, 30)]
    out = decompose(-100, parts, top=2)  # the total fell by 100, its chapters by 80 between them
    assert [(p.code, p.change) for p in out] == [("85", -60), ("84", -30), (OTHER, 10), (UNALLOCATED, -20)]
    assert sum(p.change for p in out) == -100
    assert decompose(-80, parts, top=2)[-1].code == OTHER  # nothing unallocated when the parts add up
    assert shares(0, out) == [None] * len(out)  # no change: no shares


def _marts(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA reference")
    con.execute("CREATE TABLE reference.commodity_baskets AS SELECT * FROM (VALUES ('smartphones', '851713'), "
                "('appliances', '8418')) b(basket, hs_code)")
    con.execute("""CREATE TABLE marts.trade_monthly (reporter_iso3 VARCHAR, partner_iso3 VARCHAR, flow VARCHAR,
                   hs_level VARCHAR, hs_code VARCHAR, period_month DATE, months_in_period INTEGER, value_usd BIGINT,
                   source VARCHAR, is_synthetic BOOLEAN)""")
    rows = []
    for reporter, partner, source in (("USA", "CHN", "census"), ("CHN", "USA", "comtrade")):
        for level, code, now, then in (("HS2", "85", 40, 100), ("HS2", "84", 50, 80), ("HS2", "27", 30, 10),
                                       ("HS2", "94", 20, 30), ("HS6", "851713", 20, 60), ("HS6", "850511", 15, 30),
                                       ("HS6", "859000", 5, 10), ("HS6", "847130", 30, 50), ("HS6", "841810", 20, 30),
                                       ("HS6", "940100", 20, 30)):
            flow = "import" if reporter == "USA" else "export"
            rows += [(reporter, partner, flow, level, code, MAY, 1, now, source, False),
                     (reporter, partner, flow, level, code, MAY_BEFORE, 1, then, source, False)]
    con.executemany("INSERT INTO marts.trade_monthly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def _anomaly(domain: str, reporter: str, change: float, code: str = "TOTAL", source: str | None = None,
             period: date = MAY, months: int = 1) -> Anomaly:
    partner, flow = ("CHN", "import") if reporter == "USA" else ("USA", "export")
    series = Series(f"{domain}:{reporter}:{partner}:{flow}:{code}", domain, "test", [], reporter=reporter,
                    partner=partner, flow=flow, code=code, source=source)
    return Anomaly(series, period, months, "economic", "yoy", 1.0, 2.0, -40.0, None, "normal", "critical", True,
                   change_value=change)


def test_a_total_splits_into_chapters_and_its_leading_chapters_into_lines(tmp_path):
    total = _anomaly("total", "USA", -80)
    found = contributions(_marts(tmp_path), [total])
    chapters = [c for c in found if c.level == "HS2"]
    assert [(c.code, c.change_usd, c.share_pct, c.rank) for c in chapters] == [
        ("85", -60, 75.0, 1), ("84", -30, 37.5, 2), ("27", 20, -25.0, 3), ("94", -10, 12.5, 4)]
    assert sum(c.change_usd for c in chapters) == total.change_value
    # the three chapters that carried the fall (not the one that rose) are opened; their lines add up to them
    opened = {c.parent_code for c in found if c.level == "HS6"}
    assert opened == {"85", "84", "94"}
    for chapter in chapters:
        lines = [c for c in found if c.parent_code == chapter.code]
        assert not lines or sum(c.change_usd for c in lines) == chapter.change_usd
    smartphones = next(c for c in found if c.code == "851713")
    assert (smartphones.share_pct, smartphones.label) == (50.0, "HS 851713")  # of the total's fall


def test_chapters_and_baskets_split_into_their_lines(tmp_path):
    con = _marts(tmp_path)
    chapter = _anomaly("chapter", "USA", -60, code="85", source="census")
    basket = _anomaly("basket", "USA", -50, code="appliances")
    found = contributions(con, [chapter, basket])
    assert {c.code: c.change_usd for c in found if c.anomaly_id == chapter.anomaly_id} == {
        "851713": -40, "850511": -15, "859000": -5}
    assert {c.code: c.change_usd for c in found if c.anomaly_id == basket.anomaly_id} == {
        "841810": -10, UNALLOCATED: -40}  # the basket's own figure fell by 50, its one line by 10


def test_china_reported_total_keeps_what_comtrade_chapters_do_not_cover_as_unallocated(tmp_path):
    """China's total is GACC's; its chapters are Comtrade's, which need not add up to it."""
    total = _anomaly("total", "CHN", -100)
    found = [c for c in contributions(_marts(tmp_path), [total]) if c.level == "HS2"]
    assert found[-1].code == UNALLOCATED and found[-1].change_usd == -20
    assert sum(c.change_usd for c in found) == -100 and sum(c.share_pct for c in found) == pytest.approx(100)


def test_no_contributions_when_the_detail_is_not_published_for_the_whole_period(tmp_path):
    """January+February judged together: the components must cover both months, or there is nothing to split."""
    con = _marts(tmp_path)
    assert contributions(con, [_anomaly("total", "CHN", -100, period=date(2025, 6, 1))]) == []  # no June detail
    assert contributions(con, [_anomaly("total", "USA", -80, period=date(2025, 6, 1), months=2)]) == []  # May+June
    price = _anomaly("price", "USA", -5)
    assert contrib.request_for(price) is None
