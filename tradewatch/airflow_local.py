"""Run the project's DAGs on this machine with Airflow's own `airflow dags test` (SQLite metadata DB).

This is how `make demo` runs the refresh: through Airflow itself, not a side path. The package does not import
Airflow; it drives Airflow's command line in a subprocess with an AIRFLOW_HOME under the data directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from tradewatch.errors import TradewatchError
from tradewatch.settings import Settings

WRITER_POOL = "duckdb_writer"


def airflow_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Airflow's processes: this machine's, the settings' paths, then `extra`."""
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(settings.data_dir / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(settings.dags_dir),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        GX_ANALYTICS_ENABLED="false",
        TRADEWATCH_DATA_DIR=str(settings.data_dir),
        TRADEWATCH_DUCKDB_PATH=str(settings.duckdb_path),
        TRADEWATCH_ARCHIVE_DIR=str(settings.archive_dir),
        TRADEWATCH_SOURCE_MODE=settings.source_mode,
    )
    env.update(extra or {})
    return env


def _airflow() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def _run(args: list[str], env: dict[str, str], log_path: Path, on_line: Callable[[str], None] | None = None,
         timeout: float | None = None) -> int:
    """Run `airflow ARGS` in the data directory, appending its output to log_path; kill it after `timeout` s."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    Path(env["TRADEWATCH_DATA_DIR"]).mkdir(parents=True, exist_ok=True)  # its working directory
    with open(log_path, "a") as log, subprocess.Popen(
        [_airflow(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=env["TRADEWATCH_DATA_DIR"],
        start_new_session=True,
    ) as proc:
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL)) if timeout else None
        if timer:
            timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                if on_line:
                    on_line(line.rstrip("\n"))
            code = proc.wait()
        finally:
            if timer:
                timer.cancel()
        if code == -signal.SIGKILL and timeout:
            log.write(f"\ntradewatch: `airflow {' '.join(args)}` killed after {timeout:.0f} s\n")
        return code


def prepare(settings: Settings, log_path: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """Migrate the SQLite metadata DB and create the writer pool. Idempotent."""
    env = airflow_env(settings, extra_env)
    for args in (["db", "migrate"],
                 ["pools", "set", WRITER_POOL, "1", "DuckDB allows one writer: warehouse writers queue here"]):
        if _run(args, env, log_path) != 0:
            raise TradewatchError(f"`airflow {' '.join(args[:2])}` failed; see {log_path}")
    return env


def dags_test(settings: Settings, dag_id: str, logical_date: str, log_path: Path,
              on_line: Callable[[str], None] | None = None, extra_env: dict[str, str] | None = None,
              timeout: float | None = None) -> int:
    """Run one DAG run in-process with `airflow dags test`; return its exit code (1 when the run failed).

    `dags test` honours retry delays (minutes, by the DAG's policy), so a task that fails for a transient reason
    makes it wait; `timeout` bounds the whole run (tests use it; the demo waits as the scheduler would).
    """
    env = prepare(settings, log_path, extra_env)
    return _run(["dags", "test", dag_id, logical_date], env, log_path, on_line, timeout)
