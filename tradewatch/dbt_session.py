"""Run several dbt commands in one process with dbt's programmatic runner (`dbtRunner`).

    python -m tradewatch.dbt_session build --full-refresh -- source freshness

A refresh runs `dbt build` and then `dbt source freshness`; as two `dbt` processes the second spends seconds
starting Python and loading the project again. Here they share one: the project is parsed (partially, from the last
run's state) once, and every command runs on that manifest. The exit status is the first command's: the later ones
report (a stale source is a warning) and run only if the first succeeded.
"""

from __future__ import annotations

import sys


def split_commands(argv: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for arg in argv:
        if arg == "--":
            commands.append([])
        else:
            commands[-1].append(arg)
    return [c for c in commands if c]


def main(argv: list[str] | None = None) -> int:
    from dbt.cli.main import dbtRunner

    commands = split_commands(sys.argv[1:] if argv is None else argv)
    runner = dbtRunner()
    try:
        if len(commands) > 1 and (project := _option(commands[0], "--project-dir")):
            parsed = runner.invoke(["--no-use-colors", "parse", "--project-dir", project])
            if parsed.success:  # otherwise each command parses (and reports what is wrong) itself
                runner = dbtRunner(manifest=parsed.result)
        for index, command in enumerate(commands):
            result = runner.invoke(command)
            if index == 0 and not result.success:
                if result.exception is not None:
                    print(f"dbt {command[0]} raised: {result.exception}", flush=True)
                return 1
        return 0
    finally:
        print(f"{PEAK_MEMORY_LABEL} {peak_memory_mb():.0f} MB", flush=True)


def _option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command[:-1] else None


PEAK_MEMORY_LABEL = "tradewatch: dbt peak memory"


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB; 0 where /proc is not available."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0


if __name__ == "__main__":
    sys.exit(main())
