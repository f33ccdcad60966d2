"""The llmtel Streamlit app: the Token Forecaster and the executive overview."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

st.set_page_config(page_title="llmtel", page_icon=":material/bar_chart:", layout="wide")
navigation = st.navigation(
    [
        st.Page(
            HERE / "app_pages" / "token_forecaster.py",
            title="Token Forecaster",
            icon=":material/trending_up:",
            default=True,
        ),
        st.Page(HERE / "app_pages" / "executive_overview.py", title="Executive overview", icon=":material/dashboard:"),
    ]
)
navigation.run()
