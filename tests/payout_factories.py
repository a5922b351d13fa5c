"""Builders for payout tests: finance staff, payees with bank details, approved bounties in
EUR, GBP and CAD, signed-off grant tranches, and bank confirmation files built from a batch.

Everything goes through the services, so each payable has its reservation, its ledger
transaction (split by share) and its audit events, like a real one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Grant, Organisation, Person, utcnow
from bounty.services import bank_details, grants
from bounty.services.actors import Actor
from bounty.services.grants import GrantInput, TrancheInput
from bounty.services.payout_queries import BatchView
from tests import workflow_factories as wf

# A fixed Fernet key for tests (BOUNTY_BANK_DETAILS_KEY in production comes from the environment).
KEY = "5tVZwqQ3JCt8zZalfDHMd_u0sK9OQ-Y6gqcrRtuKYXg="
IBANS = {"EU": "DE89370400440532013000", "UK": "GB29NWBK60161331926819",
         "FR": "FR1420041010050500013M02606"}
BICS = {"EU": "COBADEFFXXX", "UK": "NWBKGB2L"}
_MERGE_REQUESTS = itertools.count(1000)


def finance(session: Session, username: str = "fiona") -> Actor:
    return wf.actor_of(wf.person(session, username, ("contributor", "finance"), "EU"))


def auditor(session: Session, username: str = "audrey") -> Actor:
    return wf.actor_of(wf.person(session, username, ("auditor",), "EU"))


def payee(session: Session, username: str, jurisdiction: str = "EU", *, bank: bool = True) -> Actor:
    """A contributor of `jurisdiction`, with bank details set by themself when `bank` (and
    their jurisdiction has IBANs: Canada and Australia do not)."""
    actor = wf.contributor(session, username, jurisdiction)
    if bank and jurisdiction in IBANS:
        bank_details.set_bank_details(
            session, actor, person_id=actor.person_id, holder_name=username.replace(".", " ").title(),
            iban=IBANS[jurisdiction], bic=BICS.get(jurisdiction), key=KEY)
    return actor


def approved(session: Session, claimant: Actor, currency: str = "EUR", amount: str = "1000",
             title: str | None = None) -> wf.Work:
    """An approved bug-fix bounty of `amount` `currency` claimed by `claimant`."""
    url = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/{next(_MERGE_REQUESTS)}"
    return wf.approved_bounty(session, claimant, urls=[url], currency=currency, amount=amount,
                              title=title or f"Fix {currency} {amount} bug")


def organisation(session: Session, name: str = "Acme Cloud GmbH", jurisdiction: str = "EU") -> Organisation:
    found = session.execute(select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
    if found is not None:
        return found
    org = Organisation(name=name, jurisdiction_code=jurisdiction, kind="supplier")
    session.add(org)
    session.commit()
    return org


def signed_off_grant(session: Session, *, person: Person | None = None, org: Organisation | None = None,
                     currency: str = "EUR", amounts: tuple[str, ...] = ("20000", "20000"),
                     signed: int = 1) -> Grant:
    """A grant in tranches of `amounts`, the first `signed` of them signed off (payable)."""
    today = utcnow().date()
    total = sum(Decimal(a) for a in amounts)
    data = GrantInput(
        title=f"Maintain the {currency} agent", total=str(total), currency=currency,
        tranches=[TrancheInput(f"Milestone {i}", today + timedelta(days=30 * i), a)
                  for i, a in enumerate(amounts, start=1)],
        grantee_person_id=person.id if person else None, grantee_organisation_id=org.id if org else None)
    grant = grants.create_grant(session, wf.admin(session), data)
    signer = wf.reviewer(session, "rev.grants", "CA")
    for position in range(1, signed + 1):
        grants.sign_off_tranche(session, signer, grant.id, position)
    session.refresh(grant)
    return grant


@dataclass
class World:
    """Approved bounties in EUR, GBP and CAD, a signed-off tranche for a person and one for an
    organisation; everything payable, nothing batched."""

    finance: Actor
    eu: Actor
    uk: Actor
    ca: Actor
    works: dict[str, wf.Work] = field(default_factory=dict)
    person_grant: Grant | None = None
    org_grant: Grant | None = None
    org: Organisation | None = None


def world(session: Session, *, grants_too: bool = True) -> World:
    wf.reference(session)
    made = World(finance(session), payee(session, "erika", "EU"), payee(session, "uma", "UK"),
                 payee(session, "colin", "CA"))
    made.works["EUR"] = approved(session, made.eu, "EUR", "1000")
    made.works["GBP"] = approved(session, made.uk, "GBP", "2000")
    made.works["CAD"] = approved(session, made.ca, "CAD", "3000")
    if grants_too:
        gina = session.get(Person, made.uk.person_id)
        made.person_grant = signed_off_grant(session, person=gina, currency="GBP",
                                             amounts=("15000.50", "15000"))
        made.org = organisation(session)
        bank_details.set_bank_details(session, made.finance, organisation_id=made.org.id,
                                      holder_name="Acme Cloud GmbH", iban=IBANS["FR"], bic=None, key=KEY)
        made.org_grant = signed_off_grant(session, org=made.org, currency="EUR", amounts=("25000",))
    return made


def confirmation_csv(batch: BatchView, *, paid_on: date | None = None, only: set[int] | None = None,
                     header: str = "end_to_end_id,amount,date") -> bytes:
    """The bank's confirmation of `batch` (every live item, or the item ids in `only`)."""
    day = (paid_on or utcnow().date()).isoformat()
    lines = [header]
    for item in batch.items:
        if item.is_live and (only is None or item.id in only):
            lines.append(f"{item.end_to_end_id},{item.amount.amount_str()},{day}")
    return ("\n".join(lines) + "\n").encode()
