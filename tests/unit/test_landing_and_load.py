"""Landing is content-addressed; loads are transactional, idempotent, and keep every vintage."""

import json
import shutil

import duckdb
import pytest

from tradewatch import pipeline
from tradewatch.audit import releases
from tradewatch.landing import LandedPart, LandedRelease, LandingZone
from tradewatch.warehouse import open_warehouse


def test_landing_stores_bytes_once_under_their_hash(tmp_path):
    zone = LandingZone(tmp_path)
    sha1, rel1 = zone.store(b"[[1]]")
    sha2, rel2 = zone.store(b"[[1]]")
    assert (sha1, rel1) == (sha2, rel2)
    assert zone.path(rel1).read_bytes() == b"[[1]]"
    assert not list(tmp_path.rglob("*.tmp"))


def test_release_id_changes_with_the_bytes_and_manifests_round_trip(tmp_path):
    part = LandedPart("HS2", "https://x/imports/hs?get=A", "a" * 64, "objects/aa/a", 200, 10)
    one = LandedRelease("census", "census_imports_hs", "2025-05", "2025-07-03T12:00:00+00:00", (part,))
    same_later = LandedRelease("census", "census_imports_hs", "2025-05", "2025-08-01T12:00:00+00:00", (part,))
    other = LandedRelease("census", "census_imports_hs", "2025-05", "2025-08-01T12:00:00+00:00",
                          (LandedPart("HS2", part.url, "b" * 64, "objects/bb/b", 200, 10),))
    assert one.release_id == same_later.release_id != other.release_id
    zone = LandingZone(tmp_path)
    assert zone.read_manifest(zone.write_manifest(one)) == one
    assert "key" not in json.loads(zone.write_manifest(one).read_text())["parts"][0]["url"]


def fetch_and_load(settings, periods=("2025-05",), dataset="census_imports_hs"):
    pipeline.fetch(settings, dataset, list(periods))
    return pipeline.load(settings, dataset)


def raw_snapshot(settings, table="census_imports_hs"):
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        return con.execute(f"SELECT * FROM raw.{table} ORDER BY ALL").fetchall()


def test_loading_the_same_release_twice_changes_nothing(settings):
    assert fetch_and_load(settings)["loaded"] == 1
    before = raw_snapshot(settings)
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        audit_before = con.execute("SELECT release_id, vintage, row_count FROM audit.releases").fetchall()
    second = fetch_and_load(settings)
    assert second["loaded"] == 0 and second["unchanged"] == 1
    assert raw_snapshot(settings) == before
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        assert con.execute("SELECT release_id, vintage, row_count FROM audit.releases").fetchall() == audit_before
        lineage = con.execute("SELECT DISTINCT source_url, length(sha256) FROM raw.census_imports_hs").fetchall()
    assert all(url.startswith("https://api.census.gov/") and "key=" not in url for url, _ in lineage)
    assert {n for _, n in lineage} == {64}


def _revise(archive, month="2025-05", level="HS2", factor=1.01):
    path = archive / f"census/imports_hs/{month}_{level}.json"
    rows = json.loads(path.read_text())
    header = rows[0]
    for row in rows[1:]:
        for col in ("GEN_VAL_MO", "CON_VAL_MO"):
            row[header.index(col)] = str(int(int(row[header.index(col)]) * factor))
    path.write_text(json.dumps(rows))


def test_a_changed_release_for_a_loaded_month_becomes_the_next_vintage(settings, archive_copy, tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "d", TRADEWATCH_ARCHIVE_DIR=str(archive_copy))
    fetch_and_load(settings)
    _revise(archive_copy)
    assert fetch_and_load(settings)["loaded"] == 1
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        vintages = con.execute("SELECT vintage, count(*) FROM raw.census_imports_hs r JOIN audit.releases a "
                               "USING (release_id) GROUP BY 1 ORDER BY 1").fetchall()
    assert [v for v, _ in vintages] == [1, 2] and vintages[0][1] == vintages[1][1]


