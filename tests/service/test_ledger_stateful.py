"""Random sequences of posts, replays and reversals against a pure-Python model (SQLite).

After every step the ledger check finds nothing, every balance equals the model's, and the
lines of each currency sum to zero.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from bounty.ledger import EntryDraft, InsufficientFunds, Money, TransactionDraft
from bounty.models import LedgerLine
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import journal, ledger_check
from bounty.services.errors import Conflict

CURRENCIES = ("EUR", "GBP")
KINDS = {"asset": "debit", "expense": "debit", "equity": "credit", "income": "credit"}
# Few short keys, so random posts often reuse one: a replay or a conflict.
KEYS = st.text(alphabet="abc", min_size=1, max_size=2)


class LedgerMachine(RuleBasedStateMachine):
    template: Path
    workdir: Path
    _databases = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        target = self.workdir / f"ledger-{next(self._databases)}.db"
        shutil.copyfile(self.template, target)
        self.engine = make_engine(f"sqlite:///{target}")
        self.session = make_sessionmaker(engine=self.engine)()
        self.accounts: dict[str, tuple[str, str, bool]] = {}  # code -> (currency, side, guarded)
        self.debits: dict[str, int] = {}  # code -> signed debit total
        self.posted: dict[str, tuple[TransactionDraft, int]] = {}  # key -> (draft, transaction id)
        self.reversed: dict[int, int] = {}  # original id -> reversal id
        self.reversals: set[int] = set()

    def teardown(self) -> None:
        self.session.close()
        self.engine.dispose()

    # --- the model ---------------------------------------------------------------------------

    def normal(self, code: str) -> int:
        _, side, _ = self.accounts[code]
        return self.debits[code] if side == "debit" else -self.debits[code]

    def refused_for_funds(self, entries: list[EntryDraft]) -> bool:
        """The journal's rule: a post may not lower a guarded account below zero."""
        moved: dict[str, int] = {}
        for entry in entries:
            moved[entry.account] = moved.get(entry.account, 0) + entry.amount.minor
        for code, amount in moved.items():
            _, side, guarded = self.accounts[code]
            change = amount if side == "debit" else -amount
            if guarded and change < 0 and self.normal(code) + change < 0:
                return True
        return False

    def apply(self, entries: list[EntryDraft]) -> None:
        for entry in entries:
            self.debits[entry.account] += entry.amount.minor

    # --- rules -------------------------------------------------------------------------------

    @precondition(lambda self: len(self.accounts) < 8)
    @rule(currency=st.sampled_from(CURRENCIES), kind=st.sampled_from(sorted(KINDS)), guarded=st.booleans())
    def open_account(self, currency: str, kind: str, guarded: bool) -> None:
        code = f"{kind}:{len(self.accounts)}:{currency}"
        journal.ensure_account(self.session, code, code, kind, currency, is_negative_allowed=not guarded)
        self.session.commit()
        self.accounts[code] = (currency, KINDS[kind], guarded)
        self.debits[code] = 0

    def _pairs(self) -> list[tuple[str, str]]:
        return [(a, b) for a, b in itertools.permutations(sorted(self.accounts), 2)
                if self.accounts[a][0] == self.accounts[b][0]]

    @precondition(lambda self: bool(self._pairs()))
    @rule(data=st.data(), key=KEYS)
    def post(self, data: st.DataObject, key: str) -> None:
        legs = data.draw(st.lists(st.tuples(st.sampled_from(self._pairs()), st.integers(1, 10**7)),
                                  min_size=1, max_size=3))
        entries = []
        for (debit, credit), minor in legs:
            amount = Money(minor, self.accounts[debit][0])
            entries += [EntryDraft(debit, amount), EntryDraft(credit, -amount)]
        draft = TransactionDraft(kind="test", memo=key, idempotency_key=key, entries=entries)
        self._post(draft)

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.posted)))
        draft, transaction_id = self.posted[key]
        if key.startswith("rev:"):
            again = journal.reverse(self.session, draft.reverses_id or 0, key, draft.memo)
            self.session.commit()
        else:
            again = journal.post_once(self.session, draft)
        assert (again.transaction_id, again.created) == (transaction_id, False)

    @precondition(lambda self: any(not k.startswith("rev:") for k in self.posted))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(k for k in self.posted if not k.startswith("rev:"))))
        original, transaction_id = self.posted[key]
        rev_key = f"rev:{transaction_id}:{len(self.reversals)}"
        mirror = [EntryDraft(e.account, -e.amount) for e in original.entries]
        try:
            posted = journal.reverse(self.session, transaction_id, rev_key, "undo")
            self.session.commit()
        except Conflict:
            self.session.rollback()
            assert transaction_id in self.reversed
            return
        except InsufficientFunds:
            self.session.rollback()
            assert self.refused_for_funds(mirror)
            return
        assert transaction_id not in self.reversed
        assert not self.refused_for_funds(mirror)
        self.apply(mirror)
        self.reversed[transaction_id] = posted.transaction_id
        self.reversals.add(posted.transaction_id)
        self.posted[rev_key] = (
            TransactionDraft(kind="reversal", memo="undo", idempotency_key=rev_key, entries=mirror,
                             reverses_id=transaction_id),
            posted.transaction_id,
        )

    def _post(self, draft: TransactionDraft) -> None:
        key = draft.idempotency_key
        earlier = self.posted.get(key)
        try:
            posted = journal.post_once(self.session, draft)
        except Conflict:
            assert earlier is not None and _lines(earlier[0]) != _lines(draft)
            return
        except InsufficientFunds:
            assert earlier is None and self.refused_for_funds(list(draft.entries))
            return
        if earlier is not None:
            assert _lines(earlier[0]) == _lines(draft)
            assert (posted.transaction_id, posted.created) == (earlier[1], False)
            return
        assert posted.created and not self.refused_for_funds(list(draft.entries))
        self.apply(list(draft.entries))
        self.posted[key] = (draft, posted.transaction_id)

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def ledger_check_finds_nothing(self) -> None:
        assert ledger_check.check(self.session) == []

    @invariant()
    def balances_equal_the_model(self) -> None:
        for code, (currency, _, guarded) in self.accounts.items():
            assert journal.balance(self.session, code) == Money(self.normal(code), currency)
            assert not guarded or self.normal(code) >= 0

    @invariant()
    def each_currency_sums_to_zero(self) -> None:
        totals = self.session.execute(
            select(LedgerLine.currency, func.sum(LedgerLine.amount_minor)).group_by(LedgerLine.currency)
        ).all()
        assert all(total == 0 for _, total in totals)
        self.session.commit()


def _lines(draft: TransactionDraft) -> list[tuple[str, str, int]]:
    return sorted((e.account, e.amount.currency, e.amount.minor) for e in draft.entries)


def test_random_ledger_histories_keep_every_invariant(sqlite_template, tmp_path):
    LedgerMachine.template = sqlite_template
    LedgerMachine.workdir = tmp_path
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=30, stateful_step_count=20, deadline=None, derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
