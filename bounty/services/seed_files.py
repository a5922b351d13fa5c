"""Reading the programme's reference data in `seed/` (TOML, CSV), without touching the database."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from bounty.ledger.allocation import normalise_shares

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def read_toml(name: str, seed_dir: Path = SEED_DIR) -> dict[str, Any]:
    with (seed_dir / name).open("rb") as handle:
        return tomllib.load(handle)


def published_shares(year: int, seed_dir: Path = SEED_DIR) -> dict[str, Decimal]:
    """The shares `seed/jurisdictions.toml` gives for `year`: its newest table at or before it."""
    tables = read_toml("jurisdictions.toml", seed_dir)["shares"]
    years = sorted(int(y) for y in tables if int(y) <= year)
    if not years:
        raise LookupError(f"seed/jurisdictions.toml has no shares for {year} or earlier")
    shares = {code: Decimal(value) for code, value in tables[str(years[-1])].items()}
    normalise_shares(shares)
    return shares
