"""Benchmarks (not tests): archives at realistic and 10x scale, a backfill timed stage by stage, then an incremental
monthly refresh and a full rebuild for comparison; on the same landed files the project's loader against DuckDB's
own read_json and pandas to_sql, and the Great Expectations gate against the same checks as one SQL query.

    make bench                                               # writes docs/benchmarks.md (about half an hour)
    .venv/bin/python -m bench.run --runs realistic:1 --out /tmp/bench.md
    .venv/bin/python -m bench.run --render docs/benchmarks.json  # the page again from the last figures

Figures are measured, never asserted. Stages run in this process exactly as the DAG's tasks call them; each
stage's peak memory is this process's (reset at the stage's start) and dbt's own (reported by the dbt process).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import sqlite3
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from tradewatch import audit, pipeline, sources
from tradewatch.dbt_session import peak_memory_mb
from tradewatch.periods import add_months, format_month
from tradewatch.settings import get_settings

END = date(2026, 8, 1)  # the backfill's last month; the incremental run adds September
CENSUS = ("census_imports_hs", "census_exports_hs")


class DbtMemory(logging.Handler):
    """Catches the peak memory the dbt process reports at exit (tradewatch.dbt_session)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.peak_mb = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        found = re.search(r"dbt peak memory (\d+) MB", record.getMessage())
        if found:
            self.peak_mb = max(self.peak_mb, float(found.group(1)))


def _reset_peak() -> None:
    """Start a new peak-memory measurement for this process (Linux: writing 5 to clear_refs resets VmHWM)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def timed(label: str, stages: list[dict], work: Callable[[], object]) -> object:
    """Run one stage; record its seconds and the peak resident memory of this process and of dbt during it."""
    dbt = DbtMemory()
    logging.getLogger("tradewatch.transform").setLevel(logging.INFO)
    logging.getLogger("tradewatch.transform").addHandler(dbt)
    _reset_peak()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        logging.getLogger("tradewatch.transform").removeHandler(dbt)
    seconds = time.perf_counter() - started
    own = peak_memory_mb()
    stages.append({"stage": label, "seconds": round(seconds, 2), "peak_mb": round(own),
                   "children_mb": round(dbt.peak_mb)})
    dbt_text = f" (dbt {dbt.peak_mb:.0f} MB)" if dbt.peak_mb else ""
    print(f"  {label:<28} {seconds:8.1f} s   peak {own:6.0f} MB{dbt_text}", flush=True)
    return result


def refresh(settings, logical_date: str, stages: list[dict]) -> dict:
    """The DAG's tasks in order, each timed (load and validate also per dataset)."""
    work = timed("plan", stages, lambda: pipeline.plan(settings, logical_date))
    timed("fetch (land)", stages, lambda: [pipeline.fetch(settings, w["dataset"], w["periods"], w["as_of"])
                                           for w in work])
    per_dataset: dict[str, dict[str, float]] = {"load": {}, "validate": {}}
    for step, call in (("load", pipeline.load), ("validate", pipeline.validate)):
        def each(step=step, call=call) -> None:
            for w in work:
                started = time.perf_counter()
                call(settings, w["dataset"])
                per_dataset[step][w["dataset"]] = time.perf_counter() - started
        timed(step if step == "load" else "validate (GX)", stages, each)
    stages[-1]["gate"] = gate_figures(settings)
    built = timed("dbt build", stages, lambda: pipeline.build(settings))
    stages[-1]["detail"] = f"{built['built']}, {built['periods']} period(s)" if built["built"] != "full" else "full"
    stages[-1]["dbt"] = dbt_figures(settings)
    stages[-1]["diversion_s"] = sum(dbt_seconds(settings, name) for name in (  # the rerouting monitor's models
        "int_us_imports_by_origin", "int_china_exports_by_partner", "trade_diversion_monthly"))
    timed("anomaly scan", stages, lambda: pipeline.scan_anomalies(settings))
    stages[-1]["mart_s"] = dbt_seconds(settings, "")  # the second dbt run: marts.anomalies and its tests
    parts: dict[str, float] = {}
    published = timed("publish (+report)", stages, lambda: publish(settings, parts))
    stages[-1]["publish"] = {**parts, "changed": published["changed"], "parquet_files": published["parquet_files"]}
    return per_dataset


def dbt_seconds(settings, name: str) -> float:
    """Seconds the last dbt invocation spent on the nodes whose id contains `name` (its run_results.json)."""
    path = settings.data_dir / "dbt" / "target" / "run_results.json"
    if not path.exists():
        return 0.0
    return round(sum(r["execution_time"] for r in json.loads(path.read_text())["results"]
                     if name in r["unique_id"]), 2)


