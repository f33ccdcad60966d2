"""The llmtel Streamlit app: the Token Forecaster and the executive overview."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

# No page or navigation icons: Streamlit fetches emoji and material icons from a third-party
# CDN, and everything must come from our own origin (spec section 8).
st.set_page_config(page_title="llmtel", layout="wide")
navigation = st.navigation(
    [
        st.Page(
            HERE / "app_pages" / "token_forecaster.py",
            title="Token Forecaster",
            default=True,
        ),
        st.Page(HERE / "app_pages" / "executive_overview.py", title="Executive overview"),
    ]
)
navigation.run()
