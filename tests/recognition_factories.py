"""Builders for recognition tests (leaderboards, badges, awards, the annual report): people
with a jurisdiction, organisation and consent, merged merge requests, hours entries, approved
bounties, clawed-back payouts, signed-off tranches and score weights, each at a given time.

Merged merge requests and hours entries are written as rows (as the GitLab sync and an
approved hours review leave them), so a test sets every field a count depends on. Bounties,
claw-backs and sign-offs go through the services with `now` set to the time asked for, so
they carry their reservation, ledger lines and audit events; the few timestamps those
services take from the clock (a review's `created_at`) are then set to that time too.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bounty.models import (
    AwardCategory,
    AwardRound,
    Claim,
    Grant,
    HoursEntry,
    MergeRequest,
    MergeRequestCommit,
    Nomination,
    Organisation,
    PayoutItem,
    Person,
    Review,
    ScoreWeight,
    Tranche,
    Vote,
    WorkingGroup,
    WorkingGroupProject,
)
from bounty.services import claims, grants, payouts
from bounty.services.actors import Actor
from bounty.services.grants import GrantInput, TrancheInput
from tests import payout_factories as pf
from tests import workflow_factories as wf

# The weights of seed/scoring.toml, as strings (ScoreWeight.weight is Numeric).
DEFAULT_WEIGHTS = {"merged_mrs": "10", "earnings_eur": "0.01", "approved_hours": "1",
                   "reviews_given": "3", "awards_won": "100"}
PROJECT = "recognition/widget"
_IIDS = itertools.count(1)


def at(year: int, month: int = 1, day: int = 1, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """A UTC moment (noon by default)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def person(session: Session, username: str, *, jurisdiction: str | None = "EU",
           organisation: Organisation | None = None, public: bool = False,
           roles: Iterable[str] = ("contributor",), display_name: str | None = None) -> Person:
    """The person `username` (made when missing) with that organisation and consent flag set
    directly (no consent history: use `listing_consent` for that)."""
    found = wf.person(session, username, tuple(roles), jurisdiction, display_name)
    if organisation is not None:
        found.organisation_id = organisation.id
    if public != found.is_public_listing:
        found.is_public_listing, found.public_listing_changed_at = public, datetime.now(UTC)
    session.commit()
    return found


def organisation(session: Session, name: str = "Acme Cloud GmbH", jurisdiction: str = "EU") -> Organisation:
    return pf.organisation(session, name, jurisdiction)


def weights(session: Session, **values: str | int | Decimal) -> dict[str, Decimal]:
    """Store score weights (upsert): DEFAULT_WEIGHTS overridden by `values`. Returns them."""
    wanted = {**DEFAULT_WEIGHTS, **{k: str(v) for k, v in values.items()}}
    stored = {w.metric: w for w in session.execute(select(ScoreWeight)).scalars()}
    for metric, weight in wanted.items():
        if metric in stored:
            stored[metric].weight = Decimal(weight)
        else:
            session.add(ScoreWeight(metric=metric, weight=Decimal(weight)))
    session.commit()
    return {metric: Decimal(weight) for metric, weight in wanted.items()}


def merged_mr(session: Session, person_id: int | None, merged_at: datetime, *, dco_ok: bool | None = True,
              project_path: str = PROJECT, iid: int | None = None, title: str = "Fix a bug",
              web_url: str | None = None) -> MergeRequest:
    """A merged merge request as the sync stores it, credited to `person_id` (None: its
    author is not linked yet), with one commit whose DCO verdict is `dco_ok` (commits)."""
    number = iid if iid is not None else next(_IIDS)
    merge_request = MergeRequest(
        gitlab_project_id=zlib.crc32(project_path.encode()) & 0x7FFFFFFF, project_path=project_path,
        iid=number, title=title, description="",
        web_url=web_url or f"{wf.GITLAB}/{project_path}/-/merge_requests/{number}",
        author_username=f"author{person_id}", person_id=person_id, merged_at=merged_at,
        gitlab_updated_at=merged_at, is_dco_ok=dco_ok, synced_at=merged_at)
    session.add(merge_request)
    session.flush()
    sha = f"{merge_request.id:08x}" + "c" * 32
    sign_off = "\n\nSigned-off-by: Author <author@example.org>" if dco_ok else ""
    session.add(MergeRequestCommit(
        merge_request_id=merge_request.id, position=0, sha=sha, author_name="Author",
        author_email="author@example.org", message=title + sign_off, authored_at=merged_at,
        is_dco_ok=bool(dco_ok), dco_reason="" if dco_ok else "The sign-off is missing."))
    merge_request.head_sha = sha
    session.commit()
    return merge_request


