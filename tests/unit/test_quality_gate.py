"""Great Expectations suites fail on bad releases; write-audit-publish quarantines them, with an audit trail."""

import json

import pytest

from expectations import suite_builders, suite_parameters
from expectations.runner import SuiteRunner
from tests.conftest import make_settings
from tradewatch import pipeline, quality
from tradewatch.errors import QualityGateFailed, TradewatchError
from tradewatch.warehouse import open_warehouse, previous_accepted, releases

#: The releases each dataset's fixture holds: two months, or for the annual HS10 imports two years.
PERIODS = {"census_imports_hs10_annual": ["2023-12", "2024-12"]}


def latest(dataset: str) -> str:
    """The release the crafted cases break: the second, so its bounds come from the first."""
    return PERIODS.get(dataset, ["2025-04", "2025-05"])[-1]


@pytest.fixture(scope="module")
def published(tmp_path_factory, small_archive):
    """A warehouse with 2025-04 and 2025-05 of every monthly dataset (2023 and 2024 of the annual one) loaded and
    published."""
    settings = make_settings(tmp_path_factory.mktemp("wap"), TRADEWATCH_ARCHIVE_DIR=str(small_archive),
                             TRADEWATCH_START_MONTH="2023-01")
    for dataset in pipeline.DATASETS:
        pipeline.fetch(settings, dataset, PERIODS.get(dataset, ["2025-04", "2025-05"]))
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    return settings


@pytest.fixture(scope="module")
def runners():
    return {name: SuiteRunner(name) for name in suite_builders()}


def candidate(settings, dataset, period):
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        release = releases(con, dataset=dataset)[[r["period"].strftime("%Y-%m") for r in
                                                  releases(con, dataset=dataset)].index(period)]
        frame = quality._candidate(con, dataset, release["release_id"])
        params = suite_parameters(dataset, period, previous_accepted(con, dataset, release["release_id"]))
    return frame, params


def test_every_raw_dataset_has_a_suite():
    assert set(suite_builders()) == set(pipeline.DATASETS)


@pytest.mark.parametrize("dataset", pipeline.DATASETS)
def test_good_releases_pass(published, runners, dataset):
    frame, params = candidate(published, dataset, latest(dataset))
    outcome = runners[dataset].run(frame, params)
    assert outcome.success, outcome.failed
    assert params["min_rows"] > 1  # bounds come from the previous accepted release (2025-04)
    if dataset == "census_imports_hs10_annual":  # ... here the previous year
        assert params["min_rows"] == int(len(frame) * 0.8) and params["min_total"] > 10**11


def _collapse(f, ds):
    return f.head(len(f) // 3)


def _drop_chapter(f, ds):
    return f[f["commodity"] != "85"]


def _drop_partner(f, ds):
    return f[f["cty_code"] != "5700"]


def _negative(f, ds):
    f = f.copy()
    f[ds.headline_var] = f[ds.headline_var].astype("float64")
    f.loc[f.index[3], ds.headline_var] = -5
    return f


def _duplicate(f, ds):
    import pandas as pd

    return pd.concat([f, f.head(1)])


def _wrong_period(f, ds):
    f = f.copy()
    f["period"] = "2025-04-01"
    return f


def _renamed(f, ds):
    return f.rename(columns={ds.headline_var: ds.headline_var + "_x"})


def _blank(f, ds):
    f = f.copy()
    f[ds.headline_var] = f[ds.headline_var].astype("Float64")
    f.loc[f.index[5], ds.headline_var] = None
    return f


def _bad_code(f, ds):
    f = f.copy()
    f.loc[f.index[0], "cty_code"] = "1XXX"  # a country-group code must never reach a DET release
    return f


def _value_halved(f, ds):
    f = f.copy()
    f[ds.headline_var] = f[ds.headline_var] // 3
    return f


BAD = {"collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between"),
       "missing-chapter": (_drop_chapter, "expect_column_distinct_values_to_contain_set"),
       "missing-partner": (_drop_partner, "expect_column_distinct_values_to_contain_set"),
       "negative-value": (_negative, "expect_column_values_to_be_between"),
       "duplicate-key": (_duplicate, "expect_compound_columns_to_be_unique"),
       "wrong-period": (_wrong_period, "expect_column_values_to_be_in_set"),
       "renamed-column": (_renamed, "expect_table_columns_to_match_set"),
       "blank-value": (_blank, "expect_column_values_to_not_be_null"),
       "group-country-code": (_bad_code, "expect_column_values_to_match_regex"),
       "dotted-hs-code": (lambda f, ds: f.assign(commodity=f["commodity"].str.replace(r"^(\d{4})", r"\1.",
                                                                                       regex=True)),
                          "expect_column_values_to_match_regex"),
       "total-value-collapse": (_value_halved, "expect_column_sum_to_be_between")}


