"""Settings: defaults, `BOUNTY_*` overrides, precedence, and what production refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bounty
from bounty import config
from bounty.config import DEFAULT_SECRET_KEY, DEFAULTS, ConfigError

GOOD_SECRET = "k" * 40

PRODUCTION_ENV = {
    "BOUNTY_ENV": "production",
    "BOUNTY_SECRET_KEY": GOOD_SECRET,
    "BOUNTY_DATABASE_URL": "postgresql://bounty@db/bounty",
    "BOUNTY_KEYCLOAK_URL": "https://id.example.org",
    "BOUNTY_KEYCLOAK_CLIENT_SECRET": "client-secret",
}


def build(
    tmp_path: Path, environ: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    return config.build(tmp_path, overrides, environ=environ or {})


def test_defaults(tmp_path: Path) -> None:
    settings = build(tmp_path)
    for key, value in DEFAULTS.items():
        if key != "DATABASE_URL":
            assert settings[key] == value, key
    assert settings["ENV"] == "development"
    assert settings["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert settings["DEMO_LOGIN"] is False
    config.validate(settings)  # the defaults start a development instance


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = build(tmp_path)
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/bounty.db"
    assert settings["DATABASE_URL_IS_DEFAULT"] is True
    given = build(tmp_path, {"BOUNTY_DATABASE_URL": "postgresql://x/y"})
    assert given["DATABASE_URL"] == "postgresql://x/y"
    assert given["DATABASE_URL_IS_DEFAULT"] is False


def test_environment_overrides_are_parsed_as_json(tmp_path: Path) -> None:
    settings = build(
        tmp_path,
        {
            "BOUNTY_DEMO_LOGIN": "true",
            "BOUNTY_DATABASE_ECHO": "false",
            "BOUNTY_PROGRAMME_YEAR": "2027",
            "BOUNTY_DEFAULT_LOCALE": "fr",
        },
    )
    assert settings["DEMO_LOGIN"] is True
    assert settings["DATABASE_ECHO"] is False
    assert settings["PROGRAMME_YEAR"] == 2027
    assert settings["DEFAULT_LOCALE"] == "fr"


@pytest.mark.parametrize("raw", ["1234", "true", "null", '{"a": 1}', "1e3", " spaced "])
def test_string_settings_stay_strings(tmp_path: Path, raw: str) -> None:
    settings = build(tmp_path, {"BOUNTY_SECRET_KEY": raw, "BOUNTY_KEYCLOAK_CLIENT_SECRET": raw})
    assert settings["SECRET_KEY"] == raw
    assert settings["KEYCLOAK_CLIENT_SECRET"] == raw


def test_only_known_prefixed_keys_are_read(tmp_path: Path) -> None:
    settings = build(
        tmp_path,
        {
            "BOUNTY_NOT_A_SETTING": "1",
            "SECRET_KEY": "unprefixed",
            "BOUNTY_TEST_POSTGRES_URL": "x",
            "bounty_env": "production",
        },
    )
    assert "NOT_A_SETTING" not in settings and "TEST_POSTGRES_URL" not in settings
    assert settings["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert settings["ENV"] == "development"


def test_explicit_mapping_beats_environment(tmp_path: Path) -> None:
    settings = build(
        tmp_path,
        {"BOUNTY_ENV": "demo", "BOUNTY_SECRET_KEY": "from-env"},
        ENV="testing",
        SECRET_KEY="from-mapping",
    )
    assert settings["ENV"] == "testing"
    assert settings["SECRET_KEY"] == "from-mapping"


def test_environment_defaults_to_os_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOUNTY_KEYCLOAK_REALM", "cooperative")
    assert config.build(tmp_path)["KEYCLOAK_REALM"] == "cooperative"


def test_a_complete_production_configuration_is_accepted(tmp_path: Path) -> None:
    config.validate(build(tmp_path, PRODUCTION_ENV))


def production(tmp_path: Path, **changes: str | None) -> dict[str, Any]:
    environ = dict(PRODUCTION_ENV)
    for key, value in changes.items():
        environ.pop(f"BOUNTY_{key}", None)
        if value is not None:
            environ[f"BOUNTY_{key}"] = value
    return build(tmp_path, environ)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SECRET_KEY": None}, "BOUNTY_SECRET_KEY"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "BOUNTY_SECRET_KEY"),
        ({"SECRET_KEY": "short-but-not-default"}, "BOUNTY_SECRET_KEY"),
        ({"DATABASE_URL": None}, "BOUNTY_DATABASE_URL"),
        ({"KEYCLOAK_URL": None}, "BOUNTY_KEYCLOAK_URL"),
        ({"KEYCLOAK_CLIENT_SECRET": None}, "BOUNTY_KEYCLOAK_CLIENT_SECRET"),
        ({"DEMO_LOGIN": "true"}, "BOUNTY_DEMO_LOGIN"),
    ],
)
def test_production_refuses_unsafe_settings_naming_them(
    tmp_path: Path, changes: dict[str, str | None], named: str
) -> None:
    settings = production(tmp_path, **changes)
    with pytest.raises(ConfigError, match=named):
        config.validate(settings)


def test_the_same_settings_start_outside_production(tmp_path: Path) -> None:
    settings = production(
        tmp_path, ENV="development", SECRET_KEY=None, KEYCLOAK_URL=None, DEMO_LOGIN="true"
    )
    config.validate(settings)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"BOUNTY_ENV": "staging"}, "BOUNTY_ENV"),
        ({"BOUNTY_ENV": "Production"}, "BOUNTY_ENV"),
        ({"BOUNTY_DEMO_LOGIN": "False"}, "BOUNTY_DEMO_LOGIN"),  # not JSON: would be truthy
        ({"BOUNTY_DATABASE_ECHO": "yes"}, "BOUNTY_DATABASE_ECHO"),
        ({"BOUNTY_PROGRAMME_YEAR": "-1"}, "BOUNTY_PROGRAMME_YEAR"),
        ({"BOUNTY_PROGRAMME_YEAR": "twenty"}, "BOUNTY_PROGRAMME_YEAR"),
        ({"BOUNTY_PROGRAMME_YEAR": "true"}, "BOUNTY_PROGRAMME_YEAR"),
        ({"BOUNTY_DEFAULT_LOCALE": "de"}, "BOUNTY_DEFAULT_LOCALE"),
    ],
)
def test_invalid_values_are_refused_in_any_environment(
    tmp_path: Path, environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        config.validate(build(tmp_path, environ))


def test_create_app_refuses_a_bad_production_config() -> None:
    with pytest.raises(bounty.config.ConfigError, match="BOUNTY_SECRET_KEY"):
        bounty.create_app({"ENV": "production", "SECRET_KEY": "too-short"})
    with pytest.raises(bounty.config.ConfigError, match="BOUNTY_DEMO_LOGIN"):
        bounty.create_app(
            {
                "ENV": "production",
                "SECRET_KEY": GOOD_SECRET,
                "DATABASE_URL": "sqlite:///:memory:",
                "KEYCLOAK_URL": "https://id.example.org",
                "KEYCLOAK_CLIENT_SECRET": "s",
                "DEMO_LOGIN": True,
            }
        )


def test_create_app_accepts_a_complete_production_config() -> None:
    app = bounty.create_app(
        {
            "ENV": "production",
            "SECRET_KEY": GOOD_SECRET,
            "DATABASE_URL": "sqlite:///:memory:",
            "KEYCLOAK_URL": "https://id.example.org",
            "KEYCLOAK_CLIENT_SECRET": "s",
            "DEMO_LOGIN": False,
        }
    )
    assert app.config["ENV"] == "production"
    assert app.config["TESTING"] is False
