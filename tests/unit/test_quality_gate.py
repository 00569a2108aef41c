"""Great Expectations suites fail on bad releases; write-audit-publish quarantines them, with an audit trail.

The gate validates chunks of releases (a row-level suite over every row, a release-level suite over one summary row
per release): every crafted bad release below is validated in one chunk with the good release before it, and must
fail for its reason while the good one passes, unless what is wrong is the table itself (its columns, a column's
type), which judges every release of the chunk."""

import json

import pandas as pd
import pytest

from expectations import datasets, suites_for
from expectations.runner import Release, SuiteRunner
from tests.conftest import make_settings
from tradewatch import pipeline, quality, sources
from tradewatch.audit import releases
from tradewatch.errors import QualityGateFailed, TradewatchError
from tradewatch.warehouse import open_warehouse

#: The releases each dataset's fixture holds: two months, or for the annual HS10 imports two years.
PERIODS = {"census_imports_hs10_annual": ["2023-12", "2024-12"]}
#: Expectations about the table itself (its columns, a column's type): they judge every release of the chunk.
CHUNK_WIDE = ("expect_table_columns_to_match_set", "expect_column_values_to_be_in_type_list")


def periods(dataset: str) -> list[str]:
    return PERIODS.get(dataset, ["2025-04", "2025-05"])


@pytest.fixture(scope="module")
def published(tmp_path_factory, small_archive):
    """A warehouse with 2025-04 and 2025-05 of every monthly dataset (2023 and 2024 of the annual one) loaded and
    validated by the gate."""
    settings = make_settings(tmp_path_factory.mktemp("wap"), TRADEWATCH_ARCHIVE_DIR=str(small_archive),
                             TRADEWATCH_START_MONTH="2023-01")
    for dataset in pipeline.DATASETS:
        pipeline.fetch(settings, dataset, periods(dataset))
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    return settings


@pytest.fixture(scope="module")
def runners():
    return {name: SuiteRunner(name) for name in datasets()}


def chunk(settings, dataset) -> tuple[pd.DataFrame, pd.DataFrame, list[Release]]:
    """The rows of the dataset's two releases as the gate reads them (the earlier's, the later's) and the two as
    candidates of one chunk."""
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        found = sorted(releases(con, dataset=dataset), key=lambda r: (r["period"], r["vintage"]))
        frame = quality.read_rows(con, dataset, [r["release_id"] for r in found])
    frame = frame.astype({c: "str" for c, kind in frame.dtypes.items() if kind == "category"})  # to break them
    first, later = (frame[frame["release_id"] == r["release_id"]].reset_index(drop=True) for r in found)
    return first, later, [Release(r["release_id"], f"{r['period']:%Y-%m}", r["vintage"]) for r in found]


def test_every_raw_dataset_has_its_two_suites():
    assert set(datasets()) == set(pipeline.DATASETS)
    for dataset in datasets():
        suites = suites_for(dataset)
        assert suites.row_suite().name == f"{dataset}.rows" and suites.release_suite().name == f"{dataset}.release"
        assert suites.columns[0] == "release_id"


@pytest.mark.parametrize("dataset", pipeline.DATASETS)
def test_good_releases_pass_each_with_its_own_validation_row(published, dataset):
    with open_warehouse(published.duckdb_path, read_only=True) as con:
        found = con.execute("SELECT r.release_id, r.status, v.success, v.evaluated, v.chunk_id, v.results FROM "
                            "audit.releases r JOIN audit.validations v USING (release_id) WHERE r.dataset = ? "
                            "ORDER BY r.period", [dataset]).fetchall()
        runs = con.execute("SELECT kind, success, releases FROM audit.validation_chunks WHERE dataset = ? "
                           "ORDER BY kind DESC", [dataset]).fetchall()
    assert [(status, ok) for _, status, ok, *_ in found] == [("published", True)] * 2
    assert len({chunk_id for *_, chunk_id, _ in found}) == 1  # one chunk, two verdicts
    assert runs == [("rows", True, 2), ("release", True, 2)]
    first, later = (json.loads(results)["summary"] for *_, results in found)
    assert first["previous_release_id"] is None and first["rows_vs_previous"] is None  # nothing to compare with
    assert later["previous_release_id"] == found[0][0]  # the earlier release of the same chunk
    assert later["rows_vs_previous"] == pytest.approx(later["row_count"] / first["row_count"])