def publish(settings, parts: dict[str, float]) -> dict:
    """pipeline.publish, its two steps timed: the snapshot and Parquet (serving.publication), then the report."""
    from tradewatch.serving import publication, report

    started = time.perf_counter()
    result = publication.publish(settings)
    parts["snapshot_parquet_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    report.write(settings)
    parts["report_s"] = round(time.perf_counter() - started, 2)
    return result


def gate_figures(settings) -> dict:
    """What the gate recorded: validations, chunks, and the Data Docs (size on disk, pages)."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        validations, chunks = audit.gate_totals(con)
    docs = settings.validation_dir / "docs"
    pages = list((docs / "validations").rglob("*.html"))
    files = [p for p in docs.rglob("*") if p.is_file() and p.relative_to(docs).parts[0] != "static"]
    return {"validations": validations, "chunks": chunks, "pages": len(pages),
            "docs_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),  # pages and index, not the vendored
            "page_kb": round(sum(p.stat().st_size for p in pages) / max(len(pages), 1) / 1e3)}


#: The tariff models (issue 15), as the bench reports their cost: the schedule (lines, their dated measures, the
#: stacking), the daily series and the monthly averages.
TARIFF_MODELS = {"schedule": ("int_tariff_schedule", "int_tariff_weight_sources", "int_tariff_lines",
                              "int_tariff_line_events", "int_tariff_line_states", "int_tariff_weights",
                              "tariff_schedule"),
                 "daily series": ("tariff_rates_daily",), "monthly rates": ("tariff_rates_monthly",)}


def dbt_figures(settings) -> dict:
    """From the dbt run just finished (run_results.json, sources.json, audit.builds): its elapsed time, the
    freshness check's, what it ran, and the tariff models' share (their models and the tests on them)."""
    target = settings.data_dir / "dbt" / "target"
    try:
        results = json.loads((target / "run_results.json").read_text())
        manifest = json.loads((target / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    freshness = json.loads((target / "sources.json").read_text()) if (target / "sources.json").exists() else {}
    of_model = {name: group for group, names in TARIFF_MODELS.items() for name in names}
    tariff: dict[str, dict[str, float]] = {g: {"models_s": 0.0, "tests_s": 0.0, "models": 0} for g in TARIFF_MODELS}
    for result in results["results"]:
        node = manifest["nodes"].get(result["unique_id"], {})
        names = [manifest["nodes"].get(p, {}).get("name") for p in node.get("depends_on", {}).get("nodes", [])]
        if node.get("resource_type") == "model" and node["name"] in of_model:
            tariff[of_model[node["name"]]]["models_s"] += result["execution_time"]
            tariff[of_model[node["name"]]]["models"] += 1
        elif node.get("resource_type") in ("test", "unit_test") and (group := next(
                (of_model[n] for n in names if n in of_model), None)):
            tariff[group]["tests_s"] += result["execution_time"]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        models, _ = audit.last_finished_build(con)
        rows = {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0]
                for t in ("tariff_schedule", "tariff_rates_daily") if con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?",
                    [t]).fetchall()[0][0]}
    kinds = [manifest["nodes"].get(r["unique_id"], {}).get("resource_type") for r in results["results"]]
    return {"elapsed_s": round(results["elapsed_time"], 2), "freshness_s": round(freshness.get("elapsed_time", 0), 2),
            "nodes": len(kinds), "models": kinds.count("model"),
            "selected": len(models) if models else None,
            "tariff": {g: {k: round(v, 2) for k, v in t.items()} for g, t in tariff.items()}, "tariff_rows": rows}


def census_files(settings) -> tuple[list[str], int]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        paths = [str(settings.landing_dir / p) for p in audit.landed_paths(con, CENSUS)]
        rows = con.execute(f"SELECT (SELECT count(*) FROM raw.{CENSUS[0]}) + "
                           f"(SELECT count(*) FROM raw.{CENSUS[1]})").fetchall()[0][0]
    return paths, rows


def ingest_comparison(settings, load_seconds: float) -> dict:
    """DuckDB's own read_json of the very files the loader read into a table of a DuckDB file (as the loader
    writes into the warehouse file), and pandas to_sql of a part of them."""
    paths, rows = census_files(settings)
    ceiling_file = settings.data_dir / "ceiling.duckdb"
    started = time.perf_counter()
    with duckdb.connect(str(ceiling_file)) as con:
        con.execute("CREATE TABLE t AS SELECT json AS r FROM read_json(?, format='array', records=false)", [paths])
    ceiling = time.perf_counter() - started
    ceiling_file.unlink()
    import pandas as pd

    frames, taken = [], 0
    for path in sorted(paths, key=lambda p: -Path(p).stat().st_size):  # the largest files, up to 50,000 rows
        data = json.loads(Path(path).read_text())
        frames.append(pd.DataFrame(data[1:], columns=[f"c{i}" for i in range(len(data[0]))]))  # names repeat
        taken += len(data) - 1
        if taken >= 50_000:
            break
    frame = pd.concat(frames, ignore_index=True)
    started = time.perf_counter()
    frame.to_sql("t", sqlite3.connect(":memory:"), index=False, chunksize=10_000)
    sqlite_seconds = time.perf_counter() - started
    # what many people write: a DataFrame into DuckDB through SQLAlchemy (duckdb-engine), on a 20,000-row part
    from sqlalchemy import create_engine

    engine = create_engine(f"duckdb:///{settings.data_dir / 'to_sql.duckdb'}")
    part = frame.head(20_000)
    started = time.perf_counter()
    part.to_sql("t", engine, index=False, chunksize=10_000)
    duckdb_seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": rows, "files": len(paths), "loader_rows_s": rows / load_seconds if load_seconds else None,
            "read_json_rows_s": rows / ceiling, "pandas_rows": len(part), "pandas_rows_s": len(part) / duckdb_seconds,
            "sqlite_rows": len(frame), "sqlite_rows_s": len(frame) / sqlite_seconds}


def gx_vs_sql(settings, validate_seconds: dict) -> dict:
    """The Census suite's checks (row count, not-null keys and values, unique key, non-negative, period) as one
    query over every release, against the time the GX gate took for the same releases."""
    checks = []
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        started = time.perf_counter()
        for dataset in CENSUS:
            value = sources.dataset(dataset).headline_var
            checks += con.execute(f"""
                SELECT release_id, count(*) AS n_rows,
                       count(*) FILTER (WHERE cty_code IS NULL OR commodity IS NULL OR {value} IS NULL) AS nulls,
                       count(*) - count(DISTINCT (cty_code, commodity, comm_lvl)) AS duplicate_keys,
                       count(*) FILTER (WHERE {value} < 0) AS negative_values,
                       count(DISTINCT period) AS periods, count(DISTINCT cty_code) AS partners,
                       count(DISTINCT left(commodity, 2)) AS chapters
                FROM raw.{dataset} GROUP BY release_id""").fetchall()
        sql_seconds = time.perf_counter() - started
    gx_seconds = sum(validate_seconds.get(d, 0) for d in CENSUS)
    return {"releases": len(checks), "gx_seconds": gx_seconds, "sql_seconds": sql_seconds}


#: The sizes: (label, HS6 lines per chapter, extra partners, years). "realistic" has the DAG's exact pulls with
#: about 5,000 HS6 lines a month, as the real Census; "10x" adds every other Census partner (235), each trading 15%
#: of the lines, about ten times the rows a month.
SIZES = {"sample": (3, 0), "realistic": (52, 0), "10x": (52, 235)}
DEFAULT_RUNS = "realistic:1,realistic:3,realistic:10,10x:1"


def run_size(label: str, years: int, root: Path) -> dict:
    from tradewatch.sample import DEFAULT_START, write_sample_archive
    from tradewatch.sample.census import Scale

    start = max(add_months(END, -(12 * years - 1)), DEFAULT_START)  # the sample begins in 2017
    settings = get_settings({**os.environ, "TRADEWATCH_DATA_DIR": str(root / "data"),
                             "TRADEWATCH_START_MONTH": format_month(start),
                             "TRADEWATCH_ARCHIVE_DIR": str(root / "archive")})
    print(f"\n== {label}, {years} year(s): {format_month(start)} .. {format_month(END)} (+1 month incremental)",
          flush=True)
    lines, partners = SIZES[label]
    started = time.perf_counter()
    write_sample_archive(settings.archive_dir, max(add_months(start, -12), DEFAULT_START), add_months(END, 1),
                         Scale(lines_per_chapter=lines, extra_partners=partners))
    print(f"  archive written in {time.perf_counter() - started:.0f} s", flush=True)
    stages: list[dict] = []
    load_before = os.getloadavg()[0]
    per_dataset = refresh(settings, f"{format_month(add_months(END, 2))}-10T06:00:00+00:00", stages)
    ingest = ingest_comparison(settings, sum(per_dataset["load"][d] for d in CENSUS))
    checks = gx_vs_sql(settings, per_dataset["validate"])
    incremental: list[dict] = []
    refresh(settings, f"{format_month(add_months(END, 3))}-10T06:00:00+00:00", incremental)
    full_rebuild: list[dict] = []  # the same marts rebuilt from all history, as before the incremental build
    timed("dbt build --full-refresh", full_rebuild, lambda: pipeline.build(settings, full=True))
    full_rebuild[0]["dbt"] = dbt_figures(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        releases = audit.release_total(con)
        raw_rows = sum(con.execute(f"SELECT count(*) FROM raw.{d}").fetchall()[0][0] for d in sources.all_datasets())
    months = (END.year - start.year) * 12 + END.month - start.month + 1
    return {"label": f"{label} {years} y", "years": years, "months": months, "releases": releases,
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "raw_rows": raw_rows, "backfill": stages, "full_rebuild": full_rebuild[0],
            "incremental": incremental, "ingest": ingest, "checks": checks}


def _total(stages: list[dict]) -> float:
    return sum(s["seconds"] for s in stages)


def _step(result: dict, run: str, name: str) -> dict:
    return next(s for s in result[run] if s["stage"] == name)


def _stage(stages: list[dict], name: str) -> float:
    return next(s["seconds"] for s in stages if s["stage"] == name)


def _table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)]


def _by_label(results: list[dict] | None) -> dict[str, dict]:
    return {r["label"]: r for r in results or []}


def _fmt(value: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _ratio(after: float | None, before: float | None) -> str:
    return "—" if not after or not before else f"{before / after:.1f}x faster" if after < before else \
        f"{after / before:.1f}x slower"


def _validation(run: dict) -> tuple[float, float]:
    return _stage(run["backfill"], "validate (GX)"), _stage(run["backfill"], "load")


def _peak(stages: list[dict]) -> int:
    return max(max(s["peak_mb"], s["children_mb"]) for s in stages)


def render(results: list[dict], baseline: list[dict] | None = None, baseline_note: str = "") -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, " \
              f"DuckDB {duckdb.__version__}, {platform.system()} {platform.release()}"
    loads = ", ".join(f"{r['label']} {r['load_average'][0]:.1f}–{r['load_average'][1]:.1f}" for r in results
                      if r.get("load_average"))
    before = _by_label(baseline)
    lines = ["# Benchmarks", "",
             f"Measured by `make bench` (`bench/run.py`) on {date.today().isoformat()}: {machine}"
             + (f"; the machine is shared, its load average (1 minute, at the start and end of each size) was "
                f"{loads}" if loads else "") + ". Reproduce with "
             "`make bench` (about half an hour; `python -m bench.run --runs realistic:1 --out /tmp/b.md` for one "
             "size). Each run writes an archive in the publishers' exact formats, backfills it through the DAG's "
             "task functions stage by stage in one process (fetch through the replay client, load, the GX gate, "
             "dbt build, anomaly scan, publish with the report), then runs one incremental monthly refresh (the "
             "next month's releases), then the comparisons on the same landed files. Targets are figures to reach, "
             "not test assertions.", "",
             "Sizes: **realistic** is every pull the DAG makes (Census imports and exports at HS2, HS4, HS6 and HS10 "
             "for the basket chapters, for China, Hong Kong, Vietnam, Mexico and the world total; GACC, Comtrade, "
             "BLS, NBS, the HTS) with about 5,000 HS6 lines a month, as the real Census has; **10x** adds the "
             "other ~235 Census partners, each trading 15% of the lines (about ten times the rows a month: Census "
             "HS6 for every partner). The extra partners are not in the country seed, so they reach `raw` and "
             "staging (load, validation and the staging scans pay for them) but not the marts. Peak memory is per "
             "stage: this process's peak resident set during the stage (reset at its start) and the dbt process's "
             "own (it reports its peak when it exits); the tables show the largest of the stages."]
    if before:
        lines += ["", "**Before** is the same benchmark run on the code before issue 18 (the gate running its suite "
                  "on each release, publishing rewriting every file, every model rebuilt each month)"
                  + (f": {baseline_note}" if baseline_note else "") + "; its figures are in "
                  "`docs/benchmarks-before.json`."]
    big = next((r for r in results if r["label"] == "realistic 10 y"), max(results, key=lambda r: r["raw_rows"]))
    lines += ["", f"## Targets ({big['label']})", ""] + _targets(big, before.get(big["label"]))
    lines += ["", "## Backfill and incremental refresh, by stage (seconds; peak resident memory)", ""]
    stage_rows = [[stage["stage"], *(f"{r[run][index]['seconds']:.1f}" for r in results
                                     for run in ("backfill", "incremental"))]
                  for index, stage in enumerate(results[0]["backfill"])]
    stage_rows.append(["total", *(f"**{_total(r[run]):.0f}**" for r in results for run in ("backfill", "incremental"))])
    stage_rows.append(["peak memory (MB, process / dbt)",
                       *(f"{max(s['peak_mb'] for s in r[run])} / {max(s['children_mb'] for s in r[run])}"
                         for r in results for run in ("backfill", "incremental"))])
    lines += _table(["stage", *(header for r in results for header in (f"{r['label']} backfill", "+1 month"))],
                    stage_rows)
    lines += ["", "## The quality gate before and after (backfill, same sizes)", ""] + _gate(results, before)
    lines += ["", "## The monthly refresh, broken down (the +1 month)", ""] + _monthly(results, before)
    lines += ["", "## The tariff schedule's cost (dbt, issue 15's models)", ""] + _tariffs(results)
    lines += ["", "## How cost grows with months and partners", ""]
    lines += _table(["size", "months", "releases", "raw rows", "backfill s", "raw rows / s end to end", "+1 month s",
                     "+1 month / backfill", "before: +1 month / backfill"],
                    [[r["label"], r["months"], r["releases"], f"{r['raw_rows']:,}", f"{_total(r['backfill']):.0f}",
                      f"{r['raw_rows'] / _total(r['backfill']):,.0f}", f"{_total(r['incremental']):.1f}",
                      f"{_total(r['incremental']) / _total(r['backfill']):.1%}",
                      f"{_total(b['incremental']) / _total(b['backfill']):.1%}" if (b := before.get(r["label"]))
                      else "—"] for r in results])
    lines += ["", "## The incremental build vs a full rebuild (the +1 month's dbt build)", ""]
    builds = [(r, next(s for s in r["incremental"] if s["stage"] == "dbt build")) for r in results]
    lines += _table(["size", "incremental dbt build s", "what it rebuilt", "models rebuilt", "full rebuild "
                     "(--full-refresh) s", "incremental / full"],
                    [[r["label"], f"{inc['seconds']:.1f}", inc.get("detail", ""),
                      _models(inc.get("dbt", {}), r["full_rebuild"].get("dbt", {})),
                      f"{r['full_rebuild']['seconds']:.1f}", f"{inc['seconds'] / r['full_rebuild']['seconds']:.0%}"]
                     for r, inc in builds])
    lines += ["", "## The rerouting monitor and the anomalies mart (inside the dbt build and the anomaly scan)", "",
              "The rerouting monitor's models (`int_us_imports_by_origin`, `int_china_exports_by_partner`, "
              "`trade_diversion_monthly`) are rebuilt whole in every build; the anomaly scan is the Python detector "
              "followed by a second dbt invocation that builds `marts.anomalies` and its tests (the seconds of its "
              "nodes, without dbt's start-up).", ""]
    lines += _table(["size", "rerouting models s (backfill)", "(+1 month)", "anomaly scan s (+1 month)",
                     "of which the mart's dbt nodes s"],
                    [[r["label"], f"{_step(r, 'backfill', 'dbt build').get('diversion_s', 0):.1f}",
                      f"{_step(r, 'incremental', 'dbt build').get('diversion_s', 0):.1f}",
                      f"{_step(r, 'incremental', 'anomaly scan')['seconds']:.1f}",
                      f"{_step(r, 'incremental', 'anomaly scan').get('mart_s', 0):.1f}"] for r in results])
    lines += ["", "## Ingest: the loader vs DuckDB's read_json vs pandas to_sql (same Census files)", "",
              "The loader's rate is the Census datasets' rows over the time their load took (parse, whole-number "
              "and schema checks, one transaction per batch, audit rows). read_json is DuckDB reading the very same "
              "files into one table of a DuckDB file with nothing else (the ceiling). pandas to_sql is what many "
              "people write: a DataFrame of the same rows into DuckDB through SQLAlchemy (duckdb-engine), on "
              "20,000 rows; and, for reference, into SQLite (the standard library's, on up to 50,000 rows).", ""]
    lines += _table(["size", "rows", "loader rows/s", "read_json rows/s (ceiling)", "to_sql into DuckDB rows/s",
                     "to_sql into SQLite rows/s", "loader / ceiling", "loader / to_sql (DuckDB)"],
                    [[r["label"], f"{i['rows']:,}", f"{i['loader_rows_s']:,.0f}", f"{i['read_json_rows_s']:,.0f}",
                      f"{i['pandas_rows_s']:,.0f}", f"{i['sqlite_rows_s']:,.0f}",
                      f"{i['loader_rows_s'] / i['read_json_rows_s']:.0%}",
                      f"{i['loader_rows_s'] / i['pandas_rows_s']:.0f}x"] for r in results for i in [r["ingest"]]])
    lines += ["", "## The quality gate: Great Expectations vs the same checks as one SQL query (Census releases)", ""]
    lines += _table(["size", "releases", "GX gate s", "GX s per release", "SQL s", "GX / SQL", "before: GX / SQL"],
                    [[r["label"], c["releases"], f"{c['gx_seconds']:.1f}",
                      f"{c['gx_seconds'] / max(c['releases'], 1):.3f}", f"{c['sql_seconds']:.2f}",
                      f"{c['gx_seconds'] / max(c['sql_seconds'], 1e-6):.0f}x",
                      f"{b['checks']['gx_seconds'] / max(b['checks']['sql_seconds'], 1e-6):.0f}x"
                      if (b := before.get(r["label"])) else "—"]
                     for r in results for c in [r["checks"]]])
    lines += ["", "## Reading the figures", ""] + notes(results, big, before)
    return "\n".join(lines) + "\n"


def _targets(big: dict, was: dict | None) -> list[str]:
    """The issue's targets, before and after, for the realistic ten-year run."""

    def figures(run: dict | None) -> dict[str, str] | None:
        if run is None:
            return None
        validate, load = _validation(run)
        backfill, month = _total(run["backfill"]), _total(run["incremental"])
        i = run["ingest"]
        return {"validation": f"{validate / load:.0%}", "month": f"{month / backfill:.1%}",
                "loader": f"{i['loader_rows_s'] / i['read_json_rows_s']:.0%}",
                "to_sql": f"{i['loader_rows_s'] / i['pandas_rows_s']:.0f}x",
                "backfill": f"{backfill / 60:.1f} min, {_peak(run['backfill'])} MB"}

    now, then = figures(big), figures(was)
    validate, load = _validation(big)
    backfill, month = _total(big["backfill"]), _total(big["incremental"])
    i = big["ingest"]
    met = {"validation": validate <= 0.5 * load, "month": month <= 0.05 * backfill,
           "loader": i["loader_rows_s"] >= 0.8 * i["read_json_rows_s"],
           "to_sql": i["loader_rows_s"] >= 50 * i["pandas_rows_s"],
           "backfill": backfill <= 300 and _peak(big["backfill"]) <= 1536}
    names = {"validation": "validation <= 50% of load", "month": "monthly refresh <= 5% of the backfill",
             "loader": "loader >= 80% of read_json", "to_sql": "loader >= 50x pandas to_sql (into DuckDB)",
             "backfill": "ten-year backfill <= 5 min and <= 1.5 GB peak"}
    return _table(["target", "before", "after", "met"],
                  [[names[k], then[k] if then else "—", now[k], "yes" if met[k] else "**no**"] for k in names])


