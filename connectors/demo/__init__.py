"""Demo connector: the fictional "Ville de Valmont" (generator.py: the stream; connector.py: the sandbox)."""