def _collapse(f, ds):
    return f.head(len(f) // 3)


def _drop_chapter(f, ds):
    return f[f["commodity"] != "85"]


def _drop_partner(f, ds):
    return f[f["cty_code"] != "5700"]


def _negative(f, ds):
    f = f.copy()
    f.loc[f.index[3], ds.headline_var] = -5
    return f


def _duplicate(f, ds):
    return pd.concat([f, f.head(1)])


def _wrong_period(f, ds):
    f = f.copy()
    f["period"] = "2025-04-01"
    return f


def _renamed(f, ds):
    return f.rename(columns={ds.headline_var: ds.headline_var + "_x"})


def _blank(f, ds):
    """A missing value, as a NULL in raw reaches the gate (a NaN: Arrow gives a float column)."""
    f = f.copy()
    f[ds.headline_var] = f[ds.headline_var].astype("float64")
    f.loc[f.index[5], ds.headline_var] = float("nan")
    return f


def _bad_code(f, ds):
    f = f.copy()
    f.loc[f.index[0], "cty_code"] = "1XXX"  # a country-group code must never reach a DET release
    return f


def _value_halved(f, ds):
    f = f.copy()
    f[ds.headline_var] = f[ds.headline_var] // 3
    return f


def _without(column, value):
    return lambda f, ds: f[f[column] != value]


#: What each case must fail, as (expectation, column): row-level expectations name a raw column, release-level ones
#: a column of the summary (one row per release); None where the expectation has no single column.
TABLE = ("expect_table_columns_to_match_set", None)
DUPLICATE = ("expect_compound_columns_to_be_unique", None)
WRONG_PERIOD = ("expect_column_pair_values_to_be_equal", "periods")
ROWS_VS_PREVIOUS = ("expect_column_values_to_be_between", "rows_vs_previous")
TOTAL_VS_PREVIOUS = ("expect_column_values_to_be_between", "total_vs_previous")


def missing(column):
    return "expect_column_values_to_be_null", column


def between(column):
    return "expect_column_values_to_be_between", column


def in_set(column):
    return "expect_column_values_to_be_in_set", column


def not_null(column):
    return "expect_column_values_to_not_be_null", column


def regex(column):
    return "expect_column_values_to_match_regex", column


PAIR = ("expect_column_pair_values_a_to_be_greater_than_b", None)

BAD = {"collapsed-row-count": (_collapse, ROWS_VS_PREVIOUS),
       "missing-chapter": (_drop_chapter, missing("missing_chapters")),
       "missing-partner": (_drop_partner, missing("missing_partners")),
       "negative-value": (_negative, between("{headline}")),
       "duplicate-key": (_duplicate, DUPLICATE),
       "wrong-period": (_wrong_period, WRONG_PERIOD),
       "renamed-column": (_renamed, TABLE),
       "blank-value": (_blank, not_null("{headline}")),
       "group-country-code": (_bad_code, regex("cty_code")),
       "dotted-hs-code": (lambda f, ds: f.assign(commodity=f["commodity"].str.replace(r"^(\d{4})", r"\1.",
                                                                                       regex=True)),
                          regex("commodity")),
       "total-value-collapse": (_value_halved, TOTAL_VS_PREVIOUS)}
BAD_BLS = {"collapsed-row-count": (_collapse, ("expect_column_pair_values_to_be_equal", "row_count")),
           "missing-series": (_without("series_id", "EIUCOCHNTOT"), missing("missing_series")),
           "missing-reference-month": (_without("period", "2025-05-01"), between("release_month_rows")),
           "unknown-series": (lambda f, ds: f.assign(series_id=f["series_id"].str.replace("WPUFD4", "WPUFD4X")),
                              in_set("series_id")),
           "negative-value": (_negative, between("value")),
           "duplicate-key": (_duplicate, DUPLICATE),
           "renamed-column": (_renamed, TABLE),
           "blank-value": (_blank, not_null("value")),
           "level-collapse": (lambda f, ds: f.assign(value=f["value"] / 3), between("mean_vs_previous"))}
BAD_NBS = {"collapsed-row-count": (_collapse, between("row_count")),
           "missing-series": (_without("series_code", "PPI"), missing("missing_series")),
           "missing-reference-month": (_without("period", "2025-05-01"), between("release_month_rows")),
           "index-out-of-range": (lambda f, ds: f.assign(value=f["value"] * 10), between("value")),
           "duplicate-key": (_duplicate, DUPLICATE),
           "blank-value": (_blank, not_null("value")),
           "renamed-column": (_renamed, TABLE)}
BAD_GACC = {"missing-partner": (_without("partner_iso3", "USA"), missing("missing_partners")),
            "duplicate-region": (_duplicate, DUPLICATE),
            "negative-value": (_negative, between("exports_month")),
            "unit-changed": (lambda f, ds: f.assign(value_multiplier=1e8), in_set("value_multiplier")),
            "cny-edition": (lambda f, ds: f.assign(edition="CNY"), in_set("edition")),
            "duplicate-partner": (lambda f, ds: f.assign(partner_iso3=f["partner_iso3"].where(
                f["partner_iso3"] != "HKG", "USA")), DUPLICATE),
            "month-above-year-to-date": (lambda f, ds: f.assign(exports_month=f["exports_ytd"] + 1), PAIR),
            "wrong-period": (lambda f, ds: f.assign(period="2025-04-01"), WRONG_PERIOD),
            "blank-partner-exports": (lambda f, ds: f.assign(exports_month=f["exports_month"]
                                                             .where(f["partner_iso3"] != "USA")),
                                      not_null("exports_month")),
            "total-in-wrong-unit": (lambda f, ds: f.assign(exports_month=f["exports_month"] * 1000),
                                    between("largest_exports_per_month")),
            "renamed-column": (_renamed, TABLE),
            "collapsed-row-count": (_collapse, ROWS_VS_PREVIOUS)}
BAD_COMTRADE = {"collapsed-row-count": (_collapse, ROWS_VS_PREVIOUS),
                "missing-flow": (_without("flow_code", "M"), missing("missing_flows")),
                "missing-partner": (_without("partner_iso3", "MEX"), missing("missing_partners")),
                "duplicate-key": (_duplicate, DUPLICATE),
                "negative-value": (_negative, between("primary_value")),
                "wrong-reporter": (lambda f, ds: f.assign(reporter_code=842), in_set("reporter_code")),
                "wrong-period": (_wrong_period, WRONG_PERIOD),
                "blank-value": (_blank, not_null("primary_value"))}
BAD_USITC = {"missing-chapter-99": (lambda f, ds: f[~f["htsno"].str.startswith("9903")], missing("missing_lines")),
             "bad-htsno": (lambda f, ds: f.assign(htsno=f["htsno"].str.replace(".", "-")), regex("htsno")),
             "duplicate-line": (_duplicate, DUPLICATE),
             "no-revision": (lambda f, ds: f.assign(hts_revision=None), not_null("hts_revision")),
             "collapsed-row-count": (lambda f, ds: f.head(5), ROWS_VS_PREVIOUS)}
BAD_GACC_PRELIMINARY = {
    "missing-item": (_without("item", "balance"), missing("missing_items")),
    "unit-changed": (lambda f, ds: f.assign(value_multiplier=1e6), in_set("value_multiplier")),
    "cny-edition": (lambda f, ds: f.assign(edition="CNY"), in_set("edition")),
    "negative-exports": (lambda f, ds: f.assign(value_month=f["value_month"].where(f["item"] != "exports", -1.0)),
                         between("value_month")),
    "wrong-unit-magnitude": (lambda f, ds: f.assign(value_month=f["value_month"] * 100_000), between("largest")),
    "duplicate-item": (_duplicate, DUPLICATE)}
BAD_GACC_COMMODITIES = {
    "missing-flow": (_without("flow", "import"), missing("missing_flows")),
    "duplicate-line": (_duplicate, DUPLICATE),
    "negative-value": (_negative, between("value_month")),
    "wrong-period": (_wrong_period, WRONG_PERIOD),
    "unit-changed": (lambda f, ds: f.assign(value_multiplier=1e8), in_set("value_multiplier")),
    "cny-edition": (lambda f, ds: f.assign(edition="CNY"), in_set("edition")),
    "quantity-lost": (lambda f, ds: f.assign(quantity_month=None), not_null("quantity_month")),
    "columns-swapped": (lambda f, ds: f.assign(value_month=f["value_ytd"], value_ytd=f["value_month"]), PAIR),
    "wrong-unit-magnitude": (lambda f, ds: f.assign(value_month=f["value_month"] * 100),
                             between("largest_line_per_month")),
    "renamed-column": (_renamed, TABLE),
    "collapsed-row-count": (_collapse, ROWS_VS_PREVIOUS)}


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
    "collapsed-row-count": (_collapse, ROWS_VS_PREVIOUS),
    "chapters-missing": (_annual_without_chapters(7), between("chapters")),
    "hs8-codes": (lambda f, ds: f.assign(commodity=f["commodity"].str[:8]), regex("commodity")),
    "monthly-period": (lambda f, ds: f.assign(period="2024-11-01"), regex("period")),
    "wrong-year": (lambda f, ds: f.assign(period="2023-12-01"), WRONG_PERIOD),
    "other-partner": (_bad_code, in_set("cty_code")),
    "negative-value": (_negative, between("con_val_yr")),
    "decimal-values": (_annual_values("gen_val_yr", lambda f: f["gen_val_yr"] + 0.5),
                       ("expect_column_values_to_be_in_type_list", "gen_val_yr")),
    "duplicate-line": (_duplicate, DUPLICATE),
    "dutiable-above-consumption": (_annual_values("dut_val_yr", lambda f: f["con_val_yr"] + 1), PAIR),
    "duty-above-dutiable-widely": (_annual_values("cal_dut_yr", lambda f: f["dut_val_yr"] + 1),
                                   between("duty_above_dutiable_share")),
    "renamed-column": (_renamed, TABLE),
    "blank-value": (_blank, not_null("con_val_yr")),
    "year-total-collapse": (_value_halved, TOTAL_VS_PREVIOUS),
    "year-in-thousands": (_annual_values("con_val_yr", lambda f: f["con_val_yr"] * 1000), TOTAL_VS_PREVIOUS)}
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


