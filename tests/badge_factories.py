"""Builders for badge tests: merged work at a chosen moment and hours approved through
the hours service at a chosen moment."""

from __future__ import annotations

import itertools
import zlib
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import MergeRequest, MergeRequestCommit, WorkingGroup, WorkingGroupMember
from bounty.services import hours
from bounty.services.actors import Actor
from bounty.services.hours import HoursInput

PROJECT = "demo/widget"
_iids = itertools.count(1)


def merge(session: Session, person_id: int | None, merged_at: datetime, *, dco_ok: bool | None = True,
          project: str = PROJECT) -> MergeRequest:
    """A merged merge request as a sync stores it, credited to `person_id` (commits)."""
    iid = next(_iids)
    url = f"https://gitlab.example.org/{project}/-/merge_requests/{iid}"
    merge_request = MergeRequest(
        gitlab_project_id=zlib.crc32(project.encode()) & 0x7FFFFFFF, project_path=project, iid=iid,
        title=f"Change {iid}", description="", web_url=url, author_username="someone", person_id=person_id,
        merged_at=merged_at, gitlab_updated_at=merged_at, is_dco_ok=dco_ok, synced_at=merged_at,
    )
    session.add(merge_request)
    session.flush()
    session.add(MergeRequestCommit(
        merge_request_id=merge_request.id, position=0, sha=f"{merge_request.id:040x}",
        author_name="Someone", author_email="someone@example.org", committer_name="Someone",
        committer_email="someone@example.org",
        message="Change" + ("\n\nSigned-off-by: Someone <someone@example.org>" if dco_ok else ""),
        authored_at=merged_at, is_dco_ok=bool(dco_ok),
        dco_reason="" if dco_ok else "The sign-off is missing.", dco_exempt=None))
    session.commit()
    return merge_request


def group_role(session: Session, actor: Actor, group_code: str = "WG4", role: str = "reviewer") -> Actor:
    """Make `actor` a `role` of the working group, once."""
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == group_code)).scalar_one()
    known = session.execute(select(WorkingGroupMember).where(
        WorkingGroupMember.working_group_id == group.id,
        WorkingGroupMember.person_id == actor.person_id)).scalar_one_or_none()
    if known is None:
        session.add(WorkingGroupMember(working_group_id=group.id, person_id=actor.person_id, role=role))
        session.commit()
    return actor


def approved_hours(session: Session, person: Actor, reviewer: Actor, amount: str, approved_at: datetime, *,
                   activity: str = "code", worked_on: date | None = None, group: str = "WG4") -> int:
    """Log `amount` hours for `person` and have `reviewer` approve them at `approved_at`; the entry id."""
    day = worked_on or (approved_at.date() - timedelta(days=1))
    entry = hours.log_hours(session, person, HoursInput(day, amount, activity, group, f"{activity} work"),
                            backdate_days=400, today=approved_at.date())
    hours.review_hours(session, group_role(session, reviewer, group), entry.id, "approve", now=approved_at)
    return entry.id
