"""The static site: built from a real warehouse, served by Debian's nginx with the packaged config.

The packaged `nginx/default.conf` is used as it is, with three substitutions a test needs: the
port, the site's directory and where the headers snippet lives. Every local link and asset of
every page is fetched (no 404s), the security headers are checked, and headless Chromium renders
the pages with every request going to the local server.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from llmtelemetry.cli import main
from llmtelemetry.stack import packaged_dir
from llmtelemetry.warehouse.connection import Target
from tests.conftest import free_port
from tests.integration.test_app import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: Paths other services of the stack answer (traefik routes them away from nginx).
OTHER_SERVICES = ("/forecaster/", "/public/")
PUBLIC_DASHBOARD = "https://stats.example.com/public/dashboard/6a1b2c3d-0000-4000-8000-123456789abc"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("#", "data:", "mailto:")):
                self.found.append(value)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def site(default_warehouse: tuple[Target, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target, home = default_warehouse
    out = tmp_path_factory.mktemp("site")
    (out / "metabase.json").write_text(json.dumps({"public_url": PUBLIC_DASHBOARD}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMTEL_HOME", str(home))
        assert main(["site", "build", str(out), "--dsn", target.dsn]) == 0
    return out


@contextlib.contextmanager
def nginx(root: Path, workdir: Path) -> Iterator[str]:
    port = free_port()
    packaged = packaged_dir() / "nginx"
    snippet = workdir / "security-headers.conf"
    shutil.copyfile(packaged / "security-headers.conf", snippet)
    server = (packaged / "default.conf").read_text()
    for old, new in (
        ("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;"),
        ("root /usr/share/nginx/html;", f"root {root};"),
        ("/etc/nginx/snippets/security-headers.conf", str(snippet)),
    ):
        assert old in server, f"the packaged nginx config no longer has {old!r}"
        server = server.replace(old, new)
    (workdir / "server.conf").write_text(server)
    (workdir / "nginx.conf").write_text(
        f"""
user root;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/server.conf;
}}
"""
    )
    check = subprocess.run([NGINX, "-t", "-p", str(workdir), "-c", str(workdir / "nginx.conf")], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    process = subprocess.Popen(
        [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                if fetch(url + "/healthz")[0] == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_site_is_built_from_the_warehouse(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert "500,000" in index and "seed 42" in index  # headline figures of the default data
    assert '<iframe src="/public/dashboard/6a1b2c3d-0000-4000-8000-123456789abc"' in index
    assert "${" not in index
    docs = (site / "dbt" / "index.html").read_text()
    assert "fct_api_requests" in docs and len(docs) > 100_000
    for name in ("site.css", "architecture.svg", "favicon.svg"):
        assert (site / name).stat().st_size > 100


def test_nginx_serves_every_page_and_asset_with_security_headers(site: Path, tmp_path: Path) -> None:
    (site / "empty-dir").mkdir(exist_ok=True)
    (site / ".secret").write_text("not for the public")
    with nginx(site, tmp_path) as url:
        seen: set[str] = set()
        queue = ["/", "/dbt/"]
        while queue:
            path = queue.pop()
            if path in seen:
                continue
            seen.add(path)
            status, headers, body = fetch(url + path)
            assert status == 200, f"{path}: {status}"
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["x-frame-options"] == "SAMEORIGIN", path
            assert "frame-ancestors 'self'" in headers["content-security-policy"], path
            assert "referrer-policy" in headers and "nginx/" not in headers.get("server", "")
            if headers.get("content-type", "").startswith("text/html") and path != "/dbt/":
                parser = Links()
                parser.feed(body.decode())
                for link in parser.found:
                    absolute = urlparse(urljoin(url + path, link))
                    assert absolute.netloc == urlparse(url).netloc, f"{path} links elsewhere: {link}"
                    if not absolute.path.startswith(OTHER_SERVICES):
                        queue.append(absolute.path)
        assert {"/", "/site.css", "/architecture.svg", "/favicon.svg", "/dbt/"} <= seen
        strict = fetch(url + "/")[1]["content-security-policy"]
        assert "script-src 'self';" in strict and "unsafe-inline" not in strict
        assert fetch(url + "/empty-dir/")[0] in (403, 404), "directory listing must be off"
        assert fetch(url + "/.secret")[0] == 404
        assert fetch(url + "/no-such-page")[0] == 404


def test_the_pages_load_nothing_from_elsewhere_in_a_real_browser(site: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with nginx(site, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(url + "/", wait_until="networkidle")
        assert page.locator("h1").inner_text() == "LLM API usage analytics"
        assert page.locator(".figures dd").first.inner_text() == "500,000"
        assert page.locator("img[src='architecture.svg']").evaluate("image => image.naturalWidth") > 0
        page.screenshot(path=str(ARTIFACTS / "site-landing.png"), full_page=True)
        page.goto(url + "/dbt/", wait_until="networkidle")
        page.wait_for_timeout(1000)
        assert "dbt" in page.title().lower() or page.locator("body").inner_text()
        page.screenshot(path=str(ARTIFACTS / "site-dbt-docs.png"))
        browser.close()
    outside = [r for r in requests if not r.startswith(url) and not r.startswith("data:")]
    assert outside == [], outside
    assert any(r.endswith("/site.css") for r in requests) and any("/dbt/" in r for r in requests)
    # The iframe's target is served by Metabase in the stack; here nginx answers 404 for it.
    blocked = [e for e in errors if "Content Security Policy" in e]
    assert blocked == [], blocked