def test_a_broken_release_is_rejected_whole_and_nothing_loaded_is_lost(settings, archive_copy, tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "d", TRADEWATCH_ARCHIVE_DIR=str(archive_copy))
    fetch_and_load(settings, ("2025-04",))
    before = raw_snapshot(settings)
    # 2025-05: the HS2 part is fine, the HS6 part has a renamed column -> the whole release is rolled back
    path = archive_copy / "census/imports_hs/2025-05_HS6.json"
    path.write_text(path.read_text().replace('"CAL_DUT_MO"', '"CAL_DUTY_MO"', 1))
    with pytest.raises(Exception, match="CAL_DUT_MO") as exc:
        fetch_and_load(settings)
    assert "rejected" in str(exc.value)
    assert raw_snapshot(settings) == before
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        rejected = releases(con, status="rejected")
    assert len(rejected) == 1 and "schema drift" in rejected[0]["detail"]


def test_a_batch_load_equals_loading_release_by_release(settings, tmp_path):
    """Census loads in batches (one pass over every file); the raw rows and audit rows are exactly those of loading
    each release in its own transaction."""
    from tests.conftest import make_settings
    from tradewatch.warehouse import load_release

    months = ["2025-03", "2025-04", "2025-05"]
    assert fetch_and_load(settings, months)["loaded"] == 3
    one_by_one = make_settings(tmp_path / "single", TRADEWATCH_ARCHIVE_DIR=str(settings.archive_dir))
    pipeline.fetch(one_by_one, "census_imports_hs", months)
    zone = LandingZone(one_by_one.landing_dir)
    with open_warehouse(one_by_one.duckdb_path) as con:
        for path in sorted((one_by_one.landing_dir / "manifests" / "census_imports_hs").glob("*/*.json")):
            assert load_release(con, zone, zone.read_manifest(path)).status == "loaded"
    columns = "* EXCLUDE (fetched_at)"
    audit = "SELECT dataset, period, vintage, status, row_count, headline_total FROM audit.releases ORDER BY ALL"
    with open_warehouse(settings.duckdb_path, read_only=True) as batched, \
            open_warehouse(one_by_one.duckdb_path, read_only=True) as single:
        for query in (f"SELECT {columns} FROM raw.census_imports_hs ORDER BY ALL", audit):
            assert batched.execute(query).fetchall() == single.execute(query).fetchall()
        assert batched.execute("SELECT count(*) FROM audit.landings").fetchall() == [(3 * 10,)]


def test_one_bad_release_in_a_batch_is_rejected_alone(settings, archive_copy, tmp_path, caplog):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "d", TRADEWATCH_ARCHIVE_DIR=str(archive_copy))
    path = archive_copy / "census/imports_hs/2025-04_HS10_85.json"
    rows = json.loads(path.read_text())
    rows[3][rows[0].index("GEN_VAL_MO")] = ""  # a blank value: never a zero
    path.write_text(json.dumps(rows))
    with pytest.raises(Exception, match=r"1 census_imports_hs release\(s\) could not be loaded") as exc:
        fetch_and_load(settings, ["2025-03", "2025-04", "2025-05"])
    assert "2025-04" in str(exc.value) and "HS10_85" in str(exc.value) and "not whole numbers" in str(exc.value)
    assert "loading these releases one by one" in caplog.text
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        states = con.execute("SELECT strftime(period, '%Y-%m'), status FROM audit.releases ORDER BY 1").fetchall()
        loaded = con.execute("SELECT DISTINCT strftime(period, '%Y-%m') FROM raw.census_imports_hs ORDER BY 1")
        assert loaded.fetchall() == [("2025-03",), ("2025-05",)]
    assert states == [("2025-03", "pending"), ("2025-04", "rejected"), ("2025-05", "pending")]


