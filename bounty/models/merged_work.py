"""Merged work pulled from the cooperative's GitLab: merge requests, commits, DCO verdicts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, IdMixin, UTCDateTime, one_of

DCO_EXEMPTIONS = ("merge", "bot")


class MergeRequest(IdMixin, Base):
    """A merged merge request, credited to a person once its author identity is linked.

    `is_dco_ok` is None until checked; only DCO-clean merged work counts toward anything.
    """

    __tablename__ = "merge_requests"
    __table_args__ = (
        UniqueConstraint("gitlab_project_id", "iid"),
        # Leaderboards and badges count DCO-clean merged work per person over a period.
        Index("ix_merge_requests_dco_merged_at_person_id", "merged_at", "person_id",
              postgresql_where=text("is_dco_ok"), sqlite_where=text("is_dco_ok")),
    )

    gitlab_project_id: Mapped[int]
    project_path: Mapped[str] = mapped_column(String(255))
    iid: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    web_url: Mapped[str] = mapped_column(String(500))
    author_username: Mapped[str | None] = mapped_column(String(255))
    author_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    gitlab_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_dco_ok: Mapped[bool | None]
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_gitlab_id: Mapped[int | None]
    head_sha: Mapped[str | None] = mapped_column(String(64))

    commits: Mapped[list[MergeRequestCommit]] = relationship(
        back_populates="merge_request", order_by="MergeRequestCommit.position"
    )


class MergeRequestCommit(IdMixin, Base):
    """A commit of a merge request with the DCO verdict and its reason text."""

    __tablename__ = "merge_request_commits"
    __table_args__ = (
        UniqueConstraint("merge_request_id", "sha"),
        one_of("dco_exempt", DCO_EXEMPTIONS, name="dco_exempt_allowed"),
    )

    merge_request_id: Mapped[int] = mapped_column(ForeignKey("merge_requests.id"))
    position: Mapped[int]
    sha: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(255), default="")
    author_email: Mapped[str] = mapped_column(String(320), default="")
    committer_name: Mapped[str] = mapped_column(String(255), default="")
    committer_email: Mapped[str] = mapped_column(String(320), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    authored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_dco_ok: Mapped[bool]
    dco_reason: Mapped[str] = mapped_column(Text, default="")
    dco_exempt: Mapped[str | None] = mapped_column(String(8))

    merge_request: Mapped[MergeRequest] = relationship(back_populates="commits")


class GitLabSyncCursor(IdMixin, Base):
    """How far the incremental sync of one GitLab project has come.

    `updated_after` moves forward only after a batch of merge requests is committed, so
    an interrupted sync resumes where the last committed batch ended.
    """

    __tablename__ = "gitlab_sync_cursors"

    gitlab_project_id: Mapped[int] = mapped_column(unique=True)
    project_path: Mapped[str] = mapped_column(String(255))
    updated_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merge_requests_seen: Mapped[int] = mapped_column(default=0)
