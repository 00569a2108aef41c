"""Anomaly detection over every series in the marts, written to `marts.anomalies`.

Economic drops, per series (bilateral totals both ways, HS2 chapters, baskets, prices, the mirror-gap ratio):
  - yoy: the change on the same period a year earlier beyond the domain's threshold;
  - robust_z: the month-on-month log change against the same calendar month of earlier years, scored with the
    median and the MAD (needs 36 months of history; shorter series get the YoY rule alone, labelled low confidence).
Data drops: a series goes to zero or vanishes while its source still reports; a release shrinks in cells, partners
or chapters.

The Lunar New Year moves between late January and mid-February, so January is never judged alone: February is
judged as January+February and March as February+March (China's customs publishes January-February as one period for
the same reason, and those combined periods are judged as they come). Chapters and baskets below a share of their
bilateral flow are kept with severity `info` and page nobody. Each anomaly names the tariff steps and export
controls in a window before it, and the likeliest of them.
"""

from __future__ import annotations

import hashlib
import logging
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import duckdb

from tradewatch.periods import add_months

log = logging.getLogger(__name__)

SEVERITIES = ("info", "warning", "critical")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Rules:
    """Thresholds. Defaults are documented in docs/anomalies.md; the first four are settable from the environment."""

    z_threshold: float = 3.5  # |robust z| at or beyond this is anomalous
    materiality_pct: float = 1.0  # chapters and baskets under this share of their bilateral flow page nobody
    event_window_months: int = 6  # events effective this many months before the period (to its end) are named
    yoy_total_pct: float = 20.0  # bilateral totals
    yoy_pct: dict[str, float] = field(default_factory=lambda: {"chapter": 35.0, "basket": 35.0, "price": 5.0,
                                                               "mirror_gap": 25.0})
    min_scale: dict[str, float] = field(default_factory=lambda: {"price": 0.004})  # log points; others 0.05
    min_history_months: int = 36
    critical_z: float = 5.0

    def yoy_threshold(self, domain: str) -> float:
        return self.yoy_total_pct if domain == "total" else self.yoy_pct.get(domain, self.yoy_total_pct)

    def scale_floor(self, domain: str) -> float:
        return self.min_scale.get(domain, 0.05)


@dataclass(frozen=True)
class Point:
    period: date
    value: float | None
    months: int = 1  # months the period covers (2 for China's January-February)
    bilateral: float | None = None  # the flow the series is part of, for materiality (chapters, baskets)


@dataclass(frozen=True)
class Series:
    series_id: str
    domain: str  # total | chapter | basket | price | mirror_gap
    label: str
    points: Sequence[Point]
    unit: str = "usd"  # usd | index | ratio
    direction: str | None = None  # CN->US | US->CN: which side's measures can explain a move
    code: str | None = None  # HS chapter or basket
    reporter: str | None = None
    partner: str | None = None
    flow: str | None = None
    two_sided: bool = False  # rises are anomalies too (the mirror gap: a widening either way is news)
    yoy_is_value: bool = False  # an index with the same month of the previous year = 100 (China's CPI and PPI)
    is_synthetic: bool = False


@dataclass(frozen=True)
class Anomaly:
    series: Series
    period: date
    months: int
    category: str  # economic | data
    method: str
    observed: float | None
    expected: float | None
    change_pct: float | None
    score: float | None
    confidence: str  # normal | low
    severity: str
    is_material: bool
    share_pct: float | None = None
    largest_fall_since: date | None = None
    lowest_since: date | None = None
    history_start: date | None = None
    consecutive_months: int = 1
    likely_cause: str | None = None
    likely_cause_event_id: str | None = None
    events: str | None = None

    @property
    def anomaly_id(self) -> str:
        raw = f"{self.series.series_id}|{self.period.isoformat()}|{self.category}"
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    @property
    def period_label(self) -> str:
        return period_label(self.period, self.months)


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


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


# --- detection ----------------------------------------------------------------------------------------------------