def _bls_without(column_value):
    column, value = column_value
    return lambda f, ds: f[f[column] != value]


BAD_BLS = {"collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between"),
           "missing-series": (_bls_without(("series_id", "EIUCOCHNTOT")),
                              "expect_column_distinct_values_to_contain_set"),
           "missing-reference-month": (_bls_without(("period", "2025-05-01")),
                                       "expect_column_distinct_values_to_contain_set"),
           "unknown-series": (lambda f, ds: f.assign(series_id=f["series_id"].str.replace("WPUFD4", "WPUFD4X")),
                              "expect_column_values_to_be_in_set"),
           "negative-value": (_negative, "expect_column_values_to_be_between"),
           "duplicate-key": (_duplicate, "expect_compound_columns_to_be_unique"),
           "renamed-column": (_renamed, "expect_table_columns_to_match_set"),
           "blank-value": (_blank, "expect_column_values_to_not_be_null"),
           "level-collapse": (lambda f, ds: f.assign(value=f["value"] / 3), "expect_column_mean_to_be_between")}
BAD_NBS = {"collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between"),
           "missing-series": (_bls_without(("series_code", "PPI")), "expect_column_distinct_values_to_contain_set"),
           "missing-reference-month": (_bls_without(("period", "2025-05-01")),
                                       "expect_column_distinct_values_to_contain_set"),
           "index-out-of-range": (lambda f, ds: f.assign(value=f["value"].astype("float64") * 10),
                                  "expect_column_values_to_be_between"),
           "duplicate-key": (_duplicate, "expect_compound_columns_to_be_unique"),
           "blank-value": (_blank, "expect_column_values_to_not_be_null"),
           "renamed-column": (_renamed, "expect_table_columns_to_match_set")}
BAD_GACC = {"missing-partner": (_bls_without(("partner_iso3", "USA")),
                                "expect_column_distinct_values_to_contain_set"),
            "duplicate-region": (_duplicate, "expect_column_values_to_be_unique"),
            "negative-value": (_negative, "expect_column_values_to_be_between"),
            "unit-changed": (lambda f, ds: f.assign(value_multiplier=1e8), "expect_column_values_to_be_in_set"),
            "cny-edition": (lambda f, ds: f.assign(edition="CNY"), "expect_column_values_to_be_in_set"),
            "duplicate-partner": (lambda f, ds: f.assign(partner_iso3=f["partner_iso3"].where(
                f["partner_iso3"] != "HKG", "USA")), "expect_column_values_to_be_unique"),
            "month-above-year-to-date": (lambda f, ds: f.assign(exports_month=f["exports_ytd"] + 1),
                                         "expect_column_pair_values_a_to_be_greater_than_b"),
            "wrong-period": (lambda f, ds: f.assign(period="2025-04-01"), "expect_column_values_to_be_in_set"),
            "blank-partner-exports": (lambda f, ds: f.assign(exports_month=f["exports_month"].astype("Float64")
                                                             .where(f["partner_iso3"] != "USA")),
                                      "expect_column_values_to_not_be_null"),
            "total-in-wrong-unit": (lambda f, ds: f.assign(exports_month=f["exports_month"] * 1000),
                                    "expect_column_max_to_be_between"),
            "renamed-column": (_renamed, "expect_table_columns_to_match_set"),
            "collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between")}
BAD_COMTRADE = {"collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between"),
                "missing-flow": (_bls_without(("flow_code", "M")), "expect_column_distinct_values_to_contain_set"),
                "missing-partner": (_bls_without(("partner_iso3", "MEX")),
                                    "expect_column_distinct_values_to_contain_set"),
                "duplicate-key": (_duplicate, "expect_compound_columns_to_be_unique"),
                "negative-value": (_negative, "expect_column_values_to_be_between"),
                "wrong-reporter": (lambda f, ds: f.assign(reporter_code=842), "expect_column_values_to_be_in_set"),
                "wrong-period": (_wrong_period, "expect_column_values_to_be_in_set"),
                "blank-value": (_blank, "expect_column_values_to_not_be_null")}
BAD_USITC = {"missing-chapter-99": (lambda f, ds: f[~f["htsno"].str.startswith("9903")],
                                    "expect_column_distinct_values_to_contain_set"),
             "bad-htsno": (lambda f, ds: f.assign(htsno=f["htsno"].str.replace(".", "-")),
                           "expect_column_values_to_match_regex"),
             "duplicate-line": (_duplicate, "expect_column_values_to_be_unique"),
             "no-revision": (lambda f, ds: f.assign(hts_revision=None), "expect_column_values_to_not_be_null"),
             "collapsed-row-count": (lambda f, ds: f.head(5), "expect_table_row_count_to_be_between")}
