"""GACC: the real pages (tests/fixtures/real/gacc_*) and the sample archive through the same parser; the index
(year selector, links and spans), both editions cross-checked, January-February as one period, layout changes
failing loudly, and a live fetch against a local server that serves the real index and pages."""

import dataclasses
import re
from datetime import date
from http.server import BaseHTTPRequestHandler

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES, make_settings, serve_in_thread, stop_servers
from tradewatch import errors, pipeline
from tradewatch.http import Request, Response
from tradewatch.sample import gacc as sample
from tradewatch.sources import gacc
from tradewatch.sources.base import SourceClient

BASE = "http://english.customs.gov.cn"
CNY_COUNTRY = dataclasses.replace(gacc.COUNTRY_TABLE, edition="CNY")
CNY_COMMODITIES = dataclasses.replace(gacc.COMMODITIES, edition="CNY")


def real(name: str) -> str:
    return (REAL_SAMPLES / name).read_text(encoding="utf-8", errors="replace")


JANFEB_2025_CNY = "gacc_section4_by_country_janfeb2025_cny_real.html"
INDEX_2026 = "gacc_index_preliminary_2026_real.html"


# --- the real country table ---------------------------------------------------------------------------------------

def test_real_january_february_2025_country_table_cny():
    header, rows = gacc.parse_page(real(JANFEB_2025_CNY), CNY_COUNTRY, "country_table", date(2025, 1, 1), "t")
    assert (header.months, header.edition, header.unit, header.multiplier) == (2, "CNY", "CNY 100 Million", 1e8)
    by_region = {r["region"]: r for r in rows}
    us = by_region["United States (US)"]
    assert us["partner_iso3"] == "USA" and us["parent_region"] is None
    assert (us["total_month"], us["exports_month"], us["imports_month"]) == (7336.7, 5431.3, 1905.4)
    assert (us["total_ytd"], us["exports_ytd"], us["imports_ytd"]) == (7336.7, 5431.3, 1905.4)  # one two-month period
    assert (us["total_yoy_pct"], us["exports_yoy_pct"], us["imports_yoy_pct"]) == (3.5, 3.4, 3.8)
    assert us["yoy_basis"] == "ytd"  # "1-to-2 Total Year-on-Year"
    total = by_region["Total"]
    assert (total["partner_iso3"], total["total_month"], total["exports_month"], total["imports_month"]) == (
        "WLD", 65363.6, 38812.1, 26551.5)
    assert by_region["Hong Kong, China"]["partner_iso3"] == "HKG"
    assert by_region["Vietnam"]["partner_iso3"] == "VNM" and by_region["Vietnam"]["parent_region"] == "ASEAN"
    # "of which:" opens the member list; the members after it are indented deeper, and nest under the same group
    assert [r["region"] for r in rows if r["parent_region"] == "European Union"] == [
        "Germany", "Netherlands", "France", "Italy"]
    assert by_region["Brazil"]["parent_region"] == "Latin America"
    # every region is kept, with its ISO3 or a null one (groups, and labels the seed does not know)
    assert len(rows) == 30 and [r["line_number"] for r in rows] == list(range(1, 31))
    assert {r["region"] for r in rows if r["partner_iso3"] is None} == {
        "European Union", "ASEAN", "Latin America", "Africa", "Regional Comprehensive Economic Partnership",
        "Jointly build the countries along Belt and Road Routes"}


def test_a_label_the_seed_does_not_know_is_kept_with_a_null_iso3():
    html = real(JANFEB_2025_CNY).replace("New Zealand", "Atlantis")
    _, rows = gacc.parse_page(html, CNY_COUNTRY, "country_table", date(2025, 1, 1), "t")
    atlantis = [r for r in rows if r["region"] == "Atlantis"]
    assert len(atlantis) == 1 and atlantis[0]["partner_iso3"] is None and atlantis[0]["exports_month"] == 80.3