def fails_for(lines: list[str], expectation: str, column: str | None) -> bool:
    return any(line.startswith(expectation + "(") and (column is None or f'"column": "{column}"' in line
                                                       or f'"column_A": "{column}"' in line) for line in lines)


def judge(runner, settings, dataset, breaker=None):
    """The dataset's two releases validated as one chunk, the later one broken by `breaker`: their verdicts."""
    first, later, candidates = chunk(settings, dataset)
    if breaker is not None:
        later = breaker(later, sources.dataset(dataset))
    outcome = runner.validate(pd.concat([first, later], ignore_index=True), candidates, [], "test-chunk")
    return outcome, {v.release_id: v for v in outcome.verdicts}, [c.release_id for c in candidates]


@pytest.mark.parametrize(("dataset", "case", "bad"), CASES, ids=[f"{ds}-{case}" for ds, case, _ in CASES])
def test_each_crafted_bad_release_fails_for_its_reason_alone(published, runners, dataset, case, bad):
    breaker, (expectation, column) = bad
    column = column and column.format(headline=sources.dataset(dataset).headline_var)
    outcome, verdicts, (good, broken) = judge(runners[dataset], published, dataset, breaker)
    assert not verdicts[broken].success
    assert fails_for(verdicts[broken].failed, expectation, column), verdicts[broken].failed
    if expectation in CHUNK_WIDE:  # the table itself is wrong: every release of the chunk fails for it
        assert fails_for(verdicts[good].failed, expectation, column)
    assert all(line.startswith(CHUNK_WIDE) for line in verdicts[good].failed), verdicts[good].failed
    assert not all(run.success for run in outcome.runs)  # and the chunk's page shows the failure


