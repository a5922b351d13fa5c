"""`bounty fund allocate`: the split by jurisdiction share, its formats and its refusals."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

import bounty.cli
from tests import factories

PROGRAMME_JSON = {
    "amount": "10000000.00",
    "currency": "EUR",
    "parts": [
        {"jurisdiction": "EU", "share": "0.5", "amount": "5000000.00"},
        {"jurisdiction": "UK", "share": "0.25", "amount": "2500000.00"},
        {"jurisdiction": "CA", "share": "0.15", "amount": "1500000.00"},
        {"jurisdiction": "AU", "share": "0.1", "amount": "1000000.00"},
    ],
}


@pytest.fixture
def empty_db_url(tmp_path: Path) -> str:
    """A database with no tables: the shares then come from seed/jurisdictions.toml."""
    return f"sqlite:///{tmp_path / 'unmigrated.db'}"


def allocate(url: str, *args: str) -> Result:
    # Click 8.2+ keeps stderr apart (`result.stderr`); `result.stdout` is stdout alone.
    return CliRunner().invoke(
        bounty.cli.cli, ["fund", "allocate", *args], env={"BOUNTY_DATABASE_URL": url}
    )


def parts_json(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def minor_sum(document: dict[str, object]) -> int:
    return sum(int(Decimal(p["amount"]) * 100) for p in document["parts"])  # type: ignore[attr-defined]


def test_programme_fund_as_json(empty_db_url: str) -> None:
    result = allocate(empty_db_url, "--amount", "10000000", "--currency", "EUR", "--format", "json")
    document = parts_json(result)
    assert document == PROGRAMME_JSON
    assert list(document) == ["amount", "currency", "parts"]
    assert [list(p) for p in document["parts"]] == [["jurisdiction", "share", "amount"]] * 4


def test_published_shares_are_used_on_a_migrated_database_without_shares(db_url: str) -> None:
    result = allocate(db_url, "--amount", "10000000.00", "--currency", "eur", "--format", "json")
    assert parts_json(result) == PROGRAMME_JSON


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.01", ["0.01", "0.00", "0.00", "0.00"]),
        ("0.03", ["0.02", "0.01", "0.00", "0.00"]),
    ],
)
def test_smallest_amounts_sum_exactly(empty_db_url: str, amount: str, expected: list[str]) -> None:
    document = parts_json(
        allocate(empty_db_url, "--amount", amount, "--currency", "EUR", "--format", "json")
    )
    assert [p["amount"] for p in document["parts"]] == expected
    assert minor_sum(document) == int(Decimal(amount) * 100)


def test_explicit_shares(empty_db_url: str) -> None:
    result = allocate(
        empty_db_url,
        "--amount",
        "1000",
        "--currency",
        "GBP",
        "--format",
        "json",
        "--shares",
        "UK=0.6,EU=0.4",
    )
    assert parts_json(result) == {
        "amount": "1000.00",
        "currency": "GBP",
        "parts": [
            {"jurisdiction": "UK", "share": "0.6", "amount": "600.00"},
            {"jurisdiction": "EU", "share": "0.4", "amount": "400.00"},
        ],
    }


def test_year_reads_the_shares_recorded_in_the_database(db_url: str, session: Session) -> None:
    factories.jurisdictions(
        session,
        2026,
        {"EU": Decimal("0.4"), "UK": Decimal("0.3"), "CA": Decimal("0.2"), "AU": Decimal("0.1")},
    )
    result = allocate(
        db_url, "--amount", "10000000", "--currency", "EUR", "--year", "2026", "--format", "json"
    )
    assert parts_json(result)["parts"] == [
        {"jurisdiction": "EU", "share": "0.4", "amount": "4000000.00"},
        {"jurisdiction": "UK", "share": "0.3", "amount": "3000000.00"},
        {"jurisdiction": "CA", "share": "0.2", "amount": "2000000.00"},
        {"jurisdiction": "AU", "share": "0.1", "amount": "1000000.00"},
    ]
    # A year before any recorded share has none to use, and says so in one line.
    refused = allocate(db_url, "--amount", "1", "--currency", "EUR", "--year", "2025")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()]
    assert "2025" in refused.stderr


def test_csv_format(empty_db_url: str) -> None:
    result = allocate(empty_db_url, "--amount", "0.03", "--currency", "EUR", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["jurisdiction", "share", "amount", "currency"],
        ["EU", "0.5", "0.02", "EUR"],
        ["UK", "0.25", "0.01", "EUR"],
        ["CA", "0.15", "0.00", "EUR"],
        ["AU", "0.1", "0.00", "EUR"],
    ]


def test_table_format_is_the_default(empty_db_url: str) -> None:
    result = allocate(empty_db_url, "--amount", "10000000", "--currency", "EUR")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines == [
        ["jurisdiction", "share", "amount", "EUR"],
        ["EU", "0.5", "5000000.00"],
        ["UK", "0.25", "2500000.00"],
        ["CA", "0.15", "1500000.00"],
        ["AU", "0.1", "1000000.00"],
        ["total", "1", "10000000.00"],
    ]


def test_jpy_has_no_decimals(empty_db_url: str) -> None:
    document = parts_json(
        allocate(empty_db_url, "--amount", "7", "--currency", "JPY", "--format", "json")
    )
    # Quotas 3.5, 1.75, 1.05 and 0.7: the two spare yen go to the largest remainders (UK, AU).
    assert [p["amount"] for p in document["parts"]] == ["3", "2", "1", "1"]


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--amount", "100", "--currency", "EUR", "--shares", "EU=0.5,UK=0.4"], "sum to exactly 1"),
        (["--amount=-5", "--currency", "EUR"], "must not be negative"),
        (["--amount", "100", "--currency", "XYZ"], "unknown currency"),
        (["--amount", "0.001", "--currency", "EUR"], "more than 2 decimals"),
        (["--amount", "1.5", "--currency", "JPY"], "more than 0 decimals"),
        (["--amount", "ten", "--currency", "EUR"], "not a number"),
        (
            ["--amount", "100", "--currency", "EUR", "--year", "2026", "--shares", "EU=1"],
            "--year and --shares",
        ),
        (["--amount", "1", "--currency", "EUR", "--shares", "EU=0.5,EU=0.5"], "given twice"),
        (["--amount", "1", "--currency", "EUR", "--shares", "EU"], "CODE=SHARE"),
    ],
)
def test_refusals_exit_2_with_one_line(empty_db_url: str, args: list[str], mentions: str) -> None:
    result = allocate(empty_db_url, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert mentions in lines[0]
    assert "Traceback" not in result.output


@st.composite
def cli_shares(draw: st.DrawFn) -> str:
    codes = draw(
        st.lists(
            st.sampled_from(["EU", "UK", "CA", "AU", "NZ", "FR"]),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    cuts = sorted(
        draw(st.lists(st.integers(0, 1000), min_size=len(codes) - 1, max_size=len(codes) - 1))
    )
    bounds = [0, *cuts, 1000]
    return ",".join(
        f"{code}={Decimal(bounds[i + 1] - bounds[i]).scaleb(-3)}" for i, code in enumerate(codes)
    )


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    minor=st.integers(min_value=0, max_value=10**14),
    currency=st.sampled_from(["EUR", "GBP", "JPY"]),
    shares=cli_shares(),
)
def test_random_amounts_and_shares_always_sum_exactly(
    empty_db_url: str, minor: int, currency: str, shares: str
) -> None:
    digits = 0 if currency == "JPY" else 2
    amount = str(Decimal(minor).scaleb(-digits))
    document = parts_json(
        allocate(
            empty_db_url,
            "--amount",
            amount,
            "--currency",
            currency,
            "--shares",
            shares,
            "--format",
            "json",
        )
    )
    assert document["amount"] == f"{Decimal(amount):.{digits}f}"
    parts = [Decimal(p["amount"]) for p in document["parts"]]
    assert sum(parts) == Decimal(amount)
    assert all(len(p["amount"].partition(".")[2]) == digits for p in document["parts"])
    assert {p["jurisdiction"] for p in document["parts"]} == {
        s.split("=")[0] for s in shares.split(",")
    }