def _gate(results: list[dict], before: dict[str, dict]) -> list[str]:
    rows = []
    for r in results:
        validate, load = _validation(r)
        b = before.get(r["label"])
        was, was_load = _validation(b) if b else (None, None)
        gate = next(s for s in r["backfill"] if s["stage"] == "validate (GX)")
        old = next((s for s in b["backfill"] if s["stage"] == "validate (GX)"), {}) if b else {}
        # the Data Docs as the run left them (the backfill and the +1 month)
        docs = next(s for s in r["incremental"] if s["stage"] == "validate (GX)").get("gate", {})
        old_docs = (b or {}).get("docs", {})
        rows.append([r["label"], r["releases"], _fmt(was), f"{validate:.1f}", _ratio(validate, was),
                     f"{was / was_load:.0%}" if b else "—", f"{validate / load:.0%}",
                     f"{old.get('peak_mb', '—')} / {gate['peak_mb']}",
                     f"{old_docs.get('pages', '—')} / {docs.get('pages', '—')} ({docs.get('chunks', '—')} chunks)",
                     f"{old_docs.get('docs_mb', '—')} / {docs.get('docs_mb', '—')}"])
    return ["Seconds and peak memory of the backfill's validate stage; the Data Docs as each run left them (the "
            "backfill and the +1 month), pages and index, without the 1.1 MB of vendored CSS and scripts.", ""] + \
        _table(["size", "releases", "before s", "after s", "after vs before", "before: validation / load",
                "after: validation / load", "peak MB before / after", "Data Docs pages before / after",
                "Data Docs MB before / after"], rows)


