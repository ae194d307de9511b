"""View modules of the Approbations page."""