def detect(series: Series, rules: Rules) -> list[Anomaly]:
    """Every anomalous period of one series, economic and data drops."""
    evaluated = blocks(series)
    if not evaluated:
        return []
    first_period = min(p.period for p in series.points if p.value is not None)
    by_period = {b.period: b for b in evaluated}
    yoys: dict[date, float] = {}
    changes: dict[date, float] = {}
    out: list[Anomaly] = []
    flags: list[bool] = []  # per evaluated block so far: flagged?
    previous: Block | None = None
    threshold = rules.yoy_threshold(series.domain) / 100
    for block in evaluated:
        yoy = _yoy(series, block, by_period.get(add_months(block.period, -12)))
        if yoy is not None:
            yoys[block.period] = yoy
        change = None
        if previous is not None and _month_index(block.period) - _month_index(previous.period) <= 3 \
                and previous.mean > 0 and block.mean > 0:
            change = math.log(block.mean) - math.log(previous.mean)
            changes[block.period] = change
        history = _month_index(block.period) - _month_index(first_period)
        z = expected = None
        reference = [c for p, c in changes.items() if p.month == block.period.month and p < block.period]
        if change is not None and history >= rules.min_history_months and len(reference) >= 3:
            center = statistics.median(reference)
            mad = statistics.median(abs(c - center) for c in reference)
            scale = max(1.4826 * mad, rules.scale_floor(series.domain))
            z = (change - center) / scale
            expected = previous.mean * math.exp(center)
        z_hit = z is not None and (z <= -rules.z_threshold or (series.two_sided and z >= rules.z_threshold))
        yoy_hit = yoy is not None and (yoy <= -threshold or (series.two_sided and yoy >= threshold))
        went_to_zero = previous is not None and previous.mean > 0 and block.total == 0
        if went_to_zero:
            out.append(_anomaly(series, block, "data", "went_to_zero", expected=previous.mean, change=-1.0,
                                first_period=first_period, rules=rules))
        elif z_hit or yoy_hit:
            last_year = by_period.get(add_months(block.period, -12))
            if expected is None and last_year is not None:
                expected = last_year.mean
            method = "+".join(m for m, hit in (("yoy", yoy_hit), ("robust_z", z_hit)) if hit)
            streak = 1 + next((i for i, hit in enumerate(reversed(flags)) if not hit), len(flags))
            out.append(_anomaly(series, block, "economic", method, expected=expected, change=yoy, score=z,
                                confidence="normal" if z is not None else "low", both=yoy_hit and z_hit,
                                first_period=first_period, rules=rules, yoys=yoys, evaluated=evaluated,
                                streak=streak))
        flags.append(z_hit or yoy_hit)
        previous = block
    return out


def _yoy(series: Series, block: Block, last_year: Block | None) -> float | None:
    if series.yoy_is_value:
        return block.mean / 100 - 1
    if last_year is None or last_year.months != block.months or last_year.total <= 0:
        return None
    return block.total / last_year.total - 1


def _anomaly(series: Series, block: Block, category: str, method: str, *, expected: float | None,
             change: float | None, first_period: date, rules: Rules, score: float | None = None,
             confidence: str = "normal", both: bool = False, yoys: dict[date, float] | None = None,
             evaluated: list[Block] | None = None, streak: int = 1) -> Anomaly:
    share = _share(series, block.period)
    material = series.domain not in ("chapter", "basket") or (share is not None and share >= rules.materiality_pct)
    strong = both or (score is not None and abs(score) >= rules.critical_z) or category == "data"
    severity = "info" if not material else ("critical" if strong else "warning")
    fall_since = lowest = None
    if yoys and change is not None and change < 0:
        earlier = [p for p, v in yoys.items() if p < block.period and v <= change]
        fall_since = max(earlier) if earlier else None
    if evaluated:
        earlier_low = [b.period for b in evaluated if b.period < block.period and b.mean <= block.mean]
        lowest = max(earlier_low) if earlier_low else None
    return Anomaly(series, block.period, block.months, category, method, block.mean, expected,
                   None if change is None else round(change * 100, 2), None if score is None else round(score, 2),
                   confidence, severity, material, share, fall_since, lowest, first_period, streak)


