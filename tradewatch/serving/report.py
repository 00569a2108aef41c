"""The static HTML report: one self-contained page (inline SVG and CSS, no script, no CDN) that works offline.

Panels: the bilateral balance as each side reports it, the mirror gap, both sides' statutory tariffs day by day
(additional and total) beside the effective US rate with the events numbered on the charts and listed under them,
the commodity baskets, prices, where the trade went (the rerouting monitor), what carried the latest falls
(contributions), and the latest anomalies, critical first. Read from the published snapshot (what readers see), or
from the warehouse when nothing has been published yet.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from tradewatch.errors import TradewatchError
from tradewatch.settings import Settings
from tradewatch.sql import table_exists

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
BASKETS = (("rare_earths", "Rare earths"), ("semiconductors", "Chips"), ("smartphones", "Phones"),
           ("passenger_cars", "Cars"), ("ships", "Ships"), ("home_appliances", "Appliances"))


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[tuple[date, float]]


@dataclass(frozen=True)
class Marker:
    when: date
    label: str


#: markers within this many px of a cluster's first one join it; numbers closer than LANE_GAP take another lane
CLUSTER_GAP, LANE_GAP, LANES = 16.0, 18.0, 3
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def cluster_markers(markers: Sequence[Marker], x_of) -> list[list[Marker]]:
    """Markers in time order, grouped where they would overlap on the chart (`x_of` maps a date to pixels). A group
    spans at most CLUSTER_GAP from its first marker, so a year of monthly steps is several numbers, not one."""
    clusters: list[list[Marker]] = []
    for marker in sorted(markers, key=lambda m: (m.when, m.label)):
        if clusters and x_of(marker.when) - x_of(clusters[-1][0].when) < CLUSTER_GAP:
            clusters[-1].append(marker)
        else:
            clusters.append([marker])
    return clusters


def _span(members: Sequence[Marker]) -> str:
    first, last = members[0].when, members[-1].when
    start = f"{MONTHS[first.month - 1]} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return start
    return f"{MONTHS[first.month - 1]}–{MONTHS[last.month - 1]} {last.year}" if first.year == last.year else \
        f"{start}–{MONTHS[last.month - 1]} {last.year}"


def event_legend(clusters: Sequence[Sequence[Marker]], shown: int = 4) -> str:
    """The numbered events under a chart: what each number on it stands for, readable without hovering."""
    if not clusters:
        return ""
    items = []
    for number, members in enumerate(clusters, start=1):
        names = "; ".join(html.escape(m.label.split(" ", 1)[-1]) for m in members[:shown])
        more = f"; and {len(members) - shown} more" if len(members) > shown else ""
        items.append(f'<li><span class="num">{number}</span> <b>{_span(members)}</b> {names}{more}</li>')
    return f'<ol class="events">{"".join(items)}</ol>'


def _x(d: date, start: date, end: date, left: float, width: float) -> float:
    span = max((end - start).days, 1)
    return left + width * (d - start).days / span


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 10 ** -len(str(int(1 / raw)))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = int(low // step) * step
    return [first + i * step for i in range(count + 3) if first + i * step <= high + step * 0.001]


def line_chart(title: str, lines: Sequence[Line], unit: str, markers: Sequence[Marker] = (), width: int = 920,
               height: int = 280, zero: bool = False) -> str:
    """An SVG line chart with axes, a legend and the events numbered on it, listed under it (events that would
    overlap share a number, so a year of many steps stays readable)."""
    left, right, top, bottom = 64, 16, 36, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [p for line in lines for p in line.points if p[1] is not None]
    if not points:
        return f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption><p>No data yet.</p></figure>'
    start, end = min(p[0] for p in points), max(p[0] for p in points)
    low, high = min(p[1] for p in points), max(p[1] for p in points)
    if zero:
        low, high = min(low, 0), max(high, 0)
    ticks = _ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / ((high - low) or 1))

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for tick in ticks:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" class="ytick">{tick:,.4g}</text>')
    if low < 0 < high:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="zero"/>')
    for year in range(start.year + (start.month > 1), end.year + 1):
        x = _x(date(year, 1, 1), start, end, left, plot_w)
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" class="xtick">{year}</text>'
                     f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" class="grid"/>')
    def x_of(d: date) -> float:
        return _x(d, start, end, left, plot_w)

    clusters = cluster_markers([m for m in markers if start <= m.when <= end], x_of)
    lane_x = [-LANE_GAP] * LANES  # where each lane's last number is
    for number, members in enumerate(clusters, start=1):
        x = x_of(members[0].when)
        lane = next((i for i in range(LANES) if x - lane_x[i] >= LANE_GAP), lane_x.index(min(lane_x)))
        lane_x[lane] = x
        cy = top + 8 + 16 * lane
        hover = html.escape("\n".join(m.label for m in members))
        parts.append('<g class="event">' + "".join(
            f'<line x1="{x_of(m.when):.1f}" x2="{x_of(m.when):.1f}" y1="{cy + 7}" y2="{height - bottom}"/>'
            for m in members)
            + f'<circle cx="{x:.1f}" cy="{cy}" r="7"/><text x="{x:.1f}" y="{cy + 3.5:.1f}" class="num">{number}'
              f"</text><title>{hover}</title></g>")
    legend_x = left + 8
    for index, line in enumerate(lines):
        color = PALETTE[index % len(PALETTE)]
        coords = " ".join(f"{_x(d, start, end, left, plot_w):.1f},{y(v):.1f}" for d, v in line.points
                          if v is not None)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        parts.append(f'<rect x="{legend_x}" y="10" width="12" height="4" fill="{color}"/>'
                     f'<text x="{legend_x + 16}" y="16" class="legend">{html.escape(line.label)}</text>')
        legend_x += 16 + 6.6 * len(line.label) + 18
    parts.append(f'<text x="12" y="{top - 8}" class="unit">{html.escape(unit)}</text></svg>')
    return (f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>{"".join(parts)}'
            f"{event_legend(clusters)}</figure>")


def _series(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[tuple[date, float]]:
    return [(d, float(v)) for d, v in con.execute(sql, list(params)).fetchall() if v is not None]


def _table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return table_exists(con, "marts", name)


#: the marts the charts read (tariff_events, anomalies and publication are optional)
CHARTED_MARTS = ("trade_balance_monthly", "mirror_gap_monthly", "tariff_rates_monthly", "commodity_trade_monthly",
                 "prices_monthly")


def panels(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(section title, HTML) for each panel."""
    out = []
    rows = con.execute(
        "SELECT date_effective, side, measure, coalesce(affected_baskets, ''), coalesce(hs_scope, '') FROM "
        "marts.tariff_events WHERE NOT is_alternative AND date_effective IS NOT NULL ORDER BY 1"
    ).fetchall() if _table(con, "tariff_events") else []
    events = [Marker(d, f"{d.isoformat()} {side} {measure}") for d, side, measure, _, _ in rows]
    per_month = "/ months_in_period / 1e9"
    us = _series(con, f"SELECT period_month, balance_usd {per_month} FROM marts.trade_balance_monthly WHERE "
                      "reporter_iso3 = 'USA' AND partner_iso3 = 'CHN' ORDER BY 1")
    cn = _series(con, f"SELECT period_month, -balance_usd {per_month} FROM marts.trade_balance_monthly WHERE "
                      "reporter_iso3 = 'CHN' AND partner_iso3 = 'USA' ORDER BY 1")
    out.append(("The bilateral balance, as each side reports it", line_chart(
        "US balance with China: US-reported vs China-reported (sign turned to the US side)",
        [Line("US-reported (Census)", us), Line("China-reported (GACC), monthly average", cn)],
        "US$ bn a month", events, zero=True)))
    gap_sql = "SELECT period_month, gap_pct FROM marts.mirror_gap_monthly WHERE direction = ? ORDER BY 1"
    gaps = [Line(direction, _series(con, gap_sql, [direction])) for direction in ("CN->US", "US->CN")]
    out.append(("The mirror gap", line_chart("Importer-reported minus exporter-reported, % of exporter-reported",
                                             gaps, "%", zero=True)))
    out.append(("Tariffs: the statutory rate, day by day, and what is collected", _tariff_chart(con, events)))
    basket_html = []
    basket_sql = ("SELECT period_month, value_usd / 1e6 FROM marts.commodity_trade_monthly WHERE basket = ? AND "
                  "reporter_iso3 = 'USA' AND flow = ? ORDER BY 1")
    for basket, label in BASKETS:
        lines = [Line(f"US {flow}s", _series(con, basket_sql, [basket, flow])) for flow in ("import", "export")]
        basket_markers = [Marker(d, f"{d.isoformat()} {side} {measure}") for d, side, measure, baskets, scope in rows
                          if basket in baskets.split(";") or (scope == "all" and side == "US")]
        basket_html.append(line_chart(f"{label}: US imports from and exports to China", lines, "US$ m",
                                      basket_markers, width=450, height=220))
    out.append(("Commodity baskets", f'<div class="grid2">{"".join(basket_html)}</div>'))
    prices = [Line(label, _series(con, "SELECT period_month, yoy_pct FROM marts.prices_monthly WHERE "
                                       "country_iso3 = ? AND series_code = ? ORDER BY 1", [country, code]))
              for label, country, code in (("US CPI", "USA", "CPI"), ("US import prices from China", "USA",
                                                                       "IMPORT_PRICES_FROM_CHN"),
                                           ("China CPI", "CHN", "CPI"), ("China PPI", "CHN", "PPI"))]
    out.append(("Prices", line_chart("Year-on-year change", prices, "% YoY", zero=True)))
    us_events = [Marker(d, f"{d.isoformat()} {side} {measure}") for d, side, measure, _, _ in rows if side != "CN"]
    out.append(("Where the trade went: lines where a third country replaced China", _rerouting(con, us_events)))
    out.append(("What carried the latest falls", _contributions(con)))
    out.append(("Anomalies of the last twelve months, most severe first", _anomalies(con)))
    return out


