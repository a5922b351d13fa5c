"""Reading bounties: who sees what (the embargo everywhere), filters, sorts, pages, queues."""

from __future__ import annotations

import pytest

from bounty.ledger import Money
from bounty.services import bounties, bounty_queries, claims
from bounty.services import my_work as my_work_queries
from bounty.services.bounty_queries import BountyFilter
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from tests import workflow_factories as wf


@pytest.fixture
def pool(session):
    return wf.reference(session)


def listed(session, viewer, **filters) -> list[str]:
    return [row.title for row in bounty_queries.list_bounties(session, viewer, BountyFilter(**filters),
                                                              per_page=100).items]


def total(session, viewer, **filters) -> int:
    return bounty_queries.list_bounties(session, viewer, BountyFilter(**filters)).total


def viewers(session) -> dict[str, object]:
    return {
        "anonymous": wf.ANONYMOUS,
        "contributor": wf.contributor(session, "dora"),
        "reviewer": wf.reviewer(session, "eve", "EU"),
        "finance": wf.actor_of(wf.person(session, "fin", ("contributor", "finance"))),
        "council": wf.reviewer(session, "cora", "UK", council=True),
        "admin": wf.admin(session),
        "auditor": wf.actor_of(wf.person(session, "audrey", ("auditor",))),
    }


def test_embargoed_bounties_exist_only_for_those_who_may_see_them(session, pool):
    public = wf.open_bounty(session, title="Public bug")
    secret = wf.open_bounty(session, **wf.security_fix(title="Secret CVE"))
    sees = {"council", "admin", "auditor"}
    for name, viewer in viewers(session).items():
        visible = name in sees
        assert ("Secret CVE" in listed(session, viewer)) is visible, name
        assert "Public bug" in listed(session, viewer), name
        assert total(session, viewer) == (2 if visible else 1), name
        assert total(session, viewer, category="critical_security_fix") == (1 if visible else 0), name
        assert ("Secret CVE" in listed(session, viewer, text="cve")) is visible, name
        if visible:
            detail = bounty_queries.get_bounty(session, viewer, secret.id)
            assert detail.row.is_embargoed
        else:
            with pytest.raises(NotFound, match=f"no bounty {secret.id}"):
                bounty_queries.get_bounty(session, viewer, secret.id)
        assert bounty_queries.get_bounty(session, viewer, public.id).row.title == "Public bug"


def test_the_claimant_keeps_seeing_an_embargoed_bounty(session, pool):
    council = wf.reviewer(session, "cora", "UK", council=True)
    work = wf.claimed_bounty(session, council, **wf.security_fix())
    # Cora leaves the council (roles come from the last sign-in): as the claimant she still sees it.
    plain = wf.actor_of(wf.person(session, "cora"))
    plain = type(plain)(label=plain.label, roles=frozenset({"contributor"}), person_id=plain.person_id,
                        jurisdiction_code="UK")
    assert bounty_queries.get_bounty(session, plain, work.bounty.id).claim is not None
    assert listed(session, plain) == ["CVE-2026-0001 remediation"]
    assert [c.bounty_title for c in my_work_queries.my_work(session, plain).claims] == [
        "CVE-2026-0001 remediation"]
    assert listed(session, wf.contributor(session, "dora")) == []


def test_a_disclosed_security_fix_is_visible_to_everyone_signed_in(session, pool):
    bounty = wf.open_bounty(session, **wf.security_fix())
    bounty.disclosed_at = bounty.published_at
    session.commit()
    assert listed(session, wf.contributor(session, "dora")) == ["CVE-2026-0001 remediation"]
    assert listed(session, wf.ANONYMOUS) == ["CVE-2026-0001 remediation"]


