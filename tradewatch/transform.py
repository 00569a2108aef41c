"""Run dbt on the warehouse: one `dbt build` process (DuckDB has one writer; per-model processes only fight)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

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


def build(settings: Settings) -> str:
    """Build seeds, models and tests; a failing test fails the build."""
    return run_dbt(settings, "build")


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
