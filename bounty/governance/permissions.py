"""Roles (Keycloak realm roles) and the closed set of permissions they grant.

One function, `can`, answers every permission question; the web layer asks it at the edge
and services ask it again, so no entry point can bypass it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    SECURITY_COUNCIL = "security-council"
    PROGRAM_ADMIN = "program-admin"
    FINANCE = "finance"
    AWARDS_COMMITTEE = "awards-committee"
    AUDITOR = "auditor"


class Permission(StrEnum):
    VIEW_PUBLIC = "view_public"
    CLAIM_BOUNTY = "claim_bounty"
    LOG_HOURS = "log_hours"
    NOMINATE = "nominate"
    REVIEW_WORK = "review_work"
    VIEW_EMBARGOED = "view_embargoed"
    APPROVE_SECURITY_FIX = "approve_security_fix"
    MANAGE_BOUNTIES = "manage_bounties"
    MANAGE_FUNDS = "manage_funds"
    MANAGE_AWARDS = "manage_awards"
    MANAGE_RATES = "manage_rates"
    MANAGE_PAYOUTS = "manage_payouts"
    CAST_BINDING_VOTE = "cast_binding_vote"
    READ_EVERYTHING = "read_everything"
    READ_AUDIT_LOG = "read_audit_log"
    SEED_DATA = "seed_data"
    # Claim an unlinked identity (a commit e-mail, a GitLab account) as one's own.
    CLAIM_IDENTITY = "claim_identity"
    # Link identities to people, confirm or decline claims, merge two person records.
    MANAGE_IDENTITIES = "manage_identities"
    # Vote on award nominations; the vote binds only with CAST_BINDING_VOTE.
    VOTE_ON_AWARDS = "vote_on_awards"
    # Choose whether one's own name appears on public pages (leaderboards, results).
    SET_OWN_LISTING = "set_own_listing"


_CONTRIBUTOR = {Permission.VIEW_PUBLIC, Permission.CLAIM_BOUNTY, Permission.LOG_HOURS, Permission.NOMINATE,
                Permission.CLAIM_IDENTITY, Permission.VOTE_ON_AWARDS, Permission.SET_OWN_LISTING}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.CONTRIBUTOR: frozenset(_CONTRIBUTOR),
    Role.REVIEWER: frozenset(_CONTRIBUTOR | {Permission.REVIEW_WORK}),
    Role.SECURITY_COUNCIL: frozenset(
        _CONTRIBUTOR | {Permission.REVIEW_WORK, Permission.VIEW_EMBARGOED, Permission.APPROVE_SECURITY_FIX}
    ),
    Role.PROGRAM_ADMIN: frozenset(
        _CONTRIBUTOR
        | {Permission.VIEW_EMBARGOED, Permission.MANAGE_BOUNTIES, Permission.MANAGE_FUNDS,
           Permission.MANAGE_AWARDS, Permission.SEED_DATA, Permission.MANAGE_IDENTITIES}
    ),
    Role.FINANCE: frozenset(_CONTRIBUTOR | {Permission.MANAGE_RATES, Permission.MANAGE_PAYOUTS}),
    Role.AWARDS_COMMITTEE: frozenset(_CONTRIBUTOR | {Permission.CAST_BINDING_VOTE}),
    # The auditor reads everything and changes nothing, so holds no contributor permissions.
    Role.AUDITOR: frozenset(
        {Permission.VIEW_PUBLIC, Permission.VIEW_EMBARGOED, Permission.READ_EVERYTHING,
         Permission.READ_AUDIT_LOG}
    ),
}


def known_roles(names: Iterable[str]) -> frozenset[Role]:
    """The programme roles among `names`; other Keycloak roles are ignored."""
    values = {role.value: role for role in Role}
    return frozenset(values[name] for name in names if name in values)


def permissions_of(roles: Iterable[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in known_roles(roles):
        granted |= GRANTS[role]
    return frozenset(granted)


def can(roles: Iterable[str], permission: Permission) -> bool:
    """Whether a holder of `roles` has `permission`."""
    return permission in permissions_of(roles)