def _share(series: Series, period: date) -> float | None:
    """The series' share (%) of its bilateral flow over the twelve months before `period`."""
    if series.domain not in ("chapter", "basket"):
        return None
    window = [p for p in series.points
              if add_months(period, -12) <= p.period < period and p.value is not None and p.bilateral]
    if not window:
        window = [p for p in series.points if p.period == period and p.value is not None and p.bilateral]
    denominator = sum(p.bilateral for p in window)
    return round(100 * sum(p.value for p in window) / denominator, 3) if denominator else None


# --- data drops across series -------------------------------------------------------------------------------------

def vanished(series_list: Iterable[Series], rules: Rules) -> list[Anomaly]:
    """A series present last period that its source no longer reports, while the source reports other series."""
    groups: dict[tuple, list[Series]] = {}
    for s in series_list:
        groups.setdefault((s.domain, s.reporter, s.partner, s.flow), []).append(s)
    out = []
    for members in groups.values():
        latest = max((p.period for s in members for p in s.points if p.value is not None), default=None)
        if latest is None:
            continue
        for s in members:
            present = sorted(p.period for p in s.points if p.value is not None)
            if not present or present[-1] >= latest:
                continue
            last = next(p for p in s.points if p.period == present[-1])
            gap = _month_index(latest) - _month_index(present[-1])
            if gap > 3 or not last.value:  # long gone, or it was zero anyway
                continue
            block = Block(latest, 1, 0.0, 0.0, None)
            out.append(_anomaly(s, block, "data", "vanished", expected=last.value, change=-1.0,
                                first_period=present[0], rules=rules))
    return out


def release_shrinks(con: duckdb.DuckDBPyConnection) -> list[Anomaly]:
    """A release with fewer cells (by a fifth), partners or chapters (three or more) than the previous period's."""
    rows = con.execute("""
        WITH shape AS (
            SELECT source, reporter_iso3, period_month, any_value(months_in_period) AS months,
                   count(*) AS cells, count(DISTINCT partner_iso3) AS partners,
                   count(DISTINCT CASE WHEN hs_level = 'HS2' THEN hs_code END) AS chapters,
                   bool_or(is_synthetic) AS synthetic
            FROM marts.trade_monthly GROUP BY ALL
        )
        SELECT *, lag(cells) OVER w, lag(partners) OVER w, lag(chapters) OVER w, lag(period_month) OVER w
        FROM shape WINDOW w AS (PARTITION BY source, reporter_iso3 ORDER BY period_month)
        ORDER BY source, reporter_iso3, period_month""").fetchall()
    out = []
    for source, reporter, period, months, cells, partners, chapters, synthetic, p_cells, p_partners, p_chapters, \
            p_period in rows:
        if p_cells is None or _month_index(period) - _month_index(p_period) > 3:
            continue
        lost = []
        if cells < 0.8 * p_cells:
            lost.append(f"cells {p_cells} -> {cells}")
        if partners < p_partners:
            lost.append(f"partners {p_partners} -> {partners}")
        if chapters <= p_chapters - 3:
            lost.append(f"HS2 chapters {p_chapters} -> {chapters}")
        if not lost:
            continue
        series = Series(f"release:{source}:{reporter}", "release", f"{source} release ({reporter}-reported): "
                        + ", ".join(lost), [], unit="cells", reporter=reporter, is_synthetic=bool(synthetic))
        block = Block(period, months, float(cells), float(cells), None)
        anomaly = _anomaly(series, block, "data", "release_shrank", expected=float(p_cells),
                           change=cells / p_cells - 1, first_period=p_period, rules=Rules())
        out.append(replace(anomaly, likely_cause="a data problem, not trade: check the publisher's release notes"))
    return out


