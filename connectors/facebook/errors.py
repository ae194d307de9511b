"""Facebook Page errors: the Graph table is shared with Instagram (connectors/graph/errors.py: 190/102 →
AuthFailed; 4, 17, 32, 341, 613, 80001 → RateLimited with the reset from the usage headers; 1, 2 and 5xx →
Unavailable; other 4xx → PermanentFailure), applied by the Graph client to every call.

What Facebook adds: which permission the Page token lacks when Graph answers a permissions error (codes 10 and
200-299, or HTTP 403) on an endpoint of :data:`PERMISSION_HINTS`, and the refusals the connector raises itself
before sending anything.
"""

from __future__ import annotations

_BAN_HINT = ("banning needs a Page access token with pages_manage_engagement (and pages_read_engagement), "
             "issued by someone who can do the MODERATE task on the Page")
PERMISSION_HINTS = {"POST /{page}/blocked": _BAN_HINT, "DELETE /{page}/blocked": _BAN_HINT}
NO_USER_ID = ("this comment carries no Facebook user id (Graph hides `from` without the MODERATE task on the "
              "Page): the author cannot be banned from Parvis")
