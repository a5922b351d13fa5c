"""`bounty fx`: importing the ECB reference rates and showing the rates in force on a day."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.services import fx


@click.group("fx", help="Exchange rates (EUR based, as the ECB publishes them).")
def group() -> None:
    pass


def read_rates_file(path: str) -> str:
    """The text of an ECB rates file: the CSV itself, or the zip the ECB serves it in."""
    try:
        raw = Path(path).read_bytes()
        if zipfile.is_zipfile(io.BytesIO(raw)):
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
                if len(members) != 1:
                    fail(f"{path}: expected one CSV file in the zip archive, found {len(members)}")
                raw = archive.read(members[0])
        return raw.decode("utf-8-sig")
    except (OSError, zipfile.BadZipFile) as exc:
        fail(f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    except UnicodeDecodeError:
        fail(f"cannot read {path}: it is not a UTF-8 text file")


@group.command("import", help=(
    "Import an ECB reference-rate file (eurofxref.csv, eurofxref-hist.csv, or their zip). "
    "Idempotent; a rate that differs from one on record refuses the whole file."
))
@click.argument("file")
@click.option("--source", default=fx.ECB_SOURCE, show_default=True, help="Who published the rates.")
@with_appcontext
@refusals_exit_2
def import_rates(file: str, source: str) -> None:
    result = fx.import_ecb_csv(db.session, operator(), read_rates_file(file), source)
    click.echo(f"imported {file}: {result.summary()}")


@group.command("rates", help="Print the rate in force for each currency on --date (default: today).")
@click.option("--date", "on_text", default=None, help="Day as YYYY-MM-DD.")
@click.option("--source", default=None, help="Only rates from this source.")
@with_appcontext
@refusals_exit_2
def rates(on_text: str | None, source: str | None) -> None:
    try:
        on = date.fromisoformat(on_text) if on_text else datetime.now(UTC).date()
    except ValueError:
        fail(f"--date must be a day as YYYY-MM-DD, got {on_text!r}")
    in_force = fx.rates_on(db.session, on, source)
    if not in_force:
        click.echo(f"no exchange rates on or before {on.isoformat()}: import some with `bounty fx import`")
        return
    click.echo(f"rates in force on {on.isoformat()} (1 EUR =)")
    for rate in in_force:
        click.echo(f"{rate.quote} {fx.plain(rate.rate):>14}  {rate.rate_date.isoformat()}  {rate.source}")
