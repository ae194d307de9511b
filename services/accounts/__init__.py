"""Accounts and access: sign-in and sessions, agent accounts, the role matrix."""
