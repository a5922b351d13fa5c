"""A bounty's page: its facts, safe description, claim, submitted work, timeline; who sees it."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from bounty.services import submissions
from tests import workflow_factories as wf
from tests.web.test_bounty_board import demo_app, demo_person, settle, signed_in

__all__ = ["demo_app"]  # the fixture, shared with the board's tests


def test_the_page_shows_the_facts_and_the_timeline(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session, title="Fix VPC health checks", description="Custom **ports**.",
                            gitlab_project_path="cloudstack/cloudstack", gitlab_issue_iid=9001,
                            capability_slug="load-balancers")
    settle(session)

    response = demo_app.test_client().get(f"/bounties/{bounty.id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Fix VPC health checks</h1>" in html
    assert '<span class="badge status-open">Open</span>' in html
    assert "<p>Custom <strong>ports</strong>.</p>" in html
    assert "<dd>Bug fix</dd>" in html
    assert "£500.00 to £5,000.00" in html  # the band
    assert "€1,000.00" in html
    assert "WG4 Networking" in html
    assert "<dd>Load balancers</dd>" in html
    assert ('<a href="https://gitlab.example.org/cloudstack/cloudstack/-/issues/9001" '
            'rel="nofollow noopener">cloudstack/cloudstack#9001</a>') in html
    assert "Nobody holds a claim on this bounty." in html
    timeline = html[html.index('id="timeline"'):]
    assert timeline.index("Created as a draft") < timeline.index("Published") < timeline.index(
        "Amount reserved in the pool")
    # The admin has not agreed to be named in public: visitors read who did it as anonymous.
    assert "by Anonymous contributor" in timeline and "by Admin" not in timeline
    assert re.search(r'<time datetime="[0-9T:.+-]+">[A-Z][a-z]{2} \d+, \d{4}, [0-9:]+\s[AP]M UTC</time>',
                     timeline)
    # Anonymous visitors get no forms, only the facts.
    assert "What you can do" not in html


def test_submitted_work_shows_links_dco_status_and_claim(demo_app: Flask, session: Session) -> None:
    work = wf.submitted_bounty(session, title="Submitted fix")
    settle(session)
    viewer = signed_in(demo_app, demo_person(session, "dora"))

    html = viewer.get(f"/bounties/{work.bounty.id}").get_data(as_text=True)

    assert '<span class="badge status-submitted">Submitted</span>' in html
    assert "<dd>Carla</dd>" in html  # the claimant
    assert f'<a href="{wf.MERGE_REQUEST}" rel="nofollow noopener">cloudstack/cloudstack!101</a>' in html
    assert '<span class="mr-title">Fix the health checks</span>' in html
    assert '<span class="badge dco-signed">signed off</span>' in html
    assert "dco-failures" not in html and "approval-blocked" not in html
    assert "Work submitted" in html and "by Carla" in html
    assert "No review yet." in html


def test_the_review_page_shows_failing_commits_and_unsynced_work(demo_app: Flask, session: Session) -> None:
    failing_url = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/102"
    unsynced_url = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/103"
    reason = 'Expected "Carla <carla@example.org>", but got "Carla <c@example.org>".'
    failing = wf.merged_work(session, failing_url, dco_ok=False, title="Tidy the probe",
                             failing_reasons=(wf.MISSING_SIGN_OFF, reason))
    work = wf.submitted_bounty(session, title="Checked fix", urls=[failing_url, unsynced_url], synced=False)
    shas = [c.sha for c in failing.commits if not c.is_dco_ok]
    settle(session)
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer"), "UK"))

    html = reviewer.get(f"/bounties/{work.bounty.id}").get_data(as_text=True)

    work_section = html[html.index('id="work"'):html.index('id="reviews"')]
    assert '<span class="badge dco-unsigned">not signed off</span>' in work_section
    assert f'<li><code title="{shas[0]}">{shas[0][:8]}</code> The sign-off is missing.</li>' in work_section
    assert f"<code title=\"{shas[1]}\">{shas[1][:8]}</code> Expected &#34;Carla" in work_section
    assert f'<a href="{unsynced_url}" rel="nofollow noopener">{unsynced_url}</a>' in work_section
    assert "not yet synced from GitLab" in work_section
    assert '<span class="badge dco-not-yet-checked">not yet checked</span>' in work_section
    assert "An approval is refused until every merge request is merged and DCO-clean:" in work_section
    assert (f"Merge request cloudstack/cloudstack!102 fails the DCO check: commit {shas[0][:8]}: "
            "The sign-off is missing. (and 1 more failing commit)") in work_section
    assert f"Merge request {unsynced_url} is not yet synced from GitLab." in work_section
    assert "Review the work" in html  # a reject is still possible


def test_the_timeline_says_when_gitlab_submitted_the_work(demo_app: Flask, session: Session) -> None:
    work = wf.claimed_bounty(session, title="Synced fix", gitlab_project_path="cloudstack/cloudstack",
                             gitlab_issue_iid=9001)
    merge_request = wf.merged_work(session, person_id=work.claimant.person_id, description="Closes #9001")
    submissions.attach_merged_work(session, merge_request)
    settle(session)
    viewer = signed_in(demo_app, demo_person(session, "dora"))

    html = viewer.get(f"/bounties/{work.bounty.id}").get_data(as_text=True)

    timeline = html[html.index('id="timeline"'):]
    assert "Work submitted" in timeline and "(from GitLab: cloudstack/cloudstack!101)" in timeline
    assert '<span class="badge status-submitted">Submitted</span>' in html


def test_a_security_fix_shows_its_clock(demo_app: Flask, session: Session) -> None:
    council = demo_person(session, "sec", ("contributor", "security-council"), "UK")
    work = wf.claimed_bounty(session, wf.actor_of(council), **_security())
    settle(session)

    html = signed_in(demo_app, council).get(f"/bounties/{work.bounty.id}").get_data(as_text=True)

    assert "Security-fix clock" in html
    assert '<span class="badge clock-due">Due</span>' in html
    assert "Embargoed" in html


def _security() -> dict[str, object]:
    return {"title": "CVE-2026-0001 remediation", "category_code": "critical_security_fix",
            "amount": "10000", "currency": "GBP", "working_group_code": "WG5"}


def test_embargoed_bounty_is_404_for_contributors_and_visitors(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session, **_security())
    settle(session)
    contributor = signed_in(demo_app, demo_person(session, "dora"))
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer")))
    council = signed_in(demo_app, demo_person(session, "sec", ("contributor", "security-council"), "UK"))

    for client in (demo_app.test_client(), contributor, reviewer):
        response = client.get(f"/bounties/{bounty.id}")
        assert response.status_code == 404
        assert "CVE-2026-0001" not in response.get_data(as_text=True)
    seen = council.get(f"/bounties/{bounty.id}")
    assert seen.status_code == 200
    assert "<h1>CVE-2026-0001 remediation</h1>" in seen.get_data(as_text=True)


def test_drafts_and_unknown_bounties_are_404(demo_app: Flask, session: Session) -> None:
    draft = wf.draft_bounty(session, title="Secret plan")
    settle(session)
    contributor = signed_in(demo_app, demo_person(session, "dora"))

    assert contributor.get(f"/bounties/{draft.id}").status_code == 404
    assert demo_app.test_client().get(f"/bounties/{draft.id}").status_code == 404
    assert contributor.get("/bounties/999999").status_code == 404


def test_scripts_and_javascript_links_in_a_description_are_neutralised(demo_app: Flask,
                                                                        session: Session) -> None:
    description = ("# Steps\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1)) "
                   "<a href=\"javascript:alert(2)\">raw</a> <img src=x onerror=alert(3)>\n\n"
                   "[docs](https://docs.cloudstack.apache.org/)")
    bounty = wf.open_bounty(session, description=description)
    settle(session)

    html = demo_app.test_client().get(f"/bounties/{bounty.id}").get_data(as_text=True)
    body = html[html.index('<div class="markdown">'):html.index('id="claim"')]

    assert "<script>" not in html
    assert "&lt;script&gt;" in body  # shown as text, never run
    assert not re.search(r"<a [^>]*javascript", html, re.IGNORECASE)  # no link runs code
    assert "[click](javascript:alert(1))" in body  # the refused link stays as plain text
    assert "&lt;a href=" in body and "&lt;img" in body  # raw HTML is shown, not rendered
    assert "<img" not in html
    assert '<a href="https://docs.cloudstack.apache.org/" rel="nofollow noopener">docs</a>' in body
    assert "<h3>Steps</h3>" in body  # the description's headings sit under the page's h2


def test_the_page_in_french(demo_app: Flask, session: Session) -> None:
    work = wf.submitted_bounty(session, title="Correctif", amount="1234.5")
    settle(session)
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer"), "UK"))

    response = reviewer.get(f"/bounties/{work.bounty.id}?lang=fr")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "1\u202f234,50\xa0€" in html
    assert "Chronologie" in html
    assert "Correction de bogue" in html
    assert '<span class="badge dco-signed">signé</span>' in html
    assert "Examiner le travail" in html
    assert re.search(r"<time datetime=\"[^\"]+\">\d+ nov\. 2026", html)
