"""docs/reliability.md is generated from the suite; it must list every scenario the suite has."""

import ast

from tests.reliability.conftest import DOC


def test_the_reliability_doc_lists_every_scenario():
    names = set()
    for path in DOC.parents[1].joinpath("tests", "reliability").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "scenario":
                names.add(node.args[1].value)
    text = DOC.read_text()
    missing = sorted(n for n in names if f"| {n} |" not in text)
    assert not missing, f"regenerate docs/reliability.md with `make reliability-doc`; missing: {missing}"
    assert "FAILED" not in text
