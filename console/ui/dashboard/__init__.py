"""View modules of the Tableau de bord page."""
