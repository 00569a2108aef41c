"""Integrity and policy for every DAG file, parsed with an empty environment."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

DAGS = REPO_ROOT / "dags"
APPROVED_TAGS = {"tradewatch", "census", "refresh"}
#: Tasks that write the DuckDB warehouse: DuckDB has one writer, so they must queue in the one-slot pool.
WRITERS = {"migrate", "load", "validate", "build_marts", "scan_anomalies", "send_alerts", "publish"}


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
def test_dag_file_parses_quickly_and_does_no_work_at_import(report, name):
    # Generous bound: the point is catching network or database calls at import, not timing the parser.
    assert report["files"][name]["seconds"] < 5


def test_dag_policies(report):
    for dag_id, dag in report["dags"].items():
        assert dag["catchup"] is False, dag_id
        assert dag["timetable"] != "NullTimetable", f"{dag_id} needs an explicit schedule"
        assert set(dag["tags"]) <= APPROVED_TAGS and dag["tags"], dag_id
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


def test_refresh_shape_write_audit_publish(report):
    tasks = report["dags"]["tradewatch_monthly_refresh"]["tasks"]
    assert tasks["plan"]["upstream"] == ["migrate"]  # the layout is current before anything reads it
    assert tasks["fetch"]["upstream"] == ["plan"]
    assert tasks["load"]["upstream"] == ["fetch"]
    assert tasks["validate"]["upstream"] == ["load"]
    assert tasks["build_marts"]["upstream"] == ["validate"]  # marts only after the gate
    assert tasks["build_marts"]["outlets"] == ["tradewatch://warehouse/marts"]
    assert tasks["scan_anomalies"]["upstream"] == ["build_marts"]  # detection over the fresh marts
    assert tasks["send_alerts"]["upstream"] == ["scan_anomalies"]
    assert tasks["publish"]["upstream"] == ["scan_anomalies"]  # readers get it only after everything before
    assert tasks["report"]["upstream"] == ["publish", "send_alerts"]
    refresh = report["dags"]["tradewatch_monthly_refresh"]
    assert refresh["max_active_runs"] == 1
    assert refresh["cron"] == "0 6 10 * *"  # monthly, after the Census release of the month two back
