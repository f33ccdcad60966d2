"""The executive dashboards as data (`cards.yml`): loaded here, rendered by the app and Metabase."""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from llmtelemetry.forecaster.data import query_frame

CHARTS = ("kpi", "bar", "line", "area", "heatmap", "table")


@dataclasses.dataclass(frozen=True)
class Card:
    id: str
    title: str
    chart: str
    sql: str
    x: str | None = None
    y: str | list[str] | None = None
    color: str | None = None

    @property
    def y_columns(self) -> list[str]:
        return [self.y] if isinstance(self.y, str) else list(self.y or [])


@dataclasses.dataclass(frozen=True)
class Dashboard:
    title: str
    cards: tuple[Card, ...]


@functools.cache
def load_dashboard() -> Dashboard:
    """The packaged dashboard definition, validated."""
    text = resources.files("llmtelemetry.dashboards").joinpath("cards.yml").read_text("utf-8")
    data = yaml.safe_load(text)
    cards = tuple(Card(**card) for card in data["cards"])
    for card in cards:
        if card.chart not in CHARTS:
            raise ValueError(f"card {card.id}: chart {card.chart!r} is not one of {CHARTS}")
    if len({c.id for c in cards}) != len(cards):
        raise ValueError("card ids must be unique")
    return Dashboard(data["dashboard"], cards)


def run_card(conn: Any, card: Card) -> pd.DataFrame:
    """The card's rows (as the connection's role: portfolio_reader in the app)."""
    return query_frame(conn, card.sql)
