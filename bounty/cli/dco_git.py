"""Reading commits for `bounty dco check --git` from a local repository with `git log`.

Only read-only git commands run (`rev-parse`, `log`), through subprocess with an argument
list. Merge commits are recognised by their parents (`%P`), so they are skipped exactly
as the checker skips them on GitLab data.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bounty.dco.inputs import DcoInputError
from bounty.dco.rules import Commit

# Fields separated by US (\x1f), commits by NUL (-z); the raw message comes last so that
# a stray \x1f inside it cannot shift the other fields.
_FORMAT = "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%B"
_FIELDS = 7
# Variables that would point git at another repository than the one asked for.
_REDIRECTING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


def _git(path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run one git command in `path`; DcoInputError when git itself is missing."""
    env = {key: value for key, value in os.environ.items() if key not in _REDIRECTING}
    # Signatures or colours configured for `git log` would corrupt the parsed output.
    command = ["git", "-C", str(path), "-c", "log.showSignature=false", "-c", "color.ui=never", *args]
    try:
        return subprocess.run(command, capture_output=True, env=env, check=False)  # noqa: S603
    except FileNotFoundError:
        raise DcoInputError("git is not installed (not found on PATH)") from None


def _first_error_line(stderr: bytes) -> str:
    """git's own explanation: its first `fatal:`/`error:` line, else its first line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else "git failed"


def read_commits(path: str, revrange: str | None = None) -> list[Commit]:
    """The commits of `revrange` (default HEAD: the whole history) in the repository at
    `path`, newest first. DcoInputError (one line) when `path` is not a git repository or
    the range is not one git understands."""
    where = Path(path)
    if not where.is_dir():
        raise DcoInputError(f"not a git repository: {path} (no such directory)")
    probe = _git(where, "rev-parse", "--git-dir")
    if probe.returncode != 0:
        raise DcoInputError(f"not a git repository: {path}")
    revision = revrange or "HEAD"
    if revision.startswith("-"):
        # An argument starting with "-" would be read by git as an option.
        raise DcoInputError(f"bad revision range {revision!r}: it must not start with '-'")
    result = _git(where, "log", "-z", _FORMAT, revision, "--")
    if result.returncode != 0:
        raise DcoInputError(f"bad revision range {revision!r}: {_first_error_line(result.stderr)}")
    commits = []
    for record in result.stdout.decode("utf-8", "replace").split("\0"):
        if not record:
            continue
        fields = record.split("\x1f", _FIELDS - 1)
        if len(fields) != _FIELDS:
            raise DcoInputError(f"unexpected git log output for {revision!r}")
        sha, parents, author_name, author_email, committer_name, committer_email, message = fields
        commits.append(Commit(
            sha=sha,
            message=message,
            author_name=author_name,
            author_email=author_email,
            committer_name=committer_name,
            committer_email=committer_email,
            parent_ids=tuple(parents.split()),
        ))
    return commits
