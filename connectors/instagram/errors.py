"""Instagram errors: the Graph table is shared with Facebook (connectors/graph/errors.py: 190/102 → AuthFailed;
4, 17, 32, 341, 613, 80001 → RateLimited; 1, 2 and 5xx → Unavailable; other 4xx, such as #100 for a reply to a
reply or to a hidden comment, → PermanentFailure), applied by the Graph client to every call.

What Instagram adds: no permission hints with Facebook Login (:data:`PERMISSION_HINTS` is empty: a permissions
error names the endpoint and Graph's message), the ``instagram_business_*`` permission each endpoint needs with
Instagram Login (:data:`INSTAGRAM_LOGIN_HINTS`), and the refusals the connector raises itself, before anything is
sent, where Instagram's rules leave no way through the API.
"""

from __future__ import annotations

PERMISSION_HINTS: dict[str, str] = {}
_BASIC = "Instagram Login: the Instagram User token needs instagram_business_basic"
_COMMENTS = "Instagram Login: the Instagram User token needs instagram_business_manage_comments"
_PUBLISH = "Instagram Login: the Instagram User token needs instagram_business_content_publish"
# With Instagram Login (graph.instagram.com) the permissions are the ``instagram_business_*`` ones: a refusal
# names the one the endpoint needs (docs/connectors.md, "0. Facebook Login or Instagram Login").
INSTAGRAM_LOGIN_HINTS: dict[str, str] = {
    "GET /{page}/media": _BASIC, "GET /me": _BASIC, "GET /{id}/comments": _COMMENTS,
    "POST /{id}/replies": _COMMENTS, "POST /{id}": _COMMENTS, "DELETE /{id}": _COMMENTS,
    "POST /{page}/mentions": _COMMENTS, "POST /{page}/media": _PUBLISH, "POST /{page}/media_publish": _PUBLISH,
    "GET /{page}/content_publishing_limit": _PUBLISH,
}
NO_TAG_ACTIONS = ("Instagram does not allow commenting, hiding or deleting through the API on a post the account "
                  "is tagged in: answer it in the Instagram app")
NO_REPLY_TO_REPLY = ("Instagram only allows replies to top-level comments: answer the comment this reply belongs "
                     "to")
NO_REPLY_TO_HIDDEN = "Instagram does not allow replying to a hidden comment: unhide it first"
NO_HIDE_ELSEWHERE = ("Instagram only allows hiding comments on the account's own posts: a tag or an @mention on "
                     "another account's post is handled in the Instagram app")
