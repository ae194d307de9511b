"""French UI text for error codes and labels (the analogue of Home Assistant's strings.json)."""

from __future__ import annotations

MESSAGES = {
    "unknown": "Erreur inattendue. L'action n'a pas été effectuée.",
    "config_error": "Configuration invalide",
    "storage_error": "Base de données inutilisable",
    "schema_too_new": "Base de données écrite par une version plus récente de Parvis",
    "reply_impossible": "Réponse impossible depuis Parvis",
    "backup_failed": "Sauvegarde impossible ou invalide ; rien n'a été remplacé",
    "database_in_use": "La base est en service (worker ou console démarrés) : arrêtez-les avant de la remplacer",
    "database_busy": "La base est occupée par une autre écriture (un import en masse ?) ; réessayez dans un instant",
    "not_found": "Élément introuvable (supprimé entre-temps ?)",
    "invalid_input": "Saisie invalide",
    "permission_denied": "Votre rôle ne permet pas cette action",
    "workflow_forbidden": "Action impossible à ce stade du circuit de validation",
    "charter_blocked": "Refusé par la charte éditoriale",
    "auth_failed_login": "Connexion refusée",
    "connector_error": "Erreur de la plateforme",
    "auth_failed": "Identifiants de la plateforme refusés : reconnexion nécessaire (prévenir l'administrateur)",
    "rate_limited": "La plateforme limite temporairement les appels ; nouvel essai automatique",
    "unavailable": "Plateforme momentanément indisponible ; réessayez plus tard",
    "permanent_failure": "La plateforme a refusé la demande",
    "unsupported": "Cette plateforme ne permet pas cette action",
    "malformed_payload": "Réponse illisible de la plateforme",
    "budget_exceeded": "Budget mensuel X atteint",
    "integrity_broken": "Intégrité du journal d'audit rompue : prévenir le service juridique",
}

STATUS_LABELS = {
    "new": "Nouveau",
    "assigned": "Assigné",
    "waiting": "En attente",
    "answered": "Répondu",
    "closed": "Clos",
    "escalated": "Escaladé",
}

PLATFORM_LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "demo": "Démo",
}

ROLE_LABELS = {
    "community_manager": "Community manager",
    "director": "Direction de la communication",
    "legal": "Service juridique",
    "admin": "Administrateur",
}

SENTIMENT_LABELS = {"negative": "négatif", "neutral": "neutre", "positive": "positif"}


def message_for(err: Exception) -> str:
    """French text for ``err``: the message of its code, then its own detail."""
    code = getattr(err, "code", "unknown")
    base = MESSAGES.get(code, MESSAGES["unknown"])
    detail = str(err).strip()
    return f"{base} : {detail}" if detail and code != "unknown" else base

REPLY_IMPOSSIBLE = {
    "instagram_tag": "Instagram ne permet pas de répondre par son API à une publication d'un autre compte où la "
                     "Ville est seulement identifiée sur la photo : répondez depuis l'application Instagram "
                     "(une mention @ dans une légende ou un commentaire, elle, peut recevoir une réponse ici).",
}
