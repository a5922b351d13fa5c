"""The tally of a vote under the Apache CloudStack bylaws (seed 003), as a pure function.

Votes (3.1.2): +1 "yes", +0 "willing for it to go ahead", -0 "does not agree but will not
prevent it", -1 "no". Only binding votes decide (3.1.3); non-binding votes are counted for
display and never change an outcome, and a non-binding -1 is never a veto (3.1.5).

The three approvals (3.2):
- lazy consensus (3.2.1): at least 3 binding +1 and no binding -1. Here, and only here
  (3.3.1), a binding -1 is a veto, and a veto must carry an explanation: a binding -1
  without a reason is void (3.1.2.4) and counts as no vote at all; it is listed in
  `void_vetoes` so it can be shown as such.
- lazy majority (3.2.2): at least 3 binding +1 and more binding +1 than binding -1.
- lazy 2/3 majority (3.2.3): at least 3 binding votes and at least twice as many binding
  +1 as binding -1. "Binding votes" here means binding votes of all four values: the
  bylaws call +1, +0, -0 and -1 the four flavours of a vote (3.1.2), and +0 and -0 each
  state a position on the action (willing / not agreeing), so they are votes, not
  abstentions. Hence three binding +0 pass a lazy 2/3 vote: all three are willing for the
  action to go ahead and nobody is against it. A -1 needs no reason under either majority
  rule: there is no veto to void.

A voter votes once: a vote set naming a voter twice, an unknown value or an unknown rule
is refused (ValueError). Standard library only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

PLUS_ONE = "+1"
PLUS_ZERO = "+0"
MINUS_ZERO = "-0"
MINUS_ONE = "-1"
VALUES = (PLUS_ONE, PLUS_ZERO, MINUS_ZERO, MINUS_ONE)

LAZY_CONSENSUS = "lazy_consensus"
LAZY_MAJORITY = "lazy_majority"
LAZY_TWO_THIRDS = "lazy_two_thirds"
RULES = (LAZY_CONSENSUS, LAZY_MAJORITY, LAZY_TWO_THIRDS)

REQUIRED = 3
RULE_TEXT = {
    LAZY_CONSENSUS: "lazy consensus: at least 3 binding +1 and no binding -1",
    LAZY_MAJORITY: "lazy majority: at least 3 binding +1 and more binding +1 than binding -1",
    LAZY_TWO_THIRDS: "lazy 2/3 majority: at least 3 binding votes and at least twice as many "
                     "binding +1 as binding -1",
}


@dataclass(frozen=True)
class BallotVote:
    """One voter's vote: its value, whether it binds, and the reason given (if any)."""

    voter_id: int
    value: str
    is_binding: bool
    reason: str = ""


@dataclass(frozen=True)
class Tally:
    """The outcome of a vote under `rule`.

    `binding` and `non_binding` count votes by value (every value present, zeros included);
    `binding` holds only the votes that count for the outcome, so a void veto is not in it.
    `vetoes` are the voters of valid vetoes, `void_vetoes` those of binding -1 without a
    reason in a lazy-consensus vote; both in voter id order.
    """

    rule: str
    passed: bool
    binding: dict[str, int]
    non_binding: dict[str, int]
    vetoes: tuple[int, ...]
    void_vetoes: tuple[int, ...]
    explanation: str

    @property
    def binding_total(self) -> int:
        """How many binding votes count for the outcome (all four values)."""
        return sum(self.binding.values())


def _check(votes: list[BallotVote], rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    seen: set[int] = set()
    for vote in votes:
        if vote.value not in VALUES:
            raise ValueError(f"value must be one of {', '.join(VALUES)}, got {vote.value!r}")
        if vote.voter_id in seen:
            raise ValueError(f"voter {vote.voter_id} voted twice")
        seen.add(vote.voter_id)


def _counts(votes: Iterable[BallotVote]) -> dict[str, int]:
    counted = Counter(vote.value for vote in votes)
    return {value: counted[value] for value in VALUES}


def _shortfalls(rule: str, binding: dict[str, int], vetoes: tuple[int, ...]) -> list[str]:
    """What keeps the vote from passing, in plain sentences (empty when it passes)."""
    plus, minus = binding[PLUS_ONE], binding[MINUS_ONE]
    missing: list[str] = []
    if rule == LAZY_TWO_THIRDS:
        total = sum(binding.values())
        if total < REQUIRED:
            missing.append(f"needs at least {REQUIRED} binding votes, has {total}")
        if plus < 2 * minus:
            missing.append(f"needs at least twice as many binding +1 as binding -1, has {plus} to {minus}")
        return missing
    if plus < REQUIRED:
        missing.append(f"needs at least {REQUIRED} binding +1, has {plus}")
    if rule == LAZY_CONSENSUS and vetoes:
        names = ", ".join(str(voter) for voter in vetoes)
        missing.append(f"vetoed by voter{'s' if len(vetoes) > 1 else ''} {names}")
    if rule == LAZY_MAJORITY and plus <= minus:
        missing.append(f"needs more binding +1 than binding -1, has {plus} to {minus}")
    return missing


def tally(votes: Iterable[BallotVote], rule: str) -> Tally:
    """Apply `rule` (see the module docstring) to `votes`; the order of the votes is irrelevant."""
    cast = list(votes)
    _check(cast, rule)
    binding_votes = [vote for vote in cast if vote.is_binding]
    non_binding = _counts(vote for vote in cast if not vote.is_binding)
    vetoes: tuple[int, ...] = ()
    void: tuple[int, ...] = ()
    if rule == LAZY_CONSENSUS:
        against = [vote for vote in binding_votes if vote.value == MINUS_ONE]
        vetoes = tuple(sorted(vote.voter_id for vote in against if vote.reason.strip()))
        void = tuple(sorted(vote.voter_id for vote in against if not vote.reason.strip()))
        binding_votes = [vote for vote in binding_votes if vote.voter_id not in void]
    binding = _counts(binding_votes)
    missing = _shortfalls(rule, binding, vetoes)
    counts = ", ".join(f"{binding[value]} binding {value}" for value in VALUES)
    if missing:
        explanation = f"Fails {RULE_TEXT[rule]}. It {'; it '.join(missing)}. Counted: {counts}."
    else:
        explanation = f"Passes {RULE_TEXT[rule]}. Counted: {counts}."
    if void:
        names = ", ".join(str(voter) for voter in void)
        explanation += (f" Void veto{'es' if len(void) > 1 else ''} (a -1 without a reason) "
                        f"by voter{'s' if len(void) > 1 else ''} {names}, not counted.")
    non_binding_total = sum(non_binding.values())
    if non_binding_total:
        plural = "s" if non_binding_total > 1 else ""
        explanation += f" {non_binding_total} non-binding vote{plural} recorded, not counted."
    return Tally(rule, not missing, binding, non_binding, vetoes, void, explanation)
