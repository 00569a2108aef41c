"""Run the project's DAGs on this machine with Airflow's own `airflow dags test` (SQLite metadata DB).

This is how `make demo` runs the refresh: through Airflow itself, not a side path. The package does not import
Airflow; it drives Airflow's command line in a subprocess with an AIRFLOW_HOME under the data directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tradewatch.errors import TradewatchError
from tradewatch.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = REPO_ROOT / "dags"
WRITER_POOL = "duckdb_writer"


def airflow_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        AIRFLOW_HOME=str(settings.data_dir / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        GX_ANALYTICS_ENABLED="false",
        TRADEWATCH_DATA_DIR=str(settings.data_dir),
        TRADEWATCH_DUCKDB_PATH=str(settings.duckdb_path),
        TRADEWATCH_ARCHIVE_DIR=str(settings.archive_dir),
        TRADEWATCH_SOURCE_MODE=settings.source_mode,
    )
    return env


def _airflow() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def _run(args: list[str], env: dict[str, str], log_path: Path, on_line: Callable[[str], None] | None = None) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as log, subprocess.Popen(
        [_airflow(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if on_line:
                on_line(line.rstrip("\n"))
        return proc.wait()


def prepare(settings: Settings, log_path: Path) -> dict[str, str]:
    """Migrate the SQLite metadata DB and create the writer pool. Idempotent."""
    env = airflow_env(settings)
    for args in (["db", "migrate"],
                 ["pools", "set", WRITER_POOL, "1", "DuckDB allows one writer: warehouse writers queue here"]):
        if _run(args, env, log_path) != 0:
            raise TradewatchError(f"`airflow {' '.join(args[:2])}` failed; see {log_path}")
    return env


def dags_test(settings: Settings, dag_id: str, logical_date: str, log_path: Path,
              on_line: Callable[[str], None] | None = None) -> int:
    """Run one DAG run in-process with `airflow dags test`; return its exit code (1 when the run failed)."""
    env = prepare(settings, log_path)
    return _run(["dags", "test", dag_id, logical_date], env, log_path, on_line)
