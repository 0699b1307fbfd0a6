"""What the CLI prints around its commands: errors with brackets, the version, the exit codes."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from activations.cli.app import app
from activations.cli.output import print_error
from activations.http import ClientError


def test_an_error_code_in_brackets_is_printed_not_swallowed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 401 with Klaviyo's code printed as `401 ; check` before: rich read it as markup."""
    print_error(str(ClientError("GET", "/api/lists", 401, codes=("authentication_failed",))))
    assert "401 [authentication_failed]; check the API key" in capsys.readouterr().err


def test_version_is_the_installed_distribution() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"cohortflow {version('cohortflow')}"


def test_help_lists_every_exit_status_without_type_placeholders() -> None:
    top = CliRunner().invoke(app, ["--help"], terminal_width=80)
    for status in ("0 done", "1 an error", "2 a", "3 a destination", "130"):
        assert status in " ".join(top.output.split())
    run_help = CliRunner().invoke(app, ["run", "--help"], terminal_width=80)
    assert "<bool>" not in run_help.output
    assert all(len(line) <= 80 for line in run_help.output.splitlines())
