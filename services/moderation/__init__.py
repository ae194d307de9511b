"""Moderation: the risk queue (read side), moderation acts (hide, delete, ban...) and their outbox kind (``acts``),
bans."""
