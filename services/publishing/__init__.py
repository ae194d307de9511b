"""Publishing exactly once: the posts' and replies' outbox state machines, approvals of replies."""
