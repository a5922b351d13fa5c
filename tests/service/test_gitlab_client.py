"""The GitLab adapter and the fake GitLab it is tested against, over real HTTP on loopback."""

from __future__ import annotations

import warnings
from datetime import timedelta

import gitlab
import pytest
import requests

from bounty.gitlab.client import STATUS_DESCRIPTION_LIMIT, GitLabClient, GitLabError
from bounty.gitlab.records import format_time, parse_time
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    fake_gitlab_fixture,
    make_fake_gitlab_fixture,
    shared_datasets_fixture,
    synthetic_dataset,
)

HELM = "helm/helm"


def get(url: str, token: str | None = TOKEN) -> requests.Response:
    return requests.get(url, headers={"PRIVATE-TOKEN": token} if token else {}, timeout=10)


def test_the_fake_paginates_like_gitlab(fake_gitlab):
    base = f"{fake_gitlab.url}/api/v4/projects/helm%2Fhelm/merge_requests"
    first = get(f"{base}?state=merged&per_page=7")
    assert first.status_code == 200 and len(first.json()) == 7
    assert (first.headers["X-Page"], first.headers["X-Per-Page"], first.headers["X-Next-Page"],
            first.headers["X-Prev-Page"], first.headers["X-Total"], first.headers["X-Total-Pages"]) == \
        ("1", "7", "2", "", "400", "58")
    assert first.links["next"]["url"] == f"{base}?state=merged&per_page=7&page=2"
    assert first.links["first"]["url"] == f"{base}?state=merged&per_page=7&page=1"
    assert "page=58" in first.links["last"]["url"] and "prev" not in first.links
    last = get(first.links["last"]["url"])
    assert len(last.json()) == 400 - 57 * 7 and last.headers["X-Next-Page"] == ""
    assert "next" not in last.links and "page=57" in last.links["prev"]["url"]
    assert get(f"{base}?state=opened").json() == []
    assert get(base, token=None).status_code == 401
    assert get(base, token="wrong").json() == {"message": "401 Unauthorized"}
    by_id = get(f"{fake_gitlab.url}/api/v4/projects/{fake_gitlab.project_id(HELM)}").json()
    assert by_id["path_with_namespace"] == HELM


def test_updated_after_is_inclusive_and_ascending_order_is_kept(fake_gitlab):
    client = GitLabClient(fake_gitlab.url, TOKEN, per_page=50)
    project = client.project(HELM)
    everything = list(client.merged_merge_requests(project.id, None))
    assert len(everything) == 400
    assert [mr.updated_at for mr in everything] == sorted(mr.updated_at for mr in everything)
    pivot = everything[300].updated_at
    since = list(client.merged_merge_requests(project.id, pivot))
    assert since[0].updated_at == pivot and len(since) == 100
    later = everything[-1].updated_at + timedelta(seconds=1)
    assert list(client.merged_merge_requests(project.id, later)) == []
    assert parse_time(format_time(pivot)) == pivot


def test_python_gitlab_runs_unmodified_against_the_fake(fake_gitlab):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a next link outside the base URL would warn
        gl = gitlab.Gitlab(fake_gitlab.url, private_token=TOKEN)
        project = gl.projects.get(HELM)
        listed = project.mergerequests.list(state="merged", iterator=True, per_page=9)
        assert (len(listed), listed.total_pages) == (400, 45)
        assert sum(1 for _ in listed) == 400
        assert len(project.mergerequests.list(state="merged", get_all=True, per_page=100)) == 400
        mr = project.mergerequests.get(32562)
        assert mr.title.startswith("chore(deps): bump github.com/stretchr/testify")
        iid = max(fake_gitlab.commits[project.id], key=lambda i: len(fake_gitlab.commits[project.id][i]))
        commits = list(project.mergerequests.get(iid, lazy=True).commits(per_page=1))
        assert len(commits) == len(fake_gitlab.commits[project.id][iid]) > 1