# --- events -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    event_id: str
    side: str
    event_type: str
    measure: str
    effective: date
    rate_before: float | None
    rate_after: float | None
    hs_scope: str | None
    baskets: str | None

    @property
    def direction(self) -> set[str]:
        if self.event_type == "truce":
            return {"CN->US", "US->CN"}
        imposer_exports = self.event_type == "export_control"  # controls restrict the imposer's own exports
        us_to_cn = (self.side == "US") == imposer_exports
        return {"US->CN" if us_to_cn else "CN->US"}

    @property
    def restrictive(self) -> bool:
        if self.event_type in ("truce", "court", "exemption"):  # an exemption lifts a tariff: relief
            return False
        if self.rate_before is not None and self.rate_after is not None:
            return self.rate_after > self.rate_before
        return True

    def describe(self) -> str:
        text = f"{self.effective.isoformat()} {self.side} {self.measure}"
        if self.rate_before is not None and self.rate_after is not None and self.rate_before != self.rate_after:
            text += f" ({self.rate_before:g}% -> {self.rate_after:g}%)"
        return text


def load_events(con: duckdb.DuckDBPyConnection) -> tuple[list[Event], dict[str, list[str]]]:
    events = [Event(*row) for row in con.execute(
        "SELECT event_id, side, event_type, measure, date_effective, rate_before_pct, rate_after_pct, hs_scope, "
        "affected_baskets FROM marts.tariff_events WHERE NOT is_alternative AND date_effective IS NOT NULL "
        "ORDER BY date_effective, event_id").fetchall()]
    baskets: dict[str, list[str]] = {}
    for basket, code in con.execute("SELECT basket, hs_code FROM reference.commodity_baskets").fetchall():
        baskets.setdefault(basket, []).append(code)
    return events, baskets


def _specificity(event: Event, series: Series, basket_codes: dict[str, list[str]]) -> int:
    """0: unrelated; 1: a measure on part of what the series covers or on unknown lines; 2: on all of it."""
    scope = [] if event.hs_scope in (None, "", "all") else event.hs_scope.split(";")
    if series.domain == "basket":
        if event.baskets and series.code in event.baskets.split(";"):
            return 2
        codes = basket_codes.get(series.code or "", [])
        if scope:
            return 2 if any(c.startswith(s) or s.startswith(c) for s in scope for c in codes) else 0
        return 1 if not event.baskets else 0
    if series.domain == "chapter":
        if scope:
            return 2 if any(s.startswith(series.code or "~") or (series.code or "").startswith(s)
                            for s in scope) else 0
        return 1 if not event.baskets else 0
    if event.baskets and not scope and event.event_type == "export_control":
        return 1  # targeted controls explain part of a total
    return 2 if event.hs_scope == "all" else 1


def attach_events(anomaly: Anomaly, events: Sequence[Event], basket_codes: dict[str, list[str]],
                  window_months: int) -> Anomaly:
    """The events in the window before the anomaly, and the likeliest cause among them."""
    series = anomaly.series
    if anomaly.likely_cause is not None or series.direction is None:
        return anomaly
    first, last = period_span(anomaly.period, anomaly.months)
    start, end = add_months(first, -window_months), add_months(last, 1)
    scored = [(spec, e) for e in events
              if start <= e.effective < end and series.direction in e.direction
              and (spec := _specificity(e, series, basket_codes)) > 0]
    if not scored:
        return replace(anomaly, likely_cause="no tariff step or export control in the window: look for another "
                                             "cause (demand, prices, a data revision)", events="")
    fall = (anomaly.change_pct or 0) < 0 or (anomaly.score or 0) < 0
    best = max(scored, key=lambda se: (se[1].restrictive == fall, se[0], se[1].rate_after or 0, se[1].effective))[1]
    listed = "; ".join(e.describe() for _, e in sorted(scored, key=lambda se: se[1].effective)[-8:])
    return replace(anomaly, likely_cause=best.describe(), likely_cause_event_id=best.event_id, events=listed)


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
           NULL AS extra, is_synthetic
    FROM marts.trade_balance_monthly, (VALUES ('export'), ('import')) f(flow)
    WHERE (reporter_iso3, partner_iso3) IN (('USA', 'CHN'), ('CHN', 'USA'))
    UNION ALL
    SELECT 'chapter', c.reporter_iso3, c.partner_iso3, c.flow, c.hs_code, c.period_month, c.months_in_period,
           c.value_usd::DOUBLE, t.value_usd::DOUBLE, c.source, c.is_synthetic
    FROM marts.trade_monthly c
    LEFT JOIN (SELECT reporter_iso3, partner_iso3, flow, period_month, source, sum(value_usd) AS value_usd
               FROM marts.trade_monthly WHERE hs_level = 'HS2' GROUP BY ALL) t
      USING (reporter_iso3, partner_iso3, flow, period_month, source)
    WHERE c.hs_level = 'HS2' AND (c.reporter_iso3, c.partner_iso3) IN (('USA', 'CHN'), ('CHN', 'USA'))
    UNION ALL
    SELECT 'basket', reporter_iso3, partner_iso3, flow, basket, period_month, months_in_period, value_usd::DOUBLE,
           CASE WHEN share_of_bilateral_pct > 0 THEN value_usd * 100 / share_of_bilateral_pct END, NULL, is_synthetic
    FROM marts.commodity_trade_monthly
    WHERE (reporter_iso3, partner_iso3) IN (('USA', 'CHN'), ('CHN', 'USA'), ('CHN', 'WLD'))
    UNION ALL
    SELECT 'price', country_iso3, NULL, NULL, series_code, period_month, 1, index_value, NULL,
           value_kind || '|' || coalesce(series_name, series_code), is_synthetic
    FROM marts.prices_monthly
    UNION ALL
    SELECT 'mirror_gap', NULL, NULL, NULL, direction, period_month, months_in_period,
           importer_reported_usd::DOUBLE / nullif(exporter_reported_usd, 0), NULL, NULL, is_synthetic
    FROM marts.mirror_gap_monthly
    ORDER BY 1, 2, 3, 4, 5, 6
