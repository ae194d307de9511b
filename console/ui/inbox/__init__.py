"""View modules of the Boîte de réception page."""
