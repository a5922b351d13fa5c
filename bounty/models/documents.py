"""Documents built on the job queue (XLSX exports, the awards report): the request, its
progress, and the finished file, kept until it expires."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bounty.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, one_of

JOB_STATUSES = ("queued", "running", "done", "failed")
LIVE_JOB_STATUSES = ("queued", "running")


class DocumentJob(IdMixin, CreatedMixin, Base):
    """A document someone asked for: `kind` and `params` say what, the job fills in the rest.

    `request_key` is the kind and its normalised parameters: asking again for the same
    document while a job for it is live (or its file still fresh) returns that job.
    """

    __tablename__ = "document_jobs"
    __table_args__ = (
        one_of("status", JOB_STATUSES),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
    )

    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_key: Mapped[str] = mapped_column(String(300), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(String(200), default="")
    media_type: Mapped[str] = mapped_column(String(100), default="")
    size_bytes: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    error: Mapped[str] = mapped_column(Text, default="")
