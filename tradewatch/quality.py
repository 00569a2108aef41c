"""Write-audit-publish: validate pending releases, publish the good ones, quarantine the rest.

The candidate release is read through a read-only DuckDB connection into pandas and validated with its GX suite
(GX's SQL route does not work on DuckDB). Results go to `audit.validations` and to a JSON file per release; only
then does one short read-write transaction publish or quarantine each release.
"""

from __future__ import annotations

import ctypes
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from expectations import suite_parameters
from expectations.runner import SuiteOutcome, SuiteRunner, render_page
from tradewatch import data_docs
from tradewatch.batching import consecutive_batches
from tradewatch.errors import QualityGateFailed, TradewatchError
from tradewatch.settings import Settings
from tradewatch.warehouse import open_warehouse, previous_accepted, releases, set_release_status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationResult:
    release_id: str
    dataset: str
    period: str
    success: bool
    status: str  # published | quarantined
    failed: list[str]
    result_path: str


def _candidate(con, dataset: str, release_id: str):
    return con.execute(
        f"SELECT * REPLACE (strftime(period, '%Y-%m-%d') AS period) FROM raw.{dataset} WHERE release_id = ?",
        [release_id]).df()


def docs_dir(settings: Settings):
    """Where the Great Expectations Data Docs of every validation are rendered (open index.html)."""
    return settings.validation_dir / "docs"


def _result_path(settings: Settings, dataset: str, release_id: str):
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", release_id)
    return settings.validation_dir / dataset / f"{safe}.json"


#: Rows of candidate releases held in memory at once: a backfill is validated in chunks of about this size
#: (measured on a ten-year backfill: 200,000 rows peaked at 1.5 GB, 100,000 with the heap trimmed at 0.86 GB, at
#: the same speed).
CHUNK_ROWS = 100_000


def _validate(settings: Settings, targets: list[dict],
              runners: dict[str, SuiteRunner]) -> list[tuple[dict, SuiteOutcome]]:
    """Read the candidates through a read-only connection, then validate each (no lock held while GX runs)."""
    frames = []
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        for release in targets:
            previous = previous_accepted(con, release["dataset"], release["release_id"])
            period = release["period"].strftime("%Y-%m")
            params = suite_parameters(release["dataset"], period, previous)
            frames.append((release, _candidate(con, release["dataset"], release["release_id"]), params))
    outcomes = []
    for release, frame, params in frames:
        if release["dataset"] not in runners:
            runners[release["dataset"]] = SuiteRunner(release["dataset"], docs_dir(settings))
        runner = runners[release["dataset"]]
        outcome = runner.run(frame, params, run_name=release["release_id"])
        period = release["period"].strftime("%Y-%m")
        if outcome.success:
            log.debug("%s %s: suite passed (%d expectations, %.1fs)", release["dataset"], period,
                      outcome.evaluated, outcome.duration_s)
        else:
            log.warning("%s %s: suite FAILED (%d of %d expectations): %s", release["dataset"], period,
                        len(outcome.failed), outcome.evaluated, "; ".join(outcome.failed[:3]))
        outcomes.append((release, outcome))
    return outcomes


def _run(settings: Settings, targets: list[dict]) -> list[ValidationResult]:
    """Validate and record the targets chunk by chunk (memory bounded by CHUNK_ROWS), then render Data Docs."""
    runners: dict[str, SuiteRunner] = {}
    results: list[ValidationResult] = []
    for chunk in consecutive_batches(targets, lambda release: release["row_count"] or 0, CHUNK_ROWS):
        results += _record(settings, _validate(settings, chunk, runners))
        _return_freed_memory()
        if len(targets) > 24:
            log.info("%s: validated %d of %d release(s)", chunk[-1]["dataset"], len(results), len(targets))
    if runners:
        started = time.time() - 1.0
        for runner in runners.values():
            runner.build_docs()
        write_docs(settings, since=started)
    return results


def write_docs(settings: Settings, since: float = 0.0, restore: bool = False) -> Path:
    """Make the Data Docs pages written since `since` (0: all of them) load nothing from the network, with
    `restore` render the pages of validations that have none from their stored results, and write the index of
    every validation recorded (tradewatch.data_docs). Returns the index."""
    docs = docs_dir(settings)
    data_docs.make_offline(docs, since)
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        if restore and (restored := data_docs.restore_missing(con, docs, render_page)):
            log.warning("Data Docs: rendered %d missing page(s) from audit.validations", restored)
        index = data_docs.write_index(con, docs)
    log.info("Data Docs: %s", index)
    return index


