"""USITC HTS REST: the revision in force, exportList lines with Chapter 99 footnotes, the real chapter 76 export."""

import json
from datetime import date

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES, Reply, make_settings
from tradewatch import errors, pipeline
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
    assert not usitc.PUBLISHER.backfills  # the API has no history


@pytest.mark.parametrize("body", [b"2026HTSRev20", b'"2026HTSRev20"', b'{"name": "2026HTSRev20"}'])
def test_the_revision_name_in_any_of_its_shapes(body):
    assert usitc.revision_name(body, "t") == "2026HTSRev20"


@pytest.mark.parametrize(
    ("body", "message"),
    [(b'{"name": "20', "not valid JSON"), (b'"2026HTSRev', "not valid JSON"), (b'{"name": "20"}', "like 2026HTSRev20"),
     (b"2026", "like 2026HTSRev20"), (b'{"release": null}', "like 2026HTSRev20"), (b"", "like 2026HTSRev20"),
     (b"Revision 20 (2026)", "like 2026HTSRev20")],
    ids=["truncated-object", "truncated-string", "short-name", "a-year", "null", "empty", "a-title"],
)
def test_a_current_release_that_does_not_parse_or_name_a_revision_is_broken(body, message):
    with pytest.raises(errors.BrokenResponse, match=message):
        usitc.check_response(Response(200, body, BASE + "/currentRelease"), "usitc_hts_lines 2025-05")


def test_a_truncated_current_release_lands_nothing_and_the_run_says_so(fake_publisher, tmp_path):
    """A cut `currentRelease` once landed as a corrupt vintage beside the good one: now nothing of it lands."""
    good = json.dumps([{"htsno": "8505", "indent": "0", "description": "Magnets", "superior": None, "units": [],
                        "general": "", "special": "", "other": "", "footnotes": []}]).encode()
    json_type = {"Content-Type": "application/json"}
    publisher = fake_publisher(Reply(200, b'{"name": "20', json_type), *[Reply(200, good, json_type)] * 9)
    settings = make_settings(tmp_path, TRADEWATCH_SOURCE_MODE="live", TRADEWATCH_USITC_BASE_URL=publisher.base_url,
                             TRADEWATCH_HTTP_MAX_ATTEMPTS="1")
    with pytest.raises(errors.SourceError, match=r"usitc_hts_lines 2025-05.*currentRelease is not valid JSON"):
        pipeline.fetch(settings, "usitc_hts_lines", ["2025-05"])
    assert publisher.requests == ["/currentRelease"]  # nothing fetched after the broken answer
    assert not list((settings.landing_dir / "manifests").rglob("*.json"))  # and nothing landed


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


def test_conformance_real_hts_export():
    rows = stage(duckdb.connect(), REAL_SAMPLES / "usitc_hts_exportList_ch76_real_excerpt.json", "ch12")
    by_no = {r[3]: r for r in rows}
    assert by_no["7601.10.30.00"][8] == "2.6%"  # general rate
    assert "9903.91.01" in by_no["7601.10.30.00"][11] and "9903.90.09" in by_no["7601.10.30.00"][11]
    assert any(r[3] == "" and r[6] for r in rows)  # the label row ("superior")


@pytest.mark.parametrize("sample", ["usitc_hts_exportList_ch85_real.json", "usitc_hts_exportList_ch95_real.json"])
def test_conformance_real_whole_chapter_exports(sample):
    """Whole real chapters: every record lands in order, with the corners the note lists (label rows with htsno ""
    and superior "true", footnotes null on them and [] elsewhere, the misspelt "addiitionalDuties" key)."""
    path = REAL_SAMPLES / sample
    records = json.loads(path.read_text())
    rows = stage(duckdb.connect(), path, "ch85")
    assert [r[3] for r in rows] == [r["htsno"] for r in records]  # nothing dropped, order kept
    labels = [r for r in rows if r[6]]
    assert labels and all(r[3] == "" and r[11] is None and r[12] is None for r in labels)
    assert all("addiitionalDuties" in r for r in records)  # the misspelt key is really there, and harmless


def test_conformance_real_chapter_85_rates_and_chapter_99_links():
    rows = {r[3]: r for r in stage(duckdb.connect(), REAL_SAMPLES / "usitc_hts_exportList_ch85_real.json")}
    assert rows["8505.11.00"][8:11] == ("2.1%", rows["8505.11.00"][9], "45%")  # rates on the 8-digit line
    assert rows["8501.10.20.00"][11] == "9903.88.02"  # "See 9903.88.02. " as a link
    statistical = [r for no, r in rows.items() if len(no) == 13 and r[8] == ""]
    assert statistical  # ten-digit lines without a rate of their own (they inherit it in staging)
