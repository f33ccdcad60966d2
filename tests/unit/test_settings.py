"""Settings come from LLMTEL_* variables and .env; passwords never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmtelemetry.cli import main
from llmtelemetry.settings import get_settings, mask_dsn


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("LLMTEL_DSN", "LLMTEL_HOME", "LLMTEL_DEBUG", "LLMTEL_READER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert get_settings().dsn is None
    (tmp_path / ".env").write_text("LLMTEL_DSN=postgresql://app:s3cret@db:5432/warehouse\nLLMTEL_DEBUG=1\n")
    settings = get_settings()
    assert settings.dsn is not None and settings.dsn.get_secret_value().endswith("/warehouse")
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)
    assert settings.debug is True
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    assert get_settings().home == tmp_path / "home"
    assert get_settings(home=tmp_path / "other").home == tmp_path / "other"


def test_debug_from_dotenv_shows_tracebacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMTEL_DEBUG", raising=False)
    (tmp_path / ".env").write_text("LLMTEL_DEBUG=true\n")
    assert main(["generate", "--rows", "0", "--out", "x"]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=abc&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("host=h password='a b' user=u", "host=h password=*** user=u"),
        ("host=h password=xyz user=u", "host=h password=*** user=u"),
        ("postgresql://h/db", "postgresql://h/db"),
    ],
)
def test_mask_dsn(dsn: str, masked: str) -> None:
    assert mask_dsn(dsn) == masked
