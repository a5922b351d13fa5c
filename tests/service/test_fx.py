"""Importing ECB reference rates, the rate in force on a day, and conversion to EUR."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bounty.ledger import MissingRate, Money
from bounty.models import AuditEvent, ExchangeRate
from bounty.services import fx
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import Conflict, InvalidInput, PermissionDenied

FINANCE = Actor(label="finance officer", roles=frozenset({"finance"}), person_id=None)

DAILY = (
    "Date, USD, JPY, GBP, CAD, AUD, ISK, \n"
    "20 November 2026, 1.0876, 161.42, 0.8531, 1.5214, 1.6587, N/A, \n"
)

HISTORICAL = (
    "Date,USD,GBP,CYP,\n"
    "2026-11-23,1.0901,0.8544,N/A,\n"
    "2026-11-20,1.0876,0.8531,N/A,\n"
    "2007-12-31,1.4721,0.73335,0.585274,\n"
)


def count(session, model=ExchangeRate) -> int:
    return session.execute(select(func.count(model.id))).scalar_one()


def stored(session, quote: str, on: date, source: str = "ECB") -> Decimal:
    return session.execute(
        select(ExchangeRate.rate).where(ExchangeRate.quote == quote, ExchangeRate.rate_date == on,
                                        ExchangeRate.source == source)
    ).scalar_one()


def test_the_daily_file_is_read_with_its_spaces_trailing_comma_and_missing_rates(session):
    result = fx.import_ecb_csv(session, FINANCE, DAILY)
    assert (result.added, result.unchanged) == (5, 0)
    assert result.first_date == result.last_date == date(2026, 11, 20)
    assert result.currencies == ("AUD", "CAD", "GBP", "JPY", "USD")
    assert stored(session, "USD", date(2026, 11, 20)) == Decimal("1.0876")
    assert stored(session, "JPY", date(2026, 11, 20)) == Decimal("161.42")
    # N/A means the ECB published no rate that day: nothing is stored for it.
    assert session.execute(select(ExchangeRate).where(ExchangeRate.quote == "ISK")).first() is None
    rate = session.execute(select(ExchangeRate).where(ExchangeRate.quote == "GBP")).scalar_one()
    assert (rate.base, rate.source) == ("EUR", "ECB")


def test_the_historical_file_is_read_row_by_row(session):
    result = fx.import_ecb_csv(session, FINANCE, HISTORICAL)
    assert (result.added, result.first_date, result.last_date) == (7, date(2007, 12, 31), date(2026, 11, 23))
    assert stored(session, "CYP", date(2007, 12, 31)) == Decimal("0.585274")
    assert stored(session, "GBP", date(2007, 12, 31)) == Decimal("0.73335")
    assert stored(session, "USD", date(2026, 11, 23)) == Decimal("1.0901")


def test_importing_the_same_file_twice_adds_nothing_and_writes_no_second_event(session):
    fx.import_ecb_csv(session, FINANCE, HISTORICAL)
    rows, events = count(session), count(session, AuditEvent)
    assert events == 1
    again = fx.import_ecb_csv(session, FINANCE, HISTORICAL)
    assert (again.added, again.unchanged) == (0, 7)
    assert (count(session), count(session, AuditEvent)) == (rows, events)


def test_an_overlapping_file_adds_only_the_new_rates(session):
    fx.import_ecb_csv(session, FINANCE, DAILY)
    result = fx.import_ecb_csv(session, FINANCE, HISTORICAL)
    # 20 November: USD and GBP already there with the same values.
    assert (result.added, result.unchanged) == (5, 2)


def test_a_different_rate_for_a_recorded_day_refuses_the_whole_file(session):
    fx.import_ecb_csv(session, FINANCE, DAILY)
    rows, events = count(session), count(session, AuditEvent)
    changed = "Date,USD,GBP,\n2026-11-23,1.0901,0.8544,\n2026-11-20,1.0876,0.8599,\n"
    with pytest.raises(Conflict, match=r"EUR/GBP on 2026-11-20 from ECB is recorded as 0\.8531"):
        fx.import_ecb_csv(session, FINANCE, changed)
    # The new day in the same file was not written either.
    assert (count(session), count(session, AuditEvent)) == (rows, events)
    assert session.execute(
        select(ExchangeRate).where(ExchangeRate.rate_date == date(2026, 11, 23))
    ).first() is None


def test_the_same_day_under_another_source_is_a_separate_rate(session):
    fx.import_ecb_csv(session, FINANCE, DAILY)
    other = fx.import_ecb_csv(session, FINANCE, "Date,GBP,\n2026-11-20,0.8599,\n", source="BoE")
    assert other.added == 1
    assert stored(session, "GBP", date(2026, 11, 20), "BoE") == Decimal("0.8599")


def test_an_unknown_currency_column_is_refused_by_name(session):
    with pytest.raises(InvalidInput, match=r"line 1, column 3: unknown currency 'XYZ'"):
        fx.import_ecb_csv(session, FINANCE, "Date, USD, XYZ, \n20 November 2026, 1.08, 2.0, \n")
    assert count(session) == 0


@pytest.mark.parametrize(("text", "message"), [
    ("", r"line 1: the file is empty"),
    ("Currency, USD\n2026-11-20, 1.08\n", r"line 1: expected the ECB header"),
    ("Date, USD, GBP, \n20 Novembre 2026, 1.08, 0.85, \n", r"line 2: '20 Novembre 2026' is not a date"),
    ("Date, USD, GBP, \n\n2026-11-20, 1.08\n", r"line 3: 1 values for the 2 currencies"),
    ("Date,USD,\n2026-11-20,1.08,0.85,x\n", r"line 2: 3 values for the 1 currencies"),
    ("Date,USD,\n2026-11-20,1.08,\n2026-11-19,one,\n", r"line 3: the USD rate 'one' is not a number"),
    ("Date,USD,\n2026-11-20,-1.08,\n", r"line 2: the USD rate '-1.08' must be a positive number"),
    ("Date,USD,\n2026-11-20,1.080000000001,\n", r"line 2: the USD rate .* more precision"),
    ("Date,USD,\n2026-11-20,1.08,\n2026-11-20,1.09,\n", r"lines 2 and 3 give two USD rates for 2026-11-20"),
    ("Date,USD,\n2026-11-20,N/A,\n", r"holds no exchange rates"),
    ("Date,USD,USD,\n2026-11-20,1.08,1.08,\n", r"column 3: USD appears twice"),
])
def test_a_malformed_file_is_refused_naming_the_line(session, text, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        fx.import_ecb_csv(session, FINANCE, text)
    assert refused.value.field == "file"
    assert count(session) == 0


def test_only_finance_may_import_rates(session):
    contributor = Actor(label="contributor", roles=frozenset({"contributor"}))
    with pytest.raises(PermissionDenied):
        fx.import_ecb_csv(session, contributor, DAILY)
    assert count(session) == 0


def test_an_import_is_audited_with_what_it_added(session):
    fx.import_ecb_csv(session, FINANCE, HISTORICAL)
    event = session.execute(select(AuditEvent)).scalar_one()
    assert (event.action, event.object_type, event.object_id) == ("fx.import", "exchange_rates", "ECB")
    assert event.summary["added"] == 7
    assert (event.summary["from"], event.summary["to"]) == ("2007-12-31", "2026-11-23")


def test_the_rate_in_force_is_the_newest_on_or_before_the_day(session):
    fx.import_ecb_csv(session, FINANCE, HISTORICAL)
    sunday, monday = date(2026, 11, 22), date(2026, 11, 23)
    assert fx.rate_on(session, "GBP", sunday).rate_date == date(2026, 11, 20)
    assert fx.rate_on(session, "GBP", sunday).rate == Decimal("0.8531")
    assert fx.rate_on(session, "GBP", monday).rate == Decimal("0.8544")
    assert fx.rate_on(session, "GBP", date(2026, 1, 1)).rate_date == date(2007, 12, 31)
    with pytest.raises(MissingRate, match=r"EUR/GBP on or before 2007-12-30"):
        fx.rate_on(session, "GBP", date(2007, 12, 30))
    with pytest.raises(MissingRate):
        fx.rate_on(session, "CAD", monday)


def test_on_the_same_day_a_published_rate_wins_over_the_snapshot(session):
    fx.import_ecb_csv(session, SYSTEM, "Date,GBP,\n2026-11-20,0.8600,\n", source=fx.SNAPSHOT_SOURCE)
    assert fx.rate_on(session, "GBP", date(2026, 11, 22)).source == fx.SNAPSHOT_SOURCE
    fx.import_ecb_csv(session, FINANCE, DAILY)
    assert fx.rate_on(session, "GBP", date(2026, 11, 22)).source == "ECB"
    assert fx.rate_on(session, "GBP", date(2026, 11, 22), source=fx.SNAPSHOT_SOURCE).rate == Decimal("0.86")
    in_force = {rate.quote: rate for rate in fx.rates_on(session, date(2026, 11, 22))}
    assert in_force["GBP"].source == "ECB"
    assert set(in_force) == {"USD", "JPY", "GBP", "CAD", "AUD"}


def test_to_eur_records_the_rate_its_date_and_source(session):
    fx.import_ecb_csv(session, FINANCE, DAILY)
    conversion = fx.to_eur(session, Money.parse("1000", "GBP"), date(2026, 11, 22))
    rate = fx.rate_on(session, "GBP", date(2026, 11, 22))
    # 1000 / 0.8531 = 1172.1955...
    assert conversion.target == Money.parse("1172.20", "EUR")
    assert conversion.source == Money.parse("1000", "GBP")
    assert (conversion.rate, conversion.rate_date, conversion.rate_source, conversion.rate_id) == (
        Decimal("0.8531"), date(2026, 11, 20), "ECB", rate.id)


def test_to_eur_rounds_half_up_once_to_the_cent(session):
    fx.import_ecb_csv(session, FINANCE, "Date,GBP,JPY,\n2026-11-20,0.8,160,\n")
    on = date(2026, 11, 20)
    # 0.02 / 0.8 = 0.025 exactly: half-up gives 0.03 (half-even would give 0.02).
    assert fx.to_eur(session, Money.parse("0.02", "GBP"), on).target == Money.parse("0.03", "EUR")
    assert fx.to_eur(session, Money.parse("0.01", "GBP"), on).target == Money.parse("0.01", "EUR")
    # JPY has no minor unit: 10000 / 160 = 62.5 -> 62.50.
    assert fx.to_eur(session, Money.parse("10000", "JPY"), on).target == Money.parse("62.50", "EUR")


def test_eur_converts_to_itself_without_a_rate_row(session):
    conversion = fx.to_eur(session, Money.parse("250.10", "EUR"), date(2026, 11, 22))
    assert conversion.target == Money.parse("250.10", "EUR")
    assert (conversion.rate, conversion.rate_id) == (Decimal(1), None)
    assert conversion.rate_source == fx.IDENTITY_SOURCE
    assert conversion.rate_date == date(2026, 11, 22)


def test_to_eur_without_a_rate_raises_instead_of_assuming_one(session):
    with pytest.raises(MissingRate, match="EUR/CAD"):
        fx.to_eur(session, Money.parse("100", "CAD"), date(2026, 11, 22))
