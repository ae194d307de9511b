"""Running Parvis in service: backups and restores, readiness, the numbers of /metrics."""
