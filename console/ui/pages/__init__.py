"""Page scripts given to ``st.navigation`` (one file per page)."""
