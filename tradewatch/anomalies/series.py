"""The series the detector judges: what they are, how they are read from the marts, and how periods are judged.

Every series in the marts is scanned: the bilateral totals both ways, every HS2 chapter, the commodity baskets, the
price indexes and the mirror-gap ratio. The Lunar New Year moves between late January and mid-February, so January
is never judged alone: February is judged as January+February and March as February+March (China's customs publish
January-February as one period for the same reason, and those combined periods are judged as they come).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from tradewatch.periods import add_months

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Point:
    period: date
    value: float | None
    months: int = 1  # months the period covers (2 for China's January-February)
    bilateral: float | None = None  # the flow the series is part of, for materiality (chapters, baskets)


@dataclass(frozen=True)
class Series:
    series_id: str
    domain: str  # total | chapter | basket | price | mirror_gap | release
    label: str
    points: Sequence[Point]
    unit: str = "usd"  # usd | index | ratio | cells
    direction: str | None = None  # CN->US | US->CN: which side's measures can explain a move
    code: str | None = None  # HS chapter or basket
    reporter: str | None = None
    partner: str | None = None
    flow: str | None = None
    two_sided: bool = False  # rises are anomalies too (the mirror gap: a widening either way is news)
    yoy_is_value: bool = False  # an index with the same month of the previous year = 100 (China's CPI and PPI)
    is_synthetic: bool = False
    source: str | None = None  # the publisher of a chapter series (census, comtrade); its components come from it

    @property
    def last_period(self) -> date | None:
        return max((p.period for p in self.points if p.value is not None), default=None)


#: Which series a scan judges: all of them (None), or those a predicate selects (a later, incremental scan judges
#: only the series whose periods changed).
SeriesFilter = Callable[[Series], bool]


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def period_span(period: date, months: int) -> tuple[date, date]:
    """First and last month judged: blocks are labelled by their last month (February for January+February),
    China's combined January-February by its first."""
    first = add_months(period, -(months - 1)) if period.month != 1 else period
    return first, add_months(first, months - 1)


def period_label(period: date, months: int) -> str:
    if months == 1:
        return f"{MONTH_NAMES[period.month - 1]} {period.year}"
    first, last = period_span(period, months)
    return f"{MONTH_NAMES[first.month - 1]}–{MONTH_NAMES[last.month - 1]} {last.year}"


# --- evaluation blocks --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """What is judged at a period: one month, or two around the Lunar New Year."""

    period: date
    months: int
    total: float  # the sum over the block (or the mean for indexes and ratios)
    mean: float  # per month
    bilateral: float | None


def blocks(series: Series) -> list[Block]:
    """January+February judged at February, February+March at March, other months alone; combined periods as is."""
    by_period = {p.period: p for p in series.points if p.value is not None}
    out = []
    for period, point in sorted(by_period.items()):
        if point.months > 1:  # already a combined period (China's January-February)
            members = [point]
        elif period.month == 1 and (period.replace(month=2) in by_period or period.replace(month=2) > max(by_period)):
            continue  # judged with February
        elif period.month in (2, 3) and by_period.get(add_months(period, -1), Point(period, None, 2)).months == 1:
            members = [by_period[add_months(period, -1)], point]
        else:
            members = [point]
        months = sum(m.months for m in members)
        values = [m.value for m in members]
        additive = series.unit == "usd"
        total = sum(values) if additive else sum(values) / len(values)
        mean = total / months if additive else total
        bilateral = (sum(m.bilateral for m in members) if all(m.bilateral is not None for m in members) else None)
        out.append(Block(period, months, total, mean, bilateral))
    return out


# --- the series in the marts --------------------------------------------------------------------------------------

_FLOW_WORDS = {("USA", "import"): ("US imports from China", "CN->US"),
               ("USA", "export"): ("US exports to China", "US->CN"),
               ("CHN", "export"): ("China's exports to the US", "CN->US"),
               ("CHN", "import"): ("China's imports from the US", "US->CN")}
#: China's own commodity tables (GACC) give its trade with every partner: the baskets' partner is the world.
_WORLD_WORDS = {("CHN", "export"): ("China's exports to all partners", "CN->US"),
                ("CHN", "import"): ("China's imports from all partners", "US->CN")}
_BY = {"USA": "US-reported", "CHN": "China-reported"}

