"""Leaderboards: each metric counted exactly, periods and their boundaries, the views, the
score from stored weights, the tie rule, merged people and the privacy rule. On both databases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bounty.ledger import Money
from bounty.models import Person, Reservation
from bounty.services import leaderboards as lb
from bounty.services.actors import SYSTEM
from bounty.services.errors import InvalidInput, NotFound
from tests import payout_factories as pf
from tests import recognition_factories as rf
from tests import workflow_factories as wf

Y2025 = lb.parse_period("2025")


@pytest.fixture
def world(session):
    wf.reference(session)
    rf.weights(session)
    return session


def row_of(board, person):
    found = [row for row in board.rows if row.person_id == person.id]
    return found[0] if found else None


def ranked(board):
    return [row.person_id for row in board.rows]


# --- periods ------------------------------------------------------------------------------------

def test_periods_parse_with_their_bounds():
    assert lb.parse_period(" all ") == lb.Period("all", None, None)
    year = lb.parse_period("2026")
    assert (year.start, year.end, year.kind) == (rf.at(2026, 1, 1, 0), rf.at(2027, 1, 1, 0), "year")
    q3 = lb.parse_period("2026-q3")
    assert (q3.text, q3.start, q3.end, q3.kind) == (
        "2026-Q3", rf.at(2026, 7, 1, 0), rf.at(2026, 10, 1, 0), "quarter")
    q4 = lb.parse_period("2026-Q4")
    assert (q4.start, q4.end) == (rf.at(2026, 10, 1, 0), rf.at(2027, 1, 1, 0))


@pytest.mark.parametrize("text", ["", "26", "2026-Q5", "2026-Q0", "2026Q1", "last year", "2026-07", "1900"])
def test_bad_periods_are_refused(text):
    with pytest.raises(InvalidInput) as refused:
        lb.parse_period(text)
    assert refused.value.field == "period"


# --- each metric --------------------------------------------------------------------------------

def test_merged_mrs_count_only_dco_clean_credited_work_in_the_period(world):
    session = world
    ada = rf.person(session, "ada")
    rf.merged_mr(session, ada.id, rf.at(2025, 1, 1, 0))            # first instant: in
    rf.merged_mr(session, ada.id, rf.at(2025, 6, 1))
    rf.merged_mr(session, ada.id, rf.at(2025, 12, 31, 23, 59, 59))  # last second: in
    rf.merged_mr(session, ada.id, rf.at(2026, 1, 1, 0))            # next year's first instant: out
    rf.merged_mr(session, ada.id, rf.at(2024, 12, 31, 23, 59, 59))  # out
    rf.merged_mr(session, ada.id, rf.at(2025, 6, 2), dco_ok=False)  # unsigned: out
    rf.merged_mr(session, ada.id, rf.at(2025, 6, 3), dco_ok=None)   # unchecked: out
    rf.merged_mr(session, None, rf.at(2025, 6, 4))                  # author not linked: nobody's

    board = lb.leaderboard(session, Y2025)

    assert board.total == 1
    [row] = board.rows
    assert (row.person_id, row.merged_mrs, row.score) == (ada.id, 3, Decimal(30))
    assert row.reached_at == rf.at(2025, 12, 31, 23, 59, 59)
    assert row_of(lb.leaderboard(session, lb.parse_period("all")), ada).merged_mrs == 5


def test_approved_hours_count_only_approved_entries_by_the_day_worked(world):
    session = world
    ben, rev = rf.person(session, "ben"), rf.person(session, "rev.hours")
    rf.hours(session, ben.id, date(2025, 1, 1), quarter_hours=5, reviewer_id=rev.id)
    rf.hours(session, ben.id, date(2025, 12, 31), quarter_hours=6, reviewer_id=rev.id,
             reviewed_at=rf.at(2026, 1, 5))  # approved in January: counts for the day worked
    rf.hours(session, ben.id, date(2025, 3, 3), quarter_hours=16, status="pending")
    rf.hours(session, ben.id, date(2025, 3, 4), quarter_hours=16, status="rejected", reviewer_id=rev.id)
    rf.hours(session, ben.id, date(2026, 1, 1), quarter_hours=40, reviewer_id=rev.id)

    row = row_of(lb.leaderboard(session, Y2025), ben)

    assert row.approved_hours == Decimal("2.75")
    assert row.score == Decimal("2.75")
    assert row.reached_at == rf.at(2025, 12, 31, 0)
    assert (row.merged_mrs, row.reviews_given, row.earnings_eur) == (0, 0, Money.zero("EUR"))


def test_earnings_are_the_eur_reserved_for_approved_bounties_without_claw_backs(world):
    session = world
    cleo = pf.payee(session, "cleo")
    kept = rf.approved_bounty(session, cleo, rf.at(2025, 3, 1), amount="1234.56")
    in_gbp = rf.approved_bounty(session, cleo, rf.at(2025, 4, 1), amount="2000", currency="GBP")
    clawed = rf.approved_bounty(session, cleo, rf.at(2025, 5, 1), amount="3000")
    rf.approved_bounty(session, cleo, rf.at(2026, 1, 1, 0), amount="4000")  # next year
    rf.clawed_back(session, clawed)
    gbp_in_eur = session.execute(select(Reservation.amount_minor).where(
        Reservation.purpose == "bounty", Reservation.subject_id == in_gbp.bounty.id)).scalar_one()
    assert gbp_in_eur != 200000  # converted at the reservation's rate

    row = row_of(lb.leaderboard(session, Y2025), session.get(Person, cleo.person_id))

    assert row.earnings_eur == Money(123456 + gbp_in_eur, "EUR")
    # Earnings enter the score in euros, cents included: 0.01 per euro, exactly.
    assert row.score == (Decimal(123456 + gbp_in_eur) / 100 * Decimal("0.01"))
    # The clawed-back bounty's approval is no longer a scoring fact.
    assert row.reached_at == rf.at(2025, 4, 1)
    assert kept.claim.person_id == cleo.person_id


def test_reviews_count_bounty_reviews_hours_reviews_and_sign_offs(world):
    session = world
    rita = wf.reviewer(session, "rita", "EU")
    other_uk = wf.reviewer(session, "uwe", "UK")
    claimant = wf.contributor(session, "carl", "CA")
    rf.approved_bounty(session, claimant, rf.at(2025, 2, 1), reviewers=(rita, other_uk))
    rf.approved_bounty(session, claimant, rf.at(2026, 2, 1), reviewers=(rita, other_uk))  # out
    worker = rf.person(session, "wanda")
    rf.hours(session, worker.id, date(2025, 3, 1), reviewer_id=rita.person_id, reviewed_at=rf.at(2025, 3, 2))
    rf.hours(session, worker.id, date(2025, 3, 3), status="rejected", reviewer_id=rita.person_id,
             reviewed_at=rf.at(2025, 3, 4))
    rf.hours(session, worker.id, date(2025, 12, 30), reviewer_id=rita.person_id,
             reviewed_at=rf.at(2026, 1, 2))  # reviewed next year: a review of next year
    grantee = rf.person(session, "gus")
    rf.signed_off_tranche(session, rita, rf.at(2025, 9, 1), grantee=grantee)

    row = row_of(lb.leaderboard(session, Y2025), session.get(Person, rita.person_id))

    assert row.reviews_given == 4
    assert row.score == Decimal(12)
    assert row.reached_at == rf.at(2025, 9, 1)
    assert row_of(lb.leaderboard(session, lb.parse_period("2026")),
                  session.get(Person, rita.person_id)).reviews_given == 2


def test_awards_won_count_in_their_rounds_year_and_weigh_in_the_score(world):
    session = world
    dora, eve = rf.person(session, "dora"), rf.person(session, "eve")
    rf.merged_mr(session, eve.id, rf.at(2025, 5, 1))
    rf.merged_mr(session, eve.id, rf.at(2025, 5, 2))
    rf.merged_mr(session, dora.id, rf.at(2025, 5, 3))
    rf.award_win(session, dora, 2025, rf.at(2026, 1, 25))

    board = lb.leaderboard(session, Y2025)

    assert ranked(board)[:2] == [dora.id, eve.id]
    row = row_of(board, dora)
    assert (row.awards_won, row.score, row.reached_at) == (1, Decimal(110), rf.at(2026, 1, 25))
    assert row_of(lb.leaderboard(session, lb.parse_period("2026")), dora) is None
    assert row_of(lb.leaderboard(session, lb.parse_period("all")), dora).awards_won == 1
    # A quarter holds no round's whole year.
    assert row_of(lb.leaderboard(session, lb.parse_period("2025-Q2")), dora).awards_won == 0


def test_quarters_count_their_three_months(world):
    session = world
    fay = rf.person(session, "fay")
    rf.merged_mr(session, fay.id, rf.at(2025, 3, 31, 23, 59, 59))
    rf.merged_mr(session, fay.id, rf.at(2025, 4, 1, 0))
    rf.merged_mr(session, fay.id, rf.at(2025, 6, 30, 23))
    rf.merged_mr(session, fay.id, rf.at(2025, 7, 1, 0))
    rf.hours(session, fay.id, date(2025, 6, 30), quarter_hours=4)
    rf.hours(session, fay.id, date(2025, 7, 1), quarter_hours=4)

    counts = {text: row_of(lb.leaderboard(session, lb.parse_period(text)), fay)
              for text in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")}

    assert {t: (r.merged_mrs, r.approved_hours) if r else None for t, r in counts.items()} == {
        "2025-Q1": (1, Decimal("0.00")), "2025-Q2": (2, Decimal("1.00")), "2025-Q3": (1, Decimal("1.00")),
        "2025-Q4": None}


# --- views --------------------------------------------------------------------------------------

def test_jurisdiction_and_organisation_views_keep_their_people(world):
    session = world
    acme, globex = rf.organisation(session, "Acme"), rf.organisation(session, "Globex", "UK")
    eu = rf.person(session, "eu.one", jurisdiction="EU", organisation=acme)
    uk = rf.person(session, "uk.one", jurisdiction="UK", organisation=globex)
    uk2 = rf.person(session, "uk.two", jurisdiction="UK", organisation=acme)
    for who in (eu, uk, uk2):
        rf.merged_mr(session, who.id, rf.at(2025, 2, 1))

    assert set(ranked(lb.leaderboard(session, Y2025, view="jurisdiction", key="uk"))) == {uk.id, uk2.id}
    assert set(ranked(lb.leaderboard(session, Y2025, view="organisation", key=acme.id))) == {eu.id, uk2.id}
    assert set(ranked(lb.leaderboard(session, Y2025, view="organisation", key=str(globex.id)))) == {uk.id}
    assert set(ranked(lb.leaderboard(session, Y2025))) == {eu.id, uk.id, uk2.id}
    assert [r.person_id for r in lb.top(session, Y2025, 10, "EU")] == [eu.id]


def test_working_group_view_counts_only_the_groups_work(world):
    session = world
    rf.group_project(session, "WG4", "lb-test/network")
    rf.group_project(session, "WG5", "lb-test/security")
    gil = wf.contributor(session, "gil", "EU")
    rf.merged_mr(session, gil.person_id, rf.at(2025, 2, 1), project_path="lb-test/network")
    rf.merged_mr(session, gil.person_id, rf.at(2025, 2, 2), project_path="lb-test/security")
    rf.merged_mr(session, gil.person_id, rf.at(2025, 2, 3), project_path="lb-test/nobodys")
    rf.hours(session, gil.person_id, date(2025, 2, 4), quarter_hours=4, working_group_code="WG4")
    rf.hours(session, gil.person_id, date(2025, 2, 5), quarter_hours=8, working_group_code="WG1")
    reviewer_a, reviewer_b = wf.reviewer(session, "rev.a", "EU"), wf.reviewer(session, "rev.b", "UK")
    rf.approved_bounty(session, gil, rf.at(2025, 3, 1), amount="1000", working_group_code="WG4",
                       reviewers=(reviewer_a, reviewer_b))
    rf.approved_bounty(session, gil, rf.at(2025, 3, 2), amount="2000", working_group_code="WG1",
                       reviewers=(reviewer_a, reviewer_b))
    rf.award_win(session, session.get(Person, gil.person_id), 2025, rf.at(2026, 1, 25))

    board = lb.leaderboard(session, Y2025, view="working_group", key="wg4")
    overall = lb.leaderboard(session, Y2025)

    gil_row = row_of(board, session.get(Person, gil.person_id))
    assert (gil_row.merged_mrs, gil_row.approved_hours, gil_row.earnings_eur, gil_row.awards_won) == (
        1, Decimal("1.00"), Money(100000, "EUR"), 0)
    assert row_of(board, session.get(Person, reviewer_a.person_id)).reviews_given == 1
    gil_all = row_of(overall, session.get(Person, gil.person_id))
    assert (gil_all.merged_mrs, gil_all.approved_hours, gil_all.earnings_eur, gil_all.awards_won) == (
        3, Decimal("3.00"), Money(300000, "EUR"), 1)
    assert row_of(overall, session.get(Person, reviewer_a.person_id)).reviews_given == 2


def test_views_and_keys_are_checked(world):
    session = world
    with pytest.raises(InvalidInput):
        lb.leaderboard(session, Y2025, view="planet", key="earth")
    with pytest.raises(InvalidInput):
        lb.leaderboard(session, Y2025, view="jurisdiction")
    with pytest.raises(NotFound):
        lb.leaderboard(session, Y2025, view="jurisdiction", key="XX")
    with pytest.raises(NotFound):
        lb.leaderboard(session, Y2025, view="working_group", key="WG99")
    with pytest.raises(InvalidInput):
        lb.leaderboard(session, Y2025, view="organisation", key="acme")
    with pytest.raises(NotFound):
        lb.leaderboard(session, Y2025, view="organisation", key=999999)
    with pytest.raises(InvalidInput):
        lb.leaderboard(session, Y2025, limit=0)
    with pytest.raises(InvalidInput):
        lb.leaderboard(session, Y2025, offset=-1)


# --- score, weights, order ----------------------------------------------------------------------

def test_weights_stored_change_the_order(world):
    session = world
    mia, ned = rf.person(session, "mia"), rf.person(session, "ned")
    rf.merged_mr(session, mia.id, rf.at(2025, 2, 1))
    rf.merged_mr(session, mia.id, rf.at(2025, 2, 2))
    rf.hours(session, ned.id, date(2025, 2, 3), quarter_hours=20)  # 5 hours

    before = lb.leaderboard(session, Y2025)
    assert ranked(before) == [mia.id, ned.id]
    assert [r.score for r in before.rows] == [Decimal(20), Decimal(5)]

    rf.weights(session, approved_hours="4.5", merged_mrs="0.0001")
    after = lb.leaderboard(session, Y2025)

    assert lb.weights(session)["approved_hours"] == Decimal("4.5")
    assert ranked(after) == [ned.id, mia.id]
    assert [r.score for r in after.rows] == [Decimal("22.5"), Decimal("0.0002")]


def test_the_score_is_exact_in_every_unit(world):
    session = world
    oli = rf.person(session, "oli")
    rf.weights(session, approved_hours="0.3333", earnings_eur="0.0007")
    rf.hours(session, oli.id, date(2025, 2, 3), quarter_hours=1)  # 0.25 hours
    claimant = wf.actor_of(oli)
    rf.approved_bounty(session, claimant, rf.at(2025, 3, 1), amount="999.99")

    row = row_of(lb.leaderboard(session, Y2025), oli)

    assert row.score == Decimal("0.3333") * Decimal("0.25") + Decimal("0.0007") * Decimal("999.99")
    assert row.score == Decimal("0.783318")


def test_equal_scores_rank_by_who_reached_them_first_then_username(world):
    session = world
    # Made in reverse of the expected order, so neither ids nor insertion order can explain it.
    zed, yan, amy, bob = (rf.person(session, name) for name in ("zed", "yan", "amy", "bob"))
    rf.merged_mr(session, bob.id, rf.at(2025, 9, 1))
    rf.merged_mr(session, amy.id, rf.at(2025, 9, 1))
    rf.merged_mr(session, yan.id, rf.at(2025, 5, 1))
    rf.merged_mr(session, zed.id, rf.at(2025, 3, 1))
    # Zed's latest scoring fact is later than Yan's: Zed reached the same 10 points later.
    rf.merged_mr(session, zed.id, rf.at(2025, 10, 1), dco_ok=False)  # not scoring: ignored
    top_scorer = rf.person(session, "top")
    rf.merged_mr(session, top_scorer.id, rf.at(2025, 12, 1))
    rf.merged_mr(session, top_scorer.id, rf.at(2025, 12, 2))

    board = lb.leaderboard(session, Y2025)

    assert ranked(board) == [top_scorer.id, zed.id, yan.id, amy.id, bob.id]
    assert [row.rank for row in board.rows] == [1, 2, 3, 4, 5]
    assert {row.score for row in board.rows[1:]} == {Decimal(10)}


def test_pages_rank_on_and_count_everyone(world):
    session = world
    people = [rf.person(session, f"p{n:02d}") for n in range(7)]
    for n, who in enumerate(people):
        for k in range(n + 1):
            rf.merged_mr(session, who.id, rf.at(2025, 1, 10 + k))

    page = lb.leaderboard(session, Y2025, limit=3, offset=3)
    beyond = lb.leaderboard(session, Y2025, limit=3, offset=30)

    assert [(row.rank, row.person_id) for row in page.rows] == [
        (4, people[3].id), (5, people[2].id), (6, people[1].id)]
    assert (page.total, beyond.rows, beyond.total) == (7, [], 7)
    where = lb.standing(session, Y2025, people[2].id)
    assert (where.row.rank, where.row.merged_mrs, where.total) == (5, 3, 7)
    assert lb.standing(session, Y2025, 999999) == lb.Standing(None, 7)


def test_people_merged_into_another_never_rank(world):
    session = world
    kept, gone = rf.person(session, "kept"), rf.person(session, "gone")
    rf.merged_mr(session, kept.id, rf.at(2025, 2, 1))
    for n in range(3):
        rf.merged_mr(session, gone.id, rf.at(2025, 2, 2 + n))
    gone.merged_into_id = kept.id
    session.commit()

    board = lb.leaderboard(session, Y2025)

    assert (ranked(board), board.total) == ([kept.id], 1)


# --- privacy ------------------------------------------------------------------------------------

def test_names_only_of_people_who_agreed_unless_the_viewer_may_see_them(world):
    session = world
    org = rf.organisation(session, "Initech")
    named = rf.person(session, "named", organisation=org, public=True, display_name="Named Person")
    shy = rf.person(session, "shy", organisation=org, display_name="Shy Person")
    rf.merged_mr(session, named.id, rf.at(2025, 2, 1))
    rf.merged_mr(session, shy.id, rf.at(2025, 2, 2))
    rf.merged_mr(session, shy.id, rf.at(2025, 2, 3))
    contributor = wf.contributor(session, "someone")
    auditor = pf.auditor(session)
    program_admin = wf.admin(session)

    for viewer in (None, contributor):
        board = lb.leaderboard(session, Y2025, viewer=viewer)
        shy_row, named_row = board.rows
        assert (shy_row.name, shy_row.username, shy_row.organisation_name, shy_row.is_public) == (
            None, None, None, False)
        assert shy_row.is_anonymous and shy_row.rank == 1 and shy_row.merged_mrs == 2
        assert shy_row.jurisdiction_code == "EU"
        assert (named_row.name, named_row.username, named_row.organisation_name) == (
            "Named Person", "named", "Initech")
    for viewer in (auditor, program_admin, SYSTEM):
        shy_row = lb.leaderboard(session, Y2025, viewer=viewer).rows[0]
        assert (shy_row.name, shy_row.username, shy_row.organisation_name, shy_row.is_public) == (
            "Shy Person", "shy", "Initech", False)


def test_a_consent_withdrawn_hides_the_name_on_the_next_read(world):
    session = world
    from bounty.services import listing_consent

    pat = rf.person(session, "pat", public=True)
    rf.merged_mr(session, pat.id, rf.at(2025, 2, 1))
    assert lb.leaderboard(session, Y2025).rows[0].name == "Pat"

    listing_consent.set_public_listing(session, wf.actor_of(pat), False, now=rf.at(2026, 2, 1))

    assert lb.leaderboard(session, Y2025).rows[0].name is None
    assert lb.standing(session, Y2025, pat.id).row.name is None
    assert lb.leaderboard(session, Y2025).rows[0].reached_at == rf.at(2025, 2, 1)


def test_an_empty_period_has_no_rows(world):
    rf.merged_mr(world, rf.person(world, "early").id, rf.at(2030, 12, 31, 23, 59, 59))
    board = lb.leaderboard(world, lb.parse_period("2031"))
    assert (board.rows, board.total, board.view, board.period.text) == ([], 0, "overall", "2031")
