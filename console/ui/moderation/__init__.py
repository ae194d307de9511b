"""View modules of the Modération page."""
