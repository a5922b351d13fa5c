"""The DCO sign-off rules of DCO.md: one verdict per commit and per merge request.

The reference is the probot DCO app (dcoapp/app `lib/dco.js`, default configuration) with
npm email-validator 2.0.4; failure reasons are the app's own words. Passing commits get a
descriptive reason saying which sign-off matched and against whom, in the words of the
ground truth (`tests/data/gitlab/*.dco_verdicts.json`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bounty.dco.email import is_valid_email

# Same two regular expressions as DCO_BOT_PATTERNS in bounty/config.py (matched
# case-insensitively against the author e-mail).
DEFAULT_BOT_PATTERNS: tuple[str, ...] = (
    r"^(\d+\+)?[^@\s]+\[bot\]@users\.noreply\.github\.com$",
    r"^(project|group)_\d+_bot(_[0-9a-f]+)?@noreply\.[^@\s]+$",
)

MISSING = "The sign-off is missing."
SKIPPED_MERGE = "skipped: merge commit"
SKIPPED_GITHUB_BOT = "skipped: author is a GitHub Bot account"

# JavaScript line terminators: `^` (with the m flag) and `.` both treat these four as line ends.
_TERMINATORS = "\n\r\u2028\u2029"
# JavaScript `\s` minus the line terminators: Python's `\s` differs (it has \x1c-\x1f and
# \x85, lacks \ufeff), so the class is spelled out.
_JS_BLANKS = "\t\x0b\x0c \xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"

# /^Signed-off-by: (.*) <(.*)>\s*$/gim over the whole message. The name is greedy, so it
# runs to the last " <" after which an e-mail, ">" and only blanks end the line. re.ASCII
# keeps the case-insensitive key to ASCII letters, as JavaScript's non-unicode `i` flag
# does (no long s, U+017F, for "s").
_SIGNOFF_LINE = (rf"Signed-off-by: ([^{_TERMINATORS}]*) <([^{_TERMINATORS}]*)>"
                 rf"[{_JS_BLANKS}]*(?=[{_TERMINATORS}]|\Z)")
# `^` at a JavaScript line start is the message start or just after a terminator. Two
# patterns rather than one with a lookbehind: a pattern opening with a character class
# lets the regex engine skip ahead to the next line end, three times faster on real messages.
# The terminator is consumed but the end of a sign-off is only a lookahead, so consecutive
# sign-off lines are all found.
_SIGNOFF_FIRST = re.compile(_SIGNOFF_LINE, re.IGNORECASE | re.ASCII)
_SIGNOFF_LATER = re.compile(rf"[{_TERMINATORS}]{_SIGNOFF_LINE}", re.IGNORECASE | re.ASCII)
_GITHUB_BOT_SUFFIX = "[bot]@users.noreply.github.com"


@dataclass(frozen=True, slots=True)
class Commit:
    """What the rules need of one commit."""

    sha: str
    message: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    parent_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CommitVerdict:
    """The verdict on one commit; `exempt` is "merge", "bot" or None."""

    sha: str
    dco_ok: bool
    reason: str
    exempt: str | None


@dataclass(frozen=True, slots=True)
class MergeRequestVerdict:
    """A merge request passes when none of its commits fails."""

    dco_ok: bool
    failing_commits: tuple[str, ...]


def find_signoffs(message: str) -> list[tuple[str, str]]:
    """The (name, e-mail) of every sign-off line of `message`, in order, as the app finds them."""
    signoffs = _SIGNOFF_LATER.findall(message)
    first = _SIGNOFF_FIRST.match(message)
    if first is not None:
        signoffs.insert(0, first.groups())
    return signoffs


def commit_from_gitlab(data: Mapping[str, Any]) -> Commit:
    """One GitLab REST commit object (`id`, `message`, author/committer names and e-mails,
    `parent_ids`) as a Commit. Missing keys raise KeyError; null names or e-mails become ""."""
    return Commit(
        sha=data["id"],
        message=data["message"] or "",
        author_name=data["author_name"] or "",
        author_email=data["author_email"] or "",
        committer_name=data["committer_name"] or "",
        committer_email=data["committer_email"] or "",
        parent_ids=tuple(data.get("parent_ids") or ()),
    )


class DcoChecker:
    """The rules with a configured set of bot patterns (regular expressions, matched
    case-insensitively with `search` against the author e-mail)."""

    __slots__ = ("_bots", "bot_patterns")

    def __init__(self, bot_patterns: Iterable[str] = DEFAULT_BOT_PATTERNS) -> None:
        """Compile the bot patterns; ValueError names the first one that is not a valid regex."""
        self.bot_patterns: tuple[str, ...] = tuple(bot_patterns)
        bots = []
        for pattern in self.bot_patterns:
            if not isinstance(pattern, str):
                raise ValueError(f"bot pattern {pattern!r} is not a string")
            try:
                bots.append((pattern, re.compile(pattern, re.IGNORECASE)))
            except re.error as exc:
                raise ValueError(
                    f"bot pattern {pattern!r} is not a valid regular expression: {exc}") from None
        self._bots: tuple[tuple[str, re.Pattern[str]], ...] = tuple(bots)

    def bot_reason(self, author_email: str) -> str | None:
        """The skip reason when `author_email` is a bot's, else None."""
        for pattern, regex in self._bots:
            if regex.search(author_email):
                if author_email.lower().endswith(_GITHUB_BOT_SUFFIX):
                    return SKIPPED_GITHUB_BOT
                return f"skipped: author is a bot account (matches {pattern})"
        return None

    def check_commit(self, commit: Commit) -> CommitVerdict:
        """The verdict on one commit: rules 2-10 of DCO.md, in the app's order."""
        sha = commit.sha
        if len(commit.parent_ids) > 1:
            return CommitVerdict(sha, True, SKIPPED_MERGE, "merge")
        if self._bots:
            bot = self.bot_reason(commit.author_email)
            if bot is not None:
                return CommitVerdict(sha, True, bot, "bot")
        signoffs = find_signoffs(commit.message)
        if not signoffs:
            return CommitVerdict(sha, False, MISSING, None)
        # The app validates, and quotes in its messages, the author e-mail or, when that is
        # empty, the committer's; the comparison below still uses both as they are.
        email = commit.author_email or commit.committer_email
        if not is_valid_email(email):
            return CommitVerdict(sha, False, f"{email} is not a valid email address.", None)
        author_name = commit.author_name.lower()
        committer_name = commit.committer_name.lower()
        author_email = commit.author_email.lower()
        committer_email = commit.committer_email.lower()
        matching = 0
        first = ""
        for name, mail in signoffs:
            name = name.lower()
            if name == author_name:
                name_is = "author"
            elif name == committer_name:
                name_is = "committer"
            else:
                continue
            mail = mail.lower()
            if mail == author_email:
                email_is = "author"
            elif mail == committer_email:
                email_is = "committer"
            else:
                continue
            if not matching:
                first = f"(name={name_is}, email={email_is})"
            matching += 1
        count = len(signoffs)
        if matching:
            if count == 1:
                return CommitVerdict(sha, True, f"sign-off matches {first}", None)
            return CommitVerdict(sha, True, f"{matching} of {count} sign-offs match; first {first}", None)
        expected = f"{commit.author_name} <{email}>"
        if count == 1:
            name, mail = signoffs[0]
            return CommitVerdict(sha, False, f'Expected "{expected}", but got "{name} <{mail}>".', None)
        found = ", ".join(f'"{name} <{mail}>"' for name, mail in signoffs)
        return CommitVerdict(sha, False, f'Can not find "{expected}", in [{found}].', None)

    def check_merge_request(
            self, commits: Sequence[Commit]) -> tuple[MergeRequestVerdict, list[CommitVerdict]]:
        """The verdicts on a merge request's commits, and the merge request's (ok when none fails)."""
        verdicts = [self.check_commit(commit) for commit in commits]
        failing = tuple(verdict.sha for verdict in verdicts if not verdict.dco_ok)
        return MergeRequestVerdict(not failing, failing), verdicts