def test_a_cny_page_behind_a_usd_link_is_rejected_whole():
    with pytest.raises(errors.ReleaseFormatError, match="title says CNY.*index row of the USD edition"):
        gacc.parse_page(real(JANFEB_2025_CNY), gacc.COUNTRY_TABLE, "country_table", date(2025, 1, 1), "t")


def test_a_cny_title_over_a_usd_unit_line_is_rejected_whole():
    """The site once served a "(in CNY)" page whose unit line and cells were USD: never loaded."""
    html = real(JANFEB_2025_CNY).replace("Unit: CNY 100 Million", "Unit: USD1 Million")
    for edition in (CNY_COUNTRY, gacc.COUNTRY_TABLE):
        with pytest.raises(errors.ReleaseFormatError, match="editions disagree"):
            gacc.parse_page(html, edition, "country_table", date(2025, 1, 1), "t")


def test_the_real_2018_page_without_a_table_is_an_error_never_an_empty_release():
    html = real("gacc_section4_by_country_jan2018_cny_real_no_table.html")
    with pytest.raises(errors.ReleaseFormatError, match=r"no table \(the table is an image"):
        gacc.parse_page(html, CNY_COUNTRY, "country_table", date(2018, 1, 1), "t")
    with pytest.raises(errors.BrokenResponse, match="no table"):
        gacc.check_response(Response(200, html.encode(), BASE + "/Statics/x.html"), "t")


@pytest.mark.parametrize(
    ("edit", "period", "message"),
    [(lambda h: h, date(2025, 3, 1), "not the period asked for"),
     (lambda h: h.replace("1-to-2 Total", "1-to-3 Total"), date(2025, 1, 1), "cumulative months"),
     (lambda h: h.replace("Unit: CNY 100 Million", "Unit: CNY 10 Thousand Tons"), date(2025, 1, 1), "unit"),
     (lambda h: h.replace("7,336.7", "n/a", 1), date(2025, 1, 1), "'n/a' is not a number"),
     (lambda h: re.sub(r"<span>\s*Total\s*</span>", "<span>All</span>", h), date(2025, 1, 1), "Total"),
     (lambda h: h.replace("(4) China's", "(5) China's"), date(2025, 1, 1), "not table \\(4\\)")],
    ids=["wrong-period", "wrong-columns", "unknown-unit", "junk-number", "no-total-row", "another-table"],
)
def test_country_table_layout_changes_fail_loudly(edit, period, message):
    with pytest.raises(errors.ReleaseFormatError, match=message):
        gacc.parse_page(edit(real(JANFEB_2025_CNY)), CNY_COUNTRY, "country_table", period, "t")


@pytest.mark.parametrize(("unit", "edition", "multiplier"),
                         [("USD1 Million", "USD", 1e6), ("USD 100 Million", "USD", 1e8), ("US$1,000", "USD", 1e3),
                          ("CNY 100 Million", "CNY", 1e8), ("RMB 100 million", "CNY", 1e8)])
def test_unit_lines(unit, edition, multiplier):
    assert gacc.value_unit(unit, "t") == (edition, multiplier)


# --- the real index -----------------------------------------------------------------------------------------------

def test_real_index_year_links_and_spans():
    index = gacc.parse_index(real(INDEX_2026), "t", BASE + gacc.INDEX_PATH)
    assert index.year == 2026  # the first option of the year selector: the page has no year heading
    assert {(4, "USD"), (4, "CNY"), (5, "USD"), (6, "USD"), (1, "USD")} <= set(index.rows)
    # January is never linked: the January-February release is behind "Feb."
    january = index.link(4, "USD", date(2026, 1, 1), "t", "u")
    assert january.endswith("/Statics/0ed684ce-a5d7-45b8-ab53-0f30b3a8c7c1.html")
    assert index.link(4, "CNY", date(2026, 1, 1), "t", "u") != index.link(4, "USD", date(2026, 1, 1), "t", "u")
    assert index.link(5, "USD", date(2026, 3, 1), "t", "u").startswith("http://english.customs.gov.cn/Statics/")
    with pytest.raises(errors.NotYetPublished, match="Apr. without a link"):  # a span: the site says not yet
        index.link(4, "USD", date(2026, 4, 1), "t", "u")


