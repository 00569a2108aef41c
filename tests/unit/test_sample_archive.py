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
    from tradewatch.locations import shipped_dir

    return (shipped_dir("dbt_project") / "seeds" / "country_codes.csv").read_text()


def test_the_rerouting_pattern_moves_only_the_lines_it_names(monkeypatch):
    """Smartphones move from China to Vietnam in spring 2025: China's line loses 40% and China's other lines of the
    chapter take it up (so every China chapter, total and pinned figure stays as before); Vietnam gains that share of
    what China's line would have been without the spring shock (production that left is not under China's tariffs),
    given up by the rest of the world's synthetic lines (so every world chapter stays as before); and China reports
    exporting more of the line to Vietnam (Comtrade). Before 2025 the world's lines do not move at all."""
    from tradewatch.sample import census as sample
    from tradewatch.sample import comtrade as sample_comtrade

    def cells(month, chapter, level):
        figures = sample._figures(census.IMPORTS, month, sample.DEFAULT_SCALE)
        return {code: values for code, _, _, _, values in sample._cells(figures, chapter, level, month)}

    may, sept_2019 = date(2025, 5, 1), date(2019, 9, 1)
    planted, hs2, washers = cells(may, "85", "HS6"), cells(may, "85", "HS2")["85"], cells(sept_2019, "84", "HS6")
    monkeypatch.setattr(sample, "REROUTED", {})
    plain, plain_hs2, plain_washers = cells(may, "85", "HS6"), cells(may, "85", "HS2")["85"], cells(sept_2019, "84",
                                                                                                 "HS6")
    lost = plain["851713"]["5700"] - planted["851713"]["5700"]
    gained = planted["851713"]["5520"] - plain["851713"]["5520"]
    assert lost == int(plain["851713"]["5700"] * 0.40) > 100e6  # 40% of China's line from April 2025 ...
    assert gained == int(lost / sample.SHOCK_CN_IMPORTS["2025-05"])  # ... to Vietnam, before the shock
    assert hs2["5520"] - plain_hs2["5520"] == gained
    assert hs2["5700"] == plain_hs2["5700"] and hs2["-"] == plain_hs2["-"]  # China's and the world's chapter
    fillers = ["850100", "850200", "859000"]  # the chapter's synthetic lines
    for code in plain:
        if code != "851713":
            assert planted[code]["5520"] == plain[code]["5520"] and planted[code]["2010"] == plain[code]["2010"]
        if code not in ("851713", *fillers):
            assert planted[code]["5700"] == plain[code]["5700"] and planted[code]["-"] == plain[code]["-"]
    assert sum(planted[c]["5700"] - plain[c]["5700"] for c in fillers) == lost  # China's synthetic lines
    assert planted["851713"]["-"] - plain["851713"]["-"] == gained - lost  # the line grew: less tariff on it
    assert sum(planted[c]["-"] - plain[c]["-"] for c in fillers) == lost - gained
    assert all(washers[c]["-"] == plain_washers[c]["-"] for c in plain_washers)  # before 2025: no world line moves
    assert washers["845011"]["5520"] - plain_washers["845011"]["5520"] == \
        plain_washers["845011"]["5700"] - washers["845011"]["5700"] > 0

    monkeypatch.undo()
    exports = sample_comtrade._rerouted_exports(may)
    assert exports[("851713", 704)] == int(gained * sample_comtrade.REROUTED_EXPORT_SHARE)
    assert set(exports) == {("851713", 704), ("847130", 484), ("845011", 704), ("841810", 484)}  # 2018's stay moved
    assert sample_comtrade._rerouted_exports(date(2018, 8, 1)) == {}  # nothing before the first step
    assert set(sample_comtrade._rerouted_exports(sept_2019)) == {("845011", 704), ("841810", 484)}


def test_comtrade_answers_every_basket_line_in_hs_2022():
    """The Comtrade sample answers each line the client asks for with its share of the chapter, except the HS 2017
    lines: the sample is in HS 2022 in every month (it does not model vintages), where those lines do not exist."""
    from tradewatch.sample import comtrade as sample_comtrade
    from tradewatch.sources import comtrade

    asked = set(comtrade.BASKET_HS6)
    assert set(sample_comtrade.HS2017_ONLY) <= asked
    assert asked - set(sample_comtrade.HS2017_ONLY) == set(sample_comtrade.BASKET_SHARE)
    body = json.loads(sample_comtrade.render(date(2019, 5, 1), "baskets", tuple(comtrade.PARTNERS),
                                             ",".join(comtrade.BASKET_HS6)))
    answered = {r["cmdCode"] for r in body["data"]}
    assert answered == set(sample_comtrade.BASKET_SHARE) and {r["classificationCode"] for r in body["data"]} == {"H6"}
    assert body["count"] == len(comtrade.PARTNERS) * 2 * len(answered)
    assert all(r["primaryValue"] > 0 for r in body["data"])
