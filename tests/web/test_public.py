"""The health check, the landing page and the error pages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from babel.numbers import format_currency
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty.models.engine import make_engine
from bounty.models.migrate import current_revision
from tests import factories
from tests.web.conftest import build_app


def test_healthz_is_ok_on_a_migrated_database(client: FlaskClient, db_url: str) -> None:
    response = client.get("/healthz")

    engine = make_engine(db_url)
    revision = current_revision(engine)
    engine.dispose()
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "revision": revision}
    assert revision
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_on_a_database_never_migrated(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'empty.db'}")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "not migrated"}


def test_healthz_is_503_when_postgresql_is_unreachable() -> None:
    app = build_app("postgresql://postgres@127.0.0.1:1/none")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


def test_landing_without_data_says_so_and_names_the_seed_command(client: FlaskClient) -> None:
    response = client.get("/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing recorded for 2026 yet" in html
    assert "<code>bounty seed</code>" in html
    assert "<table" not in html


def test_landing_shows_each_pool_and_each_members_part(client: FlaskClient, session: Session) -> None:
    factories.jurisdictions(session)
    factories.funded_pool(session, "500000")

    response = client.get("/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "bounty seed" not in html
    assert "Bounty Pool" in html
    assert html.count("€500,000.00") == 4  # planned, funded, available, and the parts total
    assert "€0.00" in html  # nothing reserved yet
    for share, part in (("50%", "€250,000.00"), ("25%", "€125,000.00"), ("15%", "€75,000.00"),
                        ("10%", "€50,000.00")):
        assert f'<td class="num">{share}</td>' in html
        assert f'<td class="num">{part}</td>' in html
    assert "100%" in html
    for name in ("European Union", "United Kingdom", "Canada", "Australia"):
        assert name in html


def test_landing_tables_are_captioned_and_headed(client: FlaskClient, session: Session) -> None:
    factories.jurisdictions(session)
    factories.funded_pool(session, "500000")

    html = client.get("/").get_data(as_text=True)

    assert html.count("<caption>") == 2
    assert '<th scope="col"' in html and '<th scope="row"' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert html.index("<h1>") < html.index("<h2")


def test_landing_formats_money_for_the_french_reader(client: FlaskClient, session: Session) -> None:
    factories.jurisdictions(session)
    factories.funded_pool(session, "500000")

    response = client.get("/?lang=fr")
    again = client.get("/")

    expected = format_currency(Decimal("500000"), "EUR", locale="fr")
    assert expected != "€500,000.00"
    assert expected in response.get_data(as_text=True)
    assert '<html lang="fr">' in response.get_data(as_text=True)
    assert "bounty_locale=fr" in response.headers["Set-Cookie"]
    assert expected in again.get_data(as_text=True)  # the cookie keeps the choice


def test_landing_for_another_year(client: FlaskClient, session: Session) -> None:
    factories.jurisdictions(session, year=2026)
    factories.funded_pool(session, "500000", year=2026)

    earlier = client.get("/?year=2025").get_data(as_text=True)
    later = client.get("/?year=2027").get_data(as_text=True)

    assert "Nothing recorded for 2025 yet" in earlier
    # Shares stay in force until a later year's; the 2027 pools are not created yet.
    assert "No pools are recorded for 2027." in later
    assert '<td class="num">50%</td>' in later


def test_landing_refuses_a_year_that_is_not_one(client: FlaskClient) -> None:
    for value in ("abc", "99999", "-1", "\uff12\uff10\uff12\uff16"):
        response = client.get("/", query_string={"year": value})

        html = response.get_data(as_text=True)
        assert response.status_code == 400, value
        assert "is not a year" in html
        assert 'aria-invalid="true"' in html
        assert "Nothing recorded for 2026 yet" in html  # the page still shows the default year


def test_unknown_page_is_the_404_page(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert '<html lang="en">' in html
    assert "vendor/pico/pico.min.css" in html


def test_a_failure_shows_the_500_page(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/fails")
    def fails() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/fails")

    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


def test_the_stylesheets_are_served_locally(client: FlaskClient) -> None:
    pico = client.get("/static/vendor/pico/pico.min.css")
    ours = client.get("/static/css/bounty.css")

    assert pico.status_code == 200 and b"Pico CSS" in pico.data
    assert ours.status_code == 200
    pico.close()
    ours.close()
