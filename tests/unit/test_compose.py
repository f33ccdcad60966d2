"""The packaged Compose stack keeps its promises, checked on the files themselves.

Docker cannot run here, so these tests read compose.yaml, the traefik and nginx configuration and
the env file the way Compose and traefik would, and check the stack's invariants: what is
published, what is reachable from outside, where secrets come from, what is pinned.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmtelemetry import __version__
from llmtelemetry.cli import main
from llmtelemetry.stack import (
    SECRETS,
    compose_command,
    new_env,
    packaged_dir,
    parse_env,
    prepare,
    stack_ready,
    with_version,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = packaged_dir() / "compose.yaml"
METABASE_PRIVATE = [
    "/",
    "/admin",
    "/admin/settings",
    "/api/session",
    "/api/session/properties",
    "/api/setup",
    "/api/user",
    "/api/user/current",
    "/api/card",
    "/api/database",
    "/api/dataset",
    "/api/setting",
    "/auth/login",
    "/setup",
    "/question/1",
    "/dashboard/1",
    "/api/embed/card/x",
]
METABASE_PUBLIC = [
    "/public/dashboard/0d3b0bd8-6f5e-4b8a-9f5c-2a1f2c3d4e5f",
    "/public/question/0d3b0bd8",
    "/api/public/dashboard/0d3b/dashcard/1/card/2",
    "/app/dist/app-public.js",
]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def labels(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("labels") or []
    items = raw.items() if isinstance(raw, dict) else (item.split("=", 1) for item in raw)
    return {key: value for key, value in items}


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


# --------------------------------------------------------------------------- a traefik rule evaluator


def rule_matches(rule: str, host: str, path: str) -> bool:
    """Evaluate a traefik v3 rule (Host, Path, PathPrefix with &&, ||, ! and parentheses)."""
    tokens = re.findall(r"\w+\(`[^`]*`\)|&&|\|\||!|\(|\)", rule)
    assert "".join(tokens) == re.sub(r"\s+", "", rule), f"cannot parse rule {rule!r}"
    position = 0

    def expression() -> bool:
        nonlocal position
        value = conjunction()
        while position < len(tokens) and tokens[position] == "||":
            position += 1
            value = conjunction() or value
        return value

    def conjunction() -> bool:
        nonlocal position
        value = unary()
        while position < len(tokens) and tokens[position] == "&&":
            position += 1
            value = unary() and value
        return value

    def unary() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "!":
            return not unary()
        if token == "(":
            value = expression()
            assert tokens[position] == ")"
            position += 1
            return value
        name, argument = re.fullmatch(r"(\w+)\(`([^`]*)`\)", token).groups()  # type: ignore[union-attr]
        if name == "Host":
            return host == argument
        if name == "Path":
            return path == argument
        if name == "PathPrefix":
            return path.startswith(argument)
        raise AssertionError(f"matcher {name} is not understood by this test")

    result = expression()
    assert position == len(tokens)
    return result


def test_the_rule_evaluator_itself() -> None:
    rule = "Host(`a`) && (PathPrefix(`/x/`) || Path(`/y`))"
    assert rule_matches(rule, "a", "/x/1") and rule_matches(rule, "a", "/y")
    assert not rule_matches(rule, "a", "/y/2") and not rule_matches(rule, "b", "/x/1")
    assert rule_matches("!Path(`/z`)", "a", "/y")


# --------------------------------------------------------------------------- invariants


def test_the_project_is_named_and_every_image_is_pinned(compose: dict[str, Any]) -> None:
    assert compose["name"] == "llmtel"
    for name, service in services(compose).items():
        # llmtel's own image is tagged with the installed version, from the env file.
        image = re.sub(r"\$\{LLMTEL_VERSION[^}]*\}", __version__, service["image"])
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: image {image} is not pinned"
        assert re.fullmatch(r"v?\d+(\.\d+)+(-[\w.]+)?", tag), f"{name}: tag {tag} is not a version"


def test_only_traefik_publishes_ports_and_only_80_and_443(compose: dict[str, Any]) -> None:
    published = {name: s["ports"] for name, s in services(compose).items() if s.get("ports")}
    assert set(published) == {"traefik"}
    assert sorted(published["traefik"]) == ["443:443", "80:80"]
    for name, service in services(compose).items():
        assert "network_mode" not in service, f"{name} must not use the host's network"


def test_the_database_is_on_internal_networks_only(compose: dict[str, Any]) -> None:
    database = services(compose)["portfolio_db"]
    assert "ports" not in database and "expose" not in database
    for network in database["networks"]:
        assert compose["networks"][network].get("internal") is True, f"portfolio_db is on {network}"
    assert compose["networks"]["socket"]["internal"] is True


def test_only_the_socket_proxy_mounts_the_docker_socket(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        mounts = [str(v) for v in service.get("volumes") or []]
        socket = [m for m in mounts if "docker.sock" in m]
        if name == "socket-proxy":
            assert socket == ["/var/run/docker.sock:/var/run/docker.sock:ro"]
            env = environment(service)
            assert env["POST"] == "0" and env["CONTAINERS"] == "1" and env["EXEC"] == "0"
        else:
            assert not socket, f"{name} mounts the Docker socket"
    command = services(compose)["traefik"]["command"]
    assert "--providers.docker.endpoint=tcp://socket-proxy:2375" in command
    assert "--providers.docker.exposedByDefault=false" in command
    assert "socket" in services(compose)["socket-proxy"]["networks"]


def test_traefik_is_v3_redirects_to_https_and_sets_security_headers(compose: dict[str, Any]) -> None:
    traefik = services(compose)["traefik"]
    assert re.fullmatch(r"traefik:v3\.\d+\.\d+", traefik["image"])
    minor = tuple(int(p) for p in traefik["image"].split(":v")[1].split("."))
    assert minor >= (3, 6, 1), "traefik before 3.6.1 cannot talk to Docker Engine 29"
    command = traefik["command"]
    assert "--entrypoints.web.http.redirections.entrypoint.to=websecure" in command
    assert "--entrypoints.web.http.redirections.entrypoint.scheme=https" in command
    assert "--entrypoints.websecure.http.middlewares=security-headers@file" in command
    assert any(c.startswith("--certificatesresolvers.le.acme.email=${ACME_EMAIL") for c in command)
    assert not any(c.startswith("--api") for c in command), "the traefik dashboard/API must stay off"
    dynamic = yaml.safe_load((packaged_dir() / "traefik" / "dynamic" / "middlewares.yml").read_text())
    headers = dynamic["http"]["middlewares"]["security-headers"]["headers"]
    assert headers["stsSeconds"] >= 31536000 and headers["contentTypeNosniff"] is True
    assert "frame-ancestors 'self'" in headers["contentSecurityPolicy"]
    removed_in_v3 = {"sslRedirect", "sslTemporaryRedirect", "sslHost", "sslForceHost", "featurePolicy"}
    assert not removed_in_v3 & set(headers)


def routers(compose: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """router name -> (service, rule), with ${LLMTEL_DOMAIN} as Compose would substitute it."""
    found = {}
    for name, service in services(compose).items():
        for key, value in labels(service).items():
            if match := re.fullmatch(r"traefik\.http\.routers\.([\w-]+)\.rule", key):
                found[match.group(1)] = (name, value.replace("${LLMTEL_DOMAIN}", "example.com"))
    return found


def test_router_rules_use_backticks(compose: dict[str, Any]) -> None:
    assert routers(compose)
    for router, (_, rule) in routers(compose).items():
        assert "'" not in rule and '"' not in rule, f"{router}: {rule}"
        assert "`" in rule
        rule_matches(rule, "example.com", "/")  # parses


def test_metabase_is_routed_for_public_sharing_only(compose: dict[str, Any]) -> None:
    metabase_routers = [rule for service, rule in routers(compose).values() if service == "metabase"]
    assert metabase_routers
    for rule in metabase_routers:
        for path in METABASE_PRIVATE:
            assert not rule_matches(rule, "example.com", path), f"{path} reaches Metabase through {rule}"
    for path in METABASE_PUBLIC:
        assert any(rule_matches(rule, "example.com", path) for rule in metabase_routers), path
    assert labels(services(compose)["metabase"])["traefik.enable"] == "true"


def test_every_routed_service_is_explicitly_enabled_on_https(compose: dict[str, Any]) -> None:
    for router, (service, _) in routers(compose).items():
        service_labels = labels(services(compose)[service])
        assert service_labels.get("traefik.enable") == "true"
        assert service_labels[f"traefik.http.routers.{router}.entrypoints"] == "websecure"
    for name in ("portfolio_db", "pipeline", "provision", "socket-proxy"):
        assert "traefik.enable" not in labels(services(compose)[name]), f"{name} must not be routed"


def test_streamlit_serves_under_forecaster_with_its_websocket(compose: dict[str, Any]) -> None:
    streamlit = services(compose)["streamlit"]
    command = streamlit["command"]
    assert command[command.index("--base-url-path") + 1] == "/forecaster"
    (rule,) = [r for s, r in routers(compose).values() if s == "streamlit"]
    assert rule_matches(rule, "example.com", "/forecaster/_stcore/stream")
    assert not any("stripprefix" in key for key in labels(streamlit))
    assert "/forecaster/_stcore/health" in " ".join(streamlit["healthcheck"]["test"])
    env = environment(streamlit)
    assert env["LLMTEL_DSN"].startswith("postgresql://portfolio_reader@"), "the app must read as portfolio_reader"
    assert "POSTGRES_PASSWORD" not in " ".join(env.values())


def test_healthchecks_where_they_matter(compose: dict[str, Any]) -> None:
    for name in ("traefik", "portfolio_db", "metabase", "streamlit", "frontend"):
        assert services(compose)[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "/api/health" in " ".join(services(compose)["metabase"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services(compose)["portfolio_db"]["healthcheck"]["test"])


def test_sonarqube_only_in_the_dev_profile(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if name == "sonarqube":
            assert service["profiles"] == ["dev"]
            assert "community" in service["image"]
        else:
            assert "profiles" not in service, f"{name} must start by default"
    properties = (ROOT / "sonar-project.properties").read_text()
    assert "sonar.python.coverage.reportPaths=coverage.xml" in properties
    assert "sonar.python.ruff.reportPaths=ruff-report.json" in properties


def test_metabase_is_pinned_far_above_the_cve_floor_and_keeps_its_data_in_postgres(compose: dict[str, Any]) -> None:
    metabase = services(compose)["metabase"]
    version = tuple(int(p) for p in metabase["image"].split(":v")[1].split("."))
    assert version > (0, 46, 6, 1), "CVE-2023-38646: Metabase before 0.46.6.1 is vulnerable"
    assert version >= (0, 56), "pin a current release"
    env = environment(metabase)
    assert env["MB_DB_TYPE"] == "postgres" and env["MB_DB_HOST"] == "portfolio_db"
    assert env["MB_ANON_TRACKING_ENABLED"] == "false" and env["MB_CHECK_FOR_UPDATES"] == "false"
    assert env["MB_SITE_URL"].startswith("https://${LLMTEL_DOMAIN")


SECRET_KEY = re.compile(r"PASSWORD|PASS$|SECRET|_KEY$|TOKEN")


def test_no_literal_secret_in_the_compose_file(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if name == "socket-proxy":  # its variables are API switches (SECRETS=0 denies /secrets)
            continue
        for key, value in environment(service).items():
            if SECRET_KEY.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", value), f"{name}: {key} is not from the env file"
            if "://" in value and "@" in value:
                credentials = value.split("://", 1)[1].split("@", 1)[0]
                assert ":" not in credentials or "${" in credentials, f"{name}: {key} has a literal password"
    text = COMPOSE.read_text()
    assert "change-me" not in text


def test_the_env_example_names_every_variable_the_compose_file_uses() -> None:
    text = COMPOSE.read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))
    example = parse_env((packaged_dir() / "env.example").read_text())
    assert used <= set(example), used - set(example)
    assert set(SECRETS) <= set(example)


def test_a_new_env_file_has_strong_distinct_secrets() -> None:
    template = (packaged_dir() / "env.example").read_text()
    first = parse_env(new_env(template, domain="stats.example.org", email="ops@example.org"))
    second = parse_env(new_env(template, domain="stats.example.org", email="ops@example.org"))
    assert first["LLMTEL_DOMAIN"] == "stats.example.org" and first["ACME_EMAIL"] == "ops@example.org"
    assert first["LLMTEL_VERSION"] == __version__
    for key in SECRETS:
        assert len(first[key]) >= 32 and first[key] != "change-me" and first[key] != second[key]
    assert len({first[key] for key in SECRETS}) == len(SECRETS)
    assert parse_env(with_version("LLMTEL_VERSION=0.0.1\nA=b\n", "9.9"))["LLMTEL_VERSION"] == "9.9"


def test_prepare_writes_a_private_env_file_once(tmp_path: Path) -> None:
    prepared = prepare(tmp_path, domain="example.net", email="me@example.net")
    assert prepared.env_created
    assert stat.S_IMODE(os.stat(prepared.env_file).st_mode) == 0o600
    assert (prepared.directory / "compose.yaml").read_text() == COMPOSE.read_text()
    assert (prepared.directory / "Dockerfile").exists() and (prepared.directory / "wheels").is_dir()
    secrets_before = parse_env(prepared.env_file.read_text())
    again = prepare(tmp_path, domain="other.net")
    assert not again.env_created
    assert parse_env(again.env_file.read_text()) == secrets_before, "an existing env file keeps its secrets"
    command = compose_command(prepared.directory, "up", "--detach")
    assert command[:2] == ["docker", "compose"] and str(prepared.env_file) in command


def test_the_dockerfile_is_pinned_and_runs_unprivileged() -> None:
    dockerfile = (packaged_dir() / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", base)
    assert re.search(r"^USER (?!root)\w+", dockerfile, flags=re.M)
    assert "llmtelemetry==${LLMTEL_VERSION}" in dockerfile


def test_stack_readiness_is_judged_from_compose_ps() -> None:
    running = {"State": "running", "Health": "healthy"}
    states: dict[str, dict[str, object]] = {
        name: dict(running) for name in ("traefik", "portfolio_db", "metabase", "streamlit", "frontend")
    }
    assert stack_ready(states) == (False, None)  # the jobs have not run yet
    states["pipeline"] = {"State": "exited", "ExitCode": 0}
    states["provision"] = {"State": "running", "Health": ""}
    assert stack_ready(states) == (False, None)
    states["provision"] = {"State": "exited", "ExitCode": 0}
    assert stack_ready(states) == (True, None)
    states["metabase"] = {"State": "running", "Health": "starting"}
    assert stack_ready(states) == (False, None)
    states["pipeline"] = {"State": "exited", "ExitCode": 1}
    assert stack_ready(states) == (False, "pipeline exited with code 1")


def test_up_compose_without_docker_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert main(["up", "--compose"]) == 1
    err = capsys.readouterr().err
    assert "error: docker is not installed" in err and "fix:" in err
    assert not (tmp_path / "home" / "compose").exists(), "nothing is written when Docker is missing"
    assert main(["down", "--compose"]) == 1
    assert main(["up", "--compose", "--dsn", "postgresql://x@y/z"]) == 2
