"""Provisioning against a real Metabase: run by hand, not in CI (Metabase cannot run there).

    LLMTEL_METABASE_TEST_URL=http://localhost:3000 \
    LLMTEL_METABASE_ADMIN_EMAIL=admin@example.com LLMTEL_METABASE_ADMIN_PASSWORD=… \
    LLMTEL_TEST_WAREHOUSE_HOST=portfolio_db \
    pytest tests_live -p no:cacheprovider

Use a throwaway Metabase (it is set up on first use with the admin above). The warehouse host is
the PostgreSQL server as Metabase sees it, holding a built llmtel warehouse (database
`warehouse`, or LLMTEL_TEST_WAREHOUSE_DB) and `portfolio_reader` with LLMTEL_READER_PASSWORD.
"""

from __future__ import annotations

import os

import pytest

from llmtelemetry.dashboards import load_dashboard
from llmtelemetry.dashboards.metabase import Admin, HttpApi, Warehouse, ensure_setup, provision, wait_until_healthy

URL = os.environ.get("LLMTEL_METABASE_TEST_URL")


@pytest.fixture
def api() -> HttpApi:
    if not URL:
        pytest.fail("set LLMTEL_METABASE_TEST_URL (this directory is for a live Metabase only)")
    wait_until_healthy(URL, timeout=300)
    admin = Admin(os.environ["LLMTEL_METABASE_ADMIN_EMAIL"], os.environ["LLMTEL_METABASE_ADMIN_PASSWORD"])
    client = HttpApi(URL)
    ensure_setup(client, admin)
    client.login(admin)
    return client


def test_provisioning_converges_and_the_public_dashboard_answers(api: HttpApi) -> None:
    warehouse = Warehouse(
        host=os.environ.get("LLMTEL_TEST_WAREHOUSE_HOST", "localhost"),
        port=int(os.environ.get("LLMTEL_TEST_WAREHOUSE_PORT", "5432")),
        dbname=os.environ.get("LLMTEL_TEST_WAREHOUSE_DB", "warehouse"),
        user="portfolio_reader",
        password=os.environ["LLMTEL_READER_PASSWORD"],
    )
    first = provision(api, load_dashboard(), warehouse, URL or "")
    assert first.public_url
    second = provision(api, load_dashboard(), warehouse, URL or "")
    assert second.actions == [], [a.describe() for a in second.actions]
    uuid = first.public_url.rsplit("/", 1)[1]
    public = api.get(f"/api/public/dashboard/{uuid}")
    assert len(public["dashcards"]) == len(load_dashboard().cards)
