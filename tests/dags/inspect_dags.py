"""Load every DAG file with Airflow's DagBag (which also rejects cycles) and print what the policy tests check, as JSON.

Run in a subprocess with an empty environment (tests/dags/test_dag_policies.py), so a DAG that reads settings,
variables or the network at import time fails here instead of on every parse in production.

While a file is parsed, this also records the work it does, which a scheduler would repeat on every parse of the
folder: every socket connection, name lookup or SQLite connection attempted (refused here: parsing must need no
network and no database), every file opened for writing, and the modules the parse imported that were not
imported before (so a DAG file that imports DuckDB, Great Expectations, dbt or the pipeline at module level is seen).
"""

import builtins
import io
import json
import os
import socket
import sqlite3
import sys
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

folder = Path(sys.argv[1])
sys.path.insert(0, str(folder))  # as Airflow does for its DAGs folder, so `tradewatch_dags` imports
report = {"import_errors": {}, "files": {}, "dags": {}}
work: list[str] = []


class NoNetwork(OSError):
    pass


def _refuse(what):
    def refuse(*args, **kwargs):
        work.append(f"{what} {args[1:] if what == 'connect' else args[:2]}")
        raise NoNetwork(f"parsing a DAG file must not use the network ({what})")
    return refuse


def _guard_writes(real_open):
    def guarded(file, mode="r", *args, **kwargs):
        if any(flag in str(mode) for flag in "wax+"):
            work.append(f"open {file} {mode}")
        return real_open(file, mode, *args, **kwargs)
    return guarded


socket.socket.connect = _refuse("connect")
socket.socket.connect_ex = _refuse("connect")
socket.getaddrinfo = _refuse("getaddrinfo")
socket.create_connection = _refuse("create_connection")
sqlite3.connect = _refuse("sqlite3.connect")  # Airflow's metadata database here (AIRFLOW_HOME is empty)
builtins.open = _guard_writes(builtins.open)
io.open = builtins.open
os.environ.pop("TRADEWATCH_DATA_DIR", None)

for path in sorted(folder.glob("*.py")):
    before = set(sys.modules)
    work.clear()
    bag = DagBag(dag_folder=str(path), bundle_path=folder)
    report["files"][path.name] = {
        "dag_ids": sorted(bag.dag_ids),
        "work": list(work),
        "new_modules": sorted(set(sys.modules) - before),
    }
    report["import_errors"].update({str(k): str(v) for k, v in bag.import_errors.items()})
    for dag_id, dag in bag.dags.items():
        report["dags"][dag_id] = {
            "file": path.name,
            "tags": sorted(dag.tags),
            "catchup": dag.catchup,
            "timetable": type(dag.timetable).__name__,
            "cron": getattr(dag.timetable, "expression", None),
            "max_active_runs": dag.max_active_runs,
            "doc": bool(dag.doc_md),
            "tasks": {
                t.task_id: {
                    "owner": t.owner,
                    "retries": t.retries,
                    "retry_delay_s": t.retry_delay.total_seconds(),
                    "pool": t.pool,
                    "queue": t.queue,
                    "on_failure_callback": bool(t.on_failure_callback),
                    "outlets": [getattr(o, "uri", str(o)) for o in t.outlets],
                    "upstream": sorted(t.upstream_task_ids),
                }
                for t in dag.tasks
            },
        }
print(json.dumps(report))
