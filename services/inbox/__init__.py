"""The shared inbox: triage (list, assign, status, tags, notes), replies, saved replies, opening hours."""
