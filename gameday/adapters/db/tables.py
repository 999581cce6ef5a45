"""The database schema as SQLAlchemy Core tables.

The repositories work on these tables directly; `models.py` maps typed ORM classes onto
the same tables for tools that want models (Alembic's comparisons, tests). Keeping the
ORM out of the repositories keeps `sqlalchemy.orm` out of every command's and worker's
start-up.

The Alembic migrations in `migrations/versions/` create exactly this schema (a test
compares them on SQLite and PostgreSQL). Names of constraints and indexes are explicit so
migrations can refer to them on both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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

metadata = MetaData(naming_convention=NAMING)


def _one_of(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _required(name: str, type_: object, **kw: object) -> Column[object]:
    return Column(name, type_, nullable=False, **kw)  # type: ignore[arg-type]


def _run_id(*, primary_key: bool = False, nullable: bool = False) -> Column[int]:
    return Column("run_id", ForeignKey("runs.id"), primary_key=primary_key, nullable=nullable)


# One run; `last_seq` is the seq of its newest event (allocates the next one).
runs = Table(
    "runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _required("kind", String(16)),
    Column("schedule", String(200)),
    Column("runbook", String(200)),
    _required("planned_at", UTCDateTime()),
    _required("state", String(32)),
    _required("dry_run", Boolean),
    Column("seed", BigInteger),
    Column("requester", String(200)),
    Column("runbook_digest", String(128)),
    _required("last_seq", Integer, default=0),
    _required("created_at", UTCDateTime()),
    _required("updated_at", UTCDateTime()),
    # One stored run per occurrence; ad-hoc runs (schedule NULL) never collide.
    UniqueConstraint("schedule", "planned_at"),
    CheckConstraint(f"state IN ({_one_of([s.value for s in RunState])})", name="state"),
    CheckConstraint(f"kind IN ({_one_of([k.value for k in RunKind])})", name="kind"),
    Index(None, "planned_at", "id"),
    Index(None, "state", "planned_at"),
    # A runbook's last runs (a postmortem's trend).
    Index(None, "runbook", "planned_at"),
)

# One entry of a run's append-only log (the database refuses UPDATE and DELETE).
run_events = Table(
    "run_events",
    metadata,
    _run_id(primary_key=True),
    Column("seq", Integer, primary_key=True),
    _required("at", UTCDateTime()),
    _required("type", String(64)),
    _required("actor", String(200)),
    _required("payload", JSONType),
)

# A person's decision on a run; one per person per run.
approvals = Table(
    "approvals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _run_id(),
    _required("user", String(200)),
    _required("decision", String(16)),
    _required("at", UTCDateTime()),
    UniqueConstraint("run_id", "user"),
    CheckConstraint(f"decision IN ({_one_of([d.value for d in Decision])})", name="decision"),
)

# A free-text note on a run.
notes = Table(
    "notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("runs.id"), nullable=False, index=True),
    _required("author", String(200)),
    _required("text", Text),
    _required("at", UTCDateTime()),
)

# The kill switch (scope "kill_switch", name "") and schedule pauses (scope "pause").
controls = Table(
    "controls",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("name", String(200), primary_key=True),
    _required("engaged", Boolean),
    _required("actor", String(200)),
    _required("changed_at", UTCDateTime()),
    Column("reason", Text),
)

# An outgoing message; delivered in id order within its ordering key (the channel).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _required("channel", String(200)),
    _required("ordering_key", String(200)),
    _required("kind", String(64)),
    _required("text", Text),
    Column("blocks", JSONType),
    _run_id(nullable=True),
    _required("created_at", UTCDateTime()),
    _required("attempts", Integer, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("delivered_at", UTCDateTime()),
    Column("last_error", Text),
    Column("remote_id", String(200)),
    Index(None, "delivered_at", "ordering_key", "id"),
    Index(None, "run_id", "channel"),
)

# The Chaos Toolkit journal of a run, stored whole.
journals = Table(
    "journals",
    metadata,
    _run_id(primary_key=True),
    _required("journal", JSONType),
    _required("stored_at", UTCDateTime()),
)
