"""Synthetic GACC English pages in the real site's layout (SYNTHETIC values).

What is written is what the real site serves (tests/fixtures/real/gacc_*): one index page per year (the current
year's at preliminary.html, past years at preliminaryYYYY.html) with the year selector, one row per table and
edition with "Jan." .. "Dec." as links or spans (January never linked: "Feb." is January-February), and the pages
themselves, in both editions (USD: "Unit: USD1 Million" or "USD 100 Million"; CNY: "Unit: CNY 100 Million"), with
the real titles, region labels ("United States (US)", "of which:" members) and commodity labels (which change
between years as the real ones do: "Rare earth" until 2025, "Rare-earth ore, metals, compounds" from 2026).
January-February pages carry only the cumulative columns. So the demo runs the production parser.

Figures: China-reported trade with the US follows the Census sample's US-reported figures through the usual mirror
gaps (China's exports to the US run about a fifth above US imports from China; imports from the US about an eighth
above US exports). The May 2024 and May 2025 levels are pinned to the published headline figures (exports to the US
44.0 and 28.8 US$ billion, imports from the US 13.2 and 10.8; total exports 316 and a 103.22 surplus in May 2025),
so the warehouse reproduces the published -34.5% and -18.1%. Commodity lines have invented magnitudes shaped like
the real ones (rare-earth exports fall after the April 2025 export controls; soybean imports peak with Brazil's
harvest).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from html import escape

from tradewatch.http import ReleaseArchive, Request
from tradewatch.periods import add_months, month_range
from tradewatch.sample.census import _Month
from tradewatch.sources.gacc import BASE_URL, INDEX_PATH, YEAR_INDEX_PATH

MONTHS = ["Jan.", "Feb.", "Mar.", "Apr.", "May.", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec."]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
# US$ billions per year: (exports, imports) with each partner besides the US, and China's totals.
OTHERS = {"Hong Kong, China": (290, 10), "Vietnam": (140, 95), "Mexico": (80, 30), "Japan": (155, 160),
          "Canada": (45, 42), "Brazil": (60, 120), "Germany": (105, 100), "France": (45, 35),
          "Malaysia": (90, 100), "R. O. Korea": (150, 170)}
WORLD = {2017: (2263, 1841), 2018: (2487, 2136), 2019: (2499, 2077), 2020: (2590, 2056), 2021: (3363, 2687),
         2022: (3594, 2716), 2023: (3380, 2556), 2024: (3577, 2587), 2025: (3700, 2580), 2026: (3800, 2620)}
CNY_PER_USD = {2017: 6.75, 2018: 6.62, 2019: 6.91, 2020: 6.90, 2021: 6.45, 2022: 6.73, 2023: 7.08, 2024: 7.19,
               2025: 7.18, 2026: 7.10}
PINNED = {  # published GACC levels, US$1,000
    (date(2024, 5, 1), "United States (US)"): (44_000_000, 13_190_000),
    (date(2025, 5, 1), "United States (US)"): (28_800_000, 10_800_000),
    (date(2025, 5, 1), "Total"): (316_000_000, 212_780_000),
}
SEASON = [0.95, 0.78, 0.92, 0.98, 1.02, 1.03, 1.06, 1.07, 1.05, 1.02, 1.03, 1.09]
#: The country table's rows: (label, members under "of which:", factor of the group over its listed members).
LAYOUT = [("European Union", ["Germany", "France"], 2.6), ("United States (US)", [], 0),
          ("ASEAN", ["Vietnam", "Malaysia"], 2.4), ("Japan", [], 0), ("Hong Kong, China", [], 0),
          ("R. O. Korea", [], 0), ("Canada", [], 0), ("Latin America", ["Brazil", "Mexico"], 1.7)]
TITLES = {1: "China's Total Export & Import Values", 4: "China's Total Export & Import Values by Country/Region",
          5: "China's Major Exports by Quantity and Value", 6: "China's Major Imports by Quantity and Value"}
UNITS = {1: ("USD 100 Million", 1e8), 4: ("USD1 Million", 1e6), 5: ("USD1 Million", 1e6), 6: ("USD1 Million", 1e6)}
CNY_UNIT = ("CNY 100 Million", 1e8)


@dataclass(frozen=True)
class Line:
    """A commodity line: labels (up to 2025, from 2026), quantity unit and its size, US$ million and quantity
    (in the unit) a month on average, the rows it is indented under, and its shock after April 2025."""

    labels: tuple[str, str]
    unit: str | None
    value_musd: float
    quantity: float | None
    indent: int = 0
    shock: float = 1.0
    seasonal: tuple[float, ...] | None = None

    def label(self, year: int) -> str:
        return self.labels[1] if year >= 2026 else self.labels[0]


SOY_SEASON = (0.7, 0.5, 0.6, 0.9, 1.5, 1.5, 1.3, 1.1, 0.9, 0.8, 0.9, 1.0)
EXPORTS = [Line(("Agricultural products*", "Agriculture products*"), None, 6900, None),
           Line(("Rare earth", "Rare-earth ore, metals, compounds"), "Ton", 45, 4200, indent=4, shock=0.72),
           Line(("Steel products", "Products, of steel or iron"), "10,000 Tons", 7000, 900),
           Line(("Toys", "Toys"), None, 3300, None),
           Line(("Mechanical and electrical products*", "Mechanical and electrical products *"), None, 170000, None),
           Line(("Mobile phones", "Mobile phones"), "10,000 Sets", 10500, 6000, indent=4),
           Line(("Household appliances", "Electric appliances of household type"), "10,000 Sets", 8500, 38000,
                indent=4),
           Line(("Integrated circuits", "Electronic integrated circuits"), "100 Million PCS", 14000, 260, indent=8),
           Line(("Motor vehicles (including chassis fitted with engines)",) * 2, "10,000 Autos", 9500, 55,
                indent=4),
           Line(("Ships", "Ships"), "Ship", 3500, 450, indent=4),
           Line(("Hi-tech products*", "Hi-tech products*"), None, 72000, None)]
IMPORTS = [Line(("Agricultural products*", "Agriculture products*"), None, 19000, None),
           Line(("Soya beans", "Soya beans"), "10,000 Tons", 3400, 640, indent=12, seasonal=SOY_SEASON),
           Line(("Crude oil", "Crude petroleum oils"), "10,000 Tons", 27000, 4600),
           Line(("Iron ore and its concentrate", "Iron ores and concentrates"), "10,000 Tons", 11000, 9800,
                indent=4),
           Line(("Rare earth", "Rare-earth ore, metals, compounds"), "Ton", 120, 10000, indent=4),
           Line(("Mechanical and electrical products*", "Mechanical and electrical products *"), None, 85000, None),
           Line(("Diodes and similar semiconductors",) * 2, "100 Million PCS", 2200, 420, indent=8),
           Line(("Integrated circuits", "Electronic integrated circuits"), "100 Million PCS", 32000, 460, indent=8),
           Line(("Aircraft", "Aircraft of an unladen weight exceeding 2T"), "Craft", 1500, 20, indent=8),
           Line(("Motor vehicles (including chassis fitted with engines)",) * 2, "10,000 Cars", 3000, 6, indent=4),
           Line(("Hi-tech products*", "Hi-tech products*"), None, 60000, None)]
COMMODITY_LINES = {5: EXPORTS, 6: IMPORTS}


@cache
def _month_figures(month: date) -> dict[str, tuple[int, int]]:
    """Region -> (exports, imports) in US$1,000 for one calendar month (groups computed from their members)."""
    key = f"{month:%Y-%m}"
    us_imports = sum(_Month("imports", month, random.Random(f"tradewatch-sample-census_imports_hs-{key}")).cn.values())
    us_exports = sum(_Month("exports", month, random.Random(f"tradewatch-sample-census_exports_hs-{key}")).cn.values())
    figures = {"United States (US)": (int(us_imports * 1.18 / 1000), int(us_exports * 1.12 / 1000))}
    rng = random.Random(f"tradewatch-sample-gacc-{key}")
    shift = 1.2 if month >= date(2025, 4, 1) else 1.0  # trade diverted through third countries after the shock
    for region, (exports, imports) in OTHERS.items():
        boost = shift if region in ("Vietnam", "Mexico") else 1.0
        figures[region] = (int(exports * 1e6 / 12 * SEASON[month.month - 1] * boost * rng.uniform(0.95, 1.05)),
                           int(imports * 1e6 / 12 * SEASON[month.month - 1] * rng.uniform(0.95, 1.05)))
    exports, imports = WORLD[month.year]
    figures["Total"] = (int(exports * 1e6 / 12 * SEASON[month.month - 1] * rng.uniform(0.97, 1.03)),
                        int(imports * 1e6 / 12 * SEASON[month.month - 1] * rng.uniform(0.97, 1.03)))
    for (when, region), values in PINNED.items():
        if when == month:
            figures[region] = values
    for group, members, factor in LAYOUT:
        if members:
            figures[group] = tuple(int(factor * sum(figures[m][i] for m in members)) for i in (0, 1))
    return figures


def _period(month: date) -> tuple[dict[str, tuple[int, int]], int]:
    """Figures of the period starting at `month` (January covers January and February) and its length."""
    if month.month == 1:
        jan, feb = _month_figures(month), _month_figures(add_months(month, 1))
        return {r: (jan[r][0] + feb[r][0], jan[r][1] + feb[r][1]) for r in jan}, 2
    return _month_figures(month), 1


def _ytd(month: date) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = {}
    for m in month_range(date(month.year, 1, 1), month):
        if m.month != 2:
            for region, (exports, imports) in _period(m)[0].items():
                totals.setdefault(region, [0, 0])
                totals[region][0] += exports
                totals[region][1] += imports
    return {r: (v[0], v[1]) for r, v in totals.items()}


@cache
def _commodity_month(section: int, month: date) -> list[tuple[float | None, float]]:
    """(quantity in the line's unit, US$ million) per line of table `section` for one calendar month."""
    rng = random.Random(f"tradewatch-sample-gacc-{section}-{month:%Y-%m}")
    growth = 1.04 ** (month.year - 2017)
    out = []
    for line in COMMODITY_LINES[section]:
        season = (line.seasonal or SEASON)[month.month - 1]
        shock = line.shock if month >= date(2025, 4, 1) else 1.0
        scale = season * growth * shock * rng.uniform(0.93, 1.07)
        price = rng.uniform(0.97, 1.03)  # the unit value moves a little
        value = line.value_musd * scale * price
        out.append((None if line.quantity is None else line.quantity * scale, value))
    return out


def _commodity_period(section: int, month: date) -> list[tuple[float | None, float]]:
    months = [month, add_months(month, 1)] if month.month == 1 else [month]
    lines = [_commodity_month(section, m) for m in months]
    return [(None if q is None else sum(x[i][0] for x in lines), sum(x[i][1] for x in lines))
            for i, (q, _) in enumerate(lines[0])]


def _commodity_ytd(section: int, month: date) -> list[tuple[float | None, float]]:
    periods = [_commodity_period(section, m) for m in month_range(date(month.year, 1, 1), month) if m.month != 2]
    return [(None if periods[0][i][0] is None else sum(p[i][0] for p in periods), sum(p[i][1] for p in periods))
            for i in range(len(periods[0]))]


# --- HTML in the site's layout ------------------------------------------------------------------------------------

def _num(value: float | None, decimals: int = 1) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}&nbsp;"


