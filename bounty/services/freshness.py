"""What a cached public page depends on: a stamp that changes whenever the page could.

Every state change of the programme records an audit event, so the audit chain's sequence
number moves with every write a public page could show. Two things change what a page
shows without a write: time (an active claim lapses when its time limit passes, and its
bounty reads as open again) and rows written outside the services. The stamp therefore
also carries the next moment a claim lapses and the newest bounty id, read in the same
single query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import AuditChainHead, Bounty, Claim, utcnow


@dataclass(frozen=True, slots=True)
class ChangeStamp:
    """Equal stamps mean the public pages read the same (the next lapse not yet passed)."""

    audit_seq: int
    newest_bounty_id: int
    next_lapse_at: datetime | None


def change_stamp(session: Session, *, now: datetime | None = None) -> ChangeStamp:
    """The current stamp, in one round trip over indexed columns."""
    now = now or utcnow()
    seq = select(func.max(AuditChainHead.seq)).scalar_subquery()
    newest = select(func.max(Bounty.id)).scalar_subquery()
    next_lapse = (select(func.min(Claim.expires_at))
                  .where(Claim.status == "active", Claim.expires_at > now).scalar_subquery())
    audit_seq, newest_id, lapse_at = session.execute(select(seq, newest, next_lapse)).one()
    if isinstance(lapse_at, str):  # SQLite returns an aggregate of a datetime column as text
        lapse_at = datetime.fromisoformat(lapse_at)
    if lapse_at is not None and lapse_at.tzinfo is None:
        lapse_at = lapse_at.replace(tzinfo=now.tzinfo)
    return ChangeStamp(int(audit_seq or 0), int(newest_id or 0), lapse_at)
