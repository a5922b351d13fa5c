"""The vote tally, exhaustively against the bylaws' definitions restated by hand (seed 003, 3.2)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations_with_replacement, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty.governance.votes import RULES, VALUES, BallotVote, tally

# Every kind of vote one voter can cast: value x binding x whether a reason was given.
KINDS = list(product(VALUES, (True, False), (True, False)))


def vote(voter: int, value: str, binding: bool, with_reason: bool) -> BallotVote:
    return BallotVote(voter, value, binding, "a reason" if with_reason else "")


def oracle(votes: list[BallotVote], rule: str) -> dict[str, object]:
    """Seed 003 read literally, one sentence at a time.

    3.1.3: only binding votes decide. 3.1.2.4 and 3.3.1: in a lazy consensus vote a binding
    -1 is a veto, and a veto with no explanation is void (it does not count at all).
    3.2.1: 3 binding +1 and no binding -1. 3.2.2: 3 binding +1 and more binding +1 than
    binding -1. 3.2.3: at least 3 binding votes (any of the four flavours of 3.1.2) and
    twice as many binding +1 as binding -1.
    """
    plus = minus = total = 0
    vetoes, void = [], []
    for v in votes:
        if not v.is_binding:
            continue
        if rule == "lazy_consensus" and v.value == "-1":
            if v.reason.strip() == "":
                void.append(v.voter_id)
                continue
            vetoes.append(v.voter_id)
        total += 1
        if v.value == "+1":
            plus += 1
        if v.value == "-1":
            minus += 1
    if rule == "lazy_consensus":
        passed = plus >= 3 and minus == 0
    elif rule == "lazy_majority":
        passed = plus >= 3 and plus > minus
    else:
        passed = total >= 3 and plus >= 2 * minus
    return {"passed": passed, "vetoes": tuple(sorted(vetoes)), "void": tuple(sorted(void)),
            "binding_total": total, "plus": plus, "minus": minus}


def multisets(largest: int) -> list[list[BallotVote]]:
    """Every multiset of up to `largest` votes (the order of votes is tested apart)."""
    cases = []
    for size in range(largest + 1):
        for kinds in combinations_with_replacement(range(len(KINDS)), size):
            cases.append([vote(10 + i, *KINDS[k]) for i, k in enumerate(kinds)])
    return cases


def test_every_multiset_of_up_to_five_votes_matches_the_bylaws():
    cases = multisets(5)
    assert len(cases) > 20_000
    outcomes: Counter[tuple[str, bool]] = Counter()
    for votes in cases:
        for rule in RULES:
            expected = oracle(votes, rule)
            result = tally(votes, rule)
            assert result.passed == expected["passed"], (rule, votes, result)
            assert result.vetoes == expected["vetoes"], (rule, votes, result)
            assert result.void_vetoes == expected["void"], (rule, votes, result)
            assert result.binding_total == expected["binding_total"]
            assert result.binding["+1"] == expected["plus"]
            assert result.binding["-1"] == expected["minus"]
            assert sum(result.non_binding.values()) == sum(not v.is_binding for v in votes)
            assert result.explanation.startswith("Passes" if result.passed else "Fails")
            outcomes[(rule, result.passed)] += 1
    # Every rule both passes and fails somewhere in the enumeration.
    assert set(outcomes) == {(rule, passed) for rule in RULES for passed in (True, False)}


def test_every_ordered_sequence_of_up_to_three_votes_matches_the_bylaws():
    # itertools.product: every kind of vote for each voter, in every order.
    for size in range(4):
        for kinds in product(range(len(KINDS)), repeat=size):
            votes = [vote(10 + i, *KINDS[k]) for i, k in enumerate(kinds)]
            for rule in RULES:
                expected = oracle(votes, rule)
                result = tally(votes, rule)
                assert (result.passed, result.vetoes, result.void_vetoes) == (
                    expected["passed"], expected["vetoes"], expected["void"]), (rule, votes)
                assert tally(list(reversed(votes)), rule) == result


def plus(voter: int) -> BallotVote:
    return BallotVote(voter, "+1", True)


def test_three_binding_plus_one_and_one_binding_minus_one():
    # The acceptance case: passes lazy majority (3 > 1), fails lazy consensus (a veto).
    votes = [plus(1), plus(2), plus(3), BallotVote(4, "-1", True, "the work was not hers")]
    majority = tally(votes, "lazy_majority")
    assert majority.passed and majority.vetoes == () and majority.void_vetoes == ()
    consensus = tally(votes, "lazy_consensus")
    assert not consensus.passed
    assert consensus.vetoes == (4,)
    assert "vetoed by voter 4" in consensus.explanation
    # Lazy 2/3: 4 binding votes, 3 >= 2 x 1.
    assert tally(votes, "lazy_two_thirds").passed


def test_a_reasonless_veto_is_void_and_shown_so():
    votes = [plus(1), plus(2), plus(3), BallotVote(4, "-1", True, "   ")]
    result = tally(votes, "lazy_consensus")
    assert result.passed
    assert result.vetoes == () and result.void_vetoes == (4,)
    assert result.binding["-1"] == 0
    assert "Void veto (a -1 without a reason) by voter 4, not counted." in result.explanation
    # Under the majority rules a -1 needs no reason and counts.
    majority = tally(votes, "lazy_majority")
    assert majority.binding["-1"] == 1 and majority.void_vetoes == ()


def test_non_binding_votes_never_decide():
    many_against = [BallotVote(100 + i, "-1", False, "no") for i in range(20)]
    passing = [plus(1), plus(2), plus(3)]
    for rule in RULES:
        assert tally([*passing, *many_against], rule).passed
    many_for = [BallotVote(100 + i, "+1", False) for i in range(20)]
    for rule in RULES:
        result = tally([plus(1), plus(2), *many_for], rule)
        assert not result.passed
        assert result.non_binding["+1"] == 20
    # A non-binding -1 is never a veto (3.1.5), with or without a reason.
    result = tally([*passing, BallotVote(9, "-1", False, "I object")], "lazy_consensus")
    assert result.passed and result.vetoes == () and result.void_vetoes == ()


def test_plus_zero_and_minus_zero_are_binding_votes_under_lazy_two_thirds():
    # Three binding votes, none against: passes (3.2.3 counts every flavour of vote).
    votes = [plus(1), BallotVote(2, "+0", True), BallotVote(3, "-0", True)]
    assert tally(votes, "lazy_two_thirds").passed
    assert not tally(votes, "lazy_majority").passed
    assert not tally(votes, "lazy_consensus").passed
    # Two binding votes are not enough, whatever they are.
    assert not tally([plus(1), plus(2)], "lazy_two_thirds").passed
    # 4 +1 to 2 -1 is exactly twice: passes; 3 to 2 is not.
    four_to_two = [plus(1), plus(2), plus(3), plus(4), BallotVote(5, "-1", True), BallotVote(6, "-1", True)]
    assert tally(four_to_two, "lazy_two_thirds").passed
    assert not tally(four_to_two[1:], "lazy_two_thirds").passed


def test_lazy_majority_needs_more_for_than_against():
    three_to_three = [plus(1), plus(2), plus(3), *(BallotVote(i, "-1", True) for i in (4, 5, 6))]
    result = tally(three_to_three, "lazy_majority")
    assert not result.passed
    assert "needs more binding +1 than binding -1, has 3 to 3" in result.explanation
    assert tally([*three_to_three, plus(7)], "lazy_majority").passed


def test_no_votes_fails_every_rule_saying_what_is_missing():
    assert tally([], "lazy_consensus").explanation == (
        "Fails lazy consensus: at least 3 binding +1 and no binding -1. It needs at least 3 binding +1, "
        "has 0. Counted: 0 binding +1, 0 binding +0, 0 binding -0, 0 binding -1.")
    assert "needs at least 3 binding votes, has 0" in tally([], "lazy_two_thirds").explanation


def test_a_voter_twice_an_unknown_value_or_rule_is_refused():
    with pytest.raises(ValueError, match="voter 1 voted twice"):
        tally([plus(1), BallotVote(1, "-1", True, "no")], "lazy_majority")
    with pytest.raises(ValueError, match=r"value must be one of \+1, \+0, -0, -1"):
        tally([BallotVote(1, "+2", True)], "lazy_majority")
    with pytest.raises(ValueError, match="rule must be one of"):
        tally([plus(1)], "simple_majority")


ballots = st.lists(st.tuples(st.sampled_from(VALUES), st.booleans(), st.sampled_from(["", "why"])),
                   max_size=12).map(lambda rows: [BallotVote(i, *row) for i, row in enumerate(rows)])
rules = st.sampled_from(RULES)


@settings(max_examples=200)
@given(ballots, rules, st.sampled_from(VALUES), st.sampled_from(["", "why"]))
def test_adding_a_non_binding_vote_never_changes_the_outcome(votes, rule, value, reason):
    before = tally(votes, rule)
    after = tally([*votes, BallotVote(999, value, False, reason)], rule)
    assert after.passed == before.passed
    assert after.binding == before.binding and after.vetoes == before.vetoes


@settings(max_examples=200)
@given(ballots, rules)
def test_adding_a_binding_plus_one_never_turns_a_pass_into_a_fail(votes, rule):
    if tally(votes, rule).passed:
        assert tally([*votes, plus(999)], rule).passed


@settings(max_examples=200)
@given(ballots, st.sampled_from(["lazy_consensus", "lazy_majority"]))
def test_adding_a_binding_minus_one_never_turns_a_fail_into_a_pass(votes, rule):
    if not tally(votes, rule).passed:
        assert not tally([*votes, BallotVote(999, "-1", True, "why")], rule).passed


def test_under_lazy_two_thirds_a_binding_minus_one_can_complete_the_quorum():
    # 3.2.3 read literally: two binding +1 are two binding votes (fails); a binding -1 makes
    # three, and 2 >= 2 x 1, so the vote passes. The bylaws' quorum counts every vote.
    assert not tally([plus(1), plus(2)], "lazy_two_thirds").passed
    assert tally([plus(1), plus(2), BallotVote(3, "-1", True, "no")], "lazy_two_thirds").passed


@settings(max_examples=200)
@given(ballots)
def test_a_valid_veto_always_fails_lazy_consensus_and_a_void_one_changes_nothing(votes):
    assert not tally([*votes, BallotVote(999, "-1", True, "why")], "lazy_consensus").passed
    before = tally(votes, "lazy_consensus")
    after = tally([*votes, BallotVote(999, "-1", True, "")], "lazy_consensus")
    assert after.passed == before.passed and 999 in after.void_vetoes


@settings(max_examples=200)
@given(ballots, rules, st.randoms(use_true_random=False))
def test_the_order_of_the_votes_never_matters_and_every_vote_is_accounted_for(votes, rule, rng):
    shuffled = list(votes)
    rng.shuffle(shuffled)
    assert tally(shuffled, rule) == tally(votes, rule)
    result = tally(votes, rule)
    assert result.binding_total + len(result.void_vetoes) + sum(result.non_binding.values()) == len(votes)
