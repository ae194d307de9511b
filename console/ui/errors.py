"""Unexpected errors in the console: a reference for the agent, the full story in the log.

Passed to ``st.App(on_script_error=...)`` by console/server.py. The agent sees a French message with a short
reference instead of a traceback (which could show a resident's text or a file path); the log line, at ERROR,
carries the same reference, the request id of the browser session (``X-Request-Id``, see
console/web/middleware.py) and the traceback. Expected errors (ParvisError) are shown by the pages
themselves with console/messages.py and never reach here.
"""

from __future__ import annotations

import logging
import secrets

import streamlit as st

from console.logs import REQUEST_ID

log = logging.getLogger("parvis.console")


def session_request_id() -> str:
    """The request id of this browser session's connection ('' outside a session)."""
    try:
        return str(st.context.headers.get("X-Request-Id") or "")
    except Exception:  # noqa: BLE001 - no script run context (tests, bare mode)
        return ""


def error_reference(request_id: str) -> str:
    """``<first 8 characters of the request id>-<6 random hex>``: short to read out, unique per error."""
    return f"{(request_id or 'local')[:8]}-{secrets.token_hex(3)}"


def on_script_error(exc: BaseException) -> bool:
    """Log ``exc`` with a reference and show the reference instead of the traceback (returns True)."""
    rid = session_request_id()
    ref = error_reference(rid)
    token = REQUEST_ID.set(rid)  # script runs happen outside the request's context
    try:
        log.error("unexpected error in the console, reference %s", ref, exc_info=(type(exc), exc, exc.__traceback__),
                  extra={"fields": {"error_ref": ref}})
    finally:
        REQUEST_ID.reset(token)
    try:
        st.error(f"Erreur inattendue : l'action n'a peut-être pas été effectuée. Référence à transmettre à "
                 f"l'administrateur : {ref}", icon=":material/error:")
    except Exception:  # noqa: BLE001 - showing the message must never hide the logged error
        return False
    return True
