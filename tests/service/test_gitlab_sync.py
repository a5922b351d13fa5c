"""The GitLab sync against the fake GitLab over real HTTP, on SQLite and PostgreSQL.

Counts come from the datasets' README (tests/data/gitlab) (400 MRs each; 400 and 597 commits; 55 and 7
MRs failing the DCO); every MR's and commit's verdict is compared with the verdict files.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.dco.rules import DcoChecker
from bounty.gitlab.client import GitLabClient, GitLabError
from bounty.gitlab.records import format_time
from bounty.models import AuditEvent, GitLabSyncCursor, MergeRequest, MergeRequestCommit
from bounty.services import audit, merged_work
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import PermissionDenied
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    DATASETS,
    TOKEN,
    FakeGitLab,
    fake_gitlab_fixture,
    make_commit,
    make_fake_gitlab_fixture,
    make_merge_request,
    shared_datasets_fixture,
    synthetic_dataset,
)

SCS, HELM = "SovereignCloudStack/standards", "helm/helm"
README = {SCS: {"mrs": 400, "commits": 400, "failing": 55}, HELM: {"mrs": 400, "commits": 597, "failing": 7}}
CHECKER = DcoChecker()


def verdicts(path: str) -> dict[str, Any]:
    file = DATASETS[path].with_name(DATASETS[path].name.replace(".json", ".dco_verdicts.json"))
    return json.loads(file.read_text(encoding="utf-8"))


def sync(session: Session, fake: FakeGitLab, projects: list[int | str], per_page: int = 100,
         **options: Any) -> merged_work.SyncSummary:
    client = GitLabClient(fake.url, TOKEN, per_page=per_page)
    return merged_work.sync_projects(session, SYSTEM, client, projects, checker=CHECKER, **options)


def merge_requests_of(session: Session, project_id: int) -> list[MergeRequest]:
    query = select(MergeRequest).where(MergeRequest.gitlab_project_id == project_id)
    return list(session.execute(query).scalars())


def stored(session: Session, project_id: int) -> dict[int, tuple[Any, ...]]:
    """Every stored MR of a project with its commits, as plain values (to compare states)."""
    session.expire_all()
    result = {}
    for mr in merge_requests_of(session, project_id):
        commits = tuple((c.sha, c.position, c.is_dco_ok, c.dco_reason, c.dco_exempt) for c in mr.commits)
        result[mr.iid] = (mr.id, mr.title, mr.head_sha, mr.is_dco_ok, mr.gitlab_updated_at, mr.synced_at,
                          commits)
    return result


def count(session: Session, model: type, *where: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def cursor_of(session: Session, project_id: int) -> GitLabSyncCursor:
    session.expire_all()
    return session.execute(
        select(GitLabSyncCursor).where(GitLabSyncCursor.gitlab_project_id == project_id)).scalar_one()


def test_full_sync_of_both_datasets_agrees_with_the_readme_and_every_verdict(session, fake_gitlab):
    summary = sync(session, fake_gitlab, [SCS, HELM])
    assert (summary.projects, summary.fetched, summary.created, summary.updated) == (2, 800, 800, 0)
    assert summary.dco_failing == 55 + 7
    assert summary.per_project[HELM].line(HELM) == (
        "helm/helm: 400 merge requests (400 new, 0 updated, 0 unchanged), 7 failing DCO")
    for path, expected in README.items():
        pid = fake_gitlab.project_id(path)
        truth = verdicts(path)
        assert count(session, MergeRequest, MergeRequest.gitlab_project_id == pid) == expected["mrs"]
        assert count(session, MergeRequestCommit, MergeRequestCommit.merge_request_id.in_(
            select(MergeRequest.id).where(MergeRequest.gitlab_project_id == pid))) == expected["commits"]
        assert count(session, MergeRequest, MergeRequest.gitlab_project_id == pid,
                     MergeRequest.is_dco_ok.is_(False)) == expected["failing"]
        for mr in merge_requests_of(session, pid):
            assert mr.is_dco_ok is truth["merge_requests"][str(mr.iid)]["dco_ok"], mr.iid
            assert [c.sha for c in mr.commits if not c.is_dco_ok] == \
                truth["merge_requests"][str(mr.iid)]["failing_commits"]
            for commit in mr.commits:
                want = truth["commits"][commit.sha]
                assert (commit.is_dco_ok, commit.dco_reason, commit.dco_exempt) == \
                    (want["dco_ok"], want["reason"], want["exempt"]), commit.sha
        newest = max(mr["updated_at"] for mr in fake_gitlab.merge_requests[pid].values())
        assert format_time(cursor_of(session, pid).updated_after).startswith(newest[:19])
    sample = session.execute(select(MergeRequest).where(MergeRequest.iid == 32562)).scalar_one()
    assert (sample.author_username, sample.head_sha[:8], sample.project_path) == \
        ("dependabot-bot", "e9b85e4d", HELM)
    assert sample.web_url == "https://gitlab.example.com/helm/helm/-/merge_requests/32562"
    assert sample.merged_at is not None and sample.synced_at is not None
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "gitlab.sync")).scalars().all()
    assert sorted(e.summary["project"] for e in events) == sorted([SCS, HELM])
    assert {e.summary["created"] for e in events} == {400}
    assert audit.verify(session) == []


def test_a_second_sync_changes_nothing_and_reads_one_page(session, make_fake_gitlab, shared_datasets):
    fake = make_fake_gitlab(shared_datasets[HELM])
    pid = fake.project_id(HELM)
    sync(session, fake, [HELM])
    before, cursor_before = stored(session, pid), cursor_of(session, pid).updated_after
    events_before = audit.count_events(session)
    fake.reset_counts()

    again = sync(session, fake, [pid])
    # The cursor's own MR (GitLab's updated_after is inclusive), unchanged; its commits are not read.
    assert (again.fetched, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    assert fake.counts["merge_requests"] == 1 and fake.counts["commits"] == 0
    assert stored(session, pid) == before
    assert cursor_of(session, pid).updated_after == cursor_before
    assert audit.count_events(session) == events_before

    full = sync(session, fake, [HELM], full=True)
    assert (full.fetched, full.created, full.updated, full.unchanged, full.dco_failing) == (400, 0, 0, 400, 7)
    assert stored(session, pid) == before
    assert cursor_of(session, pid).last_full_sync_at is not None
    assert audit.count_events(session) == events_before


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_an_interrupted_sync_resumes_to_exact_counts(session, make_fake_gitlab, shared_datasets, mode):
    fake = make_fake_gitlab(shared_datasets[SCS])
    pid = fake.project_id(SCS)
    # project + 2 pages of MRs + commits of 130 MRs: fails inside the third batch of 50.
    fake.fail_after(1 + 2 + 130, mode)
    with pytest.raises(GitLabError):
        sync(session, fake, [SCS], per_page=60)
    partial = stored(session, pid)
    assert len(partial) == 100  # two whole batches committed, the third rolled back
    newest_stored = max(row[4] for row in partial.values())
    assert cursor_of(session, pid).updated_after == newest_stored
    interrupted = session.execute(select(AuditEvent).where(AuditEvent.action == "gitlab.sync")).scalar_one()
    assert interrupted.summary["created"] == 100 and "interrupted" in interrupted.summary

    fake.heal()
    resumed = sync(session, fake, [SCS], per_page=60)
    assert resumed.created == 300 and resumed.unchanged == 1  # the cursor's own MR comes again
    assert count(session, MergeRequest) == 400
    assert count(session, MergeRequestCommit) == 400
    distinct = session.execute(select(func.count(func.distinct(MergeRequest.iid)))).scalar_one()
    assert distinct == 400
    assert count(session, MergeRequest, MergeRequest.is_dco_ok.is_(False)) == 55
    assert {iid: row[0] for iid, row in stored(session, pid).items() if iid in partial} == \
        {iid: row[0] for iid, row in partial.items()}


def test_incremental_sync_picks_up_a_new_and_an_updated_merge_request(session, make_fake_gitlab):
    dataset = synthetic_dataset("coop/widget", merge_requests=30, commits_per_mr=3, failing_every=0)
    fake = make_fake_gitlab(dataset)
    pid = dataset["project"]["id"]
    assert sync(session, fake, ["coop/widget"]).created == 30
    assert count(session, MergeRequest, MergeRequest.is_dco_ok.is_(False)) == 0

    newest = fake.newest_update(pid)
    sha = "f" * 40
    new_commit = make_commit("coop/widget", sha, "Add a thing\n\nSigned-off-by: Bea <bea@example.org>",
                             ("Bea", "bea@example.org"), parents=["e" * 40])
    added = make_merge_request(dataset["project"], 31, newest + timedelta(minutes=5), sha)
    fake.add_merge_request(pid, added, [new_commit])
    unsigned = make_commit("coop/widget", "d" * 40, "Forgot to sign", ("Cy", "cy@example.org"),
                           parents=["c" * 40])
    fake.update_merge_request(pid, 7, commits=[unsigned, *fake.commits[pid][7]], title="Change 7, amended")
    fake.reset_counts()

    summary = sync(session, fake, [pid])
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 1)  # 1: the cursor's own
    assert fake.counts["commits"] == 2
    assert count(session, MergeRequest) == 31
    amended = session.execute(select(MergeRequest).where(MergeRequest.iid == 7)).scalar_one()
    assert (amended.title, amended.is_dco_ok, amended.head_sha) == ("Change 7, amended", False, "d" * 40)
    assert amended.commits[0].sha == "d" * 40 and len(amended.commits) == 4
    assert [c.position for c in amended.commits] == [0, 1, 2, 3]
    assert amended.commits[0].dco_reason == "The sign-off is missing."
    assert count(session, MergeRequestCommit) == 30 * 3 + 1 + 1
    assert cursor_of(session, pid).updated_after == fake.newest_update(pid)

    # Dropping a commit from the MR (a force-push) removes its row.
    fake.update_merge_request(pid, 7, commits=fake.commits[pid][7][1:])
    assert sync(session, fake, [pid]).updated == 1
    session.expire_all()
    assert len(session.execute(select(MergeRequest).where(MergeRequest.iid == 7)).scalar_one().commits) == 3
    assert count(session, MergeRequestCommit) == 30 * 3 + 1


def test_empty_parent_ids_are_filled_from_the_single_commit_endpoint(session, make_fake_gitlab,
                                                                    shared_datasets):
    fake = make_fake_gitlab(shared_datasets[HELM], empty_parent_ids=True)
    pid = fake.project_id(HELM)
    summary = sync(session, fake, [HELM])
    assert summary.dco_failing == 7
    assert fake.counts["commit"] == 597  # one per commit listed without parents
    truth = verdicts(HELM)["commits"]
    exempt = session.execute(select(MergeRequestCommit.sha).where(MergeRequestCommit.dco_exempt == "merge"))
    assert sorted(exempt.scalars()) == sorted(sha for sha, v in truth.items() if v["exempt"] == "merge")
    assert count(session, MergeRequest, MergeRequest.gitlab_project_id == pid) == 400


def test_small_pages_are_all_followed(session, make_fake_gitlab, shared_datasets):
    fake = make_fake_gitlab(shared_datasets[SCS])
    summary = sync(session, fake, [SCS], per_page=7, batch_size=13)
    assert summary.created == 400
    assert fake.counts["merge_requests"] == 58  # ceil(400 / 7)
    assert count(session, MergeRequest) == 400 and count(session, MergeRequestCommit) == 400


def test_groups_are_expanded_and_progress_is_reported(session, make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=12),
                            synthetic_dataset("coop/tools/gadget", merge_requests=5),
                            synthetic_dataset("other/thing", merge_requests=3))
    seen: list[tuple[str, int]] = []
    summary = sync(session, fake, [], groups=["coop"], progress=lambda path, n: seen.append((path, n)),
                   batch_size=5)
    assert set(summary.per_project) == {"coop/widget", "coop/tools/gadget"}
    assert summary.created == 17 and count(session, MergeRequest) == 17
    assert [n for path, n in seen if path == "coop/widget"] == [0, 5, 10, 12]


def test_write_back_posts_a_dco_status_on_each_head(session, make_fake_gitlab):
    dataset = synthetic_dataset("coop/widget", merge_requests=10, commits_per_mr=2, failing_every=5)
    long_name = "N" * 300
    dataset["commits"]["3"][0] = make_commit("coop/widget", dataset["commits"]["3"][0]["id"],
                                             "Change\n\nSigned-off-by: Someone Else <else@example.org>",
                                             (long_name, "n@example.org"), parents=["b" * 40])
    fake = make_fake_gitlab(dataset)
    summary = sync(session, fake, ["coop/widget"], write_back=True)
    assert (summary.statuses_written, summary.statuses_failed) == (10, 0)
    by_sha = {status["sha"]: status for status in fake.statuses}
    heads = {mr["iid"]: mr["sha"] for mr in dataset["merge_requests"]}
    assert len(by_sha) == 10 and {s["name"] for s in fake.statuses} == {"dco"}
    assert {iid for iid, sha in heads.items() if by_sha[sha]["status"] == "failed"} == {3, 5, 10}
    assert by_sha[heads[5]]["description"].endswith("The sign-off is missing.")
    assert len(by_sha[heads[3]]["description"]) == 255 and by_sha[heads[3]]["description"].endswith("…")
    assert by_sha[heads[1]]["description"] == "DCO: all 2 commits signed off"

    fake.statuses.clear()
    sync(session, fake, ["coop/widget"], write_back=True)
    assert fake.statuses == []  # nothing re-checked, nothing posted


def test_import_merge_request_and_lookup_by_url(session, make_fake_gitlab):
    dataset = synthetic_dataset("coop/widget", merge_requests=3)
    dataset["merge_requests"][0]["state"] = "opened"  # iid 3, the newest
    fake = make_fake_gitlab(dataset)
    client = GitLabClient(fake.url, TOKEN)
    pid = dataset["project"]["id"]
    assert merged_work.import_merge_request(session, SYSTEM, client, pid, 3, checker=CHECKER) is None
    imported = merged_work.import_merge_request(session, SYSTEM, client, pid, 2, checker=CHECKER)
    assert imported is not None and imported.is_dco_ok is True and len(imported.commits) == 4
    again = merged_work.import_merge_request(session, SYSTEM, client, pid, 2, checker=CHECKER)
    assert again is not None and again.id == imported.id and count(session, MergeRequest) == 1
    assert count(session, AuditEvent, AuditEvent.action == "merge_request.import") == 1
    assert cursor_of(session, pid).updated_after is None  # webhooks never move the cursor

    url = "https://gitlab.example.com/Coop/Widget/-/merge_requests/2"
    assert merged_work.merge_request_for_url(session, url).id == imported.id
    assert merged_work.merge_request_for_url(session, url.replace("/2", "/9")) is None
    assert merged_work.merge_request_for_url(session, "https://gitlab.example.com/coop/widget") is None
    with pytest.raises(GitLabError, match="not found"):
        merged_work.import_merge_request(session, SYSTEM, client, pid, 99, checker=CHECKER)


def test_the_sync_needs_a_permission_and_a_reachable_gitlab(session, make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset())
    contributor = Actor(label="alice", roles=frozenset({"contributor"}), person_id=None)
    with pytest.raises(PermissionDenied):
        merged_work.sync_projects(session, contributor, GitLabClient(fake.url, TOKEN), ["coop/widget"],
                                  checker=CHECKER)
    with pytest.raises(GitLabError, match="refused the token"):
        merged_work.sync_projects(session, SYSTEM, GitLabClient(fake.url, "wrong"), ["coop/widget"],
                                  checker=CHECKER)
    with pytest.raises(GitLabError, match="project nope/missing was not found"):
        sync(session, fake, ["nope/missing"])
    assert count(session, GitLabSyncCursor) == 0
