"""The hash-chained audit log: appending events and verifying the chain.

Appending locks the chain head (a row lock on PostgreSQL; SQLite writers are already
serialised by BEGIN IMMEDIATE), so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import AuditChainHead, AuditEvent, utcnow
from bounty.services.actors import Actor

GENESIS_HASH = "0" * 64
HEAD_ID = 1


def _canonical_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    seq: int, occurred_at: datetime, actor_id: int | None, actor_label: str, action: str,
    object_type: str, object_id: str, summary: dict[str, Any], prev_hash: str,
) -> str:
    """The hash of an event's content chained to the previous event's hash."""
    body = json.dumps(
        [seq, _canonical_time(occurred_at), actor_id, actor_label, action, object_type,
         object_id, summary, prev_hash],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session, actor: Actor, action: str, object_type: str, object_id: object,
    summary: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (flushes; the caller commits)."""
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
    # Round-trip through JSON now, so what is hashed is exactly what the database returns.
    clean_summary = json.loads(json.dumps(summary or {}, default=str))
    occurred_at = utcnow()
    seq = head.seq + 1
    digest = event_hash(seq, occurred_at, actor.person_id, actor.label, action, object_type,
                        str(object_id), clean_summary, head.hash)
    event = AuditEvent(
        seq=seq, occurred_at=occurred_at, actor_id=actor.person_id, actor_label=actor.label,
        action=action, object_type=object_type, object_id=str(object_id), summary=clean_summary,
        prev_hash=head.hash, hash=digest,
    )
    session.add(event)
    head.seq, head.hash = seq, digest
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    event_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where}: {self.message}"


def verify(session: Session) -> list[ChainProblem]:
    """Recompute the chain; name every event that was changed, removed or re-ordered."""
    problems: list[ChainProblem] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for event in events:
        while event.seq > expected_seq:
            problems.append(ChainProblem(expected_seq, None, "missing: the event was removed"))
            expected_seq += 1
        recomputed = event_hash(event.seq, event.occurred_at, event.actor_id, event.actor_label,
                                event.action, event.object_type, event.object_id, event.summary,
                                event.prev_hash)
        if recomputed != event.hash:
            problems.append(ChainProblem(event.seq, event.id, "changed: its content no longer matches its hash"))
        elif event.prev_hash != expected_prev:
            problems.append(ChainProblem(event.seq, event.id, "does not follow the event before it"))
        expected_prev, expected_seq = event.hash, event.seq + 1
    head = session.get(AuditChainHead, HEAD_ID)
    if head is not None and head.seq >= expected_seq:
        for seq in range(expected_seq, head.seq + 1):
            problems.append(ChainProblem(seq, None, "missing: the newest events were removed"))
    elif head is not None and head.hash != expected_prev:
        problems.append(ChainProblem(head.seq, None, "the chain head does not match the last event"))
    return problems


def events_for(session: Session, object_type: str, object_id: object) -> list[AuditEvent]:
    """An object's timeline, oldest first."""
    return list(session.execute(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.seq)
    ).scalars())