@pytest.mark.parametrize(
    ("edit", "message"),
    [(lambda h: h.replace('id="preliminarysel"', 'id="yearsel"'), "no year selector"),
     (lambda h: h.replace("by Country/Region (in USD)", "by Region (in USD)"), "does not name table \\(4\\)"),
     (lambda h: h.replace("(4) China's Total Export & Import Values by Country/Region (in USD)", "(4) Gone"),
      "no row for table \\(4\\) in USD"),
     (lambda h: h.replace("<span>Apr.</span>", "", 8), "11 month labels"),
     (lambda h: re.sub(r"<tr><td>\(\d\).*?</tr>", "", h, flags=re.S), "no table of")],
    ids=["no-year-selector", "renumbered", "no-usd-row", "a-label-missing", "no-rows"],
)
def test_an_unknown_index_layout_fails_loudly_never_as_not_yet(edit, message):
    site = Site({gacc.INDEX_PATH: (200, edit(real(INDEX_2026)).encode())})
    with pytest.raises(errors.PageLayoutChanged, match=message) as caught:
        SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2026, 3, 1))
    assert not isinstance(caught.value, errors.NotYetPublished)


def test_links_to_the_publishers_host_follow_a_mirror_or_test_server():
    page = "http://english.customs.gov.cn/Statics/abc.html"
    assert gacc.follow(page, BASE + gacc.INDEX_PATH, BASE) == page
    assert gacc.follow(page, "http://127.0.0.1:9/gacc/x.html", "http://127.0.0.1:9/gacc") == \
        "http://127.0.0.1:9/gacc/Statics/abc.html"
    assert gacc.follow("/Statics/abc.html", "http://127.0.0.1:9/i.html", "http://127.0.0.1:9") == \
        "http://127.0.0.1:9/Statics/abc.html"


# --- the real commodity tables ------------------------------------------------------------------------------------

def commodities(name: str, ds, part: str, period: date) -> dict[str, dict]:
    header, rows = gacc.parse_page(real(name), ds, part, period, "t")
    return header, {r["commodity"]: r for r in rows}


def test_real_major_exports_may_2026_usd():
    header, rows = commodities("gacc_section5_major_exports_may2026_usd_real.html", gacc.COMMODITIES, "exports",
                               date(2026, 5, 1))
    assert (header.edition, header.unit, header.multiplier) == ("USD", "USD1 Million", 1e6)
    rare = rows["Rare-earth ore, metals, compounds"]  # the 2026 label
    assert (rare["flow"], rare["quantity_unit"], rare["quantity_month"], rare["value_month"]) == (
        "export", "Ton", 5490.4, 63.1)
    assert (rare["quantity_ytd"], rare["value_ytd"], rare["quantity_ytd_yoy_pct"], rare["value_ytd_yoy_pct"]) == (
        25378.0, 243.6, 2.2, 44.9)
    assert rare["indent"] == 4  # &nbsp;-indented (under a row it does not belong to: indents are kept, not nested)
    agriculture = rows["Agriculture products*"]
    assert agriculture["quantity_unit"] is None and agriculture["quantity_month"] is None  # "—" and "-" are blanks
    assert agriculture["value_month"] == 8838.9
    # the full-width parenthesis of the published label is read as a plain one
    assert rows["Motor vehicles(including chassis fitted with engines)"]["quantity_unit"] == "10,000 Autos"
    assert len(rows) == 31


