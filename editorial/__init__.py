"""Editorial line: the charter rules engine, platform lengths, signatures, saved replies, the approval
workflow and the période de réserve. Pure domain code: imports only ``core``."""
