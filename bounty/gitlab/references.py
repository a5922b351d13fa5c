"""Issue references in a merge request's title or description: which GitLab issues it
closes or relates to.

Pure text parsing (no GitLab, no database). The grammar follows GitLab's default closing
pattern (docs "Managing issues", "Default closing pattern"), read case-insensitively:

    <keyword>[:] [issue|issues] <ref> [(, | and | , and | white space) <ref>]...

- keywords: close/closes/closed/closing, fix/fixes/fixed/fixing,
  resolve/resolves/resolved/resolving, implement/implements/implemented/implementing, and,
  for work that relates to an issue without closing it, "relates to", "related to",
  "relate to". A keyword must start a word ("Suffix #3", "unfixes #3" are no reference).
- a reference: `#12` (the merge request's own project), `project#12` (a project of the
  same namespace), `group/sub/project#12` (full path), or a link to the issue on the same
  GitLab (`https://gitlab.example.org/group/project/-/issues/12`, or the older form
  without `/-`). A reference ends at a non-word character ("#12abc" is none). Links to
  other hosts, and `#12` not led by a keyword, are ignored.

GitLab itself only closes issues with the closing keywords; "relates to" is this
programme's addition, since a merge request may complete a bounty without closing its
issue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# The largest issue number a database integer holds; anything bigger is no reference.
MAX_IID = 2**31 - 1

_KEYWORD = (r"(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)"
            r"|implement(?:s|ed|ing)?|relate[sd]?[ \t]+to)")
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_URL = r"https?://[^\s/#?<>()\[\]]+/[^\s#?<>()\[\]]+?/(?:-/)?issues/[1-9][0-9]*"
_SHORT = rf"(?:{_SEGMENT}(?:/{_SEGMENT})*)?#[1-9][0-9]*"
_REF = rf"(?:{_URL}|{_SHORT})(?![A-Za-z0-9_#])"
# GitLab's documented example reads a list across a line break ("fixes #18, #19\nand ...").
_SEPARATOR = r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s+)"
_SENTENCE = re.compile(
    rf"(?<![A-Za-z0-9_/#.-]){_KEYWORD}:?[ \t]+(?:issues?[ \t]+)?(?P<refs>{_REF}(?:{_SEPARATOR}{_REF})*)",
    re.IGNORECASE,
)
_ONE_REF = re.compile(_REF, re.IGNORECASE)
_ISSUE_PATH = re.compile(r"^/(?P<path>.+?)/(?:-/)?issues/(?P<iid>[1-9][0-9]*)$")
_MERGE_REQUEST_TAIL = re.compile(r"/-/merge_requests/[0-9]+/?$")


@dataclass(frozen=True, order=True)
class IssueRef:
    """An issue of a GitLab project: the project's full path, lower-cased, and the issue number."""

    project_path: str
    iid: int

    def __str__(self) -> str:
        return f"{self.project_path}#{self.iid}"


def issue_references(text: str, project_path: str, gitlab_url: str | None = None) -> list[IssueRef]:
    """The issues `text` closes or relates to (the grammar of the module docstring), in order
    of first mention, without repeats.

    `project_path` is the full path of the project the text belongs to (`#12` means its
    issue 12); `gitlab_url` is the GitLab's base URL, for issue links (None: links ignored).
    """
    found: list[IssueRef] = []
    home = project_path.strip().strip("/").lower()
    for sentence in _SENTENCE.finditer(text or ""):
        for token in _ONE_REF.finditer(sentence.group("refs")):
            ref = _resolve(token.group(0), home, gitlab_url)
            if ref is not None and ref not in found:
                found.append(ref)
    return found


def _resolve(token: str, home: str, gitlab_url: str | None) -> IssueRef | None:
    """The issue one reference token names, or None when it is not one of this GitLab's."""
    if "://" in token:
        return _from_url(token, gitlab_url)
    path, _hash, number = token.rpartition("#")
    iid = int(number)
    if iid > MAX_IID:
        return None
    path = path.lower()
    if not path:
        return IssueRef(home, iid)
    if "/" not in path:
        namespace = home.rpartition("/")[0]
        path = f"{namespace}/{path}" if namespace else path
    return IssueRef(path, iid)


def _from_url(url: str, gitlab_url: str | None) -> IssueRef | None:
    if not gitlab_url:
        return None
    base, parts = urlsplit(gitlab_url.rstrip("/")), urlsplit(url)
    if (parts.scheme not in ("http", "https") or parts.hostname != base.hostname
            or parts.port != base.port):
        return None
    path = parts.path
    if base.path:
        if not path.startswith(base.path + "/"):
            return None
        path = path[len(base.path):]
    match = _ISSUE_PATH.match(path)
    if match is None or "/" not in match.group("path") or int(match.group("iid")) > MAX_IID:
        return None
    return IssueRef(match.group("path").lower(), int(match.group("iid")))


def gitlab_url_of(web_url: str, project_path: str) -> str | None:
    """The GitLab's base URL, read off a merge request's `web_url` of project `project_path`
    (`https://gitlab.example.org/group/project/-/merge_requests/12` -> `https://gitlab.example.org`)."""
    tail = _MERGE_REQUEST_TAIL.search(web_url or "")
    if tail is None:
        return None
    head = web_url[:tail.start()]
    suffix = "/" + project_path.strip("/")
    if not head.lower().endswith(suffix.lower()):
        return None
    return head[:-len(suffix)] or None


def merge_request_reference(project_path: str, iid: int) -> str:
    """How GitLab writes a merge request of another project: `group/project!12`."""
    return f"{project_path}!{iid}"
