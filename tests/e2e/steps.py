"""What a person does in the console, shared by the browser tests: open the inbox, sign in, redeem an invitation,
choose in a select box, tick a row of a grid, type a reply. Each step waits at most ``timeout`` ms."""

from __future__ import annotations

from typing import Any

WAIT = 30_000
ROW_PX = 35  # the grid's header and each row are ~35 px high; the selection column is on the left


def open_inbox(browser: Any, url: str, *, width: int = 1400, height: int = 900, timeout: int = WAIT) -> Any:
    """A new page on the console (open mode lands on the inbox), once its title is shown."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("Boîte de réception", exact=True).first.wait_for(timeout=timeout)
    return page


def submit_sign_in(page: Any, email: str, password: str) -> None:
    """Fill the sign-in form and press « Se connecter » (what follows is the caller's to check)."""
    form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Se connecter"))
    form.get_by_label("Adresse e-mail").fill(email)
    form.get_by_label("Mot de passe", exact=True).fill(password)
    form.get_by_role("button", name="Se connecter").click()


def redeem_invitation(page: Any, email: str, code: str, password: str) -> None:
    """« J'ai un code d'invitation » already open: the code received, a new password twice, then sign in."""
    redeem = page.locator("[data-testid='stForm']").filter(has_text="Code reçu")
    redeem.get_by_label("Adresse e-mail").fill(email)
    redeem.get_by_label("Code reçu de l'administrateur").fill(code)
    redeem.get_by_label("Nouveau mot de passe").fill(password)
    redeem.get_by_label("Confirmez le mot de passe").fill(password)
    redeem.get_by_role("button", name="Choisir mon mot de passe et me connecter").click()


def choose_agent(page: Any, label: str, *, sidebar: bool = False, timeout: int = WAIT) -> None:
    """Pick the agent in the select « Agent » (open mode, before sign-in is configured); ``sidebar``: the one in
    the sidebar (a page that has another « Agent » select)."""
    from playwright.sync_api import expect

    scope = page.get_by_test_id("stSidebarUserContent") if sidebar else page
    select = scope.get_by_role("combobox", name="Agent")
    select.click()
    page.get_by_role("option", name=label).click()
    expect(select).to_have_value(label, timeout=timeout)


def click_row(page: Any, index: int = 0, *, timeout: int = WAIT) -> None:
    """Tick the selection box of row ``index`` (0: the first) of the page's first grid."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=timeout)
    # in view first: under 1 800 px an opened row scrolls the page down to its detail (decision 0293)
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + ROW_PX + 17 + ROW_PX * index)


def type_reply(page: Any, text: str) -> None:
    """Write ``text`` in « Votre réponse »; a text area sends its value on Ctrl+Enter (or when it loses focus)."""
    box = page.get_by_label("Votre réponse")
    box.fill(text)
    box.press("Control+Enter")