def _pct(now: float | None, then: float | None) -> str:
    return "-" if not now or not then else f"{100 * (now / then - 1):.1f}"


def _cells(*texts: str, label: str | None = None) -> str:
    head = f"<td class=\"style5\">\n\t\t\t\t<span>{label}</span>\n\t\t\t</td>" if label is not None else ""
    return "<tr>" + head + "".join(f"<td align=\"right\"><span><b>{t}</b></span></td>" for t in texts) + "</tr>"


def _title(section: int, month: date, edition: str) -> str:
    when = "January-February" if month.month == 1 else MONTH_NAMES[month.month - 1]
    return f"({section}) {TITLES[section]}, {when} {month.year} (in {edition})"


def _page(title: str, width: int, unit: str, rows: list[str]) -> bytes:
    table = (f"<table style=\"border-collapse:collapse;\" border=\"0\" class=\"ke-zeroborder\"><tbody>"
             f"<tr><td colspan=\"{width}\" bgcolor=\"#C0C0C0\"><span><b>{escape(title)}</b></span></td></tr>"
             f"<tr><td colspan=\"{width}\" align=\"right\"><span><b>Unit: {unit}</b></span></td></tr>"
             + "\n".join(rows) + "</tbody></table>")
    return ("<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>SYNTHETIC - GACC</title></head><body>"
            "<div class=\"atcl\"><div class=\"atcl-main\"><div class=\"atcl-ttl\">" + escape(title, quote=False)
            + "</div></div><div class=\"atcl-layout\"><div class=\"atcl-main\"><div class=\"atcl-date\">SYNTHETIC"
            "</div><div class=\"atcl-cnt\" style=\"overflow-x:auto\">" + table
            + "</div></div></div></div></body></html>").encode()


