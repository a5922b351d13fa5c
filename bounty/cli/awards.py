"""`bounty awards`: awards: open a round's nominations and its vote, show the results."""

from __future__ import annotations

import click


@click.group("awards", help="Awards: open a round's nominations and its vote, show the results.")
def group() -> None:
    pass
