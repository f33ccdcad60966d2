"""Metabase provisioning: payloads and plans are pure; a run against Metabase's state converges.

Metabase cannot run here. `InMemoryMetabase` keeps the state the provisioner reads and writes,
answering the endpoints it uses with the shapes Metabase documents (lists as {"data": [...]},
dashboards with `dashcards`, public links as {"uuid"}), so that "a second run plans nothing" is
checked on the real planner and executor. It is no evidence about Metabase's own behaviour: the
live test in tests_live/ is.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
import socket
from typing import Any

import pytest

from llmtelemetry.dashboards import load_dashboard
from llmtelemetry.dashboards.metabase import (
    DATABASE_NAME,
    GRID_COLUMNS,
    Admin,
    MetabaseError,
    Warehouse,
    card_payload,
    desired_state,
    ensure_setup,
    layout,
    native_query,
    plan,
    provision,
    read_state,
)

WAREHOUSE = Warehouse("portfolio_db", 5432, "warehouse", "portfolio_reader", "s3cret")
ADMIN = Admin("admin@example.com", "a-long-admin-password-1")


class InMemoryMetabase:
    """The subset of Metabase's REST API the provisioner uses, over plain dictionaries."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.properties: dict[str, Any] = {
            "has-user-setup": False,
            "setup-token": "tok",
            "enable-public-sharing": False,
        }
        self.databases: dict[int, dict[str, Any]] = {}
        self.collections: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.dashboards: dict[int, dict[str, Any]] = {}
        self.writes: list[str] = []

    def get(self, path: str) -> Any:
        if path == "/api/session/properties":
            return dict(self.properties)
        if path == "/api/database":
            return {"data": [copy.deepcopy(d) for d in self.databases.values()], "total": len(self.databases)}
        if path == "/api/collection":
            return [copy.deepcopy(c) for c in self.collections.values()]
        if path == "/api/card?f=all":
            return [copy.deepcopy(c) for c in self.cards.values()]
        if match := re.fullmatch(r"/api/collection/(\d+)/items\?models=dashboard", path):
            owned = [d for d in self.dashboards.values() if d["collection_id"] == int(match.group(1))]
            return {"data": [{"id": d["id"], "name": d["name"], "model": "dashboard"} for d in owned]}
        if match := re.fullmatch(r"/api/dashboard/(\d+)", path):
            return copy.deepcopy(self.dashboards[int(match.group(1))])
        raise AssertionError(f"unexpected GET {path}")

    def post(self, path: str, body: dict[str, Any]) -> Any:
        self.writes.append(f"POST {path}")
        if path == "/api/setup":
            if self.properties["has-user-setup"] or body["token"] != self.properties["setup-token"]:
                raise MetabaseError("403")
            self.properties["has-user-setup"] = True
            return {"id": "session"}
        if path in ("/api/database", "/api/collection", "/api/card", "/api/dashboard"):
            new = {"id": next(self.ids), **copy.deepcopy(body)}
            if path == "/api/database":
                self.databases[new["id"]] = new
            elif path == "/api/collection":
                self.collections[new["id"]] = new
            elif path == "/api/card":
                self.cards[new["id"]] = new
            else:
                self.dashboards[new["id"]] = {**new, "dashcards": [], "public_uuid": None}
            return new
        if re.fullmatch(r"/api/database/\d+/sync_schema", path):
            return {"status": "ok"}
        if match := re.fullmatch(r"/api/dashboard/(\d+)/public_link", path):
            dashboard = self.dashboards[int(match.group(1))]
            dashboard["public_uuid"] = dashboard["public_uuid"] or f"uuid-{dashboard['id']}"
            return {"uuid": dashboard["public_uuid"]}
        raise AssertionError(f"unexpected POST {path}")

    def put(self, path: str, body: dict[str, Any]) -> Any:
        self.writes.append(f"PUT {path}")
        if path == "/api/setting/enable-public-sharing":
            self.properties["enable-public-sharing"] = body["value"]
            return {}
        if match := re.fullmatch(r"/api/(database|card|dashboard)/(\d+)", path):
            store = {"database": self.databases, "card": self.cards, "dashboard": self.dashboards}[match.group(1)]
            item = store[int(match.group(2))]
            if "dashcards" in body:  # the server assigns ids to new dashcards (negative ids)
                body = {**body, "dashcards": [{**d, "id": next(self.ids)} for d in body["dashcards"]]}
            item.update(copy.deepcopy(body))
            return item
        raise AssertionError(f"unexpected PUT {path}")


