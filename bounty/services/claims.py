"""Claims on bounties: claiming, submitting the work, reviewing it, and lapsing claims.

Rules chosen here (DOMAIN.md, "Bounties"):
- A claim is exclusive. The bounty's status is moved from open to claimed by a
  compare-and-set UPDATE (of simultaneous claimers exactly one changes the row; the others
  see it claimed and get AlreadyClaimed), and a partial unique index allows one live claim
  per bounty whatever happens. Anyone who may claim bounties and can see the bounty may
  claim it; embargoed security fixes are therefore claimed by those who see them.
- A claim lapses when it is not submitted within the bounty's `claim_hours`: recorded by
  `expire_claims` (`bounty claims expire`) or by the next claim of that bounty, and read
  as lapsed in the meantime. The bounty reopens.
- Security fixes run a 48-hour clock (the category's `remediation_hours`) from the claim;
  submitting the fix stops it. A claim not submitted when the clock runs out is in breach:
  `remediation_breached_at` is set to the moment the clock ran out and one audit event
  records it (by `expire_claims`, a late submission or the lapse, whichever comes first).
  The claim itself runs on to its own limit: the security council decides what follows.
- Only the claimant submits, with merge-request URLs of the cooperative's GitLab; the sync
  also submits for them when their merged work references the bounty's issue
  (`bounty.services.submissions`, which owns the submission step and the breach record).
- Reviews follow `bounty.governance.reviews`: approval needs 2 approvals from 2
  jurisdictions, none the claimant's, plus the security council for security fixes. A
  reject (which needs a comment) by any eligible reviewer rejects the claim and reopens the
  bounty; its reserve stays held for the next claim. On approval the reserve becomes a
  payable to the claimant (`reservations.consume`, docs/ledger.md "Payouts").
- An approve vote is refused (Conflict, naming the merge request and the reason) unless
  every merge request linked to the claim is synced from GitLab, merged and DCO-clean
  (`submissions.check_approvable`); a reject is always possible.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission, can
from bounty.governance.reviews import APPROVED, REJECTED, VERDICTS, ReviewVote, review_outcome
from bounty.ledger import Money
from bounty.models import Bounty, BountyCategory, Claim, Person, Review, utcnow
from bounty.services import audit, badges, bounty_queries, reservations, submissions
from bounty.services.actors import Actor
from bounty.services.bounties import lock_bounty
from bounty.services.errors import AlreadyClaimed, Conflict, InvalidInput, NotFound, PermissionDenied

DEFAULT_GITLAB_URL = "https://gitlab.example.org"
MAX_LINKS = 10
MAX_COMMENT = 5000
TAKEN = ("claimed", "submitted", "approved", "paid")
_MERGE_REQUEST_PATH = re.compile(r"^/[^?#]+/-/merge_requests/[1-9][0-9]*/?$")


def _signed_in(actor: Actor) -> int:
    if actor.person_id is None:
        raise PermissionDenied("sign in first")
    return actor.person_id


def _visible_or_404(session: Session, actor: Actor, bounty_id: int, now: datetime) -> None:
    if not bounty_queries.can_view(session, actor, bounty_id, now=now):
        raise NotFound(f"no bounty {bounty_id}")


def _lapse(session: Session, actor: Actor, bounty: Bounty, claim: Claim, now: datetime) -> None:
    submissions.record_breach(session, actor, bounty, claim, now)
    claim.status, claim.decided_at = "lapsed", claim.expires_at
    if bounty.status == "claimed":
        bounty.status = "open"
    session.flush()
    audit.record(session, actor, "claim.lapse", "bounty", bounty.id,
                 {"claim": claim.id, "person": claim.person_id, "expired_at": claim.expires_at})


def _live_claim(session: Session, bounty_id: int) -> Claim | None:
    return session.execute(
        select(Claim).where(Claim.bounty_id == bounty_id, Claim.status.in_(("active", "submitted")))
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


def claim_bounty(session: Session, actor: Actor, bounty_id: int, *, now: datetime | None = None) -> Claim:
    """Claim an open bounty for the acting person (commits).

    Raises AlreadyClaimed when someone holds it, Conflict when it is not open, NotFound when
    the actor may not see it.
    """
    actor.require(Permission.CLAIM_BOUNTY)
    person_id = _signed_in(actor)
    now = now or utcnow()
    try:
        _visible_or_404(session, actor, bounty_id, now)
        bounty = session.get(Bounty, bounty_id, populate_existing=True)
        assert bounty is not None
        if bounty.status == "claimed":
            # Only a claim past its limit can free the bounty: record the lapse first.
            bounty = lock_bounty(session, bounty_id)
            held = _live_claim(session, bounty_id)
            if held is not None and held.status == "active" and held.expires_at <= now:
                _lapse(session, actor, bounty, held, now)
        # Compare-and-set: of concurrent claimers exactly one moves the row from open.
        won = session.execute(
            update(Bounty).where(Bounty.id == bounty_id, Bounty.status == "open")
            .values(status="claimed").execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            status = session.execute(select(Bounty.status).where(Bounty.id == bounty_id)).scalar_one()
            if status in TAKEN:
                raise AlreadyClaimed()
            raise Conflict(f"a {status} bounty cannot be claimed")
        bounty = session.get(Bounty, bounty_id, populate_existing=True)
        assert bounty is not None
        category = session.get(BountyCategory, bounty.category_id)
        assert category is not None
        claim = Claim(
            bounty_id=bounty_id, person_id=person_id, status="active", claimed_at=now,
            expires_at=now + timedelta(hours=bounty.claim_hours),
            remediation_due_at=(now + timedelta(hours=category.remediation_hours)
                                if category.remediation_hours else None),
        )
        session.add(claim)
        session.flush()
        audit.record(session, actor, "claim.create", "bounty", bounty_id,
                     {"claim": claim.id, "person": person_id, "expires_at": claim.expires_at,
                      "remediation_due_at": claim.remediation_due_at})
        session.commit()
        return claim
    except IntegrityError:
        session.rollback()
        raise AlreadyClaimed() from None
    except BaseException:
        session.rollback()
        raise


def check_merge_request_urls(urls: list[str], gitlab_base_url: str) -> list[str]:
    """The URLs, trimmed and without repeats, when each is a merge request on the GitLab at
    `gitlab_base_url` (http or https, that host and port, under its path)."""
    base = urlsplit(gitlab_base_url.rstrip("/"))
    cleaned: list[str] = []
    for raw in urls:
        url = (raw or "").strip()
        if not url:
            continue
        parts = urlsplit(url)
        if (parts.scheme not in ("http", "https") or parts.hostname != base.hostname
                or parts.port != base.port or len(url) > 500):
            raise InvalidInput("merge_request_urls",
                               f"{url!r} is not a link to the cooperative's GitLab ({gitlab_base_url})")
        path = parts.path
        if base.path and not path.startswith(base.path + "/"):
            raise InvalidInput("merge_request_urls", f"{url!r} is not under {gitlab_base_url}")
        if not _MERGE_REQUEST_PATH.match(path[len(base.path):]):
            raise InvalidInput("merge_request_urls",
                               f"{url!r} is not a merge request (…/group/project/-/merge_requests/42)")
        if url not in cleaned:
            cleaned.append(url)
    if not cleaned:
        raise InvalidInput("merge_request_urls", "link at least one merge request")
    if len(cleaned) > MAX_LINKS:
        raise InvalidInput("merge_request_urls", f"at most {MAX_LINKS} merge requests")
    return cleaned


def submit_claim(session: Session, actor: Actor, bounty_id: int, merge_request_urls: list[str], *,
                 gitlab_base_url: str = DEFAULT_GITLAB_URL, now: datetime | None = None) -> Claim:
    """The claimant submits the work: merge-request links of the GitLab (commits)."""
    actor.require(Permission.CLAIM_BOUNTY)
    person_id = _signed_in(actor)
    now = now or utcnow()
    try:
        _visible_or_404(session, actor, bounty_id, now)
        urls = check_merge_request_urls(list(merge_request_urls), gitlab_base_url)
        bounty = lock_bounty(session, bounty_id)
        claim = _live_claim(session, bounty_id)
        if claim is None or (claim.status == "active" and claim.expires_at <= now):
            raise Conflict("there is no active claim on this bounty")
        if claim.person_id != person_id:
            raise PermissionDenied("only the claimant submits work for this bounty")
        if claim.status != "active":
            raise Conflict("the work for this claim was already submitted")
        submissions.mark_submitted(session, actor, bounty, claim, urls, now)
        session.commit()
        return claim
    except BaseException:
        session.rollback()
        raise


def review_claim(session: Session, actor: Actor, bounty_id: int, verdict: str, comment: str, *,
                 now: datetime | None = None) -> Review:
    """Record a reviewer's verdict on the submitted claim, and decide when the rule is met (commits)."""
    actor.require(Permission.REVIEW_WORK)
    reviewer_id = _signed_in(actor)
    now = now or utcnow()
    verdict = (verdict or "").strip().lower()
    comment = (comment or "").strip()
    try:
        if verdict not in VERDICTS:
            raise InvalidInput("verdict", f"must be one of {', '.join(VERDICTS)}")
        if verdict == "reject" and not comment:
            raise InvalidInput("comment", "say why the work is rejected")
        if len(comment) > MAX_COMMENT:
            raise InvalidInput("comment", f"at most {MAX_COMMENT} characters")
        _visible_or_404(session, actor, bounty_id, now)
        bounty = lock_bounty(session, bounty_id)
        claim = _live_claim(session, bounty_id)
        if claim is None or claim.status != "submitted":
            raise Conflict("there is no submitted work to review on this bounty")
        if claim.person_id == reviewer_id:
            raise PermissionDenied("nobody reviews their own claim")
        if any(review.reviewer_id == reviewer_id for review in claim.reviews):
            raise Conflict("you have already reviewed this claim")
        if verdict == "approve":
            # The vote itself is refused, not only the decisive one: an approval recorded
            # before the merged work is clean would approve work nobody saw clean.
            submissions.check_approvable(session, claim)
        reviewer = session.get(Person, reviewer_id)
        if reviewer is None or reviewer.jurisdiction_code is None:
            raise PermissionDenied("a reviewer needs a jurisdiction on record")
        review = Review(claim_id=claim.id, reviewer_id=reviewer_id, verdict=verdict, comment=comment,
                        reviewer_jurisdiction_code=reviewer.jurisdiction_code,
                        is_security_council=can(actor.roles, Permission.APPROVE_SECURITY_FIX))
        session.add(review)
        session.flush()
        session.refresh(claim, ["reviews"])
        audit.record(session, actor, "claim.review", "bounty", bounty_id,
                     {"claim": claim.id, "verdict": verdict, "comment": comment,
                      "jurisdiction": review.reviewer_jurisdiction_code,
                      "security_council": review.is_security_council})
        _decide(session, actor, bounty, claim, now)
        # The review counts for the reviewer; an approval for the claimant.
        badges.award_badges_now(session, {reviewer_id, claim.person_id}, badges.CLAIM_METRICS)
        session.commit()
        return review
    except IntegrityError:
        session.rollback()
        raise Conflict("you have already reviewed this claim") from None
    except BaseException:
        session.rollback()
        raise


