"""The annual HS10 imports from China (census_imports_hs10_annual): request, client (against a local server on
127.0.0.1, with the chapter-by-chapter fallback), parser on the real format, suite on the real 2024 lines, planning
by the Census calendar, and the sample archive's consistency with its monthly releases."""

import json
import logging
import re
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import duckdb
import pytest

from tests.conftest import REPO_ROOT, make_settings, serve_in_thread, stop_servers
from tradewatch import pipeline
from tradewatch.errors import ConfigurationError, SourceError
from tradewatch.sample import census as sample
from tradewatch.sources import census

ANNUAL = census.IMPORTS_HS10_ANNUAL
BASE = "https://api.census.gov/data/timeseries/intltrade"
KEY = "0123456789abcdef0123456789abcdef01234567"
DECEMBER_2024 = date(2024, 12, 1)
#: The real 2024 HS10 lines (a trade-war tracker's pull of this very query), seeded for the tariff weights.
REAL_2024 = REPO_ROOT / "dbt_project" / "seeds" / "tariffs" / "us_imports_from_china_hs10_2024.csv"


def test_one_request_a_year_china_every_chapter_december_year_to_date():
    [(part, request)] = census.release_requests(BASE, ANNUAL, DECEMBER_2024)
    assert part == "HS10"
    assert request.params == (
        ("get", "CTY_CODE,CTY_NAME,I_COMMODITY,I_COMMODITY_SDESC,GEN_VAL_YR,CON_VAL_YR,DUT_VAL_YR,CAL_DUT_YR,"
                "CON_QY1_YR,UNIT_QY1,SUMMARY_LVL"),
        ("COMM_LVL", "HS10"), ("CTY_CODE", "5700"), ("time", "2024-12"))  # no I_COMMODITY: every chapter at once
    assert "key" not in request.public_url
    with pytest.raises(ConfigurationError, match=r"months \[12\] only, not for 2024-11"):
        census.release_requests(BASE, ANNUAL, date(2024, 11, 1))  # year to date through November is not a year


# ---- the client against a local server ----------------------------------------------------------------------

#: Chapters with trade in the stub: every one but 98 and 99 (answered 204, as Census does for an empty chapter).
STUB_CHAPTERS = [c for c in census.ALL_CHAPTERS if c not in ("98", "99")]


def stub_rows(chapters) -> list[list[str]]:
    """Two lines a chapter, US$3bn consumption value each (a year of about US$0.58 trillion)."""
    rows = []
    for chapter in chapters:
        for suffix in ("000010", "000090"):
            rows.append(["5700", "CHINA", f"{chapter}01{suffix}", f"LINE {chapter}01{suffix}", "3100000000",
                         "3000000000", "2400000000", "300000000", "1000", "NO", "DET", "HS10", "2024-12"])
    return rows


class CensusStub:
    """Answers the annual query like the API. `whole`: the all-chapter query's status (200 with every chapter, 204
    when refused as too broad or not published, 500 when failing); `chapters`: the chapter queries' status."""

    def __init__(self, whole: int, chapters: int) -> None:
        self.whole, self.chapters, self.paths, self.servers = whole, chapters, [], []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                stub.paths.append(self.path)
                params = parse_qsl(urlsplit(self.path).query)
                chapter = next((v[:2] for k, v in params if k == "I_COMMODITY"), None)
                status, body = stub.answer(chapter)
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.base_url = f"http://127.0.0.1:{serve_in_thread(Handler, self.servers)}/data/timeseries/intltrade"

    def answer(self, chapter: str | None) -> tuple[int, bytes]:
        if chapter is None:
            return (self.whole, sample.render(ANNUAL, stub_rows(STUB_CHAPTERS)) if self.whole == 200 else b"")
        if self.chapters != 200 or chapter not in STUB_CHAPTERS:
            return self.chapters if self.chapters != 200 else 204, b""
        rows = [[*r[:-1], f"{chapter}*", r[-1]] for r in stub_rows([chapter])]  # the predicate column comes back
        return 200, sample.render(ANNUAL, rows, extra_predicates=(ANNUAL.commodity_var,))


