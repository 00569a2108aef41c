"""Contributions: which chapters, and within a chapter which HS6 lines, carried an anomaly's change.

The change decomposed is the one the headline speaks of: the period's value minus the same period's a year earlier
(US$ over the period; January+February blocks against last year's January+February), whichever rule fired. Each
component's share is its change divided by the anomaly's change, so the shares of one level add up to 100%:

- a total is split into its HS2 chapters (Census for the US side; Comtrade's chapters for China's side, whose total
  is GACC's), and the three chapters that carried most of the change into their HS6 lines;
- a chapter into its HS6 lines; a basket into the HS6 lines it is made of.

Mixed signs: when the total fell while some chapters rose, those chapters have a negative share ("offset" part of
the fall) and the falling chapters add up to more than 100% of it. That is the only definition under which the
shares of a fall add up to the fall; the alert text names the largest contributors in the direction of the change
and how much was offset.

Only the largest components are kept by name (ten chapters, five lines); the rest are one `OTHER` component, and
what the published detail does not cover (China's GACC total against Comtrade's chapters, or a chapter against the
few lines Comtrade publishes) is an `UNALLOCATED` component, so every level still adds up to the change exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from tradewatch.anomalies.detection import Anomaly
from tradewatch.anomalies.series import period_span
from tradewatch.periods import add_months, month_range
from tradewatch.sql import insert_rows

OTHER, UNALLOCATED = "OTHER", "UNALLOCATED"
TOP_CHAPTERS, TOP_LINES, CHAPTERS_OPENED = 10, 5, 3


@dataclass(frozen=True)
class Part:
    """One component of a change: its value in the period and a year earlier."""

    code: str
    value: float
    value_year_ago: float

    @property
    def change(self) -> float:
        return self.value - self.value_year_ago


@dataclass(frozen=True)
class Contribution:
    anomaly_id: str
    level: str  # HS2 or HS6
    code: str  # the chapter or line, OTHER or UNALLOCATED
    parent_code: str | None  # the chapter an HS6 line of a total's decomposition belongs to
    label: str
    value: float | None
    value_year_ago: float | None
    change_usd: float
    share_pct: float | None  # of the anomaly's change (negative: moved against it)
    rank: int  # 1 = the largest move at this level (OTHER and UNALLOCATED come last)


def decompose(change: float, parts: Sequence[Part], top: int) -> list[Part]:
    """The `top` largest parts (by the size of their change), one OTHER part holding the rest, and an UNALLOCATED
    part for whatever `change` has that the parts do not, so the changes of the result add up to `change`."""
    ranked = sorted(parts, key=lambda p: (-abs(p.change), p.code))
    kept, rest = ranked[:top], ranked[top:]
    out = list(kept)
    if rest:
        out.append(Part(OTHER, sum(p.value for p in rest), sum(p.value_year_ago for p in rest)))
    residual = change - sum(p.change for p in out)
    if abs(residual) >= 0.5:  # whole dollars: anything less is float noise
        out.append(Part(UNALLOCATED, residual, 0.0))
    return out


def shares(change: float, parts: Sequence[Part]) -> list[float | None]:
    """Each part's change as a percentage of `change` (None when nothing changed)."""
    return [None if change == 0 else round(100 * p.change / change, 2) for p in parts]


# --- reading the components from the marts ------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """The components of one anomaly's change: which flow, level and lines, over which months."""

    anomaly_id: str
    reporter: str
    partner: str
    flow: str
    source: str
    level: str
    prefix: str | None  # a chapter: its HS6 lines
    basket: str | None  # a basket: its HS6 lines
    first: date
    last: date


def request_for(anomaly: Anomaly) -> Request | None:
    """What an anomaly decomposes into, or None (prices, ratios, data drops, China's all-partner baskets)."""
    s = anomaly.series
    if anomaly.category != "economic" or s.unit != "usd" or not anomaly.change_value or s.partner == "WLD":
        return None
    first, last = period_span(anomaly.period, anomaly.months)
    detail = "census" if s.reporter == "USA" else "comtrade"  # China's detail is Comtrade's, its total GACC's
    if s.domain == "total":
        return Request(anomaly.anomaly_id, s.reporter, s.partner, s.flow, detail, "HS2", None, None, first, last)
    if s.domain == "chapter":
        return Request(anomaly.anomaly_id, s.reporter, s.partner, s.flow, s.source or detail, "HS6", s.code, None,
                       first, last)
    if s.domain == "basket":
        return Request(anomaly.anomaly_id, s.reporter, s.partner, s.flow, detail, "HS6", None, s.code, first, last)
    return None


