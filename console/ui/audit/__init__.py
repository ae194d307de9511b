"""View modules of the Audit et archives page."""
