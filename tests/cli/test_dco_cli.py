"""`bounty dco check`: the GitLab datasets, a list of commits, a real git repository, and
every bad input (exit 2, one line). No database is created or opened."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bounty import create_app
from bounty.cli import cli
from tests.datasets import DATASETS, GITLAB_DATA_DIR

DATA_DIR = GITLAB_DATA_DIR
JANE = ("Jane Doe", "jane@example.org")
DEPENDABOT = "49699333+dependabot[bot]@users.noreply.github.com"
MATCHES = "sign-off matches (name=author, email=author)"

Run = Callable[..., Result]


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    """A database URL's file the command must never create."""
    return tmp_path / "never-created.db"


def make_run(database_file: Path, **settings: object) -> Run:
    app = create_app({"DATABASE_URL": f"sqlite:///{database_file}", "ENV": "testing", **settings})
    runner = app.test_cli_runner()

    def invoke(*args: str, stdin: bytes | None = None) -> Result:
        return runner.invoke(cli, ["dco", "check", *args], input=stdin)

    return invoke


@pytest.fixture
def run(database_file: Path) -> Iterator[Run]:
    yield make_run(database_file)
    assert not database_file.exists()


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def gitlab_commit(sha: str, message: str, author: tuple[str, str] = JANE,
                  parents: tuple[str, ...] = ("0" * 40,)) -> dict[str, object]:
    return {"id": sha, "message": message, "author_name": author[0], "author_email": author[1],
            "committer_name": author[0], "committer_email": author[1], "parent_ids": list(parents)}


# The GitLab datasets.