def _money(usd_thousand: float, edition: str, year: int, section: int) -> float:
    """US$1,000 -> the page's unit."""
    divisor = UNITS[section][1] if edition == "USD" else CNY_UNIT[1] / CNY_PER_USD[year]
    return usd_thousand * 1000 / divisor


def render_country_table(month: date, edition: str = "USD") -> bytes:
    figures, months = _period(month)
    ytd = _ytd(month)
    prior = _ytd(date(month.year - 1, month.month, 1)) if month.year > min(WORLD) else {}
    last = 2 if months == 2 else month.month
    width = 7 if months == 2 else 10
    if months == 2:
        heading = [_cells("Export &amp; Import", "Export", "Import", label="Import Source")[:-5]
                   + "<td colspan=\"3\"><span><b>1-to-2 Total Year-on-Year (±%)</b></span></td></tr>",
                   _cells("1- to-2", "1-to-2", "1-to-2", "Export &amp; Import", "Export", "Import",
                          label="Export Destination")]
    else:
        heading = ["<tr><td><span><b>Import Source</b></span></td>" + "".join(
            f"<td colspan=\"2\"><span><b>{h}</b></span></td>" for h in ("Export &amp; Import", "Export", "Import"))
            + f"<td colspan=\"3\"><span><b>1-to-{last} Total Year-on-Year (±%)</b></span></td></tr>",
            _cells(*[str(month.month), f"1-to-{last}"] * 3, "Export &amp; Import", "Export", "Import",
                   label="Export Destination")]
    rows = list(heading)
    order = [("Total", 0)]
    for group, members, _ in LAYOUT:
        order.append((group, 3))
        order += [(f"of which: {m}" if i == 0 else m, 8 if i == 0 else 18) for i, m in enumerate(members)]
    for label, indent in order:
        region = label.removeprefix("of which: ")
        exports, imports = figures[region]
        ytd_x, ytd_m = ytd[region]
        then = prior.get(region)
        yoy = [_pct(ytd_x + ytd_m, sum(then) if then else None), _pct(ytd_x, then and then[0]),
               _pct(ytd_m, then and then[1])]

        def cell(v: float) -> str:
            return _num(_money(v, edition, month.year, 4))

        values = ([cell(ytd_x + ytd_m), cell(ytd_x), cell(ytd_m)] if months == 2 else
                  [cell(exports + imports), cell(ytd_x + ytd_m), cell(exports), cell(ytd_x), cell(imports),
                   cell(ytd_m)])
        rows.append(_cells(*values, *yoy, label="&nbsp;" * indent + escape(label)))
    unit = UNITS[4][0] if edition == "USD" else CNY_UNIT[0]
    return _page(_title(4, month, edition), width, unit, rows)


