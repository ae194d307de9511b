"""X has no lookups: the X connector offers neither ``find_published`` nor ``find_reply``.

Looking for a post or a reply after an uncertain write would read the account's timeline
(``GET /2/users/:id/tweets``), billed per post returned under pay-per-usage (connectors/x/usage.py), and no
lookup has been written for it yet. Without one, the publisher and the reply outbox send an uncertain X post or
reply to « à vérifier » for a person rather than guess (docs/decisions/0050): never twice, never silently lost.
"""
