"""Stateful fake X API v2 and Graph API servers for tests and benchmarks (never imported by production code).

Each fake is a plain Werkzeug request handler holding the platform's state (posts, comments, what was
published, hidden, deleted) and answering with the real payload shapes (tests/fixtures/x, tests/fixtures/facebook).
Install it on a pytest-httpserver ``HTTPServer``:

    fake = FakeXApi()
    base_url = fake.install(httpserver)          # in a test, with the ``httpserver`` fixture
    with serve(FakeGraphApi()) as (fake, base):  # outside pytest (benchmarks)
        ...
"""

from tests.fakes.base import Failure, FakeBase, json_response, serve
from tests.fakes.bluesky_api import FakeBlueskyApi
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.instagram_api import FakeInstagramApi
from tests.fakes.mastodon_api import FakeMastodonApi
from tests.fakes.x_api import FakeXApi

__all__ = ["Failure", "FakeBase", "FakeBlueskyApi", "FakeGraphApi", "FakeInstagramApi", "FakeMastodonApi", "FakeXApi",
           "json_response", "serve"]