def render_commodities(section: int, month: date, edition: str = "USD") -> bytes:
    months = 2 if month.month == 1 else 1
    last = 2 if months == 2 else month.month
    period, ytd = _commodity_period(section, month), _commodity_ytd(section, month)
    has_prior = month.year > min(WORLD)
    prior = _commodity_ytd(section, date(month.year - 1, month.month, 1)) if has_prior else None
    groups = ([] if months == 2 else [str(month.month)]) + [
        f"1-{last} Total", f"1-{last} Total,{month.year - 1}", f"1-{last} Total, Year-On-Year(%)&nbsp;"]
    rows = ["<tr><td rowspan=\"2\"><span>Commodity</span></td><td rowspan=\"2\"><span>Quantity Unit</span></td>"
            + "".join(f"<td colspan=\"2\"><span>{g}</span></td>" for g in groups) + "</tr>",
            "<tr>" + "<td><span>Quantity</span></td><td><span>Value</span></td>" * len(groups) + "</tr>"]
    lines = COMMODITY_LINES[section]
    for i, line in enumerate(lines):
        def money(musd: float) -> float:
            return musd if edition == "USD" else musd * 1e6 * CNY_PER_USD[month.year] / CNY_UNIT[1]

        (q, v), (qy, vy) = period[i], ytd[i]
        pq, pv = prior[i] if prior else (None, None)
        cells = [] if months == 2 else [_num(q), _num(money(v))]
        cells += [_num(qy), _num(money(vy)), _num(pq) if prior else "-", _num(money(pv)) if prior else "-",
                  _pct(qy, pq), _pct(vy, pv)]
        unit = line.unit or ("—" if i == 0 else "-")
        label = "&nbsp;" * line.indent + escape(line.label(month.year))
        rows.append(f"<tr><td><span>{label}</span></td><td><span>{unit}</span></td>"
                    + "".join(f"<td align=\"right\"><span>{c}</span></td>" for c in cells) + "</tr>")
    rows.append(f"<tr><td colspan=\"{2 + 2 * len(groups)}\"><span>Note: \"Agricultural products*\", \"Mechanical "
                "and electrical products*\" and \"Hi-tech products*\" include relevant products listed in the "
                "table.</span></td></tr>")
    unit = UNITS[section][0] if edition == "USD" else CNY_UNIT[0]
    return _page(_title(section, month, edition), 2 + 2 * len(groups), unit, rows)