def test_real_major_exports_may_2025_cny_with_the_2025_label():
    _, rows = commodities("gacc_section5_major_exports_may2025_cny_real.html", CNY_COMMODITIES, "exports",
                          date(2025, 5, 1))
    rare = rows["Rare earth"]  # "Rare earth" in 2025, "Rare-earth ore, metals, compounds" in 2026
    assert (rare["quantity_month"], rare["value_month"], rare["quantity_ytd"], rare["value_ytd"]) == (
        5864.6, 1.3, 24827.0, 12.1)
    assert (rare["quantity_ytd_yoy_pct"], rare["value_ytd_yoy_pct"]) == (2.3, -19.9)


def test_real_major_imports_may_2026_cny_with_a_wrong_prior_year_heading():
    """The page heads its prior-year columns "1-5 Total, 2024" on a 2026 page: the year is not read from it."""
    html = real("gacc_section6_major_imports_may2026_cny_real.html")
    assert "1-5 Total, 2024" in html
    _, rows = commodities("gacc_section6_major_imports_may2026_cny_real.html", CNY_COMMODITIES, "imports",
                          date(2026, 5, 1))
    soy = rows["Soya beans"]
    assert (soy["flow"], soy["quantity_unit"], soy["quantity_month"], soy["value_month"]) == (
        "import", "10,000 Tons", 1179.1, 377.5)
    assert (soy["quantity_ytd"], soy["value_ytd"], soy["quantity_ytd_prior_year"]) == (3694.2, 1223.8, 3710.6)
    assert (soy["quantity_ytd_yoy_pct"], soy["value_ytd_yoy_pct"]) == (-0.4, 2.1)
    assert rows["Rare-earth ore, metals, compounds"]["quantity_month"] == 6770.2


@pytest.mark.parametrize(
    ("edit", "message"),
    [(lambda h: h.replace("<span>1-5 Total</span>", "<span>1-4 Total</span>"), "not the year to 5"),
     (lambda h: h.replace("<span>5</span>", "<span>4</span>", 1), "not month 5"),
     (lambda h: h.replace("Year-On-Year", "Share"), "unknown column heading"),
     (lambda h: h.replace("(in USD)", "(in CNY)"), "editions disagree")],
    ids=["ytd-of-another-month", "another-month", "unknown-heading", "title-edition"],
)
def test_commodity_table_layout_changes_fail_loudly(edit, message):
    html = edit(real("gacc_section5_major_exports_may2026_usd_real.html"))
    with pytest.raises(errors.ReleaseFormatError, match=message):
        gacc.parse_page(html, gacc.COMMODITIES, "exports", date(2026, 5, 1), "t")


# --- the sample archive: the same layout, through the same parser -------------------------------------------------

def test_the_sample_writes_the_real_layout_january_february_as_one_period():
    header, rows = gacc.parse_page(sample.render_country_table(date(2025, 1, 1)).decode(), gacc.COUNTRY_TABLE,
                                   "country_table", date(2025, 1, 1), "t")
    assert header.months == 2 and header.unit == "USD1 Million"
    total = next(r for r in rows if r["region"] == "Total")
    assert total["exports_month"] == total["exports_ytd"]  # the period is the whole year so far
    assert {r["region"]: r["parent_region"] for r in rows}["Mexico"] == "Latin America"
    assert gacc.skips_month(date(2025, 2, 1)) and not gacc.skips_month(date(2025, 1, 1))
    _, cny = gacc.parse_page(sample.render_country_table(date(2025, 5, 1), "CNY").decode(), CNY_COUNTRY,
                             "country_table", date(2025, 5, 1), "t")
    assert next(r for r in cny if r["region"] == "Total")["exports_month"] == pytest.approx(316_000 * 7.18 / 100,
                                                                                             abs=0.1)
    _, exports = gacc.parse_page(sample.render_commodities(5, date(2025, 1, 1)).decode(), gacc.COMMODITIES,
                                 "exports", date(2025, 1, 1), "t")
    rare = next(r for r in exports if r["commodity"] == "Rare earth")
    assert rare["value_month"] == rare["value_ytd"]  # a January-February page is cumulative only
    _, later = gacc.parse_page(sample.render_commodities(5, date(2026, 3, 1)).decode(), gacc.COMMODITIES,
                               "exports", date(2026, 3, 1), "t")
    assert "Rare-earth ore, metals, compounds" in {r["commodity"] for r in later}  # the label changes, as it did


