"""The demo city's communication team, seeded by ``python -m console demo``."""

from __future__ import annotations

from typing import Any

_TEAM = "L'équipe de la Ville de Valmont"


def demo_agents() -> list[dict[str, Any]]:
    """Five demo team members (keyword arguments for ``core.repo.create_agent``, minus ``now``)."""
    return [
        {"email": "julie.martin@valmont.example", "name": "Julie Martin", "initials": "JM",
         "role": "community_manager", "signature_style": "first_name", "team_signature": _TEAM,
         "needs_approval": False},
        {"email": "karim.benali@valmont.example", "name": "Karim Benali", "initials": "KB",
         "role": "community_manager", "signature_style": "initials", "team_signature": _TEAM,
         "needs_approval": True},
        {"email": "sophie.laurent@valmont.example", "name": "Sophie Laurent", "initials": "SL",
         "role": "director", "signature_style": "first_name", "team_signature": "La direction de la communication",
         "needs_approval": False},
        {"email": "marc.petit@valmont.example", "name": "Marc Petit", "initials": "MP",
         "role": "legal", "signature_style": "team", "team_signature": "Le service juridique",
         "needs_approval": False},
        {"email": "admin@valmont.example", "name": "Admin Valmont", "initials": "AV",
         "role": "admin", "signature_style": "team", "team_signature": _TEAM, "needs_approval": False},
    ]