def run(metabase: InMemoryMetabase, dashboard: Any = None, warehouse: Warehouse = WAREHOUSE) -> Any:
    ensure_setup(metabase, ADMIN)
    return provision(metabase, dashboard or load_dashboard(), warehouse, "https://example.com")


def test_card_payloads_follow_the_card_definitions() -> None:
    cards = {card.id: card for card in load_dashboard().cards}
    kpis, latency = card_payload(cards["kpis"]), card_payload(cards["latency_by_model"])
    assert kpis["display"] == "object" and kpis["query"] == cards["kpis"].sql.strip()
    assert latency["display"] == "bar"
    assert latency["visualization_settings"] == {
        "graph.dimensions": ["model_name"],
        "graph.metrics": ["p50_ms", "p95_ms", "p99_ms"],
    }
    cost = card_payload(cards["cost_by_model"])
    assert cost["visualization_settings"]["graph.dimensions"] == ["day", "model_name"]
    assert "(card kpis)" in kpis["description"]


def test_the_layout_fills_the_grid_without_overlaps() -> None:
    places = layout(load_dashboard().cards)
    assert len(places) == len(load_dashboard().cards)
    assert places[0]["card"] == "kpis" and places[0]["size_x"] == GRID_COLUMNS
    cells = set()
    for place in places:
        assert place["col"] >= 0 and place["col"] + place["size_x"] <= GRID_COLUMNS
        for row in range(place["row"], place["row"] + place["size_y"]):
            for col in range(place["col"], place["col"] + place["size_x"]):
                assert (row, col) not in cells, f"{place['card']} overlaps another card"
                cells.add((row, col))


def test_a_fresh_metabase_gets_everything_and_a_second_run_changes_nothing() -> None:
    metabase = InMemoryMetabase()
    first = run(metabase)
    kinds = [action.kind for action in first.actions]
    assert kinds.count("create_card") == len(load_dashboard().cards)
    for kind in ("create_database", "create_collection", "create_dashboard", "set_dashcards", "share_dashboard"):
        assert kind in kinds
    assert first.applied and first.public_url == f"https://example.com/public/dashboard/uuid-{first.dashboard_id}"
    assert 'src="https://example.com/public/dashboard/' in (first.iframe() or "")
    assert metabase.properties["enable-public-sharing"] is True
    (database,) = metabase.databases.values()
    assert database["details"]["user"] == "portfolio_reader" and database["engine"] == "postgres"
    (dashboard,) = metabase.dashboards.values()
    assert {d["card_id"] for d in dashboard["dashcards"]} == set(metabase.cards)

    writes = len(metabase.writes)
    second = run(metabase)
    assert second.actions == [] and not second.applied
    assert len(metabase.writes) == writes, metabase.writes[writes:]
    assert second.public_url == first.public_url


def test_a_changed_card_definition_updates_only_that_card() -> None:
    metabase = InMemoryMetabase()
    run(metabase)
    dashboard = load_dashboard()
    changed = dataclasses.replace(dashboard.cards[1], sql="select 1 as model_name, 2 as p50_ms")
    edited = dataclasses.replace(dashboard, cards=(dashboard.cards[0], changed, *dashboard.cards[2:]))
    actions = run(metabase, edited).actions
    assert [(a.kind, a.target, sorted(a.changes)) for a in actions] == [("update_card", changed.id, ["query"])]
    assert run(metabase, edited).actions == []


