"""`bounty documents`: documents built on the job queue: list and purge."""

from __future__ import annotations

import click


@click.group("documents", help="Documents built on the job queue: list and purge.")
def group() -> None:
    pass
