"""The Graph API client shared by the Facebook Page and Instagram connectors (docs/decisions/0030, 0071)."""