def group(session: Session, code: str) -> WorkingGroup:
    return session.execute(select(WorkingGroup).where(WorkingGroup.code == code)).scalar_one()


def group_project(session: Session, working_group_code: str, project_path: str) -> WorkingGroupProject:
    """Make `project_path`'s merged work count for the working group (made when missing)."""
    found = session.execute(select(WorkingGroupProject).where(
        WorkingGroupProject.project_path == project_path)).scalar_one_or_none()
    if found is None:
        found = WorkingGroupProject(working_group_id=group(session, working_group_code).id,
                                    project_path=project_path)
        session.add(found)
        session.commit()
    return found


def hours(session: Session, person_id: int, worked_on: date, *, quarter_hours: int = 8,
          status: str = "approved", activity: str = "code", working_group_code: str = "WG1",
          reviewer_id: int | None = None, reviewed_at: datetime | None = None) -> HoursEntry:
    """An hours entry as logging and reviewing leave it (commits). A decided entry (approved
    or rejected) is reviewed by `reviewer_id` at `reviewed_at` (default: noon the day after)."""
    decided = status != "pending"
    noon_after = datetime(worked_on.year, worked_on.month, worked_on.day, 12, tzinfo=UTC) + timedelta(days=1)
    entry = HoursEntry(
        person_id=person_id, worked_on=worked_on, quarter_hours=quarter_hours, activity=activity,
        working_group_id=group(session, working_group_code).id, description="Work", status=status,
        reviewer_id=reviewer_id if decided else None,
        reviewed_at=(reviewed_at or noon_after) if decided else None,
        review_comment="Not programme work." if status == "rejected" else "")
    session.add(entry)
    session.commit()
    return entry


def approved_bounty(session: Session, claimant: Actor, approved_at: datetime, *, amount: str = "1000",
                    currency: str = "EUR", category_code: str = "bug_fix", working_group_code: str = "WG4",
                    reviewers: tuple[Actor, Actor] | None = None, credit_merge_request: bool = False,
                    title: str | None = None) -> wf.Work:
    """A bounty claimed by `claimant` and approved at `approved_at` (claimed two hours and
    submitted one hour before) by two reviewers of the EU and the UK (the EU one on the security
    council for a security fix); its reviews are dated `approved_at` too. The merge request
    submitted is merged and DCO-clean, and credited to nobody unless `credit_merge_request`."""
    wf.reference(session)
    security = category_code == "critical_security_fix"
    if reviewers is None:
        reviewers = (wf.reviewer(session, "rev.council" if security else "rev.eu", "EU", council=security),
                     wf.reviewer(session, "rev.uk", "UK"))
    bounty = wf.open_bounty(session, title=title or f"Bounty {next(_IIDS)}", amount=amount, currency=currency,
                            category_code=category_code, working_group_code=working_group_code)
    claims.claim_bounty(session, claimant, bounty.id, now=approved_at - timedelta(hours=2))
    merge_request = merged_mr(session, claimant.person_id if credit_merge_request else None,
                              approved_at - timedelta(hours=3), project_path="recognition/bounties")
    claims.submit_claim(session, claimant, bounty.id, [merge_request.web_url], gitlab_base_url=wf.GITLAB,
                        now=approved_at - timedelta(hours=1))
    for reviewer in reviewers:
        claims.review_claim(session, reviewer, bounty.id, "approve", "Looks good.", now=approved_at)
    claim = session.execute(select(Claim).where(Claim.bounty_id == bounty.id, Claim.status == "approved")
                            ).scalar_one()
    session.execute(update(Review).where(Review.claim_id == claim.id).values(created_at=approved_at))
    session.commit()
    session.refresh(bounty)
    return wf.Work(bounty, claim, claimant)