BAD_GACC_PRELIMINARY = {
    "missing-item": (_bls_without(("item", "balance")), "expect_column_distinct_values_to_equal_set"),
    "unit-changed": (lambda f, ds: f.assign(value_multiplier=1e6), "expect_column_values_to_be_in_set"),
    "cny-edition": (lambda f, ds: f.assign(edition="CNY"), "expect_column_values_to_be_in_set"),
    "negative-exports": (lambda f, ds: f.assign(value_month=f["value_month"].where(f["item"] != "exports", -1.0)),
                         "expect_column_values_to_be_between"),
    "wrong-unit-magnitude": (lambda f, ds: f.assign(value_month=f["value_month"] * 100_000),
                             "expect_column_max_to_be_between"),
    "duplicate-item": (_duplicate, "expect_column_values_to_be_unique")}
BAD_GACC_COMMODITIES = {
    "missing-flow": (_bls_without(("flow", "import")), "expect_column_distinct_values_to_equal_set"),
    "duplicate-line": (_duplicate, "expect_compound_columns_to_be_unique"),
    "negative-value": (_negative, "expect_column_values_to_be_between"),
    "wrong-period": (_wrong_period, "expect_column_values_to_be_in_set"),
    "unit-changed": (lambda f, ds: f.assign(value_multiplier=1e8), "expect_column_values_to_be_in_set"),
    "cny-edition": (lambda f, ds: f.assign(edition="CNY"), "expect_column_values_to_be_in_set"),
    "quantity-lost": (lambda f, ds: f.assign(quantity_month=None), "expect_column_values_to_not_be_null"),
    "columns-swapped": (lambda f, ds: f.assign(value_month=f["value_ytd"], value_ytd=f["value_month"]),
                        "expect_column_pair_values_a_to_be_greater_than_b"),
    "wrong-unit-magnitude": (lambda f, ds: f.assign(value_month=f["value_month"] * 100),
                             "expect_column_max_to_be_between"),
    "renamed-column": (_renamed, "expect_table_columns_to_match_set"),
    "collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between")}


def _annual_without_chapters(count):
    def drop(f, ds):
        chapters = sorted(f["commodity"].str[:2].unique())[:count]
        return f[~f["commodity"].str[:2].isin(chapters)]
    return drop


def _annual_values(column, change):
    def apply(f, ds):
        f = f.copy()
        f[column] = change(f)
        return f
    return apply


BAD_ANNUAL = {
    "collapsed-row-count": (_collapse, "expect_table_row_count_to_be_between"),
    "chapters-missing": (_annual_without_chapters(7), "expect_column_value_prefixes_to_have_count_between"),
    "hs8-codes": (lambda f, ds: f.assign(commodity=f["commodity"].str[:8]), "expect_column_values_to_match_regex"),
    "monthly-period": (lambda f, ds: f.assign(period="2024-11-01"), "expect_column_values_to_match_regex"),
    "wrong-year": (lambda f, ds: f.assign(period="2023-12-01"), "expect_column_values_to_be_in_set"),
    "other-partner": (_bad_code, "expect_column_values_to_be_in_set"),
    "negative-value": (_negative, "expect_column_values_to_be_between"),
    "decimal-values": (_annual_values("gen_val_yr", lambda f: f["gen_val_yr"] + 0.5),
                       "expect_column_values_to_be_in_type_list"),
    "duplicate-line": (_duplicate, "expect_compound_columns_to_be_unique"),
    "dutiable-above-consumption": (_annual_values("dut_val_yr", lambda f: f["con_val_yr"] + 1),
                                   "expect_column_pair_values_a_to_be_greater_than_b"),
    "duty-above-dutiable-widely": (_annual_values("cal_dut_yr", lambda f: f["dut_val_yr"] + 1),
                                   "expect_column_pair_values_a_to_be_greater_than_b"),
    "renamed-column": (_renamed, "expect_table_columns_to_match_set"),
    "blank-value": (_blank, "expect_column_values_to_not_be_null"),
    "year-total-collapse": (_value_halved, "expect_column_sum_to_be_between"),
    "year-in-thousands": (_annual_values("con_val_yr", lambda f: f["con_val_yr"] * 1000),
                          "expect_column_sum_to_be_between")}
