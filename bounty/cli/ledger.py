"""`bounty ledger`."""

import click


@click.group("ledger")
def group() -> None:
    pass
