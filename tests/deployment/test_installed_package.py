"""`pip install .` plus a data directory is a deployment: the wheel carries the dbt project, the DAGs and the quality
suites, finds them from any working directory with only TRADEWATCH_DATA_DIR set, and writes nothing beside them. The
image (Dockerfile, docker-compose.yml) relies on nothing the installed package does not provide.

The wheel is built from this checkout (with setuptools from the package index, as `make venv` builds the editable
install) and installed with `pip install --target` into a folder of its own (what pip puts into site-packages); its
dependencies come from the test's own environment (the committed lock)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.deployment import compose
from tradewatch.cli import build_parser

NOT_SHIPPED = {"target", "logs", "dbt_packages", "__pycache__"}
NOT_COPIED = shutil.ignore_patterns(*NOT_SHIPPED, "*.pyc")  # .dockerignore's


def wheel_sources() -> list[str]:
    """What the Dockerfile's first stage copies to build the wheel from."""
    stage = (REPO_ROOT / "Dockerfile").read_text().split("\nFROM ")[1]  # [0]: the comment above it
    return [src for line in stage.splitlines() if line.startswith("COPY ") for src in line.split()[1:-1]]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The folder the wheel was installed into (its `tradewatch/`, `expectations/`, `bin/`). The wheel is built from a
    copy of what the Dockerfile copies to build it (and not in the checkout, where a stale build/ would ship)."""
    source, wheels = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    target = tmp_path_factory.mktemp("site-packages")
    for name in wheel_sources():
        copy = shutil.copytree if (REPO_ROOT / name).is_dir() else shutil.copy2
        copy(REPO_ROOT / name, source / name, **({"ignore": NOT_COPIED} if copy is shutil.copytree else {}))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    wheel = next(wheels.glob("tradewatch-*.whl"))
    done = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return target


def run_installed(installed: Path, cwd: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run `args` with the installed package first on the path, from `cwd`, with only TRADEWATCH_DATA_DIR (and
    what Python needs) in the environment."""
    environment = {"PATH": f"{installed / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin",
                   "PYTHONPATH": str(installed), "HOME": str(cwd), "GX_ANALYTICS_ENABLED": "false", **env}
    return subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=900)


def shipped_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and not NOT_SHIPPED & set(p.relative_to(folder).parts) and p.suffix != ".pyc"}


def test_the_wheel_ships_the_dbt_project_the_dags_and_the_suites(installed):
    for name in ("dbt_project", "dags"):
        ours, theirs = shipped_files(REPO_ROOT / name), shipped_files(installed / "tradewatch" / "_project" / name)
        assert ours and ours == theirs, f"{name}: missing {sorted(ours - theirs)[:5]}, extra {sorted(theirs - ours)}"
    assert shipped_files(REPO_ROOT / "expectations") <= shipped_files(installed / "expectations")
    assert (installed / "tradewatch" / "data_docs_vendor" / "NOTICE.md").is_file()
    assert not list((installed / "tradewatch" / "_project").rglob("target"))  # dbt's output never ships


