"""The reference seed: jurisdictions and shares, working groups and their capabilities, bounty
categories, the year's pools funded by share, and the exchange-rate snapshot.

Everything comes from the files in `seed/` and is loaded idempotently: what is on record
is left as it is (once seeded, the database is the record: change it through the
application, not by editing the files) and only what is missing is added, each addition
with its audit event. Running the seed twice changes nothing: no new rows, ledger lines or
audit events.

The seed runs in steps, each one transaction: the reference rows, then each pool (through
`funds.ensure_pool` and `funds.fund_pool`, idempotent by their default key), then the rate
snapshot. Every file is read and checked before the first step, and every step is
idempotent, so a run that stops half-way is completed by running it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import CURRENCY_DIGITS, LedgerError, Money
from bounty.models import (
    BountyCategory,
    Capability,
    Jurisdiction,
    JurisdictionShare,
    Pool,
    WorkingGroup,
)
from bounty.models.funds import POOL_KINDS
from bounty.services import audit, funds, fx, seed_files, seed_recognition
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput
from bounty.services.seed_files import SEED_DIR

FX_SNAPSHOT = Path("fx") / "eurofxref.csv"


@dataclass
class SeedReport:
    """What a seed run added (by kind of row) and what it found already there."""

    created: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    funded: list[str] = field(default_factory=list)
    rates: fx.ImportResult | None = None

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.present
        target[kind] = target.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or self.funded or (self.rates and self.rates.added))

    def lines(self) -> list[str]:
        """A few lines for the command line: what was added, what was already there."""
        def listing(counts: dict[str, int]) -> str:
            return ", ".join(f"{kind} {n}" for kind, n in counts.items()) or "nothing"

        lines = [f"added: {listing(self.created)}", f"already there: {listing(self.present)}"]
        if self.funded:
            lines.append("funded by share: " + "; ".join(self.funded))
        if self.rates is not None:
            lines.append("exchange rates " + self.rates.summary())
        return lines


def need(table: dict[str, Any], key: str, where: str) -> Any:
    """`table[key]`, or InvalidInput naming the seed file and the missing key."""
    if key not in table or table[key] in ("", None):
        raise InvalidInput(where, f"{key} is missing")
    return table[key]


def amount(table: dict[str, Any], key: str, currency: str, where: str) -> Money:
    """A decimal-string amount of a seed file as Money (floats are refused)."""
    value = need(table, key, where)
    if not isinstance(value, str):
        raise InvalidInput(where, f"{key} must be a decimal string such as \"5000\", got {value!r}")
    try:
        return Money.parse(value, currency)
    except LedgerError as exc:
        raise InvalidInput(where, f"{key}: {exc}") from None


def _is_decimal_string(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


@dataclass(frozen=True)
class _Files:
    jurisdictions: dict[str, Any]
    working_groups: list[dict[str, Any]]
    categories: dict[str, dict[str, Any]]
    pools: list[dict[str, Any]]
    fx_text: str


def _read(seed_dir: Path) -> _Files:
    """Read and check every file before anything is written."""
    try:
        files = _Files(
            seed_files.read_toml("jurisdictions.toml", seed_dir),
            seed_files.read_toml("working_groups.toml", seed_dir).get("working_groups", []),
            seed_files.read_toml("categories.toml", seed_dir).get("categories", {}),
            seed_files.read_toml("pools.toml", seed_dir).get("pools", []),
            (seed_dir / FX_SNAPSHOT).read_text(encoding="utf-8"),
        )
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise InvalidInput("seed", f"cannot read the seed files in {seed_dir}: {exc}") from None
    for code, table in files.jurisdictions.get("jurisdictions", {}).items():
        where = f"jurisdictions.toml [{code}]"
        need(table, "name", where)
        if need(table, "home_currency", where) not in CURRENCY_DIGITS:
            raise InvalidInput(where, f"unknown home currency {table['home_currency']!r}")
    for year, shares in files.jurisdictions.get("shares", {}).items():
        for code, share in shares.items():
            if code not in files.jurisdictions.get("jurisdictions", {}):
                raise InvalidInput(f"jurisdictions.toml [shares.{year}]", f"unknown jurisdiction {code}")
            if not _is_decimal_string(share):
                raise InvalidInput(f"jurisdictions.toml [shares.{year}]",
                                   f"{code}: {share!r} is not a decimal string")
    for table in files.working_groups:
        where = f"working_groups.toml {table.get('code', '?')}"
        for key in ("code", "name", "lead_jurisdiction", "capabilities"):
            need(table, key, where)
        for capability in table["capabilities"]:
            need(capability, "slug", where)
            need(capability, "name", where)
    for code, table in files.categories.items():
        where = f"categories.toml [{code}]"
        currency = need(table, "band_currency", where)
        if amount(table, "max", currency, where) < amount(table, "min", currency, where):
            raise InvalidInput(where, "max is below min")
    for table in files.pools:
        where = f"pools.toml {table.get('year', '?')} {table.get('kind', '?')}"
        if need(table, "kind", where) not in POOL_KINDS:
            raise InvalidInput(where, f"kind must be one of {', '.join(POOL_KINDS)}")
        need(table, "year", where)
        need(table, "name", where)
        amount(table, "planned", table.get("currency", "EUR"), where)
    return files


def _seed_jurisdictions(session: Session, actor: Actor, data: dict[str, Any], report: SeedReport) -> None:
    for code, table in data.get("jurisdictions", {}).items():
        created = session.get(Jurisdiction, code) is None
        if created:
            session.add(Jurisdiction(code=code, name=table["name"], home_currency=table["home_currency"]))
            session.flush()
            audit.record(session, actor, "jurisdiction.create", "jurisdiction", code,
                         {"name": table["name"], "home_currency": table["home_currency"]})
        report.count("jurisdictions", created)
    for year, shares in data.get("shares", {}).items():
        for code, share in shares.items():
            recorded = session.execute(
                select(JurisdictionShare).where(JurisdictionShare.jurisdiction_code == code,
                                                JurisdictionShare.year == int(year))
            ).scalar_one_or_none()
            if recorded is None:
                session.add(JurisdictionShare(jurisdiction_code=code, year=int(year), share=Decimal(share)))
                session.flush()
                audit.record(session, actor, "share.set", "jurisdiction", code,
                             {"year": int(year), "from": None, "to": share})
            report.count("shares", recorded is None)


def _seed_working_groups(session: Session, actor: Actor, groups: list[dict[str, Any]],
                         report: SeedReport) -> None:
    for table in groups:
        group = session.execute(
            select(WorkingGroup).where(WorkingGroup.code == table["code"])
        ).scalar_one_or_none()
        report.count("working groups", group is None)
        if group is None:
            group = WorkingGroup(
                code=table["code"], name=table["name"], lead_jurisdiction_code=table["lead_jurisdiction"],
                lead_country=table.get("lead_country"), technologies=", ".join(table.get("technologies", [])),
            )
            session.add(group)
            session.flush()
            audit.record(session, actor, "working_group.create", "working_group", group.id,
                         {"code": group.code, "name": group.name, "lead": group.lead_jurisdiction_code,
                          "lead_country": group.lead_country, "technologies": group.technologies})
        for entry in table["capabilities"]:
            known = session.execute(
                select(Capability).where(Capability.slug == entry["slug"])
            ).scalar_one_or_none()
            report.count("capabilities", known is None)
            if known is None:
                capability = Capability(working_group_id=group.id, slug=entry["slug"], name=entry["name"])
                session.add(capability)
                session.flush()
                audit.record(session, actor, "capability.create", "capability", capability.id,
                             {"slug": capability.slug, "name": capability.name, "working_group": group.code})


def _seed_categories(session: Session, actor: Actor, categories: dict[str, dict[str, Any]],
                     report: SeedReport) -> None:
    for code, table in categories.items():
        known = session.execute(
            select(BountyCategory).where(BountyCategory.code == code)
        ).scalar_one_or_none()
        report.count("categories", known is None)
        if known is not None:
            continue
        where = f"categories.toml [{code}]"
        currency = table["band_currency"]
        low, high = amount(table, "min", currency, where), amount(table, "max", currency, where)
        category = BountyCategory(
            code=code, name=table["name"], band_currency=currency, min_minor=low.minor,
            max_minor=high.minor, is_embargoed=bool(table.get("embargoed", False)),
            remediation_hours=table.get("remediation_hours"), example=table.get("example", ""),
        )
        session.add(category)
        session.flush()
        audit.record(session, actor, "category.create", "bounty_category", category.id,
                     {"code": code, "band": f"{low} - {high}", "embargoed": category.is_embargoed,
                      "remediation_hours": category.remediation_hours})


def _seed_pools(session: Session, actor: Actor, pools: list[dict[str, Any]], report: SeedReport) -> None:
    for table in pools:
        year, kind = int(table["year"]), table["kind"]
        where = f"pools.toml {year} {kind}"
        planned = amount(table, "planned", table.get("currency", "EUR"), where)
        known = session.execute(select(Pool.id).where(Pool.year == year, Pool.kind == kind)).first()
        report.count("pools", known is None)
        pool = funds.ensure_pool(session, actor, year, kind, table["name"], planned)
        if planned.minor and funds.fund_pool(session, actor, pool).created:
            report.funded.append(f"{pool.name} {year} {planned}")


def seed_reference(session: Session, actor: Actor, seed_dir: Path = SEED_DIR) -> SeedReport:
    """Load the reference data of `seed_dir` (see the module docstring); idempotent."""
    actor.require(Permission.SEED_DATA)
    files = _read(seed_dir)
    report = SeedReport()
    try:
        _seed_jurisdictions(session, actor, files.jurisdictions, report)
        _seed_working_groups(session, actor, files.working_groups, report)
        _seed_categories(session, actor, files.categories, report)
        seed_recognition.seed_recognition(session, actor, seed_dir, report.count)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    _seed_pools(session, actor, files.pools, report)
    try:
        # The snapshot is reference data like the rest, so SEED_DATA covers it; it is
        # recorded under its own source so it never passes for the rates the ECB published.
        report.rates = fx.record_rates(session, actor, files.fx_text, fx.SNAPSHOT_SOURCE)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report
