"""`bounty audit`."""

import click


@click.group("audit")
def group() -> None:
    pass
