"""The Data Docs' vendored files are the ones their NOTICE names, cover every file GX's templates fetch, and a GX
page rewritten for offline use fetches nothing; the index lists every validation by dataset, release and verdict."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from tradewatch import data_docs
from tradewatch.data_docs import CDN, VENDOR, Validation

GX_TEMPLATES = Path(str(resources.files("great_expectations.render.view") / "templates"))


def test_every_vendored_file_is_the_one_its_notice_names():
    notice = (VENDOR / "NOTICE.md").read_text()
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", notice, flags=re.M))
    files = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    served = {f for f in files if not f.startswith("licenses/") and f != "NOTICE.md"}
    assert set(listed) == served
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert set(CDN.values()) <= served
    for text in re.findall(r"`licenses/([^`]+)`", notice):
        assert (VENDOR / "licenses" / text).exists()


def test_every_file_gx_templates_fetch_is_served_or_dropped():
    fetched = set()
    for template in GX_TEMPLATES.glob("*.j2"):
        fetched |= set(re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https://[^"]+)"', template.read_text()))
    assert fetched, "GX's templates moved: check what its pages load"
    assert fetched - set(CDN) <= {"https://cdn.jsdelivr.net/npm/vega@5", "https://cdn.jsdelivr.net/npm/vega-lite@5",
                                  "https://cdn.jsdelivr.net/npm/vega-embed@6"}, fetched - set(CDN)


PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="shortcut icon" href="../../../static/images/favicon.ico" type="image/x-icon"/>
<style>.navbar-brand a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') 0 0; }</style>
</head><body>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://cdn.jsdelivr.net/npm/vega-lite@5"></script>
<script src="https://cdn.jsdelivr.net/npm/vega-embed@6"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x" crossorigin="anonymous"></script>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20250101T000000Z">
<a href="https://greatexpectations.io">GX</a>
</body></html>"""  # noqa: E501 (GX's own lines)


def test_a_page_is_rewritten_to_fetch_nothing():
    out = data_docs.offline_html(PAGE, "../../../../static")
    assert 'href="../../../../static/vendor/bootstrap-4.3.1/bootstrap.min.css"' in out
    assert '<script src="../../../../static/vendor/bootstrap-4.3.1/bootstrap.min.js"></script>' in out  # no SRI
    assert 'href="../../../../static/images/favicon.ico"' in out  # GX's link climbs one folder too few
    assert "url('../../../../static/images/logo-long.png')" in out
    assert 'src="../../../../static/images/logo-long.png"' in out
    assert "vega" not in out
    assert '<a href="https://greatexpectations.io">' in out  # a link to follow, not something fetched
    assert data_docs.offline_html(out, "../../../../static") == out  # idempotent
    chart = PAGE.replace("</body>", "<script>vegaEmbed('#c', spec)</script></body>")
    assert "https://cdn.jsdelivr.net/npm/vega@5" in data_docs.offline_html(chart, "x")  # a chart keeps Vega


def _validation(release: str, success: bool, period: date, suite: str = "bls_series") -> Validation:
    return Validation(release, suite, success, 12, 0 if success else 1, None if success else "expect_x saw y",
                      None, datetime(2025, 8, 10, 6), release, "2025-08-10T06:00:00.000001+00:00", suite, period, 1,
                      "published" if success else "quarantined")


def test_the_index_lists_every_validation_by_dataset_release_and_verdict(tmp_path):
    found = [_validation("bls_series:2025-05:a", True, date(2025, 5, 1)),
             _validation("bls_series:2025-06:b", False, date(2025, 6, 1)),
             _validation("nbs_price_indexes:2025-06:c", True, date(2025, 6, 1), "nbs_price_indexes")]
    pages = {("bls_series", "bls_series:2025-06:b", "20250810T060000.000001Z"):
             "validations/bls_series/bls_series:2025-06:b/20250810T060000.000001Z/x.html"}
    page = data_docs.render_index(found, pages, tmp_path)
    assert "3 validations of 2 datasets: 2 passed, 1 failed" in page
    assert page.count('<tr class="failed"') == 2 and page.count('<tr class="passed"') == 2
    assert 'href="validations/bls_series/bls_series%3A2025-06%3Ab/20250810T060000.000001Z/x.html"' in page
    assert "expect_x saw y" in page and 'id="bls_series:2025-06:b"' in page
    assert "2 without a page" in page and "<script" not in page and "http" not in page


def test_each_release_of_a_chunk_links_to_the_chunks_two_pages_and_says_what_failed_in_it(tmp_path):
    from tradewatch.data_docs import ChunkRun

    def chunked(release: str, success: bool, period: date, failed: str | None = None) -> Validation:
        return Validation(release, "census_exports_hs", success, 30, 0 if success else 2, failed, None,
                          datetime(2025, 8, 10, 6), None, None, "census_exports_hs", period, 1,
                          "published" if success else "quarantined", "census_exports_hs:2025-04..2025-05:ab")

    found = [chunked("census_exports_hs:2025-05:b", False, date(2025, 5, 1),
                     'expect_column_values_to_be_between({"column": "rows_vs_previous"}) saw [0.33]\n'
                     'expect_column_values_to_be_null({"column": "missing_chapters"}) saw ["85"]'),
             chunked("census_exports_hs:2025-04:a", True, date(2025, 4, 1))]
    time_ = "2025-08-10T06:00:00.000001+00:00"
    chunks = {"census_exports_hs:2025-04..2025-05:ab": [
        ChunkRun("census_exports_hs:2025-04..2025-05:ab", "census_exports_hs.rows", "rows", time_, True),
        ChunkRun("census_exports_hs:2025-04..2025-05:ab", "census_exports_hs.release", "release", time_, False)]}
    pages = {(f"census_exports_hs.{kind}", "census_exports_hs:2025-04..2025-05:ab", "20250810T060000.000001Z"):
             f"validations/census_exports_hs.{kind}/c/20250810T060000.000001Z/result.html"
             for kind in ("rows", "release")}
    page = data_docs.render_index(found, pages, tmp_path, chunks=chunks)
    assert "2 validations of 1 datasets: 1 passed, 1 failed" in page and "chunks (1 here)" in page
    for kind in ("rows", "release"):  # every release links to both pages of its chunk
        assert page.count(f'href="validations/census_exports_hs.{kind}/c/') == 3  # failed section + 2 releases
    assert "rows_vs_previous" in page and "missing_chapters" in page  # both failures of the release, explained
    assert 'id="census_exports_hs:2025-04:a"' in page and "without a page" not in page
