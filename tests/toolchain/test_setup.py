"""`make setup` installs only what is missing: on a set-up tree it installs nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def make_setup() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "setup"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_a_second_make_setup_installs_nothing() -> None:
    first = make_setup()
    assert first.returncode == 0, first.stdout + first.stderr
    second = make_setup()
    assert second.returncode == 0, second.stdout + second.stderr
    output = second.stdout + second.stderr
    assert "pip install" not in output
    assert "npm ci" not in output
    assert "apt-get" not in output


def test_the_installed_python_packages_are_consistent() -> None:
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "pip"), "check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No broken requirements found" in result.stdout


PARSE_IN_TWO_THREADS = """
import ast, argparse, inspect, sys, threading, typing

source = inspect.getsource(typing) + inspect.getsource(argparse)
errors = []


class Cycle:
    def __init__(self):
        self.me = self

    def __del__(self):
        sum(range(50))  # Python code run by a garbage collection: the GIL may pass to the other thread


def parse():
    for _ in range(int(sys.argv[1])):
        for _ in range(20):
            Cycle()
        try:
            ast.parse(source)
        except SystemError as err:
            errors.append(str(err))
            return


threads = [threading.Thread(target=parse) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors[0] if errors else "no error")
"""


def test_the_schemathesis_venv_parses_in_two_threads_without_cpython_311s_ast_race(tmp_path: Path) -> None:
    """schemathesis's workers are threads that parse source (hypothesis's lambda descriptions); on CPython
    3.11 that crashes with "AST constructor recursion depth mismatch" (gh-106905), as it did in CI. The same
    script on 3.11.7 fails within about a dozen parses."""
    script = tmp_path / "parse_in_two_threads.py"
    script.write_text(PARSE_IN_TWO_THREADS)
    python = PROJECT_ROOT / ".venv-schemathesis" / "bin" / "python"
    command = [str(python), str(script), "40"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no error"
