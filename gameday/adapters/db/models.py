"""Typed ORM classes mapped onto the Core tables of `tables.py`.

The schema itself is declared once, in `tables.py`; the repositories use those tables
directly, so only tools that want ORM models (Alembic's comparisons, tests) load the ORM.
`Base.metadata` is the schema's metadata.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from gameday.adapters.db import tables


class Base(DeclarativeBase):
    """Declarative base over the schema's metadata (with its naming convention)."""

    metadata = tables.metadata


class RunRow(Base):
    """One run; `last_seq` is the seq of its newest event (allocates the next one)."""

    __table__ = tables.runs


class RunEventRow(Base):
    """One entry of a run's append-only log (the database refuses UPDATE and DELETE)."""

    __table__ = tables.run_events


class ApprovalRow(Base):
    """A person's decision on a run; one per person per run."""

    __table__ = tables.approvals


class NoteRow(Base):
    """A free-text note on a run."""

    __table__ = tables.notes


class ControlRow(Base):
    """The kill switch (scope "kill_switch", name "") and schedule pauses (scope "pause")."""

    __table__ = tables.controls


class OutboxRow(Base):
    """An outgoing message; delivered in id order within its ordering key (the channel)."""

    __table__ = tables.outbox


class JournalRow(Base):
    """The Chaos Toolkit journal of a run, stored whole."""

    __table__ = tables.journals
