"""The statistics: which periods of a series are anomalous, and how severe.

Economic drops, per series:
  - yoy: the change on the same period a year earlier beyond the domain's threshold;
  - robust_z: the month-on-month log change against the same calendar month of earlier years, scored with the
    median and the MAD (needs 36 months of history; shorter series get the YoY rule alone, labelled low confidence).
Data drops: a series goes to zero or vanishes while its source still reports; a release shrinks in cells, partners
or chapters.

Chapters below a share of their bilateral flow are kept with severity `info` and page nobody. Baskets are never
silenced that way: each is in the basket seed because users follow it (rare earths, magnets, chips), whatever its
share; a YoY headline on a tiny year-earlier level is guarded instead (`is_low_base`).
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb

from tradewatch.anomalies.series import Block, Series, blocks, month_index, period_label
from tradewatch.periods import add_months

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Rules:
    """Thresholds. Defaults are documented in docs/anomalies.md; the settable ones come from the environment."""

    z_threshold: float = 3.5  # |robust z| at or beyond this is anomalous
    materiality_pct: float = 1.0  # chapters under this share of their bilateral flow page nobody
    event_window_months: int = 6  # events effective this many months before the period (to its end) are named
    yoy_total_pct: float = 20.0  # bilateral totals
    low_base_usd: float = 5e6  # a year-earlier level under this (US$ a month) gets no YoY headline
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
    prior: float | None = None  # the same period a year earlier, per month
    change_value: float | None = None  # the period's total minus the same period's a year earlier (US$ series)
    threshold_pct: float | None = None  # the YoY threshold the series is judged by
    is_low_base: bool = False  # the year-earlier level is too small for a YoY headline
    held_previous_period: bool | None = None  # the previous period was anomalous the same way
    held_before_revision: bool | None = None  # the headline holds on the figures as first published

    @property
    def anomaly_id(self) -> str:
        raw = f"{self.series.series_id}|{self.period.isoformat()}|{self.category}"
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    @property
    def period_label(self) -> str:
        return period_label(self.period, self.months)

    @property
    def falling(self) -> bool:
        return (self.change_pct if self.change_pct is not None else (self.score or 0)) < 0


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
    hits: list[int] = []  # per evaluated block so far: -1 anomalous fall, +1 anomalous rise, 0 neither
    previous: Block | None = None
    threshold = rules.yoy_threshold(series.domain) / 100
    for block in evaluated:
        last_year = by_period.get(add_months(block.period, -12))
        yoy = _yoy(series, block, last_year)
        if yoy is not None:
            yoys[block.period] = yoy
        change = None
        if previous is not None and month_index(block.period) - month_index(previous.period) <= 3 \
                and previous.mean > 0 and block.mean > 0:
            change = math.log(block.mean) - math.log(previous.mean)
            changes[block.period] = change
        history = month_index(block.period) - month_index(first_period)
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
        sign = 0
        if went_to_zero:
            out.append(_anomaly(series, block, "data", "went_to_zero", expected=previous.mean, change=-1.0,
                                first_period=first_period, rules=rules))
        elif z_hit or yoy_hit:
            if expected is None and last_year is not None:
                expected = last_year.mean
            sign = -1 if (yoy if yoy_hit else z) < 0 else 1
            method = "+".join(m for m, hit in (("yoy", yoy_hit), ("robust_z", z_hit)) if hit)
            streak = 1 + next((i for i, hit in enumerate(reversed(hits)) if not hit), len(hits))
            anomaly = _anomaly(series, block, "economic", method, expected=expected, change=yoy, score=z,
                               confidence="normal" if z is not None else "low", both=yoy_hit and z_hit,
                               first_period=first_period, rules=rules, yoys=yoys, evaluated=evaluated,
                               streak=streak)
            out.append(replace(anomaly, held_previous_period=bool(hits) and hits[-1] == sign,
                               **_year_on_year(series, block, last_year, rules)))
        hits.append(sign)
        previous = block
    return out


def _yoy(series: Series, block: Block, last_year: Block | None) -> float | None:
    if series.yoy_is_value:
        return block.mean / 100 - 1
    if last_year is None or last_year.months != block.months or last_year.total <= 0:
        return None
    return block.total / last_year.total - 1


def _year_on_year(series: Series, block: Block, last_year: Block | None, rules: Rules) -> dict:
    """The year-earlier level, the change in value on it, and whether that level is too small for a YoY headline."""
    if series.unit != "usd" or last_year is None or last_year.months != block.months:
        return {}
    return {"prior": last_year.mean, "change_value": block.total - last_year.total,
            "is_low_base": last_year.mean < rules.low_base_usd}


def _anomaly(series: Series, block: Block, category: str, method: str, *, expected: float | None,
             change: float | None, first_period: date, rules: Rules, score: float | None = None,
             confidence: str = "normal", both: bool = False, yoys: dict[date, float] | None = None,
             evaluated: list[Block] | None = None, streak: int = 1) -> Anomaly:
    share = _share(series, block.period)
    material = series.domain != "chapter" or (share is not None and share >= rules.materiality_pct)
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
                   confidence, severity, material, share, fall_since, lowest, first_period, streak,
                   threshold_pct=rules.yoy_threshold(series.domain) if category == "economic" else None)


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
            gap = month_index(latest) - month_index(present[-1])
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
        if p_cells is None or month_index(period) - month_index(p_period) > 3:
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
                        + ", ".join(lost), [], unit="cells", reporter=reporter, is_synthetic=bool(synthetic),
                        source=source)
        block = Block(period, months, float(cells), float(cells), None)
        anomaly = _anomaly(series, block, "data", "release_shrank", expected=float(p_cells),
                           change=cells / p_cells - 1, first_period=p_period, rules=Rules())
        out.append(replace(anomaly, likely_cause="a data problem, not trade: check the publisher's release notes"))
    return out