@pytest.fixture
def census_stub():
    stubs: list[CensusStub] = []

    def start(whole: int, chapters: int) -> CensusStub:
        stubs.append(CensusStub(whole, chapters))
        return stubs[-1]

    yield start
    for stub in stubs:
        stop_servers(stub.servers)


def live(tmp_path, stub: CensusStub):
    return make_settings(tmp_path / "data", TRADEWATCH_SOURCE_MODE="live", CENSUS_API_KEY=KEY,
                         TRADEWATCH_CENSUS_BASE_URL=stub.base_url, TRADEWATCH_HTTP_MAX_ATTEMPTS="2")


def raw(settings, sql: str):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_year_is_one_request_with_the_key_added_only_at_send_time(tmp_path, census_stub):
    stub = census_stub(200, 200)
    settings = live(tmp_path, stub)
    result = pipeline.fetch(settings, ANNUAL.name, ["2024-12"], as_of="2025-02-10")
    assert result["landed"] == 1 and len(stub.paths) == 1
    assert f"key={KEY}" in stub.paths[0] and "time=2024-12" in stub.paths[0] and "CTY_CODE=5700" in stub.paths[0]
    manifests = list((settings.landing_dir / "manifests").rglob("*.json"))
    assert len(manifests) == 1 and KEY not in manifests[0].read_text()
    assert pipeline.load(settings, ANNUAL.name)["loaded"] == 1
    assert pipeline.validate(settings, ANNUAL.name)["published"] == 1
    assert raw(settings, f"SELECT count(*), count(DISTINCT left(commodity, 2)), sum(con_val_yr) FROM raw.{ANNUAL.name}"
               ) == [(2 * len(STUB_CHAPTERS), len(STUB_CHAPTERS), 2 * len(STUB_CHAPTERS) * 3_000_000_000)]
    assert raw(settings, f"SELECT DISTINCT source_url FROM raw.{ANNUAL.name}")[0][0].endswith(
        "COMM_LVL=HS10&CTY_CODE=5700&time=2024-12")


def test_a_query_refused_as_too_broad_is_fetched_chapter_by_chapter(tmp_path, census_stub, caplog):
    stub = census_stub(204, 200)  # 204 for every chapter at once, rows for each chapter alone
    settings = live(tmp_path, stub)
    with caplog.at_level(logging.WARNING):
        result = pipeline.fetch(settings, ANNUAL.name, ["2024-12"], as_of="2025-02-10")
    assert result["landed"] == 1 and result["not_published"] == []
    assert "too broad" in caplog.text and KEY not in caplog.text
    assert len(stub.paths) == 1 + len(census.ALL_CHAPTERS)  # the refused query, then every chapter (85 first)
    asked = [dict(parse_qsl(urlsplit(p).query)).get("I_COMMODITY") for p in stub.paths]
    assert asked[:2] == [None, "85*"] and sorted(asked[1:]) == [f"{c}*" for c in census.ALL_CHAPTERS]
    assert all(f"key={KEY}" in p for p in stub.paths)
    [manifest] = (settings.landing_dir / "manifests").rglob("*.json")
    parts = json.loads(manifest.read_text())["parts"]
    assert [p["name"] for p in parts] == [f"HS10_{c}" for c in STUB_CHAPTERS]  # 98 and 99 had no rows: no part
    # The chapter answers carry a second I_COMMODITY column ("85*"): the batch loader keeps the code, the gate passes.
    assert pipeline.load(settings, ANNUAL.name)["loaded"] == 1
    assert pipeline.validate(settings, ANNUAL.name)["published"] == 1
    assert raw(settings, f"SELECT count(*), count(*) FILTER (WHERE NOT regexp_full_match(commodity, '[0-9]{{10}}')) "
                         f"FROM raw.{ANNUAL.name}") == [(2 * len(STUB_CHAPTERS), 0)]