def _monthly(results: list[dict], before: dict[str, dict]) -> list[str]:
    """The +1 month stage by stage, dbt and publishing in their parts; its total before and after."""
    header = ["part"]
    parts = ["load", "validate (GX)", "dbt: start-up and parse", "dbt: models and tests", "dbt: source freshness",
             "anomaly scan", "publish: snapshot and Parquet", "publish: report", "plan, fetch", "total",
             "total before", "+1 month / backfill", "before: +1 month / backfill"]
    cells: dict[str, list[str]] = {p: [] for p in parts}
    for r in results:
        header.append(r["label"])
        inc = {s["stage"]: s for s in r["incremental"]}
        dbt = inc["dbt build"].get("dbt", {})
        pub = inc["publish (+report)"].get("publish", {})
        b = before.get(r["label"])
        cells["load"].append(f"{inc['load']['seconds']:.1f}")
        cells["validate (GX)"].append(f"{inc['validate (GX)']['seconds']:.1f}")
        start = inc["dbt build"]["seconds"] - dbt.get("elapsed_s", 0) - dbt.get("freshness_s", 0)
        cells["dbt: start-up and parse"].append(f"{start:.1f}" if dbt else "—")
        cells["dbt: models and tests"].append(
            f"{dbt['elapsed_s']:.1f} ({dbt.get('selected') or dbt['models']} models, {dbt['nodes']} nodes)"
            if dbt else "—")
        cells["dbt: source freshness"].append(_fmt(dbt.get("freshness_s")))
        cells["anomaly scan"].append(f"{inc['anomaly scan']['seconds']:.1f}")
        files = pub.get("parquet_files", {})
        cells["publish: snapshot and Parquet"].append(
            f"{pub['snapshot_parquet_s']:.1f} ({len(pub['changed'])} marts changed; Parquet files written "
            f"{files.get('written')}, linked {files.get('linked')})" if pub else "—")
        cells["publish: report"].append(_fmt(pub.get("report_s")))
        cells["plan, fetch"].append(f"{inc['plan']['seconds'] + inc['fetch (land)']['seconds']:.1f}")
        cells["total"].append(f"**{_total(r['incremental']):.1f}**")
        cells["total before"].append(f"{_total(b['incremental']):.1f}" if b else "—")
        cells["+1 month / backfill"].append(f"{_total(r['incremental']) / _total(r['backfill']):.1%}")
        cells["before: +1 month / backfill"].append(
            f"{_total(b['incremental']) / _total(b['backfill']):.1%}" if b else "—")
    return _table(header, [[p, *cells[p]] for p in parts])


