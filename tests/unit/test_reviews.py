"""The review rule, exhaustively against an oracle written independently of it."""

from __future__ import annotations

from collections import Counter
from itertools import combinations_with_replacement, product

import pytest

from bounty.governance.reviews import ReviewOutcome, ReviewVote, review_outcome

CLAIMANT = 1
JURISDICTIONS = ("EU", "UK", "CA")
# Every kind of vote a reviewer can cast: jurisdiction x verdict x council membership.
KINDS = list(product(JURISDICTIONS, ("approve", "reject"), (False, True)))


def oracle(votes: list[ReviewVote], claimant_id: int, needs_council: bool) -> str:
    """The rule as stated in DOMAIN.md, counted by hand."""
    approvals_by_jurisdiction: Counter[str] = Counter()
    council_approved = False
    for vote in votes:
        if vote.reviewer_id == claimant_id:
            continue
        if vote.verdict == "reject":
            return "rejected"
        approvals_by_jurisdiction[vote.jurisdiction] += 1
        council_approved = council_approved or vote.is_security_council
    enough = sum(approvals_by_jurisdiction.values()) >= 2 and len(approvals_by_jurisdiction) >= 2
    if enough and (council_approved or not needs_council):
        return "approved"
    return "pending"


def vote_sets() -> list[tuple[list[ReviewVote], bool]]:
    """Every multiset of up to 4 votes, with and without one of them being the claimant's."""
    cases: list[tuple[list[ReviewVote], bool]] = []
    for size in range(5):
        for kinds in combinations_with_replacement(range(len(KINDS)), size):
            votes = [ReviewVote(10 + i, *KINDS[k]) for i, k in enumerate(kinds)]
            cases.append((votes, False))
            if votes:
                # The claimant casts the first of these votes (any kind of vote).
                claimant_vote = ReviewVote(CLAIMANT, *KINDS[kinds[0]])
                cases.append(([claimant_vote, *votes[1:]], True))
    return cases


def test_every_combination_of_up_to_four_votes_matches_the_oracle():
    decisions: Counter[str] = Counter()
    cases = vote_sets()
    assert len(cases) > 3000
    for votes, _ in cases:
        for needs_council in (False, True):
            expected = oracle(votes, CLAIMANT, needs_council)
            outcome = review_outcome(votes, CLAIMANT, needs_council)
            assert outcome.decision == expected, (votes, needs_council, outcome)
            # The order the votes were cast in does not matter.
            assert review_outcome(list(reversed(votes)), CLAIMANT, needs_council).decision == expected
            assert outcome.reasons, "every outcome says why"
            decisions[expected] += 1
    # The enumeration reaches every decision, through both routes that matter most.
    assert set(decisions) == {"approved", "rejected", "pending"}


def test_the_claimants_votes_never_count():
    own = ReviewVote(CLAIMANT, "EU", "approve")
    other = ReviewVote(2, "UK", "approve")
    assert review_outcome([own, other], CLAIMANT, False).decision == "pending"
    assert "the claimant's own vote does not count" in review_outcome([own, other], CLAIMANT, False).reasons
    # Nor does the claimant's reject stop approval by others.
    third = ReviewVote(3, "EU", "approve")
    rejecting_self = ReviewVote(CLAIMANT, "CA", "reject")
    assert review_outcome([rejecting_self, other, third], CLAIMANT, False).decision == "approved"


def test_two_approvals_of_one_jurisdiction_are_not_enough():
    votes = [ReviewVote(2, "EU", "approve"), ReviewVote(3, "EU", "approve")]
    outcome = review_outcome(votes, CLAIMANT, False)
    assert outcome == ReviewOutcome("pending", ["needs approvals from 2 jurisdictions, has 1"])


def test_a_security_fix_needs_the_council():
    votes = [ReviewVote(2, "EU", "approve"), ReviewVote(3, "UK", "approve")]
    pending = review_outcome(votes, CLAIMANT, True)
    assert pending.decision == "pending"
    assert pending.reasons == ["a security fix needs an approval from the security council"]
    votes.append(ReviewVote(4, "CA", "approve", is_security_council=True))
    approved = review_outcome(votes, CLAIMANT, True)
    assert approved.decision == "approved"
    assert approved.reasons == ["approved by 3 reviewers of CA, EU, UK, the security council among them"]


def test_one_reject_by_an_eligible_reviewer_rejects():
    votes = [ReviewVote(2, "EU", "approve"), ReviewVote(3, "UK", "approve"), ReviewVote(4, "CA", "reject")]
    outcome = review_outcome(votes, CLAIMANT, False)
    assert outcome == ReviewOutcome("rejected", ["rejected by reviewer 4 (CA)"])


def test_no_votes_is_pending_naming_what_is_missing():
    assert review_outcome([], CLAIMANT, True) == ReviewOutcome("pending", [
        "needs 2 approvals, has 0", "needs approvals from 2 jurisdictions, has 0",
        "a security fix needs an approval from the security council",
    ])


def test_a_reviewer_voting_twice_or_an_unknown_verdict_is_refused():
    with pytest.raises(ValueError, match="voted twice"):
        review_outcome([ReviewVote(2, "EU", "approve"), ReviewVote(2, "EU", "reject")], CLAIMANT, False)
    with pytest.raises(ValueError, match="verdict must be one of approve, reject"):
        review_outcome([ReviewVote(2, "EU", "abstain")], CLAIMANT, False)
