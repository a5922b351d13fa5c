"""`bounty badges`: badges: award what the facts have earned."""

from __future__ import annotations

import click


@click.group("badges", help="Badges: award what the facts have earned.")
def group() -> None:
    pass
