"""Issue #16: no recording of ``graph.instagram.com`` exists (../shared/real-payloads/README.md), so the Instagram
Login fake follows the samples Meta's references show (cited in docs/connectors.md, "Instagram Login: the
documented samples"): what each answer holds, with and without ``fields``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.graph.normalize import requested_fields
from connectors.instagram import normalize as ig
from tests.fakes import FakeInstagramApi


@pytest.fixture
def fake(httpserver) -> FakeInstagramApi:
    api = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3), login="instagram")
    api.base_url = api.install(httpserver)  # type: ignore[attr-defined]
    return api


def get(fake: FakeInstagramApi, path: str, **params: str) -> dict:
    answer = httpx.get(f"{fake.base_url}/{fake.version}/{path}", params=params,  # type: ignore[attr-defined]
                       headers={"Authorization": f"Bearer {fake.token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_me_answers_user_id_username_and_the_app_scoped_id(fake):
    me = get(fake, "me", fields="user_id,username")  # Get Started: GET /me?fields=user_id,username
    assert set(me) == {"id", "user_id", "username"} and me["user_id"] == fake.ig_user_id
    assert me["id"] != me["user_id"]  # ``id`` is app-scoped; ``user_id`` the professional account's id


def test_media_and_comments_without_fields_are_the_reference_defaults(fake):
    media = fake.add_media("Marché de Noël")
    fake.add_comment(media, "Superbe !")
    listed = get(fake, "me/media")  # IG User Media: ids only, with cursors
    assert [set(item) for item in listed["data"]] == [{"id"}]
    assert set(listed["paging"]["cursors"]) == {"before", "after"}
    comments = get(fake, f"{media}/comments")  # IG Media Comments: timestamp, text, id
    assert [set(item) for item in comments["data"]] == [{"timestamp", "text", "id"}]
    asked = get(fake, f"{media}/comments", fields=ig.COMMENT_FIELDS)  # only what is asked for
    assert set(asked["data"][0]) <= set(requested_fields(ig.COMMENT_FIELDS))
    with_media = get(fake, "me/media", fields=ig.MEDIA_FIELDS)
    assert set(with_media["data"][0]) == set(ig.MEDIA_FIELDS.split(","))


def test_refresh_access_token_answers_the_documented_three_keys(fake):
    answer = httpx.get(f"{fake.base_url}/refresh_access_token",  # type: ignore[attr-defined]
                       params={"grant_type": "ig_refresh_token", "access_token": fake.token}).json()
    assert set(answer) == {"access_token", "token_type", "expires_in"}
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 5183944  # Meta's example: ~60 days