"""


def load_series(con: duckdb.DuckDBPyConnection) -> list[Series]:
    grouped: dict[tuple, list] = {}
    for domain, reporter, partner, flow, code, period, months, value, bilateral, extra, synthetic in \
            con.execute(SERIES_SQL).fetchall():
        key = (domain, reporter, partner, flow, code, extra if domain == "chapter" else None)
        grouped.setdefault(key, []).append((Point(period, value, months or 1, bilateral), extra, synthetic))
    out = []
    for (domain, reporter, partner, flow, code, _), rows in grouped.items():
        points = [r[0] for r in rows]
        extra, synthetic = rows[0][1], any(r[2] for r in rows)
        out.append(_describe(domain, reporter, partner, flow, code, extra, points, synthetic))
    return out


def _describe(domain, reporter, partner, flow, code, extra, points, synthetic) -> Series:
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
        return Series(f"total:{reporter}:{partner}:{flow}", domain, f"{words} ({by})", direction=direction, **common)
    if domain == "chapter":
        return Series(f"chapter:{reporter}:{partner}:{flow}:{code}:{extra}", domain,
                      f"{words}, HS chapter {code} ({by}, {extra})", direction=direction, **common)
    return Series(f"basket:{reporter}:{partner}:{flow}:{code}", domain,
                  f"{words}: {code.replace('_', ' ')} ({by})", direction=direction, **common)


# --- the scan -----------------------------------------------------------------------------------------------------

ANOMALIES_DDL = """
CREATE TABLE marts.anomalies (
    anomaly_id VARCHAR NOT NULL PRIMARY KEY, series_id VARCHAR NOT NULL, domain VARCHAR NOT NULL,
    series_label VARCHAR NOT NULL, reporter_iso3 VARCHAR, partner_iso3 VARCHAR, flow VARCHAR, code VARCHAR,
    period_month DATE NOT NULL, months_in_period INTEGER NOT NULL, period_label VARCHAR NOT NULL,
    category VARCHAR NOT NULL, method VARCHAR NOT NULL, unit VARCHAR NOT NULL, observed DOUBLE, expected DOUBLE,
    change_pct DOUBLE, score DOUBLE, confidence VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    is_material BOOLEAN NOT NULL, share_of_bilateral_pct DOUBLE, consecutive_months INTEGER NOT NULL,
    largest_fall_since DATE, lowest_since DATE, history_start DATE, likely_cause VARCHAR,
    likely_cause_event_id VARCHAR, events VARCHAR, query VARCHAR NOT NULL, series_last_period DATE NOT NULL,
    is_synthetic BOOLEAN NOT NULL, detected_at TIMESTAMP NOT NULL)