def test_a_query_that_keeps_failing_falls_back_too_and_a_real_outage_fails_clearly(tmp_path, census_stub):
    stub = census_stub(500, 200)
    assert pipeline.fetch(live(tmp_path / "a", stub), ANNUAL.name, ["2024-12"], as_of="2025-02-10")["landed"] == 1
    assert len(stub.paths) == 2 + len(census.ALL_CHAPTERS)  # two attempts at the whole query, then each chapter
    down = census_stub(500, 500)
    with pytest.raises(SourceError, match="census_imports_hs10_annual 2024-12") as exc:
        pipeline.fetch(live(tmp_path / "b", down), ANNUAL.name, ["2024-12"], as_of="2025-02-10")
    assert "kept failing" in str(exc.value) and "I_COMMODITY=85" in str(exc.value) and KEY not in str(exc.value)


def test_not_published_is_two_requests_then_late_after_the_february_release(tmp_path, census_stub, caplog):
    stub = census_stub(204, 204)  # nothing for every chapter, nothing for the probe chapter: not out yet
    settings = live(tmp_path, stub)
    early = pipeline.fetch(settings, ANNUAL.name, ["2025-12"], as_of="2026-01-20")
    assert early["not_published"] == ["2025-12"] and early["late"] == [] and len(stub.paths) == 2
    with caplog.at_level(logging.WARNING):
        late = pipeline.fetch(settings, ANNUAL.name, ["2025-12"], as_of="2026-02-20")
    assert late["late"] == ["2025-12"]
    assert "census_imports_hs10_annual 2025-12 was due by 2026-02-08" in caplog.text
    waiting = pipeline.fetch(settings, ANNUAL.name, ["2025-12"], as_of="2026-02-05", reference_month="2025-12",
                             now=datetime(2026, 2, 5, 6, 0))
    assert waiting["wait_until"] == "2026-02-05T12:00"  # the February run waits for it until the calendar day


def test_monthly_releases_never_fall_back(tmp_path, census_stub):
    stub = census_stub(204, 200)
    settings = make_settings(tmp_path / "data", TRADEWATCH_SOURCE_MODE="live", CENSUS_API_KEY=KEY,
                             TRADEWATCH_CENSUS_BASE_URL=stub.base_url)
    assert pipeline.fetch(settings, "census_imports_hs", ["2025-05"])["not_published"] == ["2025-05"]
    assert len(stub.paths) == 1


# ---- parsing the real format --------------------------------------------------------------------------------

#: Real values: six lines of the 2024 US imports for consumption from China at HS10 (US Census Bureau, public
#: domain), as pulled by the trade-war tracker tradewartracker/trade-war-redux-2025 (MIT) with
#: get=CTY_NAME,CON_VAL_YR,CAL_DUT_YR,I_COMMODITY,I_COMMODITY_SDESC&time=2024-12&COMM_LVL=HS10&CTY_CODE=5700.
#: Serialization ours, in the API's shape: header in get= order, the predicates not in get= appended, all strings.
REAL_TRACKER_EXCERPT = [
    ["CTY_NAME", "CON_VAL_YR", "CAL_DUT_YR", "I_COMMODITY", "I_COMMODITY_SDESC", "time", "COMM_LVL", "CTY_CODE"],
    ["CHINA", "0", "0", "0101300000", "ASSES, LIVE 2", "2024-12", "HS10", "5700"],
    ["CHINA", "17300", "1299", "0106199120", "DOGS, LIVE", "2024-12", "HS10", "5700"],
    ["CHINA", "5590", "7787", "1202422040", "SHELLED PEANUTS, DRY-BLANCHED, NESOI", "2024-12", "HS10", "5700"],
    ["CHINA", "40679904773", "166", "8517130000", "SMARTPHONES", "2024-12", "HS10", "5700"],
    ["CHINA", "8923486991", "736", "9503000073", "TOYS PTS & ACCES 15 USC 2052 PERSONS 3 TO 12 NESOI", "2024-12",
     "HS10", "5700"],
    ["CHINA", "5135973063", "0", "9999950000", "ESTIMATED IMPORTS OF LOW VALUED TRANSACTIONS", "2024-12", "HS10",
     "5700"],
]


