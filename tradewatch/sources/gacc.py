"""China's General Administration of Customs (GACC), English site: the preliminary release's tables.

No API. Layout as the real pages show it (tests/fixtures/real/gacc_*, each with a note):

* The index `preliminary.html` serves the current year only; its year is the first option of
  `<select id="preliminarysel">` (no heading). Past years are `preliminaryYYYY.html`. Both are the publisher's
  pages `index` and `year_index`, so their URLs are settings (TRADEWATCH_GACC_INDEX_URL, _YEAR_INDEX_URL).
* One index row per table and edition: "(4) China's Total Export & Import Values by Country/Region (in USD)",
  "... (in CNY)", "(5) China's Major Exports by Quantity and Value (in USD)" ... Its second cell holds the month
  labels "Jan." .. "Dec.": a link when published, a `<span>` when not. January is never linked: "Feb." links the
  January-February page, stored as one release (period January, months_in_period 2).
* A page states its title in `div.atcl-ttl` ("..., January-February 2025 (in CNY)", "..., May 2026 (in USD)") and a
  unit line ("Unit: USD1 Million", "Unit: CNY 100 Million"). Numbers carry thousands separators and trailing
  &nbsp;; "-", "—" and "－" are blanks; member rows are indented with &nbsp; ("of which:" opens a member list).

What the site says is the only "not yet": a month label without a link. An index without the year selector, the
table's row or the twelve month labels is a layout change (`PageLayoutChanged`), which fails the task loudly. A
page whose title edition, unit line and index row disagree (the site once served a "(in CNY)" page of USD cells) is
rejected whole, and so is a page without a table (some 2018 pages are an image).

Values are stored as published, with their edition, unit and the unit's multiplier; staging turns the USD edition
into US dollars (the CNY edition is never converted). Region labels map to ISO3 through the seed
`dbt_project/seeds/gacc_region_labels.csv`; a label it does not know is kept with a null ISO3.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import duckdb

from tradewatch.errors import BrokenResponse, NotYetPublished, PageLayoutChanged, ReleaseFormatError
from tradewatch.http import Request, Response, Transport
from tradewatch.periods import Month
from tradewatch.sources.base import (
    EVERY_MONTH,
    Endpoint,
    Navigation,
    Part,
    Publisher,
    ReleaseCalendar,
    check_http_answer,
)

SOURCE = "gacc"
BASE_URL = "http://english.customs.gov.cn"  # plain HTTP: HTTPS resets the connection from some networks
INDEX_PAGE, YEAR_INDEX_PAGE = "index", "year_index"
INDEX_PATH = "/statics/report/preliminary.html"  # the current year's index
YEAR_INDEX_PATH = "/statics/report/preliminary{year}.html"  # a past year's index
BLANKS = {"", "-", "—", "－", "–"}
MONTH_LABELS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: What each numbered table is about: an index row or a page title with this number must match, or the site's
#: numbering changed (a layout change, never a silent read of the wrong table).
SECTIONS = {1: re.compile(r"^China.s Total Export\s*&\s*Import Values$", re.I),
            4: re.compile(r"by\s+Country\s*(/|\()\s*Region", re.I),
            5: re.compile(r"Major\s+Exports\s+by\s+Quantity\s+and\s+Value", re.I),
            6: re.compile(r"Major\s+Imports\s+by\s+Quantity\s+and\s+Value", re.I)}
_SCALES = {"": 1, "THOUSAND": 1e3, "MILLION": 1e6, "BILLION": 1e9}
_CURRENCIES = {"USD": "USD", "US$": "USD", "CNY": "CNY", "RMB": "CNY"}


@dataclass(frozen=True)
class GaccDataset:
    """One raw table fed by GACC pages. `parts`: (part name, table number, flow) per page of a release."""

    name: str
    kind: str  # preliminary | country | commodities
    parts: tuple[tuple[str, int, str | None], ...]
    headline_var: str
    edition: str = "USD"  # the edition fetched: USD feeds the marts (a CNY edition is never converted)
    source: str = SOURCE
    columns: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (("period", "DATE"), ("months_in_period", "INTEGER"), *self.columns, ("edition", "VARCHAR"),
                ("unit", "VARCHAR"), ("value_multiplier", "DOUBLE"))


COUNTRY_VALUES = ("total_month", "total_ytd", "exports_month", "exports_ytd", "imports_month", "imports_ytd")
COUNTRY_PCTS = ("total_yoy_pct", "exports_yoy_pct", "imports_yoy_pct")
COMMODITY_VALUES = ("quantity_month", "value_month", "quantity_ytd", "value_ytd", "quantity_ytd_prior_year",
                    "value_ytd_prior_year", "quantity_ytd_yoy_pct", "value_ytd_yoy_pct")
PRELIMINARY_VALUES = ("value_month", "value_ytd", "mom_pct", "yoy_pct", "ytd_yoy_pct")

COUNTRY_TABLE = GaccDataset(
    "gacc_trade_by_country", "country", (("country_table", 4, None),), "exports_month",
    columns=(("line_number", "INTEGER"), ("region", "VARCHAR"), ("parent_region", "VARCHAR"),
             ("partner_iso3", "VARCHAR"), *((c, "DOUBLE") for c in COUNTRY_VALUES),
             *((c, "DOUBLE") for c in COUNTRY_PCTS), ("yoy_basis", "VARCHAR")))
PRELIMINARY = GaccDataset(
    "gacc_preliminary", "preliminary", (("preliminary", 1, None),), "value_month",
    columns=(("item", "VARCHAR"), *((c, "DOUBLE") for c in PRELIMINARY_VALUES)))
COMMODITIES = GaccDataset(
    "gacc_major_commodities", "commodities", (("exports", 5, "export"), ("imports", 6, "import")), "value_month",
    columns=(("flow", "VARCHAR"), ("line_number", "INTEGER"), ("commodity", "VARCHAR"), ("indent", "INTEGER"),
             ("quantity_unit", "VARCHAR"), *((c, "DOUBLE") for c in COMMODITY_VALUES)))
DATASETS: dict[str, GaccDataset] = {d.name: d for d in (COUNTRY_TABLE, PRELIMINARY, COMMODITIES)}
PRELIMINARY_ITEMS = {"total export & import": "total", "total export and import": "total", "export": "exports",
                     "exports": "exports", "import": "imports", "imports": "imports", "balance": "balance"}


def skips_month(month: date) -> bool:
    """February is never a release of its own: it comes with January."""
    return month.month == 2


def revision_months(reference: date) -> set[Month]:
    """None known: the final tables replace the preliminary figures within the month."""
    return set()


# --- reading HTML -------------------------------------------------------------------------------------------------

@dataclass
class Cell:
    raw: str  # the text as served (&nbsp; kept as U+00A0)
    items: list[tuple[str, str | None]]  # each outer <a> (text, href) or <span> (text, None), in order

    @property
    def text(self) -> str:
        return clean(self.raw)

    @property
    def indent(self) -> int:
        """Leading &nbsp; (GACC indents member rows with them; the HTML's own line breaks do not count)."""
        body = self.raw.lstrip(" \t\r\n")
        return len(body) - len(body.lstrip("\u00a0\u3000 "))


class _Page(HTMLParser):
    """The parts of a GACC page that matter: the title div, the year selector, and every table row's cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self.years: list[str] = []
        self.rows: list[list[Cell]] = []
        self.images: list[str] = []
        self._title: list[str] | None = None
        self._in_select = False
        self._option: list[str] | None = None
        self._row: list[Cell] | None = None
        self._cell: Cell | None = None
        self._item: list | None = None  # [text parts, href, nesting depth]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "div" and "atcl-ttl" in (attributes.get("class") or "").split() and self.title is None:
            self._title = []
        elif tag == "select" and attributes.get("id") == "preliminarysel":
            self._in_select = True
        elif tag == "option" and self._in_select:
            self._option = []
        elif tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"] or "")
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = Cell("", [])
        elif tag in ("a", "span") and self._cell is not None:
            if self._item is None:
                self._item = [[], attributes.get("href") if tag == "a" else None, tag, 0]
            elif self._item[2] == tag:
                self._item[3] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._title is not None:
            self.title, self._title = clean("".join(self._title)), None
        elif tag == "select":
            self._in_select = False
        elif tag == "option" and self._option is not None:
            self.years.append(clean("".join(self._option)))
            self._option = None
        elif tag in ("a", "span") and self._item is not None and self._item[2] == tag:
            if self._item[3]:
                self._item[3] -= 1
            else:
                self._cell.items.append((clean("".join(self._item[0])), self._item[1]))
                self._item = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._cell is not None:  # an unclosed cell
                self._row.append(self._cell)
                self._cell = None
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for sink in (self._title, self._option):
            if sink is not None:
                sink.append(data)
        if self._cell is not None:
            self._cell.raw += data
        if self._item is not None:
            self._item[0].append(data)


def clean(text: str) -> str:
    """One line of text as a reader sees it: compatibility forms folded ("（" -> "("), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def read_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


# --- the index ----------------------------------------------------------------------------------------------------

INDEX_ROW = re.compile(r"^\((\d+)\)\s*(.+?)\s*\(in\s+(CNY|USD|RMB)\)$", re.I)


@dataclass(frozen=True)
class IndexPage:
    """One year of the index: per (table number, edition), the month labels and where each one links."""

    year: int
    rows: dict[tuple[int, str], tuple[str, dict[str, str | None]]]  # -> (title, {"jan": href or None, ...})

    def link(self, section: int, edition: str, period: date, what: str, url: str) -> str:
        entry = self.rows.get((section, edition))
        if entry is None:
            raise PageLayoutChanged(f"{what}: the GACC index for {self.year} has no row for table ({section}) in "
                                    f"{edition}; the site's layout or numbering changed. Fix the parser (or the index "
                                    "URL settings) before the next run", url=url)
        title, months = entry
        label = MONTH_LABELS[1 if period.month == 1 else period.month - 1]  # "Feb." links January-February
        if label not in months:
            raise PageLayoutChanged(f"{what}: the index row {title!r} has no month label for {label.title()}.; "
                                    "the layout changed", url=url)
        href = months[label]
        if not href:
            raise NotYetPublished(f"{what}: GACC has not published this month yet (the index shows "
                                  f"{label.title()}. without a link). This is normal before the release (about the "
                                  "7th-10th; January and February together in March)", url=url, status=200)
        return href


def parse_index(html: str, what: str, url: str, *, year: int | None = None) -> IndexPage:
    """Read an index page. `year`: the year of a per-year page (its URL says it); else the selector's first option.
    Raises PageLayoutChanged when the selector, the table rows or a row's twelve month labels are not there."""
    page = read_page(html)
    years = [int(y) for y in page.years if re.fullmatch(r"(19|20)\d{2}", y)]
    if not years:
        raise PageLayoutChanged(f"{what}: the GACC index has no year selector (select#preliminarysel); the layout "
                                "changed, so no month can be told published or not", url=url)
    if year is not None and year not in years:
        raise PageLayoutChanged(f"{what}: the GACC index for {year} does not offer {year} in its year selector "
                                f"({', '.join(map(str, years))}); it is not the page expected", url=url)
    rows: dict[tuple[int, str], tuple[str, dict[str, str | None]]] = {}
    for cells in page.rows:
        if len(cells) < 2 or not (match := INDEX_ROW.match(cells[0].text)):
            continue
        section, title, edition = int(match.group(1)), cells[0].text, _CURRENCIES[match.group(3).upper()]
        if section in SECTIONS and not SECTIONS[section].search(match.group(2)):
            raise PageLayoutChanged(f"{what}: index row {title!r} does not name table ({section}) as expected; the "
                                    "site's numbering changed", url=url)
        months = {}
        for text, href in cells[1].items:
            label = text.strip().rstrip(".").lower()[:3]
            if label in MONTH_LABELS:
                months[label] = href.strip() if href and href.strip() else None
        if len(months) != 12:
            raise PageLayoutChanged(f"{what}: index row {title!r} has {len(months)} month labels, not 12; the "
                                    "layout changed", url=url)
        rows[(section, edition)] = (title, months)
    if not rows:
        raise PageLayoutChanged(f"{what}: the GACC index has no table of '(N) title (in USD|CNY)' rows; the "
                                "layout changed", url=url)
    return IndexPage(year if year is not None else years[0], rows)


def follow(href: str, index_url: str, base_url: str) -> str:
    """The URL of a linked page. Links to the publisher's own host go to the configured base URL instead when that
    is a mirror or a test server, so a replay or a mirror is never left for the real site."""
    target = urljoin(index_url, href.replace("\\", "/"))
    default = urlsplit(BASE_URL)
    parts = urlsplit(target)
    if base_url.rstrip("/") != BASE_URL and parts.netloc.lower() == default.netloc:
        target = base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    return target


def fetch_parts(transport: Transport, endpoint: Endpoint, ds: GaccDataset, period: date, what: str) -> list[Part]:
    """Read the current index (and the year's own index for a past year), then each linked page of the release,
    checked as it will be parsed: nothing lands unless every page of the release is sound. The endpoint's pages
    `index` and `year_index` (with {year}) are settings; by default under the base URL."""
    if skips_month(period):
        raise NotYetPublished(f"{what}: GACC publishes February together with January; the January release "
                              "holds both")
    base_url = endpoint.base_url
    current_url, year_template = endpoint.pages[INDEX_PAGE], endpoint.pages[YEAR_INDEX_PAGE]
    found = _get(transport, current_url, what)
    index = parse_index(found.body.decode("utf-8", "replace"), what, found.url)
    if period.year > index.year:
        raise NotYetPublished(f"{what}: the GACC index still shows {index.year}; nothing of {period.year} is "
                              "published yet", url=found.url, status=found.status)
    if period.year < index.year:
        found = _get(transport, year_template.format(year=period.year), what)
        index = parse_index(found.body.decode("utf-8", "replace"), what, found.url, year=period.year)
    parts = []
    for part, section, _flow in ds.parts:
        link = index.link(section, ds.edition, period, what, found.url)
        request = Request(follow(link, found.url, base_url))
        page = transport.send(request)
        check_response(page, what)
        try:
            parse_page(page.body.decode("utf-8", "replace"), ds, part, period, f"{what} {part}")
        except ReleaseFormatError as exc:
            raise BrokenResponse(f"{exc}; nothing of the release was landed", url=page.url,
                                 status=page.status) from None
        parts.append((part, request, page))
    return parts


def _get(transport: Transport, url: str, what: str) -> Response:
    response = transport.send(Request(url))
    check_response(response, what)
    return response


def check_response(response: Response, what: str, period: date | None = None) -> None:
    """GACC serves HTML: an answer is usable if it is a page with a table, not a firewall challenge."""
    if response.status == 200 and b"<table" in response.body.lower():
        return
    if response.status != 200:  # 204, redirects, 4xx, 412 geo-block, 5xx: the shared outcomes
        check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_GACC_BASE_URL")
    raise BrokenResponse(f"{what}: the page has no table (a firewall challenge, an error page, or a table "
                         "published only as an image); nothing was landed", url=response.url, status=response.status)


# --- the report pages ---------------------------------------------------------------------------------------------

TITLE = re.compile(r"^\((\d+)\)\s*(.+?),\s*([A-Za-z][A-Za-z.\- ]*?)\s*((?:19|20)\d{2})\s*\(in\s+(CNY|USD|RMB)\)$",
                   re.I)
UNIT = re.compile(r"^Unit\s*[:：]\s*(.+)$", re.I)
UNIT_VALUE = re.compile(r"^(USD|US\$|CNY|RMB)\s*([\d,]*)\s*(THOUSAND|MILLION|BILLION)?$", re.I)


@dataclass(frozen=True)
class Header:
    section: int
    months: int  # 2 for January-February, else 1
    edition: str  # from the title
    unit: str  # the unit line as published
    multiplier: float  # one published unit in the edition's currency


def value_unit(text: str, what: str) -> tuple[str, float]:
    """('USD' | 'CNY', multiplier) of a unit line: "USD1 Million" -> USD 1e6, "CNY 100 Million" -> CNY 1e8,
    "US$1,000" -> USD 1e3."""
    match = UNIT_VALUE.match(" ".join(text.upper().split()))
    if not match:
        raise ReleaseFormatError(f"{what}: unit {text!r} is not one the parser knows (like 'USD1 Million', "
                                 "'CNY 100 Million', 'US$1,000')")
    number = float(match.group(2).replace(",", "") or 1)
    return _CURRENCIES[match.group(1).upper()], number * _SCALES[(match.group(3) or "").upper()]


def _period_words(words: str) -> tuple[int, int] | None:
    """(first month, months) from "January-February", "Jan.-Feb.", "May", "Mar", "Sept." ..."""
    parts = [w.strip(" .").lower()[:3] for w in words.split("-")]
    if parts == ["jan", "feb"]:
        return 1, 2
    if len(parts) == 1 and parts[0] in MONTH_LABELS:
        return MONTH_LABELS.index(parts[0]) + 1, 1
    return None


def page_header(page: _Page, ds: GaccDataset, section: int, period: date, what: str) -> Header:
    """Check a page against the release asked for: a table, its number, its period, and an edition on which the
    title, the unit line and the index row (the dataset's edition) agree."""
    if not any(len(row) > 1 for row in page.rows):
        image = f" (the table is an image: {page.images[-1]})" if page.images else ""
        raise ReleaseFormatError(f"{what}: the page holds no table{image}; it has no data, and is never loaded as "
                                 "an empty release")
    title = page.title or next((r[0].text for r in page.rows if r and TITLE.match(r[0].text)), None)
    match = TITLE.match(title or "")
    if not match:
        raise ReleaseFormatError(f"{what}: the page title {title!r} is not '(N) table, Month YYYY (in USD|CNY)'")
    number = int(match.group(1))
    if number != section or (section in SECTIONS and not SECTIONS[section].search(match.group(2))):
        raise ReleaseFormatError(f"{what}: the page is {title!r}, not table ({section})")
    span = _period_words(match.group(3))
    if span is None or (int(match.group(4)), span[0]) != (period.year, period.month):
        raise ReleaseFormatError(f"{what}: the page is for {match.group(3)} {match.group(4)}, not the period asked "
                                 "for")
    unit_text = next((m.group(1) for row in page.rows for cell in row[:1] if (m := UNIT.match(cell.text))), None)
    if unit_text is None:
        raise ReleaseFormatError(f"{what}: no 'Unit:' line on the page")
    title_edition = _CURRENCIES[match.group(5).upper()]
    unit_edition, multiplier = value_unit(unit_text, what)
    if len({title_edition, unit_edition, ds.edition}) > 1:
        raise ReleaseFormatError(
            f"{what}: the editions disagree: the title says {title_edition}, the unit line {unit_text!r} says "
            f"{unit_edition}, and the page was linked from the index row of the {ds.edition} edition. Its figures "
            "cannot be trusted (the site once served a '(in CNY)' page of USD cells): the page is rejected whole")
    return Header(section, span[1], title_edition, unit_text, multiplier)


def number(text: str, what: str) -> float | None:
    text = text.replace(",", "").replace("\u00a0", "").strip()
    if text in BLANKS:
        return None
    try:
        return float(text)
    except ValueError:
        raise ReleaseFormatError(f"{what}: {text!r} is not a number") from None


def _data_rows(page: _Page, width: int, first: re.Pattern) -> list[list[Cell]]:
    """The table's data rows: from the first row whose label matches `first`, every row of `width` cells."""
    rows, started = [], False
    for cells in page.rows:
        if len(cells) != width:
            continue
        started = started or bool(first.match(cells[0].text))
        if started and cells[0].text:
            rows.append(cells)
    return rows


def _cumulative_end(label: str) -> int | None:
    """The last month of a cumulative heading: "1-to-5", "1- to-2", "1-5 Total" -> 5, 2, 5."""
    match = re.match(r"^1\s*-\s*(?:to\s*-\s*)?(\d{1,2})\b", label, re.I)
    return int(match.group(1)) if match else None


def parse_country_table(page: _Page, ds: GaccDataset, period: date, what: str) -> tuple[Header, list[dict]]:
    """Table (4) by Country/Region. Month pages: region, then total, exports and imports for the month and the year
    to date, then three YoY %; January-February pages carry only the cumulative columns (the period's own)."""
    header = page_header(page, ds, 4, period, what)
    widths = {len(r) for r in page.rows if r and r[0].text.lower() == "total"}
    width = 7 if header.months == 2 else 10
    if width not in widths:
        raise ReleaseFormatError(f"{what}: the country table has no 'Total' row of {width} cells (a "
                                 f"{'January-February' if header.months == 2 else 'month'} page has "
                                 f"{width - 1} columns of figures)")
    first = next(i for i, r in enumerate(page.rows) if r and r[0].text.lower() == "total")
    headings = " ".join(c.text for r in page.rows[:first] for c in r)
    ends = {e for word in re.findall(r"1\s*-\s*(?:to\s*-\s*)?\d{1,2}", headings) if (e := _cumulative_end(word))}
    last = 2 if header.months == 2 else period.month
    if ends != {last}:
        raise ReleaseFormatError(f"{what}: the column headings name cumulative months {sorted(ends)}, not 1 to "
                                 f"{last}; the layout changed")
    basis = "ytd" if re.search(r"1\s*-\s*(?:to\s*-\s*)?\d{1,2}\s*Total\s*Year-on-Year", headings, re.I) else "month"
    labels = region_labels()
    rows, parent, member_indent = [], None, None
    for line, cells in enumerate(_data_rows(page, width, re.compile("^total$", re.I)), start=1):
        label, indent = cells[0].text, cells[0].indent
        of_which = re.match(r"^of\s+which\s*:\s*", label, re.I)
        region = label[of_which.end():] if of_which else label
        if of_which:
            member_indent = indent
        elif member_indent is None or indent < member_indent:
            member_indent = None
        figures = [number(c.text, f"{what} {region}") for c in cells[1:]]
        if header.months == 2:  # the period's own columns are the cumulative ones
            values = [figures[0], figures[0], figures[1], figures[1], figures[2], figures[2]]
        else:
            values = figures[:6]
        row = {"line_number": line, "region": region, "parent_region": parent if member_indent is not None else None,
               "partner_iso3": labels.get(region.lower()), **dict(zip(COUNTRY_VALUES, values, strict=True)),
               **dict(zip(COUNTRY_PCTS, figures[-3:], strict=True)), "yoy_basis": basis}
        if member_indent is None:
            parent = region
        rows.append(row)
    if not rows or rows[0]["partner_iso3"] != "WLD":
        raise ReleaseFormatError(f"{what}: the country table does not start with its Total row")
    return header, rows


def parse_commodities(page: _Page, ds: GaccDataset, section: int, period: date,
                      what: str) -> tuple[Header, list[dict]]:
    """Tables (5) and (6): commodity, quantity unit, then quantity and value for the month, the year to date, the
    same period a year earlier (its heading's year can be wrong on the page: it is not read) and YoY %. Labels
    are kept as published (they change between years): the seed gacc_commodity_labels maps them."""
    header = page_header(page, ds, section, period, what)
    heading = next((r for r in page.rows if len(r) > 2 and r[0].text.lower() == "commodity"), None)
    if heading is None or not re.search(r"unit", heading[1].text, re.I):
        raise ReleaseFormatError(f"{what}: no 'Commodity | Quantity Unit' heading row")
    groups = _commodity_groups([c.text for c in heading[2:]], header.months, period, what)
    width = 2 + 2 * len(heading[2:])
    flow = next(f for p, s, f in ds.parts if s == section)
    rows = []
    for line, cells in enumerate(_data_rows(page, width, re.compile(r"^(?!commodity$)\S", re.I)), start=1):
        label = cells[0].text
        if label.lower() in ("quantity", "value") or cells[1].text.lower() == "value":
            continue  # the second heading row ("Quantity | Value | ...") has the same width
        figures = [number(c.text, f"{what} {label}") for c in cells[2:]]
        pairs = {kind: figures[2 * position: 2 * position + 2] for kind, position in groups.items()}
        unit = cells[1].text
        rows.append({"flow": flow, "line_number": line, "commodity": label, "indent": cells[0].indent,
                     "quantity_unit": None if unit in BLANKS else unit,
                     **dict(zip(COMMODITY_VALUES, [*pairs.get("month", pairs["ytd"]), *pairs["ytd"], *pairs["prior"],
                                                   *pairs["yoy"]], strict=True))})
    if not rows:
        raise ReleaseFormatError(f"{what}: the commodity table has no rows")
    return header, rows


def _commodity_groups(labels: list[str], months: int, period: date, what: str) -> dict[str, int]:
    """Which column pair holds what: the month ("5"), the year to date ("1-5 Total"), the same period a year earlier
    ("1-5 Total,2025": its year can be wrong on the page and is not read) and YoY %. A January-February page has no
    month pair: its period is the year to date."""
    groups: dict[str, int] = {}
    last = 2 if months == 2 else period.month
    for position, label in enumerate(labels):
        if re.search(r"year-on-year", label, re.I):
            kind = "yoy"
        elif re.match(r"^1\s*-\s*\d{1,2}\s*Total\s*,\s*\d{4}$", label, re.I):
            kind = "prior"
        elif re.match(r"^1\s*-\s*\d{1,2}\s*Total$", label, re.I):
            kind = "ytd"
        elif re.fullmatch(r"\d{1,2}", label):
            kind = "month"
        else:
            raise ReleaseFormatError(f"{what}: unknown column heading {label!r}")
        if kind in ("ytd", "prior") and _cumulative_end(label) != last:
            raise ReleaseFormatError(f"{what}: heading {label!r} is not the year to {last}")
        if kind == "month" and int(label) != period.month:
            raise ReleaseFormatError(f"{what}: heading {label!r} is not month {period.month}")
        groups[kind] = position
    required = {"ytd", "prior", "yoy"} | ({"month"} if months == 1 else set())
    if missing := sorted(required - groups.keys()):
        raise ReleaseFormatError(f"{what}: the table lacks the column group(s) {missing}")
    return groups


def parse_preliminary(page: _Page, ds: GaccDataset, period: date, what: str) -> tuple[Header, list[dict]]:
    """Table (1), China's totals: item (total, exports, imports, balance), then the month, the year to date, MoM %,
    YoY % and the year to date's YoY %. UNVERIFIED: no real page of this table is in the samples; the title, unit
    and edition checks are those of the real pages, and any other row layout fails loudly."""
    header = page_header(page, ds, 1, period, what)
    rows = []
    for cells in page.rows:
        item = PRELIMINARY_ITEMS.get(cells[0].text.rstrip(":").lower()) if len(cells) == 6 else None
        if item is None or not re.search(r"\d", "".join(c.text for c in cells[1:])):
            continue
        values = [number(c.text, f"{what} {item}") for c in cells[1:]]
        rows.append({"item": item, **dict(zip(PRELIMINARY_VALUES, values, strict=True))})
    missing = sorted({"total", "exports", "imports", "balance"} - {r["item"] for r in rows})
    if missing:
        raise ReleaseFormatError(f"{what}: the preliminary table lacks {missing}")
    return header, rows


def parse_page(html: str, ds: GaccDataset, part: str, period: date, what: str) -> tuple[Header, list[dict]]:
    page = read_page(html)
    section = next(s for p, s, _ in ds.parts if p == part)
    if ds.kind == "country":
        return parse_country_table(page, ds, period, what)
    if ds.kind == "commodities":
        return parse_commodities(page, ds, section, period, what)
    return parse_preliminary(page, ds, period, what)


@cache
def region_labels(path: Path | None = None) -> dict[str, str | None]:
    """GACC region label (lower case) -> ISO3 (None for groups such as the EU or ASEAN), from the seed the installed
    package ships (tradewatch.locations)."""
    from tradewatch.locations import shipped_dir

    with open(path or shipped_dir("dbt_project") / "seeds" / "gacc_region_labels.csv", newline="",
              encoding="utf-8") as f:
        return {clean(r["gacc_label"]).lower(): (r["iso3"] or None) for r in csv.DictReader(f)}


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: GaccDataset, part: str, what: str,
               period: date) -> str:
    """Parse a landed page (HTML, so in Python; a few hundred rows at most) into a temp table."""
    html = Path(path).read_text(encoding="utf-8", errors="replace")
    header, rows = parse_page(html, ds, part, period, what)
    columns = [c for c, _ in ds.data_columns]
    values = [[period, header.months, *(r[c] for c, _ in ds.columns), header.edition, header.unit,
               header.multiplier] for r in rows]
    table = f"_gacc_{part}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({', '.join(f'{c} {t}' for c, t in ds.data_columns)})")
    con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in columns)})", values)
    return f"SELECT {', '.join(columns)} FROM {table}"


PUBLISHER = Publisher(
    name=SOURCE, title="GACC", datasets=DATASETS,
    key=None,  # public HTML pages
    base_url=BASE_URL,
    pages={INDEX_PAGE: INDEX_PATH, YEAR_INDEX_PAGE: YEAR_INDEX_PATH},
    calendar=ReleaseCalendar(months_after=1, day=12),  # about the 9th; January-February together in March
    revision_months=revision_months,
    skips_month=skips_month,
    fetch=Navigation(fetch_parts),  # the index pages link each month's pages
    check_response=check_response,
    stage_part=stage_part,
)
