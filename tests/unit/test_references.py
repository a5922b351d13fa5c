"""Issue references in merge-request text: GitLab's closing keywords, "relates to", same
project, sibling project, full path and issue links; and what is no reference."""

from __future__ import annotations

import pytest

from bounty.gitlab.references import IssueRef, gitlab_url_of, issue_references, merge_request_reference

PROJECT = "helm/helm"
GITLAB = "https://gitlab.example.org"


def refs(text: str, project: str = PROJECT, gitlab: str | None = GITLAB) -> list[str]:
    return [str(ref) for ref in issue_references(text, project, gitlab)]


@pytest.mark.parametrize("text", [
    "Closes #12", "closes #12", "CLOSES #12", "Close #12", "Closed #12", "Closing #12",
    "Fix #12", "Fixes #12", "fixed #12", "Fixing #12",
    "Resolve #12", "Resolves #12", "resolved #12", "Resolving #12",
    "Implement #12", "Implements #12", "implemented #12", "Implementing #12",
    "Relates to #12", "related to #12", "Relate to #12", "relates  to #12",
    "Fixes: #12", "Closes issue #12", "Fixes issues #12", "Fixes #12.", "(Fixes #12)",
    "Some text.\n\nCloses #12\n", "Closes\t#12", "Fixes #12, thanks",
])
def test_each_keyword_form_references_the_issue(text: str) -> None:
    assert refs(text) == ["helm/helm#12"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Closes #1, #2", ["helm/helm#1", "helm/helm#2"]),
    ("Closes #1,#2 and #3", ["helm/helm#1", "helm/helm#2", "helm/helm#3"]),
    ("fixes #1, and #2", ["helm/helm#1", "helm/helm#2"]),
    ("Fixes #1 #2", ["helm/helm#1", "helm/helm#2"]),
    ("Closes #3 and fixes #4; relates to #5", ["helm/helm#3", "helm/helm#4", "helm/helm#5"]),
    ("Closes #7 and #7 again, fixes #7", ["helm/helm#7"]),
    ("fixes #18, #19\nand https://gitlab.example.org/group/otherproject/issues/23.",
     ["helm/helm#18", "helm/helm#19", "group/otherproject#23"]),
])
def test_several_references_in_one_sentence(text: str, expected: list[str]) -> None:
    assert refs(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Closes group/sub/project#8", ["group/sub/project#8"]),
    ("Closes Group/Project#8", ["group/project#8"]),  # paths compare lower-cased
    ("Closes charts#4", ["helm/charts#4"]),  # a project of the same namespace
    ("Closes #1 and other/proj#2", ["helm/helm#1", "other/proj#2"]),
    ("Closes https://gitlab.example.org/a/b/-/issues/10", ["a/b#10"]),
    ("Fixes https://gitlab.example.org/a/b/c/issues/11.", ["a/b/c#11"]),
])
def test_other_projects_by_path_or_link(text: str, expected: list[str]) -> None:
    assert refs(text) == expected


@pytest.mark.parametrize("text", [
    "#12",  # a mention, not a closing or relating sentence
    "See #12 for details",
    "issue#12 is related",
    "Suffix #12", "prefixes #12", "unfixes #12", "Enclosed #12", "hotfix-#12",
    "Closes #12abc", "Closes #12_1",  # no word character after the number
    "Closes #0", "Closes #99999999999",  # no such issue number
    "Closes https://github.com/helm/helm/issues/12",  # another host
    "Closes https://gitlab.example.org.evil.test/helm/helm/-/issues/12",
    "Closes http://gitlab.example.org:8443/helm/helm/-/issues/12",  # another port
    "Closes https://gitlab.example.org/helm/helm/-/merge_requests/12",  # not an issue
    "Closes a/b#12#13x",
    "Fixes:#12",  # GitLab needs white space after the keyword
    "https://example.net/closes #12",
    "Closes # 12", "Closes the bug in #12", "Relates #12",
])
def test_what_is_no_reference(text: str) -> None:
    assert refs(text) == []


def test_issue_links_need_the_gitlab_they_belong_to() -> None:
    assert refs("Closes https://gitlab.example.org/a/b/-/issues/3", gitlab=None) == []
    assert refs("Closes https://git.example.org/code/a/b/-/issues/3",
                gitlab="https://git.example.org/code") == ["a/b#3"]
    assert refs("Closes https://git.example.org/other/a/b/-/issues/3",
                gitlab="https://git.example.org/code") == []


def test_a_project_at_the_top_level_has_no_namespace_for_siblings() -> None:
    assert refs("Closes #2 and tools#3", project="solo") == ["solo#2", "tools#3"]


def test_empty_text_has_no_reference() -> None:
    assert issue_references("", PROJECT) == []


def test_references_compare_by_value() -> None:
    assert issue_references("Closes #4", "Helm/Helm") == [IssueRef("helm/helm", 4)]


def test_the_gitlab_url_is_read_off_a_merge_request_link() -> None:
    assert gitlab_url_of("https://gitlab.example.org/helm/helm/-/merge_requests/12", "helm/helm") == GITLAB
    assert gitlab_url_of("https://git.example.org/code/a/b/-/merge_requests/3", "a/b") == (
        "https://git.example.org/code")
    assert gitlab_url_of("https://gitlab.example.org/helm/helm/-/merge_requests/12", "other/x") is None
    assert gitlab_url_of("https://gitlab.example.org/helm/helm/-/issues/12", "helm/helm") is None
    assert merge_request_reference("helm/helm", 12) == "helm/helm!12"
