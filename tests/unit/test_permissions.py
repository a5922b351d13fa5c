"""Roles and permissions: what each role may do, and that nothing else grants anything."""

from __future__ import annotations

import pytest

from bounty.governance.permissions import GRANTS, Permission, Role, can, known_roles, permissions_of

P = Permission
CONTRIBUTOR = {P.VIEW_PUBLIC, P.CLAIM_BOUNTY, P.LOG_HOURS, P.NOMINATE, P.CLAIM_IDENTITY, P.VOTE_ON_AWARDS,
               P.SET_OWN_LISTING}
READ_ONLY = {P.VIEW_PUBLIC, P.VIEW_EMBARGOED, P.READ_EVERYTHING, P.READ_AUDIT_LOG}

EXPECTED = {
    Role.CONTRIBUTOR: CONTRIBUTOR,
    Role.REVIEWER: CONTRIBUTOR | {P.REVIEW_WORK},
    Role.SECURITY_COUNCIL: CONTRIBUTOR | {P.REVIEW_WORK, P.VIEW_EMBARGOED, P.APPROVE_SECURITY_FIX},
    Role.PROGRAM_ADMIN: CONTRIBUTOR
    | {P.VIEW_EMBARGOED, P.MANAGE_BOUNTIES, P.MANAGE_FUNDS, P.MANAGE_AWARDS, P.SEED_DATA,
       P.MANAGE_IDENTITIES},
    Role.FINANCE: CONTRIBUTOR | {P.MANAGE_RATES, P.MANAGE_PAYOUTS},
    Role.AWARDS_COMMITTEE: CONTRIBUTOR | {P.CAST_BINDING_VOTE},
    Role.AUDITOR: READ_ONLY,
}


def test_every_role_has_a_grant() -> None:
    assert set(GRANTS) == set(Role) == set(EXPECTED)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_grants_exactly_its_permissions(role: Role) -> None:
    assert permissions_of([role.value]) == EXPECTED[role]
    for permission in Permission:
        assert can([role.value], permission) == (permission in EXPECTED[role])


def test_auditor_has_no_write_permission() -> None:
    writes = set(Permission) - READ_ONLY
    assert writes  # the closed set has permissions that change things
    assert not any(can(["auditor"], permission) for permission in writes)
    assert can(["auditor"], P.READ_AUDIT_LOG)
    assert can(["auditor"], P.READ_EVERYTHING)


def test_only_the_auditor_reads_the_audit_log() -> None:
    assert [r for r in Role if can([r.value], P.READ_AUDIT_LOG)] == [Role.AUDITOR]


def test_every_permission_is_granted_by_some_role() -> None:
    granted = set().union(*GRANTS.values())
    assert granted == set(Permission)


def test_unknown_role_names_are_ignored() -> None:
    keycloak_defaults = [
        "offline_access",
        "uma_authorization",
        "default-roles-bounty",
        "ADMIN",
        "Finance",
    ]
    assert known_roles(keycloak_defaults) == frozenset()
    assert permissions_of(keycloak_defaults) == frozenset()
    assert not can(keycloak_defaults, P.VIEW_PUBLIC)
    assert known_roles([*keycloak_defaults, "finance"]) == {Role.FINANCE}
    assert can([*keycloak_defaults, "finance"], P.MANAGE_RATES)


def test_roles_combine_by_union() -> None:
    combined = permissions_of(["reviewer", "finance"])
    assert combined == EXPECTED[Role.REVIEWER] | EXPECTED[Role.FINANCE]
    assert can(("auditor", "program-admin"), P.MANAGE_FUNDS)
    assert not can(("reviewer", "finance"), P.MANAGE_FUNDS)


def test_no_roles_no_permissions() -> None:
    assert permissions_of([]) == frozenset()
    assert not can([], P.VIEW_PUBLIC)


def test_review_and_binding_votes_belong_to_their_bodies_only() -> None:
    assert {r for r in Role if can([r.value], P.REVIEW_WORK)} == {
        Role.REVIEWER,
        Role.SECURITY_COUNCIL,
    }
    assert {r for r in Role if can([r.value], P.APPROVE_SECURITY_FIX)} == {Role.SECURITY_COUNCIL}
    assert {r for r in Role if can([r.value], P.CAST_BINDING_VOTE)} == {Role.AWARDS_COMMITTEE}
    assert {r for r in Role if can([r.value], P.MANAGE_PAYOUTS)} == {Role.FINANCE}


def test_only_program_admins_manage_identities_and_the_auditor_claims_none() -> None:
    assert {r for r in Role if can([r.value], P.MANAGE_IDENTITIES)} == {Role.PROGRAM_ADMIN}
    assert {r for r in Role if can([r.value], P.CLAIM_IDENTITY)} == set(Role) - {Role.AUDITOR}