def render_preliminary(month: date, edition: str = "USD") -> bytes:
    """Table (1), China's totals: item rows with the month, the year to date, MoM %, YoY % and cumulative YoY %."""
    figures, _ = _period(month)
    first_year = min(WORLD)
    year_ago = _period(date(month.year - 1, month.month, 1))[0]["Total"] if month.year > first_year else None
    previous = None if month.month in (1, 3) else _period(add_months(month, -1))[0]["Total"]
    ytd = _ytd(month)["Total"]
    exports, imports = figures["Total"]

    def unit(value: int) -> float:
        return _money(value, edition, month.year, 1)

    def row(label: str, now: int, cumulative: int, prev: int | None, then: int | None) -> str:
        return _cells(_num(unit(now)), _num(unit(cumulative)), _pct(now, prev), _pct(now, then), "-", label=label)

    pick = {"total": lambda x: x[0] + x[1], "exports": lambda x: x[0], "imports": lambda x: x[1],
            "balance": lambda x: x[0] - x[1]}
    names = {"total": "Total Export &amp; Import", "exports": "Export", "imports": "Import", "balance": "Balance"}
    rows = [_cells("Month", "Cumulative", "MoM %", "YoY %", "Cumulative YoY %", label="Item")]
    rows += [row(names[k], f((exports, imports)), f(ytd), f(previous) if previous else None,
                 f(year_ago) if year_ago else None) for k, f in pick.items()]
    return _page(_title(1, month, edition), 6, UNITS[1][0] if edition == "USD" else CNY_UNIT[0], rows)


def page_url(section: int, month: date, edition: str, base_url: str = BASE_URL) -> str:
    """An opaque page address like the site's (/Statics/<uuid>.html), stable for a table, month and edition."""
    digest = hashlib.sha256(f"gacc-{section}-{month:%Y-%m}-{edition}".encode()).hexdigest()
    return f"{base_url.rstrip('/')}/Statics/{uuid.UUID(digest[:32])}.html"


def published(start: date, end: date) -> list[date]:
    """The periods the archive holds: every month but February (January covers both, once February is in)."""
    return [m for m in month_range(start, end) if m.month != 2 and not (m.month == 1 and add_months(m, 1) > end)]


def render_index(year: int, start: date, end: date, base_url: str = BASE_URL) -> bytes:
    """One year of the index, as the site serves it: the year selector, then one row per table and edition."""
    periods = set(published(start, end))
    options = "".join(f"<option value=\"{y}\"{' selected' if y == year else ''}>{y}</option>"
                      for y in range(end.year, start.year - 1, -1))
    rows = []
    for section in sorted(TITLES):
        for edition in ("CNY", "USD"):
            labels = []
            for number, label in enumerate(MONTHS, start=1):
                period = date(year, 1 if number == 2 else number, 1)
                if number != 1 and period in periods:
                    labels.append(f"<a href={page_url(section, period, edition, base_url)}> {label}</a>")
                else:
                    labels.append(f"<span>{label}</span>")
                if number == 6:
                    labels.append("</br>")
            rows.append(f"<tr><td>({section}) {TITLES[section]} (in {edition})</td><td>{''.join(labels)}</td></tr>")
    rows.append("<tr><td>(7) Statistics Bulletin on Freight Supervision</td><td>"
                + "".join(f"<span>{m}</span>" for m in MONTHS) + "</td></tr>")
    return ("<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>SYNTHETIC - GACC</title></head><body>"
            "<div class=\"m-report-title\"><span>Year</span><select id=\"preliminarysel\">" + options
            + "</select></div><table><thead><tr><th>Title</th><th>Month</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></body></html>").encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None) -> int:
    base = (base_url or BASE_URL).rstrip("/")
    html = "text/html;charset=utf-8"
    written = 0
    for year in range(start.year, end.year + 1):
        path = INDEX_PATH if year == end.year else YEAR_INDEX_PATH.format(year=year)
        archive.put(Request(base + path), f"gacc/index/{year}.html", render_index(year, start, end, base),
                    content_type=html, synthetic=True)
        written += 1
    renderers = {1: render_preliminary, 4: render_country_table,
                 5: lambda m, e: render_commodities(5, m, e), 6: lambda m, e: render_commodities(6, m, e)}
    for month in published(start, end):
        for section, render in renderers.items():
            for edition in ("USD", "CNY"):
                archive.put(Request(page_url(section, month, edition, base)),
                            f"gacc/{section}/{edition.lower()}/{month:%Y-%m}.html", render(month, edition),
                            content_type=html, synthetic=True)
                written += 1
    return written