CASES = [(ds, case, BAD[case]) for ds in ("census_imports_hs", "census_exports_hs") for case in BAD] + [
    ("census_imports_hs10_annual", case, BAD_ANNUAL[case]) for case in BAD_ANNUAL] + [
    ("bls_series", case, BAD_BLS[case]) for case in BAD_BLS] + [
    ("nbs_price_indexes", case, BAD_NBS[case]) for case in BAD_NBS] + [
    ("gacc_trade_by_country", case, BAD_GACC[case]) for case in BAD_GACC] + [
    ("gacc_preliminary", case, BAD_GACC_PRELIMINARY[case]) for case in BAD_GACC_PRELIMINARY] + [
    ("gacc_major_commodities", case, BAD_GACC_COMMODITIES[case]) for case in BAD_GACC_COMMODITIES] + [
    ("comtrade_cn_monthly", case, BAD_COMTRADE[case]) for case in BAD_COMTRADE] + [
    ("usitc_hts_lines", case, BAD_USITC[case]) for case in BAD_USITC]


def test_every_dataset_has_crafted_bad_releases():
    assert {ds for ds, _, _ in CASES} == set(pipeline.DATASETS)


@pytest.mark.parametrize(("dataset", "case", "bad"), CASES, ids=[f"{ds}-{case}" for ds, case, _ in CASES])
def test_each_crafted_bad_release_fails_for_its_reason(published, runners, dataset, case, bad):
    from tradewatch import sources

    breaker, expectation = bad
    frame, params = candidate(published, dataset, latest(dataset))
    outcome = runners[dataset].run(breaker(frame, sources.dataset(dataset)), params)
    assert not outcome.success
    assert any(line.startswith(expectation) for line in outcome.failed), outcome.failed


def test_duty_above_dutiable_value_fails_the_imports_suite(published, runners):
    frame, params = candidate(published, "census_imports_hs", "2025-05")
    frame = frame.copy()
    frame.loc[frame.index[2], "cal_dut_mo"] = frame.loc[frame.index[2], "dut_val_mo"] + 1
    outcome = runners["census_imports_hs"].run(frame, params)
    assert any("cal_dut_mo" in line for line in outcome.failed)


def _revise_month(archive, dataset_dir, month, keep_rows):
    for level in ("HS2", "HS6"):
        path = archive / f"census/{dataset_dir}/{month}_{level}.json"
        rows = json.loads(path.read_text())
        path.write_text(json.dumps(rows[: keep_rows + 1]))


def test_a_failing_release_is_quarantined_audited_and_can_be_released(tmp_path, archive_copy):
    settings = make_settings(tmp_path / "d", TRADEWATCH_ARCHIVE_DIR=str(archive_copy))
    pipeline.fetch(settings, "census_exports_hs", ["2025-04"])
    pipeline.load(settings, "census_exports_hs")
    pipeline.validate(settings, "census_exports_hs")
    _revise_month(archive_copy, "exports_hs", "2025-05", keep_rows=40)
    pipeline.fetch(settings, "census_exports_hs", ["2025-05"])
    pipeline.load(settings, "census_exports_hs")
    with pytest.raises(QualityGateFailed, match="quarantined") as exc:
        pipeline.validate(settings, "census_exports_hs")
    [rid] = exc.value.failed_release_ids
    assert "census_exports_hs 2025-05" in str(exc.value) and "tradewatch quality release" in str(exc.value)

    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        status = dict(con.execute("SELECT release_id, status FROM audit.releases").fetchall())
        validation = con.execute("SELECT success, failed, result_path FROM audit.validations WHERE release_id = ?",
                                 [rid]).fetchall()
    assert status[rid] == "quarantined" and list(status.values()).count("published") == 1
    assert validation[0][0] is False and validation[0][1] >= 1
    assert json.loads(open(validation[0][2]).read())["success"] is False
    index = (quality.docs_dir(settings) / "index.html").read_text()
    assert "census_exports_hs" in index and rid.replace(":", "") in index.replace(":", "")

    with pytest.raises(QualityGateFailed):  # still broken: re-validation fails again, and is audited
        quality.revalidate(settings, rid, "tester")
    with pytest.raises(TradewatchError, match="reason"):
        quality.release_quarantined(settings, rid, "  ", "tester")
    quality.release_quarantined(settings, rid, "partial release confirmed by Census", "tester")
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        assert con.execute("SELECT status FROM audit.releases WHERE release_id = ?", [rid]).fetchall() == [
            ("released",)]
        decisions = con.execute("SELECT action, reason, decided_by FROM audit.release_decisions "
                                "ORDER BY decided_at").fetchall()
    assert [d[0] for d in decisions] == ["revalidate", "release"]
    assert decisions[1][1:] == ("partial release confirmed by Census", "tester")
    with pytest.raises(TradewatchError, match="not quarantined"):
        quality.release_quarantined(settings, rid, "again", "tester")
