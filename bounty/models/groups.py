"""Working groups, the capabilities they own, and who leads or reviews in each."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, IdMixin, one_of

MEMBER_ROLES = ("lead", "reviewer", "member")


class WorkingGroup(IdMixin, Base):
    """One of the eight working groups (WG1 Platform Engineering ... WG8 Databases)."""

    __tablename__ = "working_groups"

    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    lead_jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    lead_country: Mapped[str | None] = mapped_column(String(80))
    technologies: Mapped[str] = mapped_column(String(300), default="")

    capabilities: Mapped[list[Capability]] = relationship(
        back_populates="working_group", order_by="Capability.name"
    )


class Capability(IdMixin, Base):
    """A capability a working group owns (CloudStack core, Object storage, IAM, ...)."""

    __tablename__ = "capabilities"

    working_group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    working_group: Mapped[WorkingGroup] = relationship(back_populates="capabilities")


class WorkingGroupMember(IdMixin, Base):
    """A person's role in a working group: reviewers review claims, hours and milestones there."""

    __tablename__ = "working_group_members"
    __table_args__ = (UniqueConstraint("working_group_id", "person_id"), one_of("role", MEMBER_ROLES))

    working_group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(12), default="member")
