"""Every real sample in tests/fixtures/real has its note beside it and is read by a test, and the awkward corners
the notes list that no parser test covers elsewhere."""

import json
import re
from datetime import date
from fnmatch import fnmatch
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES
from tradewatch import errors
from tradewatch.http import Request, Response
from tradewatch.sources import bls, nbs

SAMPLES = sorted(p for p in REAL_SAMPLES.iterdir() if p.suffix not in (".txt", ".md"))
TESTS = Path(__file__).parent


def test_the_samples_are_inside_the_project():
    assert len(SAMPLES) >= 18, "tests/fixtures/real holds the real publisher samples"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_real_sample_has_its_note_and_a_test(sample: Path):
    note = sample.with_name(sample.name + ".txt")
    assert note.exists() and note.read_text().strip(), f"{sample.name} has no provenance note beside it"
    tests = "\n".join(p.read_text() for p in TESTS.glob("test_*.py") if p.name != Path(__file__).name)
    tests += Path(__file__).read_text().split("# --- the corners", 1)[1]
    patterns = re.findall(r"REAL_SAMPLES\.glob\(\"([^\"]+)\"\)", tests)
    assert sample.name in tests or any(fnmatch(sample.name, p) for p in patterns), f"no test reads {sample.name}"


def test_the_gacc_page_notes_checksums_match():
    """Reconstructed pages carry the SHA-256 of the original in their note: the copy is that page."""
    import hashlib

    for note in REAL_SAMPLES.glob("gacc_*.txt"):
        if found := re.search(r"sha256 ([0-9a-f]{64})", note.read_text()):
            page = note.with_name(note.name.removesuffix(".txt"))
            assert hashlib.sha256(page.read_bytes()).hexdigest() == found.group(1), page.name


# --- the corners the notes list ------------------------------------------------------------------------------------

def test_bls_monthly_values_csv_as_an_api_answer(tmp_path):
    """bls_EIUCOCHNTOT_monthly_values_real.csv is the series reshaped to Date,ChinaMXP with US dates (1/1/2023; not
    the API's JSON): as the API would send it (values as strings, "M05" periods), it parses to the published
    figures (2024-05 100.5, 2025-03 99.6)."""
    lines = (REAL_SAMPLES / "bls_EIUCOCHNTOT_monthly_values_real.csv").read_text().split()
    assert lines[0].lower().startswith("date")
    data = []
    for line in lines[1:]:
        day, value = line.split(",")
        month, _, year = day.split("/")
        data.append({"year": year, "period": f"M{int(month):02d}", "value": value, "footnotes": [{}]})
    body = {"status": "REQUEST_SUCCEEDED", "message": [],
            "Results": {"series": [{"seriesID": "EIUCOCHNTOT", "data": data}]}}
    con = duckdb.connect()
    path = tmp_path / "mxp.json"
    path.write_text(json.dumps(body))
    rows = {(r[0], r[1]): float(r[2]) for r in con.execute(bls.stage_part(con, path, bls.SERIES_DATASET, "series",
                                                                          "t", date(2025, 3, 1))).fetchall()}
    assert rows[(date(2024, 5, 1), "EIUCOCHNTOT")] == 100.5
    assert rows[(date(2025, 3, 1), "EIUCOCHNTOT")] == 99.6


def test_nbs_fixture_an_empty_value_is_not_yet_published():
    """nbs_new_api_stream_esData_fixture.json: July 2026 has value "" (not published), June 104.1."""
    body = (REAL_SAMPLES / "nbs_new_api_stream_esData_fixture.json").read_bytes()
    [ppi] = [(name, request) for name, request in nbs.release_requests("https://x", nbs.PRICE_INDEXES,
                                                                        date(2026, 7, 1)) if name.startswith("PPI")]
    with pytest.raises(errors.NotYetPublished, match="2026-07 for CPI, PPI"):
        nbs.check_release([(ppi[0], ppi[1], Response(200, body, "https://x/stream/esData"))], "t", date(2026, 7, 1))
    assert isinstance(ppi[1], Request)
