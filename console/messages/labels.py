"""French labels: statuses, platforms, roles, sentiments, and the names used inside error sentences."""

from __future__ import annotations

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

# Risk kinds (moderation/risk.KINDS), as shown in the inbox, the moderation queue and the filters.
RISK_LABELS = {
    "threat": "Menace", "self_harm": "Détresse", "personal_data": "Donnée personnelle", "hate": "Haine",
    "harassment": "Harcèlement", "insult": "Insulte", "urgent": "Urgence (sécurité)", "spam": "Spam",
}
# The same, one short word each, for the compact risk column of the lists (with a sign that needs no colour).
RISK_SHORT_LABELS = {
    "threat": "⚠ menace", "self_harm": "⚠ détresse", "personal_data": "⚠ donnée perso", "hate": "haine",
    "harassment": "harcèlement", "insult": "insulte", "urgent": "urgence", "spam": "spam",
}

# What a role may do (services.accounts.permissions.Action), as the end of "ne permet pas de ...".
ACTION_LABELS = {
    "inbox.read": "consulter la boîte de réception", "inbox.triage": "traiter les messages",
    "reply.compose": "rédiger et envoyer des réponses", "reply.approve": "valider les réponses",
    "post.create": "préparer des publications", "post.approve": "valider les publications",
    "post.edit_any": "modifier les publications des autres",
    "charter.read": "consulter la charte", "charter.edit": "modifier la charte éditoriale",
    "saved_reply.use": "utiliser les modèles de réponse", "saved_reply.edit": "gérer les modèles de réponse",
    "signature.set": "choisir les signatures des agents", "users.manage": "gérer les comptes",
    "roles.change": "changer les rôles", "connectors.manage": "gérer les connexions aux réseaux",
    "connectors.sync": "lancer une synchronisation",
    "audit.read": "consulter le journal d'audit", "audit.export": "exporter le journal et les archives",
    "rgpd.answer": "répondre aux demandes RGPD des habitants", "legal.hold": "poser ou lever un gel juridique",
    "moderation.read": "consulter la file de modération",
    "moderation.act": "modérer les messages", "moderation.confirm": "confirmer la modération d'un élu",
    "moderation.unmark_elected": "retirer la marque d'élu d'un auteur",
    "automation.manage": "gérer les règles automatiques",
    "private.read": "lire les messages privés",
}

# Steps of the approval workflow (editorial.workflow.Action), as the end of "Impossible ...".
WORKFLOW_STEP_LABELS = {
    "edit": "de modifier", "submit": "de soumettre", "approve": "de valider",
    "request_changes": "de demander des modifications sur", "schedule": "de programmer", "send": "d'envoyer",
    "mark_sent": "de marquer envoyé", "mark_failed": "de marquer en échec", "mark_uncertain": "de marquer à vérifier",
    "cancel": "d'annuler",
}

MODERATION_ACTION_LABELS = {"hide": "masquer", "unhide": "réafficher", "delete": "supprimer", "ban": "bannir",
                            "unban": "lever le bannissement de"}

REQUEST_STATE_LABELS = {"pending": "en attente", "confirmed": "confirmée", "refused": "refusée"}

X_CAP_POLICY_LABELS = {"stop_polling": "relève arrêtée, les réponses partent encore",
                       "stop_writes": "réponses et publications arrêtées, la relève continue"}

# Pushed channels on the Connexions page (services/connections/streaming.py, services/connections/webhooks.py)
REALTIME_CHANNEL_LABELS = {"mastodon-stream": "Flux en direct Mastodon",
                           "webhook": "Webhooks Meta (Facebook, Instagram)"}
REALTIME_STATE_LABELS = {"connected": "🟢 connecté", "connecting": "⏳ connexion en cours",
                         "reconnecting": "🟠 reconnexion en cours", "stopped": "⏹️ arrêté (worker arrêté)",
                         "receiving": "🟢 reçoit des événements"}
REALTIME_FALLBACK = "Flux coupé : la relève périodique prend le relais jusqu'à la reconnexion."
# --- integrations (services/integrations, issue #19) ---
EMAIL_NOTICE_LABELS = {
    "approval": "Un élément attend mon approbation",
    "crisis": "Un pic de crise commence (liste d'astreinte)",
    "promise": "Une promesse de réponse va être dépassée (messages qui me sont assignés)",
    "weekly": "Le rapport hebdomadaire (PDF)",
}
OUTBOX_STATE_LABELS = {
    "pending": "en attente",
    "sending": "en cours d'envoi",
    "done": "envoyé",
    "failed": "échec",
    "to_verify": "à vérifier",
    "cancelled": "annulé",
}
SERVICE_REQUEST_LABELS = {
    "pending": "en attente d'envoi",
    "sent": "transmis",
    "in_progress": "en cours",
    "resolved": "résolu",
    "failed": "échec de l'envoi",
}
WEBHOOK_EVENT_LABELS = {
    "mention.urgent": "Nouveau message urgent",
    "mention.status_changed": "Changement de statut",
    "reply.sent": "Réponse envoyée",
    "post.published": "Publication publiée",
}
CHANNEL_LABELS = {"email": "E-mail", "open311": "Back-office", "webhook": "Webhook"}
# The last sync of a connector, told apart on the Connexions page (services.connections.status.ConnectorStatus).
READING_LABELS = {
    "read": "lus",
    "malformed": "ignorés car illisibles (malformés)",
    "nothing": "rien à lire (notifications sans message, repartages…)",
}

# Connexions, « Tokens » (docs/connectors.md): what to do when the platform refused the credentials.
RECONNECT_TITLE = ("🔑 Reconnexion nécessaire : la plateforme a refusé les identifiants (jeton expiré, révoqué ou "
                   "mot de passe changé). Parvis n'appelle plus cette plateforme jusqu'à ce que les identifiants "
                   "changent ou qu'un administrateur clique sur « Réessayer ».")
RECONNECT_HELP = {
    "facebook": "Générez un nouveau jeton de Page (Meta Business Suite ou l'explorateur de l'API Graph) et "
                "remplacez PARVIS_FB_PAGE_TOKEN, puis redémarrez le worker.",
    "instagram": "Générez un nouveau jeton longue durée pour le compte Instagram et remplacez "
                 "PARVIS_IG_ACCESS_TOKEN, puis redémarrez le worker.",
    "mastodon": "Créez un nouveau jeton d'accès (Préférences › Développement de l'instance) et remplacez "
                "PARVIS_MASTODON_ACCESS_TOKEN, puis redémarrez le worker.",
    "bluesky": "Créez un nouveau mot de passe d'application (Paramètres › Confidentialité et sécurité) et "
               "remplacez PARVIS_BLUESKY_APP_PASSWORD, puis redémarrez le worker.",
    "x": "Régénérez les clés et jetons de l'application sur developer.x.com et remplacez les variables "
         "PARVIS_X_…, puis redémarrez le worker.",
}
RECONNECT_HELP_DEFAULT = "Renouvelez les identifiants de cette connexion, puis redémarrez le worker."
RETRY_LABEL = "Réessayer"
TOKEN_INVALID = ("⚠️ Meta indique que ce jeton n'est plus valide (vérification quotidienne) : renouvelez-le avant "
                 "que la synchronisation ne s'arrête.")


def token_expiry_text(days: int) -> str:
    """« le jeton expire dans N jours » (today: « aujourd'hui »)."""
    if days <= 0:
        return "⚠️ Le jeton expire aujourd'hui : renouvelez-le maintenant."
    return f"⚠️ Le jeton expire dans {days} jour{'s' if days > 1 else ''} : renouvelez-le avant cette date."
