"""docker-compose.yml and Dockerfile cannot run here (no Docker daemon): validate the compose file against the Compose
specification's JSON schema and keep both exactly in step with the code."""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import REPO_ROOT
from tests.deployment import compose
from tradewatch.cli import build_parser
from tradewatch.settings import get_settings

SECRET = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|WEBHOOK")


class _Reads(dict):
    """An empty environment that records every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)


def settings_variables() -> set[str]:
    """Every variable the settings module names, and every one its factory reads (the publishers' key variables and
    TRADEWATCH_<NAME>_* overrides follow from the publisher registry)."""
    text = (REPO_ROOT / "tradewatch/settings.py").read_text()
    env = _Reads()
    get_settings(env)
    return set(re.findall(r'"((?:TRADEWATCH|CENSUS|BLS|COMTRADE)_[A-Z_]+)"', text)) | env.asked


def test_the_compose_file_validates_against_the_compose_specification():
    schema_file = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(compose.load()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    broken = compose.load()
    broken["services"]["redis"]["healtcheck"] = broken["services"]["redis"].pop("healthcheck")  # a typo fails
    assert list(validator.iter_errors(broken))


def test_every_service_is_there_with_health_checks_and_the_data_volume():
    services = compose.load()["services"]
    assert set(services) == {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                             "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
                             "airflow-warehouse-worker"}
    for name, service in services.items():
        if name != "airflow-init":
            assert "healthcheck" in service, f"{name} has no health check"
        if name.startswith("airflow"):
            assert service["build"] == "." and service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
            assert "tradewatch-data:/data" in service["volumes"] or name == "airflow-apiserver"
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-worker", "airflow-warehouse-worker"):
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_no_secret_has_a_default_and_env_example_lists_every_variable():
    found = compose.interpolations()
    for name, op, default in found:
        if SECRET.search(name):
            assert op == ":?" or (op == ":-" and default == ""), f"${{{name}}} must not have a default"
    example = compose.env_example()
    assert {name for name, _, _ in found} <= set(example), set(n for n, _, _ in found) - set(example)
    assert all(not value for name, value in example.items() if SECRET.search(name)), "no secret in .env.example"
    with pytest.raises(KeyError, match="AIRFLOW_FERNET_KEY"):
        compose.airflow_environment({})  # compose refuses to start without the secrets


def test_the_environment_is_what_the_code_reads():
    env = compose.load()["x-airflow-env"]
    known = settings_variables()
    for variable in env:
        if variable.startswith(("TRADEWATCH_", "CENSUS_", "BLS_", "COMTRADE_")):
            assert variable in known, f"compose sets {variable}, which the settings factory never reads"
    options = [v for v in env if v.startswith("AIRFLOW__")]
    script = ("import sys\nfrom airflow.configuration import conf\nknown = conf.configuration_description\n"
              "bad = [o for o in sys.argv[1:] if o.split('__')[2].lower() not in "
              "known.get(o.split('__')[1].lower(), {}).get('options', {})]\nprint(' '.join(bad))")
    result = subprocess.run([sys.executable, "-c", script, *options], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": "/tmp/tw-airflow-check"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"not Airflow options: {result.stdout}"


def test_every_command_exists():
    services = compose.load()["services"]
    airflow_commands = []
    for name, service in services.items():
        command = service.get("command")
        if not command or name in ("postgres", "redis"):
            continue
        if command[0] == "bash":
            assert compose.script(command[1].removeprefix("/opt/tradewatch/")).exists(), command
        elif command[0] == "tradewatch":
            build_parser().parse_args(command[1:])
        else:
            assert command[0] == "airflow", command
            airflow_commands.append(command[1:])
    for mount in services["postgres"]["volumes"]:
        if mount.startswith("./"):
            assert (REPO_ROOT / mount.split(":")[0]).exists(), mount
    script = ("import json, sys\nfrom airflow.cli.cli_parser import get_parser\nparser = get_parser()\n"
              "for argv in json.loads(sys.argv[1]):\n    parser.parse_args(argv)\n")
    result = subprocess.run([sys.executable, "-c", script, json.dumps(airflow_commands)], capture_output=True,
                            text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": "/tmp/tw-af-cli",
                                                         "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"})
    assert result.returncode == 0, result.stderr[-3000:]


def test_queues_and_pool_agree_with_the_dags():
    from dags.tradewatch_dags.defaults import WAREHOUSE_QUEUE, WAREHOUSE_WRITER_POOL

    services = compose.load()["services"]
    warehouse = services["airflow-warehouse-worker"]["command"]
    assert warehouse[warehouse.index("--queues") + 1] == WAREHOUSE_QUEUE
    assert warehouse[warehouse.index("--concurrency") + 1] == "1"
    default = services["airflow-worker"]["command"]
    assert default[default.index("--queues") + 1] == "default"
    assert f"airflow pools set {WAREHOUSE_WRITER_POOL} 1" in compose.script("deploy/airflow-init.sh").read_text()


def test_the_lock_pins_exact_versions_of_the_stack():
    lock = (REPO_ROOT / "requirements.lock").read_text()
    pins = dict(line.split("==") for line in lock.splitlines() if "==" in line and not line.startswith("#"))
    assert pins["apache-airflow"] == "3.3.2"
    assert pins["dbt-core"].startswith("1.11.")
    assert pins["dbt-duckdb"] == "1.11.1"
    assert pins["great_expectations"].startswith("1.")
    assert "apache-airflow-providers-celery" in pins and "celery" in pins and "redis" in pins
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in pins.values())
