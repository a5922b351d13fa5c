"""Where the GitLab datasets the tests and benchmarks read live.

`tests/data/gitlab/` holds real merged work of two DCO-enforcing projects as GitLab REST v4
JSON with the reference DCO verdict of every commit and merge request (see its README for
sources, licences and counts). `BOUNTY_GITLAB_DATA_DIR` points elsewhere, e.g. at a
further set of datasets of the same shape.
"""

from __future__ import annotations

import os
from pathlib import Path

GITLAB_DATA_DIR = Path(os.environ.get("BOUNTY_GITLAB_DATA_DIR")
                       or Path(__file__).resolve().parent / "data" / "gitlab")
DATASETS = ("SovereignCloudStack__standards", "helm__helm")
