"""The report's pieces that must read without a mouse: events numbered on the charts and listed under them, bars
labelled with their values, and the anomaly table critical first."""

from __future__ import annotations

import re
from datetime import date

import duckdb

from tests.unit.test_alerts import _row, anomalies_ddl
from tradewatch.serving import report

SPRING_2025 = [report.Marker(date(2025, 4, d), f"2025-04-{d:02d} US step {d}") for d in (2, 4, 8, 9, 11)]


def _chart(markers, width=920):
    line = report.Line("a", [(date(2017, 1, 1), 1.0), (date(2026, 9, 1), 2.0)])
    return report.line_chart("t", [line], "%", markers, width=width)


def test_events_that_would_overlap_share_a_number_listed_under_the_chart():
    markers = [report.Marker(date(2018, 7, 6), "2018-07-06 US List 1 (0% -> 25%)"), *SPRING_2025,
               report.Marker(date(2025, 11, 4), "2025-11-04 US Busan arrangement")]
    svg = _chart(markers)
    numbers = re.findall(r'class="num">(\d+)</text>', svg)
    assert numbers == ["1", "2", "3"]  # five steps in April 2025 are one cluster, not a blur of five dots
    legend = re.findall(r"<li>(.*?)</li>", svg)
    assert len(legend) == 3
    assert "<b>Jul 2018</b> US List 1 (0% -&gt; 25%)" in legend[0]
    assert "<b>Apr 2025</b> US step 2; US step 4; US step 8; US step 9; and 1 more" in legend[1]
    assert svg.count("<line x1=") >= 7  # every event keeps its own dashed line


def test_a_narrow_chart_clusters_more_and_close_numbers_take_the_other_lane():
    wide = report.cluster_markers(SPRING_2025 + [report.Marker(date(2025, 6, 3), "2025-06-03 US steel")],
                                  lambda d: d.toordinal() / 2)
    narrow = report.cluster_markers(SPRING_2025 + [report.Marker(date(2025, 6, 3), "2025-06-03 US steel")],
                                    lambda d: d.toordinal() / 20)
    assert len(wide) == 2 and len(narrow) == 1
    svg = _chart([report.Marker(date(2025, 3, 1), "2025-03-01 US a"),
                  report.Marker(date(2025, 5, 10), "2025-05-10 US b")])
    lanes = sorted(set(re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)))
    assert len(lanes) == 2  # two numbers a few pixels apart stack instead of overprinting


def test_bars_are_labelled_and_a_negative_share_goes_left():
    svg = report.bar_chart("shares", [("HS 85", 75.0), ("HS 27", -25.0)], "%")
    assert ">+75%</text>" in svg and ">-25%</text>" in svg and 'class="bar negative"' in svg
    zero = float(re.search(r'<line x1="([\d.]+)"', svg).group(1))
    rects = [(float(x), float(w)) for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)]
    assert rects[0][0] == zero and rects[1][0] + rects[1][1] == zero  # right of zero, left of zero


def test_the_anomaly_table_puts_critical_first():
    """Regression: the table was ordered by period and cut at 25 rows, so the spring-2025 criticals never showed."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(anomalies_ddl())
    rows = [_row(f"w{i:02d}", date(2025, 6, 1), severity="warning", series_id=f"chapter:{i}", change_usd=-1e9,
                 last=date(2025, 6, 1), series_label=f"chapter {i}") for i in range(30)]
    rows.append(_row("crit", date(2025, 5, 1), last=date(2025, 6, 1), series_label="the critical one"))
    for row in rows:
        con.execute(f"INSERT INTO marts.anomalies ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))
    html = report._anomalies(con)
    assert html.index("the critical one") < html.index("chapter 0") and html.count("<tr class=") == 25
    assert "HS 85 carried 41% of the fall" in html  # what carried it, in the table
