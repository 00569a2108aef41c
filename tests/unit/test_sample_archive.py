"""The synthetic sample archive: deterministic, in the exact Census format, internally consistent."""

import json
from datetime import date

import duckdb

from tradewatch.http import ReleaseArchive, ReplayTransport
from tradewatch.sample import write_sample_archive
from tradewatch.sources import census


def test_same_arguments_same_bytes_and_months_independent_of_range(tmp_path, small_archive):
    write_sample_archive(tmp_path / "a", date(2025, 4, 1), date(2025, 6, 1))
    for name in ["census/imports_hs/2025-05_HS6.json", "census/exports_hs/2025-06_HS2.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (small_archive / name).read_bytes()


def test_exact_census_format(small_archive):
    rows = json.loads((small_archive / "census/imports_hs/2024-03_HS2.json").read_text())
    header = rows[0]
    assert header[: len(census.IMPORTS.get_vars)] == list(census.IMPORTS.get_vars)
    assert header[-2:] == ["COMM_LVL", "time"]  # predicates not in get= are appended
    assert all(isinstance(cell, str) for row in rows for cell in row)
    assert {row[0] for row in rows[1:]} == set(census.PARTNERS)
    assert {row[header.index("SUMMARY_LVL")] for row in rows[1:]} == {"DET"}


def test_replay_answers_like_the_api(small_archive):
    replay = ReplayTransport(small_archive)
    request = census.build_request(census.BASE_URL, census.EXPORTS, date(2024, 2, 1), "HS6")
    assert replay.send(request).status == 200
    later = census.build_request(census.BASE_URL, census.EXPORTS, date(2031, 1, 1), "HS6")
    assert replay.send(later).status == 204  # not (yet) in the archive = not published
    assert set(ReleaseArchive(small_archive).index) >= {request.archive_key}


def _parsed(con, archive, dataset, month, level):
    path = archive / f"census/{dataset}/{month}_{level}.json"
    census.parse_census_file(con, path, table=f"{dataset}_{level}")


def test_consistency_and_the_spring_2025_shock(small_archive):
    con = duckdb.connect()
    for month in ("2024-05", "2025-05"):
        for level in ("HS2", "HS6"):
            _parsed(con, small_archive, "imports_hs", month, level)
        # HS6 lines add up exactly to their chapters, for China and the total row
        assert con.execute("""
            SELECT count(*) FROM (SELECT cty_code, left(i_commodity, 2) ch, sum(gen_val_mo) v FROM imports_hs_HS6
                                  GROUP BY ALL) h6
            JOIN imports_hs_HS2 h2 ON h2.cty_code = h6.cty_code AND h2.i_commodity = h6.ch
            WHERE h2.gen_val_mo <> h6.v""").fetchall() == [(0,)]
        # duty <= dutiable <= consumption <= general, China never above the all-countries total
        assert con.execute("""SELECT count(*) FROM imports_hs_HS6
            WHERE NOT (cal_dut_mo <= dut_val_mo AND dut_val_mo <= con_val_mo AND con_val_mo <= gen_val_mo)
            """).fetchall() == [(0,)]
        con.execute(f"CREATE TABLE totals_{month[:4]} AS SELECT sum(gen_val_mo) v FROM imports_hs_HS2 "
                    "WHERE cty_code = '5700'")
    change = con.execute("SELECT b.v / a.v - 1 FROM totals_2024 a, totals_2025 b").fetchall()[0][0]
    assert -0.45 < change < -0.25  # imports from China fall by about a third year on year


def test_the_default_archive_covers_every_source_and_month(tmp_path):
    """The archive `make demo` writes: every publisher, every month of the default range."""
    from tradewatch.sample import DEFAULT_END, DEFAULT_START
    from tradewatch.sources import PUBLISHERS

    counts = write_sample_archive(tmp_path, DEFAULT_START, DEFAULT_END)
    assert set(counts) == set(PUBLISHERS)
    months = (DEFAULT_END.year - DEFAULT_START.year) * 12 + DEFAULT_END.month - DEFAULT_START.month + 1
    decembers = DEFAULT_END.year - DEFAULT_START.year + (DEFAULT_END.month == 12)  # one annual file a December
    assert counts["census"] == months * 2 * (3 + len(census.HS10_CHAPTERS)) + decembers  # two flows, 3 levels, HS10
    # an index page per year, then four tables (preliminary, by country, exports, imports) in two editions (USD,
    # CNY) per period (January-February as one)
    years = DEFAULT_END.year - DEFAULT_START.year + 1
    assert counts["gacc"] == years + 4 * 2 * (months - years)


def test_replay_answers_as_of_the_release_being_fetched(small_archive):
    """BLS answers the same request anew each month: replay gives the answer in force at each release."""
    import json

    from tradewatch.sources import bls
    from tradewatch.sources.base import SourceClient

    client = SourceClient(bls.PUBLISHER, ReplayTransport(small_archive), "https://api.bls.gov/publicAPI/v2")

    def march_import_prices(release: date) -> dict:
        [(_, _, response)] = client.fetch_release(bls.SERIES_DATASET, release)
        data = next(s["data"] for s in json.loads(response.body)["Results"]["series"]
                    if s["seriesID"] == "EIUCOCHNTOT")  # preliminary for three months
        return next(d for d in data if (d["year"], d["period"]) == ("2025", "M03"))

    first, later = march_import_prices(date(2025, 3, 1)), march_import_prices(date(2025, 6, 1))
    assert first["footnotes"] == [{"code": "P", "text": "Preliminary."}] and later["footnotes"] == [{}]
    assert first["value"] != later["value"]  # the revision shows up in the later release


def test_the_benchmark_scales_keep_the_format_and_grow_the_rows(tmp_path):
    """Realistic: about 5,000 HS6 lines a month (the real Census); 10x: every other partner besides. Same requests,
    same format, parsed by the same parser; the basket lines are still there and no line repeats."""
    from tradewatch.sample.census import Scale

    def hs6(root):
        path = root / "census/imports_hs/2025-05_HS6.json"
        con = duckdb.connect()
        columns = census.parse_census_file(con, path)
        assert {"cty_code", "i_commodity", "gen_val_mo"} <= set(columns)
        return con.execute("SELECT cty_code, i_commodity FROM census_parsed").fetchall()

    sizes = {}
    for name, scale in (("sample", Scale()), ("realistic", Scale(lines_per_chapter=52)),
                        ("10x", Scale(lines_per_chapter=52, extra_partners=235))):
        write_sample_archive(tmp_path / name, date(2025, 5, 1), date(2025, 5, 1), scale)
        rows = hs6(tmp_path / name)
        assert len(rows) == len(set(rows)), name  # no (partner, line) twice
        codes = {code for country, code in rows if country == "-"}
        assert {"850511", "280530", "851713"} <= codes, name
        sizes[name] = (len(codes), len({country for country, _ in rows}), len(rows))
    assert sizes["sample"][0] < 400 and 4_900 <= sizes["realistic"][0] <= 5_100
    assert sizes["realistic"][1] == sizes["sample"][1] == 5 and sizes["10x"][1] == 240
    seeded = {line.split(",")[0] for line in _seed().splitlines()[1:]}
    extra = {country for country, _ in hs6(tmp_path / "10x")} - set(census.PARTNERS)
    assert len(extra) == 235 and "1220" in seeded and not extra & seeded  # never mapped to a country by mistake
    assert 8 <= sizes["10x"][2] / sizes["realistic"][2] <= 12


def _seed() -> str:
    from tradewatch.transform import DBT_PROJECT_DIR

    return (DBT_PROJECT_DIR / "seeds" / "country_codes.csv").read_text()