"""


def rules_from(settings) -> Rules:
    """The detection thresholds from settings.anomalies (the environment)."""
    a = settings.anomalies
    return Rules(z_threshold=a.z_threshold, materiality_pct=a.materiality_pct,
                 event_window_months=a.event_window_months, yoy_total_pct=a.yoy_total_pct)


ANOMALY_DOCS = {
    "": "Anomalous drops per series and period: observed vs expected, score, method, severity, and the tariff steps "
        "and export controls in the window before it (docs/anomalies.md). One row per series x period x category.",
    "anomaly_id": "Stable id (series, period, category): the alert key; an anomaly is sent once",
    "series_id": "domain:reporter:partner:flow:code[:source]", "domain": "total, chapter, basket, price, "
    "mirror_gap or release", "period_month": "First month of the period judged (February for January+February)",
    "months_in_period": "Months judged together (2 around the Lunar New Year and for China's January-February)",
    "category": "economic (a move in trade or prices) or data (a series or release that shrank or vanished)",
    "method": "yoy, robust_z, yoy+robust_z, went_to_zero, vanished or release_shrank",
    "observed": "Value per month in the period (US$, index points, ratio or cells)",
    "expected": "Last period's level carried by the usual seasonal change (robust_z), else last year's value",
    "change_pct": "Change on the same period a year earlier, %", "score": "Robust z-score of the log change "
    "against the same month of earlier years (median and MAD)", "confidence": "low when under 36 months of history",
    "severity": "critical, warning or info (info: immaterial, never sent)",
    "largest_fall_since": "Last earlier period with a YoY fall at least as large; null = the largest on record",
    "likely_cause": "The likeliest of the events in the window (association in time, not attribution)",
    "events": "Events effective in the six months before the period, by date", "query": "SQL to see this anomaly",
}


def scan(con: duckdb.DuckDBPyConnection, rules: Rules) -> list[Anomaly]:
    """Detect over every series in the marts and replace `marts.anomalies` in one transaction."""
    series_list = load_series(con)
    events, basket_codes = load_events(con)
    found: list[Anomaly] = []
    for series in series_list:
        found.extend(detect(series, rules))
    found.extend(vanished(series_list, rules))
    found.extend(release_shrinks(con))
    found = [attach_events(a, events, basket_codes, rules.event_window_months) for a in found]
    found.sort(key=lambda a: (a.period, -SEVERITIES.index(a.severity), a.series.series_id))
    write(con, found)
    log.info("anomaly scan: %d series, %d anomalies (%d critical, %d warning, %d info)", len(series_list),
             len(found), *(sum(a.severity == s for a in found) for s in ("critical", "warning", "info")))
    return found


def write(con: duckdb.DuckDBPyConnection, found: Sequence[Anomaly]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [_row(a, now) for a in found]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("DROP TABLE IF EXISTS marts.anomalies")
        con.execute(ANOMALIES_DDL)
        for column, doc in ANOMALY_DOCS.items():
            target = f"COLUMN marts.anomalies.{column}" if column else "TABLE marts.anomalies"
            con.execute(f"COMMENT ON {target} IS '{doc.replace(chr(39), chr(39) * 2)}'")
        if rows:
            con.executemany(f"INSERT INTO marts.anomalies VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _row(a: Anomaly, now: datetime) -> tuple:
    s = a.series
    query = f"SELECT * FROM marts.anomalies WHERE anomaly_id = '{a.anomaly_id}'"
    last = max((p.period for p in s.points if p.value is not None), default=a.period)
    return (a.anomaly_id, s.series_id, s.domain, s.label, s.reporter, s.partner, s.flow, s.code, a.period, a.months,
            a.period_label, a.category, a.method, s.unit, a.observed, a.expected, a.change_pct, a.score,
            a.confidence, a.severity, a.is_material, a.share_pct, a.consecutive_months, a.largest_fall_since,
            a.lowest_since, a.history_start, a.likely_cause, a.likely_cause_event_id, a.events, query,
            max(last, a.period), s.is_synthetic, now)
