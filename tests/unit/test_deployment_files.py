"""docker-compose.yml and Dockerfile cannot run here (no Docker daemon): keep them in step with the code."""

import re

import yaml

from tests.conftest import REPO_ROOT
from tradewatch.cli import build_parser


def settings_variables() -> set[str]:
    text = (REPO_ROOT / "tradewatch/settings.py").read_text()
    return set(re.findall(r'"((?:TRADEWATCH|CENSUS)_[A-Z_]+)"', text))


def test_compose_services_run_real_commands_with_known_settings():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    known = settings_variables()
    assert "TRADEWATCH_DATA_DIR" in known and "CENSUS_API_KEY" in known
    for name, service in compose["services"].items():
        assert service.get("build") == ".", name
        build_parser().parse_args(service["command"])  # exits (fails the test) on an unknown command
        for variable in service.get("environment", {}):
            assert variable in known, f"{name} sets {variable}, which the settings factory never reads"
        for mount in service.get("volumes", []):
            assert mount.split(":")[0] in compose["volumes"], mount


def test_dockerfile_installs_the_committed_lock_and_the_package():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.lock" in dockerfile
    assert "--no-deps -e ." in dockerfile
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".venv", "data"} <= set(ignored)


def test_the_lock_pins_exact_versions_of_the_stack():
    lock = (REPO_ROOT / "requirements.lock").read_text()
    pins = dict(line.split("==") for line in lock.splitlines() if "==" in line and not line.startswith("#"))
    assert pins["apache-airflow"] == "3.3.2"
    assert pins["dbt-core"].startswith("1.11.")
    assert pins["dbt-duckdb"] == "1.11.1"
    assert pins["great_expectations"].startswith("1.")
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in pins.values())
