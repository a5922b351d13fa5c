"""Adapter over python-gitlab: merged merge requests and their commits as plain dataclasses.

- `records`: the plain records (projects, merge requests, commits as `bounty.dco.rules.Commit`)
  and the parsing of GitLab's JSON into them;
- `client`: `GitLabClient`, reading over REST v4 with python-gitlab (every page), filling in
  commit parents GitLab leaves out, writing the `dco` commit status; `GitLabError` for any
  failure, naming what was being read;
- `references`: issue references in merge-request text; `webhooks`: webhook payload parsing.

No Flask, no SQLAlchemy, no settings here: the URL, token and page size are arguments.
"""
