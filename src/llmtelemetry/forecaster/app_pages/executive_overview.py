"""Executive overview: the cards of dashboards/cards.yml, as charts."""

from __future__ import annotations

import altair as alt
import streamlit as st

from llmtelemetry.dashboards import Card, load_dashboard
from llmtelemetry.forecaster.app_support import card_frame, dsn_key, friendly

dashboard = load_dashboard()
st.title("Executive overview")
st.caption(dashboard.title)


def _format(name: str, value: float) -> str:
    if name.endswith("_rate"):
        return f"{value:.2%}"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    return f"{value:,.2f}" if name == "cost_usd" else f"{value:,.0f}"


def draw(card: Card) -> None:
    frame = friendly(card_frame, dsn_key(), card)
    st.subheader(card.title)
    if card.chart == "kpi":
        row = frame.iloc[0]
        columns = st.columns(len(frame.columns))
        for column, name in zip(columns, frame.columns, strict=True):
            value = float(row[name])
            column.metric(name.replace("_", " "), _format(name, value))
        return
    if card.chart == "table":
        st.dataframe(frame, hide_index=True, width="stretch")
        return
    if card.chart == "heatmap":
        chart = (
            alt.Chart(frame)
            .mark_rect()
            .encode(x=alt.X(f"{card.x}:O"), y=alt.Y(f"{card.y}:N", sort=None), color=alt.Color(f"{card.color}:Q"))
        )
    elif len(card.y_columns) > 1:
        long = frame.melt(id_vars=[card.x], value_vars=card.y_columns, var_name="measure", value_name="value")
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(x=alt.X(f"{card.x}:N", sort=None), y="value:Q", color="measure:N", xOffset="measure:N")
        )
    else:
        mark = {"bar": "mark_bar", "line": "mark_line", "area": "mark_area"}[card.chart]
        kind = "T" if card.chart in ("line", "area") else "N"
        encoding: dict[str, object] = {"x": alt.X(f"{card.x}:{kind}", sort=None), "y": alt.Y(f"{card.y_columns[0]}:Q")}
        if card.color:
            encoding["color"] = alt.Color(f"{card.color}:N")
        chart = getattr(alt.Chart(frame), mark)().encode(**encoding)
    st.altair_chart(chart, width="stretch")


for card in dashboard.cards:
    draw(card)
