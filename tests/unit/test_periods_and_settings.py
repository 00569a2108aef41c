from datetime import date, datetime

import pytest

from tradewatch.errors import ConfigurationError
from tradewatch.periods import Month, add_months, month_range, parse_month, reference_month
from tradewatch.redact import redact, strip_secret_params
from tradewatch.settings import Secret, get_settings


def test_parse_month_accepts_only_yyyy_mm():
    assert parse_month("2025-05") == date(2025, 5, 1)
    for bad in ["2025-13", "2025-5", "202505", "2025-05'; DROP TABLE x;--", "", "May 2025"]:
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)


def test_a_month_is_the_date_of_its_first_day_and_stays_a_month():
    import pickle
    from datetime import timedelta

    import duckdb

    may = parse_month("2025-05")
    assert isinstance(may, Month) and may == date(2025, 5, 1) and hash(may) == hash(date(2025, 5, 1))
    assert may.text == "2025-05" and Month.of("2025-05") == may and Month.of(date(2025, 5, 17)) == may
    assert isinstance(add_months(may, -5), Month) and add_months(may, -5).text == "2024-12"
    assert all(isinstance(m, Month) for m in month_range(date(2024, 11, 1), may))
    assert isinstance(reference_month(datetime(2025, 7, 10, 6), 2), Month)
    assert pickle.loads(pickle.dumps(may)) == may and isinstance(pickle.loads(pickle.dumps(may)), Month)
    day = may + timedelta(days=9)  # a day, not a month: a plain date
    assert type(day) is date and day == date(2025, 5, 10)
    assert duckdb.sql("SELECT ?::DATE", params=[may]).fetchall() == [(date(2025, 5, 1),)]  # stored as DATE


def test_reference_month_comes_from_the_logical_date_and_lag():
    # Airflow 3 cron runs have a zero-length data interval: the month is derived from the logical date.
    assert reference_month(datetime(2025, 7, 10, 6), 2) == date(2025, 5, 1)
    assert reference_month(date(2025, 1, 10), 2) == date(2024, 11, 1)
    assert add_months(date(2024, 12, 1), 1) == date(2025, 1, 1)
    assert len(list(month_range(date(2017, 1, 1), date(2026, 9, 1)))) == 117


def test_settings_defaults_and_overrides(tmp_path):
    s = get_settings({"TRADEWATCH_DATA_DIR": str(tmp_path)})
    assert s.duckdb_path == tmp_path / "warehouse.duckdb"
    assert s.source_mode == "replay"
    assert s.sources["census"].base_url == "https://api.census.gov/data/timeseries/intltrade"
    assert s.sources["bls"].base_url == "https://api.bls.gov/publicAPI/v2"
    assert s.sources["census"].lag_months == 2
    assert not s.sources["census"].api_key and not s.sources["bls"].api_key
    assert s.dbt_memory_limit == "1GB"
    assert get_settings({"TRADEWATCH_DBT_MEMORY_LIMIT": "1500MB"}).dbt_memory_limit == "1500MB"
    assert get_settings({"TRADEWATCH_PUBLISH_MEMORY_LIMIT": "2GB"}).publish_memory_limit == "2GB"
    assert s.diversion_base_year == 2017 and s.anomalies.low_base_usd == 5e6
    other = get_settings({"TRADEWATCH_DIVERSION_BASE_YEAR": "2016", "TRADEWATCH_ANOMALY_LOW_BASE_USD": "0"})
    assert (other.diversion_base_year, other.anomalies.low_base_usd) == (2016, 0)
    from tradewatch.transform import dbt_env

    assert dbt_env(other)["TRADEWATCH_DIVERSION_BASE_YEAR"] == "2016"  # dbt reads it as a var (dbt_project.yml)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRADEWATCH_SOURCE_MODE", "sometimes", "replay"),
        ("TRADEWATCH_START_MONTH", "2017", "YYYY-MM"),
        ("TRADEWATCH_CENSUS_LAG_MONTHS", "two", "whole number"),
        ("TRADEWATCH_CENSUS_LAG_MONTHS", "40", "0 to 12"),
        ("TRADEWATCH_CENSUS_BASE_URL", "ftp://example", "https://"),
        ("TRADEWATCH_BLS_LAG_MONTHS", "-1", "0 to 12"),
        ("TRADEWATCH_DBT_MEMORY_LIMIT", "lots", "memory size"),
        ("TRADEWATCH_PUBLISH_MEMORY_LIMIT", "1 GB; DROP", "memory size"),
        ("TRADEWATCH_DIVERSION_BASE_YEAR", "17", "a year the warehouse holds"),
        ("TRADEWATCH_ANOMALY_LOW_BASE_USD", "-1", "LOW_BASE_USD a US\\$ amount"),
    ],
)
def test_bad_settings_say_what_to_do(tmp_path, name, value, message):
    with pytest.raises(ConfigurationError, match=message):
        get_settings({"TRADEWATCH_DATA_DIR": str(tmp_path), name: value})


