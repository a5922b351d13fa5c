"""`bounty gitlab sync` against the fake GitLab and a real database of each kind."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bounty.cli import cli
from bounty.models import GitLabSyncCursor, MergeRequest
from bounty.models.engine import make_engine, make_sessionmaker
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    FakeGitLab,
    make_fake_gitlab_fixture,
    synthetic_dataset,
)


def run(db_url: str, fake: FakeGitLab | None, *args: str, **settings: object) -> Result:
    env = {"BOUNTY_DATABASE_URL": db_url, "BOUNTY_GITLAB_TOKEN": TOKEN,
           "BOUNTY_GITLAB_URL": fake.url if fake else "http://127.0.0.1:9"}
    env |= {f"BOUNTY_{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in settings.items()}
    return CliRunner().invoke(cli, ["gitlab", "sync", *args], env=env)


def merge_requests(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.execute(select(func.count(MergeRequest.id))).scalar_one())
    finally:
        engine.dispose()


def test_sync_prints_one_summary_line_per_project(db_url, make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=12, failing_every=4),
                            synthetic_dataset("coop/gadget", merge_requests=3))
    result = run(db_url, fake, "--project", "coop/widget", "--project", "coop/gadget", GITLAB_PER_PAGE=5)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "coop/widget: 12 merge requests (12 new, 0 updated, 0 unchanged), 3 failing DCO",
        "coop/gadget: 3 merge requests (3 new, 0 updated, 0 unchanged), 0 failing DCO",
        "2 projects: 15 merge requests (15 new, 0 updated, 0 unchanged), 3 failing DCO",
    ]
    assert "coop/widget: 12 merge requests read" in result.stderr  # progress (not a terminal: plain lines)
    assert merge_requests(db_url) == 15

    again = run(db_url, fake, "--project", "coop/widget")
    assert again.exit_code == 0
    assert again.stdout.strip() == \
        "coop/widget: 1 merge request (0 new, 0 updated, 1 unchanged), 1 failing DCO"  # !12 fails
    full = run(db_url, fake, "--project", "coop/widget", "--full")
    assert full.stdout.strip() == \
        "coop/widget: 12 merge requests (0 new, 0 updated, 12 unchanged), 3 failing DCO"


def test_projects_and_groups_come_from_the_settings(db_url, make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=4),
                            synthetic_dataset("team/tool", merge_requests=2))
    project_id = fake.project_id("team/tool")
    result = run(db_url, fake, GITLAB_PROJECTS=[project_id], GITLAB_GROUPS="coop",
                 GITLAB_WRITE_BACK_STATUS=True)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [  # the projects first, then the groups' projects
        "team/tool: 2 merge requests (2 new, 0 updated, 0 unchanged), 0 failing DCO; "
        "dco statuses: 2 written, 0 failed",
        "coop/widget: 4 merge requests (4 new, 0 updated, 0 unchanged), 0 failing DCO; "
        "dco statuses: 4 written, 0 failed",
    ]
    assert len(fake.statuses) == 6


def test_nothing_configured_exits_2_with_one_line(db_url):
    result = run(db_url, None)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: no GitLab project to sync: give --project or set BOUNTY_GITLAB_PROJECTS or "
        "BOUNTY_GITLAB_GROUPS"]


def test_a_bad_token_or_an_unreachable_gitlab_exits_2_with_one_line(db_url, make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=2))
    refused = run(db_url, fake, "--project", "coop/widget", GITLAB_TOKEN="wrong")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        f"error: GitLab at {fake.url} refused the token (401 Unauthorized) while reading project coop/widget"]
    unreachable = run(db_url, None, "--project", "coop/widget")
    assert unreachable.exit_code == 2
    assert len(unreachable.stderr.splitlines()) == 1
    assert "GitLab at http://127.0.0.1:9 is unreachable" in unreachable.stderr
    unknown = run(db_url, fake, "--project", "coop/nothing")
    assert (unknown.exit_code, unknown.stderr.count("\n")) == (2, 1)
    assert "project coop/nothing was not found" in unknown.stderr
    assert merge_requests(db_url) == 0


def test_an_interrupted_sync_says_what_is_kept_and_resumes(db_url, make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=120, commits_per_mr=1))
    fake.fail_after(1 + 1 + 70, "drop")  # project, one page of 100 MRs, then 70 commit lists
    result = run(db_url, fake, "--project", "coop/widget")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(
        "(50 merge requests synced before it are kept; run the sync again to resume)")
    assert merge_requests(db_url) == 50
    fake.heal()
    resumed = run(db_url, fake, "--project", "coop/widget")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith("coop/widget: 71 merge requests (70 new, 0 updated, 1 unchanged)")
    assert merge_requests(db_url) == 120
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        assert session.execute(select(GitLabSyncCursor.merge_requests_seen)).scalar_one() == 120
    engine.dispose()
