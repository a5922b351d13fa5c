"""The recognition seed (score weights, badges, award categories, working groups' GitLab
projects): what it loads, idempotence, each refusal naming its file and entry, and award
categories recorded before their new fields existed."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bounty.models import AuditEvent, AwardCategory, Badge, ScoreWeight, WorkingGroup, WorkingGroupProject
from bounty.models.recognition import METRICS
from bounty.services import seed
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput
from bounty.services.seed_files import SEED_DIR
from bounty.services.seed_recognition import read_recognition
from tests.service.test_seed import row_counts

ADMIN = Actor(label="programme admin", roles=frozenset({"program-admin"}))


def test_the_seed_loads_weights_badges_award_categories_and_group_projects(session):
    report = seed.seed_reference(session, ADMIN)
    assert (report.created["score weights"], report.created["badges"], report.created["award categories"],
            report.created["group projects"]) == (5, 9, 10, 11)
    weights = dict(session.execute(select(ScoreWeight.metric, ScoreWeight.weight)).all())
    assert weights == {"merged_mrs": Decimal("10"), "earnings_eur": Decimal("0.01"),
                       "approved_hours": Decimal("1"), "reviews_given": Decimal("3"),
                       "awards_won": Decimal("100")}
    found = {b.code: b for b in session.execute(select(Badge)).scalars()}
    assert {code: (b.metric, b.threshold) for code, b in found.items()} == {
        "first_merge": ("merged_mrs", 1), "merges_10": ("merged_mrs", 10), "merges_50": ("merged_mrs", 50),
        "first_bounty": ("bounties_approved", 1), "security_fixer": ("security_fixes", 1),
        "documentation_champion": ("documentation_hours", 25), "hours_100": ("approved_hours", 100),
        "mentor": ("mentoring_hours", 20), "reviewer": ("reviews_given", 10)}
    assert all(b.name_fr and b.description and b.description_fr for b in found.values())
    assert found["first_merge"].name_fr == "Première fusion"
    categories = {c.code: c for c in session.execute(select(AwardCategory)).scalars()}
    assert len(categories) == 10
    assert (categories["security_champion"].eligibility_rule,
            categories["security_champion"].decision_rule) == ("security", "lazy_consensus")
    assert (categories["jurisdiction_ca"].eligibility_rule, categories["jurisdiction_ca"].jurisdiction_code) \
        == ("jurisdiction", "CA")
    assert categories["organisation_of_the_year"].is_for_organisations
    assert sum(c.is_for_organisations for c in categories.values()) == 1
    assert categories["contributor_of_the_year"].decision_rule == "lazy_two_thirds"
    assert all(c.name_fr and c.eligibility_fr for c in categories.values())
    projects = dict(session.execute(
        select(WorkingGroupProject.project_path, WorkingGroup.code)
        .join(WorkingGroup, WorkingGroup.id == WorkingGroupProject.working_group_id)).all())
    assert projects["helm/helm"] == "WG2" and projects["SovereignCloudStack/standards"] == "WG1"
    assert projects["demo/postgres-operator"] == "WG8" and projects["demo/event-bus"] == "WG6"
    actions = set(session.execute(select(AuditEvent.action)).scalars())
    assert {"score_weight.create", "badge.create", "award_category.create",
            "working_group.project_add"} <= actions


def test_the_recognition_seed_twice_changes_nothing(session):
    seed.seed_reference(session, ADMIN)
    before = row_counts(session)
    again = seed.seed_reference(session, ADMIN)
    assert again.created == {}
    assert (again.present["badges"], again.present["award categories"], again.present["group projects"]) == \
        (9, 10, 11)
    assert row_counts(session) == before


def test_what_is_on_record_is_kept_and_only_what_is_missing_is_added(session):
    seed.seed_reference(session, ADMIN)
    weight = session.execute(select(ScoreWeight).where(ScoreWeight.metric == "merged_mrs")).scalar_one()
    weight.weight = Decimal("12")
    badge = session.execute(select(Badge).where(Badge.code == "mentor")).scalar_one()
    session.delete(badge)
    session.commit()
    report = seed.seed_reference(session, ADMIN)
    assert report.created == {"badges": 1}
    assert session.execute(select(ScoreWeight.weight).where(ScoreWeight.metric == "merged_mrs")
                           ).scalar_one() == Decimal("12")


def test_an_award_category_from_an_older_seed_gets_its_new_fields_when_empty(session):
    seed.seed_reference(session, ADMIN)
    category = session.execute(
        select(AwardCategory).where(AwardCategory.code == "jurisdiction_uk")).scalar_one()
    # As the migration left a category recorded before these fields existed.
    category.name_fr, category.eligibility_fr, category.eligibility_rule = "", "", "active"
    category.jurisdiction_code, category.position, category.decision_rule = None, 0, "lazy_consensus"
    category.eligibility = "Kept as written"
    session.commit()
    report = seed.seed_reference(session, ADMIN)
    assert report.created == {}
    session.refresh(category)
    assert (category.name_fr, category.eligibility_rule, category.jurisdiction_code, category.position) == \
        ("Contributeur ou contributrice de l'année : Royaume-Uni", "jurisdiction", "UK", 70)
    assert category.eligibility_fr.startswith("Active dans l'année")
    # Filled only when empty: the text on record and the decision rule stay.
    assert (category.eligibility, category.decision_rule) == ("Kept as written", "lazy_consensus")
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "award_category.update")
                            ).scalar_one()
    assert event.summary["code"] == "jurisdiction_uk"
    assert set(event.summary["filled"]) == {"name_fr", "eligibility_fr", "eligibility_rule",
                                            "jurisdiction_code", "position"}
    before = row_counts(session)
    seed.seed_reference(session, ADMIN)
    assert row_counts(session) == before


def broken(tmp_path: Path, name: str, old: str, new: str) -> Path:
    shutil.copytree(SEED_DIR, tmp_path / "seed")
    path = tmp_path / "seed" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path / "seed"


@pytest.mark.parametrize(("name", "old", "new", "where", "message"), [
    ("scoring.toml", 'reviews_given = "3"', 'reviews_made = "3"', "scoring.toml [weights] reviews_made",
     "unknown metric"),
    ("scoring.toml", 'merged_mrs = "10"', "merged_mrs = 10.0", "scoring.toml [weights] merged_mrs",
     "decimal string"),
    ("scoring.toml", 'earnings_eur = "0.01"', 'earnings_eur = "-1"', "scoring.toml [weights] earnings_eur",
     "not a weight"),
    ("scoring.toml", 'earnings_eur = "0.01"', 'earnings_eur = "0.000001"',
     "scoring.toml [weights] earnings_eur", "4 decimal places"),
    ("badges.toml", 'metric = "mentoring_hours"', 'metric = "mentoring"', "badges.toml mentor",
     "unknown metric 'mentoring'"),
    ("badges.toml", "threshold = 10\nposition = 90", "threshold = 0\nposition = 90", "badges.toml reviewer",
     "threshold must be at least 1"),
    ("badges.toml", "threshold = 100", 'threshold = "100"', "badges.toml hours_100",
     "threshold must be a whole number"),
    ("badges.toml", 'code = "merges_50"', 'code = "merges_10"', "badges.toml merges_10",
     "listed twice"),
    ("badges.toml", 'name_fr = "Mentor"\n', "", "badges.toml mentor", "name_fr is missing"),
    ("awards.toml", 'eligibility_rule = "mentor"', 'eligibility_rule = "teacher"',
     "awards.toml mentor_of_the_year", "eligibility_rule 'teacher'"),
    ("awards.toml", 'decision_rule = "lazy_consensus"', 'decision_rule = "unanimity"',
     "awards.toml security_champion", "decision_rule 'unanimity'"),
    ("awards.toml", 'jurisdiction_code = "AU"', 'jurisdiction_code = "NZ"', "awards.toml jurisdiction_au",
     "needs a jurisdiction_code"),
    ("awards.toml", 'code = "jurisdiction_uk"', 'code = "jurisdiction_eu"', "awards.toml jurisdiction_eu",
     "listed twice"),
    ("awards.toml", "is_for_organisations = true\n", "", "awards.toml organisation_of_the_year",
     "is_for_organisations"),
    ("working_groups.toml", '"demo/faas-gateway"', '"demo/event-bus"', "working_groups.toml WG6",
     "already listed for WG2"),
    ("working_groups.toml", '"demo/vpc-networking"', '"not a path"', "working_groups.toml WG4",
     "not a GitLab project path"),
])
def test_a_bad_recognition_file_is_refused_naming_the_file_and_entry(session, tmp_path, name, old, new,
                                                                     where, message):
    seed_dir = broken(tmp_path, name, old, new)
    with pytest.raises(InvalidInput, match=message) as refused:
        seed.seed_reference(session, ADMIN, seed_dir)
    assert refused.value.field == where
    assert sum(row_counts(session).values()) == 0


def test_the_seed_files_read_without_a_database():
    files = read_recognition(SEED_DIR)
    assert {b["metric"] for b in files.badges} <= set(METRICS)
    assert set(files.weights) <= set(METRICS)
    assert len({path for _code, path in files.projects}) == len(files.projects) == 11
