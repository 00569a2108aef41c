"""Write-audit-publish: validate pending releases, publish the good ones, quarantine the rest.

Pending releases are validated in chunks of about CHUNK_ROWS rows (expectations.runner): the rows of a chunk are read
through a read-only DuckDB connection (the columns the suites check, as Arrow-backed pandas), then the dataset's
row-level suite runs once over them and its release-level suite once over their summary, with no lock held. Each
release gets its own verdict. One short read-write transaction per chunk then records the two GX runs
(`audit.validation_chunks`), one row per release in `audit.validations` with what failed in it (and a JSON file
per release), and publishes or quarantines each release. The next chunk is compared with what this one published.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from expectations import suites_for
from expectations.runner import (
    ChunkOutcome,
    Release,
    SuiteRunner,
    render_page,
    render_suite_page,
    suite_fingerprint,
)
from tradewatch import audit, data_docs
from tradewatch.batching import consecutive_batches
from tradewatch.errors import QualityGateFailed, TradewatchError
from tradewatch.settings import Settings
from tradewatch.warehouse import open_warehouse

log = logging.getLogger(__name__)

#: Rows of candidate releases validated at once: GX's fixed cost is paid once per chunk (and per dataset), the rows
#: cost the same however they are cut. Measured on ten years of Census imports (3.85 M rows, docs/decisions.md):
#: 500,000-row chunks took 10.2 s, 1,000,000 8.0 s with a 0.8 GB peak, 2,000,000 7.6 s with 1.5 GB.
CHUNK_ROWS = 1_000_000


@dataclass(frozen=True)
class ValidationResult:
    release_id: str
    dataset: str
    period: str
    success: bool
    status: str  # published | quarantined
    failed: list[str]
    result_path: str


def docs_dir(settings: Settings) -> Path:
    """Where the Great Expectations Data Docs of every validation are rendered (open index.html)."""
    return settings.validation_dir / "docs"


def _result_path(settings: Settings, dataset: str, release_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", release_id)
    return settings.validation_dir / dataset / f"{safe}.json"


def read_rows(con, dataset: str, release_ids: list[str]):
    """The rows of `release_ids` as the row-level suite reads them: its columns, dates as 'YYYY-MM-DD' text,
    decimals as doubles, text as categories (dictionary-encoded in Arrow: one copy of each distinct string)."""
    import pyarrow as pa

    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'raw' AND "
                             "table_name = ?", [dataset]).fetchall())

    def column(name: str) -> str:
        kind = types[name]
        if kind == "DATE":
            return f"strftime({name}, '%Y-%m-%d') AS {name}"
        return f"CAST({name} AS DOUBLE) AS {name}" if kind.startswith("DECIMAL") else name

    selected = ", ".join(column(c) for c in suites_for(dataset).columns)
    table = con.sql(f"SELECT {selected} FROM raw.{dataset} WHERE release_id IN (SELECT unnest($ids))",
                    params={"ids": release_ids}).to_arrow_table()
    return pa.table({name: values.dictionary_encode() if pa.types.is_string(values.type) else values
                     for name, values in zip(table.column_names, table.columns, strict=True)}).to_pandas()


def accepted_releases(con, dataset: str) -> list[Release]:
    """The dataset's published and released releases: what a candidate is compared with."""
    return [Release(rid, f"{period:%Y-%m}", vintage, row_count, float(total) if total is not None else None)
            for rid, period, vintage, row_count, total in audit.accepted_releases(con, dataset)]


def chunk_id(dataset: str, chunk: list[dict], started: datetime) -> str:
    """`dataset:first..last:digest`: readable, and unique to this validation of these releases."""
    digest = hashlib.sha256((started.isoformat() + "".join(r["release_id"] for r in chunk)).encode()).hexdigest()
    return f"{dataset}:{chunk[0]['period']:%Y-%m}..{chunk[-1]['period']:%Y-%m}:{digest[:8]}"


@functools.cache
def runner_for(dataset: str) -> SuiteRunner:
    """The dataset's runner, made once per process (its GX context and suites take a few tenths of a second)."""
    return SuiteRunner(dataset)


def _validate_chunk(settings: Settings, runner: SuiteRunner, chunk: list[dict]) -> ChunkOutcome:
    dataset = runner.dataset
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        frame = read_rows(con, dataset, [r["release_id"] for r in chunk])
        accepted = accepted_releases(con, dataset)
    candidates = [Release(r["release_id"], f"{r['period']:%Y-%m}", r["vintage"]) for r in chunk]
    outcome = runner.validate(frame, candidates, accepted, chunk_id(dataset, chunk, datetime.now(UTC)))
    for verdict in outcome.verdicts:
        if not verdict.success:
            log.warning("%s: suite FAILED (%d of %d expectations): %s", verdict.release_id, len(verdict.failed),
                        verdict.evaluated, "; ".join(verdict.failed[:3]))
    return outcome


def _run(settings: Settings, targets: list[dict]) -> list[ValidationResult]:
    """Validate and record the targets chunk by chunk (memory bounded by CHUNK_ROWS), then the Data Docs index."""
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for release in targets:
        by_dataset[release["dataset"]].append(release)
    results: list[ValidationResult] = []
    docs = docs_dir(settings)
    for dataset, pending in by_dataset.items():
        runner = runner_for(dataset)
        done = 0
        for chunk in consecutive_batches(pending, lambda release: release["row_count"] or 0, CHUNK_ROWS):
            outcome = _validate_chunk(settings, runner, chunk)
            results += _record(settings, outcome, chunk)
            for run in outcome.runs:
                data_docs.write_page(docs, run.suite, outcome.chunk_id, run.results["meta"]["run_id"]["run_time"],
                                     render_page(run.results))
            _return_freed_memory()
            done += len(chunk)
            if len(pending) > len(chunk):
                log.info("%s: validated %d of %d release(s) (%d rows in this chunk)", dataset, done, len(pending),
                         sum(r["row_count"] or 0 for r in chunk))
        for suite in (runner.row_suite, runner.release_suite):
            data_docs.write_suite_page(docs, suite.name, suite_fingerprint(suite),
                                       lambda suite=suite: render_suite_page(suite))
    if targets:
        write_docs(settings)
    return results


