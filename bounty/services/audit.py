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

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import AuditChainHead, AuditEvent, utcnow
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput

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
    head = _locked_head(session)
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


def lock_chain(session: Session) -> None:
    """Lock the audit chain's head until the caller's transaction ends. Every writer of an
    event takes this lock, so a service that must serialise with all of them (and write its
    rows only once it holds it) takes it first."""
    _locked_head(session)


def _locked_head(session: Session) -> AuditChainHead:
    """The chain head, created on first use, locked until the caller commits.

    Created with INSERT .. ON CONFLICT DO NOTHING, so two first writers on an empty log
    queue on the row instead of one failing on its primary key.
    """
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(AuditChainHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH).on_conflict_do_nothing()
    )
    return session.execute(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


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
    # populate_existing: compare what the database holds now, not events this session wrote.
    events = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq)
        .execution_options(yield_per=1000, populate_existing=True)
    ).scalars()
    for event in events:
        after_gap = event.seq > expected_seq
        for seq in range(expected_seq, event.seq):
            problems.append(ChainProblem(seq, None, "missing: the event was removed"))
        recomputed = event_hash(event.seq, event.occurred_at, event.actor_id, event.actor_label,
                                event.action, event.object_type, event.object_id, event.summary,
                                event.prev_hash)
        if recomputed != event.hash:
            problems.append(
                ChainProblem(event.seq, event.id, "changed: its content no longer matches its hash")
            )
        elif event.prev_hash != expected_prev and not after_gap:
            # Right after a gap the link cannot match; the gap is already reported.
            problems.append(ChainProblem(event.seq, event.id, "does not follow the event before it"))
        expected_prev, expected_seq = event.hash, event.seq + 1
    head = session.get(AuditChainHead, HEAD_ID, populate_existing=True)
    if head is None:
        if expected_seq > 1:
            problems.append(ChainProblem(expected_seq - 1, None, "the chain head was removed"))
    elif head.seq >= expected_seq:
        for seq in range(expected_seq, head.seq + 1):
            problems.append(ChainProblem(seq, None, "missing: the newest events were removed"))
    elif head.seq < expected_seq - 1 or head.hash != expected_prev:
        problems.append(ChainProblem(head.seq, None, "the chain head does not match the last event"))
    return problems


def count_events(session: Session) -> int:
    """How many events the log holds."""
    return int(session.execute(select(func.count(AuditEvent.id))).scalar_one())


def recent_events(
    session: Session, actor: Actor, object_type: str | None = None, object_id: object = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """The newest `limit` events, of one object when given, oldest of them first."""
    actor.require(Permission.READ_AUDIT_LOG)
    if limit < 1:
        raise InvalidInput("limit", "must be at least 1")
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return list(reversed(session.execute(query).scalars().all()))


def events_for(session: Session, object_type: str, object_id: object) -> list[AuditEvent]:
    """An object's timeline, oldest first."""
    return list(session.execute(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.seq)
    ).scalars())
