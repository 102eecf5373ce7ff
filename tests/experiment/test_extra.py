"""The experiment harness's packages are an extra: without them `ipreg experiment` says what to install, and
the node's and the gateway's commands do not need them."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from registry_node.cli.main import app


@pytest.mark.parametrize("module", ["yaml", "rich", "matplotlib"])
def test_an_experiment_without_the_extra_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    result = CliRunner().invoke(app, ["experiment", "run", "anything.yaml"])
    assert result.exit_code == 2
    assert f"missing: {module}" in result.output
    assert "pip install 'ip-shared-registry[experiment]'" in result.output
    assert "Traceback" not in result.output


def test_the_node_commands_run_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich stays installed with typer, which draws its help with it; the project's own use is the harness's
    for module in ("yaml", "matplotlib"):
        monkeypatch.setitem(sys.modules, module, None)
    result = CliRunner().invoke(app, ["node", "--help"])
    assert result.exit_code == 0
    assert "ownership-change" in result.output


def test_with_the_extra_an_experiment_reads_its_file() -> None:
    result = CliRunner().invoke(app, ["experiment", "run", "/nonexistent/experiment.yaml"])
    assert result.exit_code != 0
    assert "experiment extra" not in result.output
