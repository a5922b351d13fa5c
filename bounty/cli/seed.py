"""`bounty seed`."""

import click


@click.command("seed")
def command() -> None:
    pass
