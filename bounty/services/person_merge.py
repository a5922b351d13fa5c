"""Merging two person records that turn out to be one human (program admins).

Everything of the merged person moves to the survivor: every row of every table with a
foreign key to `people.id` (found by walking the schema, so a table added later is covered),
except the records of who did what, which history keeps as it was: the audit log's
`actor_id` and a ledger transaction's `actor_id` (append-only). Unique constraints that
would clash are settled first (docs/identities.md, "Merging two people"):

- two reviews of one claim: the survivor's stays, the merged person's is removed and its
  content kept in the merge's audit event;
- two votes on one nomination: likewise, the survivor's vote stays;
- the same badge earned by both: one stays, dated by the earlier award; a badge their facts
  earn only together is awarded to the survivor in the same transaction;
- membership of one working group: one row stays, with the stronger role (lead, reviewer,
  member);
- two nominations in one round and category by the two people, or of the two people as
  nominees: the merge is refused (Conflict naming the nomination) - an award decision is
  not silently rewritten; an admin settles it first.

Once merged, a binding vote the survivor holds on a nomination of which the survivor is now
the nominee or the nominator is a conflict of interest (docs/awards.md): it is recorded as
non-binding (`conflict`), and listed in the audit event.

The ledger is append-only, so balances move by posting: each payable of the merged person
with a balance is moved to the survivor's payable of the same currency, one posted
transaction per currency; the merged person's accounts then belong to the survivor (their
codes never change), so the survivor's earnings keep their history. The merged person stays
as a row with `merged_into_id` set: sign-ins under their Keycloak account reach the survivor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, func, select, update
from sqlalchemy.orm import Session, aliased

from bounty.governance.permissions import Permission
from bounty.ledger import EntryDraft, Money, TransactionDraft
from bounty.models import (
    Account,
    Base,
    Claim,
    LedgerLine,
    Nomination,
    Person,
    PersonBadge,
    Review,
    Vote,
    WorkingGroupMember,
)
from bounty.services import audit, badges, journal
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound
from bounty.services.reservations import payable_code

# Columns that record who acted, kept as history (the audit log and the append-only ledger).
HISTORY_COLUMNS = frozenset({("audit_events", "actor_id"), ("ledger_transactions", "actor_id")})
ROLE_STRENGTH = {"lead": 3, "reviewer": 2, "member": 1}
TRANSFER_KIND = "person_merge"


@dataclass(frozen=True)
class MergeSummary:
    """What a merge did: rows moved per `table.column`, duplicates removed per table, the
    payables moved per currency and the ledger transactions that moved them."""

    survivor_id: int
    merged_id: int
    moved: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    transfers: dict[str, str] = field(default_factory=dict)
    transactions: list[int] = field(default_factory=list)
    own_reviews: list[int] = field(default_factory=list)
    conflicted_votes: list[int] = field(default_factory=list)


def person_columns() -> list[tuple[Table, Column[Any]]]:
    """Every column of the schema with a foreign key to `people.id`, in a stable order."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "people" and fk.column.name == "id" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def merge_people(session: Session, actor: Actor, survivor_id: int, merged_id: int) -> MergeSummary:
    """Move everything of person `merged_id` to person `survivor_id` and mark the merged person
    merged; one transaction, audited as one `person.merge` event with the counts."""
    actor.require(Permission.MANAGE_IDENTITIES)
    if survivor_id == merged_id:
        raise InvalidInput("merged", "a person cannot be merged into themselves")
    try:
        summary = _merge(session, actor, survivor_id, merged_id)
        session.commit()
        return summary
    except BaseException:
        session.rollback()
        raise