def _tariffs(results: list[dict]) -> list[str]:
    rows = []
    for r in results:
        for label, dbt in (("backfill (full build)", next(s for s in r["backfill"] if s["stage"] == "dbt build")
                            .get("dbt", {})),
                           ("+1 month (incremental)", next(s for s in r["incremental"] if s["stage"] == "dbt build")
                            .get("dbt", {}))):
            if not dbt:
                continue
            t = dbt["tariff"]
            spent = sum(g["models_s"] + g["tests_s"] for g in t.values())
            rows.append([r["label"], label, *(f"{g['models_s']:.1f} + {g['tests_s']:.1f}" if g["models"] else
                                              "not rebuilt" for g in t.values()),
                         f"{spent:.1f} of {dbt['elapsed_s']:.1f}",
                         ", ".join(f"{k} {v:,}" for k, v in dbt.get("tariff_rows", {}).items())])
    return ["dbt's own execution time of each model and of the tests on it (summed over its 4 threads, so the "
            "parts add up to more than the elapsed time), in seconds: models + tests.", ""] + _table(
        ["size", "build", "schedule (lines, events, stacking, weights)", "daily series", "monthly rates",
         "all tariff nodes of the build's elapsed s", "rows"], rows)


def notes(results: list[dict], big: dict, before: dict[str, dict]) -> list[str]:
    """What the figures mean and where the remaining gaps are, with the numbers of this run."""
    i, c = big["ingest"], big["checks"]
    inc = {s["stage"]: s for s in big["incremental"]}
    backfill, incremental = _total(big["backfill"]), _total(big["incremental"])
    validate, load = _validation(big)
    kind = big["label"].split()[0]
    small = min((r for r in results if r["label"].startswith(kind)), key=lambda r: r["months"])
    per_year = (incremental - _total(small["incremental"])) / max(big["years"] - small["years"], 1)
    was = before.get(big["label"])
    gate = next(s for s in big["backfill"] if s["stage"] == "validate (GX)").get("gate", {})
    docs = next(s for s in big["incremental"] if s["stage"] == "validate (GX)").get("gate", {})
    dbt = inc["dbt build"].get("dbt", {})
    publish = inc["publish (+report)"].get("publish", {})
    text = [
        f"- **Growth with months.** The {big['label']} backfill holds {big['raw_rows'] / small['raw_rows']:.1f}x "
        f"the rows of {small['label']} and took {backfill / _total(small['backfill']):.1f}x as long. The "
        f"incremental month grows little with history ({_total(small['incremental']):.1f} s at {small['label']}, "
        f"{incremental:.1f} s at {big['label']}, about {per_year:.1f} s more per year held): what is left is "
        "mostly fixed cost (starting dbt, the small marts rebuilt whole, the report).",
    ]
    for r in results:
        same = next((x for x in results if x["label"] == f"realistic {r['years']} y"), None)
        if r["label"].startswith("10x") and same:
            def ratio(stage: str, r=r, same=same) -> str:
                return f"{_stage(r['backfill'], stage) / _stage(same['backfill'], stage):.1f}x"

            text.append(
                f"- **Growth with partners** ({r['label']} against {same['label']}: "
                f"{r['raw_rows'] / same['raw_rows']:.1f}x the raw rows): the backfill took "
                f"{_total(r['backfill']) / _total(same['backfill']):.1f}x as long; load {ratio('load')}, validation "
                f"{ratio('validate (GX)')}, dbt {ratio('dbt build')} (the extra partners stop at staging, so the "
                "marts stay the same size).")
    text += [
        "- **The loader** reads each batch of files (up to 256 MB) in one pass: headers from the files' first bytes, "
        "one `read_json` per header group, values typed and checked (ragged rows, whole numbers, periods) as they "
        "stream into `raw`, one transaction per batch. It runs at "
        f"{i['loader_rows_s'] / i['read_json_rows_s']:.0%} of DuckDB reading the same files into a table with "
        "nothing else; the difference is the checks, the casts, the join that stamps each row with its release and "
        "lineage, and the audit rows. pandas `to_sql` into DuckDB through SQLAlchemy binds every row; the loader is "
        f"{i['loader_rows_s'] / i['pandas_rows_s']:.0f}x faster.",
        f"- **The gate** ({validate:.0f} s for {big['releases']} releases, {validate / load:.0%} of the load"
        + (f"; before, {_validation(was)[0]:.0f} s, {_validation(was)[0] / _validation(was)[1]:.0%}" if was else "")
        + "). Each dataset has a row-level suite, run once per chunk of pending releases of up to 1,000,000 rows "
        f"({gate.get('chunks', '?')} chunks here), and a release-level suite, run once per chunk over one summary "
        "row per release: two GX runs a chunk instead of one per release. What remains is Great Expectations "
        "itself: importing it (about 5 s, paid by the first validate task of a process), its fixed cost per run "
        "(building the metric graph and the result objects for each expectation: about 0.2 s), and pandas work per "
        f"row for each of about twenty expectations (GX hashes every batch, then evaluates each expectation on every "
        f"row): the same checks as one SQL query take {c['sql_seconds']:.2f} s for the {c['releases']} Census "
        f"releases against GX's {c['gx_seconds']:.1f} s. GX's SQL route would push that work into DuckDB, but its "
        "SQLAlchemy dialect reads no rows back from DuckDB 2 (measured: every metric query returns nothing), so GX "
        "still runs on pandas; the frames hold only the columns the suites check, text as categories. "
        f"Data Docs after the backfill and the month: {docs.get('pages', '?')} pages (a page per chunk and suite, "
        f"about {docs.get('page_kb', '?')} KB each) and the index, {docs.get('docs_mb', '?')} MB"
        + (f", against {was['docs']['pages']} pages and {was['docs']['docs_mb']} MB before"
           if was and was.get("docs") else "") + ".",
        f"- **The monthly refresh** ({incremental:.1f} s at {big['label']}, {incremental / backfill:.1%} of the "
        "backfill"
        + (f"; before, {_total(was['incremental']):.1f} s, {_total(was['incremental']) / _total(was['backfill']):.1%}"
           if was else "")
        + "). dbt rebuilds `trade_monthly` for the changed months only and, since this change, only the models "
        f"downstream of the datasets that got releases ({dbt.get('selected', '?')} models); the tariff chain "
        "(lines, stacked rates, schedule, daily series) below `int_tariff_weight_sources` is rebuilt only when a "
        "year of weights changes. dbt parses the project once for the build and the freshness check "
        f"(start-up and parse: {inc['dbt build']['seconds'] - dbt.get('elapsed_s', 0) - dbt.get('freshness_s', 0):.1f}"
        " s of the stage: a new Python process importing dbt, kept so that a killed or hung dbt never takes the "
        "task with it). Publishing writes only what changed: "
        f"{len(publish.get('changed', []))} marts ({', '.join(publish.get('changed', [])) or 'none'}); "
        f"Parquet files written {publish.get('parquet_files', {}).get('written', '?')}, linked unchanged "
        f"{publish.get('parquet_files', {}).get('linked', '?')}; the report ({publish.get('report_s', 0):.1f} s) "
        "is drawn again from all history. The anomaly scan judges only the series of the groups with a changed "
        f"month (`scan_changed`; the other findings are kept): {inc['anomaly scan']['seconds']:.1f} s for the "
        f"month against {_stage(big['backfill'], 'anomaly scan'):.1f} s for the backfill's full scan; both include "
        "the second dbt invocation that builds `marts.anomalies` (its start-up, then "
        f"{inc['anomaly scan'].get('mart_s', 0):.1f} s of the mart and its tests). The 5% target would need the "
        "month under "
        f"{0.05 * backfill:.0f} s" + (f" (the backfill took {backfill:.0f} s, {_total(was['backfill']):.0f} s "
                                      "before)" if was else "") + ".",
        "- **Memory** is measured per stage: this process's peak during the stage (reset at its start) and dbt's "
        "own, which it reports when it exits. Validation reads one chunk at a time (text dictionary-encoded: a "
        "1,000,000-row Census chunk peaks at about 0.8 GB with GX's work) and hands the freed heap back after each; "
        "dbt's DuckDB is limited to 1 GB (`TRADEWATCH_DBT_MEMORY_LIMIT`) and spills beyond it, and so is the "
        "publishing connection (`TRADEWATCH_PUBLISH_MEMORY_LIMIT`): writing `trade_monthly` as one Parquet file per "
        "month buffers every open month, and unbounded the backfill's first publish peaked at 2.3 GB. This process "
        "has run every stage before publishing (GX and the detector are loaded), so each peak includes about 0.5 GB "
        "that a task of the DAG, a process of its own, does not carry.",
        "- The extra partners of the 10x size have no row in the country seed, so they are loaded, validated and "
        "staged but never reach the marts; a deployment following every partner would add them to "
        "`dbt_project/seeds/country_codes.csv`, and the marts' share of the cost would grow with them.",
    ]
    return [t for t in text if t]


