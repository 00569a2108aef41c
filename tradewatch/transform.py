"""Run dbt on the warehouse: one `dbt build` process (DuckDB has one writer; per-model processes only fight)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tradewatch.errors import TradewatchError
from tradewatch.settings import Settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TRADEWATCH_DUCKDB_PATH=str(settings.duckdb_path),
        DBT_PROFILES_DIR=str(DBT_PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_LOG_PATH=str(settings.data_dir / "dbt" / "logs"),
        DBT_TARGET_PATH=str(settings.data_dir / "dbt" / "target"),
    )
    return env


def run_dbt(settings: Settings, *args: str) -> str:
    """Run a dbt command against the warehouse; raise with dbt's own output when it fails."""
    command = [dbt_executable(), "--no-use-colors", *args, "--project-dir", str(DBT_PROJECT_DIR)]
    log.debug("running %s", " ".join(command[1:]))
    proc = subprocess.run(command, env=dbt_env(settings), capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    output = proc.stdout + proc.stderr
    for line in output.splitlines():
        log.debug("dbt: %s", line)
    done = [line for line in output.splitlines() if " Done. PASS=" in line or "Finished running" in line]
    for line in done:
        log.info("dbt %s: %s", args[0], line.split("  ", 1)[-1].strip())
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise TradewatchError(f"dbt {args[0]} failed (exit {proc.returncode}); the marts keep their previous "
                              f"state. dbt said:\n{tail}")
    return output


@dataclass(frozen=True)
class BuildPlan:
    mode: str  # full | incremental | skip
    periods: tuple[str, ...]  # the changed months (YYYY-MM) an incremental build rebuilds
    reason: str


def project_fingerprint() -> str:
    """A hash of the dbt project's files: a changed model, macro or seed means a full rebuild."""
    digest = hashlib.sha256()
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        if path.is_file() and path.suffix in (".sql", ".yml", ".csv", ".md") \
                and not {"target", "logs", "dbt_packages"} & set(path.relative_to(DBT_PROJECT_DIR).parts):
            digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def plan_build(con: duckdb.DuckDBPyConnection, fingerprint: str) -> BuildPlan:
    """What the next build must do: everything (first build, or the project changed), the periods whose releases
    were published (or released) since the last successful build, or nothing."""
    last = con.execute("SELECT started_at, project_fingerprint FROM audit.builds ORDER BY started_at DESC "
                       "LIMIT 1").fetchall()
    marts = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' AND "
                        "table_name = 'trade_monthly'").fetchall()[0][0]
    if not last or not marts:
        return BuildPlan("full", (), "first build")
    started_at, built_with = last[0]
    if built_with != fingerprint:
        return BuildPlan("full", (), "the dbt project changed since the last build")
    periods = tuple(p for (p,) in con.execute(
        "SELECT DISTINCT strftime(period, '%Y-%m') FROM audit.releases WHERE status IN ('published', 'released') "
        "AND decided_at >= ? ORDER BY 1", [started_at]).fetchall())
    if not periods:
        return BuildPlan("skip", (), "nothing published since the last build; the marts are current")
    return BuildPlan("incremental", periods, f"{len(periods)} period(s) published since the last build")


def build(settings: Settings, *, full: bool = False) -> BuildPlan:
    """Build seeds, models and tests (a failing test fails the build), incrementally where it pays.

    The largest mart (trade_monthly) is incremental: a monthly refresh rebuilds only the periods published since the
    last successful build; every other mart is small and rebuilt whole. `full` forces a full rebuild."""
    from tradewatch.warehouse import open_warehouse

    fingerprint = project_fingerprint()
    with open_warehouse(settings.duckdb_path) as con:
        plan = BuildPlan("full", (), "asked for") if full else plan_build(con, fingerprint)
        started_at = con.execute("SELECT CAST(now() AS TIMESTAMP)").fetchall()[0][0]
    log.info("dbt build: %s (%s)%s", plan.mode, plan.reason,
             f": {', '.join(plan.periods[:12])}{' ...' if len(plan.periods) > 12 else ''}" if plan.periods else "")
    if plan.mode == "skip":
        return plan
    if plan.mode == "full":
        run_dbt(settings, "build", "--full-refresh")
    else:
        run_dbt(settings, "build", "--vars", json.dumps({"changed_periods": list(plan.periods)}))
    with open_warehouse(settings.duckdb_path) as con:
        con.execute("INSERT INTO audit.builds VALUES (?, CAST(now() AS TIMESTAMP), ?, ?, ?, ?)",
                    [started_at, plan.mode, list(plan.periods), fingerprint, plan.reason])
    return plan


def source_freshness(settings: Settings) -> list[str]:
    """Check every source's freshness; return the warnings. A late release is a warning, never a failure."""
    try:
        output = run_dbt(settings, "source", "freshness")
    except TradewatchError as exc:  # a freshness error must not fail the refresh: report it as a warning
        output = str(exc)
    warnings = [line.split("  ", 1)[-1].strip() for line in output.splitlines()
                if re.search(r"\b(WARN|ERROR STALE|ERROR)\b", line) and "freshness of" in line]
    for warning in warnings:
        log.warning("late release: %s", warning)
    return warnings
