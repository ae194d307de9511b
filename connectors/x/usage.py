"""What an X API call bills (pay-per-usage), as pure functions: no database, no network.

X bills reads per resource returned (each post, each user) and writes per request, with a much higher price for
a post containing a URL (docs.x.com/x-api/getting-started/pricing). The connector reports every successful
billable call to an injectable ``UsageHook`` and asks an injectable ``BudgetGate`` before sending one; both are
plain callables (the service behind them keeps the counts in the database: services/connections/x_budget.py).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from typing import Any


class Billable(enum.StrEnum):
    """Kinds of billable X usage (keys of the price table)."""

    POST_READ = "post_read"  # per post returned (data and includes.tweets)
    USER_READ = "user_read"  # per user returned (includes.users, the account lookup)
    CREATE = "create"  # per post created (reply or post) without a link
    CREATE_URL = "create_url"  # per post created with a link
    DELETE = "delete"  # per deletion
    MANAGE = "manage"  # per hide/unhide


READS = frozenset({Billable.POST_READ, Billable.USER_READ})

UsageHook = Callable[[Billable, int], None]  # (kind, units) after a successful billable call
BudgetGate = Callable[[Billable], None]  # raises core.errors.BudgetExceeded to stop a call before it is sent

# Anything X would turn into a link: a scheme, "www.", or a bare domain with a common TLD (an upper estimate).
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:fr|com|org|net|eu|info|io|gouv|"
                   r"bzh|paris|corsica|alsace|be|ch|de|es|it|uk|ly|gl|co|me|tv|app|link)\b(?:/\S*)?")


def has_link(text: str) -> bool:
    """True when ``text`` contains something X would bill as a post "with URL"."""
    return bool(_LINK.search(text or ""))


def create_kind(text: str) -> Billable:
    """The billable kind of creating a post with ``text``."""
    return Billable.CREATE_URL if has_link(text) else Billable.CREATE


def read_units(answer: Mapping[str, Any]) -> dict[Billable, int]:
    """Resources a read answer bills: posts in ``data`` and ``includes.tweets``, users in ``includes.users``."""
    data = answer.get("data")
    posts = len(data) if isinstance(data, list) else (1 if isinstance(data, Mapping) else 0)
    includes = found if isinstance(found := answer.get("includes"), Mapping) else {}
    tweets = includes.get("tweets")
    users = includes.get("users")
    posts += len(tweets) if isinstance(tweets, list) else 0
    return {Billable.POST_READ: posts, Billable.USER_READ: len(users) if isinstance(users, list) else 0}
