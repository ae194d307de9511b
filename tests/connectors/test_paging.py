"""The shared paging helper (connectors/paging.py): budget, end of list, caller's boundary, early stop."""

from __future__ import annotations

import pytest

from connectors.paging import Walk, link_cursor, load_state, not_found
from core.errors import RateLimited, Unavailable

PAGES = {None: (["a", "b"], "c1"), "c1": (["c", "d"], "c2"), "c2": (["e"], None)}


def _walk(**kwargs) -> tuple[Walk, list[str | None]]:
    asked: list[str | None] = []

    def fetch(cursor):
        asked.append(cursor)
        return PAGES[cursor]

    return Walk(fetch, lambda page: page[1], **kwargs), asked


def test_reads_to_the_end_of_the_list():
    walk, asked = _walk(max_pages=10)
    assert [page[0] for page in walk] == [["a", "b"], ["c", "d"], ["e"]]
    assert asked == [None, "c1", "c2"]
    assert walk.done and not walk.more and walk.cursor is None and walk.pages == 3


def test_stops_at_the_page_budget_with_the_cursor_to_resume_from():
    walk, _ = _walk(max_pages=2)
    assert len(list(walk)) == 2
    assert walk.more and walk.cursor == "c2"
    again, asked = _walk(max_pages=2, cursor=walk.cursor)
    assert [page[0] for page in again] == [["e"]] and asked == ["c2"] and again.done


def test_first_is_only_the_first_page_of_a_walk_from_the_top():
    walk, _ = _walk(max_pages=10)
    firsts = [walk.first for _ in walk]
    assert firsts == [True, False, False]
    resumed, _ = _walk(max_pages=10, cursor="c1")
    assert [resumed.first for _ in resumed] == [False, False]


def test_the_caller_stops_at_a_boundary():
    walk, asked = _walk(max_pages=10)
    for page in walk:
        if "c" in page[0]:
            break
    assert asked == [None, "c1"] and walk.more and walk.cursor == "c2"


def test_the_last_page_is_done_even_when_the_caller_stops_there():
    walk, _ = _walk(max_pages=10, cursor="c2")
    for _page in walk:
        break
    assert walk.done


def test_an_error_to_stop_on_keeps_the_pages_read_but_not_on_the_first_page():
    def fetch(cursor):
        if cursor == "c1":
            raise RateLimited("limited", reset_at=0.0, endpoint="x")
        return PAGES[cursor]

    walk = Walk(fetch, lambda page: page[1], max_pages=10, stop_on=(RateLimited,))
    assert len(list(walk)) == 1 and isinstance(walk.stopped, RateLimited) and walk.cursor == "c1"
    with pytest.raises(RateLimited):
        list(Walk(fetch, lambda page: page[1], max_pages=10, cursor="c1", stop_on=(RateLimited,)))


def test_link_cursor_reads_the_next_link():
    links = {"next": {"url": "https://m.example/api/v1/notifications?max_id=109&limit=40", "rel": "next"},
             "prev": {"url": "https://m.example/api/v1/notifications?min_id=200", "rel": "prev"}}
    assert link_cursor(links, "max_id") == "109"
    assert link_cursor(links, "min_id", rel="prev") == "200"
    assert link_cursor({}, "max_id") is None


def test_not_found_is_absent_only_when_the_lookup_could_tell():
    walk, _ = _walk(max_pages=2)
    list(walk)
    with pytest.raises(Unavailable, match="not found within 2 pages"):
        not_found(walk, "GET /x")  # the budget ran out before the time looked for
    assert not_found(walk, "GET /x", reached=True) is None  # reached older items: certainly absent
    with pytest.raises(Unavailable, match="3 unreadable status"):
        not_found(walk, "GET /x", reached=True, unreadable=3, what="status(es)")
    ended, _ = _walk(max_pages=10)
    list(ended)
    assert not_found(ended, "GET /x") is None  # the end of the list


def test_load_state_reads_a_json_cursor_and_starts_afresh_otherwise():
    assert load_state('{"since_id": "5"}') == {"since_id": "5"}
    assert load_state(None) == {} and load_state("") == {} and load_state("[1]") == {} and load_state("{oops") == {}
    assert load_state("0123", lambda old: {"since_id": old}) == {"since_id": "0123"}  # from before JSON