def test_a_corrupted_landed_file_is_rejected(settings):
    pipeline.fetch(settings, "census_imports_hs", ["2025-05"])
    objects = list((settings.landing_dir / "objects").rglob("*"))
    victim = next(p for p in objects if p.is_file())
    victim.write_bytes(victim.read_bytes()[:500])
    with pytest.raises(Exception, match="could not be loaded"):
        pipeline.load(settings, "census_imports_hs")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.census_imports_hs").fetchall() == [(0,)]


def test_not_yet_published_is_silent_before_the_calendar_day_and_late_after_it(settings, caplog):
    # Census publishes month M around the 8th of M+2: on 2025-09-01, July is not due yet but June is.
    result = pipeline.fetch(settings, "census_exports_hs", ["2025-06", "2025-07", "2025-08"], as_of="2025-09-01")
    assert result == {"dataset": "census_exports_hs", "landed": 1, "not_published": ["2025-07", "2025-08"],
                      "late": [], "wait_until": None, "skipped": []}
    late = pipeline.fetch(settings, "census_exports_hs", ["2025-07"], as_of="2025-09-20")
    assert late["late"] == ["2025-07"]
    assert "late release: census_exports_hs 2025-07 was due by 2025-09-08" in caplog.text


def test_a_due_release_not_out_yet_defers_the_task_until_its_deadline(settings):
    from datetime import datetime

    # The run for 2025-09 wants July (due 2025-09-08); the archive does not hold it yet.
    early = pipeline.fetch(settings, "census_exports_hs", ["2025-07"], as_of="2025-09-01", reference_month="2025-07",
                           now=datetime(2025, 9, 5, 6, 0))
    assert early["wait_until"] == "2025-09-05T12:00"  # look again after the poll interval (6 hours)
    last_day = pipeline.fetch(settings, "census_exports_hs", ["2025-07"], as_of="2025-09-01",
                              reference_month="2025-07", now=datetime(2025, 9, 8, 21, 0))
    assert last_day["wait_until"] == "2025-09-09T00:00"  # never past the end of the deadline day
    after = pipeline.fetch(settings, "census_exports_hs", ["2025-07"], as_of="2025-09-01", reference_month="2025-07",
                           now=datetime(2025, 9, 9, 6, 0))
    assert after["wait_until"] is None  # past the deadline: the run goes on without it (a late-release warning)
    published = pipeline.fetch(settings, "census_exports_hs", ["2025-06"], as_of="2025-09-01",
                               reference_month="2025-06", now=datetime(2025, 9, 5))
    assert published["wait_until"] is None and published["landed"] == 1


def test_release_calendars_are_configuration(tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, TRADEWATCH_BLS_RELEASE_DAY="20")
    assert str(pipeline.expected_release(settings, "bls_series", "2025-05")) == "2025-06-20"
    # GACC's January release holds February too: it is due a month later than a single month would be
    assert str(pipeline.expected_release(settings, "gacc_trade_by_country", "2025-01")) == "2025-03-12"
    assert str(pipeline.expected_release(settings, "gacc_trade_by_country", "2025-05")) == "2025-06-12"


def test_plan_fills_gaps_and_always_refetches_the_reference_month(settings):
    work = pipeline.plan(settings, "2025-08-10T06:00:00+00:00")
    assert [w["dataset"] for w in work] == list(pipeline.DATASETS)
    by_dataset = {w["dataset"]: w["periods"] for w in work}
    assert by_dataset.pop("usitc_hts_lines") == ["2025-06"]  # no history to backfill: the revision in force
    assert by_dataset.pop("census_imports_hs10_annual") == ["2024-12"]  # December's year to date: the year
    assert {periods[0] for periods in by_dataset.values()} == {"2024-01"}
    assert "2024-02" not in by_dataset["gacc_trade_by_country"]  # February comes with January
    assert work[0]["periods"][-1] == "2025-06" and len(work[0]["periods"]) == 18
    fetch_and_load(settings, ["2024-01", "2025-06"])
    again = pipeline.plan(settings, "2025-08-10T06:00:00+00:00")[0]["periods"]
    assert "2024-01" not in again and "2025-06" in again and len(again) == 17


