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
# The placeholder of an empty choice widget: Streamlit's own is English (« Choose an option », « Choose options »).
# Every st.selectbox / st.multiselect of the console passes one (tests/console/test_placeholders.py); a filter whose
# empty value means "all" passes its own (« Toutes », « Tous »). With a placeholder given, Streamlit no longer
# disables a widget whose list of options is empty: such a widget is only drawn when it has options.
CHOOSE_ONE = "Choisir…"
CHOOSE_MANY = "Choisir un ou plusieurs éléments"  # not « options »: the browser scan refuses that English word
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

# Audit events as legal staff read them (« Audit et archives »; issue #17 point 7). The code stays in exports.
AUDIT_EVENT_LABELS = {
    "account-code-issued": "Code de compte délivré", "account-locked": "Compte verrouillé",
    "agent-created": "Compte créé", "agent-updated": "Compte modifié",
    "archived-message-changed": "Message archivé modifié sur la plateforme",
    "audit-head-exported": "Tête de la chaîne exportée", "author-banned": "Auteur bloqué",
    "author-marked": "Auteur signalé", "author-unbanned": "Auteur débloqué",
    "changes-requested": "Modifications demandées (réponse)", "charter-changed": "Charte modifiée",
    "city-post-revised": "Publication de la Ville modifiée ou supprimée sur la plateforme",
    "dismissed": "Signalement écarté", "escalated": "Message transmis à la hiérarchie",
    "export-created": "Export préparé", "forwarded-to-service": "Transmis à un service",
    "import-started": "Import commencé", "legal-hold-lifted": "Gel juridique levé",
    "legal-hold-set": "Gel juridique posé", "marked-spam": "Marqué comme indésirable",
    "mention-assigned": "Message assigné", "mention-deleted": "Message supprimé",
    "mention-hidden": "Message masqué", "mention-revised": "Message modifié sur la plateforme",
    "mention-unhidden": "Message réaffiché", "mentions-imported": "Messages importés",
    "message-archived": "Publication archivée", "moderation-act-failed": "Modération en échec",
    "moderation-act-sending": "Modération en cours d'envoi", "moderation-act-to-verify": "Modération à vérifier",
    "moderation-act-uncertain": "Modération incertaine", "moderation-act-verified": "Modération vérifiée",
    "moderation-confirmation-refused": "Confirmation de modération refusée",
    "moderation-confirmation-requested": "Confirmation de modération demandée",
    "note-added": "Note interne ajoutée", "password-changed": "Mot de passe changé",
    "post-approved": "Publication validée", "post-cancelled": "Publication annulée",
    "post-changes-requested": "Modifications demandées (publication)", "post-created": "Publication rédigée",
    "post-edited": "Publication modifiée", "post-failed": "Publication en échec",
    "post-handed-off": "Publication confiée à la plateforme", "post-held": "Publication suspendue",
    "post-published": "Publication parue", "post-publishing": "Publication en cours d'envoi",
    "post-rescheduled": "Publication reprogrammée", "post-retried": "Publication relancée",
    "post-retry-scheduled": "Nouvel essai de publication prévu", "post-scheduled": "Publication programmée",
    "post-submitted": "Publication soumise à validation", "post-to-verify": "Publication à vérifier",
    "post-verified": "Publication vérifiée", "publisher-lease-taken": "Service de publication démarré",
    "recurrence-approved": "Série validée", "recurrence-cancelled": "Série annulée",
    "recurrence-created": "Série créée", "recurrence-edited": "Série modifiée",
    "recurrence-exception-added": "Exception ajoutée à une série", "recurrence-submitted": "Série soumise à validation",
    "reply-approved": "Réponse validée", "reply-blocked": "Réponse bloquée par la charte",
    "reply-cancelled": "Réponse annulée", "reply-drafted": "Réponse rédigée", "reply-edited": "Réponse modifiée",
    "reply-failed": "Réponse en échec", "reply-retry-scheduled": "Nouvel essai de réponse prévu",
    "reply-scheduled": "Réponse programmée", "reply-sending": "Réponse en cours d'envoi",
    "reply-sent": "Réponse envoyée", "reply-submitted": "Réponse soumise à validation",
    "reply-to-verify": "Réponse à vérifier", "reply-verified": "Réponse vérifiée",
    "retention-purged": "Purge de conservation", "rgpd-access": "Demande d'accès RGPD",
    "rgpd-erasure": "Effacement RGPD", "role-changed": "Rôle changé",
    "saved-reply-changed": "Modèle de réponse modifié",
    "sentiment-corrected": "Sentiment corrigé", "sign-in-failed": "Connexion refusée", "signed-in": "Connexion",
    "signed-out": "Déconnexion", "sso-subject-bound": "Identité de connexion unique liée",
    "sso-subject-unbound": "Identité de connexion unique déliée", "status-changed": "Statut changé",
    "sync-completed": "Synchronisation terminée", "sync-requested": "Synchronisation demandée",
    "tag-added": "Étiquette ajoutée", "tag-removed": "Étiquette retirée",
}

