"""The importable Keycloak realm (`seed/keycloak/realm.json`) says what the application reads."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from bounty import PROJECT_ROOT
from bounty.auth.oidc import roles_from_claims
from bounty.governance.permissions import Role
from bounty.models.people import JURISDICTION_CODES


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    return json.loads((PROJECT_ROOT / "seed" / "keycloak" / "realm.json").read_text(encoding="utf-8"))


def client_of(realm: dict[str, Any]) -> dict[str, Any]:
    (client,) = [c for c in realm["clients"] if c["clientId"] == "bounty"]
    return client


def test_the_realm_defines_every_programme_role(realm: dict[str, Any]) -> None:
    names = {role["name"] for role in realm["roles"]["realm"]}
    assert {role.value for role in Role} <= names
    default = next(r for r in realm["roles"]["realm"] if r["name"] == realm["defaultRole"]["name"])
    assert "contributor" in default["composites"]["realm"]


def test_the_client_is_confidential_with_pkce_and_the_callback(realm: dict[str, Any]) -> None:
    client = client_of(realm)
    assert client["publicClient"] is False
    assert client["standardFlowEnabled"] and not client["implicitFlowEnabled"]
    assert not client["directAccessGrantsEnabled"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.endswith("/auth/callback") for uri in client["redirectUris"])
    assert "*" not in "".join(client["redirectUris"])
    assert "secret" not in client  # Keycloak generates one on import


@pytest.mark.parametrize("claim", ["jurisdiction", "organisation"])
def test_user_attributes_reach_the_id_token(realm: dict[str, Any], claim: str) -> None:
    mappers = [m for m in client_of(realm)["protocolMappers"]
               if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"
               and m["config"]["user.attribute"] == claim]
    assert len(mappers) == 1
    config = mappers[0]["config"]
    assert config["claim.name"] == claim
    assert config["id.token.claim"] == config["access.token.claim"] == "true"


def test_roles_reach_the_id_token_and_access_tokens_name_the_client(realm: dict[str, Any]) -> None:
    by_kind = {m["protocolMapper"]: m["config"] for m in client_of(realm)["protocolMappers"]}
    assert by_kind["oidc-usermodel-realm-role-mapper"]["claim.name"] == "realm_access.roles"
    assert by_kind["oidc-usermodel-realm-role-mapper"]["id.token.claim"] == "true"
    assert by_kind["oidc-usermodel-client-role-mapper"]["id.token.claim"] == "true"
    assert by_kind["oidc-audience-mapper"]["included.client.audience"] == "bounty"


def test_only_administrators_set_jurisdiction_and_organisation(realm: dict[str, Any]) -> None:
    (provider,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in profile["attributes"]}
    for name in ("jurisdiction", "organisation"):
        assert attributes[name]["permissions"]["edit"] == ["admin"]
    assert attributes["jurisdiction"]["validations"]["options"]["options"] == list(JURISDICTION_CODES)


def test_a_group_per_working_group(realm: dict[str, Any]) -> None:
    seeded = tomllib.loads((PROJECT_ROOT / "seed" / "working_groups.toml").read_text(encoding="utf-8"))
    (parent,) = realm["groups"]
    codes = [group["attributes"]["code"][0] for group in parent["subGroups"]]
    assert codes == [wg["code"] for wg in seeded["working_groups"]]


def test_demo_users_carry_valid_claims_and_must_change_their_password(realm: dict[str, Any]) -> None:
    assert realm["users"]
    group_paths = {group["path"] for group in realm["groups"][0]["subGroups"]}
    for user in realm["users"]:
        assert user["attributes"]["jurisdiction"][0] in JURISDICTION_CODES
        assert user["email"].endswith(("@example.org", "@example.net"))
        assert all(credential["temporary"] for credential in user["credentials"])
        assert set(user["groups"]) <= group_paths
        programme_roles = roles_from_claims({"realm_access": {"roles": user["realmRoles"]}}, "bounty")
        assert programme_roles, user["username"]