def _steps(con: duckdb.DuckDBPyConnection, side: str, column: str, until: date) -> list[tuple[date, float]]:
    """A daily tariff series (states from change_date to state_until) as a step line ending at `until`."""
    points: list[tuple[date, float]] = []
    for start, end, value in con.execute(
            f"SELECT change_date, state_until, {column} FROM marts.tariff_rates_daily WHERE imposing_side = ? "
            "AND weighting = 'fixed_base_year' AND hs_level = 'TOTAL' AND change_date <= ? ORDER BY 1",
            [side, until]).fetchall():
        if value is not None:
            points += [(start, float(value)), (min(end or until, until), float(value))]
    return points


def _tariff_chart(con: duckdb.DuckDBPyConnection, events: Sequence[Marker]) -> str:
    """Both sides' trade-weighted statutory rates (additional and total, at every change date) beside the US
    effective rate (duty / value, monthly), with the events marked."""
    if not _table(con, "tariff_rates_daily"):
        return "<p>No tariff series yet.</p>"
    latest = con.execute("SELECT max(period_month) FROM marts.tariff_rates_monthly").fetchall()[0][0]
    changed = con.execute("SELECT max(change_date) FROM marts.tariff_rates_daily").fetchall()[0][0]
    until = max(d for d in (latest, changed, date(2018, 12, 31)) if d is not None)
    lines = [Line(f"{name} {kind}", _steps(con, side, column, until))
             for side, name in (("US", "US"), ("CN", "China"))
             for kind, column in (("total", "total_rate_pct"), ("additional", "additional_rate_pct"))]
    lines.append(Line("US effective", _series(
        con, "SELECT period_month, effective_rate_pct FROM marts.tariff_rates_monthly WHERE imposing_side = 'US' "
             "AND hs_level = 'TOTAL' AND period_month >= DATE '2018-01-01' ORDER BY 1")))
    weights = con.execute("SELECT string_agg(DISTINCT imposing_side || ' ' || weight_year, ', ' ORDER BY "
                          "imposing_side || ' ' || weight_year) FROM marts.tariff_rates_daily WHERE "
                          "weighting = 'fixed_base_year' AND hs_level = 'TOTAL'").fetchall()[0][0]
    return line_chart(f"Trade-weighted tariff on the other side's goods (US on China's, China on the US's), stacked "
                      f"line by line: total (MFN + additional) and additional, with weights of the year before the "
                      f"measures ({weights}); US effective = calculated duty / value. Each number a dated event, "
                      "listed under the chart", lines, "%", [m for m in events if m.when >= date(2018, 1, 1)])