def _merge(session: Session, actor: Actor, survivor_id: int, merged_id: int) -> MergeSummary:
    people = {p.id: p for p in session.execute(
        select(Person).where(Person.id.in_([survivor_id, merged_id])).order_by(Person.id)
        .with_for_update().execution_options(populate_existing=True)).scalars()}
    survivor, merged = people.get(survivor_id), people.get(merged_id)
    if survivor is None or merged is None:
        raise NotFound(f"no person {survivor_id if survivor is None else merged_id}")
    if merged.merged_into_id is not None:
        raise Conflict(f"{merged.username} was already merged into person {merged.merged_into_id}")
    if survivor.merged_into_id is not None:
        raise InvalidInput("into", f"{survivor.username} was merged into person "
                                   f"{survivor.merged_into_id}: merge into that person")
    _refuse_clashing_nominations(session, survivor_id, merged_id)
    summary = MergeSummary(survivor_id, merged_id)
    removed_detail = _settle_clashes(session, survivor_id, merged_id, summary)
    _move_payables(session, actor, survivor, merged, summary)
    session.flush()
    for table, column in person_columns():
        if (table.name, column.name) in HISTORY_COLUMNS:
            continue
        result = session.execute(update(table).where(column == merged_id).values({column.name: survivor_id}))
        if result.rowcount:
            summary.moved[f"{table.name}.{column.name}"] = result.rowcount
    # Core updates bypass the objects this session holds: read them afresh from here on.
    session.expire_all()
    merged = session.get(Person, merged_id)
    assert merged is not None
    merged.merged_into_id = survivor_id
    session.flush()
    summary.own_reviews.extend(_own_reviews(session, survivor_id))
    summary.conflicted_votes.extend(_unbind_own_nominations(session, survivor_id))
    audit.record(session, actor, "person.merge", "person", survivor_id, {
        "survivor": survivor_id, "survivor_username": survivor.username, "merged": merged_id,
        "merged_username": merged.username, "moved": summary.moved, "removed": removed_detail,
        "transfers": summary.transfers, "transactions": summary.transactions,
        "own_reviews": summary.own_reviews, "conflicted_votes": summary.conflicted_votes})
    # Two people's facts added together may cross a badge's threshold neither reached alone.
    badges.award_badges_now(session, {survivor_id})
    return summary


def _refuse_clashing_nominations(session: Session, survivor_id: int, merged_id: int) -> None:
    theirs = aliased(Nomination)
    clash = session.execute(
        select(Nomination.id).join(theirs, (theirs.round_id == Nomination.round_id)
                                   & (theirs.category_id == Nomination.category_id))
        .where(Nomination.nominator_id == merged_id, theirs.nominator_id == survivor_id)
        .order_by(Nomination.id).limit(1)
    ).scalar()
    if clash is not None:
        raise Conflict("both people made a nomination in the same round and category "
                       f"(nomination {clash}): withdraw one before merging")
    clash = session.execute(
        select(Nomination.id).join(theirs, (theirs.round_id == Nomination.round_id)
                                   & (theirs.category_id == Nomination.category_id))
        .where(Nomination.nominee_person_id == merged_id, theirs.nominee_person_id == survivor_id)
        .order_by(Nomination.id).limit(1)
    ).scalar()
    if clash is not None:
        raise Conflict("both people are nominated in the same round and category "
                       f"(nomination {clash}): withdraw one before merging")


def _settle_clashes(session: Session, survivor_id: int, merged_id: int,
                    summary: MergeSummary) -> dict[str, list[dict[str, Any]]]:
    """Remove the merged person's rows that would break a unique constraint once moved;
    returns what was removed, for the audit event."""
    detail: dict[str, list[dict[str, Any]]] = defaultdict(list)
    kept = aliased(Review)
    for review in session.execute(
            select(Review).join(kept, kept.claim_id == Review.claim_id)
            .where(Review.reviewer_id == merged_id, kept.reviewer_id == survivor_id)).scalars():
        detail["reviews"].append({"id": review.id, "claim": review.claim_id, "verdict": review.verdict,
                                  "comment": review.comment, "at": review.created_at})
        session.delete(review)
    kept_vote = aliased(Vote)
    for vote in session.execute(
            select(Vote).join(kept_vote, kept_vote.nomination_id == Vote.nomination_id)
            .where(Vote.voter_id == merged_id, kept_vote.voter_id == survivor_id)).scalars():
        detail["votes"].append({"id": vote.id, "nomination": vote.nomination_id, "value": vote.value,
                                "binding": vote.is_binding, "reason": vote.reason, "at": vote.cast_at})
        session.delete(vote)
    survivor_badges = {b.badge_id: b for b in session.execute(
        select(PersonBadge).where(PersonBadge.person_id == survivor_id)).scalars()}
    for badge in session.execute(select(PersonBadge).where(PersonBadge.person_id == merged_id)
                                 .order_by(PersonBadge.id)).scalars():
        staying_badge = survivor_badges.get(badge.badge_id)
        if staying_badge is None:
            continue
        staying_badge.earned_at = min(staying_badge.earned_at, badge.earned_at)
        detail["person_badges"].append({"id": badge.id, "badge": badge.badge_id, "at": badge.earned_at})
        session.delete(badge)
    survivor_groups = {m.working_group_id: m for m in session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.person_id == survivor_id)).scalars()}
    for membership in session.execute(
            select(WorkingGroupMember).where(WorkingGroupMember.person_id == merged_id)).scalars():
        staying = survivor_groups.get(membership.working_group_id)
        if staying is None:
            continue
        if ROLE_STRENGTH.get(membership.role, 0) > ROLE_STRENGTH.get(staying.role, 0):
            staying.role = membership.role
        detail["working_group_members"].append({"id": membership.id, "group": membership.working_group_id,
                                                "role": membership.role, "kept_role": staying.role})
        session.delete(membership)
    session.flush()
    for table, rows in detail.items():
        summary.removed[table] = len(rows)
    return dict(detail)


