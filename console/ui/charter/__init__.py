"""View modules of the Charte éditoriale page."""