def _decide(session: Session, actor: Actor, bounty: Bounty, claim: Claim, now: datetime) -> None:
    category = session.get(BountyCategory, bounty.category_id)
    assert category is not None
    outcome = review_outcome(
        [ReviewVote(r.reviewer_id, r.reviewer_jurisdiction_code, r.verdict,
                                   r.is_security_council) for r in claim.reviews],
        claim.person_id, bounty_queries.is_security_fix(category),
    )
    if outcome.decision == REJECTED:
        claim.status, claim.decided_at = "rejected", now
        bounty.status = "open"
        session.flush()
        audit.record(session, actor, "claim.reject", "bounty", bounty.id,
                     {"claim": claim.id, "reasons": outcome.reasons})
    elif outcome.decision == APPROVED:
        held = reservations.held_for(session, "bounty", bounty.id)
        if held is None:
            raise Conflict("the bounty holds no reservation to pay from")
        claim.status, claim.decided_at = "approved", now
        bounty.status = "approved"
        session.flush()
        posted = reservations.consume(
            session, actor, held, claim.person_id, Money(bounty.amount_minor, bounty.currency),
            f"approve:claim:{claim.id}", f"bounty {bounty.id} approved: {bounty.title}"[:500],
        )
        audit.record(session, actor, "claim.approve", "bounty", bounty.id,
                     {"claim": claim.id, "reasons": outcome.reasons, "transaction": posted.transaction_id,
                      "payable": str(Money(bounty.amount_minor, bounty.currency))})


def expire_claims(session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Lapse active claims past their limit and record security-fix clock breaches (commits).

    Returns how many claims lapsed; their bounties reopen.
    """
    actor.require(Permission.MANAGE_BOUNTIES)
    now = now or utcnow()
    try:
        due = session.execute(
            select(Claim.bounty_id).where(
                Claim.status == "active",
                (Claim.expires_at <= now)
                | ((Claim.remediation_due_at <= now) & Claim.remediation_breached_at.is_(None)),
            ).order_by(Claim.bounty_id)
        ).scalars().all()
        lapsed = 0
        for bounty_id in dict.fromkeys(due):
            # Bounty first, then its claim: the order every writer locks them in.
            bounty = lock_bounty(session, bounty_id)
            claim = _live_claim(session, bounty_id)
            if claim is None or claim.status != "active":
                continue
            if claim.expires_at <= now:
                _lapse(session, actor, bounty, claim, now)
                lapsed += 1
            else:
                submissions.record_breach(session, actor, bounty, claim, now)
        session.commit()
        return lapsed
    except BaseException:
        session.rollback()
        raise
