"""`bounty fx`."""

import click


@click.group("fx")
def group() -> None:
    pass
