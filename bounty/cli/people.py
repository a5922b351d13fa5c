"""`bounty people`: merging two records of one person, and linking identities by hand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bounty.cli.common import operator, refusals_exit_2
from bounty.extensions import db
from bounty.services import identity_links, identity_queries, person_merge
from bounty.services.identity_links import LINKABLE_KINDS


@click.group("people", help="People and their identities: link identities, merge two records of one person.")
def group() -> None:
    pass


@group.command("merge", help=(
    "Merge the person USERNAME into the person given with --into: every identity, merged merge "
    "request, claim, review, hour, membership, vote and payable moves to them (payables by a "
    "posted ledger transaction per currency); the merged record stays, marked merged. "
    "Recorded in the audit log as one event."
))
@click.option("--into", "survivor", required=True, metavar="USERNAME", help="The person who stays.")
@click.argument("merged", metavar="USERNAME")
@with_appcontext
@refusals_exit_2
def merge(survivor: str, merged: str) -> None:
    summary = person_merge.merge_people_by_username(db.session, operator(), survivor, merged)
    click.echo(f"merged {merged} (person {summary.merged_id}) into {survivor} (person {summary.survivor_id})")
    moved = ", ".join(f"{where} {count}" for where, count in sorted(summary.moved.items()))
    click.echo(f"moved: {moved or 'nothing'}")
    if summary.removed:
        removed = ", ".join(f"{table} {count}" for table, count in sorted(summary.removed.items()))
        click.echo(f"duplicates removed (kept in the audit event): {removed}")
    for (currency, amount), transaction in zip(sorted(summary.transfers.items()), summary.transactions,
                                               strict=True):
        click.echo(f"payable moved: {currency} {amount} (ledger transaction {transaction})")
    if summary.own_reviews:
        click.echo("warning: the survivor reviewed their own claims "
                   f"{', '.join(str(c) for c in summary.own_reviews)}: check those approvals")


@group.command("link", help=(
    "Link the identity KIND VALUE (a commit e-mail, a GitLab username or user id) to the person "
    "USERNAME, recording it first if it was never seen; its merged work is credited to them."
))
@click.argument("kind", type=click.Choice(LINKABLE_KINDS))
@click.argument("value")
@click.argument("username")
@with_appcontext
@refusals_exit_2
def link(kind: str, value: str, username: str) -> None:
    result = identity_links.link_value(db.session, operator(), kind, value, username)
    count = result.recredited
    click.echo(f"linked {kind} {result.identity.value} to {result.person.username}; "
               f"{count} merge request{'' if count == 1 else 's'} credited anew")


@group.command("unlinked", help="List unlinked identities: claims waiting first, then a page of the rest.")
@click.option("--search", default=None, help="Only values and names containing this text.")
@click.option("--page", default=1, type=click.IntRange(min=1), show_default=True)
@with_appcontext
@refusals_exit_2
def unlinked(search: str | None, page: int) -> None:
    queue = identity_queries.unlinked_queue(db.session, operator(), text=search, page=page)
    db.session.rollback()
    for row in queue.claims:
        click.echo(f"claimed\t{row.id}\t{row.kind}\t{row.value}\t{row.label}\t{row.merge_requests} MRs\t"
                   f"by {row.claimed_by_username}")
    for row in queue.unlinked:
        seen = row.first_seen_at.date().isoformat() if row.first_seen_at else "-"
        click.echo(f"unlinked\t{row.id}\t{row.kind}\t{row.value}\t{row.label}\t{row.merge_requests} MRs\t"
                   f"first seen {seen}")
    shown = (page - 1) * queue.per_page + len(queue.unlinked)
    click.echo(f"{len(queue.claims)} claims waiting; unlinked {shown} of {queue.total}")
