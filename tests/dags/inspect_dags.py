"""Load every DAG file with Airflow's DagBag (which also rejects cycles) and print what the policy tests check, as JSON.

Run in a subprocess with an empty environment (tests/dags/test_dag_policies.py), so a DAG that reads settings,
variables or the network at import time fails here instead of on every parse in production.
"""

import json
import sys
import time
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

folder = Path(sys.argv[1])
sys.path.insert(0, str(folder))  # as Airflow does for its DAGs folder, so `common` imports
report = {"import_errors": {}, "files": {}, "dags": {}}
for path in sorted(folder.glob("*.py")):
    started = time.monotonic()
    bag = DagBag(dag_folder=str(path), bundle_path=folder)
    report["files"][path.name] = {"seconds": time.monotonic() - started, "dag_ids": sorted(bag.dag_ids)}
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