def _models(inc: dict, full: dict) -> str:
    if not inc:
        return "—"
    return f"{inc.get('selected') or inc['models']} of {full.get('models', '—')}"


#: Figures of the same benchmark on the code before issue 18 (the per-release gate, whole publishing): "before".
BASELINE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-before.json"


def _baseline(path: str | None) -> tuple[list[dict] | None, str]:
    """The before figures and what they are (the file's `note`, when it is an object with `results`)."""
    file = Path(path) if path else BASELINE
    if not file.exists():
        return None, ""
    found = json.loads(file.read_text())
    return (found["results"], found.get("note", "")) if isinstance(found, dict) else (found, "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=DEFAULT_RUNS, help=f"size:years,... (default {DEFAULT_RUNS}); sizes: "
                        + ", ".join(SIZES))
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the working folders")
    parser.add_argument("--render", metavar="JSON", help="only write the page again from the figures of a run")
    parser.add_argument("--baseline", metavar="JSON", help=f"the before figures (default {BASELINE.name})")
    args = parser.parse_args()
    baseline, note = _baseline(args.baseline)
    if args.render:
        Path(args.out).write_text(render(json.loads(Path(args.render).read_text()), baseline, note))
        print(f"wrote {args.out}")
        return
    results, failed = [], []
    figures = Path(args.out).with_suffix(".json")
    for run in args.runs.split(","):
        label, _, years = run.partition(":")
        root = Path(tempfile.mkdtemp(prefix=f"tradewatch-bench-{label}-{years}y-"))
        try:
            results.append(run_size(label, int(years), root))
            figures.write_text(json.dumps(results, indent=1, default=str))  # kept even if a later size fails
        except Exception:  # one size failing must not lose the others' figures
            traceback.print_exc()
            failed.append(run)
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    if results:
        Path(args.out).write_text(render(results, baseline, note))
        print(f"\nwrote {args.out} and {figures}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (the traceback is above)")


if __name__ == "__main__":
    main()
