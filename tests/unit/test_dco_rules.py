"""Each DCO rule of DCO.md and the edge cases of the app's JavaScript regex and e-mail check."""

from __future__ import annotations

import pytest

from bounty.config import DEFAULTS
from bounty.dco.email import is_valid_email
from bounty.dco.rules import (
    DEFAULT_BOT_PATTERNS,
    Commit,
    CommitVerdict,
    DcoChecker,
    MergeRequestVerdict,
    commit_from_gitlab,
    find_signoffs,
)

JANE = "Jane Doe"
JANE_MAIL = "jane@example.org"
CHECKER = DcoChecker()


def commit(message: str, *, author: tuple[str, str] = (JANE, JANE_MAIL),
           committer: tuple[str, str] | None = None, parents: tuple[str, ...] = ("p1",),
           sha: str = "c0ffee") -> Commit:
    committer = committer or author
    return Commit(sha, message, author[0], author[1], committer[0], committer[1], parents)


def verdict(message: str, **kwargs) -> CommitVerdict:
    return CHECKER.check_commit(commit(message, **kwargs))


def signed(line: str) -> str:
    return f"Fix the thing\n\nLonger explanation.\n\n{line}\n"


# Rule 5: what counts as a sign-off line.

def test_a_plain_sign_off_matching_the_author_passes():
    assert verdict(signed(f"Signed-off-by: {JANE} <{JANE_MAIL}>")) == CommitVerdict(
        "c0ffee", True, "sign-off matches (name=author, email=author)", None)


def test_crlf_line_ends_are_line_ends():
    message = f"Fix\r\n\r\nSigned-off-by: {JANE} <{JANE_MAIL}>\r\n"
    assert find_signoffs(message) == [(JANE, JANE_MAIL)]
    assert verdict(message).dco_ok


@pytest.mark.parametrize("separator", ["\r", "\u2028", "\u2029"])
def test_cr_and_unicode_line_separators_start_a_line(separator):
    message = f"Fix the thing{separator}Signed-off-by: {JANE} <{JANE_MAIL}>"
    assert find_signoffs(message) == [(JANE, JANE_MAIL)]
    assert verdict(message).dco_ok


@pytest.mark.parametrize("separator", ["\x85", "\x0b", "\x0c", "\x1c"])
def test_separators_python_knows_but_javascript_does_not_join_the_line(separator):
    # str.splitlines() would split here; JavaScript's `^` does not, so no sign-off.
    assert find_signoffs(f"Fix{separator}Signed-off-by: {JANE} <{JANE_MAIL}>") == []
    assert verdict(f"Fix{separator}Signed-off-by: {JANE} <{JANE_MAIL}>").reason == "The sign-off is missing."


def test_the_key_is_case_insensitive():
    assert verdict(signed(f"signed-off-by: {JANE} <{JANE_MAIL}>")).dco_ok
    assert verdict(signed(f"SIGNED-OFF-BY: {JANE} <{JANE_MAIL}>")).dco_ok


def test_case_folding_of_the_key_is_ascii_only():
    # U+017F (long s) upper-cases to "S", but JavaScript's non-unicode `i` flag ignores that.
    assert find_signoffs(f"\u017figned-off-by: {JANE} <{JANE_MAIL}>") == []


def test_two_spaces_after_the_colon_put_a_space_in_the_name():
    result = verdict(signed(f"Signed-off-by:  {JANE} <{JANE_MAIL}>"))
    assert find_signoffs(f"Signed-off-by:  {JANE} <{JANE_MAIL}>") == [(f" {JANE}", JANE_MAIL)]
    assert result == CommitVerdict(
        "c0ffee", False, f'Expected "{JANE} <{JANE_MAIL}>", but got " {JANE} <{JANE_MAIL}>".', None)


def test_no_space_after_the_colon_is_no_sign_off():
    assert verdict(signed(f"Signed-off-by:{JANE} <{JANE_MAIL}>")).reason == "The sign-off is missing."


