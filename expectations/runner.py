"""The one runner: validate a chunk of pending releases of one dataset with the dataset's two suites, and give each
release its own verdict.

1. The row-level suite runs once over every row of the chunk. An expectation that fails is run a second time, alone,
   asking GX for every unexpected row with its `release_id` (and the values it saw): each release is charged with
   its own rows only. An expectation about the table itself (its columns, a column's type) judges every release of
   the chunk.
2. The release-level suite runs once over the chunk's summary, one row per release (expectations.common). Each
   release is compared with the previous accepted release: the latest published or released one before it, or an
   earlier release of the same chunk that passes. When a release fails, the ones after it are compared again with
   the release before it, until the verdicts no longer change (a backfill without a failure runs the suite once).

GX runs on pandas (its SQL route does not work on DuckDB); the frames hold Arrow-backed strings.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations import suites_for
from tradewatch.lineage import RELEASE_ID

if TYPE_CHECKING:
    import great_expectations as gx

#: BASIC keeps what a reader of a failure needs (observed values, unexpected counts, up to 20 unexpected values).
RESULT_FORMAT = "BASIC"
#: The second look at a failed expectation: every unexpected row, with its release id and the values it saw.
LOCATE_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [RELEASE_ID],
                 "partial_unexpected_count": 20}
SAMPLE = 20  # unexpected values kept per release and expectation


@dataclass(frozen=True)
class Release:
    """A release the runner judges (a candidate) or compares with (an accepted release: its size is known)."""

    release_id: str
    period: str  # YYYY-MM
    vintage: int
    row_count: int | None = None
    total: float | None = None

    @property
    def order(self) -> tuple[str, int]:
        return self.period, self.vintage


@dataclass(frozen=True)
class SuiteRun:
    """One GX run of a suite over a chunk: its result, as GX writes it, is the chunk's Data Docs page."""

    suite: str
    kind: str  # rows | release
    success: bool
    evaluated: int
    failed: int
    results: dict
    duration_s: float


@dataclass(frozen=True)
class Verdict:
    release_id: str
    success: bool
    evaluated: int
    failed: list[str]  # one line per failed expectation: what it checked and what it saw in this release
    summary: dict  # the release's row of the release-level summary (with its previous accepted release)


@dataclass
class ChunkOutcome:
    chunk_id: str
    dataset: str
    run_time: datetime
    verdicts: list[Verdict]
    runs: list[SuiteRun] = field(default_factory=list)
    duration_s: float = 0.0


def _raised(result) -> str | None:
    """The exception GX caught while evaluating an expectation (its info is flat, or keyed by metric)."""
    info = result.exception_info or {}
    for entry in (info, *(v for v in info.values() if isinstance(v, dict))):
        if entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None


def _call(result) -> str:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return f"{config.type}({json.dumps(kwargs, default=str)[:200]})"


def describe(result, seen: dict | None = None) -> str:
    """One line: the expectation, its arguments and what it saw (for a release, or for the whole chunk)."""
    if seen is None:
        seen = {k: result.result.get(k) for k in ("observed_value", "unexpected_count", "partial_unexpected_list",
                                                   "missing_count", "partial_missing_list") if result.result.get(k)}
    if error := _raised(result):
        seen["error"] = error
    return f"{_call(result)} saw {json.dumps(seen, default=str)[:300]}"


def _is_row_map(result) -> bool:
    """A map expectation judges rows one by one: its unexpected rows can be traced to their release."""
    return "unexpected_count" in (result.result or {}) and _raised(result) is None


def _value(entry: dict) -> Any:
    values = {k: v for k, v in entry.items() if k != RELEASE_ID}
    return next(iter(values.values())) if len(values) == 1 else values


