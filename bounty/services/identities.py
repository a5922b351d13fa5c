"""Identities: crediting merged work to people, the unlinked queue, claims and links."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bounty.models import MergeRequest


def credit_merge_request(session: Session, merge_request: MergeRequest) -> None:
    """Record the identities `merge_request` arrived under and credit it to their person (flushes)."""
