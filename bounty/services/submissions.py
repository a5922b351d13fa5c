"""Bounty submissions: moving a claim to submitted, from the claimant's merge-request links or
from merged work synced from GitLab, and what the linked merge requests say at review.

Rules chosen here (issue 4, "Bounty submissions"; docs/bounties.md):
- Submitting (`mark_submitted`, used by `claims.submit_claim` and by the sync) links the
  merge requests, moves the claim and the bounty to submitted, and stops a security fix's
  remediation clock, recording a breach first when the clock had already run out. Each
  link is resolved to the synced MergeRequest of the same URL when there is one; a link
  whose merge request arrives later is resolved by that later sync.
- From GitLab (`attach_merged_work`, called by the sync inside its transaction, after the
  merge request was credited to a person): a merged, DCO-clean merge request credited to
  a person attaches to every bounty whose GitLab issue it references (`Closes #N`,
  `Fixes #N`, `Relates to #N`, ... see `bounty.gitlab.references`) when that person holds
  the bounty's live claim. An active claim not past its limit is submitted, by the system,
  with the audit event saying it came from GitLab; a claim already submitted gets the
  extra link and keeps its state. Nothing attaches to a lapsed claim, to someone else's
  claim, or from a merge request that fails the DCO or was not checked (it counts toward
  nothing: attaching it would submit work that can never be approved). A merge request
  already linked to an earlier claim of the bounty (a rejected one) is not brought back.
  Embargoed security fixes follow the same rules; the events stay on the bounty's own
  timeline. Running it again changes nothing.
- The approval gate (`check_approvable`): an approval is refused unless every linked
  merge request is synced from GitLab, merged and DCO-clean; the refusal names the merge
  request and the reason (the failing commit and the DCO reason text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bounty.gitlab.references import (
    MAX_IID,
    IssueRef,
    gitlab_url_of,
    issue_references,
    merge_request_reference,
)
from bounty.models import Bounty, Claim, ClaimLink, MergeRequest, MergeRequestCommit, utcnow
from bounty.services import audit
from bounty.services.actors import SYSTEM, Actor
from bounty.services.bounties import lock_bounty
from bounty.services.errors import Conflict

DCO_NOT_CHECKED = "not yet checked"
DCO_SIGNED = "signed"
DCO_UNSIGNED = "unsigned"
# At most this many issue references of one merge request are looked up.
MAX_REFERENCES = 50
SHORT_SHA = 8
_MERGE_REQUEST_PATH = re.compile(r"^(?P<path>/.+?)/-/merge_requests/(?P<iid>[1-9][0-9]{0,9})/?$")


@dataclass(frozen=True)
class FailingCommit:
    """A commit that fails the DCO check, with the reason text a contributor can act on."""

    sha: str
    reason: str

    @property
    def short_sha(self) -> str:
        return self.sha[:SHORT_SHA]


@dataclass(frozen=True)
class LinkedWork:
    """A merge request linked to a claim, with what the synced merged work says of it.

    `problem` is why it blocks an approval, None when it does not: "unsynced" (never seen
    in a sync), "unmerged", "unchecked" (no DCO verdict yet) or "dco" (a commit fails).
    """

    url: str
    reference: str | None
    title: str | None
    author: str | None
    merged_at: datetime | None
    dco_status: str
    failing_commits: tuple[FailingCommit, ...]
    problem: str | None

    @property
    def name(self) -> str:
        """How a refusal names the merge request: `group/project!12`, or its URL when unsynced."""
        return self.reference or self.url

    @property
    def problem_text(self) -> str | None:
        """The problem in English, as a service refusal states it."""
        if self.problem is None:
            return None
        if self.problem == "dco":
            text = f"merge request {self.name} fails the DCO check"
            if self.failing_commits:
                first = self.failing_commits[0]
                text += f": commit {first.short_sha}: {first.reason}"
                more = len(self.failing_commits) - 1
                text += f" (and {more} more failing commit{'s' if more > 1 else ''})" if more else ""
            return text
        return f"merge request {self.name} " + {
            "unsynced": "is not yet synced from GitLab",
            "unmerged": "is not merged",
            "unchecked": "has not been checked for the DCO yet",
        }[self.problem]


class MergeRequestNotReady(Conflict):
    """An approval refused because a linked merge request is not merged, DCO-clean work."""

    def __init__(self, work: LinkedWork) -> None:
        super().__init__(work.problem_text or "")
        self.work = work


def merge_request_at(session: Session, url: str) -> MergeRequest | None:
    """The synced merge request `url` names: the one with that `web_url`, else the one whose
    project path and number end the URL's path (scheme, host and letter case aside)."""
    url = url.strip()
    found = session.execute(
        select(MergeRequest).where(MergeRequest.web_url.in_({url, url.rstrip("/")}))
        .order_by(MergeRequest.id).limit(1)
    ).scalar_one_or_none()
    if found is not None:
        return found
    match = _MERGE_REQUEST_PATH.search(urlsplit(url).path)
    if match is None or int(match.group("iid")) > MAX_IID:
        return None
    # "/base/group/project" may be the project "group/project" of a GitLab under "/base".
    segments = match.group("path").strip("/").lower().split("/")
    paths = ["/".join(segments[start:]) for start in range(len(segments) - 1)]
    return session.execute(
        select(MergeRequest).where(func.lower(MergeRequest.project_path).in_(paths),
                                   MergeRequest.iid == int(match.group("iid")))
        .order_by(func.length(MergeRequest.project_path).desc(), MergeRequest.id).limit(1)
    ).scalar_one_or_none()