class Site:
    """A transport that answers from a dict of paths (on any host), recording what was asked."""

    def __init__(self, pages: dict[str, tuple[int, bytes]]):
        self.pages, self.asked = pages, []

    def send(self, request: Request) -> Response:
        self.asked.append(request.url)
        path = "/" + request.url.split("://", 1)[-1].split("/", 1)[-1]
        status, body = self.pages.get(path, (404, b"not found"))
        return Response(status, body, request.url)


def sample_site(start: date, end: date) -> Site:
    pages = {gacc.INDEX_PATH: (200, sample.render_index(end.year, start, end))}
    for year in range(start.year, end.year):
        pages[f"/statics/report/preliminary{year}.html"] = (200, sample.render_index(year, start, end))
    for month in sample.published(start, end):
        for section, render in ((4, sample.render_country_table),
                                (5, lambda m, e: sample.render_commodities(5, m, e)),
                                (6, lambda m, e: sample.render_commodities(6, m, e))):
            for edition in ("USD", "CNY"):
                pages["/" + sample.page_url(section, month, edition).split("/", 3)[3]] = (200, render(month, edition))
    return Site(pages)


def test_the_client_reads_the_current_index_a_past_years_index_then_the_pages():
    site = sample_site(date(2024, 1, 1), date(2025, 6, 1))
    [(part, request, _)] = SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2024, 5, 1))
    assert part == "country_table"
    assert site.asked == [BASE + gacc.INDEX_PATH, BASE + "/statics/report/preliminary2024.html",
                          sample.page_url(4, date(2024, 5, 1), "USD")]
    parts = SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COMMODITIES, date(2025, 1, 1))
    assert [p[0] for p in parts] == ["exports", "imports"]
    assert parts[0][1].url == sample.page_url(5, date(2025, 1, 1), "USD")  # behind "Feb."
    with pytest.raises(errors.NotYetPublished, match="Jul. without a link"):
        SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 7, 1))
    with pytest.raises(errors.NotYetPublished, match="still shows 2025"):
        SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2026, 3, 1))
    with pytest.raises(errors.NotYetPublished, match="together with January"):
        SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 2, 1))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(200, b"<html><script>var challenge=1;</script></html>", errors.BrokenResponse),
     (412, b"", errors.GeoBlocked), (503, b"", errors.PublisherUnavailable)],
    ids=["firewall-challenge", "geo-block", "down"],
)
def test_bad_pages(status, body, error):
    site = Site({gacc.INDEX_PATH: (status, body)})
    with pytest.raises(error):
        SourceClient(gacc.PUBLISHER, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 5, 1))


def test_the_preliminary_release_parses():
    header, rows = gacc.parse_page(sample.render_preliminary(date(2025, 5, 1)).decode(), gacc.PRELIMINARY,
                                   "preliminary", date(2025, 5, 1), "t")
    by_item = {r["item"]: r for r in rows}
    assert (header.months, header.unit, header.multiplier) == (1, "USD 100 Million", 1e8)
    assert by_item["exports"]["value_month"] == 3160.0 and by_item["balance"]["value_month"] == 1032.2
    assert by_item["total"]["ytd_yoy_pct"] is None  # '-' is a blank
    broken = sample.render_preliminary(date(2025, 5, 1)).decode().replace("<span>Balance</span>", "<span>Net</span>")
    with pytest.raises(errors.ReleaseFormatError, match="balance"):
        gacc.parse_page(broken, gacc.PRELIMINARY, "preliminary", date(2025, 5, 1), "t")


# --- live: a local server serving the real index and pages --------------------------------------------------------

