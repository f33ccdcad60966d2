"""The executive dashboard, provisioned into Metabase from the same cards as the Streamlit page.

Three layers, so that everything but the HTTP calls is pure and tested:

1. `desired_state(...)`: what Metabase should hold, built from `cards.yml` (payloads only);
2. `read_state(api)` reads what it holds; `plan(desired, current)` compares the two and returns
   the actions (create / update / nothing), pure;
3. `apply(api, desired, current, actions)` carries them out through the REST API.

`provision(api, ...)` runs all three after Metabase's first-time setup and login; a second run
plans nothing and writes nothing. Everything llmtel owns lives in one collection, and each card
carries its `cards.yml` id in its description, so renaming a card in `cards.yml` updates it in
place. Endpoints used (Metabase 0.50+): /api/session/properties, /api/setup, /api/session,
/api/database, /api/collection, /api/card, /api/dashboard (PUT with `dashcards`),
/api/setting/enable-public-sharing, /api/dashboard/:id/public_link.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Protocol

from llmtelemetry.dashboards import Card, Dashboard
from llmtelemetry.errors import LlmtelError

COLLECTION = "llmtel"
DATABASE_NAME = "llmtel warehouse"
GRID_COLUMNS = 24
MARK = "Managed by llmtel (card {id}); edit cards.yml, not this card."
_MARK_PATTERN = re.compile(r"Managed by llmtel \(card ([a-z0-9_]+)\)")
#: cards.yml chart -> Metabase display (Metabase has no heatmap; a table shows the grid's values)
DISPLAYS = {"kpi": "object", "bar": "bar", "line": "line", "area": "area", "heatmap": "table", "table": "table"}


class MetabaseError(LlmtelError):
    """Metabase refused a request or answered something unexpected."""


class Api(Protocol):
    """The HTTP layer: JSON in, JSON out, MetabaseError on a non-2xx answer."""

    def get(self, path: str) -> Any: ...
    def post(self, path: str, body: dict[str, Any]) -> Any: ...
    def put(self, path: str, body: dict[str, Any]) -> Any: ...


# --------------------------------------------------------------------------- what Metabase should hold


@dataclasses.dataclass(frozen=True)
class Warehouse:
    """How Metabase reaches the warehouse (as portfolio_reader)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str
    ssl: bool = False

    def details(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "ssl": self.ssl,
            "tunnel-enabled": False,
        }


@dataclasses.dataclass(frozen=True)
class Desired:
    dashboard_name: str
    cards: dict[str, dict[str, Any]]  # cards.yml id -> card payload without database/collection ids
    layout: list[dict[str, Any]]  # cards.yml id + row/col/size_x/size_y, in order
    warehouse: Warehouse


def card_payload(card: Card) -> dict[str, Any]:
    """The Metabase card for a cards.yml card (database and collection ids are added when applied)."""
    settings: dict[str, Any] = {}
    if card.chart in ("bar", "line", "area") and card.x:
        settings["graph.dimensions"] = [card.x] + ([card.color] if card.color else [])
        settings["graph.metrics"] = card.y_columns
    return {
        "name": card.title,
        "description": MARK.format(id=card.id),
        "display": DISPLAYS[card.chart],
        "visualization_settings": settings,
        "query": card.sql.strip(),
    }