def test_drafts_and_anonymous_visitors(session, pool):
    wf.draft_bounty(session, title="Draft one")
    wf.open_bounty(session, title="Open one")
    wf.claimed_bounty(session, title="Claimed one")
    cancelled = wf.open_bounty(session, title="Cancelled one")
    bounties.cancel_bounty(session, wf.admin(session), cancelled.id, "gone")
    everyone = ["Cancelled one", "Claimed one", "Open one"]
    assert sorted(listed(session, wf.ANONYMOUS)) == ["Open one"]
    assert sorted(listed(session, wf.contributor(session, "dora"))) == everyone
    assert sorted(listed(session, wf.admin(session))) == sorted(["Draft one", *everyone])
    auditor = wf.actor_of(wf.person(session, "audrey", ("auditor",)))
    assert sorted(listed(session, auditor)) == sorted(["Draft one", *everyone])
    with pytest.raises(NotFound):
        bounty_queries.get_bounty(session, wf.ANONYMOUS, cancelled.id)


def test_filters_sorts_and_pages(session, pool):
    wf.open_bounty(session, title="Alpha docs", category_code="documentation", amount="2000",
                   currency="GBP", working_group_code="WG1")
    wf.open_bounty(session, title="Beta bug 100%", amount="600", working_group_code="WG4")
    wf.open_bounty(session, title="Gamma bug", amount="4000", working_group_code="WG4",
                   description="A SPECIAL edge case")
    wf.claimed_bounty(session, title="Delta bug", amount="800")
    viewer = wf.contributor(session, "dora")
    assert listed(session, viewer, working_group="wg1") == ["Alpha docs"]
    assert listed(session, viewer, category="bug_fix", sort="title") == ["Beta bug 100%", "Delta bug",
                                                                          "Gamma bug"]
    assert listed(session, viewer, status="claimed") == ["Delta bug"]
    assert listed(session, viewer, currency="gbp") == ["Alpha docs"]
    assert listed(session, viewer, text="special") == ["Gamma bug"]
    assert listed(session, viewer, text="100%") == ["Beta bug 100%"]
    assert listed(session, viewer, text="%") == ["Beta bug 100%"]
    assert listed(session, viewer, sort="newest") == ["Delta bug", "Gamma bug", "Beta bug 100%", "Alpha docs"]
    # Amounts sort by their EUR value: GBP 2000 is EUR 2344.39.
    assert listed(session, viewer, sort="amount_desc") == ["Gamma bug", "Alpha docs", "Delta bug",
                                                           "Beta bug 100%"]
    assert listed(session, viewer, sort="amount_asc") == ["Beta bug 100%", "Delta bug", "Alpha docs",
                                                          "Gamma bug"]
    first = bounty_queries.list_bounties(session, viewer, BountyFilter(sort="title"), page=1, per_page=3)
    second = bounty_queries.list_bounties(session, viewer, BountyFilter(sort="title"), page=2, per_page=3)
    assert (first.total, first.pages, len(first.items)) == (4, 2, 3)
    assert [row.title for row in second.items] == ["Gamma bug"]
    row = next(r for r in first.items if r.title == "Alpha docs")
    assert row.amount == Money.parse("2000", "GBP") and row.eur_amount == Money.parse("2344.39", "EUR")
    assert row.working_group_code == "WG1" and row.category_name == "Documentation"
    delta = next(r for r in first.items if r.title == "Delta bug")
    assert delta.claimant_name == "Carla" and delta.status == "claimed"


@pytest.mark.parametrize(("filters", "page", "per_page", "field"), [
    ({"sort": "random"}, 1, 25, "sort"),
    ({"status": "sleeping"}, 1, 25, "status"),
    ({}, 0, 25, "page"),
    ({}, 1, 0, "per_page"),
    ({}, 1, 1000, "per_page"),
])
def test_bad_filters_are_refused_naming_the_field(session, pool, filters, page, per_page, field):
    with pytest.raises(InvalidInput) as refused:
        bounty_queries.list_bounties(session, wf.ANONYMOUS, BountyFilter(**filters), page, per_page)
    assert refused.value.field == field