def usd_edition_of_the_real_page(year: int) -> bytes:
    """The real January-February page as its USD edition would read (title, unit line; the layout untouched)."""
    html = real(JANFEB_2025_CNY).replace("(in CNY)", "(in USD)").replace("Unit: CNY 100 Million",
                                                                          "Unit: USD1 Million")
    return html.replace("January-February 2025", f"January-February {year}").encode()


@pytest.fixture
def real_site():
    """Serves the real 2026 index with its links rewritten to point here, and pages at the linked paths."""
    servers, pages, asked = [], {}, []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            status, body = pages.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    base = f"http://127.0.0.1:{serve_in_thread(Handler, servers)}"
    index = real(INDEX_2026).replace("http://english.customs.gov.cn/Statics/", base + "/Statics/")
    pages[gacc.INDEX_PATH] = (200, index.encode())
    links = gacc.parse_index(index, "t", base).rows[(4, "USD")][1]
    yield base, pages, links, asked
    stop_servers(servers)


def test_live_fetch_loads_the_usd_country_table_and_refuses_a_cny_page_behind_a_usd_link(real_site, tmp_path):
    base, pages, links, asked = real_site
    path = links["feb"].removeprefix(base)
    pages[path] = (200, usd_edition_of_the_real_page(2026))
    pages[links["mar"].removeprefix(base)] = (200, sample.render_country_table(date(2026, 3, 1)))
    settings = make_settings(tmp_path, TRADEWATCH_SOURCE_MODE="live", TRADEWATCH_GACC_BASE_URL=base,
                             TRADEWATCH_START_MONTH="2026-01", TRADEWATCH_HTTP_MAX_ATTEMPTS="1")
    result = pipeline.fetch(settings, "gacc_trade_by_country", ["2026-01", "2026-03", "2026-04"], as_of="2026-04-15")
    assert (result["landed"], result["not_published"]) == (2, ["2026-04"])  # April is a span on the real index
    pipeline.load(settings, "gacc_trade_by_country")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute("SELECT period, months_in_period, exports_month, edition, unit, value_multiplier "
                           "FROM raw.gacc_trade_by_country WHERE partner_iso3 = 'USA' ORDER BY period").fetchall()
    assert rows[0] == (date(2026, 1, 1), 2, 5431.3, "USD", "USD1 Million", 1e6)
    assert rows[1][:2] == (date(2026, 3, 1), 1) and rows[1][3] == "USD"

    # the same link now serves the CNY page: refused whole, nothing landed, the run says why
    pages[path] = (200, real(JANFEB_2025_CNY).replace("2025", "2026").encode())
    other = make_settings(tmp_path / "second", TRADEWATCH_SOURCE_MODE="live", TRADEWATCH_GACC_BASE_URL=base,
                          TRADEWATCH_START_MONTH="2026-01", TRADEWATCH_HTTP_MAX_ATTEMPTS="1")
    with pytest.raises(errors.SourceError, match=r"gacc_trade_by_country 2026-01.*title says CNY.*127\.0\.0\.1"):
        pipeline.fetch(other, "gacc_trade_by_country", ["2026-01"], as_of="2026-04-15")
    assert not list((other.landing_dir / "manifests").rglob("*.json"))  # nothing landed
    assert asked[0] == gacc.INDEX_PATH


def test_live_fetch_against_an_index_of_unknown_layout_fails_loudly(real_site, tmp_path):
    base, pages, _, _ = real_site
    pages[gacc.INDEX_PATH] = (200, b"<html><body><table><tr><td>Statistics</td></tr></table></body></html>")
    settings = make_settings(tmp_path, TRADEWATCH_SOURCE_MODE="live", TRADEWATCH_GACC_BASE_URL=base,
                             TRADEWATCH_HTTP_MAX_ATTEMPTS="1")
    with pytest.raises(errors.SourceError, match="no year selector"):
        pipeline.fetch(settings, "gacc_trade_by_country", ["2026-03"], as_of="2026-04-15")
