"""Reference data of recognition, loaded by `bounty seed`: the leaderboard's score weights
(seed/scoring.toml), the badges (seed/badges.toml), the award categories (seed/awards.toml)
and the GitLab projects of each working group (`gitlab_projects` in seed/working_groups.toml).

Like the rest of the seed, every file is read and checked before anything is written (a bad
metric, threshold, rule or a repeated code is refused with InvalidInput naming the file and
the entry), and loading is idempotent: what is on record stays as it is and only what is
missing is added, each addition with its audit event. One exception fills in, never
overwrites: an award category recorded before these fields existed (its `name_fr` still
empty, as the migration left it) gets its French name, eligibility texts, eligibility rule,
jurisdiction, organisation flag and position from the file wherever they are still empty or
at the migration's default; its decision rule is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import AwardCategory, Badge, ScoreWeight, WorkingGroup, WorkingGroupProject
from bounty.models.awards import DECISION_RULES, ELIGIBILITY_RULES
from bounty.models.recognition import METRICS
from bounty.services import audit, seed_files
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput

# ScoreWeight.weight is Numeric(12, 4).
MAX_WEIGHT = Decimal("99999999.9999")
_PROJECT_PATH = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RecognitionFiles:
    """The checked contents of the recognition seed files."""

    weights: dict[str, Decimal]
    badges: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    projects: list[tuple[str, str]]  # (working group code, project path)


def _text(table: dict[str, Any], key: str, where: str, limit: int | None = None) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(where, f"{key} is missing")
    if limit is not None and len(value) > limit:
        raise InvalidInput(where, f"{key} is longer than {limit} characters")
    return value.strip()


def _whole(table: dict[str, Any], key: str, where: str, minimum: int) -> int:
    value = table.get(key, 0 if key == "position" else None)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(where, f"{key} must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidInput(where, f"{key} must be at least {minimum}, got {value}")
    return value


def _code(table: dict[str, Any], where: str, seen: set[str]) -> str:
    code = table.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidInput(where, f"code {code!r} is not a code such as first_merge (a-z, 0-9, _)")
    if code in seen:
        raise InvalidInput(where, f"code {code} is listed twice")
    seen.add(code)
    return code


def _weights(data: dict[str, Any]) -> dict[str, Decimal]:
    weights: dict[str, Decimal] = {}
    for metric, value in data.get("weights", {}).items():
        where = f"scoring.toml [weights] {metric}"
        if metric not in METRICS:
            raise InvalidInput(where, f"unknown metric {metric!r}: one of {', '.join(METRICS)}")
        if not isinstance(value, str):
            raise InvalidInput(where, f"the weight must be a decimal string such as \"10\", got {value!r}")
        try:
            weight = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(where, f"{value!r} is not a decimal number") from None
        if not weight.is_finite() or weight < 0 or weight > MAX_WEIGHT:
            raise InvalidInput(where, f"{value!r} is not a weight from 0 to {MAX_WEIGHT}")
        if weight != weight.quantize(Decimal("0.0001")):
            raise InvalidInput(where, f"{value!r} has more than 4 decimal places")
        weights[metric] = weight
    return weights


def _badges(data: dict[str, Any]) -> list[dict[str, Any]]:
    badges, seen = [], set()
    for index, table in enumerate(data.get("badges", []), start=1):
        where = f"badges.toml {table.get('code') or f'entry {index}'}"
        code = _code(table, where, seen)
        metric = table.get("metric")
        if metric not in METRICS:
            raise InvalidInput(where, f"unknown metric {metric!r}: one of {', '.join(METRICS)}")
        badges.append({
            "code": code, "name": _text(table, "name", where, 120),
            "name_fr": _text(table, "name_fr", where, 120),
            "description": _text(table, "description", where),
            "description_fr": _text(table, "description_fr", where),
            "metric": metric, "threshold": _whole(table, "threshold", where, 1),
            "position": _whole(table, "position", where, 0),
        })
    return badges


def _categories(data: dict[str, Any], jurisdictions: set[str]) -> list[dict[str, Any]]:
    categories, seen = [], set()
    for index, table in enumerate(data.get("categories", []), start=1):
        where = f"awards.toml {table.get('code') or f'entry {index}'}"
        code = _code(table, where, seen)
        rule, decision = table.get("eligibility_rule"), table.get("decision_rule")
        if rule not in ELIGIBILITY_RULES:
            raise InvalidInput(where, f"eligibility_rule {rule!r} is not one of "
                                      f"{', '.join(ELIGIBILITY_RULES)}")
        if decision not in DECISION_RULES:
            raise InvalidInput(where, f"decision_rule {decision!r} is not one of "
                                      f"{', '.join(DECISION_RULES)}")
        jurisdiction = table.get("jurisdiction_code")
        if rule == "jurisdiction" and jurisdiction not in jurisdictions:
            raise InvalidInput(where, f"a jurisdiction award needs a jurisdiction_code of "
                                      f"jurisdictions.toml ({', '.join(sorted(jurisdictions))}), "
                                      f"got {jurisdiction!r}")
        if rule != "jurisdiction" and jurisdiction is not None:
            raise InvalidInput(where, "jurisdiction_code belongs to jurisdiction awards only")
        for_organisations = table.get("is_for_organisations", False)
        if not isinstance(for_organisations, bool):
            raise InvalidInput(where, "is_for_organisations must be true or false")
        if for_organisations != (rule == "organisation"):
            raise InvalidInput(where, "is_for_organisations = true goes with eligibility_rule = "
                                      "\"organisation\", and only with it")
        categories.append({
            "code": code, "name": _text(table, "name", where, 200),
            "name_fr": _text(table, "name_fr", where, 200),
            "eligibility": _text(table, "eligibility", where),
            "eligibility_fr": _text(table, "eligibility_fr", where),
            "eligibility_rule": rule, "decision_rule": decision, "jurisdiction_code": jurisdiction,
            "is_for_organisations": for_organisations, "position": _whole(table, "position", where, 0),
        })
    return categories


def _projects(groups: list[dict[str, Any]]) -> list[tuple[str, str]]:
    projects: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for table in groups:
        code = table.get("code", "?")
        where = f"working_groups.toml {code}"
        listed = table.get("gitlab_projects", [])
        if not isinstance(listed, list):
            raise InvalidInput(where, "gitlab_projects must be a list of project paths")
        for path in listed:
            if not isinstance(path, str) or len(path) > 255 or not _PROJECT_PATH.match(path):
                raise InvalidInput(where, f"{path!r} is not a GitLab project path such as group/project")
            if path.lower() in owner:
                raise InvalidInput(where, f"{path} is already listed for {owner[path.lower()]}: "
                                          "a project belongs to one working group")
            owner[path.lower()] = code
            projects.append((code, path))
    return projects


def read_recognition(seed_dir: Path) -> RecognitionFiles:
    """Read and check the recognition seed files of `seed_dir`; writes nothing."""
    try:
        scoring = seed_files.read_toml("scoring.toml", seed_dir)
        badges = seed_files.read_toml("badges.toml", seed_dir)
        awards = seed_files.read_toml("awards.toml", seed_dir)
        groups = seed_files.read_toml("working_groups.toml", seed_dir).get("working_groups", [])
        jurisdictions = set(seed_files.read_toml("jurisdictions.toml", seed_dir).get("jurisdictions", {}))
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise InvalidInput("seed", f"cannot read the recognition seed files in {seed_dir}: {exc}") from None
    return RecognitionFiles(_weights(scoring), _badges(badges), _categories(awards, jurisdictions),
                            _projects(groups))


def _seed_weights(session: Session, actor: Actor, weights: dict[str, Decimal],
                  count: Callable[[str, bool], None]) -> None:
    recorded = set(session.execute(select(ScoreWeight.metric)).scalars())
    for metric, weight in weights.items():
        count("score weights", metric not in recorded)
        if metric in recorded:
            continue
        row = ScoreWeight(metric=metric, weight=weight)
        session.add(row)
        session.flush()
        audit.record(session, actor, "score_weight.create", "score_weight", row.id,
                     {"metric": metric, "weight": str(weight)})


def _seed_badges(session: Session, actor: Actor, badges: list[dict[str, Any]],
                 count: Callable[[str, bool], None]) -> None:
    recorded = set(session.execute(select(Badge.code)).scalars())
    for values in badges:
        count("badges", values["code"] not in recorded)
        if values["code"] in recorded:
            continue
        badge = Badge(**values)
        session.add(badge)
        session.flush()
        audit.record(session, actor, "badge.create", "badge", badge.id,
                     {"code": badge.code, "metric": badge.metric, "threshold": badge.threshold})


def _fill_in(category: AwardCategory, values: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields of a category recorded before they existed; what was filled."""
    filled: dict[str, Any] = {}
    if category.name_fr:
        return filled
    for name in ("name_fr", "eligibility", "eligibility_fr"):
        if not getattr(category, name):
            filled[name] = values[name]
    # The migration gave older rows the rule "active", position 0, no jurisdiction.
    if category.eligibility_rule == "active" and values["eligibility_rule"] != "active":
        filled["eligibility_rule"] = values["eligibility_rule"]
    if category.jurisdiction_code is None and values["jurisdiction_code"] is not None:
        filled["jurisdiction_code"] = values["jurisdiction_code"]
    if not category.is_for_organisations and values["is_for_organisations"]:
        filled["is_for_organisations"] = True
    if category.position == 0 and values["position"]:
        filled["position"] = values["position"]
    for name, value in filled.items():
        setattr(category, name, value)
    return filled