PARTNERS = {"VNM": ("Vietnam", "vietnam"), "MEX": ("Mexico", "mexico"), "HKG": ("Hong Kong", "hong_kong")}


def _pct(value: float | None, signed: bool = False) -> str:
    return "" if value is None else (f"{value:+.1f}" if signed else f"{value:.1f}")


def _rerouting(con: duckdb.DuckDBPyConnection, events: Sequence[Marker], limit: int = 10) -> str:
    """The latest month's rerouting candidates with both sides' figures, and the shares of the top lines over time."""
    if not _table(con, "trade_diversion_monthly"):
        return "<p>No rerouting monitor built yet.</p>"
    rows = con.execute(
        "SELECT * FROM marts.trade_diversion_monthly WHERE hs_level = 'HS6' AND rerouting_signal AND period_month = "
        "(SELECT max(period_month) FROM marts.trade_diversion_monthly) ORDER BY rerouting_shifted_usd DESC LIMIT ?",
        [limit])
    names = [d[0] for d in rows.description]
    found = [dict(zip(names, r, strict=True)) for r in rows.fetchall()]
    if not found:
        return "<p>No line shows the rerouting pattern in the latest month.</p>"
    body = []
    for r in found:
        partner, column = PARTNERS[r["rerouting_partner_iso3"]]
        horizon = "yoy" if r["rerouting_horizon"] == "yoy" else "since_base"
        china_change = r[f"china_share_change_{horizon}_pts"]
        partner_change = r[f"{column}_share_change_{horizon}_pts"]
        cn_change = r["rerouting_cn_exports_change_pct"]
        body.append(
            f'<tr><td>{html.escape(r["hs_code"])}<br><small>{html.escape((r["description"] or "")[:48])}</small></td>'
            f"<td>{partner}</td><td>{_pct(r['china_share_pct'])}% ({_pct(china_change, True)})</td>"
            f"<td>{_pct(r[column + '_share_pct'])}% ({_pct(partner_change, True)})</td>"
            f"<td>{r['rerouting_shifted_usd'] / 1e6:,.1f}</td>"
            f"<td>{r['rerouting_cn_exports_3m_usd'] / 3e6:,.1f} ({'new' if cn_change is None else f'{cn_change:+.0f}%'}"
            f", {r['rerouting_evidence_level']})</td><td>{r['rerouting_confidence']}</td>"
            f"<td>{'a year earlier' if horizon == 'yoy' else 'the base year'}</td></tr>")
    latest = found[0]["period_month"]
    table = (f"<p>{latest:%B %Y}, three months to the month. US side: each origin's share of US imports of the line "
             "(Census) and its change in points; China's side: its exports of the line to the partner (UN Comtrade "
             "for the basket lines, else the chapter; GACC's total when nothing finer is published). A signal is an "
             "association, not proof of transshipment (docs/diversion.md).</p>"
             "<table><thead><tr><th>HS6 line</th><th>to</th><th>China's share (pts)</th><th>partner's share (pts)"
             "</th><th>US$ m a month moved</th><th>China's exports to partner, US$ m a month (change, level)</th>"
             f"<th>confidence</th><th>against</th></tr></thead><tbody>{''.join(body)}</tbody></table>")
    charts = []
    for r in found[:2]:
        partner, column = PARTNERS[r["rerouting_partner_iso3"]]
        sql = ("SELECT period_month, {} FROM marts.trade_diversion_monthly WHERE hs_level = 'HS6' AND hs_code = ? "
               "ORDER BY 1")
        lines = [Line(label, _series(con, sql.format(col), [r["hs_code"]]))
                 for label, col in (("China", "china_share_pct"), (partner, f"{column}_share_pct"),
                                    ("rest of the world", "rest_share_pct"))]
        title = f"HS {r['hs_code']} {(r['description'] or '').lower()[:40]}: share of US imports by origin"
        charts.append(line_chart(title, lines, "% (3 months)", events, width=450, height=240))
    return table + f'<div class="grid2">{"".join(charts)}</div>'


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str, width: int = 450) -> str:
    """Horizontal bars around zero (negative to the left), labelled with their values: readable in print."""
    if not bars:
        return ""
    row, left, right, top = 20, 150, 56, 8
    height = top + row * len(bars) + 8
    low, high = min(0.0, *(v for _, v in bars)), max(0.0, *(v for _, v in bars))

    def x(value: float) -> float:
        return left + (width - left - right) * (value - low) / ((high - low) or 1)

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}" '
             'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(bars):
        y, start, end = top + i * row, min(x(0), x(value)), max(x(0), x(value))
        text_x, anchor = (end + 4, "value") if value >= 0 else (start - 4, "value left")
        parts.append(f'<text x="{left - 6}" y="{y + 13}" class="ytick">{html.escape(label)}</text>'
                     f'<rect x="{start:.1f}" y="{y + 3}" width="{max(end - start, 1):.1f}" height="{row - 6}" '
                     f'class="{"bar" if value >= 0 else "bar negative"}"/>'
                     f'<text x="{text_x:.1f}" y="{y + 13}" class="{anchor}">{value:+.0f}{html.escape(unit)}</text>')
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{height - 8}" class="zero"/></svg>')
    return f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>{"".join(parts)}</figure>'


