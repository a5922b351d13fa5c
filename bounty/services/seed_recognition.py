"""Reference data of recognition, loaded by `bounty seed`: the leaderboard's score weights
(seed/scoring.toml), the badges (seed/badges.toml), the award categories (seed/awards.toml)
and the GitLab projects of each working group."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from bounty.services.actors import Actor


def seed_recognition(session: Session, actor: Actor, seed_dir: Path,
                     count: Callable[[str, bool], None]) -> None:
    """Add what is missing of the recognition reference data; flushes, never commits."""
    return None
