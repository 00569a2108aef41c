"""USITC HTS REST: the revision in force, exportList lines with Chapter 99 footnotes, the real chapter 76 export."""

import json
from datetime import date

import duckdb
import pytest

from tests.conftest import SHARED_SAMPLES
from tradewatch import errors
from tradewatch.http import Response
from tradewatch.sources import usitc

BASE = "https://hts.usitc.gov/reststop"
MAY = date(2025, 5, 1)


def stage(con, path, part="ch85"):
    return con.execute(usitc.stage_part(con, path, usitc.HTS_LINES, part, "t", MAY) + " ORDER BY line_number"
                       ).fetchall()


def test_requests_name_the_revision_then_each_chapter_range():
    parts = usitc.release_requests(BASE, usitc.HTS_LINES, MAY)
    assert parts[0][0] == "current_release" and parts[0][1].url == BASE + "/currentRelease"
    ranges = {name: dict(r.params) for name, r in parts[1:]}
    assert ranges["ch99_9903"] == {"from": "9903", "to": "9903", "format": "JSON", "styles": "false"}
    assert not usitc.BACKFILL  # the API has no history


@pytest.mark.parametrize("body", [b"2026HTSRev20", b'"2026HTSRev20"', b'{"name": "2026HTSRev20"}'])
def test_the_revision_name_in_any_of_its_shapes(body):
    assert usitc.revision_name(body) == "2026HTSRev20"


@pytest.mark.parametrize(
    ("url", "body", "error"),
    [(BASE + "/currentRelease", b"<html>maintenance</html>", errors.BrokenResponse),
     (BASE + "/exportList?from=8500", b"[]", errors.BrokenResponse),
     (BASE + "/exportList?from=8500", b'[{"htsno": "8505"', errors.BrokenResponse),
     (BASE + "/exportList?from=8500", b"Service Unavailable", errors.BrokenResponse)],
    ids=["html-200", "empty-chapter", "truncated", "plain-text"],
)
def test_bad_answers(url, body, error):
    with pytest.raises(error):
        usitc.check_response(Response(200, body, url), "usitc_hts_lines 2025-05")


def test_export_lines_keep_order_labels_and_chapter_99_links(tmp_path):
    lines = [{"htsno": "8505", "indent": "0", "description": "Magnets:", "superior": None, "units": [],
              "general": "", "special": "", "other": "", "footnotes": []},
             {"htsno": "", "indent": "1", "description": "Permanent magnets:", "superior": "true", "units": [],
              "general": "", "special": "", "other": "", "footnotes": None},
             {"htsno": "8505.11.00", "indent": "2", "description": "Of metal", "superior": None, "units": ["kg"],
              "general": "2.1%", "special": "Free (A,AU)", "other": "35%",
              "footnotes": [{"columns": ["general"], "value": "See 9903.88.03. ", "type": "endnote"},
                            {"columns": ["general"], "value": "See 9903.91.07.", "type": "endnote"}],
              "addiitionalDuties": None}]
    path = tmp_path / "ch85.json"
    path.write_text(json.dumps(lines))
    rows = stage(duckdb.connect(), path)
    assert [r[3] for r in rows] == ["8505", "", "8505.11.00"]
    assert rows[1][6] is True  # the label row
    assert set(rows[2][11].split(",")) == {"9903.88.03", "9903.91.07"}
    lines[2]["indent"] = "two"
    path.write_text(json.dumps(lines))
    with pytest.raises(errors.ReleaseFormatError, match="format changed"):
        stage(duckdb.connect(), path)


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason=f"no publisher samples at {SHARED_SAMPLES}")
def test_conformance_real_hts_export():
    rows = stage(duckdb.connect(), SHARED_SAMPLES / "usitc_hts_exportList_ch76_real_excerpt.json", "ch12")
    by_no = {r[3]: r for r in rows}
    assert by_no["7601.10.30.00"][8] == "2.6%"  # general rate
    assert "9903.91.01" in by_no["7601.10.30.00"][11] and "9903.90.09" in by_no["7601.10.30.00"][11]
    assert any(r[3] == "" and r[6] for r in rows)  # the label row ("superior")