def _return_freed_memory() -> None:
    """Hand the heap freed by a chunk's DataFrames back to the system (glibc keeps it otherwise, and a long backfill
    then holds the peak of every chunk at once). A no-op where the C library has no malloc_trim."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _record(settings: Settings, outcomes: list[tuple[dict, SuiteOutcome]]) -> list[ValidationResult]:
    results = []
    now = datetime.now(UTC).replace(tzinfo=None)
    with open_warehouse(settings.duckdb_path) as con:
        for release, outcome in outcomes:
            rid, dataset = release["release_id"], release["dataset"]
            path = _result_path(settings, dataset, rid)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(outcome.results, indent=1, default=str))
            status = "published" if outcome.success else "quarantined"
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "INSERT INTO audit.validations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [rid, outcome.suite, outcome.success, outcome.evaluated, len(outcome.failed),
                 "\n".join(outcome.failed), json.dumps(outcome.results, default=str), outcome.duration_s,
                 str(path), now])
            set_release_status(con, rid, status, "" if outcome.success else "; ".join(outcome.failed)[:4000])
            con.execute("COMMIT")
            results.append(ValidationResult(rid, dataset, release["period"].strftime("%Y-%m"), outcome.success,
                                             status, outcome.failed, str(path)))
    return results


def _raise_if_failed(results: list[ValidationResult]) -> None:
    failed = [r for r in results if not r.success]
    if failed:
        lines = [f"- {r.dataset} {r.period} ({r.release_id}): " + "; ".join(r.failed[:5]) +
                 f" [details: {r.result_path}]" for r in failed]
        raise QualityGateFailed(
            f"{len(failed)} release(s) failed their quality suite and were quarantined; the marts keep the last "
            "good data. Fix the source or the suite, then `tradewatch quality revalidate RELEASE_ID`, or release it "
            "with `tradewatch quality release RELEASE_ID --reason ...`.\n" + "\n".join(lines),
            failed_release_ids=[r.release_id for r in failed])


def _alert_quarantined(settings: Settings, results: list[ValidationResult], lookup) -> None:
    from tradewatch.alerts import dispatch, quarantine_alert

    failed = [quarantine_alert(r.release_id, r.dataset, r.period, r.failed, r.result_path)
              for r in results if not r.success]
    if failed:
        with open_warehouse(settings.duckdb_path) as con:
            dispatch(con, settings, failed, lookup)


def validate_pending(settings: Settings, dataset: str, lookup=None) -> list[ValidationResult]:
    """Validate every pending release of `dataset`; alert on and raise QualityGateFailed for any quarantined.

    `lookup` finds Airflow connections for the alert channels (see tradewatch.notifiers)."""
    with open_warehouse(settings.duckdb_path) as con:  # read-write once, so the schema exists
        pending = releases(con, dataset=dataset, status="pending")
    if not pending:
        log.info("%s: no pending release to validate", dataset)
        return []
    results = _run(settings, pending)
    _alert_quarantined(settings, results, lookup)
    _raise_if_failed(results)
    return results


def revalidate(settings: Settings, release_id: str, operator: str) -> ValidationResult:
    """Run the suite again on a quarantined (or pending) release, after a fix to the suite or the data."""
    with open_warehouse(settings.duckdb_path) as con:
        found = [r for r in releases(con) if r["release_id"] == release_id]
    if not found or found[0]["status"] not in ("quarantined", "pending"):
        raise TradewatchError(f"release {release_id!r} is not quarantined or pending "
                              f"(status: {found[0]['status'] if found else 'unknown'})")
    results = _run(settings, found)
    with open_warehouse(settings.duckdb_path) as con:
        con.execute("INSERT INTO audit.release_decisions VALUES (?, 'revalidate', ?, ?, now())",
                    [release_id, f"suite {'passed' if results[0].success else 'failed again'}", operator])
    _raise_if_failed(results)
    return results[0]


def release_quarantined(settings: Settings, release_id: str, reason: str, operator: str) -> None:
    """Publish a quarantined release anyway, with the operator's reason on record."""
    if not reason or not reason.strip():
        raise TradewatchError("a reason is required to release a quarantined release (--reason \"...\")")
    with open_warehouse(settings.duckdb_path) as con:
        found = [r for r in releases(con, status="quarantined") if r["release_id"] == release_id]
        if not found:
            raise TradewatchError(f"release {release_id!r} is not quarantined; `tradewatch quality list` shows "
                                  "the quarantined ones")
        con.execute("BEGIN TRANSACTION")
        set_release_status(con, release_id, "released", f"released by {operator}: {reason}")
        con.execute("INSERT INTO audit.release_decisions VALUES (?, 'release', ?, ?, now())",
                    [release_id, reason, operator])
        con.execute("COMMIT")
