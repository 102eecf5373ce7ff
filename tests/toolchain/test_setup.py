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
