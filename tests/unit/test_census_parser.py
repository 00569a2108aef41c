"""The Census parser on real samples and on real-format fixtures written here."""

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES
from tradewatch.errors import ReleaseFormatError
from tradewatch.sources import census

HEADER = ["CTY_CODE", "CTY_NAME", "I_COMMODITY", "I_COMMODITY_SDESC", "GEN_VAL_MO", "CON_VAL_MO", "DUT_VAL_MO",
          "CAL_DUT_MO", "CON_QY1_MO", "UNIT_QY1", "SUMMARY_LVL", "COMM_LVL", "time"]


def write(tmp_path: Path, rows, name="r.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows) if not isinstance(rows, str) else rows)
    return path


def parse(path: Path, fmt="json"):
    con = duckdb.connect()
    columns = census.parse_census_file(con, path, fmt=fmt)
    return columns, con.execute("SELECT * FROM census_parsed").fetchall(), con


def test_mixed_levels_and_summary_levels_keep_det_rows_by_header_name(tmp_path):
    rows = [
        HEADER,
        ["-", "TOTAL FOR ALL COUNTRIES", "85", "ELECTRICAL", "900", "880", "700", "100", "0", "X", "DET", "HS2",
         "2025-05"],
        ["5700", "CHINA", "85", "ELECTRICAL", "500", "490", "400", "90", "0", "X", "DET", "HS2", "2025-05"],
        ["5700", "CHINA", "851713", "SMARTPHONES", "200", "195", "0", "0", "1000", "NO", "DET", "HS6", "2025-05"],
        ["0014", "PACIFIC RIM COUNTRIES", "85", "ELECTRICAL", "700", "690", "500", "95", "0", "X", "CGP", "HS2",
         "2025-05"],
        ["5700", "CHINA", "01", "LIVE ANIMALS", "0", "0", "0", "0", "0", "X", "DET", "HS2", "2025-05"],  # zero row
    ]
    columns, parsed, con = parse(write(tmp_path, rows))
    assert "period" in columns and "gen_val_mo" in columns
    assert len(parsed) == 4  # the CGP group row is dropped (summing it would double count)
    by_code = {(r[1], r[3]): r for r in con.execute(
        "SELECT period, cty_code, comm_lvl, i_commodity, gen_val_mo, con_qy1_mo FROM census_parsed").fetchall()}
    assert by_code[("5700", "851713")][2] == "HS6"
    assert by_code[("5700", "851713")][4] == 200
    assert by_code[("5700", "01")][4] == 0
    assert str(by_code[("-", "85")][0]) == "2025-05-01"


def test_columns_in_any_order_and_a_repeated_name_keeps_the_first(tmp_path):
    header = ["GEN_VAL_MO", "CTY_CODE", "CTY_CODE", "time"]
    rows = [header, ["10", "5700", "9999", "2025-05"]]
    _, parsed, con = parse(write(tmp_path, rows))
    assert con.execute("SELECT cty_code, gen_val_mo FROM census_parsed").fetchall() == [("5700", 10)]


def test_year_and_month_columns_give_the_period(tmp_path):
    rows = [["CTY_CODE", "GEN_VAL_MO", "YEAR", "MONTH"], ["5700", "1", "2020", "05"]]
    _, _, con = parse(write(tmp_path, rows))
    assert str(con.execute("SELECT period FROM census_parsed").fetchall()[0][0]) == "2020-05-01"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (json.dumps([HEADER[:5] + ["time"], ["5700", "CHINA", "85", "X", "", "2025-05"]]), "not whole numbers"),
        (json.dumps([HEADER[:5] + ["time"], ["5700", "CHINA", "85", "X", "12.5", "2025-05"]]), "not whole numbers"),
        (json.dumps([HEADER[:5] + ["time"], ["5700", "CHINA", "85", "X", None, "2025-05"]]), "not whole numbers"),
        (json.dumps([HEADER[:5] + ["time"], ["5700", "CHINA", "85", "1"]]), "cells"),
        (json.dumps([["5700", "CHINA", "85 ELECTRICAL", "1"]]), "header"),
        (json.dumps([["CTY_CODE", "GEN_VAL_MO"], ["5700", "1"]]), "no period"),
        ('[["CTY_CODE","GEN_VAL_MO","time"],["5700","1","2025-05"],["5700"', "not a Census JSON"),
        ("<html><body>Missing key</body></html>", "not a Census JSON"),
    ],
    ids=["blank-value", "decimal-value", "null-value", "ragged-row", "no-header", "no-period", "truncated", "html"],
)
def test_broken_files_get_a_clear_error(tmp_path, body, message):
    with pytest.raises(ReleaseFormatError, match=message):
        parse(write(tmp_path, body))


def test_schema_drift_is_reported_by_column_name(tmp_path):
    renamed = [h if h != "CON_VAL_MO" else "CON_VAL_MOX" for h in HEADER]
    rows = [renamed, ["5700", "CHINA", "85", "E", "1", "1", "1", "1", "0", "X", "DET", "HS2", "2025-05"]]
    con = duckdb.connect()
    columns = census.parse_census_file(con, write(tmp_path, rows))
    with pytest.raises(ReleaseFormatError, match="CON_VAL_MO") as err:
        census.conform(con, census.IMPORTS, "census_parsed", columns, "census_imports_hs 2025-05")
    assert "schema drift" in str(err.value)


def census_samples() -> list[Path]:
    return sorted(p for p in REAL_SAMPLES.glob("census_*") if p.suffix in (".json", ".csv"))


@pytest.mark.parametrize("sample", census_samples(), ids=lambda p: p.name)
def test_conformance_real_census_samples(sample: Path):
    fmt = "csv" if sample.suffix == ".csv" else "json"
    columns, parsed, con = parse(sample, fmt)
    assert parsed, "the parser found no rows in a real sample"
    assert {"period", "cty_code", "gen_val_mo", "comm_lvl"} <= set(columns)
    # Real values: the all-countries total row of HS 030354 in May 2020, and no CGP group rows.
    assert con.execute("SELECT gen_val_mo FROM census_parsed WHERE cty_code = '-' AND period = '2020-05-01'"
                       ).fetchall() == [(1777493,)]
    assert con.execute("SELECT count(*) FROM census_parsed WHERE summary_lvl <> 'DET'").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM census_parsed WHERE cty_code = '5700'").fetchall() == [(6,)]


def test_the_csv_and_json_renderings_of_the_real_sample_agree():
    con = duckdb.connect()
    by_format = {}
    assert len(census_samples()) == 2  # the CSV and its JSON rendering
    for sample in census_samples():
        fmt = "csv" if sample.suffix == ".csv" else "json"
        census.parse_census_file(con, sample, fmt=fmt, table=f"t_{fmt}")
        by_format[fmt] = con.execute(f"SELECT * FROM t_{fmt} ORDER BY ALL").fetchall()
    assert by_format["csv"] == by_format["json"]
