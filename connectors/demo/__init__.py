"""Demo connector: the fictional "Ville de Valmont".

The fixed roles: connector.py (the sandbox), normalize.py (generated records → Mention with the platforms' JSON
in ``raw``), errors.py (what the sandbox refuses), lookups.py (finding what was "sent"). The extras make the
simulated city: generator.py (the stream, pure functions of seed and time) with timeline.py (when), threads.py
(conversations), textgen.py (how residents write), data.py (texts and cast, from the TOML files), team.py (the
communication team); outbox.py keeps what Parvis "sent".
"""
