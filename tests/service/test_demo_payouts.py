"""The demo pays what it approved: one batch, exported and confirmed by the bank, so statements
and the awards report show payments; a second run pays nothing more."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bounty.models import AuditEvent, Bounty, Claim, PayoutBatch, PayoutItem, utcnow
from bounty.services import annual_report, audit, demo_data, ledger_check, seed
from bounty.services.actors import SYSTEM
from bounty.services.errors import InvalidInput
from bounty.services.seed_files import SEED_DIR
from tests.service.test_demo_recognition import NOW, seeded


def test_the_demo_pays_every_approved_bounty_in_one_confirmed_batch(session):
    seeded(session)
    batches = session.execute(select(PayoutBatch)).scalars().all()
    assert [b.status for b in batches] == ["paid"]
    items = session.execute(select(PayoutItem)).scalars().all()
    approved = session.execute(select(func.count(Bounty.id)).where(Bounty.status.in_(("approved", "paid"))))
    assert len(items) == approved.scalar_one() == 7
    paid_on = min(NOW.date(), utcnow().date())
    assert {(i.status, i.paid_on) for i in items} == {("paid", paid_on)}
    assert {i.currency for i in items} >= {"EUR", "GBP", "CAD"}
    # A bounty's payout item is its approved claim's.
    paid_claims = session.execute(select(Claim.id).join(Bounty, Bounty.id == Claim.bounty_id).where(
        Bounty.status == "paid", Claim.status == "approved")).scalars().all()
    assert set(paid_claims) == {i.subject_id for i in items if i.kind == "bounty"}
    # Finance's steps are on the record, as anyone's would be.
    actions = set(session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == "payout_batch",
        AuditEvent.actor_label == "person:polly.placeholder")).scalars())
    assert {"payout_batch.create", "payout_batch.export", "payout_batch.confirm"} <= actions
    assert ledger_check.check(session) == []
    assert audit.verify(session) == []


def test_the_awards_report_of_the_demo_year_shows_the_payments(session):
    seeded(session)
    report = annual_report.annual_report(session, SYSTEM, NOW.year, now=NOW)
    figures = report.figures
    assert figures.bounties_paid == figures.bounties_approved == 7
    assert figures.bounties_paid_eur == figures.bounties_approved_eur
    assert figures.bounties_paid_eur.minor > 0


def test_a_second_run_pays_nothing_more(session):
    seeded(session)
    again = demo_data.seed_demo(session, SYSTEM, now=NOW + timedelta(days=1))
    assert again.present["demo payout batches"] == 1 and "demo payments" not in again.present
    assert session.execute(select(func.count(PayoutBatch.id))).scalar_one() == 1


def test_a_payer_without_the_finance_role_is_refused_naming_the_file(session, tmp_path):
    shutil.copytree(SEED_DIR, tmp_path / "seed")
    (tmp_path / "seed" / "demo" / "payouts.toml").write_text('paid_by = "ada.beispiel"\n')
    seed.seed_reference(session, SYSTEM, tmp_path / "seed")
    with pytest.raises(InvalidInput, match=r"demo/payouts.toml.*ada.beispiel does not hold the finance role"):
        demo_data.seed_demo(session, SYSTEM, tmp_path / "seed", now=NOW)
    assert session.execute(select(func.count(PayoutBatch.id))).scalar_one() == 0