def clawed_back(session: Session, work: wf.Work, reason: str = "the fix was reverted") -> PayoutItem:
    """Pay everything payable in one batch, then claw back the payment of `work`'s claim."""
    finance = pf.finance(session)
    batch = payouts.create_batch(session, finance)
    view = payouts.get_batch(session, finance, batch.id)
    payouts.import_confirmation(session, finance, batch.id, pf.confirmation_csv(view))
    item = session.execute(select(PayoutItem).where(
        PayoutItem.kind == "bounty", PayoutItem.subject_id == work.claim.id, PayoutItem.is_live.is_(True))
    ).scalar_one()
    return payouts.claw_back(session, finance, item.id, reason)


def signed_off_tranche(session: Session, signer: Actor, signed_at: datetime, *, grantee: Person,
                       working_group_code: str | None = None, amount: str = "5000") -> Tranche:
    """A one-tranche EUR grant to `grantee`, its milestone signed off by `signer` at `signed_at`."""
    wf.reference(session)
    grant: Grant = grants.create_grant(session, wf.admin(session), GrantInput(
        title=f"Grant {next(_IIDS)}", total=amount, currency="EUR",
        tranches=[TrancheInput("Milestone 1", datetime.now(UTC).date() + timedelta(days=30), amount)],
        grantee_person_id=grantee.id, working_group_code=working_group_code))
    return grants.sign_off_tranche(session, signer, grant.id, 1, now=signed_at)


def award_category(session: Session, code: str = "test_award", *, decision_rule: str = "lazy_majority",
                   for_organisations: bool = False) -> AwardCategory:
    """An award category (made when missing; eligibility "active")."""
    found = session.execute(select(AwardCategory).where(AwardCategory.code == code)).scalar_one_or_none()
    if found is None:
        found = AwardCategory(code=code, name=code.replace("_", " ").title(), decision_rule=decision_rule,
                              eligibility_rule="organisation" if for_organisations else "active",
                              is_for_organisations=for_organisations, position=99)
        session.add(found)
        session.commit()
    return found


def award_win(session: Session, winner: Person, year: int, decided_at: datetime, *,
              category_code: str = "test_award") -> Nomination:
    """`winner` wins `category_code` in the round of `year`, whose vote closed at `decided_at`
    (in the past for the win to count): the round, a nomination and three binding +1 votes
    written as the awards services leave them (commits)."""
    category = award_category(session, category_code)
    award_round = session.execute(select(AwardRound).where(AwardRound.year == year)).scalar_one_or_none()
    if award_round is None:
        opened = decided_at - timedelta(days=20)
        award_round = AwardRound(year=year, nominations_open_at=opened,
                                 nominations_close_at=opened + timedelta(days=10),
                                 voting_opens_at=opened + timedelta(days=10), voting_closes_at=decided_at)
        session.add(award_round)
        session.flush()
    nominator = wf.person(session, "award.nominator", ("contributor",), "EU")
    nomination = Nomination(round_id=award_round.id, category_id=category.id, nominee_person_id=winner.id,
                            nominator_id=nominator.id, citation="For outstanding work all year long " * 3)
    session.add(nomination)
    session.flush()
    for number in range(3):
        voter = wf.person(session, f"award.committee{number}", ("contributor", "awards-committee"), "UK")
        session.add(Vote(nomination_id=nomination.id, voter_id=voter.id, value="+1", is_binding=True,
                         cast_at=decided_at - timedelta(days=1)))
    session.commit()
    return nomination