# The fields of audit events, in French (the details column); a field not listed keeps its name.
AUDIT_FIELD_LABELS = {
    "account": "compte", "accounts": "comptes", "act_id": "acte n°", "action": "action", "after": "après",
    "after_state": "état après", "confirmed_by": "confirmé par",
    "agent_id": "agent n°", "agent_role": "rôle", "approver": "validé par", "archive_id": "archive n°",
    "attempt": "essai", "attempts": "essais", "author": "auteur", "author_id": "auteur n°", "before": "avant",
    "before_state": "état avant", "body": "texte", "by": "par", "changes": "modifications",
    "charter_version": "version de la charte", "comment": "commentaire", "connector": "connecteur",
    "content_hash": "empreinte du contenu", "media": "médias", "recurrence_id": "série n°", "via": "voie",
    "counts": "nombres", "day": "jour", "draft_id": "réponse n°", "email": "adresse", "error": "erreur",
    "failures": "échecs", "fetched": "reçus", "file": "fichier", "files": "fichiers", "findings": "constats",
    "flags": "signalements",
    "ground": "motif", "hold_id": "gel n°", "inserted": "nouveaux", "items": "éléments", "kind": "nature",
    "method": "méthode", "new_text": "nouveau texte", "note": "note", "old_text": "ancien texte",
    "permalink": "lien", "platform": "plateforme", "platform_id": "identifiant sur la plateforme",
    "post_id": "publication n°", "published": "publié", "purpose": "objet", "reason": "raison",
    "reasons": "raisons", "risk_model": "modèle de risque", "role": "rôle", "rule": "règle",
    "saved_reply_id": "modèle n°",
    "scheduled_at": "prévu le", "service": "service", "skipped": "ignorés", "source": "origine", "tag": "étiquette",
    "text": "texte", "title": "titre", "to": "vers", "until": "jusqu'au", "updated": "mis à jour",
    "version": "version", "warnings": "avertissements",
}

# What a connector's configured API path cannot read (connectors/registry.py ``ConnectorEntry.unavailable``),
# said on Connexions so that an empty list is never mistaken for "nothing to read".
UNAVAILABLE_LABELS = {
    "instagram_tags": "Identifications sur les photos d'autres comptes : indisponibles avec la connexion "
                      "Instagram (PARVIS_IG_LOGIN=instagram). Meta ne les fournit qu'avec la connexion Facebook "
                      "(compte lié à une Page) ; les commentaires, réponses, @mentions et publications restent "
                      "disponibles.",
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
# The inbox detail pane, under the list on screens under 1 800 px: back to the list (decision 0293).
BACK_TO_LIST_LABEL = "↑ Retour à la liste"
TOKEN_INVALID = ("⚠️ Meta indique que ce jeton n'est plus valide (vérification quotidienne) : renouvelez-le avant "
                 "que la synchronisation ne s'arrête.")


def token_expiry_text(days: int) -> str:
    """« le jeton expire dans N jours » (today: « aujourd'hui »)."""
    if days <= 0:
        return "⚠️ Le jeton expire aujourd'hui : renouvelez-le maintenant."
    return f"⚠️ Le jeton expire dans {days} jour{'s' if days > 1 else ''} : renouvelez-le avant cette date."


def models_text(model_version: str | None, risk_model_version: str | None) -> str:
    """« Modèles : sentiment …, risque … »: which models gave a stored score (decision 0325); "" when none is
    recorded (no score yet, or cleared by retention). A score stored before the risk model was recorded says so."""
    if not model_version and not risk_model_version:
        return ""
    missing = "non enregistré"
    return f"Modèles : sentiment {model_version or missing}, risque {risk_model_version or missing}"


def risk_model_text(risk_model_version: str | None) -> str:
    """« modèle : … » after a queue item's risk line: which model raised (or did not raise) its flags (decision
    0325); "" when none is recorded (scored before the risk model was recorded, or cleared by retention)."""
    return f" · modèle : {risk_model_version}" if risk_model_version else ""
