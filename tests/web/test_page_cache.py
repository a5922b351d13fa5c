"""The public page cache: anonymous visitors get the same page while nothing it shows has
changed, and a fresh one the moment something has (a write, a new row, a claim lapsing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from bounty.models import Claim, utcnow
from bounty.services import freshness
from bounty.web.page_cache import CachedPage, PageCache, cache_of
from tests import workflow_factories as wf
from tests.web.test_bounty_board import demo_person, settle, signed_in, titles


def statements_of(app: Flask, request: Callable[[], object]) -> int:
    """How many SQL queries `request` sends (SQLite's explicit BEGIN not counted)."""
    engine = app.extensions["bounty.db"].engine
    count = 0

    def counted(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal count
        count += not statement.startswith("BEGIN")

    event.listen(engine, "before_cursor_execute", counted)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_a_repeated_anonymous_visit_is_served_from_the_cache(app: Flask, session: Session) -> None:
    wf.reference(session)
    wf.open_bounty(session, title="Cached bounty")
    settle(session)
    client = app.test_client()
    first = client.get("/bounties")
    rendering = statements_of(app, lambda: client.get("/bounties?sort=title"))
    cached = statements_of(app, lambda: client.get("/bounties?sort=title"))
    again = client.get("/bounties")
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()
    assert "Cached bounty" in titles(again.get_data(as_text=True))
    assert cached == 1 < rendering
    assert len(cache_of(app)) == 2


def test_a_write_through_the_services_shows_at_once(app: Flask, session: Session) -> None:
    wf.reference(session)
    wf.open_bounty(session, title="First bounty")
    settle(session)
    client = app.test_client()
    assert titles(client.get("/bounties").get_data(as_text=True)) == ["First bounty"]
    work = wf.claimed_bounty(session, title="Second bounty")
    settle(session)
    # Claimed: no longer open, so anonymous visitors no longer see it... and publishing it
    # was a write, so the page is rendered again rather than served stale.
    assert titles(client.get("/bounties").get_data(as_text=True)) == ["First bounty"]
    session.execute(update(Claim).where(Claim.id == work.claim.id)
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    # The claim lapsed (time passed, nothing was written through the services): the bounty
    # reads as open again and the cached page is not served.
    assert sorted(titles(client.get("/bounties").get_data(as_text=True))) == ["First bounty", "Second bounty"]


def test_signed_in_viewers_and_waiting_messages_are_never_served_from_the_cache(
        make_app: Callable[..., Flask], session: Session) -> None:
    app = make_app(DEMO_LOGIN=True)
    wf.reference(session)
    wf.open_bounty(session, title="Open bounty")
    admin = demo_person(session, "ada", roles=("program-admin",))
    settle(session)
    anonymous = app.test_client()
    anonymous.get("/bounties")
    assert len(cache_of(app)) == 1
    page = signed_in(app, admin).get("/bounties").get_data(as_text=True)
    assert "Signed in as" in page and "Ada" in page
    with anonymous.session_transaction() as browser_session:
        browser_session["_flashes"] = [("message", "Your claim was recorded")]
    assert "Your claim was recorded" in anonymous.get("/bounties").get_data(as_text=True)
    assert "Your claim was recorded" not in anonymous.get("/bounties").get_data(as_text=True)


def test_each_locale_has_its_own_page(app: Flask, session: Session) -> None:
    wf.reference(session)
    wf.open_bounty(session)
    settle(session)
    client = app.test_client()
    english = client.get("/bounties", headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get("/bounties", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="fr"' in french
    assert client.get("/bounties", headers={"Accept-Language": "en"}).get_data(as_text=True) == english


def test_a_size_of_zero_turns_the_cache_off(make_app: Callable[..., Flask], session: Session) -> None:
    app = make_app(PAGE_CACHE_SIZE=0)
    wf.reference(session)
    wf.open_bounty(session)
    settle(session)
    client = app.test_client()
    client.get("/bounties")
    assert len(cache_of(app)) == 0
    assert statements_of(app, lambda: client.get("/bounties")) > 1


def test_the_cache_keeps_the_most_recently_used_pages_only() -> None:
    cache = PageCache(2)
    stamp = freshness.ChangeStamp(1, 1, None)
    entry = cache_entry(stamp)
    for path in ("/a", "/b"):
        cache.put((path, "en"), entry)
    assert cache.get(("/a", "en"), stamp) is entry  # /a is now the most recent
    cache.put(("/c", "en"), entry)
    assert cache.get(("/b", "en"), stamp) is None
    assert cache.get(("/a", "en"), stamp) is entry
    assert cache.get(("/a", "en"), freshness.ChangeStamp(2, 1, None)) is None


def cache_entry(stamp: freshness.ChangeStamp) -> CachedPage:
    return CachedPage(stamp, b"page", "text/html")


def test_the_change_stamp_moves_with_writes_rows_and_lapses(session: Session) -> None:
    wf.reference(session)
    before = freshness.change_stamp(session)
    work = wf.claimed_bounty(session)
    after = freshness.change_stamp(session)
    assert after.audit_seq > before.audit_seq
    assert after.newest_bounty_id == work.bounty.id
    assert after.next_lapse_at == work.claim.expires_at
    later = freshness.change_stamp(session, now=work.claim.expires_at + timedelta(seconds=1))
    assert later.next_lapse_at is None
