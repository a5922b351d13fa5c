"""Running the checker over a parsed input, and the two ways of showing the outcome.

JSON: `{"commits": {"<sha>": {"dco_ok", "reason", "exempt"}}, "merge_requests": {"<iid>":
{"dco_ok", "failing_commits"}}, "summary": {...}}`. Table: one line per failing commit
(12-character sha, merge request iids, reason) and a summary line, for a CI log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bounty.dco.inputs import DcoInput
from bounty.dco.rules import CommitVerdict, DcoChecker, MergeRequestVerdict

SHORT_SHA = 12


@dataclass(frozen=True, slots=True)
class DcoReport:
    """Every commit's verdict (input order), every merge request's, and which MRs hold a commit."""

    commits: dict[str, CommitVerdict]
    merge_requests: dict[str, MergeRequestVerdict]
    merge_requests_of: dict[str, tuple[str, ...]]

    @property
    def ok(self) -> bool:
        """True when no commit (hence no merge request) fails."""
        return all(verdict.dco_ok for verdict in self.commits.values())


def check(checker: DcoChecker, dco_input: DcoInput) -> DcoReport:
    """Check each distinct commit once, then derive each merge request's verdict."""
    commits = {commit.sha: checker.check_commit(commit) for commit in dco_input.commits}
    merge_requests: dict[str, MergeRequestVerdict] = {}
    holders: dict[str, list[str]] = {}
    for iid, mr_commits in dco_input.merge_requests.items():
        failing = tuple(commit.sha for commit in mr_commits if not commits[commit.sha].dco_ok)
        merge_requests[iid] = MergeRequestVerdict(not failing, failing)
        for commit in mr_commits:
            holders.setdefault(commit.sha, [])
            if iid not in holders[commit.sha]:
                holders[commit.sha].append(iid)
    return DcoReport(commits, merge_requests, {sha: tuple(iids) for sha, iids in holders.items()})


def summary(report: DcoReport) -> dict[str, int]:
    """Counts: commits, commits_failing, commits_exempt_merge, commits_exempt_bot,
    merge_requests, merge_requests_failing."""
    verdicts = report.commits.values()
    return {
        "commits": len(report.commits),
        "commits_failing": sum(1 for verdict in verdicts if not verdict.dco_ok),
        "commits_exempt_merge": sum(1 for verdict in verdicts if verdict.exempt == "merge"),
        "commits_exempt_bot": sum(1 for verdict in verdicts if verdict.exempt == "bot"),
        "merge_requests": len(report.merge_requests),
        "merge_requests_failing": sum(1 for verdict in report.merge_requests.values() if not verdict.dco_ok),
    }


def to_json(report: DcoReport) -> dict[str, Any]:
    """The report as a JSON-ready object (see the module docstring for its shape)."""
    return {
        "commits": {
            sha: {"dco_ok": verdict.dco_ok, "reason": verdict.reason, "exempt": verdict.exempt}
            for sha, verdict in report.commits.items()
        },
        "merge_requests": {
            iid: {"dco_ok": verdict.dco_ok, "failing_commits": list(verdict.failing_commits)}
            for iid, verdict in report.merge_requests.items()
        },
        "summary": summary(report),
    }


def render_table(report: DcoReport) -> str:
    """Plain text for a CI log: a line per failing commit, then one summary line."""
    lines = []
    failing = [verdict for verdict in report.commits.values() if not verdict.dco_ok]
    if failing:
        width = max(2, *(len(_mr_column(report, verdict.sha)) for verdict in failing))
        lines.append(f"{'commit':<{SHORT_SHA}}  {'MR':<{width}}  reason")
        for verdict in failing:
            mr = _mr_column(report, verdict.sha)
            reason = _one_line(verdict.reason)
            lines.append(f"{verdict.sha[:SHORT_SHA]:<{SHORT_SHA}}  {mr:<{width}}  {reason}")
    counts = summary(report)
    line = (f"DCO: {counts['commits']} commits, {counts['commits_failing']} failing "
            f"({counts['commits_exempt_merge']} merge and {counts['commits_exempt_bot']} bot commits "
            "skipped)")
    if report.merge_requests:
        line += f"; {counts['merge_requests']} merge requests, {counts['merge_requests_failing']} failing"
    lines.append(line)
    return "\n".join(lines) + "\n"


def _mr_column(report: DcoReport, sha: str) -> str:
    """The merge requests holding `sha` as `!12,!15`, or `-` when the input had none."""
    iids = report.merge_requests_of.get(sha, ())
    return ",".join(f"!{iid}" for iid in iids) if iids else "-"


def _one_line(text: str) -> str:
    """A reason quotes names and e-mails from commits; keep each failure on one log line."""
    return " ".join(text.splitlines())
