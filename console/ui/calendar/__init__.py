"""View modules of the Calendrier page."""
