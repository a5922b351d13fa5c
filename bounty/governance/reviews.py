"""The review rule for bounty claims, as a pure function of the votes cast.

The rule (seeds 000 and 001):
- A claim is approved by at least 2 approvals from reviewers of at least 2 different
  jurisdictions, none of them the claimant. A security fix also needs at least one of
  those approvals from a member of the security council.
- A reject by any eligible reviewer (anyone but the claimant) rejects the claim, whatever
  approvals it has: a reviewer who finds the work wanting stops the payout, and the bounty
  reopens for a new claim. The service asks for a comment with every reject.
- The claimant's own votes never count, either way.
- Until then the claim is pending; the reasons say what is still missing.

Each reviewer votes once; a vote set naming a reviewer twice is refused (ValueError).
Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

APPROVE = "approve"
REJECT = "reject"
VERDICTS = (APPROVE, REJECT)
REQUIRED_APPROVALS = 2
REQUIRED_JURISDICTIONS = 2

APPROVED = "approved"
REJECTED = "rejected"
PENDING = "pending"


@dataclass(frozen=True)
class ReviewVote:
    """One reviewer's verdict, with their jurisdiction and council membership at the time."""

    reviewer_id: int
    jurisdiction: str
    verdict: str
    is_security_council: bool = False


@dataclass(frozen=True)
class ReviewOutcome:
    """The decision ("approved", "rejected" or "pending") and why, in plain sentences."""

    decision: str
    reasons: list[str] = field(default_factory=list)


def review_outcome(votes: Iterable[ReviewVote], claimant_id: int,
                   needs_security_council: bool) -> ReviewOutcome:
    """Apply the review rule (see the module docstring) to `votes`."""
    cast = list(votes)
    seen: set[int] = set()
    for vote in cast:
        if vote.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {vote.verdict!r}")
        if vote.reviewer_id in seen:
            raise ValueError(f"reviewer {vote.reviewer_id} voted twice")
        seen.add(vote.reviewer_id)

    reasons: list[str] = []
    if any(vote.reviewer_id == claimant_id for vote in cast):
        reasons.append("the claimant's own vote does not count")
    eligible = [vote for vote in cast if vote.reviewer_id != claimant_id]

    rejects = [vote for vote in eligible if vote.verdict == REJECT]
    if rejects:
        names = ", ".join(f"reviewer {vote.reviewer_id} ({vote.jurisdiction})" for vote in rejects)
        return ReviewOutcome(REJECTED, [*reasons, f"rejected by {names}"])

    approvals = [vote for vote in eligible if vote.verdict == APPROVE]
    jurisdictions = {vote.jurisdiction for vote in approvals}
    has_council = any(vote.is_security_council for vote in approvals)
    missing: list[str] = []
    if len(approvals) < REQUIRED_APPROVALS:
        missing.append(f"needs {REQUIRED_APPROVALS} approvals, has {len(approvals)}")
    if len(jurisdictions) < REQUIRED_JURISDICTIONS:
        missing.append(f"needs approvals from {REQUIRED_JURISDICTIONS} jurisdictions, "
                       f"has {len(jurisdictions)}")
    if needs_security_council and not has_council:
        missing.append("a security fix needs an approval from the security council")
    if missing:
        return ReviewOutcome(PENDING, [*reasons, *missing])
    summary = (f"approved by {len(approvals)} reviewers of "
               f"{', '.join(sorted(jurisdictions))}")
    if needs_security_council:
        summary += ", the security council among them"
    return ReviewOutcome(APPROVED, [*reasons, summary])