def test_the_parser_reads_the_real_annual_format_and_names_what_the_tracker_did_not_ask_for(tmp_path):
    path = tmp_path / "tracker.json"
    path.write_text(json.dumps(REAL_TRACKER_EXCERPT))
    con = duckdb.connect()
    columns = census.parse_census_file(con, path)
    assert {"con_val_yr", "cal_dut_yr", "i_commodity", "period"} <= set(columns)
    rows = con.execute("SELECT period, i_commodity, con_val_yr, cal_dut_yr FROM census_parsed ORDER BY 2").fetchall()
    assert [r[1] for r in rows] == ["0101300000", "0106199120", "1202422040", "8517130000", "9503000073",
                                    "9999950000"]  # leading zeros kept
    assert rows[3][2:] == (40_679_904_773, 166) and {str(r[0]) for r in rows} == {"2024-12-01"}
    with pytest.raises(Exception, match="GEN_VAL_YR") as err:  # our request asks for more than the tracker's did
        census.conform(con, ANNUAL, "census_parsed", columns, "census_imports_hs10_annual 2024-12")
    assert "schema drift" in str(err.value) and "DUT_VAL_YR" in str(err.value)


def test_the_suite_passes_the_real_2024_lines():
    """Every real 2024 line from China through the suite: 98 chapters, ten-digit codes, a total of US$429bn, and 4
    lines whose duty exceeds their value (within the tolerance). The file has no general imports or dutiable value:
    both are set to the consumption value here (the seed keeps no descriptions either)."""
    import csv

    import pandas as pd

    from expectations import suites_for
    from expectations.runner import Release, SuiteRunner

    with open(REAL_2024, newline="") as f:
        lines = list(csv.DictReader(f))
    value = [int(r["consumption_imports_usd"]) for r in lines]
    frame = pd.DataFrame({
        "release_id": "real-2024", "period": "2024-12-01", "cty_code": "5700", "cty_name": "CHINA",
        "commodity": [r["hs10"] for r in lines], "commodity_desc": "LINE",
        "comm_lvl": "HS10", "gen_val_yr": value, "con_val_yr": value, "dut_val_yr": value,
        "cal_dut_yr": [int(r["calculated_duty_usd"]) for r in lines], "con_qy1_yr": 0, "unit_qy1": "X"})
    assert (frame["cal_dut_yr"] > frame["dut_val_yr"]).sum() == 4
    outcome = SuiteRunner(ANNUAL.name).validate(frame[suites_for(ANNUAL.name).columns],
                                                [Release("real-2024", "2024-12", 1)], [], "real-2024")
    [verdict] = outcome.verdicts
    assert verdict.success, verdict.failed
    assert verdict.summary["chapters"] == 98 and verdict.summary["duty_above_dutiable_share"] > 0


# ---- planning by the Census calendar -------------------------------------------------------------------------


def annual_plan(settings, logical_date: str) -> list[str]:
    return next(w["periods"] for w in pipeline.plan(settings, logical_date) if w["dataset"] == ANNUAL.name)


def test_plan_asks_for_decembers_only_in_february_and_again_in_june(tmp_path, small_archive):
    settings = make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(small_archive),
                             TRADEWATCH_START_MONTH="2023-01")
    assert annual_plan(settings, "2025-01-10T06:00:00+00:00") == ["2023-12"]  # 2024 is not due before February
    assert annual_plan(settings, "2025-02-10T06:00:00+00:00") == ["2023-12", "2024-12"]
    assert str(pipeline.expected_release(settings, ANNUAL.name, "2024-12")) == "2025-02-08"
    result = pipeline.fetch(settings, ANNUAL.name, ["2023-05", "2023-12", "2024-12"])
    assert result["skipped"] == ["2023-05"] and result["landed"] == 2  # no request for a month that is no release
    pipeline.load(settings, ANNUAL.name)
    assert annual_plan(settings, "2025-02-10T06:00:00+00:00") == ["2024-12"]  # the run's own release, again
    assert annual_plan(settings, "2025-03-10T06:00:00+00:00") == []  # held: nothing to ask until the June release
    assert annual_plan(settings, "2025-06-10T06:00:00+00:00") == ["2023-12", "2024-12"]  # revised with 2022
    assert annual_plan(settings, "2025-07-10T06:00:00+00:00") == []
    assert annual_plan(settings, "2026-02-10T06:00:00+00:00") == ["2025-12"]
    later = make_settings(tmp_path / "later", TRADEWATCH_START_MONTH="2025-01")
    assert annual_plan(later, "2025-08-10T06:00:00+00:00") == []  # no December since the start month yet


