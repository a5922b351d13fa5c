"""Bounty submissions from merged work: a merge request that references a bounty's issue."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bounty.models import MergeRequest


def attach_merged_work(session: Session, merge_request: MergeRequest) -> list[int]:
    """Attach `merge_request` to the open claims it completes; the ids of bounties moved (flushes)."""
    return []
