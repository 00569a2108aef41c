"""Integrity and policy for every DAG file, parsed with an empty environment."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tradewatch.sources import PUBLISHERS

DAGS = REPO_ROOT / "dags"
#: What a DAG is (tradewatch's, a refresh), then one tag per publisher it fetches from.
APPROVED_TAGS = {"tradewatch", "refresh"}
#: Tasks that write the DuckDB warehouse: DuckDB has one writer, so they must queue in the one-slot pool.
WRITERS = {"migrate", "load", "validate", "build_marts", "scan_anomalies", "send_alerts", "publish"}
#: Imported by the package's task bodies, never by parsing a DAG file: a scheduler parses every file every
#: `min_file_process_interval` (30 s), so a module-level import of any of these costs every parse seconds and memory.
HEAVY_MODULES = ("duckdb", "great_expectations", "dbt", "psycopg", "pandas", "pyarrow", "requests", "urllib3",
                 "expectations", "tradewatch.pipeline", "tradewatch.warehouse", "tradewatch.landing",
                 "tradewatch.quality", "tradewatch.transform", "tradewatch.sources", "tradewatch.http",
                 "tradewatch.alerts", "tradewatch.notifiers", "tradewatch.anomalies", "tradewatch.serving",
                 "tradewatch.audit", "tradewatch.summary")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    env = {"PATH": os.environ["PATH"], "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS)}  # nothing else: no TRADEWATCH_*, no keys
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "tests/dags/inspect_dags.py"), str(DAGS)], env=env,
                          capture_output=True, text=True, cwd=home, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_dag_file_imports_without_errors(report):
    assert report["import_errors"] == {}
    assert all(info["dag_ids"] for info in report["files"].values()), report["files"]
    assert "tradewatch_monthly_refresh" in report["dags"]


@pytest.mark.parametrize("name", sorted(p.name for p in DAGS.glob("*.py")))
def test_parsing_a_dag_file_does_no_work(report, name):
    """No network, no database, no file written, no heavy import: the scheduler repeats a parse every 30 s."""
    parsed = report["files"][name]
    assert parsed["work"] == [], f"{name} does work when parsed: {parsed['work']}"
    heavy = sorted(m for m in parsed["new_modules"]
                   if any(m == h or m.startswith(h + ".") for h in HEAVY_MODULES))
    assert not heavy, f"{name} imports {heavy} when parsed: import inside the task body instead"
    assert any(m.startswith("tradewatch") for m in parsed["new_modules"])  # the record sees the file's imports


def test_dag_policies(report):
    for dag_id, dag in report["dags"].items():
        assert dag["catchup"] is False, dag_id
        assert dag["timetable"] != "NullTimetable", f"{dag_id} needs an explicit schedule"
        assert APPROVED_TAGS <= set(dag["tags"]) <= APPROVED_TAGS | set(PUBLISHERS), dag_id
        assert dag["doc"], f"{dag_id} needs doc_md"
        for task_id, task in dag["tasks"].items():
            where = f"{dag_id}.{task_id}"
            assert task["owner"] == "tradewatch", where
            assert task["retries"] >= 2 and task["retry_delay_s"] >= 60, where
            assert task["on_failure_callback"], f"{where} must notify on failure (task-level callback)"


def test_warehouse_writers_use_the_one_slot_pool_and_the_warehouse_queue(report):
    tasks = report["dags"]["tradewatch_monthly_refresh"]["tasks"]
    assert WRITERS <= set(tasks)
    for task_id, task in tasks.items():
        writer = task_id in WRITERS
        assert (task["pool"] == "duckdb_writer") == writer, task_id
        assert (task["queue"] == "warehouse") == writer, task_id  # one single-slot Celery worker serves it
    assert tasks["plan"]["pool"] != "duckdb_writer"  # planning reads the warehouse read-only
    assert tasks["fetch"]["pool"] != "duckdb_writer"  # fetching only writes the landing zone: runs in parallel


def test_the_refresh_is_tagged_with_every_publisher_it_fetches(report):
    assert set(report["dags"]["tradewatch_monthly_refresh"]["tags"]) == APPROVED_TAGS | set(PUBLISHERS)


def test_refresh_shape_write_audit_publish(report):
    tasks = report["dags"]["tradewatch_monthly_refresh"]["tasks"]
    assert tasks["plan"]["upstream"] == ["migrate"]  # the layout is current before anything reads it
    assert tasks["fetch"]["upstream"] == ["plan"]
    assert tasks["load"]["upstream"] == ["fetch"]
    assert tasks["validate"]["upstream"] == ["load"]
    assert tasks["build_marts"]["upstream"] == ["validate"]  # marts only after the gate
    assert tasks["scan_anomalies"]["upstream"] == ["build_marts"]  # detection over the fresh marts
    assert tasks["send_alerts"]["upstream"] == ["scan_anomalies"]
    assert tasks["publish"]["upstream"] == ["scan_anomalies"]  # readers get it only after everything before
    assert tasks["log_summary"]["upstream"] == ["publish", "send_alerts"]
    # No Asset: nothing schedules on the marts (a DAG triggered by the rebuilt marts would publish before the scan).
    assert all(task["outlets"] == [] for task in tasks.values())
    refresh = report["dags"]["tradewatch_monthly_refresh"]
    assert refresh["max_active_runs"] == 1
    assert refresh["cron"] == "0 6 10 * *"  # monthly, after the Census release of the month two back
