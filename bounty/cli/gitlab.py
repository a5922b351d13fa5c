"""`bounty gitlab`."""

from __future__ import annotations

import click


@click.group("gitlab")
def group() -> None:
    pass