COMPONENTS_SQL = """
    WITH cells AS (
        SELECT w.anomaly_id, t.hs_code, t.period_month, t.value_usd, w.is_now, w.months
        FROM contribution_months w
        JOIN marts.trade_monthly t
          ON t.reporter_iso3 = w.reporter AND t.partner_iso3 = w.partner AND t.flow = w.flow
         AND t.source = w.source AND t.hs_level = w.hs_level AND t.period_month = w.period_month
        WHERE (w.prefix IS NULL OR starts_with(t.hs_code, w.prefix))
          AND (w.basket IS NULL OR EXISTS (SELECT 1 FROM reference.commodity_baskets b
                                           WHERE b.basket = w.basket AND starts_with(t.hs_code, b.hs_code)))
    ),
    covered AS (  -- both windows hold every month: otherwise (Comtrade not out yet) there is nothing to split
        SELECT anomaly_id FROM cells GROUP BY anomaly_id
        HAVING count(DISTINCT period_month) FILTER (WHERE is_now) = any_value(months)
           AND count(DISTINCT period_month) FILTER (WHERE NOT is_now) = any_value(months)
    )
    SELECT anomaly_id, hs_code, coalesce(sum(value_usd) FILTER (WHERE is_now), 0)::DOUBLE,
           coalesce(sum(value_usd) FILTER (WHERE NOT is_now), 0)::DOUBLE
    FROM cells SEMI JOIN covered USING (anomaly_id)
    GROUP BY anomaly_id, hs_code
"""


def load_parts(con: duckdb.DuckDBPyConnection, requests: Sequence[Request]) -> dict[str, list[Part]]:
    """The components of every request, from marts.trade_monthly, in one query (one row per request and month of
    the period or the same month a year earlier, joined on equality)."""
    con.execute("CREATE OR REPLACE TEMP TABLE contribution_months (anomaly_id VARCHAR, reporter VARCHAR, "
                "partner VARCHAR, flow VARCHAR, source VARCHAR, hs_level VARCHAR, prefix VARCHAR, basket VARCHAR, "
                "period_month DATE, is_now BOOLEAN, months INTEGER)")
    try:
        rows = []
        for r in requests:
            months = list(month_range(r.first, r.last))
            rows += [(r.anomaly_id, r.reporter, r.partner, r.flow, r.source, r.level, r.prefix, r.basket,
                      month if now else add_months(month, -12), now, len(months))
                     for month in months for now in (True, False)]
        if not rows:
            return {}
        insert_rows(con, "contribution_months", rows)
        out: dict[str, list[Part]] = {}
        for anomaly_id, code, value, year_ago in con.execute(COMPONENTS_SQL).fetchall():
            out.setdefault(anomaly_id, []).append(Part(code, value, year_ago))
        return out
    finally:
        con.execute("DROP TABLE IF EXISTS contribution_months")


def label(level: str, code: str, parent: str | None = None) -> str:
    if code == OTHER:
        return f"other lines of HS {parent}" if parent else ("other chapters" if level == "HS2" else "other lines")
    if code == UNALLOCATED:
        return "not in the published detail"
    return f"HS {code}"


def contributions(con: duckdb.DuckDBPyConnection, found: Sequence[Anomaly]) -> list[Contribution]:
    """The contributions of every anomaly that has components (see the module's docstring)."""
    by_id: Mapping[str, Anomaly] = {a.anomaly_id: a for a in found}
    requests = [r for a in found if (r := request_for(a)) is not None]
    parts = load_parts(con, requests)
    out: list[Contribution] = []
    opened: list[Request] = []  # totals: their leading chapters, split into lines
    for request in requests:
        if request.anomaly_id not in parts:
            continue
        anomaly = by_id[request.anomaly_id]
        change = anomaly.change_value or 0.0
        level = decompose(change, parts[request.anomaly_id], TOP_CHAPTERS if request.level == "HS2" else TOP_LINES)
        out += _rows(anomaly.anomaly_id, request.level, None, change, level)
        if request.level == "HS2":
            leading = sorted((p for p in level if p.code not in (OTHER, UNALLOCATED) and p.change * change > 0),
                             key=lambda p: -abs(p.change))[:CHAPTERS_OPENED]
            opened += [Request(f"{request.anomaly_id}|{p.code}", request.reporter, request.partner, request.flow,
                               request.source, "HS6", p.code, None, request.first, request.last) for p in leading]
    chapter_change = {f"{c.anomaly_id}|{c.code}": c.change_usd for c in out if c.level == "HS2"}
    for key, lines in load_parts(con, opened).items():
        anomaly_id, chapter = key.split("|")
        change = by_id[anomaly_id].change_value or 0.0
        out += _rows(anomaly_id, "HS6", chapter, change, decompose(chapter_change[key], lines, TOP_LINES))
    return out


def _rows(anomaly_id: str, level: str, parent: str | None, change: float, parts: list[Part]) -> list[Contribution]:
    named = [p for p in parts if p.code not in (OTHER, UNALLOCATED)]
    order = {p.code: i for i, p in enumerate(named + [p for p in parts if p not in named], start=1)}
    return [Contribution(anomaly_id, level, p.code, parent, label(level, p.code, parent),
                         None if p.code == UNALLOCATED else p.value,
                         None if p.code == UNALLOCATED else p.value_year_ago, p.change, share, order[p.code])
            for p, share in zip(parts, shares(change, parts), strict=True)]
