"""Open mode (no sign-in: anyone picks any agent): only when chosen or on the demo team alone, and never beyond
this machine (issue #15 finding 3, decision 0021)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from sqlite_utils import Database

from connectors.demo.team import demo_agents
from core import repo
from core.config import Settings
from core.errors import ConfigError


def is_demo_team(emails: list[str]) -> bool:
    """Whether these agent e-mails are all the built-in demo team's (``python -m console demo``), or none."""
    demo = {spec["email"].casefold() for spec in demo_agents()}
    return all(e.casefold() in demo for e in emails)


def auth_mode(db: Database, settings: Settings) -> str:
    """How the console identifies agents: ``PARVIS_AUTH`` (open | local | sso); unset, ``open`` (the demo: pick
    an agent) only while the database holds the demo team alone (or no agent), else ``local``.

    Open mode is never reached by accident: SSO-only accounts, or the last password holder deactivated, leave
    the console in ``local`` mode, where nobody signs in until a password is set or ``PARVIS_AUTH=sso``.
    """
    forced = settings.auth.mode  # one of AUTH_MODES (checked by the settings declaration) or None
    if forced:
        return forced
    return "open" if is_demo_team(repo.agent_emails(db)) else "local"


# ---- open mode stays on this machine -------------------------------------------------------------------------

def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or ``localhost``, IPv6 in brackets or not) is this machine only."""
    name = (host or "").strip().strip("[]")
    if name.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_listen_address(mode: str, address: str | None) -> None:
    """Refuse (ConfigError) to serve the open mode on anything but a loopback address."""
    if mode == "open" and not is_loopback(address):
        raise ConfigError(f"open mode refuses to listen on {address or '*'}", reason="open_mode_not_loopback",
                          address=address or "*")


_FORWARDED = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def _host_name(host: str) -> str:
    host = host.strip()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def open_mode_reachable(listen_address: str | None, peer: str | None, headers: Mapping[str, str]) -> bool:
    """Whether one request may use the open mode: the server listens on loopback (or on every interface, then
    the request must come from this machine), the peer is this machine (``None``: Streamlit's word for it),
    no proxy forwarded it (``Forwarded``, ``X-Forwarded-*``, ``X-Real-IP``), and its Host names this machine."""
    if listen_address and not is_loopback(listen_address):
        return False
    if peer is not None and not is_loopback(peer):
        return False
    lowered = {k.lower(): v for k, v in headers.items()}
    if any(name in lowered for name in _FORWARDED):
        return False
    host = lowered.get("host")
    return host is None or is_loopback(_host_name(host))
