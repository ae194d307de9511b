"""Parvis console: the router. Identifies the agent, then shows the pages their role allows."""

import streamlit as st

from console.messages import ROLE_LABELS, message_for
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, nav, session
from console.ui.page import alert, unexpected
from core.errors import ConfigError, ParvisError
from core.version import __version__

st.set_page_config(page_title="Parvis", page_icon="💬", layout="wide")
# Streamlit's file uploader has no French texts of its own (« Upload », « 5MB per file »): shown in French here.
st.html("""<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] {display: none}
[data-testid="stFileUploaderDropzone"] button > div::after {content: "Choisir un fichier"}
[data-testid="stFileUploaderDropzoneInstructions"] span {display: none}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {content: "ou le glisser ici"; font-size: 0.875rem}
</style>""")

# The one error funnel (console/ui/page.py): a refusal shows its French text; anything else (a raw SQLite error,
# a bug) shows a French sentence with a reference id, the detail goes to the log, never to the browser.
try:
    with deps.db() as database:
        mode = session.mode(database)
        agent = session.signed_in_agent(database, mode)
        team = session.agents(database) if mode == "open" else []
except ParvisError as err:
    st.error(message_for(err))
    st.stop()
except Exception as err:  # noqa: BLE001
    alert("error", unexpected(err))
    st.stop()

if mode == "open" and not session.open_mode_allowed():  # open mode serves this machine only (issue #15)
    st.error(message_for(ConfigError("open mode reached from another machine", reason="open_mode_remote")))
    st.stop()

with st.sidebar:
    st.markdown("### Parvis")
    if mode == "open":
        # The open mode is told once, by each page's banner (console/ui/page.py OPEN_MODE_BANNER; issue #17)
        if team:
            ids = [a.id for a in team]
            labels = {a.id: f"{a.name} — {ROLE_LABELS.get(a.role, a.role)}" for a in team}
            workers = [a.id for a in team if a.role == "community_manager"]
            current = agent.id if agent else (workers or ids)[0]
            chosen = st.selectbox("Agent", ids, index=ids.index(current) if current in ids else 0,
                                  format_func=labels.__getitem__, key="sidebar_agent", placeholder=CHOOSE_ONE)
            if chosen != (agent.id if agent else None):
                deps.set_current_agent(chosen)
                session.remember_open_agent(chosen)  # F5 and new tabs keep this agent (console/web/cookies.py)
                with deps.db() as database:
                    agent = deps.current_agent(database)
        else:
            st.info("Aucun agent pour l'instant : lancez le serveur avec PARVIS_AUTH=local, puis créez le premier "
                    "administrateur sur la page de connexion avec le code d'installation écrit dans son journal.")
    elif agent is not None:
        st.caption(f"{agent.name} — {ROLE_LABELS.get(agent.role, agent.role)}")
        st.button("Se déconnecter", key="sidebar_signout", on_click=session.sign_out)
    st.caption(f"Parvis {__version__}")
    session.render_cookie_requests()

if mode != "open":  # pages read the agent through deps.current_agent: keep it in step with the session
    deps.set_current_agent(agent.id if agent else None)
if mode != "open" and agent is None:
    page = st.navigation([st.Page("console/ui/pages/sign_in.py", title="Connexion", icon=":material/login:")])
else:
    page = st.navigation(nav.pages_for(agent))
try:
    page.run()
except ParvisError as err:
    alert("error", message_for(err))
except Exception as err:  # noqa: BLE001
    alert("error", unexpected(err))