def test_changes_made_in_metabase_are_put_back() -> None:
    metabase = InMemoryMetabase()
    run(metabase)
    card = next(iter(metabase.cards.values()))
    card["name"], card["display"] = "renamed by hand", "pie"
    (dashboard,) = metabase.dashboards.values()
    dashboard["dashcards"] = dashboard["dashcards"][1:]
    kinds = sorted(a.kind for a in run(metabase).actions)
    assert kinds == ["set_dashcards", "update_card"]
    assert metabase.cards[card["id"]]["name"] != "renamed by hand" and metabase.cards[card["id"]]["display"] != "pie"
    assert run(metabase).actions == []


def test_a_moved_warehouse_updates_the_connection() -> None:
    metabase = InMemoryMetabase()
    run(metabase)
    moved = dataclasses.replace(WAREHOUSE, host="db.internal")
    actions = run(metabase, warehouse=moved).actions
    assert [(a.kind, a.changes) for a in actions] == [("update_database", {"host": "db.internal"})]
    assert run(metabase, warehouse=moved).actions == []


def test_cards_not_managed_by_llmtel_are_left_alone() -> None:
    metabase = InMemoryMetabase()
    run(metabase)
    collection_id = next(iter(metabase.collections))
    metabase.cards[999] = {"id": 999, "name": "mine", "description": "hand made", "collection_id": collection_id}
    assert run(metabase).actions == []
    assert metabase.cards[999]["name"] == "mine"


def test_planning_reads_the_mbql5_query_shape() -> None:
    assert native_query({"type": "native", "native": {"query": " select 1 "}}) == "select 1"
    assert native_query(
        {"lib/type": "mbql/query", "stages": [{"lib/type": "mbql.stage/native", "native": "select 2"}]}
    ) == ("select 2")
    assert native_query({}) == ""


def test_the_plan_of_an_empty_metabase_is_complete_and_pure() -> None:
    metabase = InMemoryMetabase()
    metabase.properties["has-user-setup"] = True
    desired = desired_state(load_dashboard(), WAREHOUSE)
    current = read_state(metabase, desired.dashboard_name, public_sharing=False)
    assert plan(desired, current) == plan(desired, current)
    assert metabase.writes == []
    assert [a.target for a in plan(desired, current) if a.kind == "create_database"] == [DATABASE_NAME]


def test_setup_runs_once_and_needs_a_token() -> None:
    metabase = InMemoryMetabase()
    assert ensure_setup(metabase, ADMIN) is True
    assert ensure_setup(metabase, ADMIN) is False
    blank = InMemoryMetabase()
    blank.properties["setup-token"] = None
    with pytest.raises(MetabaseError, match="setup token"):
        ensure_setup(blank, ADMIN)


def test_the_provision_command_explains_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from llmtelemetry.cli import main

    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path))
    monkeypatch.delenv("LLMTEL_METABASE_ADMIN_PASSWORD", raising=False)
    dsn = "postgresql://postgres@db.internal:5432/warehouse"
    assert main(["metabase", "provision", "--dsn", dsn]) == 2
    assert "error: LLMTEL_METABASE_ADMIN_PASSWORD is not set" in capsys.readouterr().err

    monkeypatch.setenv("LLMTEL_METABASE_ADMIN_PASSWORD", "a-long-admin-password-1")
    assert main(["metabase", "provision", "--dsn", "host=/tmp/sock dbname=x"]) == 2
    assert "Unix socket" in capsys.readouterr().err

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert main(["metabase", "provision", "--dsn", dsn, "--url", f"http://127.0.0.1:{port}", "--wait", "0"]) == 1
    err = capsys.readouterr().err
    assert f"error: Metabase at http://127.0.0.1:{port} was not healthy" in err


def test_down_without_compose_stops_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from llmtelemetry.cli import main

    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path))
    assert main(["down"]) == 0
    assert "the embedded server was not running" in capsys.readouterr().out