def test_the_june_release_refetches_three_prior_years(settings):
    fetch_and_load(settings, ["2024-01", "2024-02", "2025-03"])
    # A May run (reference month March) skips what is loaded; the June run (reference month April, the
    # release in which Census revises the three prior years) fetches loaded months again, from the start month.
    may = pipeline.plan(settings, "2025-05-10T06:00:00+00:00")[0]["periods"]
    june = pipeline.plan(settings, "2025-06-10T06:00:00+00:00")[0]["periods"]
    assert "2024-01" not in may and "2025-03" in may  # the reference month is always fetched again
    assert june[0] == "2024-01" and "2024-02" in june and june[-1] == "2025-04"


def test_a_loaded_release_is_not_read_again_from_the_landing_zone(settings):
    pipeline.fetch(settings, "census_imports_hs", ["2025-05"])
    pipeline.load(settings, "census_imports_hs")
    shutil.rmtree(settings.duckdb_path.parent / "landing" / "objects")
    assert pipeline.load(settings, "census_imports_hs")["unchanged"] == 1


def test_consecutive_batches_keep_order_and_bound_their_size():
    from tradewatch.batching import consecutive_batches

    assert consecutive_batches([3, 4, 2, 9, 1, 1], size=lambda n: n, limit=7) == [[3, 4], [2], [9], [1, 1]]
    assert consecutive_batches([], size=lambda n: n, limit=7) == []


def test_a_raw_table_of_an_older_layout_is_refused_then_reparsed_from_the_landing_zone(settings):
    """A raw table left by an earlier version with other columns stops every writer with an error that names the
    one command to run; `reparse` parses the landed releases again, and raw and the release records come back the
    same (the operators' decisions are kept)."""
    from tradewatch import errors
    from tradewatch.warehouse import connect

    fetch_and_load(settings, ("2025-04", "2025-05"))
    pipeline.validate(settings, "census_imports_hs")
    fetch_and_load(settings, ("2025-05",), "census_exports_hs")
    pipeline.validate(settings, "census_exports_hs")
    before = raw_snapshot(settings)
    statuses = "SELECT release_id, period, vintage, status, row_count FROM audit.releases ORDER BY ALL"
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        audit_before = con.execute(statuses).fetchall()
    with connect(settings.duckdb_path) as con:  # what an older version left: a column this one does not have
        con.execute("ALTER TABLE raw.census_imports_hs ADD COLUMN district VARCHAR")
    with pytest.raises(errors.TradewatchError, match=r"Nothing was changed.*`tradewatch reparse census_imports_hs`"):
        pipeline.load(settings, "census_imports_hs")
    with connect(settings.duckdb_path) as con:  # a second stale table: reparsing one alone would leave it behind
        con.execute("ALTER TABLE raw.census_exports_hs DROP COLUMN sha256")
    with pytest.raises(errors.TradewatchError, match=r"census_exports_hs also have .* `tradewatch reparse "
                                                     r"census_exports_hs census_imports_hs`. Nothing was changed"):
        pipeline.reparse(settings, ["census_imports_hs"])
    with connect(settings.duckdb_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit.releases WHERE dataset = 'census_imports_hs'"
                           ).fetchall()[0][0] == 2

    imports, exports = pipeline.reparse(settings, ["census_imports_hs", "census_exports_hs"])
    assert (imports["forgotten"], imports["loaded"], imports["rejected"], imports["published"]) == (2, 2, 0, 2)
    assert (exports["dataset"], exports["forgotten"], exports["loaded"]) == ("census_exports_hs", 1, 1)
    assert raw_snapshot(settings) == before
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        assert con.execute(statuses).fetchall() == audit_before
        assert con.execute("SELECT count(*) FROM audit.landings").fetchall()[0][0] > 0
    with pytest.raises(errors.TradewatchError, match="unknown dataset.s. 'census_imports'"):
        pipeline.reparse(settings, ["census_imports"])
