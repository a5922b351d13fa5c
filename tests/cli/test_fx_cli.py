"""`bounty fx import` and `bounty fx rates` against a real database of each kind."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bounty.cli import cli
from bounty.models import ExchangeRate
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services.seed_files import SEED_DIR

SNAPSHOT = SEED_DIR / "fx" / "eurofxref.csv"


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"BOUNTY_DATABASE_URL": db_url})


def stored_rates(db_url: str) -> dict[tuple[str, date, str], Decimal]:
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(select(ExchangeRate)).scalars()
            return {(r.quote, r.rate_date, r.source): r.rate for r in rows}
    finally:
        engine.dispose()


def test_import_prints_one_summary_line_and_stores_the_rates(db_url):
    result = run(db_url, "fx", "import", str(SNAPSHOT))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        f"imported {SNAPSHOT}: ECB: 29 rates added, 0 already recorded, 29 currencies, 2026-11-20"]
    rates = stored_rates(db_url)
    assert len(rates) == 29
    assert rates[("GBP", date(2026, 11, 20), "ECB")] == Decimal("0.8531")


def test_a_second_import_adds_nothing(db_url):
    run(db_url, "fx", "import", str(SNAPSHOT))
    result = run(db_url, "fx", "import", str(SNAPSHOT), "--source", "ECB")
    assert result.exit_code == 0
    assert "0 rates added, 29 already recorded" in result.stdout
    assert len(stored_rates(db_url)) == 29


def test_the_zip_the_ecb_serves_is_read_too(db_url, tmp_path):
    archive = tmp_path / "eurofxref.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(SNAPSHOT, "eurofxref.csv")
    result = run(db_url, "fx", "import", str(archive), "--source", "ECB-zip")
    assert result.exit_code == 0, result.output
    assert ("USD", date(2026, 11, 20), "ECB-zip") in stored_rates(db_url)


def test_an_unreadable_file_exits_2_with_one_line(db_url, tmp_path):
    result = run(db_url, "fx", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2
    missing = tmp_path / "missing.csv"
    assert result.stderr.splitlines() == [f"error: cannot read {missing}: No such file or directory"]
    assert "Traceback" not in result.output


def test_a_malformed_file_exits_2_naming_the_line(db_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Date, USD, \n20 November 2026, 1.0876, \n21 November 2026, abc, \n")
    result = run(db_url, "fx", "import", str(bad))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: file: line 3: the USD rate 'abc' is not a number"]
    assert stored_rates(db_url) == {}


def test_a_conflicting_rate_exits_2_and_writes_nothing(db_url, tmp_path):
    run(db_url, "fx", "import", str(SNAPSHOT))
    changed = tmp_path / "changed.csv"
    changed.write_text("Date,USD,\n2026-11-23,1.0901,\n2026-11-20,1.2,\n")
    result = run(db_url, "fx", "import", str(changed))
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: EUR/USD on 2026-11-20 from ECB is recorded as 1.0876")
    assert len(stored_rates(db_url)) == 29


def test_rates_prints_the_rates_in_force_on_a_weekend_day(db_url):
    run(db_url, "fx", "import", str(SNAPSHOT))
    result = run(db_url, "fx", "rates", "--date", "2026-11-22")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "rates in force on 2026-11-22 (1 EUR =)"
    assert len(lines) == 30
    gbp = next(line for line in lines if line.startswith("GBP "))
    assert gbp.split() == ["GBP", "0.8531", "2026-11-20", "ECB"]


def test_rates_before_the_first_rate_says_so(db_url):
    run(db_url, "fx", "import", str(SNAPSHOT))
    result = run(db_url, "fx", "rates", "--date", "2026-11-19")
    assert result.exit_code == 0
    assert "no exchange rates on or before 2026-11-19" in result.stdout


def test_a_bad_date_exits_2_with_one_line(db_url):
    result = run(db_url, "fx", "rates", "--date", "22/11/2026")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --date must be a day as YYYY-MM-DD, got '22/11/2026'"]


def test_rates_without_any_import_counts_nothing(db_url):
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        assert session.execute(select(func.count(ExchangeRate.id))).scalar_one() == 0
    engine.dispose()
    result = run(db_url, "fx", "rates", "--date", "2026-11-22")
    assert result.exit_code == 0
    assert result.stdout.startswith("no exchange rates")