class SuiteRunner:
    """Validates chunks of pending releases of one dataset; one ephemeral GX context serves every chunk."""

    def __init__(self, dataset: str) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import duckdb
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from tradewatch import sources

        for name in list(logging.root.manager.loggerDict):  # GX logs at INFO on import and context creation
            if name.startswith("great_expectations"):
                logging.getLogger(name).setLevel(logging.WARNING)
        self.dataset = dataset
        self.suites = suites_for(dataset)
        self.headline = sources.dataset(dataset).headline_var
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.row_suite = context.suites.add(self.suites.row_suite())
        self.release_suite = context.suites.add(self.suites.release_suite())
        self._batches = (context.data_sources.add_pandas(f"{dataset}_source")
                         .add_dataframe_asset(f"{dataset}_chunk")
                         .add_batch_definition_whole_dataframe("chunk"))
        self._sql = duckdb.connect()

    @property
    def evaluated(self) -> int:
        return len(self.row_suite.expectations) + len(self.release_suite.expectations)

    def validate(self, frame: pd.DataFrame, candidates: list[Release], accepted: list[Release],
                 chunk_id: str) -> ChunkOutcome:
        """Judge every candidate release whose rows are in `frame` (the row-level suite's columns); `accepted` are
        the dataset's published or released releases to compare with."""
        started, run_time = time.monotonic(), datetime.now(UTC)
        frame = _compact(frame)
        candidates = sorted(candidates, key=lambda r: r.order)
        ids = [c.release_id for c in candidates]
        rows_run, row_failures = self._judge(self.row_suite, "rows", frame, ids)
        base = self.summarise(frame, candidates)
        summary = self.compare(base, candidates, accepted, {rid for rid in ids if row_failures[rid]})
        for _ in range(len(candidates) + 1):
            release_run, release_failures = self._judge(self.release_suite, "release", summary, ids)
            again = self.compare(base, candidates, accepted,
                                 {rid for rid in ids if row_failures[rid] or release_failures[rid]})
            if again["previous_release_id"].equals(summary["previous_release_id"]):
                break  # every release was compared with the right one: the verdicts stand
            summary = again
        rows = summary.set_index(RELEASE_ID).to_dict("index")
        verdicts = [Verdict(rid, not (row_failures[rid] or release_failures[rid]), self.evaluated,
                            row_failures[rid] + release_failures[rid], {RELEASE_ID: rid, **_plain(rows[rid])})
                    for rid in ids]
        for run in (rows_run, release_run):
            run.results["meta"]["run_id"] = {"run_name": chunk_id, "run_time": run_time.isoformat()}
        return ChunkOutcome(chunk_id, self.dataset, run_time, verdicts, [rows_run, release_run],
                            time.monotonic() - started)

    def summarise(self, frame: pd.DataFrame, candidates: list[Release]) -> pd.DataFrame:
        """One row per candidate: the columns every summary has and the dataset's own (SQL over its rows)."""
        releases = pd.DataFrame({RELEASE_ID: [c.release_id for c in candidates],
                                 "period": [f"{c.period}-01" for c in candidates],
                                 "position": range(len(candidates))})
        columns = {"periods": "string_agg(DISTINCT c.period, ', ' ORDER BY c.period)",
                   "row_count": "count(c.release_id)",
                   "total": f"CAST(sum(c.{self.headline}) AS DOUBLE)", **self.suites.summary}
        self._sql.register("chunk", frame)
        self._sql.register("releases", releases)
        try:
            return self._sql.execute(
                f"SELECT r.release_id, any_value(r.period) AS period, "
                f"{', '.join(f'{sql} AS {name}' for name, sql in columns.items())} "
                "FROM releases r LEFT JOIN chunk c USING (release_id) GROUP BY r.release_id "
                "ORDER BY any_value(r.position)").df()
        finally:
            self._sql.unregister("chunk")
            self._sql.unregister("releases")

    def compare(self, base: pd.DataFrame, candidates: list[Release], accepted: list[Release],
                failing: set[str]) -> pd.DataFrame:
        """The summary with each release's previous accepted release and the ratios against it. A failing
        candidate is never the previous accepted release of another."""
        measured = {r[RELEASE_ID]: r for r in base.to_dict("records")}
        chain = sorted([*accepted, *(_measured(c, measured[c.release_id]) for c in candidates)],
                       key=lambda r: r.order)
        previous: dict[str, Release | None] = {}
        last: Release | None = None
        for release in chain:
            if release.release_id in measured:
                previous[release.release_id] = last
                if release.release_id in failing:
                    continue
            last = release
        out = base.copy()
        out["previous_release_id"] = [p.release_id if (p := previous[rid]) else None for rid in out[RELEASE_ID]]
        ratios = [self._ratios(measured[rid], previous[rid]) for rid in out[RELEASE_ID]]
        for name in ("rows_vs_previous", "total_vs_previous", "mean_vs_previous"):
            out[name] = [r[name] for r in ratios]
        return out

    def _ratios(self, current: dict, before: Release | None) -> dict[str, float | None]:
        if before is None:
            return dict.fromkeys(("rows_vs_previous", "total_vs_previous", "mean_vs_previous"))
        rows, total = current["row_count"], _number(current["total"])

        def per_month(value: float | None, period: str) -> float | None:
            return None if value is None else value / self.suites.months_in(period)

        def mean(value: float | None, count: int | None) -> float | None:
            return None if value is None or not count else value / count

        return {"rows_vs_previous": _ratio(rows, before.row_count),
                "total_vs_previous": _ratio(per_month(total, current["period"]),
                                            per_month(before.total, before.period)),
                "mean_vs_previous": _ratio(mean(total, rows), mean(before.total, before.row_count))}

    def _judge(self, suite: gx.ExpectationSuite, kind: str, frame: pd.DataFrame,
               release_ids: list[str]) -> tuple[SuiteRun, dict[str, list[str]]]:
        """Run `suite` over `frame`; return the run and, per release, the lines of what failed in it."""
        started = time.monotonic()
        batch = self._batches.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=RESULT_FORMAT)
        failures: dict[str, list[str]] = {rid: [] for rid in release_ids}
        failed = [r for r in result.results if not r.success]
        for r in failed:
            if not _is_row_map(r):  # about the table (its columns, a column's type): every release of the chunk
                for lines in failures.values():
                    lines.append(describe(r))
        traced = [r for r in failed if _is_row_map(r)]
        if traced:
            import great_expectations as gx

            again = gx.ExpectationSuite(name=f"{suite.name}.trace", expectations=[
                copy.copy(r.expectation_config.to_domain_obj()) for r in traced])
            for r in batch.validate(again, result_format=LOCATE_FORMAT).results:
                by_release: dict[str, list] = defaultdict(list)
                for entry in r.result.get("unexpected_index_list") or []:
                    by_release[str(entry.get(RELEASE_ID))].append(_value(entry))
                for rid, values in by_release.items():
                    if rid in failures:
                        failures[rid].append(describe(r, {"unexpected_count": len(values),
                                                          "partial_unexpected_list": values[:SAMPLE]}))
        run = SuiteRun(suite.name, kind, bool(result.success), len(result.results), len(failed),
                       result.to_json_dict(), time.monotonic() - started)
        return run, failures


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame GX checks: text columns as categories (GX hashes every batch, and compares and de-duplicates keys:
    on categories that is work on codes, not strings; a 1.3-million-row Census chunk took half the time, its summary
    included), and a fresh index (GX traces unexpected rows by index label)."""
    frame = frame.reset_index(drop=True)
    text = [c for c, kind in frame.dtypes.items() if pd.api.types.is_string_dtype(kind)]
    return frame.astype(dict.fromkeys(text, "category")) if text else frame


def _measured(candidate: Release, measured: dict) -> Release:
    """A candidate with the size its summary measured."""
    return Release(candidate.release_id, candidate.period, candidate.vintage, measured["row_count"],
                   _number(measured["total"]))


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _ratio(value: float | None, base: float | None) -> float | None:
    """value / base; infinite when only the base is zero; none without both."""
    if value is None or base is None:
        return None
    if base == 0:
        return None if value == 0 else math.inf
    return value / base


def _plain(row: dict) -> dict:
    """A summary row as JSON-able values (NaN as null)."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, "item") else v)
            for k, v in row.items()}


@functools.cache
def _page_view():
    """One GX page view for every page: it compiles its Jinja templates once (a view per page compiled them each
    time, half the cost of a page)."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def render_page(result: dict) -> str:
    """GX's Data Docs page of one stored validation result (its JSON, as in audit.validation_chunks or, before the
    chunked gate, audit.validations): the renderer and view GX's site builder uses."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    validation = ExpectationSuiteValidationResultSchema().load(result)
    return _page_view().render(ValidationResultsPageRenderer().render(validation))


def render_suite_page(suite: gx.ExpectationSuite) -> str:
    """GX's Data Docs page of a suite: what it expects, in words."""
    from great_expectations.render.renderer import ExpectationSuitePageRenderer

    return _page_view().render(ExpectationSuitePageRenderer().render(suite))


def suite_fingerprint(suite: gx.ExpectationSuite) -> str:
    """What a suite expects, hashed (its page is rendered again only when this changes)."""
    import hashlib

    described = [(e.expectation_type, e.configuration.kwargs) for e in suite.expectations]
    return hashlib.sha256(json.dumps([suite.name, described], sort_keys=True, default=str).encode()).hexdigest()[:16]