# ---- the sample archive -----------------------------------------------------------------------------------------


def annual_file(archive, year: int) -> list[list[str]]:
    return json.loads((archive / f"census/imports_hs10_annual/{year}-12_HS10.json").read_text())


def test_the_archive_serves_each_covered_year_in_the_api_format(small_archive):
    from tradewatch.http import ReplayTransport

    replay = ReplayTransport(small_archive)
    for year, status in ((2023, 200), (2024, 200), (2025, 204)):  # the small archive ends in 2025-06
        [(_, request)] = census.release_requests(BASE, ANNUAL, date(year, 12, 1))
        assert replay.send(request).status == status, year
    rows = annual_file(small_archive, 2024)
    assert rows[0] == [*ANNUAL.get_vars, "COMM_LVL", "time"]
    assert all(isinstance(cell, str) for row in rows for cell in row)
    data = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {(r["CTY_CODE"], r["COMM_LVL"], r["time"], r["SUMMARY_LVL"]) for r in data} == {
        ("5700", "HS10", "2024-12", "DET")}
    assert all(re.fullmatch(r"\d{10}", r["I_COMMODITY"]) for r in data)
    assert len({r["I_COMMODITY"][:2] for r in data}) == len(sample.CHAPTERS)


def china(archive, month: str, level: str) -> list[dict]:
    rows = json.loads((archive / f"census/imports_hs/{month}_{level}.json").read_text())
    # the HS10 parts repeat I_COMMODITY (the chapter predicate, "85*"): the first of a name wins, as in the parser
    return [dict(reversed(list(zip(rows[0], row, strict=True)))) for row in rows[1:] if row[0] == census.CHINA]


def test_each_year_adds_up_to_its_twelve_monthly_releases(small_archive):
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    year = {r["I_COMMODITY"]: r for r in (dict(zip(annual_file(small_archive, 2024)[0], row, strict=True))
                                          for row in annual_file(small_archive, 2024)[1:])}
    by_chapter: dict[str, int] = {}
    for code, row in year.items():
        by_chapter[code[:2]] = by_chapter.get(code[:2], 0) + int(row["GEN_VAL_YR"])
    monthly = {}
    for month in months:
        for row in china(small_archive, month, "HS2"):
            monthly[row["I_COMMODITY"]] = monthly.get(row["I_COMMODITY"], 0) + int(row["GEN_VAL_MO"])
    assert by_chapter == monthly  # every chapter's year is the sum of its twelve monthly China values
    # Where the archive has monthly HS10 parts (the basket chapters), every line and value adds up exactly.
    for chapter in census.HS10_CHAPTERS:
        sums: dict[str, list[int]] = {}
        for month in months:
            for row in china(small_archive, month, f"HS10_{chapter}"):
                before = sums.get(row["I_COMMODITY"], [0] * len(census.IMPORTS.value_vars))
                sums[row["I_COMMODITY"]] = [a + int(row[v]) for a, v in zip(before, census.IMPORTS.value_vars,
                                                                             strict=True)]
        assert sums == {code: [int(row[v]) for v in ANNUAL.value_vars] for code, row in year.items()
                        if code[:2] == chapter}, chapter


def test_the_benchmark_scale_writes_the_realistic_year():
    """Realistic: every chapter's 52 lines and the basket lines, two statistical suffixes each; China's year is the
    sum of its twelve months whatever the number of extra partners."""
    scale = sample.Scale(lines_per_chapter=52)
    rows = sample._annual_rows(2024, scale)
    hs6 = sum(len(sample._lines(chapter, 52)) for chapter in sample.CHAPTERS)
    assert len(rows) == 2 * hs6 and 9_500 <= len(rows) <= 10_500
    months = [sample._figures(census.IMPORTS, date(2024, m, 1), scale) for m in range(1, 13)]
    assert sum(int(r[4]) for r in rows) == sum(sum(f.cn.values()) for f in months)
    assert rows == sample._annual_rows(2024, sample.Scale(lines_per_chapter=52, extra_partners=235))
