"""The repository keeps its promises: README commands, CI, documented CLI options."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from llmtelemetry.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("Run the tests", 1)[1]
    test_command = _bash_blocks(section)[0]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = typer.main.get_command(app)
    for name in command.commands:  # type: ignore[attr-defined]
        assert f"llmtel {name}" in readme, name


def test_every_command_and_option_has_help() -> None:
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"llmtel {name} has no help"
        for param in command.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), f"llmtel {name} {param.opts[0]} has no help"
