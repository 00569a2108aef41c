"""Reading docker-compose.yml the way Compose does (interpolation of ${VAR}, ${VAR:-default}, ${VAR:?error}), so the
tests can check it and the multi-process test can start the same processes with the same environment."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
_VAR = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def load() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def interpolations(text: str | None = None) -> list[tuple[str, str | None, str]]:
    """(variable, operator, default-or-message) for every ${...} in the file."""
    text = COMPOSE_FILE.read_text() if text is None else text
    return [(m.group(1), m.group(2), m.group(3) or "") for m in _VAR.finditer(text)]


def interpolate(value: str, env: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        current = env.get(name)
        if op in (":?", "?") and not current:
            raise KeyError(f"{name} is required: {arg}")
        if op in (":-", "-") and not current:
            return arg
        return current or ""

    return _VAR.sub(replace, value).replace("$$", "$")


def airflow_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment every Airflow process gets (x-airflow-env), interpolated with `env`."""
    return {k: interpolate(str(v), env) for k, v in load()["x-airflow-env"].items()}


def env_example() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in (REPO_ROOT / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def script(path: str) -> Path:
    return REPO_ROOT / path


def service_environment(service: str, env: dict[str, str]) -> dict[str, str]:
    """A service's own `environment:`, interpolated with `env`."""
    return {k: interpolate(str(v), env) for k, v in load()["services"][service].get("environment", {}).items()}
