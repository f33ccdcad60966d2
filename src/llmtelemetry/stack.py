"""The self-hosted stack: the packaged Compose files, their env file, and `docker compose` itself.

`llmtel up --compose` copies the packaged `compose/` directory to `LLMTEL_HOME/compose` (the
build context of the llmtel image), writes `.env` there with strong random secrets (mode 600)
when there is none, and runs `docker compose up`. The pure parts (the env file, the command
lines) are separate from the parts that run Docker, which cannot run everywhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from llmtelemetry import __version__
from llmtelemetry.errors import LlmtelError, ParameterError

#: Keys of the env file whose values are generated secrets.
SECRETS = (
    "POSTGRES_PASSWORD",
    "READER_PASSWORD",
    "METABASE_DB_PASSWORD",
    "METABASE_ENCRYPTION_KEY",
    "METABASE_ADMIN_PASSWORD",
)
ONE_SHOT = ("pipeline", "provision")
LONG_RUNNING = ("traefik", "portfolio_db", "metabase", "streamlit", "frontend")


def packaged_dir() -> Path:
    return Path(str(resources.files("llmtelemetry").joinpath("compose")))


def stack_dir(home: Path) -> Path:
    return Path(home) / "compose"


# --------------------------------------------------------------------------- the env file (pure)


def parse_env(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def new_env(template: str, *, domain: str, email: str, token: Callable[[int], str] = secrets.token_urlsafe) -> str:
    """The env file for a new stack: the template's keys, real settings, fresh random secrets."""
    values = {
        "LLMTEL_VERSION": __version__,
        "LLMTEL_DOMAIN": domain,
        "ACME_EMAIL": email,
        "METABASE_ADMIN_EMAIL": email,
        **{key: token(32) for key in SECRETS},
    }
    lines = []
    for line in template.splitlines():
        key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        lines.append(f"{key}={values[key]}" if key in values else line)
    return "\n".join(lines) + "\n"


def with_version(text: str, version: str = __version__) -> str:
    """The env file with LLMTEL_VERSION set to this llmtel's version (the image it builds)."""
    lines = [f"LLMTEL_VERSION={version}" if line.startswith("LLMTEL_VERSION=") else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def compose_command(directory: Path, *args: str) -> list[str]:
    """`docker compose` on the stack's files, env file and project name."""
    return [
        "docker",
        "compose",
        "--project-directory",
        str(directory),
        "--file",
        str(directory / "compose.yaml"),
        "--env-file",
        str(directory / ".env"),
        *args,
    ]


# --------------------------------------------------------------------------- preparing the directory


@dataclasses.dataclass(frozen=True)
class Prepared:
    directory: Path
    env_file: Path
    env_created: bool


def prepare(
    home: Path, *, domain: str = "localhost", email: str = "admin@example.com", wheel: Path | None = None
) -> Prepared:
    """Copy the packaged files to LLMTEL_HOME/compose; write `.env` (0600) if there is none."""
    if wheel is not None and (not wheel.is_file() or wheel.suffix != ".whl"):
        raise ParameterError(f"--wheel must be a .whl file, got {wheel}", param="wheel")
    directory = stack_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(packaged_dir(), directory, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    if wheel is not None:
        for old in (directory / "wheels").glob("*.whl"):
            old.unlink()
        shutil.copy2(wheel, directory / "wheels" / wheel.name)
    env_file = directory / ".env"
    created = not env_file.exists()
    text = (
        new_env((directory / "env.example").read_text("utf-8"), domain=domain, email=email)
        if created
        else with_version(env_file.read_text("utf-8"))
    )
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(env_file, 0o600)
    return Prepared(directory, env_file, created)


# --------------------------------------------------------------------------- Docker


def require_docker(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> str:
    """Docker's client, the Compose v2 plugin and a reachable engine; returns Compose's version."""
    if shutil.which("docker") is None:
        raise LlmtelError(
            "docker is not installed (the Compose stack needs Docker with the Compose plugin)",
            fix="install Docker Engine and the compose plugin (docs.docker.com/engine/install), "
            "or run `llmtel up` without --compose for the embedded setup",
        )
    version = run(["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=30)
    if version.returncode != 0:
        raise LlmtelError(
            "`docker compose` does not work here (the Compose v2 plugin is missing)",
            fix="install the docker-compose-plugin package, or run `llmtel up` without --compose",
        )
    engine = run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30)
    if engine.returncode != 0:
        raise LlmtelError(
            "cannot reach the Docker engine (" + (engine.stderr.strip().splitlines() or ["no answer"])[-1] + ")",
            fix="start Docker (systemctl start docker) and check that this user may use it",
        )
    return version.stdout.strip()


def _compose(directory: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(compose_command(directory, *args), capture_output=capture, text=True)
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise LlmtelError(
            f"docker compose {' '.join(args[:2])} failed" + (f" ({detail[0]})" if detail else ""),
            fix=f"see `docker compose --project-directory {directory} logs`",
        )
    return result


def service_states(directory: Path) -> dict[str, dict[str, object]]:
    """Each service's state, health and exit code, from `docker compose ps --format json`."""
    out = _compose(directory, "ps", "--all", "--format", "json", capture=True).stdout.strip()
    rows = json.loads(out) if out.startswith("[") else [json.loads(line) for line in out.splitlines() if line]
    return {str(row.get("Service")): row for row in rows}


def stack_ready(states: dict[str, dict[str, object]]) -> tuple[bool, str | None]:
    """(done, failure): one-shot jobs exited 0 and long-running services healthy (pure)."""
    for name in ONE_SHOT:
        row = states.get(name)
        if row and row.get("State") == "exited" and row.get("ExitCode") not in (0, "0"):
            return False, f"{name} exited with code {row.get('ExitCode')}"
    jobs_done = all(states.get(n, {}).get("State") == "exited" for n in ONE_SHOT)
    healthy = all(
        states.get(n, {}).get("Health") in ("healthy", None, "") and states.get(n, {}).get("State") == "running"
        for n in LONG_RUNNING
    )
    return jobs_done and healthy, None


def up_stack(directory: Path, *, timeout: float = 1800) -> dict[str, object]:
    """`docker compose up -d --build`, then wait for the jobs and the health checks."""
    _compose(directory, "up", "--detach", "--build")
    deadline = time.monotonic() + timeout
    while True:
        done, failure = stack_ready(service_states(directory))
        if failure:
            raise LlmtelError(
                f"the stack did not come up: {failure}", fix=f"docker compose --project-directory {directory} logs"
            )
        if done:
            break
        if time.monotonic() > deadline:
            raise LlmtelError(
                f"the stack was not ready within {timeout:.0f} s",
                fix=f"docker compose --project-directory {directory} ps",
            )
        time.sleep(5)
    record = _compose(directory, "exec", "-T", "frontend", "cat", "/usr/share/nginx/html/metabase.json", capture=True)
    answer: dict[str, object] = json.loads(record.stdout)
    return answer


def down_stack(directory: Path, *, volumes: bool = False) -> None:
    _compose(directory, "down", *(["--volumes"] if volumes else []))
