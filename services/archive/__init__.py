"""The record for legal staff: legal archive, audit-trail views, exports, retention, RGPD, transfer."""