@pytest.mark.parametrize("name", DATASETS)
def test_json_output_of_a_dataset_agrees_with_the_ground_truth_and_exits_1(run, name):
    result = run("--input", str(DATA_DIR / f"{name}.json"), "--format", "json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    truth = json.loads((DATA_DIR / f"{name}.dco_verdicts.json").read_text(encoding="utf-8"))
    assert set(report) == {"commits", "merge_requests", "summary"}
    assert report["commits"] == {sha: {"dco_ok": v["dco_ok"], "reason": v["reason"], "exempt": v["exempt"]}
                                 for sha, v in truth["commits"].items()}
    assert report["merge_requests"] == {iid: {"dco_ok": v["dco_ok"], "failing_commits": v["failing_commits"]}
                                        for iid, v in truth["merge_requests"].items()}
    assert report["summary"]["commits_failing"] == truth["counts"]["commits_dco_failing"]
    assert report["summary"]["merge_requests_failing"] == truth["counts"]["merge_requests_dco_failing"]


def test_the_table_lists_each_failing_commit_then_a_summary(run):
    result = run("--input", str(DATA_DIR / "helm__helm.json"))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["commit", "MR", "reason"]
    assert "68977ec0b5a4  !32304  Expected \"秀吉 <84045975+thc1006@users.noreply.github.com>\", but got " \
           "\"thc1006 <84045975+thc1006@users.noreply.github.com>\"." in lines
    assert len(lines) == 1 + 7 + 1
    assert lines[-1] == ("DCO: 597 commits, 7 failing (26 merge and 130 bot commits skipped); "
                         "400 merge requests, 7 failing")


# A list of GitLab commits.

def test_a_list_of_commits_that_all_pass_exits_0(run, tmp_path):
    path = tmp_path / "commits.json"
    path.write_text(json.dumps([
        gitlab_commit("a" * 40, "Fix\n\nSigned-off-by: Jane Doe <jane@example.org>\n"),
        gitlab_commit("b" * 40, "Merge branch 'x'", parents=("1" * 40, "2" * 40)),
        gitlab_commit("c" * 40, "Bump", author=("dependabot[bot]", DEPENDABOT)),
    ]))
    result = run("--input", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "commits": {
            "a" * 40: {"dco_ok": True, "reason": MATCHES, "exempt": None},
            "b" * 40: {"dco_ok": True, "reason": "skipped: merge commit", "exempt": "merge"},
            "c" * 40: {"dco_ok": True, "reason": "skipped: author is a GitHub Bot account", "exempt": "bot"},
        },
        "merge_requests": {},
        "summary": {"commits": 3, "commits_failing": 0, "commits_exempt_merge": 1, "commits_exempt_bot": 1,
                    "merge_requests": 0, "merge_requests_failing": 0},
    }
    table = run("--input", str(path))
    assert table.exit_code == 0
    assert table.stdout == "DCO: 3 commits, 0 failing (1 merge and 1 bot commits skipped)\n"


def test_a_failing_commit_from_stdin_exits_1(run):
    data = json.dumps([gitlab_commit("d" * 40, "No sign-off")]).encode()
    result = run("--input", "-", stdin=data)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == "dddddddddddd  -   The sign-off is missing."


def test_bot_patterns_come_from_the_setting_and_the_option_overrides_it(database_file, tmp_path):
    path = tmp_path / "commits.json"
    path.write_text(json.dumps([gitlab_commit("e" * 40, "Nightly", author=("CI", "robot@ci.example.org"))]))
    default = make_run(database_file)("--input", str(path), "--format", "json")
    assert default.exit_code == 1
    configured = make_run(database_file, DCO_BOT_PATTERNS=[r"@ci\.example\.org$"])
    assert configured("--input", str(path)).exit_code == 0
    overridden = configured("--input", str(path), "--bot-pattern", r"^nobody@", "--format", "json")
    assert overridden.exit_code == 1
    assert json.loads(overridden.stdout)["commits"]["e" * 40]["reason"] == "The sign-off is missing."
    assert make_run(database_file)("--input", str(path), "--bot-pattern", "^robot@").exit_code == 0
    assert not database_file.exists()


def test_the_installed_command_reads_the_setting_from_the_environment(tmp_path, database_file):
    path = tmp_path / "commits.json"
    path.write_text(json.dumps([gitlab_commit("e" * 40, "Nightly", author=("CI", "robot@ci.example.org"))]))
    env = {"BOUNTY_DATABASE_URL": f"sqlite:///{database_file}", "BOUNTY_DCO_BOT_PATTERNS": '["^robot@"]'}
    result = CliRunner().invoke(cli, ["dco", "check", "--input", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == "DCO: 1 commits, 0 failing (0 merge and 1 bot commits skipped)\n"
    assert not database_file.exists()


# A real git repository.

def git(repo: Path, *args: str, author: tuple[str, str] = JANE) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": JANE[0], "GIT_COMMITTER_EMAIL": JANE[1]}
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: signed root, then a merge of a branch holding an unsigned commit and a bot commit."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "commit", "-q", "--allow-empty", "-s", "-m", "Initial commit")
    git(path, "checkout", "-q", "-b", "feature")
    git(path, "commit", "-q", "--allow-empty", "-m", "Unsigned work\n\nNo trailer here.")
    git(path, "commit", "-q", "--allow-empty", "-m", "Bump deps",
        author=("dependabot[bot]", DEPENDABOT))
    git(path, "checkout", "-q", "main")
    git(path, "commit", "-q", "--allow-empty", "-s", "-m", "Signed on main\r\n\r\nCRLF body")
    git(path, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature")
    return path


def test_git_reads_signed_unsigned_bot_and_merge_commits(run, repo):
    result = run("--git", str(repo), "--format", "json")
    assert result.exit_code == 1, result.output
    commits = json.loads(result.stdout)["commits"]
    by_subject = {git(repo, "log", "-1", "--format=%s", sha): verdict for sha, verdict in commits.items()}
    assert by_subject == {
        "Initial commit": {"dco_ok": True, "reason": MATCHES, "exempt": None},
        "Unsigned work": {"dco_ok": False, "reason": "The sign-off is missing.", "exempt": None},
        "Bump deps": {"dco_ok": True, "reason": "skipped: author is a GitHub Bot account", "exempt": "bot"},
        "Signed on main": {"dco_ok": True, "reason": MATCHES, "exempt": None},
        "Merge branch 'feature'": {"dco_ok": True, "reason": "skipped: merge commit", "exempt": "merge"},
    }
    assert next(iter(commits)) == git(repo, "rev-parse", "HEAD")


def test_git_with_a_range_checks_only_those_commits(run, repo):
    signed = run("--git", str(repo), "HEAD~2..HEAD~1")
    assert signed.exit_code == 0, signed.output
    assert signed.stdout == "DCO: 1 commits, 0 failing (0 merge and 0 bot commits skipped)\n"
    branch = run("--git", str(repo), "HEAD^1..HEAD")  # what the merge brought in, merge included
    assert branch.exit_code == 1
    unsigned = git(repo, "rev-parse", "feature~1")
    assert branch.stdout.splitlines() == [
        "commit        MR  reason",
        f"{unsigned[:12]}  -   The sign-off is missing.",
        "DCO: 3 commits, 1 failing (1 merge and 1 bot commits skipped)",
    ]
    empty = run("--git", str(repo), "HEAD..HEAD", "--format", "json")
    assert empty.exit_code == 0
    assert json.loads(empty.stdout)["summary"]["commits"] == 0


# Bad input: exit 2 and one line naming what is wrong.

def test_an_unreadable_file(run, tmp_path):
    missing = tmp_path / "missing.json"
    assert one_error_line(run("--input", str(missing))) == (
        f"error: cannot read {missing}: No such file or directory")
    assert one_error_line(run("--input", str(tmp_path))) == f"error: cannot read {tmp_path}: Is a directory"


def test_a_file_that_is_not_json(run, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert one_error_line(run("--input", str(path))) == (
        f"error: {path}: not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)")


def test_a_file_of_the_wrong_shape(run, tmp_path):
    path = tmp_path / "shape.json"
    path.write_text(json.dumps({"merge_requests": []}))
    assert one_error_line(run("--input", str(path))) == (
        f'error: {path}: "commits" is missing (expected a dataset object or a list of commits)')


def test_a_commit_with_a_missing_field(run, tmp_path):
    commit = gitlab_commit("a" * 40, "Fix")
    del commit["author_email"]
    path = tmp_path / "missing-field.json"
    path.write_text(json.dumps({"project": {}, "merge_requests": [], "commits": {"32562": [commit]}}))
    assert one_error_line(run("--input", str(path))) == (
        f'error: {path}: commits["32562"][0]: "author_email" is missing')


def test_a_bad_bot_pattern_option(run):
    line = one_error_line(run("--input", str(DATA_DIR / "helm__helm.json"), "--bot-pattern", "[unclosed"))
    assert line.startswith(
        "error: --bot-pattern: bot pattern '[unclosed' is not a valid regular expression: ")


def test_a_bad_bot_pattern_setting(database_file):
    result = make_run(database_file, DCO_BOT_PATTERNS=["(oops"])("--input", str(DATA_DIR / "helm__helm.json"))
    assert one_error_line(result).startswith(
        "error: DCO_BOT_PATTERNS: bot pattern '(oops' is not a valid regular expression: ")


def test_not_a_git_repository(run, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert one_error_line(run("--git", str(plain))) == f"error: not a git repository: {plain}"
    gone = tmp_path / "gone"
    assert one_error_line(run("--git", str(gone))) == (
        f"error: not a git repository: {gone} (no such directory)")


def test_a_bad_revision_range(run, repo):
    line = one_error_line(run("--git", str(repo), "main..no-such-branch"))
    assert line.startswith("error: bad revision range 'main..no-such-branch': fatal: ")
    assert one_error_line(run("--git", str(repo), "--", "--all")) == (
        "error: bad revision range '--all': it must not start with '-'")


def test_a_repository_without_commits(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert one_error_line(run("--git", str(empty))).startswith("error: bad revision range 'HEAD': fatal: ")


@pytest.mark.parametrize(("args", "message"), [
    ((), "error: give exactly one of --input FILE or --git PATH"),
    (("--input", "x.json", "--git", "."), "error: give exactly one of --input FILE or --git PATH"),
    (("--input", "x.json", "HEAD~3..HEAD"),
     "error: a revision range (HEAD~3..HEAD) goes with --git PATH only"),
    (("--git", ".", "--format", "yaml"), "error: --format must be one of table, json, got 'yaml'"),
    (("--git", ".", "--all"), "error: No such option '--all'."),
    (("--input",), "error: Option '--input' requires an argument."),
])
def test_bad_combinations_of_options(run, args, message):
    assert one_error_line(run(*args)) == message
