"""Settings from the environment (prefix LLMTEL_) and a `.env` file, built on demand."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where llmtel connects and keeps its files.

    Every field can be set as an environment variable with the prefix `LLMTEL_` (for
    example `LLMTEL_DSN`) or in a `.env` file in the working directory.
    """

    model_config = SettingsConfigDict(env_prefix="LLMTEL_", env_file=".env", extra="ignore")

    dsn: SecretStr | None = Field(
        default=None,
        description="PostgreSQL connection string; unset means the embedded server.",
    )
    home: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("llmtel", appauthor=False)),
        description="Where llmtel keeps its embedded database, work files and secrets.",
    )
    reader_password: SecretStr | None = Field(
        default=None,
        description="Password of the read-only role portfolio_reader; generated when unset.",
    )
    debug: bool = Field(default=False, description="Show tracebacks on errors.")
    metabase_url: str = Field(
        default="http://localhost:3000",
        description="Metabase's address for provisioning (inside the Compose stack: http://metabase:3000).",
    )
    metabase_public_url: str | None = Field(
        default=None, description="The public address that shared dashboard links start with; default: metabase_url."
    )
    metabase_admin_email: str = Field(default="admin@example.com", description="Metabase administrator's e-mail.")
    metabase_admin_password: SecretStr | None = Field(
        default=None, description="Metabase administrator's password (used for first-time setup and login)."
    )


def get_settings(**overrides: object) -> Settings:
    """Read the settings now (never at import time); keyword arguments win over the environment."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/?#@]*:)(?P<password>[^@/?#]*)(?P<tail>@)")
_PASSWORD_IN_KV = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<password>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def mask_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ***, for display."""
    if "://" in dsn:
        masked = _PASSWORD_IN_URL.sub(r"\g<head>***\g<tail>", dsn)
        return re.sub(r"([?&]password=)[^&#]*", r"\1***", masked, flags=re.I)
    return _PASSWORD_IN_KV.sub(r"\g<head>***", dsn)