def test_what_each_viewer_may_do_next(session, pool):
    draft = wf.draft_bounty(session)
    admin = wf.admin(session)
    assert bounty_queries.get_bounty(session, admin, draft.id).actions == {"edit", "publish", "cancel"}
    bounties.publish_bounty(session, admin, draft.id)
    dora = wf.contributor(session, "dora")
    assert bounty_queries.get_bounty(session, admin, draft.id).actions == {"edit", "cancel", "claim"}
    assert bounty_queries.get_bounty(session, dora, draft.id).actions == {"claim"}
    assert bounty_queries.get_bounty(session, wf.ANONYMOUS, draft.id).actions == set()
    claims.claim_bounty(session, dora, draft.id)
    assert bounty_queries.get_bounty(session, dora, draft.id).actions == {"submit"}
    eve = wf.reviewer(session, "eve", "EU")
    assert bounty_queries.get_bounty(session, eve, draft.id).actions == set()
    wf.merged_work(session, wf.MERGE_REQUEST, person_id=dora.person_id)  # approval needs it synced
    claims.submit_claim(session, dora, draft.id, [wf.MERGE_REQUEST], gitlab_base_url=wf.GITLAB)
    detail = bounty_queries.get_bounty(session, eve, draft.id)
    assert detail.actions == {"review"}
    assert [link.url for link in detail.links] == [wf.MERGE_REQUEST]
    assert detail.review_status is not None and detail.review_status.decision == "pending"
    claims.review_claim(session, eve, draft.id, "approve", "ok")
    detail = bounty_queries.get_bounty(session, eve, draft.id)
    assert detail.actions == set()
    assert [(r.reviewer_name, r.jurisdiction, r.verdict) for r in detail.reviews] == [
        ("Eve", "EU", "approve")]
    assert detail.timeline[-1].action == "claim.review"


def test_the_review_queue(session, pool):
    mine = wf.submitted_bounty(session, wf.reviewer(session, "rita", "EU"), title="Rita's work")
    other = wf.submitted_bounty(session, wf.contributor(session, "dora"), title="Dora's work")
    wf.claimed_bounty(session, wf.contributor(session, "dan"), title="Not yet submitted")
    wf.submitted_bounty(session, wf.reviewer(session, "cora", "UK", council=True), **wf.security_fix())
    rita = wf.reviewer(session, "rita", "EU")
    assert [row.title for row in bounty_queries.review_queue(session, rita)] == ["Dora's work"]
    eve = wf.reviewer(session, "eve", "EU")
    assert [row.title for row in bounty_queries.review_queue(session, eve)] == ["Rita's work", "Dora's work"]
    claims.review_claim(session, eve, other.bounty.id, "approve", "")
    assert [row.title for row in bounty_queries.review_queue(session, eve)] == ["Rita's work"]
    council = wf.reviewer(session, "carl", "CA", council=True)
    assert [row.title for row in bounty_queries.review_queue(session, council)] == [
        "Rita's work", "Dora's work", "CVE-2026-0001 remediation"]
    with pytest.raises(PermissionDenied):
        bounty_queries.review_queue(session, wf.contributor(session, "dora"))
    assert mine.bounty.id != other.bounty.id


def test_my_work(session, pool):
    dora = wf.contributor(session, "dora")
    wf.approved_bounty(session, dora, title="Paid in EUR", amount="1000")
    wf.approved_bounty(session, dora, title="Paid in GBP", amount="600", currency="GBP")
    wf.claimed_bounty(session, dora, title="Still working")
    work = my_work_queries.my_work(session, dora)
    assert [(c.bounty_title, c.status) for c in work.claims] == [
        ("Still working", "active"), ("Paid in GBP", "approved"), ("Paid in EUR", "approved")]
    assert work.earnings == {"EUR": Money.parse("1000", "EUR"), "GBP": Money.parse("600", "GBP")}
    assert sorted((line.account_code, line.amount) for line in work.ledger_lines) == [
        (f"payable:person:{dora.person_id}:EUR", Money.parse("-1000", "EUR")),
        (f"payable:person:{dora.person_id}:GBP", Money.parse("-600", "GBP")),
    ]
    assert my_work_queries.my_work(session, wf.contributor(session, "dan")).claims == []
    with pytest.raises(PermissionDenied):
        my_work_queries.my_work(session, wf.ANONYMOUS)
