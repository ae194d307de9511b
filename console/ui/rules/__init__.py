"""The « Règles » page pieces (automation rules, issue #17)."""
