"""Connections to the platforms: assembling connectors and scorer, sync passes, imports, the demo city, X budget."""