def record_breach(session: Session, actor: Actor, bounty: Bounty, claim: Claim, now: datetime) -> None:
    """Record once that an unsubmitted claim ran past its remediation clock (flushes)."""
    due = claim.remediation_due_at
    if (due is None or claim.remediation_breached_at is not None or claim.status != "active"
            or due > now):
        return
    claim.remediation_breached_at = due
    session.flush()
    audit.record(session, actor, "claim.remediation_breach", "bounty", bounty.id,
                 {"claim": claim.id, "person": claim.person_id, "due_at": due})


def mark_submitted(session: Session, actor: Actor, bounty: Bounty, claim: Claim, urls: list[str],
                   now: datetime, *, details: dict[str, Any] | None = None) -> None:
    """Submit the active `claim` with the merge requests at `urls` (flushes; the caller holds
    the bounty's lock and checked who may submit). `details` go into the audit summary."""
    record_breach(session, actor, bounty, claim, now)
    for url in urls:
        found = merge_request_at(session, url)
        session.add(ClaimLink(claim_id=claim.id, url=url, merge_request_id=found.id if found else None))
    claim.status, claim.submitted_at = "submitted", now
    bounty.status = "submitted"
    session.flush()
    audit.record(session, actor, "claim.submit", "bounty", bounty.id,
                 {"claim": claim.id, "merge_requests": urls, **(details or {})})


def linked_work(session: Session, claim_id: int) -> list[LinkedWork]:
    """The merge requests linked to claim `claim_id`, in the order they were linked, with
    their verdicts. Read only: the caller decided the viewer may see the claim."""
    links = session.execute(
        select(ClaimLink).where(ClaimLink.claim_id == claim_id).order_by(ClaimLink.id)
    ).scalars().all()
    return [_work_of(session, link) for link in links]


def _work_of(session: Session, link: ClaimLink) -> LinkedWork:
    found = (session.get(MergeRequest, link.merge_request_id) if link.merge_request_id is not None
             else merge_request_at(session, link.url))
    if found is None:
        return LinkedWork(link.url, None, None, None, None, DCO_NOT_CHECKED, (), "unsynced")
    failing = tuple(FailingCommit(sha, reason) for sha, reason in session.execute(
        select(MergeRequestCommit.sha, MergeRequestCommit.dco_reason)
        .where(MergeRequestCommit.merge_request_id == found.id, MergeRequestCommit.is_dco_ok.is_(False))
        .order_by(MergeRequestCommit.position, MergeRequestCommit.id)
    ))
    status = DCO_NOT_CHECKED if found.is_dco_ok is None else DCO_SIGNED if found.is_dco_ok else DCO_UNSIGNED
    if found.merged_at is None:
        problem: str | None = "unmerged"
    elif found.is_dco_ok is None:
        problem = "unchecked"
    elif not found.is_dco_ok:
        problem = "dco"
    else:
        problem = None
    return LinkedWork(link.url, merge_request_reference(found.project_path, found.iid), found.title,
                      found.author_username, found.merged_at, status, failing, problem)


def check_approvable(session: Session, claim: Claim) -> None:
    """Raise MergeRequestNotReady, naming the first merge request of `claim` that is not synced,
    merged and DCO-clean; a claim with no link at all cannot be approved either."""
    work = linked_work(session, claim.id)
    if not work:
        raise Conflict("the claim links no merge request")
    for item in work:
        if item.problem is not None:
            raise MergeRequestNotReady(item)