def layout(cards: tuple[Card, ...]) -> list[dict[str, Any]]:
    """Key figures across the top, then two cards a row on Metabase's 24-column grid."""
    placed, row, col = [], 0, 0
    for card in cards:
        if card.chart == "kpi":
            if col:
                row, col = row + 6, 0
            placed.append({"card": card.id, "row": row, "col": 0, "size_x": GRID_COLUMNS, "size_y": 3})
            row += 3
            continue
        placed.append({"card": card.id, "row": row, "col": col, "size_x": GRID_COLUMNS // 2, "size_y": 6})
        row, col = (row, GRID_COLUMNS // 2) if col == 0 else (row + 6, 0)
    return placed


def desired_state(dashboard: Dashboard, warehouse: Warehouse) -> Desired:
    return Desired(
        dashboard_name=dashboard.title,
        cards={card.id: card_payload(card) for card in dashboard.cards},
        layout=layout(dashboard.cards),
        warehouse=warehouse,
    )


# --------------------------------------------------------------------------- what it holds


@dataclasses.dataclass(frozen=True)
class Current:
    database: dict[str, Any] | None  # {"id", "details"} of the warehouse connection
    collection_id: int | None
    cards: dict[str, dict[str, Any]]  # cards.yml id -> {"id", and the payload's fields}
    dashboard: dict[str, Any] | None  # {"id", "name", "public_uuid", "dashcards": [...]}
    public_sharing: bool


def native_query(dataset_query: dict[str, Any]) -> str:
    """The SQL of a native query, in the legacy or the MBQL 5 (stages) shape."""
    if isinstance(dataset_query.get("native"), dict):
        return str(dataset_query["native"].get("query", "")).strip()
    for stage in dataset_query.get("stages") or []:
        if isinstance(stage, dict) and "native" in stage:
            return str(stage["native"]).strip()
    return ""


def _items(answer: Any) -> list[dict[str, Any]]:
    """Metabase lists come bare or as {"data": [...]} depending on the endpoint and version."""
    data = answer.get("data", []) if isinstance(answer, dict) else answer
    return [item for item in data or [] if isinstance(item, dict)]


def read_state(api: Api, dashboard_name: str, public_sharing: bool) -> Current:
    database = next((db for db in _items(api.get("/api/database")) if db.get("name") == DATABASE_NAME), None)
    collection = next(
        (
            c
            for c in _items(api.get("/api/collection"))
            if c.get("name") == COLLECTION and not c.get("archived") and not c.get("personal_owner_id")
        ),
        None,
    )
    cards: dict[str, dict[str, Any]] = {}
    dashboard = None
    if collection is not None:
        for card in _items(api.get("/api/card?f=all")):
            match = _MARK_PATTERN.search(card.get("description") or "")
            if card.get("collection_id") != collection["id"] or card.get("archived") or not match:
                continue
            cards[match.group(1)] = {
                "id": card["id"],
                "name": card.get("name"),
                "description": card.get("description"),
                "display": card.get("display"),
                "visualization_settings": card.get("visualization_settings") or {},
                "query": native_query(card.get("dataset_query") or {}),
                "database_id": (card.get("dataset_query") or {}).get("database"),
            }
        items = _items(api.get(f"/api/collection/{collection['id']}/items?models=dashboard"))
        found = next((i for i in items if i.get("model") == "dashboard" and i.get("name") == dashboard_name), None)
        if found is not None:
            full = api.get(f"/api/dashboard/{found['id']}")
            dashboard = {
                "id": full["id"],
                "name": full.get("name"),
                "public_uuid": full.get("public_uuid"),
                "dashcards": [
                    {k: d.get(k) for k in ("id", "card_id", "row", "col", "size_x", "size_y")}
                    for d in full.get("dashcards") or full.get("ordered_cards") or []
                ],
            }
    return Current(
        database={"id": database["id"], "details": database.get("details") or {}} if database else None,
        collection_id=collection["id"] if collection else None,
        cards=cards,
        dashboard=dashboard,
        public_sharing=public_sharing,
    )


# --------------------------------------------------------------------------- the plan (pure)


@dataclasses.dataclass(frozen=True)
class Action:
    kind: str  # create_database, update_database, create_collection, create_card, update_card,
    #            create_dashboard, set_dashcards, enable_public_sharing, share_dashboard
    target: str  # what it acts on (a card id, the dashboard's name, …)
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        fields = f" ({', '.join(sorted(self.changes))})" if self.changes and self.kind.startswith("update") else ""
        return f"{self.kind.replace('_', ' ')}: {self.target}{fields}"


_DATABASE_FIELDS = ("host", "port", "dbname", "user", "ssl")


def plan(desired: Desired, current: Current) -> list[Action]:
    """What must change in Metabase so that it holds `desired`; empty when it already does."""
    actions: list[Action] = []
    if current.database is None:
        actions.append(Action("create_database", DATABASE_NAME))
    else:
        wanted = desired.warehouse.details()
        changed = {k: wanted[k] for k in _DATABASE_FIELDS if current.database["details"].get(k) != wanted[k]}
        if changed:
            actions.append(Action("update_database", DATABASE_NAME, changed))
    if current.collection_id is None:
        actions.append(Action("create_collection", COLLECTION))

    database_known = current.database is not None
    for card_id, payload in desired.cards.items():
        existing = current.cards.get(card_id)
        if existing is None:
            actions.append(Action("create_card", card_id))
            continue
        changes = {k: v for k, v in payload.items() if existing.get(k) != v}
        if not database_known:
            changes["database"] = "the new connection"
        elif current.database and existing.get("database_id") != current.database["id"]:
            changes["database"] = current.database["id"]
        if changes:
            actions.append(Action("update_card", card_id, changes))

    dashboard = current.dashboard
    if dashboard is None:
        actions.append(Action("create_dashboard", desired.dashboard_name))
    if dashboard is None or _dashcards_differ(desired, current):
        actions.append(Action("set_dashcards", desired.dashboard_name))
    if not current.public_sharing:
        actions.append(Action("enable_public_sharing", "enable-public-sharing"))
    if dashboard is None or not dashboard.get("public_uuid"):
        actions.append(Action("share_dashboard", desired.dashboard_name))
    return actions


def _dashcards_differ(desired: Desired, current: Current) -> bool:
    assert current.dashboard is not None
    ids = {card_id: card["id"] for card_id, card in current.cards.items()}
    if any(place["card"] not in ids for place in desired.layout):
        return True
    wanted = sorted((ids[p["card"]], p["row"], p["col"], p["size_x"], p["size_y"]) for p in desired.layout)
    have = sorted((d["card_id"], d["row"], d["col"], d["size_x"], d["size_y"]) for d in current.dashboard["dashcards"])
    return wanted != have


# --------------------------------------------------------------------------- carrying it out


def apply(api: Api, desired: Desired, current: Current, actions: list[Action]) -> Current:
    """Carry out `actions`; returns the state Metabase should now be in."""
    kinds = {a.kind for a in actions}
    database = current.database
    if "create_database" in kinds:
        made = api.post(
            "/api/database", {"engine": "postgres", "name": DATABASE_NAME, "details": desired.warehouse.details()}
        )
        database = {"id": made["id"], "details": desired.warehouse.details()}
    elif "update_database" in kinds and database is not None:
        api.put(f"/api/database/{database['id']}", {"details": desired.warehouse.details()})
        database = {"id": database["id"], "details": desired.warehouse.details()}
    assert database is not None
    if kinds & {"create_database", "update_database"}:
        api.post(f"/api/database/{database['id']}/sync_schema", {})

    collection_id = current.collection_id
    if "create_collection" in kinds:
        collection_id = api.post("/api/collection", {"name": COLLECTION, "description": "Provisioned by llmtel."})["id"]

    cards = {card_id: dict(card) for card_id, card in current.cards.items()}
    for action in actions:
        if action.kind == "create_card":
            body = _card_body(desired.cards[action.target], database["id"], collection_id)
            made = api.post("/api/card", body)
            cards[action.target] = {**desired.cards[action.target], "id": made["id"], "database_id": database["id"]}
        elif action.kind == "update_card":
            existing = cards[action.target]
            body = _card_body(desired.cards[action.target], database["id"], collection_id)
            api.put(f"/api/card/{existing['id']}", body)
            cards[action.target] = {**desired.cards[action.target], "id": existing["id"], "database_id": database["id"]}

    dashboard = dict(current.dashboard) if current.dashboard else None
    if "create_dashboard" in kinds:
        made = api.post(
            "/api/dashboard",
            {
                "name": desired.dashboard_name,
                "description": "Provisioned by llmtel from cards.yml.",
                "collection_id": collection_id,
            },
        )
        dashboard = {"id": made["id"], "name": desired.dashboard_name, "public_uuid": None, "dashcards": []}
    assert dashboard is not None
    if "set_dashcards" in kinds:
        dashcards = [
            {
                "id": -(index + 1),
                "card_id": cards[place["card"]]["id"],
                "row": place["row"],
                "col": place["col"],
                "size_x": place["size_x"],
                "size_y": place["size_y"],
                "parameter_mappings": [],
                "visualization_settings": {},
                "series": [],
            }
            for index, place in enumerate(desired.layout)
        ]
        api.put(f"/api/dashboard/{dashboard['id']}", {"dashcards": dashcards})
        dashboard["dashcards"] = [{k: d[k] for k in ("card_id", "row", "col", "size_x", "size_y")} for d in dashcards]
    if "enable_public_sharing" in kinds:
        api.put("/api/setting/enable-public-sharing", {"value": True})
    if "share_dashboard" in kinds:
        dashboard["public_uuid"] = api.post(f"/api/dashboard/{dashboard['id']}/public_link", {})["uuid"]
    return Current(database, collection_id, cards, dashboard, True)


def _card_body(payload: dict[str, Any], database_id: int, collection_id: int | None) -> dict[str, Any]:
    return {
        "name": payload["name"],
        "description": payload["description"],
        "display": payload["display"],
        "visualization_settings": payload["visualization_settings"],
        "collection_id": collection_id,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": payload["query"], "template-tags": {}},
        },
    }


# --------------------------------------------------------------------------- the whole job


@dataclasses.dataclass(frozen=True)
class Admin:
    email: str
    password: str
    site_name: str = "llmtel"


@dataclasses.dataclass(frozen=True)
class Provisioned:
    actions: list[Action]
    dashboard_id: int | None
    public_url: str | None  # the public dashboard page
    applied: bool

    def iframe(self) -> str | None:
        if not self.public_url:
            return None
        return f'<iframe src="{self.public_url}" frameborder="0" width="100%" height="900" allowtransparency></iframe>'


def ensure_setup(api: Api, admin: Admin) -> bool:
    """Complete Metabase's first-time setup if nobody has; True if it did."""
    properties = api.get("/api/session/properties")
    if properties.get("has-user-setup"):
        return False
    token = properties.get("setup-token")
    if not token:
        raise MetabaseError("Metabase is not set up and offers no setup token", fix="finish setup in its web UI once")
    api.post(
        "/api/setup",
        {
            "token": token,
            "user": {"first_name": "llmtel", "last_name": "admin", "email": admin.email, "password": admin.password},
            "prefs": {"site_name": admin.site_name, "site_locale": "en"},
        },
    )
    return True


def provision(
    api: Api, dashboard: Dashboard, warehouse: Warehouse, public_base: str, *, dry_run: bool = False
) -> Provisioned:
    """Bring Metabase in line with `cards.yml` (the caller has set up and logged in)."""
    properties = api.get("/api/session/properties")
    desired = desired_state(dashboard, warehouse)
    current = read_state(api, desired.dashboard_name, bool(properties.get("enable-public-sharing")))
    actions = plan(desired, current)
    final = current if dry_run or not actions else apply(api, desired, current, actions)
    uuid = final.dashboard.get("public_uuid") if final.dashboard else None
    return Provisioned(
        actions=actions,
        dashboard_id=final.dashboard["id"] if final.dashboard else None,
        public_url=f"{public_base.rstrip('/')}/public/dashboard/{uuid}" if uuid else None,
        applied=bool(actions) and not dry_run,
    )


# --------------------------------------------------------------------------- HTTP


class HttpApi:
    """Metabase's REST API over `requests`: JSON bodies, a session header, errors as MetabaseError."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self._http = requests.Session()
        self._timeout = timeout

    def login(self, admin: Admin) -> None:
        session = self.post("/api/session", {"username": admin.email, "password": admin.password})
        self._http.headers["X-Metabase-Session"] = session["id"]

    def get(self, path: str) -> Any:
        return self._send("GET", path, None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("POST", path, body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("PUT", path, body)

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        import requests

        url = self.base_url + path
        try:
            response = self._http.request(method, url, json=body, timeout=self._timeout)
        except requests.RequestException as exc:
            raise MetabaseError(
                f"cannot reach Metabase at {self.base_url} ({type(exc).__name__})",
                fix="check --url / LLMTEL_METABASE_URL and that Metabase is up (GET /api/health)",
            ) from None
        if response.status_code >= 400:
            detail = response.text.strip().replace("\n", " ")[:300]
            raise MetabaseError(f"Metabase answered {response.status_code} to {method} {path}: {detail}")
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            return {"text": response.text}


def wait_until_healthy(base_url: str, *, timeout: float = 300.0) -> None:
    """Poll /api/health until Metabase answers {"status": "ok"} (it takes a minute or two to start)."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = requests.get(base_url.rstrip("/") + "/api/health", timeout=5)
            if answer.ok and answer.json().get("status") == "ok":
                return
        except (requests.RequestException, ValueError):
            pass
        if time.monotonic() > deadline:
            raise MetabaseError(f"Metabase at {base_url} was not healthy within {timeout:.0f} s")
        time.sleep(3)
