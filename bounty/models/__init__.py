"""SQLAlchemy 2.x models of the whole programme, one module per aggregate.

Importing this package registers every table on `Base.metadata` (Alembic reads it).
"""

from bounty.models.audit import AuditChainHead, AuditEvent
from bounty.models.awards import AwardCategory, AwardRound, Nomination, Vote
from bounty.models.base import Base, utcnow
from bounty.models.bounties import Bounty, Claim, ClaimLink, Review
from bounty.models.documents import DocumentJob
from bounty.models.funds import BountyCategory, Pool
from bounty.models.fx import ExchangeRate
from bounty.models.grants import Grant, Tranche
from bounty.models.groups import Capability, WorkingGroup, WorkingGroupMember
from bounty.models.hooks import WebhookDelivery
from bounty.models.hours import HoursEntry
from bounty.models.ledger import Account, LedgerLine, LedgerTransaction, Reservation
from bounty.models.merged_work import GitLabSyncCursor, MergeRequest, MergeRequestCommit
from bounty.models.payouts import BankConfirmation, PayeeBankAccount, PayoutBatch, PayoutItem
from bounty.models.people import Identity, Jurisdiction, JurisdictionShare, Organisation, Person
from bounty.models.recognition import Badge, ListingConsent, PersonBadge, ScoreWeight, WorkingGroupProject

__all__ = [
    "Account",
    "AuditChainHead",
    "AuditEvent",
    "AwardCategory",
    "AwardRound",
    "Badge",
    "BankConfirmation",
    "Base",
    "Bounty",
    "BountyCategory",
    "Capability",
    "Claim",
    "ClaimLink",
    "DocumentJob",
    "ExchangeRate",
    "GitLabSyncCursor",
    "Grant",
    "HoursEntry",
    "Identity",
    "Jurisdiction",
    "JurisdictionShare",
    "LedgerLine",
    "LedgerTransaction",
    "ListingConsent",
    "MergeRequest",
    "MergeRequestCommit",
    "Nomination",
    "Organisation",
    "PayeeBankAccount",
    "PayoutBatch",
    "PayoutItem",
    "Person",
    "PersonBadge",
    "Pool",
    "Reservation",
    "Review",
    "ScoreWeight",
    "Tranche",
    "Vote",
    "WebhookDelivery",
    "WorkingGroup",
    "WorkingGroupMember",
    "WorkingGroupProject",
    "utcnow",
]