def write_docs(settings: Settings, restore: bool = False) -> Path:
    """Write the index of every validation recorded (tradewatch.data_docs); with `restore`, first make every page
    load nothing from the network and render the pages of validations that have none from their stored results.
    Returns the index."""
    docs = docs_dir(settings)
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        if restore:
            data_docs.make_offline(docs)
            if restored := data_docs.restore_missing(con, docs, render_page):
                log.warning("Data Docs: rendered %d missing page(s) from the stored results", restored)
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


def _record(settings: Settings, outcome: ChunkOutcome, chunk: list[dict]) -> list[ValidationResult]:
    """One transaction: the chunk's GX runs, one validation row per release, and each release published or
    quarantined."""
    now = datetime.now(UTC).replace(tzinfo=None)
    by_id = {r["release_id"]: r for r in chunk}
    rows = sum(r["row_count"] or 0 for r in chunk)
    share = outcome.duration_s / max(len(chunk), 1)
    results, validations = [], []
    for verdict in outcome.verdicts:
        release = by_id[verdict.release_id]
        path = _result_path(settings, outcome.dataset, verdict.release_id)
        record = {"release_id": verdict.release_id, "dataset": outcome.dataset,
                  "period": f"{release['period']:%Y-%m}", "vintage": release["vintage"], "success": verdict.success,
                  "evaluated": verdict.evaluated, "failed": verdict.failed, "summary": verdict.summary,
                  "chunk_id": outcome.chunk_id, "suites": [run.suite for run in outcome.runs]}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1, default=str))
        validations.append([verdict.release_id, outcome.dataset, verdict.success, verdict.evaluated,
                            len(verdict.failed), "\n".join(verdict.failed), json.dumps(record, default=str), share,
                            str(path), now, outcome.chunk_id])
        status = "published" if verdict.success else "quarantined"
        results.append(ValidationResult(verdict.release_id, outcome.dataset, record["period"], verdict.success,
                                        status, verdict.failed, str(path)))
    with open_warehouse(settings.duckdb_path) as con:
        audit.record_validations(
            con, [[outcome.chunk_id, outcome.dataset, run.suite, run.kind, run.success, run.evaluated, run.failed,
                   len(chunk), rows, json.dumps(run.results, default=str), run.duration_s,
                   run.results["meta"]["run_id"]["run_time"], now] for run in outcome.runs], validations,
            [(r.release_id, r.status, "" if r.success else "; ".join(r.failed)[:4000]) for r in results])
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


def _alert_quarantined(settings: Settings, results: list[ValidationResult]) -> None:
    from tradewatch.alerts import dispatch, quarantine_alert

    failed = [quarantine_alert(r.release_id, r.dataset, r.period, r.failed, r.result_path)
              for r in results if not r.success]
    if failed:
        with open_warehouse(settings.duckdb_path) as con:
            dispatch(con, settings, failed)


def validate_pending(settings: Settings, dataset: str) -> list[ValidationResult]:
    """Validate every pending release of `dataset`; alert on and raise QualityGateFailed for any quarantined."""
    with open_warehouse(settings.duckdb_path) as con:  # read-write once, so the schema exists
        pending = audit.releases(con, dataset=dataset, status="pending")
    if not pending:
        log.info("%s: no pending release to validate", dataset)
        return []
    results = _run(settings, pending)
    _alert_quarantined(settings, results)
    _raise_if_failed(results)
    return results


def revalidate(settings: Settings, release_id: str, operator: str) -> ValidationResult:
    """Run the suites again on a quarantined (or pending) release, after a fix to the suite or the data."""
    with open_warehouse(settings.duckdb_path) as con:
        found = [r for r in audit.releases(con) if r["release_id"] == release_id]
    if not found or found[0]["status"] not in ("quarantined", "pending"):
        raise TradewatchError(f"release {release_id!r} is not quarantined or pending "
                              f"(status: {found[0]['status'] if found else 'unknown'})")
    results = _run(settings, found)
    with open_warehouse(settings.duckdb_path) as con:
        audit.record_decision(con, release_id, "revalidate",
                              f"suite {'passed' if results[0].success else 'failed again'}", operator)
    _raise_if_failed(results)
    return results[0]


def release_quarantined(settings: Settings, release_id: str, reason: str, operator: str) -> None:
    """Publish a quarantined release anyway, with the operator's reason on record."""
    if not reason or not reason.strip():
        raise TradewatchError("a reason is required to release a quarantined release (--reason \"...\")")
    with open_warehouse(settings.duckdb_path) as con:
        found = [r for r in audit.releases(con, status="quarantined") if r["release_id"] == release_id]
        if not found:
            raise TradewatchError(f"release {release_id!r} is not quarantined; `tradewatch quality list` shows "
                                  "the quarantined ones")
        con.execute("BEGIN TRANSACTION")
        audit.set_release_status(con, release_id, "released", f"released by {operator}: {reason}")
        audit.record_decision(con, release_id, "release", reason, operator)
        con.execute("COMMIT")
