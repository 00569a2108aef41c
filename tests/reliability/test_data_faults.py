"""Bad data through the real pipeline (replay of an archive whose June 2025 Census release was tampered with):
schema drift, blank values, duplicates, the wrong period and a half-size release never reach what staging reads;
an extra column is ignored; a revision of last year's data becomes a new vintage and the marts' inputs follow it."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import make_settings
from tests.reliability.conftest import scenario
from tradewatch import pipeline
from tradewatch.errors import QualityGateFailed, TradewatchError

pytestmark = pytest.mark.slow  # the fault-injection suite: minutes, run by `make test` and CI

DATASET = "census_imports_hs"
FILES = ("2025-06_HS2.json", "2025-06_HS4.json", "2025-06_HS6.json")


def settings_for(tmp_path, archive):
    return make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(archive), TRADEWATCH_START_MONTH="2025-05")


def run(settings, periods: list[str]) -> str:
    """fetch, load, validate: 'published', or the error the pipeline raised."""
    pipeline.fetch(settings, DATASET, periods, as_of="2025-08-10")
    try:
        pipeline.load(settings, DATASET)
        pipeline.validate(settings, DATASET)
    except QualityGateFailed as exc:
        return f"quarantined: {exc}"
    except TradewatchError as exc:
        return f"rejected: {exc}"
    return "published"


def visible(settings) -> dict[str, tuple[int, float]]:
    """What staging reads: rows and value of every published or released vintage, by period."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute(
            f"SELECT strftime(r.period, '%Y-%m'), count(*), sum(t.GEN_VAL_MO) FROM raw.{DATASET} t "
            "JOIN audit.releases r USING (release_id) WHERE r.status IN ('published', 'released') "
            "GROUP BY 1 ORDER BY 1").fetchall()
    return {period: (n, float(v)) for period, n, v in rows}


def tamper(archive, change) -> None:
    for name in FILES:
        path = archive / "census" / "imports_hs" / name
        rows = json.loads(path.read_text())
        path.write_text(json.dumps(change(rows)))


def rename(rows):
    rows[0] = ["GEN_VAL" if c == "GEN_VAL_MO" else c for c in rows[0]]
    return rows


def drop(rows):
    at = rows[0].index("CON_VAL_MO")
    return [r[:at] + r[at + 1:] for r in rows]


def extra(rows):
    return [rows[0] + ["NEW_FIELD"]] + [r + ["x"] for r in rows[1:]]


def blank(rows):
    at = rows[0].index("GEN_VAL_MO")
    return [rows[0]] + [r[:at] + [""] + r[at + 1:] if i % 3 == 0 else r for i, r in enumerate(rows[1:])]


def duplicate(rows):
    return rows + rows[1:40]


def wrong_period(rows):
    at = rows[0].index("time")
    return [rows[0]] + [r[:at] + ["2024-06"] + r[at + 1:] for r in rows[1:]]


def halve(rows):
    return rows[: 1 + (len(rows) - 1) // 2]


CASES = {
    "renamed column": (rename, "rejected"),
    "missing column": (drop, "rejected"),
    "extra column": (extra, "published"),
    "blank values": (blank, "rejected"),
    "duplicated rows": (duplicate, "quarantined"),
    "a release for the wrong period": (wrong_period, "rejected|quarantined"),
    "a release that shrinks by half": (halve, "quarantined"),
}


@scenario("Data", "schema drift, blanks, duplicates, wrong period, half-size release",
          "a renamed or missing column or a blank value is rejected whole at parsing; duplicates, a wrong period "
          "and a half-size release are quarantined by the suite: nothing of them reaches what staging reads, May "
          "stays as it was, the error names the release; an extra column is ignored and the release published")
@pytest.mark.parametrize("case", list(CASES))
def test_bad_releases_never_reach_staging(case, tmp_path, archive_copy):
    change, expected = CASES[case]
    settings = settings_for(tmp_path, archive_copy)
    assert run(settings, ["2025-05"]) == "published"
    before = visible(settings)
    tamper(archive_copy, change)
    outcome = run(settings, ["2025-06"])
    assert outcome.split(":")[0] in expected.split("|"), outcome
    after = visible(settings)
    if expected == "published":
        assert set(after) == {"2025-05", "2025-06"} and after["2025-05"] == before["2025-05"]
    else:
        assert after == before  # June is not visible; May untouched
        assert DATASET in outcome and "2025-06" in outcome  # the error names the release


@scenario("Data", "a revision of last year's data",
          "the changed release loads as the next vintage, staging reads the latest, the first vintage is kept for "
          "marts.release_revisions")
def test_a_revision_becomes_a_new_vintage(tmp_path, archive_copy):
    settings = settings_for(tmp_path, archive_copy)
    assert run(settings, ["2025-05"]) == "published"
    for name in ("2025-05_HS2.json", "2025-05_HS4.json", "2025-05_HS6.json"):
        path = archive_copy / "census" / "imports_hs" / name
        rows = json.loads(path.read_text())
        at = rows[0].index("GEN_VAL_MO")
        rows = [rows[0]] + [r[:at] + [str(int(int(r[at]) * 1.02))] + r[at + 1:] for r in rows[1:]]
        path.write_text(json.dumps(rows))
    assert run(settings, ["2025-05"]) == "published"
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT vintage, status FROM audit.releases WHERE dataset = ? ORDER BY vintage",
                           [DATASET]).fetchall() == [(1, "published"), (2, "published")]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        by_vintage = dict(con.execute(
            f"SELECT r.vintage, sum(t.GEN_VAL_MO) FROM raw.{DATASET} t JOIN audit.releases r USING (release_id) "
            "WHERE t.comm_lvl = 'HS2' GROUP BY 1").fetchall())
    assert float(by_vintage[2]) == pytest.approx(float(by_vintage[1]) * 1.02, rel=0.001)  # both vintages kept ...
    assert run(settings, ["2025-05"]) == "published"  # ... and the same bytes again change nothing
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit.releases WHERE dataset = ?", [DATASET]).fetchall() == [(2,)]
