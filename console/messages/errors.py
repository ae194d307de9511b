"""The text catalogue of errors: French text for every error ``code`` and every ``reason`` (decision 0008).

``CODES`` gives the general sentence of each class of :mod:`core.errors`; ``REASONS`` the precise sentence a
raise chose with ``reason=``, a ``str.format`` template over the error's ``params``. For a param named in
``PARAM_LABELS``, ``{<name>_label}`` is its French label (``role`` -> ``{role_label}``). A list param is joined
with ", "; an error param is rendered with its own French text. ``tests/test_text_catalogue.py`` fails when a
code or a reason raised anywhere has no entry here, or an entry is never used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from console.messages.labels import (
    ACTION_LABELS,
    MODERATION_ACTION_LABELS,
    PLATFORM_LABELS,
    REQUEST_STATE_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    WORKFLOW_STEP_LABELS,
    X_CAP_POLICY_LABELS,
)
from core.models import DraftState
from editorial.workflow import state_label
from moderation import legal

CODES = {
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
    "too_many_attempts": "Trop d'essais de connexion : patientez avant de réessayer",
    "session_expired": "Session expirée : reconnectez-vous",
    "connector_error": "Erreur de la plateforme",
    "auth_failed": "Identifiants de la plateforme refusés : reconnexion nécessaire (prévenir l'administrateur)",
    "rate_limited": "La plateforme limite temporairement les appels ; nouvel essai automatique",
    "unavailable": "Plateforme momentanément indisponible ; réessayez plus tard",
    "permanent_failure": "La plateforme a refusé la demande",
    "unsupported": "Cette plateforme ne permet pas cette action",
    "malformed_payload": "Réponse illisible de la plateforme",
    "budget_exceeded": "Budget mensuel X atteint",
    "integrity_broken": "Intégrité du journal d'audit rompue : prévenir le service juridique",
    "not_sent": "Message non parti ; nouvel essai automatique",
}

# Codes whose English message is an operator's diagnostic (a setting, a path, a platform's answer): shown after
# the French sentence when the raise gave no reason. Other codes never show their English message.
TECHNICAL_CODES = frozenset({
    "config_error", "storage_error", "schema_too_new", "connector_error", "auth_failed", "rate_limited",
    "unavailable", "permanent_failure", "unsupported", "malformed_payload", "budget_exceeded", "integrity_broken",
    "backup_failed", "database_in_use",
})


def _draft_state(value: object) -> str:
    return state_label(DraftState(str(value)))


PARAM_LABELS: dict[str, Mapping[str, str] | Callable[[object], str]] = {
    "role": ROLE_LABELS,
    "action": ACTION_LABELS,
    "step": WORKFLOW_STEP_LABELS,
    "draft_state": _draft_state,
    "moderation_action": MODERATION_ACTION_LABELS,
    "platform": PLATFORM_LABELS,
    "status_from": STATUS_LABELS,
    "status_to": STATUS_LABELS,
    "request_state": REQUEST_STATE_LABELS,
    "policy": X_CAP_POLICY_LABELS,
}

REASONS = {
    # --- accounts: sign-in, sessions, roles (services/accounts) ---
    "password_too_short": "Le mot de passe doit compter au moins {min} caractères.",
    "password_too_simple": "Mot de passe trop simple : évitez les espaces en bord et les répétitions.",
    "bad_credentials": "Identifiant ou mot de passe incorrect.",
    "platform_no_answer": "La plateforme n'a pas répondu à temps : l'envoi est peut-être passé, vérifiez-le.",
    "bad_account_code": "Adresse e-mail ou code incorrect, ou code déjà utilisé ou expiré : demandez un nouveau "
                        "code à l'administrateur.",
    "bad_setup_code": "Code d'installation incorrect : recopiez celui du journal du serveur (après 5 essais "
                      "erronés, un nouveau code y est écrit).",
    "setup_done": "Un administrateur existe déjà : connectez-vous avec son compte.",
    "setup_email_taken": "{email} est déjà le compte d'un agent qui n'est pas administrateur : choisissez une autre "
                         "adresse.",
    "account_code_purpose": "Type de code inconnu : {purpose}.",
    "account_code_inactive": "Le compte {email} est désactivé : réactivez-le avant de lui donner un code.",
    "sign_in_wait": "Trop d'essais de connexion : réessayez dans {seconds} s.",
    "no_active_account": "Aucun compte Parvis actif pour {email} : demandez à l'administrateur de le créer.",
    "sso_no_issuers": "Connexion unique refusée : aucun fournisseur d'identité n'est autorisé "
                      "(l'administrateur doit renseigner PARVIS_SSO_ISSUERS).",
    "sso_issuer_not_allowed": "Connexion unique refusée : le fournisseur d'identité {issuer} n'est pas autorisé.",
    "sso_identity_incomplete": "Connexion unique refusée : le fournisseur d'identité n'a pas transmis "
                               "d'identifiant de compte.",
    "sso_email_unverified": "Connexion unique refusée : le fournisseur d'identité n'a pas vérifié l'adresse "
                            "{email}.",
    "sso_subject_mismatch": "Connexion unique refusée : le compte {email} est déjà lié à une autre identité chez "
                            "le fournisseur. L'administrateur peut délier le compte "
                            "(`python -m console users unbind-sso`).",
    "sso_login_expired": "Connexion expirée ou fermée : reconnectez-vous auprès du fournisseur d'identité.",
    "open_mode_not_loopback": "Mode ouvert (sans connexion, n'importe qui choisit n'importe quel agent) : Parvis "
                              "n'écoute alors que sur cette machine (127.0.0.1), pas sur {address}. Pour ouvrir "
                              "l'accès au réseau, exigez la connexion : créez un compte avec mot de passe "
                              "(`python -m console users add`) ou configurez PARVIS_AUTH=local ou sso.",
    "open_mode_remote": "Mode ouvert (sans connexion) : la console n'est accessible que depuis la machine qui "
                        "l'héberge. Pour un accès par le réseau, l'administrateur doit exiger la connexion "
                        "(PARVIS_AUTH=local ou sso).",
    "sso_not_bound": "Le compte {email} n'est lié à aucune identité de connexion unique.",
    "session_unknown": "Session inconnue ou fermée : reconnectez-vous.",
    "session_timed_out": "Session expirée : reconnectez-vous.",
    "session_account_deactivated": "Compte désactivé.",
    "account_deactivated": "Le compte {email} est désactivé.",
    "role_forbids": "Action refusée : le rôle « {role_label} » ne permet pas de {action_label} ({email}).",
    "legal_only": "Action refusée : le rôle « {role_label} » ne permet pas de {action_label} ({email}). Réservé au "
                  "service juridique.",
    "agent_email_and_name_required": "Un compte a besoin d'une adresse e-mail valide et d'un nom.",
    "team_signature_empty": "La signature d'équipe est vide (ex. « L'équipe Propreté »).",
    "last_admin_demoted": "Impossible de retirer le rôle du dernier administrateur.",
    "last_admin_deactivated": "Impossible de désactiver le dernier administrateur.",
    "profile_field_read_only": "Champ non modifiable : {field}.",
    # --- private messages (issue #20, services/inbox/private.py) ---
    "private_forbidden": "Messages privés : votre rôle ne permet pas de les lire.",
    "private_window_closed": "Réponse privée refusée avant tout envoi : plus de 24 heures se sont écoulées depuis le "
                             "dernier message de l'habitant. Meta n'accepte plus qu'une réponse étiquetée « Human "
                             "Agent » (jusqu'à 7 jours), et cette Page n'a pas cette autorisation "
                             "(PARVIS_FB_HUMAN_AGENT). Invitez l'habitant à vous réécrire, ou répondez par un autre "
                             "canal.",
    "private_window_expired": "Réponse privée refusée avant tout envoi : plus de 7 jours se sont écoulés depuis le "
                              "dernier message de l'habitant ; Meta refuse toute réponse, même étiquetée « Human "
                              "Agent ». Invitez l'habitant à vous réécrire.",
    "private_unsupported": "{platform_label} : pas de réponse privée depuis Parvis.",
    "messenger_webhook_malformed": "Notification Messenger illisible (identifiant ou date du message manquant).",
    # --- inbox: triage, notes, replies, saved replies (services/inbox) ---
    "assignee_not_allowed": "{name} ne peut pas se voir attribuer de messages (compte désactivé, ou rôle qui ne "
                            "traite pas la boîte de réception).",
    "status_unknown": "Statut inconnu : « {status} ».",
    "status_transition_refused": "Impossible de passer du statut « {status_from_label} » au statut "
                                 "« {status_to_label} ».",
    "tag_length": "Une étiquette compte de 1 à {max} caractères.",
    "note_required": "Une note est obligatoire.",
    "note_too_long": "Une note compte au plus {max} caractères.",
    "reply_too_long": "Réponse trop longue ({length} caractères ; au plus {max}).",
    "reply_author_only": "Seul l'auteur peut modifier ou soumettre cette réponse (la direction demande des "
                         "modifications).",
    "reply_author_or_director_only": "Seuls l'auteur et la direction peuvent programmer, envoyer ou annuler cette "
                                     "réponse.",
    "post_author_or_director_only": "Seuls son auteur et la direction peuvent modifier ou déplacer cette "
                                    "publication ou cette série ({email}).",
    "actor_unknown": "Auteur de l'action inconnu : {actor} (une adresse e-mail d'agent ou un nom « system:… »).",
    "reply_changed_during_review": "Le message a changé depuis son ouverture : relisez-le avant de valider.",
    "reply_time_past": "L'heure de publication doit être dans le futur.",
    "charter_blocks_reply": "La charte bloque ce message : {finding}",
    "charter_blocks_template": "La charte bloque ce modèle : {finding}",
    "reply_impossible_instagram_tag": (
        "Instagram ne permet pas de répondre par son API à une publication d'un autre compte où la Ville est "
        "seulement identifiée sur la photo : répondez depuis l'application Instagram (une mention @ dans une "
        "légende ou un commentaire, elle, peut recevoir une réponse ici)."),
    # --- editorial calendar: posts, images, times, recurrences (services/editorial) ---
    "post_account_unknown": "Compte inconnu : « {account} ».",
    "post_not_found": "Publication n° {post_id} introuvable (supprimée entre-temps ?).",
    "recurrence_not_found": "Publication récurrente n° {rule_id} introuvable (supprimée entre-temps ?).",
    "post_no_account": "Choisissez au moins un compte où publier.",
    "post_variant_unknown_account": "Variante pour un compte non choisi : {accounts}.",
    "post_text_empty": "Le texte publié sur « {account} » est vide.",
    "post_image_no_alt": "L'image « {image} » n'a pas de texte alternatif : il est obligatoire (RGAA).",
    "post_time_past": "Cette heure est déjà passée : choisissez une heure à venir.",
    "post_started_edit": "Impossible de modifier cette publication : la publication est déjà partie ou en cours "
                         "d'envoi sur {accounts}. Dupliquez-la pour en préparer une nouvelle.",
    "post_started_move": "Impossible de déplacer cette publication : la publication est déjà partie ou en cours "
                         "d'envoi sur {accounts}. Dupliquez-la pour en préparer une nouvelle.",
    "post_cancelled_move": "Publication annulée : dupliquez-la pour la reprogrammer.",
    "post_sending_or_to_verify": "Envoi en cours ou à vérifier sur {accounts} : réessayez après vérification.",
    "post_withdraw_needs_connection": "La publication est programmée sur {account} : connexion requise pour la "
                                      "retirer de la plateforme.",
    "post_withdraw_failed": "Impossible de retirer la publication programmée sur {account} : {cause}",
    "post_fully_published": "Cette publication est déjà entièrement publiée.",
    "post_send_just_started": "L'envoi sur {account} vient de commencer : réessayez dans un instant.",
    "charter_blocks_post": "La charte éditoriale bloque cette publication : {blocked}",
    "post_changed_during_review": "La publication a été modifiée pendant votre relecture : relisez-la à nouveau.",
    "post_not_approved": "Cette publication doit être validée (dans sa version actuelle) avant d'être programmée.",
    "post_time_passed": "Cette heure est déjà passée : choisissez une nouvelle heure.",
    "post_nothing_to_retry": "Aucun envoi en échec à relancer pour cette publication.",
    "post_changed_since_approval": "La publication a changé depuis sa validation : elle doit être validée à "
                                   "nouveau.",
    "post_link_required": "Indiquez le lien (ou l'identifiant) de la publication trouvée sur la plateforme.",
    "post_target_unknown": "La publication {post_id} ne vise pas le compte {account}.",
    "post_target_not_to_verify": "Cet envoi n'est pas « à vérifier ».",
    "image_too_big": "L'image « {image} » dépasse {max_mb} Mo.",
    "image_type_refused": "« {image} » n'est pas une image PNG, JPEG, GIF ou WebP.",
    "image_not_stored": "Impossible d'enregistrer l'image « {image} » (erreur système : {error}).",
    "time_skipped_by_dst": "L'heure {time} n'existe pas le {day} à Paris (passage à l'heure d'été : les horloges "
                           "passent de 02:00 à 03:00). Choisissez 03:00 ou une autre heure.",
    "time_unreadable": "Heure invalide « {text} » : utilisez le format HH:MM (ex. 09:00).",
    "recurrence_freq_unknown": "Fréquence inconnue : « daily » (chaque jour) ou « weekly » (chaque semaine).",
    "recurrence_interval_too_small": "L'intervalle doit être d'au moins 1.",
    "recurrence_no_weekday": "Choisissez au moins un jour de la semaine (0 = lundi ... 6 = dimanche).",
    "recurrence_ends_before_start": "La date de fin précède la date de début.",
    # --- editorial workflow, saved-reply templates, charter YAML (editorial/) ---
    "step_refused": "Impossible {step_label} un message « {draft_state_label} ».",
    "approval_required": "Ce message doit d'abord être validé par la direction.",
    "four_eyes": "Règle des quatre yeux : l'auteur d'un message ne peut pas le valider lui-même.",
    "four_eyes_editor": "Règle des quatre yeux : vous avez rédigé ou modifié ce contenu, une autre personne de la "
                        "direction doit le valider.",
    "changes_comment_required": "Expliquez les modifications demandées dans un commentaire.",
    "template_title_required": "Le modèle doit avoir un titre.",
    "template_empty": "Le modèle est vide.",
    "template_variable_unknown": "Variable inconnue {{{variable}}} : variables possibles {variables}.",
    "template_title_taken": "Un modèle nommé « {title} » existe déjà.",
    "charter_texts_expected": "Charte, champ « {field} » : une liste de textes est attendue.",
    "charter_integer_expected": "Charte, champ « {field} » : un nombre entier est attendu.",
    "charter_number_expected": "Charte, champ « {field} » : un nombre est attendu.",
    "charter_out_of_range": "Charte, champ « {field} » : doit être compris entre {lo} et {hi}.",
    "charter_section_expected": "Charte, champ « {field} » : une section (clé: valeur) est attendue.",
    "charter_key_unknown": "Charte, champ « {field} » : clé inconnue (clés possibles : {allowed}).",
    "charter_list_expected": "Charte, champ « {field} » : une liste est attendue.",
    "charter_gender_expected": "Charte, champ « {field} » : « m » (masculin) ou « f » (féminin) est attendu.",
    "charter_term_empty": "Charte, champ « {field} » : le terme est vide.",
    "charter_prefix_too_short": "Charte, champ « {field} » : un préfixe (terme finissant par *) doit compter au "
                                "moins 3 lettres.",
    "charter_date_expected": "Charte, champ « {field} » : une date AAAA-MM-JJ est attendue.",
    "charter_rounds_expected": "Charte, champ « {field} » : au moins une date de tour de scrutin est attendue.",
    "charter_severity_expected": "Charte, champ « {field} » : valeur attendue : block, warn ou off.",
    "charter_yaml_unreadable": "Charte : YAML illisible ({error}).",
    "charter_changed_meanwhile": "La charte a changé entre-temps (version {version}) : vos modifications n'ont pas "
                                 "été enregistrées, reprenez-les.",
    # --- sending replies (services/publishing) ---
    "reply_already_sending": "Cette réponse est déjà en cours d'envoi.",
    "reply_already_sent": "Cette réponse a déjà été envoyée.",
    "reply_send_uncertain": "L'envoi de cette réponse est incertain : vérifiez sur la plateforme avant toute "
                            "action.",
    "reply_not_a_reply": "Ce message n'est pas une réponse : il se publie depuis le calendrier.",
    "reply_duplicate_out": "Une réponse identique à ce message est déjà envoyée ou en cours d'envoi : elle ne part "
                           "pas une seconde fois.",
    "reply_uncertain_lookup": "{cause} — envoi incertain : la réponse va être recherchée sur la plateforme ; elle "
                              "ne sera pas renvoyée automatiquement.",
    "reply_uncertain_verify": "{cause} — envoi incertain : la réponse est à vérifier sur la plateforme ; elle ne "
                              "sera pas renvoyée automatiquement.",
    "reply_link_required": "Collez le lien (ou l'identifiant) de la réponse publiée.",
    # --- moderation (services/moderation, moderation/legal.py) ---
    "moderation_unsupported": "{platform_label} ne permet pas de {moderation_action_label} depuis Parvis.",
    "moderation_action_unknown": "Action de modération inconnue : « {moderation_action} ».",
    "ground_required": "Un motif légal est obligatoire pour {moderation_action_label} un message. "
                       + legal.NOT_A_GROUND_FR,
    "ground_unknown": "Motif légal inconnu : « {ground} » (motifs possibles : {valid}). " + legal.NOT_A_GROUND_FR,
    "already_deleted": "Ce message est déjà supprimé.",
    "already_hidden": "Ce message est déjà masqué.",
    "already_banned": "{author} est déjà banni.",
    "author_unknown": "La plateforme n'a pas dit qui a écrit ce message : impossible de bannir son auteur "
                      "(masquez ou supprimez le message).",
    "not_hidden": "Ce message n'est pas masqué.",
    "not_banned": "{author} n'est pas banni.",
    "elected_needs_confirmation": legal.OPPOSITION_WARNING_FR,
    "request_closed": "La demande n° {request_id} est déjà traitée ({request_state_label}).",
    "escalation_target_unknown": "Escalade impossible vers « {target} » : choisissez la direction de la "
                                 "communication ou le service juridique.",
    "municipal_service_unknown": "Service municipal inconnu : « {service} » (services connus : {known}).",
    "municipal_services_unset": "Aucun service municipal n'est configuré (PARVIS_MUNICIPAL_SERVICES est vide).",
    "dismiss_reason_unknown": "Motif de classement inconnu : « {given} ».",
    "bulk_nothing_selected": "Aucun message sélectionné.",
    "automation_condition_invalid": "Condition de règle invalide ({key}).",
    "automation_too_many_keywords": "Au plus {max} mots-clés par règle.",
    "automation_no_condition": "Une règle a besoin d'au moins une condition.",
    "automation_action_invalid": "Action de règle invalide ({key}).",
    "automation_no_action": "Une règle a besoin d'au moins une action.",
    "automation_assignee_invalid": "{email} ne peut pas recevoir de messages : choisissez un membre de l'équipe "
                                   "qui traite la boîte de réception.",
    "automation_name_invalid": "Donnez un nom à la règle (120 caractères au plus).",
    "automation_not_tried": "Essayez d'abord la règle sur les {days} derniers jours (« ce qu'elle aurait fait ») "
                            "avant de l'activer.",
    "automation_rule_unknown": "Règle n° {rule_id} introuvable.",
    "bulk_too_many": "Au plus {max} messages à la fois : affinez le filtre.",
    "risk_kind_unknown": "Type de risque inconnu : {kinds}.",
    "mark_filter_unknown": "Filtre de marque d'auteur inconnu : « {mark} ».",
    "age_negative": "L'ancienneté doit être positive.",
    # --- moderation acts through the outbox (services/moderation/acts.py, decision 0051) ---
    "moderation_act_in_flight": "Une action de modération sur ce message (ou cet auteur) est déjà en cours d'envoi "
                                "à la plateforme : attendez son résultat.",
    "moderation_act_uncertain_lookup": "{cause} — résultat incertain : Parvis va vérifier sur la plateforme si elle "
                                       "a été faite.",
    "moderation_act_uncertain_verify": "{cause} — résultat incertain : elle est « à vérifier » sur la plateforme "
                                       "(page Modération).",
    "moderation_act_not_to_verify": "Cette action n'est pas « à vérifier ».",
    "moderation_act_mention_purged": "Le message a été purgé : impossible de vérifier l'action sur la plateforme.",
    # --- audit trail, legal archive, retention, exports (services/archive) ---
    "audit_log_empty": "Le journal d'audit est vide : rien à contresigner pour l'instant.",
    "export_formats": "Formats d'export possibles : {formats}.",
    "export_integrity_broken": "Intégrité du journal d'audit rompue ({problem}) : export refusé ; prévenez le "
                               "service juridique. Vérification : `python -m console audit verify` "
                               "(--allow-broken exporte quand même, signalé dans le manifeste).",
    "checkpoint_log_empty": "Le journal d'audit est vide : rien à sceller pour l'instant.",
    "checkpoint_chain_broken": "Point de contrôle refusé : la chaîne d'audit est rompue à l'événement n° {broken_id}. "
                               "Vérification : `python -m console audit verify` ; prévenez le service juridique.",
    "checkpoint_chain_diverged": "Point de contrôle refusé : l'événement n° {head_id} ne correspond plus au dernier "
                                 "point de contrôle signé ({file}) ; le journal a été tronqué ou réécrit. "
                                 "Vérification : `python -m console audit verify` ; prévenez le service juridique.",
    "checkpoint_not_ours": "Point de contrôle refusé : le dernier point de contrôle ({file}) n'est pas signé par "
                           "la clé {key_id} (clé remplacée, ou fichier forgé). Restaurez la clé ou choisissez un "
                           "nouveau dossier (PARVIS_AUDIT_CHECKPOINT_DIR), et prévenez le service juridique.",
    "checkpoint_dir_unwritable": "Impossible d'écrire un point de contrôle dans {folder} : vérifiez le dossier "
                                 "(PARVIS_AUDIT_CHECKPOINT_DIR) et ses droits.",
    "checkpoint_key_unreadable": "Clé de signature du journal d'audit illisible ou impossible à créer : {path} "
                                 "(PARVIS_AUDIT_SIGNING_KEY).",
    "checkpoint_public_key_unreadable": "Aucune clé publique Ed25519 lisible dans {path}.",
    "database_missing": "Aucune base de données à {path} : vérifiez --db ou PARVIS_DB.",
    "database_unreadable": "La base {path} est illisible (fichier abîmé, ou pas une base Parvis).",
    "retention_negative": "Une durée de conservation ne peut pas être négative ({classes}).",
    "hold_reason_required": "Un gel juridique a besoin d'un motif (ex. la référence du dossier).",
    "hold_target_required": "Un gel juridique a besoin d'une plateforme et d'un identifiant de conversation ou "
                            "d'auteur.",
    "hold_scope_unknown": "Portée de gel juridique inconnue : « {scope} » (conversation ou auteur).",
    "hold_lift_reason_required": "Lever un gel juridique demande un motif.",
    "hold_already_lifted": "Le gel juridique n° {hold_id} a déjà été levé le {day}.",
    "author_query_empty": "Donnez un pseudo (ex. @camille) ou un identifiant de plateforme (ex. x:12345).",
    # --- connections: import, sync, X budget (services/connections) ---
    "import_missing_fields": "Champ(s) manquant(s) : {fields}.",
    "import_platform_unknown": "Plateforme inconnue : « {value} ».",
    "import_bad_date": "Date illisible « {value} » (format ISO 8601 attendu).",
    "import_text_too_long": "Texte de plus de {max} caractères.",
    "import_field_too_large": "Champ(s) de plus de {max} caractères : {fields}.",
    "import_bad_followers": "Nombre d'abonnés illisible : « {value} ».",
    "import_raw_not_json": "Le champ raw n'est pas du JSON.",
    "import_no_file": "Fichier introuvable : {path}.",
    "import_file_type": "{path} : utilisez un fichier .jsonl ou .csv.",
    "import_not_utf8": "{path} n'est pas un texte UTF-8 (octet {byte}) : enregistrez-le en UTF-8.",
    "connector_not_enabled": "La connexion « {connector} » n'est pas activée.",
    "x_budget_reached": "Budget mensuel X atteint : {spent} $ dépensés sur {cap} $ en {month} ; {policy_label} "
                        "jusqu'au {until}.",
    # --- backups and restores (services/operations, `backup` / `restore`) ---
    "backup_manifest_unreadable": "Le manifeste {path} est illisible ({error}) : rien n'a été changé.",
    "backup_manifest_not_object": "Le manifeste {path} n'est pas un objet JSON : rien n'a été changé.",
    "backup_no_database": "Aucune base de données à {path} : vérifiez --db ou PARVIS_DB.",
    "backup_folder_unusable": "Impossible de créer le dossier de sauvegarde {folder} ({error}).",
    "backup_copy_failed": "La copie de {path} dans {folder} a échoué ({error}) : aucune sauvegarde n'a été écrite.",
    "backup_copy_rejected": "La copie de {path} n'a pas passé ses vérifications ({problems}) : elle n'a pas été "
                            "gardée.",
    "backup_rejected": "La sauvegarde {path} n'a pas passé ses vérifications ({problems}) : rien n'a été changé.",
    "restore_worker_running": "Le worker tourne sur {path} (signe de vie il y a moins de {seconds} s) : arrêtez le "
                              "worker et la console d'abord, ou utilisez --force.",
    "restore_database_open": "Un autre processus a ouvert {path} : arrêtez le worker et la console d'abord, ou "
                             "utilisez --force.",
    "restore_failed": "La restauration dans {path} a échoué ({error}) ; la base précédente est remise en place.",
    # --- reports (services/reports) ---
    "report_period_empty": "La période du rapport doit finir après son début.",
    "report_format_unknown": "Format de rapport inconnu : « {format} » (pdf, html ou csv).",
    # --- integrations: e-mail, back office, outgoing webhooks (services/integrations) ---
    "integration_message_unknown": "Message introuvable dans la file d'envoi.",
    "integration_not_to_verify": "Ce message n'est pas « à vérifier ».",
    "smtp_unset": "Aucun serveur d'e-mail configuré (PARVIS_SMTP_HOST).",
    "smtp_unreachable": "Serveur d'e-mail injoignable ; nouvel essai automatique.",
    "smtp_auth_failed": "Le serveur d'e-mail a refusé l'identifiant ou le mot de passe (PARVIS_SMTP_USER).",
    "smtp_temporary": "Le serveur d'e-mail refuse temporairement ; nouvel essai automatique.",
    "smtp_refused": "Le serveur d'e-mail a refusé le message.",
    "notice_unknown": "Notification inconnue : « {given} ».",
    "webhook_endpoint_unknown": "Destination de webhook introuvable.",
    "webhook_url_invalid": "Adresse de webhook invalide : elle doit commencer par https:// (ou http://).",
    "webhook_events_invalid": "Choisissez au moins un événement parmi ceux proposés.",
    "webhook_endpoint_off": "Destination de webhook désactivée : l'événement n'est pas envoyé.",
    "integration_erased": "Le texte de ce message a été effacé (RGPD ou conservation) : il n'est pas envoyé.",
    "webhook_unreachable": "Destination de webhook injoignable ; nouvel essai automatique.",
    "webhook_retry": "La destination du webhook est momentanément indisponible ; nouvel essai automatique.",
    "webhook_refused": "La destination du webhook a refusé l'événement.",
    "open311_unset": "Aucun back-office configuré (PARVIS_OPEN311_ENDPOINT).",
    "open311_forbidden": "Le back-office a refusé la clé d'API (PARVIS_OPEN311_API_KEY).",
    "open311_rate_limited": "Le back-office limite les appels ; nouvel essai automatique.",
    "open311_refused": "Le back-office a refusé la demande.",
    "open311_unavailable": "Back-office momentanément indisponible.",
    "open311_unreadable": "Réponse illisible du back-office.",
    "open311_unreachable": "Back-office injoignable ; nouvel essai automatique.",
    "open311_tag_empty": "Indiquez une étiquette.",
    "open311_service_unknown": "Aucun service du back-office n'est associé aux étiquettes de ce message : "
                               "choisissez-en un.",
    "open311_location_needed": "Le message n'indique pas de lieu : saisissez une adresse.",
    "open311_duplicate": "Cette demande est déjà en file d'envoi.",
    "service_request_unknown": "Demande au back-office introuvable.",
    # --- console: forms and commands (console/) ---
    "hold_mention_id_required": "Donnez l'identifiant Parvis du message reçu (ex. x:1790012).",
    "date_and_time_required": "Indiquez une date et une heure.",
    "file_not_utf8": "Fichier illisible : enregistrez-le en UTF-8.",
    "agent_not_found": "Aucun compte {email}.",
    "bench_events_min": "--events doit valoir au moins 1.",
    "unexpected_error": ("Erreur inattendue (référence {ref}) : l'action n'a peut-être pas été effectuée. "
                         "Réessayez ; si l'erreur revient, donnez cette référence à l'administrateur (le détail "
                         "est dans le journal du serveur)."),
}
