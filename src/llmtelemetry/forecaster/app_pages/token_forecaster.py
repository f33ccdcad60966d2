"""Token Forecaster: history, forecast with its interval band, backtest, what-if, CSV."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from llmtelemetry.forecaster.app_support import dsn_key, forecast, friendly

st.title("Token Forecaster")
st.caption("Token usage and cost ahead, with 80 % prediction intervals, from the hourly usage mart.")

controls = st.columns(3)
grain = controls[0].segmented_control("Grain", ["day", "hour"], default="day", key="grain") or "day"
horizon = controls[1].slider("Horizon (days)", 1, 90, 14, key="horizon")
by = controls[2].selectbox("Breakdown", ["overall", "tier", "model"], key="by")

result = friendly(forecast, dsn_key(), grain, horizon, by)

what_if = st.columns(2)
growth = what_if[0].slider("Volume growth (%)", -50, 200, 0, key="growth")
price = what_if[1].slider("Price change (%)", -50, 100, 0, key="price")

volume, cost_factor = 1 + growth / 100, (1 + growth / 100) * (1 + price / 100)
future = result.forecast.copy()
for column in ("tokens", "tokens_lower", "tokens_upper"):
    future[column] *= volume
for column in ("cost_usd", "cost_usd_lower", "cost_usd_upper"):
    future[column] *= cost_factor

recent = result.history[result.history["ts"] >= result.history["ts"].max() - pd.Timedelta(days=max(28, horizon))]
history_chart = (
    alt.Chart(recent)
    .mark_line(color="#888")
    .encode(x=alt.X("ts:T", title=None), y=alt.Y("tokens:Q", title="tokens"), detail="series:N")
)
band = (
    alt.Chart(future)
    .mark_area(opacity=0.25)
    .encode(x="ts:T", y="tokens_lower:Q", y2="tokens_upper:Q", color=alt.Color("series:N", title=by))
)
line = alt.Chart(future).mark_line().encode(x="ts:T", y="tokens:Q", color="series:N")
st.altair_chart(history_chart + band + line, width="stretch")

totals = st.columns(3)
totals[0].metric("Forecast tokens", f"{future['tokens'].sum():,.0f}")
totals[1].metric("Forecast cost (USD)", f"{future['cost_usd'].sum():,.2f}")
totals[2].metric(
    "80 % interval of the cost", f"{future['cost_usd_lower'].sum():,.2f} to {future['cost_usd_upper'].sum():,.2f}"
)

st.subheader("Backtest against seasonal-naive")
b = result.backtest
st.write(
    f"{b.folds} weekly origins, {b.points} held-out {grain}s; seasonal-naive repeats the same {grain} one week earlier."
)
scores = st.columns(4)
scores[0].metric("WAPE (model)", f"{b.wape:.3f}", f"{b.wape - b.baseline_wape:+.3f} vs naive", delta_color="inverse")
scores[1].metric("WAPE (seasonal-naive)", f"{b.baseline_wape:.3f}")
scores[2].metric("MAE (model)", f"{b.mae:,.0f}", f"{b.mae - b.baseline_mae:+,.0f} vs naive", delta_color="inverse")
scores[3].metric(
    "Interval coverage", f"{b.interval_coverage:.1%}", f"nominal {b.nominal_coverage:.0%}", delta_color="off"
)

st.download_button(
    "Download the forecast (CSV)",
    future.to_csv(index=False).encode(),
    "llmtel-forecast.csv",
    "text/csv",
    key="download",
)
st.dataframe(future, hide_index=True, width="stretch")