def test_the_sign_off_must_start_the_line():
    assert verdict(signed(f"  Signed-off-by: {JANE} <{JANE_MAIL}>")).reason == "The sign-off is missing."


def test_trailing_whitespace_after_the_bracket_is_allowed():
    for tail in (" ", "\t", "  \t ", "\u00a0", "\ufeff", "\u3000"):
        assert find_signoffs(f"Signed-off-by: {JANE} <{JANE_MAIL}>{tail}\nmore") == [(JANE, JANE_MAIL)], tail


def test_anything_else_after_the_bracket_is_no_sign_off():
    for tail in (" x", ".", " (tested)", "\x1f"):
        assert find_signoffs(f"Signed-off-by: {JANE} <{JANE_MAIL}>{tail}") == [], tail


def test_two_brackets_on_a_line_put_the_first_in_the_name():
    line = f"Signed-off-by: {JANE} <old@example.org> <{JANE_MAIL}>"
    assert find_signoffs(line) == [(f"{JANE} <old@example.org>", JANE_MAIL)]
    assert verdict(signed(line)).reason == (
        f'Expected "{JANE} <{JANE_MAIL}>", but got "{JANE} <old@example.org> <{JANE_MAIL}>".')


def test_the_email_runs_to_the_last_closing_bracket():
    assert find_signoffs("Signed-off-by: A <a>b@c.d>") == [("A", "a>b@c.d")]


def test_a_line_without_brackets_is_not_a_sign_off():
    assert verdict(signed(f"Signed-off-by: {JANE} {JANE_MAIL}")).reason == "The sign-off is missing."


def test_a_sign_off_anywhere_in_the_message_counts():
    message = (f"Subject\n\nSigned-off-by: {JANE} <{JANE_MAIL}>\n\nMore text after it.\n"
               "Co-authored-by: X <x@y.z>")
    assert verdict(message).dco_ok


def test_the_very_first_line_can_be_a_sign_off():
    assert find_signoffs(f"Signed-off-by: {JANE} <{JANE_MAIL}>") == [(JANE, JANE_MAIL)]


def test_consecutive_sign_off_lines_are_all_found():
    message = "".join(f"Signed-off-by: N{i} <n{i}@x.org>\n" for i in range(4))
    assert find_signoffs(message) == [(f"N{i}", f"n{i}@x.org") for i in range(4)]


# Rules 6 and 7: missing sign-off, invalid author e-mail.

def test_no_sign_off_fails_with_the_apps_words():
    assert verdict("Fix the thing\n\nCo-authored-by: Jane <jane@example.org>\n") == CommitVerdict(
        "c0ffee", False, "The sign-off is missing.", None)


def test_the_missing_sign_off_is_reported_before_a_bad_email():
    assert verdict("Fix", author=(JANE, "jane@localhost")).reason == "The sign-off is missing."


@pytest.mark.parametrize("email", ["jane@localhost", "jané@example.org", "jane@exämple.org", "jane",
                                   "jane@@example.org", "a@b@example.org", "jane.@example.org",
                                   "jane@example.c", "jane@-example.org", f"{'j' * 65}@example.org",
                                   f"jane@{'e' * 64}.org", "jane@example.org\n"])
def test_invalid_author_emails_fail_with_the_apps_words(email):
    # The e-mail is checked before any sign-off is compared, so the sign-off's own is irrelevant.
    result = verdict(signed(f"Signed-off-by: {JANE} <{JANE_MAIL}>"), author=(JANE, email))
    assert result == CommitVerdict("c0ffee", False, f"{email} is not a valid email address.", None)


@pytest.mark.parametrize("email", ["jane@example.org", "j.a+ne@ex-ample.co.uk", f"{'j' * 64}@example.org",
                                   f"jane@{'e' * 63}.org", "a!#$%&'*+/=?^_`{|}~@b.cd",
                                   "jane@a--b.org", "JANE@EXAMPLE.ORG"])
