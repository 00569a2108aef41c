"""The scaled-out deployment without Docker: PostgreSQL and Redis from Debian packages, the same init scripts and the
same environment as docker-compose.yml, Airflow's api-server, scheduler, dag-processor, triggerer and two Celery
workers (default and warehouse queues) as separate processes; the refresh triggered through the REST API on the
sample archive; the marts checked in the warehouse and in the PostgreSQL serving database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO_ROOT, free_port, system_tool_missing
from tests.deployment import compose

pytestmark = pytest.mark.slow
DAG_ID = "tradewatch_monthly_refresh"
LOGICAL_DATE = "2025-08-10T06:00:00Z"  # reference month 2025-06, the small archive's last month
WRITERS = {"migrate", "load", "validate", "build_marts", "scan_anomalies", "send_alerts", "publish"}
SECRETS = {"POSTGRES_PASSWORD": "pg-super", "AIRFLOW_DB_PASSWORD": "af-db-pw", "SERVING_DB_PASSWORD": "serving-pw",
           "SERVING_READER_PASSWORD": "reader-pw", "REDIS_PASSWORD": "redis-pw",
           "AIRFLOW_FERNET_KEY": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
           "AIRFLOW_JWT_SECRET": "jwt-secret-test",
           "AIRFLOW_API_SECRET_KEY": "api-secret-test", "AIRFLOW_ADMIN_USERNAME": "admin",
           "AIRFLOW_ADMIN_PASSWORD": "admin-pw"}


@pytest.fixture
def redis_server(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        system_tool_missing("Redis (redis-server)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--requirepass",
                                SECRETS["REDIS_PASSWORD"], "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield port
    process.terminate()
    process.wait(timeout=20)


def local_environment(tmp_path: Path, pg, redis_port: int, api_port: int, archive: Path) -> dict[str, str]:
    """docker-compose.yml's Airflow environment with the service names pointed at the local servers."""
    env = compose.airflow_environment({**SECRETS, "TRADEWATCH_START_MONTH": "2024-01"})
    local = {}
    for key, value in env.items():
        value = (value.replace("@postgres:5432/", f"@127.0.0.1:{pg.port}/")
                 .replace("@redis:6379/", f"@127.0.0.1:{redis_port}/")
                 .replace("http://airflow-apiserver:8080", f"http://127.0.0.1:{api_port}")
                 .replace("/opt/airflow", str(tmp_path / "airflow"))
                 .replace("/opt/tradewatch/dags", str(REPO_ROOT / "dags")))
        local[key] = str(tmp_path / "data") if key == "TRADEWATCH_DATA_DIR" else value
    # One difference from compose: no schedule, so the only run is the one the test triggers (a scheduled run for
    # the latest interval would wait, rightly, for releases this small archive does not hold).
    return {**local, "TRADEWATCH_REFRESH_CRON": "none", "TRADEWATCH_ARCHIVE_DIR": str(archive),
            "AIRFLOW__CORE__DAG_DIR_LIST_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2", "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600"}


def run_script(path: str, env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        result = subprocess.run(["bash", str(REPO_ROOT / path)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                timeout=600)
    assert result.returncode == 0, log.read_text()[-4000:]


def api(base: str, method: str, path: str, token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_for(what: str, check, timeout: float, logs: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def start_airflow(env: dict[str, str], api_port: int, logs: Path) -> list[subprocess.Popen]:
    """Every long-running Airflow service of the compose file, with its own command."""
    services = compose.load()["services"]
    processes = []
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-worker", "airflow-warehouse-worker"):
        command = list(services[name]["command"])
        if name == "airflow-apiserver":
            command[command.index("--port") + 1] = str(api_port)
        if name == "airflow-worker":
            command += ["--concurrency", "2"]  # two cores here
        if name.endswith("worker"):
            command += ["--celery-hostname", f"{name}@%h"]
        log = (logs / f"{name}.log").open("w")
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_the_refresh_runs_on_the_celery_deployment(tmp_path, postgres_server, redis_server, small_archive):
    api_port = free_port()
    env = {**os.environ, **local_environment(tmp_path, postgres_server, redis_server, api_port, small_archive)}
    env["PATH"] = f"{REPO_ROOT / '.venv' / 'bin'}:{env['PATH']}"
    logs = tmp_path / "logs"
    logs.mkdir()

    # the same scripts as the compose services postgres (initdb.d) and airflow-init
    pg_env = {**env, **compose.service_environment("postgres", SECRETS), "POSTGRES_DB": "postgres",
              "PGHOST": "127.0.0.1", "PGPORT": str(postgres_server.port), "PGPASSWORD": postgres_server.password}
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:  # the test server is shared: start clean
        for database in ("airflow", "tradewatch_serving"):
            admin.execute(f"DROP DATABASE IF EXISTS {database}")
        for role in ("airflow", "tradewatch", "tradewatch_reader", "tradewatch_readers"):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
    run_script("deploy/postgres-init.sh", pg_env, logs / "postgres-init.log")
    init_env = {**compose.service_environment("airflow-init", SECRETS), **env}
    run_script("deploy/airflow-init.sh", init_env, logs / "airflow-init.log")

    processes = start_airflow(env, api_port, logs)
    try:
        base = f"http://127.0.0.1:{api_port}"
        wait_for("the api-server", lambda: api(base, "GET", "/api/v2/monitor/health"), 180, logs)
        login = {"username": "admin", "password": SECRETS["AIRFLOW_ADMIN_PASSWORD"]}
        token = api(base, "POST", "/auth/token", body=login)["access_token"]
        wait_for("the DAG to be parsed", lambda: api(base, "GET", f"/api/v2/dags/{DAG_ID}", token), 240, logs)
        api(base, "PATCH", f"/api/v2/dags/{DAG_ID}", token, {"is_paused": False})
        run = api(base, "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", token,
                  {"logical_date": LOGICAL_DATE, "dag_run_id": "compose_test"})

        def finished():
            state = api(base, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}", token)["state"]
            return state if state in ("success", "failed") else None

        assert wait_for("the DAG run", finished, 1500, logs) == "success", \
            "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(logs.glob("*worker*.log")))
        instances = api(base, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/compose_test/taskInstances?limit=200",
                        token)["task_instances"]
        assert {ti["state"] for ti in instances} == {"success"}
        for ti in instances:
            expected = "warehouse" if ti["task_id"] in WRITERS else "default"
            assert ti["queue"] == expected, (ti["task_id"], ti["queue"])
            if ti["task_id"] in WRITERS:
                assert ti["pool"] == "duckdb_writer"
    finally:
        stop(processes)

    import duckdb

    # US: 18 months x 5 partners; China: 16 periods x the 12 regions of the sample that GACC's label seed maps
    balance_rows = 18 * 5 + 16 * 12
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.trade_balance_monthly").fetchall() == [(balance_rows,)]
    reader = postgres_server.url("tradewatch_reader", SECRETS["SERVING_READER_PASSWORD"], "tradewatch_serving")
    with psycopg.connect(reader) as conn:
        assert conn.execute("SELECT count(*) FROM marts.trade_balance_monthly").fetchall() == [(balance_rows,)]
        assert conn.execute("SELECT count(*) FROM marts.anomalies").fetchall()[0][0] > 0