SERIES_SQL = """
    SELECT 'total' AS domain, reporter_iso3, partner_iso3, f.flow, 'TOTAL' AS code, period_month, months_in_period,
           CASE f.flow WHEN 'export' THEN exports_usd ELSE imports_usd END::DOUBLE AS value, NULL::DOUBLE AS bilateral,
           NULL AS extra, is_synthetic, [source] AS sources
    FROM marts.trade_balance_monthly, (VALUES ('export'), ('import')) f(flow)
    WHERE (reporter_iso3, partner_iso3) IN (('USA', 'CHN'), ('CHN', 'USA'))
    UNION ALL
    SELECT 'chapter', c.reporter_iso3, c.partner_iso3, c.flow, c.hs_code, c.period_month, c.months_in_period,
           c.value_usd::DOUBLE, t.value_usd::DOUBLE, c.source, c.is_synthetic, [c.source]
    FROM marts.trade_monthly c
    LEFT JOIN (SELECT reporter_iso3, partner_iso3, flow, period_month, source, sum(value_usd) AS value_usd
               FROM marts.trade_monthly WHERE hs_level = 'HS2' GROUP BY ALL) t
      USING (reporter_iso3, partner_iso3, flow, period_month, source)
    WHERE c.hs_level = 'HS2' AND (c.reporter_iso3, c.partner_iso3) IN (('USA', 'CHN'), ('CHN', 'USA'))
    UNION ALL
    SELECT 'basket', reporter_iso3, partner_iso3, flow, basket, period_month, months_in_period, value_usd::DOUBLE,
           CASE WHEN share_of_bilateral_pct > 0 THEN value_usd * 100 / share_of_bilateral_pct END, NULL, is_synthetic,
           [source]
    FROM marts.commodity_trade_monthly
    WHERE (reporter_iso3, partner_iso3) IN (('USA', 'CHN'), ('CHN', 'USA'), ('CHN', 'WLD'))
    UNION ALL
    SELECT 'price', country_iso3, NULL, NULL, series_code, period_month, 1, index_value, NULL,
           value_kind || '|' || coalesce(series_name, series_code), is_synthetic, [source]
    FROM marts.prices_monthly
    UNION ALL
    SELECT 'mirror_gap', NULL, NULL, NULL, direction, period_month, months_in_period,
           importer_reported_usd::DOUBLE / nullif(exporter_reported_usd, 0), NULL, NULL, is_synthetic,
           [exporter_source, importer_source]
    FROM marts.mirror_gap_monthly
"""
#: The series of the groups (domain, reporter, partner, flow: what `vanished` compares) with a point from one of
#: the publishers given covering one of the months given (China's January-February covers both): an incremental
#: scan reads only their history.
TOUCHED_SQL = f"""
    WITH every AS ({SERIES_SQL}),
    touched AS (
        SELECT DISTINCT domain, reporter_iso3, partner_iso3, flow FROM every, unnest(?::DATE[]) AS m(month)
        WHERE m.month >= every.period_month
          AND m.month < every.period_month + to_months(coalesce(every.months_in_period, 1))
          AND list_has_any(every.sources, ?::VARCHAR[])
    )
    SELECT every.* FROM every JOIN touched t
      ON every.domain = t.domain AND every.reporter_iso3 IS NOT DISTINCT FROM t.reporter_iso3
     AND every.partner_iso3 IS NOT DISTINCT FROM t.partner_iso3 AND every.flow IS NOT DISTINCT FROM t.flow
"""
ORDER = " ORDER BY 1, 2, 3, 4, 5, 6"


def load_series(con: duckdb.DuckDBPyConnection, months: Collection[date] | None = None,
                publishers: Collection[str] = ()) -> list[Series]:
    """Every series in the marts, read with one query; or, given `months`, only the groups of series with a point
    from one of `publishers` in one of them (TOUCHED_SQL)."""
    grouped: dict[tuple, list] = {}
    query = con.execute(SERIES_SQL + ORDER) if months is None else \
        con.execute(TOUCHED_SQL + ORDER, [list(months), list(publishers)])
    for domain, reporter, partner, flow, code, period, months_in, value, bilateral, extra, synthetic, _ in \
            query.fetchall():
        key = (domain, reporter, partner, flow, code, extra if domain == "chapter" else None)
        grouped.setdefault(key, []).append((Point(period, value, months_in or 1, bilateral), extra, synthetic))
    out = []
    for (domain, reporter, partner, flow, code, _), rows in grouped.items():
        points = [r[0] for r in rows]
        extra, synthetic = rows[0][1], any(r[2] for r in rows)
        out.append(describe(domain, reporter, partner, flow, code, extra, points, synthetic))
    return out


def describe(domain: str, reporter: str | None, partner: str | None, flow: str | None, code: str | None,
             extra: str | None, points: Sequence[Point], synthetic: bool) -> Series:
    """A series with its id, label and the direction of trade whose measures can explain its moves."""
    common = {"points": points, "reporter": reporter, "partner": partner, "flow": flow, "code": code,
              "is_synthetic": synthetic}
    if domain == "price":
        kind, name = (extra or "level|").split("|", 1)
        country = "US" if reporter == "USA" else "China"
        return Series(f"price:{reporter}:{code}", domain, f"{country} {name or code}", unit="index",
                      direction="CN->US" if reporter == "USA" else "US->CN", yoy_is_value=kind == "yoy_index",
                      **common)
    if domain == "mirror_gap":
        who = "US-reported imports / China-reported exports" if code == "CN->US" else \
            "China-reported imports / US-reported exports"
        return Series(f"mirror_gap:{code}", domain, f"Mirror ratio {code} ({who})", unit="ratio", two_sided=True,
                      direction=code, **common)
    words, direction = (_WORLD_WORDS if partner == "WLD" else _FLOW_WORDS)[(reporter, flow)]
    by = _BY[reporter] + (", GACC" if partner == "WLD" else "")
    if domain == "total":
        return Series(f"total:{reporter}:{partner}:{flow}", domain, f"{words} ({by})", direction=direction,
                      source="census" if reporter == "USA" else "gacc", **common)
    if domain == "chapter":
        return Series(f"chapter:{reporter}:{partner}:{flow}:{code}:{extra}", domain,
                      f"{words}, HS chapter {code} ({by}, {extra})", direction=direction, source=extra, **common)
    return Series(f"basket:{reporter}:{partner}:{flow}:{code}", domain,
                  f"{words}: {(code or '').replace('_', ' ')} ({by})", direction=direction,
                  source="gacc" if partner == "WLD" else ("census" if reporter == "USA" else "comtrade"), **common)
