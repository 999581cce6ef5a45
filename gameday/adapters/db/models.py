"""The database schema as SQLAlchemy 2.0 typed models.

The Alembic migrations in `migrations/versions/` create exactly this schema (a test
compares them on SQLite and PostgreSQL). Names of constraints and indexes are explicit so
migrations can refer to them on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gameday.adapters.db.types import JSONType, UTCDateTime
from gameday.domain.runs import Decision, RunKind, RunState

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Surrogate keys: BIGINT on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY is the
# auto-incrementing rowid there).
Id = BigInteger().with_variant(Integer(), "sqlite")


def _one_of(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Base(DeclarativeBase):
    """Declarative base with the naming convention for constraints."""

    metadata = MetaData(naming_convention=NAMING)


class RunRow(Base):
    """One run; `last_seq` is the seq of its newest event (allocates the next one)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    schedule: Mapped[str | None] = mapped_column(String(200))
    runbook: Mapped[str | None] = mapped_column(String(200))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(32))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    requester: Mapped[str | None] = mapped_column(String(200))
    runbook_digest: Mapped[str | None] = mapped_column(String(128))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One stored run per occurrence; ad-hoc runs (schedule NULL) never collide.
        UniqueConstraint("schedule", "planned_at"),
        CheckConstraint(f"state IN ({_one_of([s.value for s in RunState])})", name="state"),
        CheckConstraint(f"kind IN ({_one_of([k.value for k in RunKind])})", name="kind"),
        Index(None, "planned_at", "id"),
        Index(None, "state", "planned_at"),
    )


class RunEventRow(Base):
    """One entry of a run's append-only log (the database refuses UPDATE and DELETE)."""

    __tablename__ = "run_events"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ApprovalRow(Base):
    """A person's decision on a run; one per person per run."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    user: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("run_id", "user"),
        CheckConstraint(f"decision IN ({_one_of([d.value for d in Decision])})", name="decision"),
    )


class NoteRow(Base):
    """A free-text note on a run."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ControlRow(Base):
    """The kill switch (scope "kill_switch", name "") and schedule pauses (scope "pause")."""

    __tablename__ = "controls"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    engaged: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)


class OutboxRow(Base):
    """An outgoing message; delivered in id order within its ordering key (the channel)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(200))
    ordering_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index(None, "delivered_at", "ordering_key", "id"),
        Index(None, "run_id", "channel"),
    )


class JournalRow(Base):
    """The Chaos Toolkit journal of a run, stored whole."""

    __tablename__ = "journals"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    journal: Mapped[dict[str, Any]] = mapped_column(JSONType)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