def test_merge_request_records_and_commits(fake_gitlab):
    client = GitLabClient(fake_gitlab.url, TOKEN, per_page=2)
    pid = fake_gitlab.project_id(HELM)
    mr = client.merge_request(pid, 32562)
    assert (mr.project_path, mr.iid, mr.state, mr.is_merged, mr.head_sha[:8]) == \
        (HELM, 32562, "merged", True, "e9b85e4d")
    assert mr.author is not None
    assert (mr.author.username, mr.author.name) == ("dependabot-bot", "dependabot[bot]")
    assert mr.merged_at == mr.updated_at == parse_time("2026-08-20T21:58:20.000Z")
    iid = max(fake_gitlab.commits[pid], key=lambda i: len(fake_gitlab.commits[pid][i]))
    listed = fake_gitlab.commits[pid][iid]
    records = client.merge_request_commits(pid, iid)  # over several pages of 2
    assert [r.commit.sha for r in records] == [c["id"] for c in listed]
    assert [r.position for r in records] == list(range(len(listed)))
    assert records[0].commit.parent_ids == tuple(listed[0]["parent_ids"])
    assert records[0].authored_at == parse_time(listed[0]["authored_date"])


def test_empty_parent_ids_are_read_from_the_single_commit(make_fake_gitlab, shared_datasets):
    fake = make_fake_gitlab(shared_datasets[HELM], empty_parent_ids=True)
    client = GitLabClient(fake.url, TOKEN)
    pid = fake.project_id(HELM)
    merge_commit_mr = next(iid for iid, commits in fake.commits[pid].items()
                           if any(len(c["parent_ids"]) > 1 for c in commits))
    raw = get(f"{fake.url}/api/v4/projects/{pid}/merge_requests/{merge_commit_mr}/commits").json()
    assert all(c["parent_ids"] == [] for c in raw)
    records = client.merge_request_commits(pid, merge_commit_mr)
    assert [r.commit.parent_ids for r in records] == \
        [tuple(c["parent_ids"]) for c in fake.commits[pid][merge_commit_mr]]
    assert fake.counts["commit"] == len(records)
    client.merge_request_commits(pid, merge_commit_mr)
    assert fake.counts["commit"] == len(records)  # parents are remembered


def test_errors_name_what_was_read(make_fake_gitlab):
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=3))
    refused = r"refused the token \(401 Unauthorized\) while reading project coop/widget"
    with pytest.raises(GitLabError, match=refused) as e:
        GitLabClient(fake.url, "wrong").project("coop/widget")
    assert e.value.status == 401
    with pytest.raises(GitLabError, match="is unreachable") as e:
        GitLabClient("http://127.0.0.1:9", TOKEN).project(1)
    assert e.value.status is None
    client = GitLabClient(fake.url, TOKEN)
    with pytest.raises(GitLabError, match="project coop/none was not found"):
        client.project("coop/none")
    with pytest.raises(GitLabError, match="group nobody was not found"):
        client.group_projects("nobody")
    pid = client.project("coop/widget").id
    with pytest.raises(GitLabError, match="merge request !42 of project coop/widget was not found"):
        client.merge_request(pid, 42)
    fake.fail_after(1)
    with pytest.raises(GitLabError, match="answered 500 for the merged merge requests of project coop/"):
        list(GitLabClient(fake.url, TOKEN, per_page=2).merged_merge_requests(pid, None))
    with pytest.raises(ValueError, match="per_page"):
        GitLabClient(fake.url, TOKEN, per_page=101)


def test_commit_statuses_are_posted_and_truncated(make_fake_gitlab):
    dataset = synthetic_dataset("coop/widget", merge_requests=1)
    fake = make_fake_gitlab(dataset)
    client = GitLabClient(fake.url, TOKEN)
    pid, sha = dataset["project"]["id"], dataset["merge_requests"][0]["sha"]
    client.set_commit_status(pid, sha, True, "DCO: all 4 commits signed off")
    client.set_commit_status(pid, sha, False, "x " * 400)
    ok, failed = fake.statuses
    assert (ok["sha"], ok["status"], ok["name"], ok["description"]) == \
        (sha, "success", "dco", "DCO: all 4 commits signed off")
    assert failed["status"] == "failed" and len(failed["description"]) == STATUS_DESCRIPTION_LIMIT
    assert failed["description"].endswith("…")
