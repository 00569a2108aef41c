"""Synthetic GACC English pages: an index page and one country table per month (SYNTHETIC values).

China-reported trade follows the Census sample's US-reported figures through the usual mirror gaps (China's exports
to the US run about a fifth above US imports from China; imports from the US about an eighth above US exports),
with January and February published as one period. The May 2024 and May 2025 levels are pinned to the published
headline figures (exports to the US 44.0 and 28.8 US$ billion, imports from the US 13.2 and 10.8; total exports
316 and a 103.22 surplus in May 2025), so the warehouse reproduces the published -34.5% and -18.1%.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date

from tradewatch.http import ReleaseArchive, Request
from tradewatch.periods import add_months, month_range
from tradewatch.sample.census import _Month
from tradewatch.settings import GACC_BASE_URL
from tradewatch.sources import gacc as src

MONTHS = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec."]
# US$ billions per year: (exports, imports) for the partners besides the US, and China's totals.
OTHERS = {"Hong Kong, China": (290, 10), "Viet Nam": (140, 95), "Mexico": (80, 30), "Japan": (155, 160),
          "Canada": (45, 42), "Brazil": (60, 120)}
WORLD = {2017: (2263, 1841), 2018: (2487, 2136), 2019: (2499, 2077), 2020: (2590, 2056), 2021: (3363, 2687),
         2022: (3594, 2716), 2023: (3380, 2556), 2024: (3577, 2587), 2025: (3700, 2580), 2026: (3800, 2620)}
PINNED = {  # published GACC levels, US$1,000
    (date(2024, 5, 1), "United States"): (44_000_000, 13_190_000),
    (date(2025, 5, 1), "United States"): (28_800_000, 10_800_000),
    (date(2025, 5, 1), "TOTAL"): (316_000_000, 212_780_000),
}
SEASON = [0.95, 0.78, 0.92, 0.98, 1.02, 1.03, 1.06, 1.07, 1.05, 1.02, 1.03, 1.09]


def _month_figures(month: date) -> dict[str, tuple[int, int]]:
    """Region -> (exports, imports) in US$1,000 for one calendar month."""
    key = f"{month:%Y-%m}"
    us_imports = sum(_Month("imports", month, random.Random(f"tradewatch-sample-census_imports_hs-{key}")).cn.values())
    us_exports = sum(_Month("exports", month, random.Random(f"tradewatch-sample-census_exports_hs-{key}")).cn.values())
    figures = {"United States": (int(us_imports * 1.18 / 1000), int(us_exports * 1.12 / 1000))}
    rng = random.Random(f"tradewatch-sample-gacc-{key}")
    shift = 1.2 if month >= date(2025, 4, 1) else 1.0  # trade diverted through third countries after the shock
    for region, (exports, imports) in OTHERS.items():
        boost = shift if region in ("Viet Nam", "Mexico") else 1.0
        figures[region] = (int(exports * 1e6 / 12 * SEASON[month.month - 1] * boost * rng.uniform(0.95, 1.05)),
                           int(imports * 1e6 / 12 * SEASON[month.month - 1] * rng.uniform(0.95, 1.05)))
    exports, imports = WORLD[month.year]
    figures["TOTAL"] = (int(exports * 1e6 / 12 * SEASON[month.month - 1] * rng.uniform(0.97, 1.03)),
                        int(imports * 1e6 / 12 * SEASON[month.month - 1] * rng.uniform(0.97, 1.03)))
    for (when, region), values in PINNED.items():
        if when == month:
            figures[region] = values
    return figures


def _period(month: date) -> tuple[dict[str, tuple[int, int]], int]:
    """Figures of the period starting at `month` (January covers January and February) and its length."""
    if month.month == 1:
        jan, feb = _month_figures(month), _month_figures(add_months(month, 1))
        return {r: (jan[r][0] + feb[r][0], jan[r][1] + feb[r][1]) for r in jan}, 2
    return _month_figures(month), 1


def _cell(value: float | int | None, pct: bool = False) -> str:
    if value is None:
        return "<td><span>—</span></td>"
    return f"<td><span>{value:.1f}</span></td>" if pct else f"<td><span>{value:,}</span></td>"


def _pct(now: int, then: int | None) -> float | None:
    return None if not then else 100 * (now / then - 1)


def render_table(month: date) -> bytes:
    figures, months = _period(month)
    first_year = min(WORLD)  # no figures before the first anchored year: no year-on-year change then
    year_ago, _ = _period(date(month.year - 1, month.month, 1)) if month.year > first_year else ({}, 0)
    ytd = {r: [0, 0] for r in figures}
    for m in month_range(date(month.year, 1, 1), month):
        if m.month == 2:
            continue
        period, _ = _period(m)
        for region, (exports, imports) in period.items():
            ytd[region][0] += exports
            ytd[region][1] += imports
    label = f"1-2.{month.year}" if months == 2 else f"{month.month}.{month.year}"
    groups = [("Asia:", ["Hong Kong, China", "Viet Nam", "Japan"]), ("North America:", ["United States", "Canada"]),
              ("Latin America:", ["Mexico", "Brazil"])]
    rows = [("TOTAL", figures["TOTAL"], ytd["TOTAL"], year_ago.get("TOTAL"))]
    for group, members in groups:
        total = tuple(sum(figures[m][i] for m in members) for i in (0, 1))
        total_ytd = [sum(ytd[m][i] for m in members) for i in (0, 1)]
        rows.append((group, total, total_ytd, None))
        rows += [(m, figures[m], ytd[m], year_ago.get(m)) for m in members]
    body = [f"<html><head><meta charset=\"utf-8\"><title>{label} (SYNTHETIC)</title></head><body>",
            f"<h2>China's Total Export &amp; Import Values by Country (Region), {label} (in USD) — SYNTHETIC</h2>",
            "<p>Unit: US$1,000</p><table>",
            "<tr><td rowspan=\"2\">Country (Region)</td><td colspan=\"2\">Total</td><td colspan=\"2\">Exports</td>"
            "<td colspan=\"2\">Imports</td><td colspan=\"3\">Year-on-year (%)</td></tr>",
            "<tr><td>" + "</td><td>".join([label, "YTD", label, "YTD", label, "YTD", "Total", "Exports",
                                            "Imports"]) + "</td></tr>"]
    for region, (exports, imports), (ytd_x, ytd_m), then in rows:
        pcts = (None, None, None) if then is None else (
            _pct(exports + imports, sum(then)), _pct(exports, then[0]), _pct(imports, then[1]))
        body.append("<tr><td><span>" + region + "</span></td>" + "".join(_cell(v) for v in (
            exports + imports, ytd_x + ytd_m, exports, ytd_x, imports, ytd_m)) + "".join(
            _cell(p, pct=True) for p in pcts) + "</tr>")
    body.append("</table></body></html>")
    return "\n".join(body).encode()


def render_preliminary(month: date) -> bytes:
    """The flash release: totals in US$ 100 million with month-on-month and year-on-year percentages."""
    figures, months = _period(month)
    first_year = min(WORLD)
    year_ago = _period(date(month.year - 1, month.month, 1))[0]["TOTAL"] if month.year > first_year else None
    previous = None if month.month == 1 or month.month == 3 else _period(add_months(month, -1))[0]["TOTAL"]
    ytd = [0, 0]
    for m in month_range(date(month.year, 1, 1), month):
        if m.month != 2:
            exports, imports = _period(m)[0]["TOTAL"]
            ytd = [ytd[0] + exports, ytd[1] + imports]
    exports, imports = figures["TOTAL"]

    def unit(value: int) -> float:
        return value / 100_000  # US$1,000 -> US$ 100 million

    def row(label: str, now: int, cumulative: int, prev: int | None, then: int | None) -> str:
        cells = [f"{unit(now):,.1f}", f"{unit(cumulative):,.1f}",
                 f"{100 * (now / prev - 1):.1f}" if prev else "-", f"{100 * (now / then - 1):.1f}" if then else "-",
                 "-"]
        return "<tr><td>" + label + "</td>" + "".join(f"<td><span>{c}</span></td>" for c in cells) + "</tr>"

    label = f"1-2.{month.year}" if months == 2 else f"{month.month}.{month.year}"
    pick = {"total": lambda x: x[0] + x[1], "exports": lambda x: x[0], "imports": lambda x: x[1],
            "balance": lambda x: x[0] - x[1]}
    names = {"total": "Total Export &amp; Import", "exports": "Export", "imports": "Import", "balance": "Balance"}
    rows = [row(names[k], f((exports, imports)), f(tuple(ytd)), f(previous) if previous else None,
                f(year_ago) if year_ago else None) for k, f in pick.items()]
    return ("<html><head><meta charset=\"utf-8\"></head><body>"
            f"<h2>China's Total Export &amp; Import Values (Preliminary), {label} (in USD) — SYNTHETIC</h2>"
            "<p>Unit: USD 100 million</p><table><tr><td>Item</td><td>Month</td><td>Cumulative</td><td>MoM %</td>"
            "<td>YoY %</td><td>Cumulative YoY %</td></tr>" + "".join(rows) + "</table></body></html>").encode()


def render_preliminary_index(start: date, end: date) -> bytes:
    body = ["<html><head><meta charset=\"utf-8\"></head><body>"]
    for year in range(end.year, start.year - 1, -1):
        published = [m for m in month_range(date(year, 1, 1), date(year, 12, 1)) if start <= m <= end
                     and m.month != 2 and not (m.month == 1 and add_months(m, 1) > end)]
        if published:
            links = "".join(f"<td><a href=\"{_page_path(m, 'PRELIM')}\">"
                            f"{'Jan.-Feb.' if m.month == 1 else MONTHS[m.month - 1]}</a></td>" for m in published)
            body.append(f"<h3>{year}</h3><table><tr><td>China's Total Export &amp; Import Values (Preliminary) "
                        f"(in USD)</td>{links}</tr></table>")
    return "\n".join(body + ["</body></html>"]).encode()


def _page_path(month: date, currency: str = "USD") -> str:
    digest = hashlib.sha256(f"gacc-{month:%Y-%m}-{currency}".encode()).hexdigest()[:7]
    return f"/customs/302249/zfxxgk/2799825/302274/302277/{int(digest, 16)}/index.html"


def render_index(start: date, end: date) -> bytes:
    body = ["<html><head><meta charset=\"utf-8\"><title>Monthly Bulletin (SYNTHETIC)</title></head><body>"]
    for year in range(end.year, start.year - 1, -1):
        published = [m for m in month_range(date(year, 1, 1), date(year, 12, 1)) if start <= m <= end
                     and m.month != 2 and not (m.month == 1 and add_months(m, 1) > end)]
        if not published:
            continue
        body.append(f"<h3>{year}</h3><table>")
        for title, currency in (("China's Total Export &amp; Import Values by Country (Region) (in USD)", "USD"),
                                ("China's Total Export &amp; Import Values by Country (Region) (in CNY)", "CNY"),
                                ("China's Imports and Exports by HS Section (in USD)", "HS")):
            links = "".join(f"<td><a href=\"{_page_path(m, currency)}\">"
                            f"{'Jan.-Feb.' if m.month == 1 else MONTHS[m.month - 1]}</a></td>" for m in published)
            body.append(f"<tr><td>{title}</td>{links}</tr>")
        body.append("</table>")
    body.append("</body></html>")
    return "\n".join(body).encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None) -> int:
    base = (base_url or GACC_BASE_URL).rstrip("/")
    html = "text/html;charset=utf-8"
    archive.put(Request(base + src.INDEX_PATH), "gacc/monthly.html", render_index(start, end), content_type=html,
                synthetic=True)
    archive.put(Request(base + src.PRELIMINARY_PATH), "gacc/preliminary.html", render_preliminary_index(start, end),
                content_type=html, synthetic=True)
    written = 2
    for month in month_range(start, end):
        if month.month == 2 or (month.month == 1 and add_months(month, 1) > end):
            continue
        archive.put(Request(base + _page_path(month)), f"gacc/country/{month:%Y-%m}.html", render_table(month),
                    content_type=html, synthetic=True)
        archive.put(Request(base + _page_path(month, "PRELIM")), f"gacc/preliminary/{month:%Y-%m}.html",
                    render_preliminary(month), content_type=html, synthetic=True)
        written += 2
    return written
