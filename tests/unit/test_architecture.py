"""The import rules of docs/architecture.md, checked on the source with `ast` (nothing is imported or run).

Modules are the .py files under tradewatch/, expectations/ and dags/ (the DAGs folder's shared wiring, which Airflow
imports as the top-level package `tradewatch_dags`, is `dags.tradewatch_dags` here). Every import counts: at module
level, inside a function (a deferred import is still a dependency) and under `if TYPE_CHECKING:` (two modules that
need each other's types are one concept split in two, or share a third that belongs below both). The rules are
data: what each allows, and the exceptions that are true today, each with its reason. A listed exception that is no
longer needed fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ROOTS = ("tradewatch", "expectations", "dags")

#: The task adapters, the only modules that may import Airflow: the DAG files and their shared wiring, and the reader
#: of Airflow connections the DAG's tasks hand to the settings factory (`get_settings(connections=...)`).
AIRFLOW_ADAPTERS = ("dags", "tradewatch.airflow_connections")
#: Modules of the package that import Airflow today although they are not adapters, and why.
AIRFLOW_EXCEPTIONS: set[str] = set()

#: The module that owns the audit schema: the only one whose SQL creates, alters or writes audit.* tables.
AUDIT_OWNER = "tradewatch.audit"
#: Modules whose text matches an audit write although they run none, and why.
AUDIT_WRITE_EXCEPTIONS: dict[str, str] = {}

#: Import cycles that exist today: each the set of modules of one strongly connected component, and why.
CYCLE_EXCEPTIONS: list[frozenset[str]] = []

#: Warehouse code the quality suites must not reach, directly or through what they import: the suites describe a
#: release's contract; the gate (tradewatch.quality) runs them against the warehouse, not the other way round.
WAREHOUSE_CODE = ("tradewatch.warehouse", "tradewatch.landing", "tradewatch.pipeline", "tradewatch.transform",
                  "tradewatch.quality", "tradewatch.audit", "tradewatch.serving", "tradewatch.summary",
                  "tradewatch.cli")
#: Imports through which the suites reach warehouse code today (importer, imported), and why. The rule ignores them.
EXPECTATIONS_EXCEPTIONS: dict[tuple[str, str], str] = {}

#: What a DAG file may import: Airflow, the package, the DAGs' shared wiring, and a little of the standard library.
#: Anything else (a database driver, pandas, requests) means the file does work instead of wiring calls.
DAG_IMPORTS_ALLOWED = ("airflow", "tradewatch", "tradewatch_dags", "dags", "__future__", "datetime", "typing")

#: Where work starts: the DAGs, the command line and its local Airflow runner. Nothing else imports them, and only
#: they import `tradewatch.pipeline` (the sequence of tasks).
ENTRY_POINTS = ("dags", "tradewatch.cli", "tradewatch.airflow_local")

#: A statement that changes the audit schema or its rows, as it appears in a SQL string.
AUDIT_WRITE = re.compile(
    r"\b(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|create\s+(?:or\s+replace\s+)?"
    r"(?:table|view|sequence|index|unique\s+index|schema)(?:\s+if\s+not\s+exists)?|alter\s+table|drop\s+"
    r"(?:table|view|sequence|index|schema)(?:\s+if\s+exists)?|truncate(?:\s+table)?|copy)\s+audit\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports, as written, resolved for relative imports
    names: tuple[str, ...]  # for `from target import names`
    line: int


def module_files() -> dict[str, Path]:
    """Module name -> file, for every .py file under the roots (a package is its __init__)."""
    found = {}
    for root in ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))


def imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, (), node.lineno) for alias in node.names]
        else:
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, target] if target else base)
            found.append(Import(module, target, tuple(a.name for a in node.names), node.lineno))
    return found


def resolve(target: str, names: tuple[str, ...], known: dict[str, Path]) -> set[str]:
    """The project modules an import reaches: `from a import b` reaches a.b when that is a module, else a."""
    reached = set()
    # The DAGs folder is on Airflow's path: `import tradewatch_dags...` in a DAG file means dags/tradewatch_dags.
    in_dags_folder = f"dags.{target.split('.')[0]}" in known
    for candidate in (f"dags.{target}",) if in_dags_folder else (target,):
        submodules = {f"{candidate}.{n}" for n in names if f"{candidate}.{n}" in known}
        reached |= submodules
        if len(submodules) < len(names) or not names:
            parts = candidate.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts:
                reached.add(".".join(parts))
    return reached


@pytest.fixture(scope="module")
def project():
    known = module_files()
    imports = {module: imports_of(module, path) for module, path in known.items()}
    graph = {module: set() for module in known}
    for module, found in imports.items():
        for imp in found:
            graph[module] |= resolve(imp.target, imp.names, known) - {module}
    return known, imports, graph


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm, iteratively: the components with more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(frozenset(component))
    return components


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def sql_strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a file (an f-string with its holes as `{}`), with its line."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


# ---------------------------------------------------------------------------------------------------------------


def test_the_rules_see_the_whole_project(project):
    """The walk finds the modules and the edges the rules are about (a parser that found nothing passes nothing)."""
    known, _, graph = project
    assert {"tradewatch.pipeline", "tradewatch.sources.base", "expectations.runner",
            "dags.tradewatch_monthly_refresh", "dags.tradewatch_dags.defaults"} <= set(known)
    assert "tradewatch.sources.base" in graph["tradewatch.sources.census"]
    assert "dags.tradewatch_dags.defaults" in graph["dags.tradewatch_monthly_refresh"]  # via Airflow's path
    assert "tradewatch.pipeline" in graph["dags.tradewatch_monthly_refresh"]  # imports inside task bodies count


def test_no_import_cycles(project):
    _, _, graph = project
    cycles = set(strongly_connected(graph))
    new = [sorted(c) for c in cycles - set(CYCLE_EXCEPTIONS)]
    gone = [sorted(c) for c in set(CYCLE_EXCEPTIONS) - cycles]
    assert not new, f"import cycles (break each by moving what both need to a module below them): {new}"
    assert not gone, f"listed as exceptions but no longer cycles; remove them from CYCLE_EXCEPTIONS: {gone}"


def test_airflow_is_imported_only_by_the_task_adapters(project):
    _, imports, graph = project
    importers = {m for m, found in imports.items() for imp in found if imp.target.split(".")[0] == "airflow"}
    offenders = sorted(m for m in importers - AIRFLOW_EXCEPTIONS if not _under(m, AIRFLOW_ADAPTERS))
    assert not offenders, f"Airflow imported outside the task adapters (the package must run without it): {offenders}"
    stale = sorted(AIRFLOW_EXCEPTIONS - importers)
    assert not stale, f"no longer import Airflow; remove them from AIRFLOW_EXCEPTIONS: {stale}"
    assert "dags.tradewatch_monthly_refresh" in importers  # the rule sees the imports it is about
    # ... and the package's own adapter is called from the DAGs only, never from the code below them
    for adapter in (a for a in AIRFLOW_ADAPTERS if a in graph):
        callers = sorted(m for m, targets in graph.items() if adapter in targets and not _under(m, ("dags",)))
        assert not callers, f"{adapter} is imported by {callers}: only the DAGs' tasks may use it"


def test_only_the_audit_module_writes_the_audit_schema(project):
    known, _, _ = project
    writers: dict[str, list[str]] = {}
    for module, path in known.items():
        for line, text in sql_strings(path):
            for match in AUDIT_WRITE.finditer(text):
                writers.setdefault(module, []).append(f"{path.relative_to(REPO_ROOT)}:{line}: {match.group(0)}")
    offenders = {m: w for m, w in writers.items() if m != AUDIT_OWNER and m not in AUDIT_WRITE_EXCEPTIONS}
    assert not offenders, f"audit.* written outside {AUDIT_OWNER} (add a named function there): {offenders}"
    stale = sorted(set(AUDIT_WRITE_EXCEPTIONS) - set(writers))
    assert not stale, f"no longer write audit.*; remove them from AUDIT_WRITE_EXCEPTIONS: {stale}"


def test_the_audit_write_pattern_finds_what_it_must():
    for sql in ("INSERT INTO audit.releases VALUES (1)", "update audit.builds set x = 1",
                "DELETE FROM audit.alerts WHERE true", "CREATE TABLE IF NOT EXISTS audit.builds (x int)",
                "create schema if not exists audit", "ALTER TABLE audit.releases ADD COLUMN y int",
                "insert or replace into audit.x select 1"):
        assert AUDIT_WRITE.search(sql), sql
    for sql in ("SELECT * FROM audit.releases", "select status from audit.releases where x in (select 1)",
                "-- the audit trail", "update marts.x set y = 1"):
        assert not AUDIT_WRITE.search(sql), sql


def test_the_quality_suites_never_reach_warehouse_code(project):
    known, _, graph = project
    stale = sorted(edge for edge in EXPECTATIONS_EXCEPTIONS if edge[1] not in graph.get(edge[0], ()))
    assert not stale, f"imports gone; remove them from EXPECTATIONS_EXCEPTIONS: {stale}"
    allowed = {m: targets - {t for (f, t) in EXPECTATIONS_EXCEPTIONS if f == m} for m, targets in graph.items()}
    reached = {m: sorted(r for r in reachable(allowed, m) if _under(r, WAREHOUSE_CODE))
               for m in known if _under(m, ("expectations",))}
    offenders = {m: r for m, r in reached.items() if r}
    assert not offenders, f"the suites import warehouse code (directly or through what they import): {offenders}"
    assert reachable(graph, "expectations.runner") & set(known), "the rule sees what the suites import"


def test_dag_files_only_wire(project):
    """A DAG file imports Airflow, the package and its shared wiring: the work happens in the tested package."""
    known, imports, _ = project
    for module, found in imports.items():
        if not _under(module, ("dags",)):
            continue
        for imp in found:
            top = imp.target.split(".")[0]
            assert top in DAG_IMPORTS_ALLOWED, f"{module}:{imp.line} imports {imp.target}: move that work into " \
                                               f"the tradewatch package and call it from the task"
        sql = [text for _, text in sql_strings(known[module])
               if AUDIT_WRITE.search(text) or re.search(r"\bselect\b.+\bfrom\b", text, re.I | re.S)]
        assert not sql, f"SQL in {module}: {sql}"


def test_the_package_never_imports_the_dags_or_the_entry_points(project):
    """Dependencies point one way: the DAGs and the command line call the package (through the pipeline), never the
    reverse. Only an entry point imports another entry point or the pipeline."""
    _, _, graph = project
    for module, targets in graph.items():
        if _under(module, ENTRY_POINTS):
            continue
        wrong = sorted(t for t in targets if _under(t, (*ENTRY_POINTS, "tradewatch.pipeline")))
        assert not wrong, f"{module} imports {wrong}: an entry point (or the sequence of tasks) from below"
