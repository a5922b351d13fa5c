"""What every command shares: one-line refusals with exit code 2, and the CLI actor."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import click

from bounty.ledger import LedgerError
from bounty.services.actors import Actor, cli_actor
from bounty.services.errors import ServiceError

P = ParamSpec("P")
R = TypeVar("R")

BAD_INPUT = 2


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """Print `message` as one line on stderr and exit with `code`."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    raise SystemExit(code)


def refusals_exit_2(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the refusals of services and the money core into exit code 2 and one line."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ServiceError, LedgerError) as exc:
            fail(str(exc))

    return wrapper


def operator() -> Actor:
    """The person at the terminal, recorded in the audit log by their login name."""
    return cli_actor(f"cli:{getpass.getuser()}")