def test_the_installed_package_finds_everything_from_anywhere(installed, tmp_path):
    code = ("import json, expectations, tradewatch\nfrom tradewatch.settings import get_settings\ns = get_settings()\n"
            "print(json.dumps({'package': tradewatch.__file__, 'suites': expectations.__file__, "
            "'dbt': str(s.dbt_project_dir), 'dags': str(s.dags_dir), 'data': str(s.data_dir)}))")
    result = run_installed(installed, tmp_path, [sys.executable, "-c", code], TRADEWATCH_DATA_DIR=str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert all(Path(found[k]).is_relative_to(installed) for k in ("package", "suites", "dbt", "dags")), found
    assert (Path(found["dbt"]) / "dbt_project.yml").is_file() and (Path(found["dags"]) / "tradewatch_dags").is_dir()
    assert found["data"] == str(tmp_path / "d")
    other = run_installed(installed, tmp_path, [sys.executable, "-c", code], TRADEWATCH_DATA_DIR=str(tmp_path / "d"),
                          TRADEWATCH_DBT_PROJECT_DIR=str(REPO_ROOT / "dbt_project"))
    assert json.loads(other.stdout)["dbt"] == str(REPO_ROOT / "dbt_project")  # the setting points elsewhere
    wrong = run_installed(installed, tmp_path, [sys.executable, "-c", code], TRADEWATCH_DATA_DIR=str(tmp_path / "d"),
                          TRADEWATCH_DAGS_DIR=str(tmp_path))
    assert wrong.returncode != 0 and "TRADEWATCH_DAGS_DIR" in wrong.stderr and "has no *.py" in wrong.stderr


def dockerfile() -> str:
    return (REPO_ROOT / "Dockerfile").read_text()


def test_the_image_installs_the_lock_then_the_wheel_and_copies_no_source_tree():
    text = dockerfile()
    final = text.split("\nFROM ")[-1]  # the image's own stage (the first one only builds the wheel)
    assert re.search(r"pip install --no-cache-dir -r requirements\.lock", final)
    assert re.search(r"pip install --no-cache-dir --no-deps /tmp/wheels/tradewatch-\*\.whl", final)
    copied = [line.split()[1:-1] for line in final.splitlines() if line.startswith("COPY ")]
    assert all(src[0].startswith("--from=") or src in (["requirements.lock"], ["deploy"]) for src in copied), copied
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for line in text.splitlines():  # everything copied from the build context exists and is not ignored
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists() and source not in ignored, source
    assert re.search(r"^USER tradewatch$", final, re.M)  # not root


def test_every_path_and_command_the_image_relies_on_comes_from_the_installed_package(installed, tmp_path):
    text = dockerfile()
    # compose points Airflow at <WORKDIR>/dags, the link the Dockerfile makes to what the installed package says
    link = re.search(r'ln -s "\$\((\S+python) -c \'(.+?)\'\)" (\S+)$', text, re.M)
    assert link, "the Dockerfile no longer links the DAGs folder"
    workdir = re.findall(r"^WORKDIR (\S+)$", text.split("\nFROM ")[-1], re.M)[0]
    dags_folder = compose.load()["x-airflow-env"]["AIRFLOW__CORE__DAGS_FOLDER"]
    assert dags_folder == f"{workdir}/{link.group(3)}"
    result = run_installed(installed, tmp_path, [sys.executable, "-c", link.group(2)])
    assert result.returncode == 0, result.stderr[-2000:]
    dags = Path(result.stdout.strip())
    assert dags.is_relative_to(installed) and (dags / "tradewatch_monthly_refresh.py").is_file()
    # the image's commands: tradewatch is the wheel's console script; airflow and celery come from the lock
    cmd = json.loads(re.search(r"^CMD (\[.+\])$", text, re.M).group(1))
    assert (installed / "bin" / cmd[0]).is_file()
    build_parser().parse_args(cmd[1:])
    assert run_installed(installed, tmp_path, [cmd[0], "--help"]).returncode == 0
    scripts = {ep.name for ep in entry_points(group="console_scripts")}
    for name, service in compose.load()["services"].items():
        command, check = service.get("command") or [], service.get("healthcheck", {}).get("test", [])
        if name in ("postgres", "redis"):
            continue
        if command[0] == "bash":
            assert command[1].startswith(f"{workdir}/deploy/") and "COPY deploy deploy" in text
            assert (REPO_ROOT / command[1].removeprefix(f"{workdir}/")).is_file()
        else:
            assert command[0] in scripts, f"{name}: {command[0]} is no console script of the locked packages"
        words = " ".join(check).split()
        assert all(tool in scripts | {"CMD", "CMD-SHELL", "curl"} for tool in words[:2]), (name, check)


@pytest.mark.slow
def test_a_refresh_runs_from_the_installed_package_and_writes_only_under_the_data_dir(installed, tmp_path):
    before = shipped_files(installed)
    data, cwd = tmp_path / "data", tmp_path / "elsewhere"
    cwd.mkdir()
    steps = [["tradewatch", "sample", "--start", "2024-10", "--end", "2025-03"],
             ["tradewatch", "fetch", "--source", "census", "--period", "2024-10", "--to", "2025-03", "--load"],
             ["tradewatch", "build"]]
    for step in steps:
        result = run_installed(installed, cwd, step, TRADEWATCH_DATA_DIR=str(data))
        assert result.returncode == 0, f"{step}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    assert "'built': 'full'" in result.stdout, result.stdout[-2000:]
    import duckdb

    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        months = con.execute("SELECT count(DISTINCT period_month) FROM marts.trade_balance_monthly").fetchall()[0][0]
    assert months == 6
    assert (data / "dbt" / "target" / "manifest.json").is_file()
    assert shipped_files(installed) == before, "the run wrote into the installed package"
    assert not os.listdir(cwd), "the run wrote into its working directory"