def test_secrets_never_show_themselves(tmp_path):
    key, bls_key = "a" * 40, "b" * 32
    s = get_settings({"TRADEWATCH_DATA_DIR": str(tmp_path), "CENSUS_API_KEY": key, "BLS_API_KEY": bls_key})
    for secret in (key, bls_key):
        assert secret not in repr(s) and secret not in f"{s}"
    assert s.sources["census"].api_key.reveal() == key
    assert sorted(s.secrets) == sorted([key, bls_key])
    assert repr(Secret(None)) == "Secret(None)"


def test_redaction_of_urls_and_text():
    url = "https://api.census.gov/data/x?get=A&key=SECRETKEY123&time=2025-05"
    assert "SECRETKEY123" not in strip_secret_params(url)
    assert "time=2025-05" in strip_secret_params(url)
    assert redact(f"failed on {url}", ["SECRETKEY123"]).count("SECRETKEY123") == 0
    assert "key=***" in redact("GET /x?key=abc&y=1", [])


def test_the_refresh_schedule_is_configuration():
    from tradewatch.errors import ConfigurationError
    from tradewatch.settings import DEFAULT_REFRESH_CRON, refresh_cron

    assert refresh_cron({}) == DEFAULT_REFRESH_CRON == "0 6 10 * *"
    assert refresh_cron({"TRADEWATCH_REFRESH_CRON": "30 7 12 * *"}) == "30 7 12 * *"
    assert refresh_cron({"TRADEWATCH_REFRESH_CRON": "none"}) is None  # triggered by hand or through the API only
    with pytest.raises(ConfigurationError, match="five-field cron"):
        refresh_cron({"TRADEWATCH_REFRESH_CRON": "every month; rm -rf /"})


def test_the_gacc_index_urls_are_settings():
    default = get_settings({}).sources["gacc"].pages
    assert default == {"index": "http://english.customs.gov.cn/statics/report/preliminary.html",
                       "year_index": "http://english.customs.gov.cn/statics/report/preliminary{year}.html"}
    mirror = get_settings({"TRADEWATCH_GACC_BASE_URL": "http://127.0.0.1:9/gacc/"}).sources["gacc"].pages
    assert mirror["index"] == "http://127.0.0.1:9/gacc/statics/report/preliminary.html"  # under the base URL
    monthly = get_settings({"TRADEWATCH_GACC_INDEX_URL": "http://m.example/monthly.html",
                            "TRADEWATCH_GACC_YEAR_INDEX_URL": "http://m.example/monthly{year}.html"})
    assert monthly.sources["gacc"].pages == {"index": "http://m.example/monthly.html",
                                             "year_index": "http://m.example/monthly{year}.html"}
    with pytest.raises(ConfigurationError, match="with \\{year\\}"):
        get_settings({"TRADEWATCH_GACC_YEAR_INDEX_URL": "http://m.example/monthly.html"})
    with pytest.raises(ConfigurationError, match="TRADEWATCH_GACC_INDEX_URL='http://m.example/\\{year\\}.html'"):
        get_settings({"TRADEWATCH_GACC_INDEX_URL": "http://m.example/{year}.html"})  # the current year's has none
    assert get_settings({}).sources["census"].pages == {}
