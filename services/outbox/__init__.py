"""The one outbox: every effect Parvis has outside (posts, replies, moderation acts, e-mails, Open311 requests,
webhook deliveries).

``engine`` owns the protocol (intent committed with its audit event before the call, the call outside the
transaction under a claim token, the outcome recorded if the token still holds, lookups or « à vérifier » when
uncertain, the ``publisher`` lease, wake-on-due); ``runner`` runs one pass over every kind. The kinds live with
their feature: posts (``services/publishing/posts.py``), replies (``services/publishing/reply_sending.py``),
moderation acts (``services/moderation/acts.py``), the integrations' e-mails, back-office requests and webhook
deliveries (``services/integrations/kind.py``, decision 0120). Decision 0051.
"""
