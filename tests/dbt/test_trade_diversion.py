"""The rerouting monitor over 2017-2019: the sample's 2018 shifts (washing machines to Vietnam, refrigerator-freezers
to Mexico, from the September 2018 tariff round) are found, and nothing else is. (Against the base year, once the
year-on-year change has passed, they are the demo's; the mart's hand-made dbt unit test covers that horizon.)"""

from datetime import date

import duckdb
import pytest

from tests.conftest import make_settings
from tradewatch import pipeline, transform
from tradewatch.periods import format_month, month_range
from tradewatch.sample import write_sample_archive

pytestmark = pytest.mark.slow
START, END = date(2017, 1, 1), date(2019, 12, 1)
#: what the monitor reads: Census imports, China's Comtrade detail and GACC's country table
DATASETS = ("census_imports_hs", "comtrade_cn_monthly", "gacc_trade_by_country")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("diversion")
    write_sample_archive(root / "archive", START, END)
    settings = make_settings(root / "data", TRADEWATCH_ARCHIVE_DIR=str(root / "archive"),
                             TRADEWATCH_START_MONTH="2017-01")
    months = [format_month(m) for m in month_range(START, END)]
    for dataset in DATASETS:
        pipeline.fetch(settings, dataset, months)
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    transform.run_dbt(settings, "build", "--select", "+trade_diversion_monthly")
    return settings


def query(settings, sql):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_2018_shifts_are_found_and_nothing_else(warehouse):
    flagged = query(warehouse, "SELECT DISTINCT hs_code, rerouting_partner_iso3, rerouting_confidence FROM "
                               "marts.trade_diversion_monthly WHERE hs_level = 'HS6' AND rerouting_signal ORDER BY 1")
    assert flagged == [("841810", "MEX", "high"), ("845011", "VNM", "high")]  # and no other line, ever
    december = query(warehouse, "SELECT hs_code, rerouting_horizon, china_share_change_since_base_pts, "
                                "rerouting_explanation FROM marts.trade_diversion_monthly WHERE hs_level = 'HS6' "
                                "AND rerouting_signal AND period_month = '2019-12-01' ORDER BY 1")
    assert [row[0] for row in december] == ["841810", "845011"]
    assert all(row[2] < -10 for row in december)
    first = query(warehouse, "SELECT min(period_month) FROM marts.trade_diversion_monthly WHERE rerouting_signal")
    assert first[0][0] >= date(2018, 9, 1)  # not before the tariff round that moved them
    horizons = query(warehouse, "SELECT DISTINCT rerouting_horizon FROM marts.trade_diversion_monthly "
                                "WHERE rerouting_signal")
    assert horizons == [("yoy",)]  # within a year of the move the new change leads; 2017 is the base year itself
    base = query(warehouse, "SELECT count(*) FILTER (WHERE year(period_month) = 2017), count(*) FROM "
                            "marts.trade_diversion_monthly WHERE china_share_change_since_base_pts IS NOT NULL")
    assert base[0][0] > 0 and base[0][1] > base[0][0]  # every month is compared with the whole of 2017
    assert query(warehouse, "SELECT rerouting_lines FROM marts.trade_diversion_monthly WHERE hs_level = 'HS2' "
                            "AND hs_code = '84' AND period_month = '2019-12-01'") == [(2,)]