def test_duty_above_dutiable_value_fails_the_imports_suite(published, runners):
    def breaker(f, ds):
        f = f.copy()
        f.loc[f.index[2], "cal_dut_mo"] = f.loc[f.index[2], "dut_val_mo"] + 1
        return f

    _, verdicts, (good, broken) = judge(runners["census_imports_hs"], published, "census_imports_hs", breaker)
    assert verdicts[good].success
    [line] = verdicts[broken].failed
    assert fails_for([line], *PAIR) and '"cal_dut_mo"' in line and '"unexpected_count": 1' in line


def test_unexpected_rows_are_charged_to_their_own_release(published, runners):
    """Two releases break the same expectation, each on its own rows: each is told its own count and values."""
    first, later, candidates = chunk(published, "census_exports_hs")
    first, later = first.copy(), later.copy()
    first.loc[first.index[:2], "cty_code"] = [f"1X{i}" for i in range(2)]  # group codes, each on its own key
    later.loc[later.index[:5], "cty_code"] = [f"2Y{i}" for i in range(5)]
    outcome = runners["census_exports_hs"].validate(pd.concat([first, later]), candidates, [], "test-chunk")
    lines = {v.release_id: v.failed for v in outcome.verdicts}
    [one], [other] = (lines[c.release_id] for c in candidates)
    assert '"unexpected_count": 2' in one and "1X1" in one and "2Y" not in one
    assert '"unexpected_count": 5' in other and "2Y4" in other and "1X" not in other