def attach_merged_work(session: Session, merge_request: MergeRequest, *,
                       now: datetime | None = None) -> list[int]:
    """Attach `merge_request` to the claims it completes (the rules of the module docstring);
    the ids of the bounties it moved to submitted (flushes, audits as the system).

    Called inside the caller's transaction, after `identities.credit_merge_request`.
    """
    return attach_merged_works(session, [merge_request], now=now)


def attach_merged_works(session: Session, merge_requests: Sequence[MergeRequest], *,
                        now: datetime | None = None) -> list[int]:
    """`attach_merged_work` for a batch of merge requests (the sync's): one flush and one
    read of the links still waiting for their merge request, whatever the batch's size."""
    now = now or utcnow()
    session.flush()  # the merge requests need their ids
    waiting = list(session.execute(select(ClaimLink).where(ClaimLink.merge_request_id.is_(None))).scalars())
    moved: list[int] = []
    for merge_request in merge_requests:
        if waiting:
            _resolve_links(session, merge_request, waiting)
        moved.extend(_attach_eligible(session, merge_request, now))
    return moved


def _attach_eligible(session: Session, merge_request: MergeRequest, now: datetime) -> list[int]:
    if (merge_request.merged_at is None or merge_request.person_id is None
            or merge_request.is_dco_ok is not True):
        return []
    text = f"{merge_request.title}\n{merge_request.description or ''}"
    refs = issue_references(text, merge_request.project_path,
                            gitlab_url_of(merge_request.web_url, merge_request.project_path))
    moved: list[int] = []
    for bounty_id in _bounties_of(session, refs[:MAX_REFERENCES]):
        if _attach(session, merge_request, bounty_id, now):
            moved.append(bounty_id)
    return moved


def _resolve_links(session: Session, merge_request: MergeRequest, waiting: list[ClaimLink]) -> None:
    """Point the links submitted by URL before this merge request was synced at it."""
    tail = f"/{merge_request.project_path.lower()}/-/merge_requests/{merge_request.iid}"
    for link in waiting:
        url = link.url.lower()
        if (link.merge_request_id is None and (url.endswith(tail) or url.endswith(tail + "/"))
                and merge_request_at(session, link.url) is merge_request):
            link.merge_request_id = merge_request.id
            session.flush()


def _bounties_of(session: Session, refs: list[IssueRef]) -> list[int]:
    """The ids of the bounties whose GitLab issue is one of `refs` (paths compared lower-cased)."""
    if not refs:
        return []
    wanted = or_(*(and_(func.lower(Bounty.gitlab_project_path) == ref.project_path,
                        Bounty.gitlab_issue_iid == ref.iid) for ref in refs))
    return list(session.execute(select(Bounty.id).where(wanted).order_by(Bounty.id)).scalars())


def _attach(session: Session, merge_request: MergeRequest, bounty_id: int, now: datetime) -> bool:
    """Link `merge_request` to the live claim of bounty `bounty_id` when the rules allow;
    whether that submitted the claim."""
    # Bounty first, then its claim: the order every writer locks them in.
    bounty = lock_bounty(session, bounty_id)
    claim = session.execute(
        select(Claim).where(Claim.bounty_id == bounty_id, Claim.status.in_(("active", "submitted")))
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if claim is None or claim.person_id != merge_request.person_id:
        return False
    if claim.status == "active" and claim.expires_at <= now:
        return False  # lapsed: the bounty reads as open again
    url = merge_request.web_url
    linked_before = session.execute(
        select(ClaimLink.claim_id).join(Claim, Claim.id == ClaimLink.claim_id)
        .where(Claim.bounty_id == bounty_id,
               or_(ClaimLink.merge_request_id == merge_request.id, ClaimLink.url == url))
    ).scalars().all()
    if linked_before:  # already on this claim (a re-sync), or on an earlier one of the bounty
        return False
    reference = merge_request_reference(merge_request.project_path, merge_request.iid)
    details = {"source": "gitlab", "merge_request": reference,
               "note": f"submitted from GitLab: merged merge request {reference} references the "
                       f"bounty's issue {bounty.gitlab_project_path}#{bounty.gitlab_issue_iid}"}
    if claim.status == "active":
        mark_submitted(session, SYSTEM, bounty, claim, [url], now, details=details)
        return True
    session.add(ClaimLink(claim_id=claim.id, url=url, merge_request_id=merge_request.id))
    session.flush()
    audit.record(session, SYSTEM, "claim.link", "bounty", bounty.id,
                 {"claim": claim.id, "merge_requests": [url], **details,
                  "note": f"linked from GitLab: merged merge request {reference} references the "
                          f"bounty's issue {bounty.gitlab_project_path}#{bounty.gitlab_issue_iid}"})
    return False