def _contributions(con: duckdb.DuckDBPyConnection, limit: int = 2) -> str:
    """The chapters that carried the latest bilateral falls, as shares of each fall (rises offset, to the left)."""
    if not _table(con, "anomalies"):
        return "<p>No anomaly scan yet.</p>"
    rows = con.execute(
        "SELECT series_label, period_label, change_pct, change_usd, top_contributions, contributions::VARCHAR "
        "FROM marts.anomalies WHERE domain = 'total' AND contributions IS NOT NULL AND severity <> 'info' "
        "AND period_month = (SELECT max(period_month) FROM marts.anomalies WHERE domain = 'total' "
        "AND contributions IS NOT NULL) ORDER BY abs(change_usd) DESC LIMIT ?", [limit]).fetchall()
    if not rows:
        return "<p>No bilateral anomaly with its chapters yet.</p>"
    charts, notes = [], []
    for label, when, change_pct, change_usd, summary, parts in rows:
        parts = json.loads(parts)
        chapters = [(p["label"], p["share_pct"]) for p in parts if p["parent_code"] is None
                    and p["share_pct"] is not None]
        verb = "fall" if change_usd < 0 else "rise"
        money = f"{'-' if change_usd < 0 else '+'}US${abs(change_usd) / 1e9:.2f}bn"
        charts.append(bar_chart(f"{label}, {when} ({change_pct:+.1f}%, {money}): % of the {verb}", chapters, "%"))
        lines = [p for p in parts if p["parent_code"] is not None and p["share_pct"] is not None]
        by_chapter: dict[str, list[str]] = {}
        for p in lines:
            by_chapter.setdefault(p["parent_code"], []).append(f"{html.escape(p['label'])} {p['share_pct']:+.0f}%")
        detail = "; ".join(f"<b>HS {c}</b>: {', '.join(items)}" for c, items in by_chapter.items())
        notes.append(f"<p><b>{html.escape(label)}, {html.escape(when)}</b>: {html.escape(summary or '')}. Within the "
                     f"leading chapters, as % of the whole {verb}: {detail}.</p>")
    return (f'<div class="grid2">{"".join(charts)}</div>{"".join(notes)}<p class="meta">Shares of the change on the '
            "same period a year earlier; a chapter that moved the other way has a negative share, so the shares add "
            "up to 100%. Every anomaly's components: the column contributions of marts.anomalies.</p>")