def test_a_failed_release_is_never_the_comparison_base_of_the_next(published, runners):
    """A collapsed month between two good ones: the month after it is compared with the month before it, as a
    monthly run would after the quarantine, so only the collapsed month fails."""
    first, later, (a, b) = chunk(published, "census_exports_hs")
    middle = _collapse(later, None).assign(release_id="collapsed", period="2025-05-01")
    after = later.assign(release_id="after", period="2025-06-01")
    candidates = [a, Release("collapsed", "2025-05", 1), Release("after", "2025-06", 1)]
    outcome = runners["census_exports_hs"].validate(pd.concat([first, middle, after]), candidates, [], "test-chunk")
    verdicts = {v.release_id: v for v in outcome.verdicts}
    assert [verdicts[r].success for r in (a.release_id, "collapsed", "after")] == [True, False, True]
    assert verdicts["collapsed"].summary["previous_release_id"] == a.release_id
    assert verdicts["after"].summary["previous_release_id"] == a.release_id
    assert fails_for(verdicts["collapsed"].failed, *ROWS_VS_PREVIOUS)
    # against an accepted release of an earlier chunk, the same
    accepted = [Release(a.release_id, a.period, a.vintage, len(first), float(first["all_val_mo"].sum()))]
    outcome = runners["census_exports_hs"].validate(pd.concat([middle, after]), candidates[1:], accepted, "c2")
    assert [v.success for v in outcome.verdicts] == [False, True]


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