def test_valid_emails(email):
    assert is_valid_email(email)


def test_an_empty_author_email_falls_back_to_the_committers():
    result = verdict(signed(f"Signed-off-by: {JANE} <{JANE_MAIL}>"), author=(JANE, ""),
                     committer=("Bot Committer", JANE_MAIL))
    assert result.reason == "sign-off matches (name=author, email=committer)"
    bad = verdict(signed(f"Signed-off-by: {JANE} <{JANE_MAIL}>"), author=(JANE, ""),
                  committer=("CI", "ci@localhost"))
    assert bad.reason == "ci@localhost is not a valid email address."


def test_the_fallback_email_is_quoted_in_the_mismatch_message():
    result = verdict(signed("Signed-off-by: Someone <some@one.org>"), author=(JANE, ""),
                     committer=("CI", "ci@example.org"))
    assert result.reason == f'Expected "{JANE} <ci@example.org>", but got "Someone <some@one.org>".'


# Rules 8-10: matching.

def test_names_and_emails_compare_case_insensitively_without_trimming():
    assert verdict(signed("Signed-off-by: JANE DOE <Jane@Example.ORG>")).dco_ok
    assert not verdict(signed(f"Signed-off-by: {JANE}  <{JANE_MAIL}>")).dco_ok  # name "Jane Doe "


def test_name_matching_the_committer_while_email_matches_the_author_passes():
    result = verdict(signed(f"Signed-off-by: Maintainer <{JANE_MAIL}>"),
                     committer=("Maintainer", "maintainer@example.org"))
    assert result == CommitVerdict("c0ffee", True, "sign-off matches (name=committer, email=author)", None)


def test_name_matching_the_author_while_email_matches_the_committer_passes():
    result = verdict(signed(f"Signed-off-by: {JANE} <maintainer@example.org>"),
                     committer=("Maintainer", "maintainer@example.org"))
    assert result.reason == "sign-off matches (name=author, email=committer)"


def test_a_sign_off_by_the_committer_alone_passes():
    result = verdict(signed("Signed-off-by: Maintainer <maintainer@example.org>"),
                     committer=("Maintainer", "maintainer@example.org"))
    assert result.reason == "sign-off matches (name=committer, email=committer)"


def test_one_sign_off_of_someone_else_fails_with_the_apps_words():
    result = verdict(signed("Signed-off-by: Jane Doe <jane@work.example>"))
    assert result == CommitVerdict(
        "c0ffee", False, f'Expected "{JANE} <{JANE_MAIL}>", but got "Jane Doe <jane@work.example>".', None)


def test_several_sign_offs_pass_when_one_matches_and_say_which():
    message = signed(f"Signed-off-by: Co Author <co@example.org>\nSigned-off-by: {JANE} <{JANE_MAIL}>\n"
                     f"Signed-off-by: {JANE} <{JANE_MAIL}>")
    assert verdict(message) == CommitVerdict(
        "c0ffee", True, "2 of 3 sign-offs match; first (name=author, email=author)", None)


def test_several_sign_offs_of_others_fail_listing_them_all():
    message = signed("Signed-off-by: A One <a@one.org>\nsigned-off-by: B Two <b@two.org>")
    assert verdict(message).reason == (
        f'Can not find "{JANE} <{JANE_MAIL}>", in ["A One <a@one.org>", "B Two <b@two.org>"].')


def test_other_trailers_play_no_part():
    message = f"Fix\n\nCo-authored-by: {JANE} <{JANE_MAIL}>\nAcked-by: {JANE} <{JANE_MAIL}>\n"
    assert verdict(message).reason == "The sign-off is missing."


# Rules 2 and 3: merge and bot commits.

def test_merge_commits_are_skipped():
    assert verdict("Merge branch 'x'", parents=("p1", "p2")) == CommitVerdict(
        "c0ffee", True, "skipped: merge commit", "merge")