def _anomalies(con: duckdb.DuckDBPyConnection, limit: int = 25) -> str:
    """The anomalies of the last twelve months of each series, critical first, then the largest moves."""
    if not _table(con, "anomalies"):
        return "<p>No anomaly scan yet.</p>"
    rows = con.execute(
        "SELECT period_label, severity, series_label, method, change_pct, score, top_contributions, is_stable, "
        "likely_cause FROM marts.anomalies WHERE severity <> 'info' "
        "AND period_month > series_last_period - INTERVAL 12 MONTH "
        "ORDER BY list_position(['critical', 'warning'], severity), abs(change_usd) DESC NULLS LAST, "
        "period_month DESC, series_id LIMIT ?", [limit]).fetchall()
    if not rows:
        return "<p>No material anomaly.</p>"
    body = "".join(
        f'<tr class="{html.escape(sev)}"><td>{html.escape(when)}</td><td>{html.escape(sev)}</td>'
        f"<td>{html.escape(label)}</td><td>{html.escape(method)}</td>"
        f"<td>{'' if change is None else f'{change:+.1f}%'}</td><td>{'' if score is None else f'{score:+.1f}'}</td>"
        f"<td>{html.escape(carried or '')}</td><td>{'' if stable is None else ('yes' if stable else 'not yet')}</td>"
        f"<td>{html.escape(cause or '')}</td></tr>"
        for when, sev, label, method, change, score, carried, stable, cause in rows)
    return ("<table><thead><tr><th>period</th><th>severity</th><th>series</th><th>method</th><th>YoY</th>"
            "<th>z</th><th>carried by</th><th>stable</th><th>likely cause</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{font-size:1.5em;margin-bottom:0} .meta{color:#666;margin-top:4px} .synthetic{background:#fff3cd;padding:8px}
h2{font-size:1.15em;margin-top:28px;border-bottom:1px solid #ddd} figure{margin:8px 0}
figcaption{font-size:.9em;color:#444;margin-bottom:4px} svg{width:100%;height:auto;background:#fff}
.grid{stroke:#eee} .zero{stroke:#999} .ytick{font-size:11px;text-anchor:end;fill:#555}
.xtick{font-size:11px;text-anchor:middle;fill:#555} .legend{font-size:12px;fill:#333} .unit{font-size:11px;fill:#555}
.event line{stroke:#bbb;stroke-dasharray:3 3} .event circle{fill:#fff;stroke:#666} .event:hover line{stroke:#d62728}
.event text.num{font-size:9px;font-weight:bold;text-anchor:middle;fill:#333}
ol.events{list-style:none;padding:0;margin:4px 0 0;font-size:.78em;color:#444;columns:2;column-gap:18px}
ol.events li{break-inside:avoid;margin-bottom:2px} ol.events .num{display:inline-block;min-width:15px;
text-align:center;border:1px solid #666;border-radius:8px;font-size:.9em;font-weight:bold}
.bar{fill:#1f77b4} .bar.negative{fill:#2ca02c} .value{font-size:11px;fill:#333} .value.left{text-anchor:end}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:8px} table{border-collapse:collapse;font-size:.85em}
td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top} tr.critical td{color:#a00}
"""


def render(con: duckdb.DuckDBPyConnection, generated: datetime | None = None) -> str:
    generated = generated or datetime.now(UTC)
    publication = ""
    if _table(con, "publication"):
        publication = f" · publication {con.execute('SELECT publication_id FROM marts.publication').fetchall()[0][0]}"
    latest = con.execute("SELECT max(period_month) FROM marts.trade_balance_monthly").fetchall()[0][0] \
        if _table(con, "trade_balance_monthly") else None
    synthetic = _table(con, "trade_balance_monthly") and con.execute(
        "SELECT bool_or(is_synthetic) FROM marts.trade_balance_monthly").fetchall()[0][0]
    banner = ('<p class="synthetic">Built from the SYNTHETIC sample archive: the shapes are realistic, the figures '
              "are invented (except the pinned May 2025 headlines). Go live for published data.</p>"
              if synthetic else "")
    sections = "".join(f"<section><h2>{html.escape(title)}</h2>{body}</section>" for title, body in panels(con))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tradewatch: US–China trade</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
            f"<h1>tradewatch: the US–China trade conflict in official data</h1>"
            f'<p class="meta">Data to {latest:%B %Y}{publication} · generated {generated:%Y-%m-%d %H:%M} UTC · '
            "sources: US Census, China customs (GACC), UN Comtrade, BLS, NBS, USITC</p>"
            if latest else "<h1>tradewatch</h1><p>No data yet: run the refresh.</p>") + (
            f"{banner}{sections}</body></html>" if latest else "</body></html>")


def write(settings: Settings, out: Path | None = None) -> Path:
    """Render from the published snapshot (or the warehouse) and write the page atomically."""
    from tradewatch.serving.snapshot import SNAPSHOT_NAME
    from tradewatch.warehouse import connect

    snapshot = settings.serving.directory / SNAPSHOT_NAME
    source = snapshot if snapshot.exists() else settings.duckdb_path
    con = connect(source, read_only=True)
    try:
        if missing := [name for name in CHARTED_MARTS if not _table(con, name)]:
            raise TradewatchError(f"nothing to report yet: {source} has no {', '.join('marts.' + m for m in missing)}; "
                                  "run the refresh first (make demo, or the DAG), then `tradewatch report`")
        page = render(con)
    finally:
        con.close()
    out = out or settings.serving.directory / "report" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
