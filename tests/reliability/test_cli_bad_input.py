"""Every command, given bad input or a warehouse with nothing in it yet, answers with one line that says what was
wrong and a non-zero exit: never a traceback, never a silent no-op."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.reliability.conftest import scenario
from tradewatch import cli
from tradewatch.warehouse import open_warehouse

pytestmark = pytest.mark.slow  # the fault-injection suite: minutes, run by `make test` and CI

#: case: (arguments, the warehouse before: none | empty, extra environment, what the one line must say)
CASES = {
    "anomalies --limit -1": (["anomalies", "--limit", "-1"], "empty", {}, "-1 is not a positive number"),
    "anomalies --limit ten": (["anomalies", "--limit", "ten"], "empty", {}, "'ten' is not a whole number"),
    "anomalies --since a bad month": (["anomalies", "--since", "2025-1x"], "empty", {}, "form YYYY-MM"),
    "anomalies, no warehouse": (["anomalies"], "none", {}, "no warehouse at"),
    "anomalies, no marts yet": (["anomalies"], "empty", {}, "no anomaly scan yet"),
    "report, no marts yet": (["report"], "empty", {}, "nothing to report yet"),
    "serving publish, no marts yet": (["serving", "publish"], "empty", {}, "no marts to publish yet"),
    "summary, no warehouse": (["summary"], "none", {}, "no warehouse at"),
    "quality list, no warehouse": (["quality", "list"], "none", {}, "no warehouse at"),
    "reparse, no warehouse": (["reparse", "census_imports_hs"], "none", {}, "no warehouse at"),
    "reparse an unknown dataset": (["reparse", "census_imports"], "empty", {}, "unknown dataset(s) 'census_imports'"),
    "fetch --to before --period": (["fetch", "--source", "bls", "--period", "2025-05", "--to", "2025-01"], "empty",
                                   {}, "--to 2025-01 is before --period 2025-05"),
    "fetch a month 13": (["fetch", "--source", "bls", "--period", "2025-13"], "empty", {}, "form YYYY-MM"),
    "fetch an unknown source": (["fetch", "--source", "nowhere", "--period", "2025-05"], "empty", {},
                                "invalid choice: 'nowhere'"),
    "fetch a missing archive": (["fetch", "--source", "bls", "--period", "2025-05", "--replay", "/nonexistent"],
                                "empty", {}, "no release archive at /nonexistent"),
    "fetch live without the key": (["fetch", "--source", "census", "--period", "2025-05", "--live"], "empty", {},
                                   "CENSUS_API_KEY is not set"),
    "sample --end before --start": (["sample", "--start", "2025-05", "--end", "2025-01"], "none", {},
                                    "--end 2025-01 is before --start 2025-05"),
    "sample into a file": (["sample", "--out", "{data}/a-file/archive"], "none", {}, "Not a directory"),
    "quality release without an id": (["quality", "release"], "empty", {}, "release needs a RELEASE_ID"),
    "quality release without a reason": (["quality", "release", "x:2025-05:y"], "empty", {}, "a reason is required"),
    "quality revalidate an unknown release": (["quality", "revalidate", "nope"], "empty", {},
                                              "'nope' is not quarantined or pending"),
    "serving init without a URL": (["serving", "init"], "empty", {}, "TRADEWATCH_SERVING_URL is not set"),
    "serving add-reader without a name": (["serving", "add-reader"], "empty", {}, "add-reader needs the NAME"),
    "serving publish with a name": (["serving", "publish", "alice"], "empty", {}, "publish takes no NAME"),
    "serving add-reader, no password given": (["serving", "add-reader", "alice"], "empty",
                                              {"TRADEWATCH_SERVING_URL": "postgresql://o:p@127.0.0.1:1/db"},
                                              "--password-stdin"),
    "demo in live mode": (["demo"], "none", {"TRADEWATCH_SOURCE_MODE": "live"}, "the demo runs on the sample"),
    "a bad TRADEWATCH_START_MONTH": (["summary"], "empty", {"TRADEWATCH_START_MONTH": "2025-13"},
                                     "TRADEWATCH_START_MONTH"),
    "a serving URL libpq cannot read": (["serving", "publish"], "empty",
                                        {"TRADEWATCH_SERVING_URL": "postgresql://o:50%off@127.0.0.1/db"},
                                        "cannot be read as a PostgreSQL URL"),
    "a lock wait that is not a number": (["serving", "publish"], "empty",
                                         {"TRADEWATCH_SERVING_LOCK_WAIT_SECONDS": "soon"}, "is not a number"),
    "a webhook that is not https": (["alerts", "test"], "empty", {"TRADEWATCH_ALERT_WEBHOOK_URL": "ftp://x"},
                                    "must be an https:// URL"),
    "no command": ([], "none", {}, "the following arguments are required"),
    "an unknown command": (["explode"], "none", {}, "invalid choice: 'explode'"),
}


def prepare(tmp_path, warehouse: str):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a-file").write_text("not a folder")
    if warehouse == "empty":
        with open_warehouse(data / "warehouse.duckdb"):
            pass
    return data


@scenario("CLI", "bad input and empty warehouses, command by command",
          "each bad argument, setting, missing file or warehouse without marts gives exactly one line on stderr "
          "that says what was wrong, nothing on stdout and exit 2 — no traceback, no silent success (an empty "
          "range is an error)")
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_one_line(tmp_path, monkeypatch, capsys, case):
    argv, warehouse, extra, expected = CASES[case]
    data = prepare(tmp_path, warehouse)
    for name in [n for n in os.environ if n.startswith("TRADEWATCH_") or n.endswith("_API_KEY")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(data))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nothing prompts
    try:
        code = cli.main([a.format(data=data) for a in argv])
    except SystemExit as exc:  # argparse's refusals
        code = exc.code
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert len(lines) == 1, err
    assert expected in lines[0], lines[0]
    assert "Traceback" not in err and out == ""


@scenario("CLI", "bad input and empty warehouses, as a process",
          "run as the `tradewatch` process a user starts, bad input prints one line on stderr, no traceback, exit 2")
@pytest.mark.parametrize("case", ["anomalies --limit -1", "serving publish, no marts yet",
                                  "fetch --to before --period", "a serving URL libpq cannot read"])
def test_bad_input_as_a_process(tmp_path, case):
    argv, warehouse, extra, expected = CASES[case]
    data = prepare(tmp_path, warehouse)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWATCH_")}
    result = subprocess.run([sys.executable, "-m", "tradewatch.cli", *argv], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL,
                            env={**env, "TRADEWATCH_DATA_DIR": str(data), "GX_ANALYTICS_ENABLED": "false", **extra})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and expected in result.stderr and "Traceback" not in result.stderr
    assert "50%off" not in result.stderr