def test_a_single_parent_or_a_root_commit_is_checked():
    assert verdict("Initial commit", parents=()).reason == "The sign-off is missing."


@pytest.mark.parametrize("email", ["49699333+dependabot[bot]@users.noreply.github.com",
                                   "renovate[bot]@users.noreply.github.com",
                                   "41898282+GitHub-Actions[BOT]@Users.NoReply.GitHub.com"])
def test_github_bot_authors_are_skipped(email):
    assert verdict("Bump deps", author=("dependabot[bot]", email)) == CommitVerdict(
        "c0ffee", True, "skipped: author is a GitHub Bot account", "bot")


@pytest.mark.parametrize("email", ["project_42_bot@noreply.gitlab.example.com",
                                   "project_42_bot_0f1e2d3c4b5a@noreply.gitlab.example.com",
                                   "group_7_bot_abc123@noreply.gitlab.example.com"])
def test_gitlab_access_token_bots_are_skipped(email):
    result = verdict("Automated update", author=("Project bot", email))
    assert (result.dco_ok, result.exempt) == (True, "bot")
    assert result.reason.startswith("skipped: author is a bot account (matches ^(project|group)_")


@pytest.mark.parametrize("email", ["dependabot@users.noreply.github.com", "bot@example.org",
                                   "project_x_bot@noreply.gitlab.example.com", "someone+project_1_bot@x.org"])
def test_lookalike_bot_addresses_are_checked(email):
    assert verdict("No sign-off", author=("Someone", email)).reason == "The sign-off is missing."


def test_bot_patterns_are_configuration():
    checker = DcoChecker(bot_patterns=[r"@ci\.example\.org$"])
    robot = commit("Nightly bump", author=("CI", "Robot@CI.example.org"))
    assert checker.check_commit(robot) == CommitVerdict(
        "c0ffee", True, r"skipped: author is a bot account (matches @ci\.example\.org$)", "bot")
    github_bot = commit("Bump", author=("dependabot[bot]", "1+dependabot[bot]@users.noreply.github.com"))
    assert checker.check_commit(github_bot).reason == "The sign-off is missing."
    assert DcoChecker(bot_patterns=[]).check_commit(robot).reason == "The sign-off is missing."


def test_a_bad_bot_pattern_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"bot pattern '\(unclosed' is not a valid regular expression"):
        DcoChecker(bot_patterns=["(unclosed"])


def test_the_default_patterns_are_the_apps_setting():
    assert list(DEFAULT_BOT_PATTERNS) == DEFAULTS["DCO_BOT_PATTERNS"]
    assert DcoChecker().bot_patterns == DEFAULT_BOT_PATTERNS


def test_merge_is_decided_before_bot():
    result = verdict("Merge", author=("bot", "1+x[bot]@users.noreply.github.com"), parents=("a", "b"))
    assert result.exempt == "merge"


# Rule 1: the merge request.

def test_a_merge_request_passes_when_no_commit_fails():
    good = commit(signed(f"Signed-off-by: {JANE} <{JANE_MAIL}>"), sha="a1")
    merge = commit("Merge", parents=("x", "y"), sha="a2")
    bad = commit("No sign-off", sha="a3")
    assert CHECKER.check_merge_request([good, merge])[0] == MergeRequestVerdict(True, ())
    mr, verdicts = CHECKER.check_merge_request([good, bad, merge])
    assert mr == MergeRequestVerdict(False, ("a3",))
    assert [v.sha for v in verdicts] == ["a1", "a3", "a2"]


def test_commit_from_gitlab_reads_the_rest_fields():
    data = {"id": "abc", "message": "m", "author_name": "A", "author_email": "a@b.cd",
            "committer_name": "C", "committer_email": None, "parent_ids": ["p", "q"], "title": "m"}
    assert commit_from_gitlab(data) == Commit("abc", "m", "A", "a@b.cd", "C", "", ("p", "q"))
