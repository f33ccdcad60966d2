"""The repository keeps its promises: README commands, CI, documented CLI options."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from llmtelemetry.cli import app, reference
from llmtelemetry.settings import Settings

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
    for path, command in reference.commands(typer.main.get_command(app)):
        assert command.help, f"{path} has no help"
        for option in reference.options(command):
            assert option.help, f"{path} {option.opts[0]} has no help"


def test_the_cli_reference_is_generated_from_the_app() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == reference.render(), (
        "docs/cli.md is out of date: python -m llmtelemetry.cli.reference > docs/cli.md"
    )


def test_every_command_and_option_is_in_the_docs() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    sections = {block.split("`", 1)[0]: block for block in page.split("\n## `")[1:]}
    paths = [path for path, _ in reference.commands(typer.main.get_command(app))]
    assert set(paths) <= set(sections), set(paths) - set(sections)
    for path, command in reference.commands(typer.main.get_command(app)):
        for option in reference.options(command):
            for name in option.opts:
                assert f"`{name}`" in sections[path], f"{path} {name} is not in docs/cli.md"


def test_every_setting_is_documented() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`LLMTEL_{name.upper()}`" in page, f"LLMTEL_{name.upper()} is not in docs/configuration.md"
    used = set()
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "tests_live").rglob("*.py")]:
        used |= set(re.findall(r"\bLLMTEL_[A-Z_]*[A-Z]\b", path.read_text()))
    missing = sorted(name for name in used if name not in page)
    assert not missing, f"environment variables read by llmtel but not in docs/configuration.md: {missing}"
