"""What every page of the console shares: the preamble, the flash message and the action runner.

* :func:`preamble` — the title, the last action's flash message, the settings, the current agent and the role
  check; the page stops with a French message when there is no agent or the role may not see the page.
* :func:`load` — read what the page shows on one connection; a failure (or a refusal) is shown and the page stops.
* :func:`flash` / :func:`show_flash` — a message kept for the next run (the rerun after a callback).
* :func:`run` — call a service from a callback: flash the French success, or ``message_for(err)`` on a
  :class:`~core.errors.ParvisError`; Streamlit reruns the page after the callback.
* :func:`unexpected` — the one error funnel: any other exception (a raw SQLite error, a bug) is logged with its
  traceback under a reference id (``ERR-7F3A2C``) and the page shows only a French sentence with that reference;
  :func:`run`, :func:`load`, :func:`preamble` and ``streamlit_app.py`` (around ``page.run()``) use it. The log
  line also carries the request id of the browser session (``X-Request-Id``, console/web/middleware.py, under
  ``parvis up``), so the reference leads to the line and the line to every access line of that session.
* :func:`on_script_error` — the same funnel for what escapes the pages (a callback that does not go through
  :func:`run`): ``st.App(on_script_error=...)`` in console/server.py. Under ``streamlit run``,
  ``client.showErrorDetails = "none"`` (.streamlit/config.toml) keeps Streamlit's own handler from showing details.

One escaping rule: text given to :func:`flash`, :func:`alert` and :func:`error` is stored raw and escaped once,
when shown (:func:`console.ui.components.md_escape`), because it may quote a resident, an agent or a platform
(a tag, a name, an error detail). Never escape before calling them: it would show the backslashes.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, NoReturn, TypeVar, overload

import streamlit as st
from sqlite_utils import Database

from console.logs import REQUEST_ID
from console.messages import message_for
from console.ui import deps
from console.ui.components import md_escape
from core.config import Settings
from core.errors import ParvisError, PermissionDenied
from core.models import Agent
from services.accounts.open_mode import auth_mode

T = TypeVar("T")
A = TypeVar("A", bound=Agent | None)  # the agent of a PageContext: Agent on a page that requires one
Kind = Literal["ok", "info", "warning", "error"]
FLASH_KEY = "page_flash"
CHOOSE_AGENT = "Choisissez votre nom d'agent dans la barre latérale."
OPEN_MODE_BANNER = ("Mode ouvert : aucune connexion n'est demandée, chacun peut agir au nom de n'importe quel agent "
                    "(administrateur compris). Réservé à la démonstration, sur cette machine seulement. Pour exiger "
                    "la connexion, l'administrateur définit son mot de passe (page « Comptes ») et le serveur est "
                    "lancé avec PARVIS_AUTH=local.")
_ALERTS: dict[str, Callable[..., Any]] = {"ok": st.success, "info": st.info, "warning": st.warning,
                                          "error": st.error}
log = logging.getLogger("parvis.ui")


@dataclass(frozen=True)
class PageContext(Generic[A]):
    """What the preamble found: the settings, the current agent and the time of this run.

    ``agent`` is None only on a page opened with ``agent="optional"`` (or ``"none"``) and nobody signed in;
    the type says so (``PageContext[Agent]`` for a page that requires an agent, see :func:`preamble`).
    """

    settings: Settings
    agent: A
    now: datetime


# ---- messages ------------------------------------------------------------------------------------------------

def alert(kind: Kind, text: str) -> None:
    """Show ``text`` in a coloured box, escaped: never read as Markdown or HTML."""
    _ALERTS.get(kind, st.error)(md_escape(text))


def error(err: ParvisError, *, prefix: str = "") -> None:
    """Show the French message for ``err`` (after ``prefix``), escaped."""
    alert("error", prefix + message_for(err))


def session_request_id() -> str:
    """The request id of this browser session's connection (set by console/web/middleware.py under ``parvis up``;
    '' under ``streamlit run`` or outside a session)."""
    try:
        return str(st.context.headers.get("X-Request-Id") or "")
    except Exception:  # noqa: BLE001 - no script run context (tests, bare mode)
        return ""


def unexpected(err: BaseException) -> str:
    """Log ``err`` (traceback included) under a new reference id, with the session's request id; return the French
    text to show with that reference.

    Never shows the exception's own text: it may hold SQL, paths or residents' data.
    """
    ref = "ERR-" + secrets.token_hex(3).upper()
    token = REQUEST_ID.set(session_request_id())  # a script run happens outside the request's context
    try:
        log.error("unexpected error %s in the console: %s", ref, type(err).__name__,
                  exc_info=(type(err), err, err.__traceback__), extra={"fields": {"error_ref": ref}})
    finally:
        REQUEST_ID.reset(token)
    return message_for(ParvisError(reason="unexpected_error", ref=ref))


def fragment(fn: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment`` whose errors go through the same funnel as a page's (streamlit_app.py): a refusal in French,
    anything else as a reference (:func:`unexpected`). Streamlit handles an exception raised inside a fragment
    itself (its own « This app has encountered an error » box) before the page's ``except`` sees it."""
    @functools.wraps(fn)
    def body(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except ParvisError as err:
            alert("error", message_for(err))
        except Exception as err:  # noqa: BLE001 - Streamlit's reruns and stops are BaseExceptions: not caught
            alert("error", unexpected(err))

    return st.fragment(body)


def on_script_error(exc: BaseException) -> bool:
    """``st.App``'s hook for an exception that escaped the page: :func:`unexpected`, shown; True once shown."""
    text = unexpected(exc)
    try:
        alert("error", text)
    except Exception:  # noqa: BLE001 - showing the message must never hide the logged error
        return False
    return True


def flash(kind: Kind, text: str) -> None:
    """Keep a message (raw text) to show once at the top of the page on the next run."""
    st.session_state[FLASH_KEY] = (kind, text)


def clear_flash() -> None:
    """Forget a message not shown yet."""
    st.session_state.pop(FLASH_KEY, None)


def show_flash() -> None:
    """Show (once) the message kept by :func:`flash`."""
    found = st.session_state.pop(FLASH_KEY, None)
    if found:
        kind, text = found
        alert(kind, text)


def callback(call: Callable[..., T], ok: str | Callable[[T], str] | None = None, /,
             **kwargs: Any) -> Callable[[], None]:
    """An ``on_click`` callback that does :func:`run` (Streamlit wants callbacks that return nothing)."""
    def on_click() -> None:
        run(call, ok, **kwargs)
    return on_click


def run(call: Callable[..., T], ok: str | Callable[[T], str] | None = None, /, **kwargs: Any) -> T | None:
    """Callback body: ``call(db, now=…, **kwargs)`` on a fresh connection. On success flash ``ok`` (a text,
    ``ok(result)``, or with None the text ``call`` returned) and return the result; on a refusal flash its French
    message and return None."""
    try:
        with deps.db() as db:
            result = call(db, now=deps.now(), **kwargs)
    except ParvisError as err:
        flash("error", message_for(err))
        return None
    except Exception as err:  # noqa: BLE001 — the one funnel: logged with a reference, shown in French
        flash("error", unexpected(err))
        return None
    flash("ok", str(result) if ok is None else ok(result) if callable(ok) else ok)
    return result


# ---- the preamble ------------------------------------------------------------------------------------------

def stop_with(kind: Kind, text: str) -> NoReturn:
    """Show one message (escaped) and stop the page."""
    alert(kind, text)
    st.stop()
    raise AssertionError("st.stop() outside a Streamlit run")  # bare mode: st.stop() does not raise


REFUSAL = "Accès refusé : votre rôle ne permet pas d'ouvrir cette page."


@overload
def preamble(title: str, *, agent: Literal["required"] = "required", needs: Callable[[Agent], bool] | None = None,
             refusal: str | Callable[[Agent], str] = REFUSAL) -> PageContext[Agent]: ...


@overload
def preamble(title: str, *, agent: Literal["optional", "none"], needs: Callable[[Agent], bool] | None = None,
             refusal: str | Callable[[Agent], str] = REFUSAL) -> PageContext[Agent | None]: ...


def preamble(title: str, *, agent: Literal["required", "optional", "none"] = "required",
             needs: Callable[[Agent], bool] | None = None,
             refusal: str | Callable[[Agent], str] = REFUSAL) -> PageContext[Agent] | PageContext[Agent | None]:
    """Start a page: its title, the open-mode banner (no sign-in: on every page), the last action's flash
    message, then who is here.

    ``agent``: ``required`` stops the page with "choisissez votre nom" when nobody is signed in; ``optional``
    lets it go on (``ctx.agent`` is None); ``none`` does not look (the sign-in page). ``needs(agent)`` False:
    the page shows ``refusal`` (its text, or ``refusal(agent)``) and stops. The services check the roles again.
    """
    st.set_page_config(page_title=f"{title} · Parvis")  # a title per page (RGAA; issue #17)
    st.title(title)
    try:
        settings = deps.settings()
        if agent == "none":
            show_flash()
            return PageContext[Agent | None](settings=settings, agent=None, now=deps.now())
        with deps.db() as db:
            if auth_mode(db, settings) == "open":
                st.warning(OPEN_MODE_BANNER, icon=":material/lock_open:")
            current = deps.current_agent(db)
    except ParvisError as err:
        show_flash()
        stop_with("error", message_for(err))
    except Exception as err:  # noqa: BLE001 — the one funnel
        show_flash()
        stop_with("error", unexpected(err))
    show_flash()
    if current is None and agent == "required":
        st.warning(CHOOSE_AGENT)
        st.stop()
    if current is not None and needs is not None and not needs(current):
        st.error(refusal(current) if callable(refusal) else refusal)
        st.stop()
    return PageContext(settings=settings, agent=current, now=deps.now())


def load(read: Callable[[Database], T], *, refusal: str | None = None) -> T:
    """``read(db)`` on one connection. A :class:`ParvisError` is shown and stops the page; with ``refusal``, a
    :class:`PermissionDenied` shows that text with the service's reason below it; anything else goes through
    :func:`unexpected` (a reference shown, the detail logged)."""
    try:
        with deps.db() as db:
            return read(db)
    except PermissionDenied as err:
        if refusal is None:
            stop_with("error", message_for(err))
        st.error(refusal)
        st.caption(md_escape(message_for(err)))
        st.stop()
    except ParvisError as err:
        stop_with("error", message_for(err))
    except Exception as err:  # noqa: BLE001 — the one funnel
        stop_with("error", unexpected(err))
