"""Publishing posts and replies exactly once (decisions 0050, 0051), as kinds of the one outbox
(:mod:`services.outbox`): the posts' kind (``posts``, ``outcomes``, ``reconcile``), the replies' kind
(``reply_sending``, its records ``reply_records``, the worker's wrapper ``reply_outbox``), content rules and timing
(``content``), approvals of replies (``approvals``)."""
