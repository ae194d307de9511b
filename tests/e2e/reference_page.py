"""Reference for the page-render benchmark: the smallest page that shows what the inbox test waits for (a
title, a count and a 50-row table), with none of Parvis. Its load time is Streamlit's own floor here."""

import streamlit as st

st.set_page_config(page_title="Référence", layout="wide")
st.title("Boîte de réception")
st.caption("50 message(s) · page 1")
st.dataframe([{"Priorité": 1.0, "Plateforme": "X", "Auteur": "@camille", "Message": "Lampadaire en panne rue des Lilas",
               "Reçu": "23/11/2026 10:00", "Statut": "Nouveau", "Assigné": "", "Risques": "", "Sentiment": "négatif"}
              for _ in range(50)], hide_index=True, width="stretch", height=560)
