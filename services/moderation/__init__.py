"""Moderation: the risk queue (read side), moderation acts (hide, delete, ban...), bans."""
