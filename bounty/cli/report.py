"""`bounty report`: reports: the annual awards report."""

from __future__ import annotations

import click


@click.group("report", help="Reports: the annual awards report.")
def group() -> None:
    pass
