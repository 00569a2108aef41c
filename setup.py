"""Puts the dbt project and the Airflow DAGs folder into the wheel, as package data under tradewatch/_project/.

Everything else is declared in pyproject.toml. They stay at the top of the repository (where dbt and Airflow users
look for them); tradewatch.locations finds the wheel's copy, or the checkout's in an editable install.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("dbt_project", "dags")
NOT_SHIPPED = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", "*.pyc", ".user.yml")


class BuildPyWithProject(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout
            return
        for name in SHIPPED:
            target = Path(self.build_lib, "tradewatch", "_project", name)
            shutil.rmtree(target, ignore_errors=True)  # a stale build/ must not ship deleted files
            shutil.copytree(name, target, ignore=NOT_SHIPPED)


setup(cmdclass={"build_py": BuildPyWithProject})