def _seed_categories(session: Session, actor: Actor, categories: list[dict[str, Any]],
                     count: Callable[[str, bool], None]) -> None:
    recorded = {c.code: c for c in session.execute(select(AwardCategory)).scalars()}
    for values in categories:
        category = recorded.get(values["code"])
        count("award categories", category is None)
        if category is None:
            category = AwardCategory(**values)
            session.add(category)
            session.flush()
            audit.record(session, actor, "award_category.create", "award_category", category.id,
                         {"code": category.code, "eligibility_rule": category.eligibility_rule,
                          "decision_rule": category.decision_rule,
                          "jurisdiction": category.jurisdiction_code})
            continue
        filled = _fill_in(category, values)
        if filled:
            session.flush()
            audit.record(session, actor, "award_category.update", "award_category", category.id,
                         {"code": category.code, "filled": filled})


def _seed_projects(session: Session, actor: Actor, projects: list[tuple[str, str]],
                   count: Callable[[str, bool], None]) -> None:
    groups = {g.code: g.id for g in session.execute(select(WorkingGroup)).scalars()}
    recorded = {p.lower() for p in session.execute(select(WorkingGroupProject.project_path)).scalars()}
    for code, path in projects:
        if code not in groups:
            raise InvalidInput(f"working_groups.toml {code}", f"no working group {code} on record")
        count("group projects", path.lower() not in recorded)
        if path.lower() in recorded:
            continue
        row = WorkingGroupProject(working_group_id=groups[code], project_path=path)
        session.add(row)
        session.flush()
        recorded.add(path.lower())
        audit.record(session, actor, "working_group.project_add", "working_group", groups[code],
                     {"code": code, "project": path})


def seed_recognition(session: Session, actor: Actor, seed_dir: Path,
                     count: Callable[[str, bool], None]) -> None:
    """Add what is missing of the recognition reference data; flushes, never commits.

    `count(kind, created)` is told of each entry, added or already there. Runs inside the
    reference seed's transaction, after the working groups: the caller rolls back on a refusal.
    """
    actor.require(Permission.SEED_DATA)
    files = read_recognition(seed_dir)
    _seed_weights(session, actor, files.weights, count)
    _seed_badges(session, actor, files.badges, count)
    _seed_categories(session, actor, files.categories, count)
    _seed_projects(session, actor, files.projects, count)
