"""`bounty dco`."""

from __future__ import annotations

import click


@click.group("dco")
def group() -> None:
    pass
