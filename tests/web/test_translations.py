"""The French catalogue: complete, compiled, and used by the pages."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

import bounty

CATALOGUE = Path(bounty.__file__).parent / "translations" / "fr" / "LC_MESSAGES"


def _forms(text: str | tuple[str, ...] | list[str]) -> list[str]:
    """A message's text as a list: one form, or every plural form."""
    return list(text) if isinstance(text, tuple | list) else [text]


def test_every_french_entry_is_translated_and_compiled() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        source = read_po(handle, locale="fr")
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)

    untranslated = [m.id for m in source if m.id and (m.fuzzy or not all(_forms(m.string)))]
    assert untranslated == []
    stale = [m.id for m in source if m.id and compiled.get(m.id) is None]
    assert stale == [], "run `pybabel compile -d bounty/translations`"
    for message in source:
        if message.id:
            assert _forms(compiled[message.id].string) == _forms(message.string)


def test_pages_are_in_french_for_the_french_reader(client: FlaskClient) -> None:
    html = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(as_text=True)

    assert '<html lang="fr">' in html
    assert "Incitations et primes pour les contributeurs" in html
    assert "Rien n\u2019est encore enregistré pour 2026" in html
    assert "Aller au contenu principal" in html


def test_english_stays_the_default(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)

    assert '<html lang="en">' in html
    assert "Contributor incentives and bounties" in html