def _move_payables(session: Session, actor: Actor, survivor: Person, merged: Person,
                   summary: MergeSummary) -> None:
    """Post, per currency, the merged person's payable balances onto the survivor's payable."""
    balances = session.execute(
        select(Account.code, Account.currency, func.coalesce(func.sum(LedgerLine.amount_minor), 0))
        .join(LedgerLine, LedgerLine.account_id == Account.id)
        .where(Account.person_id == merged.id, Account.code.startswith("payable:person:"))
        .group_by(Account.code, Account.currency).order_by(Account.currency, Account.code)
    ).all()
    by_currency: dict[str, list[EntryDraft]] = defaultdict(list)
    for code, currency, total in balances:
        if int(total) == 0:
            continue
        # Debit positive: a payable owed to the person has a negative sum; zero it here...
        by_currency[currency].append(EntryDraft(code, Money(-int(total), currency)))
        # ...and owe the same to the survivor.
        by_currency[currency].append(
            EntryDraft(payable_code(survivor.id, currency), Money(int(total), currency)))
    for currency, entries in sorted(by_currency.items()):
        journal.ensure_account(session, payable_code(survivor.id, currency),
                               f"Payable to person {survivor.id} ({currency})", "liability", currency,
                               person_id=survivor.id)
        moved = Money(sum(e.amount.minor for e in entries if e.amount.minor > 0), currency)
        posted = journal.post(session, TransactionDraft(
            kind=TRANSFER_KIND,
            memo=f"Person {merged.id} ({merged.username}) merged into person {survivor.id} "
                 f"({survivor.username}): payable moved",
            entries=entries, idempotency_key=f"person-merge:{merged.id}:into:{survivor.id}:{currency}",
        ), actor.person_id)
        summary.transfers[currency] = moved.amount_str()
        summary.transactions.append(posted.transaction_id)


def _unbind_own_nominations(session: Session, survivor_id: int) -> list[int]:
    """Make the survivor's binding votes on their own nominations non-binding (conflict of
    interest); the ids of the votes changed."""
    own = select(Nomination.id).where((Nomination.nominee_person_id == survivor_id)
                                      | (Nomination.nominator_id == survivor_id))
    votes = list(session.execute(
        select(Vote).where(Vote.voter_id == survivor_id, Vote.is_binding.is_(True),
                           Vote.nomination_id.in_(own)).order_by(Vote.id)).scalars())
    for vote in votes:
        vote.is_binding, vote.non_binding_reason = False, "conflict"
    session.flush()
    return [vote.id for vote in votes]


def _own_reviews(session: Session, survivor_id: int) -> list[int]:
    """Claims of the survivor that the survivor reviewed (under the merged account): the
    review rule says never one's own, so the admin should look at them."""
    return list(session.execute(
        select(Claim.id).join(Review, Review.claim_id == Claim.id)
        .where(Claim.person_id == survivor_id, Review.reviewer_id == survivor_id).order_by(Claim.id)
    ).scalars())


def merge_people_by_username(session: Session, actor: Actor, survivor_username: str,
                             merged_username: str) -> MergeSummary:
    """`merge_people` naming both people by username (the command line's way)."""
    ids = {}
    for field_name, username in (("into", survivor_username), ("merged", merged_username)):
        found = session.execute(select(Person.id).where(Person.username == username.strip())).scalar()
        if found is None:
            session.rollback()
            raise InvalidInput(field_name, f"no person has the username {username.strip()!r}")
        ids[field_name] = found
    return merge_people(session, actor, ids["into"], ids["merged"])
