"""Run dbt on the warehouse: one dbt process per refresh (DuckDB has one writer; per-model processes only fight)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from tradewatch import audit
from tradewatch.dbt_session import PEAK_MEMORY_LABEL
from tradewatch.errors import TradewatchError
from tradewatch.periods import Month, format_month
from tradewatch.settings import Settings
from tradewatch.sql import table_exists
from tradewatch.warehouse import open_warehouse

log = logging.getLogger(__name__)

def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TRADEWATCH_DUCKDB_PATH=str(settings.duckdb_path),
        DBT_PROFILES_DIR=str(settings.dbt_project_dir),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_LOG_PATH=str(settings.data_dir / "dbt" / "logs"),
        DBT_TARGET_PATH=str(settings.data_dir / "dbt" / "target"),
        TRADEWATCH_DBT_MEMORY_LIMIT=settings.dbt_memory_limit,
        TRADEWATCH_DIVERSION_BASE_YEAR=str(settings.diversion_base_year),
    )
    return env


def run_dbt(settings: Settings, *args: str, then: tuple[str, ...] = ()) -> str:
    """Run a dbt command against the warehouse; raise with dbt's own output when it fails.

    `then`, a command run in the same dbt process after a success (one interpreter start and project load), reports
    only: its failure does not fail the call."""
    project = str(settings.dbt_project_dir)
    commands = [["--no-use-colors", *command, "--project-dir", project] for command in (args, then) if command]
    argv = [sys.executable, "-m", "tradewatch.dbt_session", *[a for c in commands for a in ("--", *c)][1:]]
    log.debug("running dbt %s%s", " ".join(args), f" then dbt {' '.join(then)}" if then else "")
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # dbt runs there: nothing is written beside the project
    proc = subprocess.run(argv, env=dbt_env(settings), capture_output=True, text=True, cwd=settings.data_dir)
    output = proc.stdout + proc.stderr
    for line in output.splitlines():
        log.debug("dbt: %s", line)
    done = [line for line in output.splitlines()
            if " Done. PASS=" in line or "Finished running" in line or line.startswith(PEAK_MEMORY_LABEL)]
    for line in done:
        log.info("dbt: %s", line.split("  ", 1)[-1].strip())
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise TradewatchError(f"dbt {args[0]} failed (exit {proc.returncode}); the marts keep their previous "
                              f"state. dbt said:\n{tail}")
    return output


@dataclass(frozen=True)
class BuildPlan:
    mode: str  # full | incremental | skip
    periods: tuple[Month, ...]  # the changed months an incremental build rebuilds
    reason: str
    datasets: tuple[str, ...] = ()  # the raw datasets with releases published (or released) since the last build
    models: tuple[str, ...] = ()  # the models an incremental build rebuilds (with their tests): see `stale_models`


def project_fingerprint(project_dir: Path) -> str:
    """A hash of the dbt project's files: a changed model, macro or seed means a full rebuild."""
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        if path.is_file() and path.suffix in (".sql", ".yml", ".csv", ".md") \
                and not {"target", "logs", "dbt_packages"} & set(path.relative_to(project_dir).parts):
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def plan_build(con: duckdb.DuckDBPyConnection, fingerprint: str) -> BuildPlan:
    """What the next build must do: everything (first build, or the project changed), the periods whose releases
    were published (or released) since the last successful build, or nothing."""
    last = audit.last_build(con)
    marts = table_exists(con, "marts", "trade_monthly")
    if not last or not marts:
        return BuildPlan("full", (), "first build")
    started_at, finished_at, built_with = last
    if finished_at is None:
        return BuildPlan("full", (), "the last build did not finish (it failed or was killed)")
    if built_with != fingerprint:
        return BuildPlan("full", (), "the dbt project changed since the last build")
    changed = audit.published_since(con, started_at)
    periods = tuple(dict.fromkeys(p for p, _ in changed))
    if not periods:
        return BuildPlan("skip", (), "nothing published since the last build; the marts are current")
    return BuildPlan("incremental", periods, f"{len(periods)} period(s) published since the last build",
                     tuple(sorted({d for _, d in changed})))


#: A model with this `meta` flag gates the chain below it: the chain is rebuilt only when the model's rows changed
#: since the last build (int_tariff_weight_sources: the tariff lines, their stacked rates and the daily series move
#: only when a calendar year of trade weights or the seeds change, not with each month).
GATE_FLAG = "rebuild_downstream_only_when_changed"


def _manifest(settings: Settings) -> dict | None:
    """The dbt project's graph as the last dbt run wrote it (target/manifest.json)."""
    path = settings.data_dir / "dbt" / "target" / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def gates(manifest: dict) -> dict[str, str]:
    """The gate models (GATE_FLAG) -> their relation in the warehouse."""
    return {node["name"]: node["relation_name"] for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and (node["config"].get("meta") or {}).get(GATE_FLAG)}


