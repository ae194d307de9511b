"""Effects on the outside world exactly once (decisions 0050, 0051): the one outbox engine (``engine``) and the
worker's pass over every kind with wake-on-due (``runner``); the posts' kind (``posts``, ``outcomes``,
``reconcile``), the replies' kind (``reply_sending``, ``reply_outbox``), content rules and timing (``content``),
approvals of replies. The moderation acts' kind lives with moderation (``services.moderation.acts``)."""
