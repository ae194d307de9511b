"""The inbox item's back-office box (issue #19): where the service requests made for it stand (« transmis »,
« en cours », « résolu »), and the form that sends it to the back office (services/integrations/open311.py)."""

from __future__ import annotations

import streamlit as st

from console.messages.labels import CHOOSE_ONE, SERVICE_REQUEST_LABELS
from console.ui import components, deps, page
from core.clock import format_paris
from core.models import Agent, InboxItem
from services.accounts.permissions import Action, can
from services.integrations import open311


def _send(uid: str, agent: Agent) -> None:
    contact = None
    if st.session_state.get(f"sr_contact_{uid}"):
        contact = open311.Contact(email=st.session_state.get(f"sr_email_{uid}", ""),
                                  first_name=st.session_state.get(f"sr_first_{uid}", ""),
                                  phone=st.session_state.get(f"sr_phone_{uid}", ""))
    page.run(open311.create_request,
             lambda sr: f"Back-office : {SERVICE_REQUEST_LABELS.get(sr.status, sr.status)}.",
             settings=deps.settings(), agent=agent, uid=uid, service_code=st.session_state.get(f"sr_code_{uid}", ""),
             address=st.session_state.get(f"sr_address_{uid}", ""), contact=contact)


def back_office(item: InboxItem, agent: Agent) -> None:
    """The requests made for ``item`` and, for moderators, the form to make one."""
    settings = deps.settings()
    if not open311.configured(settings):
        return
    uid = item.uid
    made = page.load(lambda db: open311.requests_for(db, agent, uid))
    for sr in made:
        status = SERVICE_REQUEST_LABELS.get(sr.status, sr.status)
        st.markdown(components.md_escape(f"Back-office : {status} · service {sr.service_code}"
                                         + (f" · n° {sr.service_request_id}" if sr.service_request_id else "")
                                         + f" · {format_paris(sr.updated_at)}"))
        if sr.status_notes:  # the back office's text: shown as text, never as Markdown
            st.text(sr.status_notes)
    if not can(agent, Action.MODERATE):
        return
    with st.expander("Envoyer au back-office"):
        names: dict[str, str] = {}
        try:
            with deps.db() as db:
                names = {str(s.get("service_code")): str(s.get("service_name", ""))
                         for s in open311.services(db, settings, now=deps.now())}
                default = open311.service_code_for(db, item.tags)
        except Exception:  # noqa: BLE001 - the list is a convenience: the code may be typed
            default = ""
        codes = ["", *names]
        st.selectbox("Service", codes, index=codes.index(default) if default in codes else 0,
                     format_func=lambda c: f"{c} — {names[c]}" if c else "— selon les étiquettes —",
                     key=f"sr_code_{uid}", placeholder=CHOOSE_ONE)
        st.text_input("Adresse (si le message n'indique pas de lieu)", key=f"sr_address_{uid}")
        if st.checkbox("Ajouter le contact du résident (avec son accord)", key=f"sr_contact_{uid}"):
            st.text_input("E-mail du résident", key=f"sr_email_{uid}")
            st.text_input("Prénom", key=f"sr_first_{uid}")
            st.text_input("Téléphone", key=f"sr_phone_{uid}")
        st.button("Envoyer au back-office", key=f"sr_send_{uid}", on_click=_send, args=(uid, agent))