def gate_fingerprints(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> dict[str, str]:
    """The rows of each gate model, hashed (order-free: DuckDB's row hash, summed)."""
    out = {}
    for name, relation in relations.items():
        try:
            rows, total = con.execute(f"SELECT count(*), sum(hash(t)) FROM {relation} t").fetchall()[0]
        except duckdb.Error as exc:  # not built yet, or broken: its chain is rebuilt, and dbt says why
            log.warning("cannot fingerprint %s (%s): the models below it are rebuilt", name, exc)
            continue
        out[name] = f"{rows}:{total}"
    return out


def stale_models(manifest: dict, datasets: set[str], unchanged_gates: set[str]) -> list[str]:
    """The models whose rows may have changed: downstream of a raw dataset with new releases, except below a gate
    model whose rows did not change (seeds and the project are unchanged in an incremental build: any change to
    them means a full build)."""
    nodes, parents = manifest["nodes"], manifest["parent_map"]
    dirty = {uid for uid, source in manifest["sources"].items()
             if source["schema"] == "raw" and source["name"] in datasets}
    stale: list[str] = []
    models = {uid for uid, node in nodes.items() if node["resource_type"] == "model"}
    remaining = set(models)
    while remaining:  # parents first
        ready = [uid for uid in remaining if not (set(parents.get(uid, ())) & remaining)]
        for uid in sorted(ready):
            remaining.discard(uid)
            if nodes[uid]["name"] in unchanged_gates or not set(parents.get(uid, ())) & dirty:
                continue
            dirty.add(uid)
            stale.append(nodes[uid]["name"])
        if not ready:
            raise TradewatchError("the dbt project's graph has a cycle")
    return stale


def build(settings: Settings, *, full: bool = False) -> tuple[BuildPlan, list[str]]:
    """Build seeds, models and tests (a failing test fails the build), incrementally where it pays; then check the
    sources' freshness in the same dbt process. Returns the plan and the freshness warnings.

    The largest mart (trade_monthly) is incremental: a monthly refresh rebuilds only the periods published since the
    last successful build; every other mart is small and rebuilt whole. Seeds and unit tests depend only on the
    project, so an incremental build (same project fingerprint) skips them. `full` forces a full rebuild."""
    fingerprint = project_fingerprint(settings.dbt_project_dir)
    manifest = _manifest(settings)
    with open_warehouse(settings.duckdb_path) as con:
        plan = BuildPlan("full", (), "asked for") if full else plan_build(con, fingerprint)
        if plan.mode == "incremental":
            plan = _select(con, plan, manifest)
        if plan.mode != "skip":
            started_at = audit.start_build(con, plan.mode, plan.periods, fingerprint, plan.reason, plan.datasets,
                                           plan.models)
    shown = ", ".join(format_month(p) for p in plan.periods[:12]) + (" ..." if len(plan.periods) > 12 else "")
    log.info("dbt build: %s (%s)%s", plan.mode, plan.reason, f": {shown}" if plan.periods else "")
    if plan.mode == "skip":
        return plan, source_freshness(settings)
    if plan.mode == "full":
        args: tuple[str, ...] = ("build", "--full-refresh", "--exclude", DETECTOR)
    else:  # the models downstream of what changed, with their tests, over the changed months only
        args = ("build", "--select", *plan.models, "--exclude", "resource_type:seed", "resource_type:unit_test",
                DETECTOR, "--vars", changed_periods_var(plan.periods))
    output = run_dbt(settings, *args, then=FRESHNESS)
    manifest = _manifest(settings) or {"nodes": {}}
    with open_warehouse(settings.duckdb_path) as con:
        audit.finish_build(con, started_at, gate_fingerprints(con, gates(manifest)))
    return plan, freshness_warnings(output)


def changed_periods_var(periods: tuple[Month, ...]) -> str:
    """The dbt var `changed_periods` (dbt_project.yml): the months an incremental build rebuilds, as dates. dbt
    parses the project without it (tradewatch.dbt_session), so partial parsing survives."""
    return json.dumps({"changed_periods": [p.isoformat() for p in periods]})


def _select(con: duckdb.DuckDBPyConnection, plan: BuildPlan, manifest: dict | None) -> BuildPlan:
    """The models an incremental build rebuilds: those downstream of the datasets with new releases, except the
    chains below a gate model whose rows have not changed since the last build. Without the graph of the last run,
    every model (as before)."""
    if manifest is None:
        return replace(plan, models=("resource_type:model",))
    relations = gates(manifest)
    _, before = audit.last_finished_build(con)
    now = gate_fingerprints(con, relations)
    unchanged = {name for name, value in now.items() if before.get(name) == value}
    models = tuple(stale_models(manifest, set(plan.datasets), unchanged))
    if not models:
        return replace(plan, mode="skip", reason=f"{plan.reason}, but no model reads them")
    kept = f"; unchanged, not rebuilt below: {', '.join(sorted(unchanged))}" if unchanged else ""
    return replace(plan, models=models, reason=f"{plan.reason}: {len(models)} model(s) downstream{kept}")


FRESHNESS = ("source", "freshness")
#: marts.anomalies and its tests: built from the detector's findings after the scan, not in the main build.
DETECTOR = "tag:detector"


def build_anomalies(settings: Settings) -> str:
    """Build marts.anomalies (with its unit and data tests) from the findings the scan just wrote: a second, small
    dbt invocation after the scan (docs/decisions.md has why, and what it costs)."""
    return run_dbt(settings, "build", "--select", DETECTOR)


def source_freshness(settings: Settings) -> list[str]:
    """Check every source's freshness; return the warnings. A late release is a warning, never a failure."""
    try:
        output = run_dbt(settings, *FRESHNESS)
    except TradewatchError as exc:  # a freshness error must not fail the refresh: report it as a warning
        output = str(exc)
    return freshness_warnings(output)


def freshness_warnings(output: str) -> list[str]:
    """The stale sources in dbt's freshness output, each logged as a late release."""
    warnings = [line.split("  ", 1)[-1].strip() for line in output.splitlines()
                if re.search(r"\b(WARN|ERROR STALE|ERROR)\b", line) and "freshness of" in line]
    for warning in warnings:
        log.warning("late release: %s", warning)
    return warnings
