"""`bounty people merge`, `link` and `unlinked` against a real database of each kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.cli import cli
from bounty.models import AuditEvent, Identity, MergeRequest, Person
from bounty.services import journal
from tests import workflow_factories as wf
from tests.service.test_identities import merge_request

Run = Callable[..., Result]


@pytest.fixture
def run(db_url: str, session: Session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        session.close()  # on SQLite an open transaction holds the file lock
        return runner.invoke(cli, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


def test_merge_moves_everything_and_says_what(session: Session, run: Run) -> None:
    wf.reference(session)
    survivor = wf.person(session, "ada")
    merged = wf.actor_of(wf.person(session, "ada.old"))
    wf.approved_bounty(session, merged, amount="800", currency="EUR")
    s_id, m_id = survivor.id, merged.person_id

    result = run("people", "merge", "--into", "ada", "ada.old")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"merged ada.old (person {m_id}) into ada (person {s_id})"
    assert "claims.person_id 1" in lines[1]
    assert lines[-1].startswith("payable moved: EUR 800.00 (ledger transaction ")
    assert session.get(Person, m_id).merged_into_id == s_id
    assert journal.balance(session, f"payable:person:{s_id}:EUR").minor == 80_000
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "person.merge")).scalars().all()
    assert event.actor_label.startswith("cli:")

    again = run("people", "merge", "--into", "ada", "ada.old")
    assert again.exit_code == 2
    assert again.output.startswith("error: ") and "already merged" in again.output


def test_merge_refusals_exit_2_with_one_line(session: Session, run: Run) -> None:
    wf.person(session, "ada", jurisdiction=None)

    unknown = run("people", "merge", "--into", "ada", "nobody")
    assert (unknown.exit_code, unknown.output) == (2, "error: merged: no person has the username 'nobody'\n")
    itself = run("people", "merge", "--into", "ada", "ada")
    assert itself.exit_code == 2 and "themselves" in itself.output
    assert run("people", "merge", "ada").exit_code == 2  # --into is required


def test_link_records_and_credits_and_unlinked_lists(session: Session, run: Run) -> None:
    wf.person(session, "ada", jurisdiction=None)
    mr = merge_request(session, 1, username="someone", gitlab_id=None, commits=[("Ada", "Ada@Old.example")])
    mr_id = mr.id

    listed = run("people", "unlinked")
    assert listed.exit_code == 0, listed.output
    assert "\temail\tada@old.example\tAda\t1 MRs\t" in listed.output
    assert listed.output.splitlines()[-1] == "0 claims waiting; unlinked 2 of 2"
    linked = run("people", "link", "email", "ADA@old.example", "ada")
    assert (linked.exit_code, linked.output) == (
        0, "linked email ada@old.example to ada; 1 merge request credited anew\n")
    fresh = run("people", "link", "gitlab_username", "Ada-L", "ada")
    assert fresh.output == "linked gitlab_username ada-l to ada; 0 merge requests credited anew\n"

    ada_id = session.execute(select(Person.id).where(Person.username == "ada")).scalar_one()
    assert session.get(MergeRequest, mr_id).person_id == ada_id
    assert session.execute(select(Identity.person_id).where(Identity.value == "ada-l")).scalar_one() == ada_id
    refused = run("people", "link", "email", "x@example.org", "nobody")
    assert (refused.exit_code, refused.output) == (2, "error: username: no person has this username\n")
    assert run("people", "link", "keycloak", "sub", "ada").exit_code == 2
