"""Initial schema: runs, append-only run events, approvals, notes, controls, outbox, journals.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATES = (
    "planned", "announced", "awaiting_approval", "approved", "running", "completed",
    "deviated", "failed", "aborted", "rejected", "expired", "skipped", "interrupted",
)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


PG_APPEND_ONLY = """
CREATE FUNCTION run_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'run_events is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""
PG_APPEND_ONLY_TRIGGER = """
CREATE TRIGGER run_events_append_only BEFORE UPDATE OR DELETE ON run_events
FOR EACH ROW EXECUTE FUNCTION run_events_append_only()
"""
SQLITE_APPEND_ONLY = [
    """
    CREATE TRIGGER run_events_no_update BEFORE UPDATE ON run_events
    BEGIN SELECT RAISE(ABORT, 'run_events is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER run_events_no_delete BEFORE DELETE ON run_events
    BEGIN SELECT RAISE(ABORT, 'run_events is append-only: DELETE refused'); END
    """,
]


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=True),
        sa.Column("runbook", sa.String(length=200), nullable=True),
        sa.Column("planned_at", _time(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("requester", sa.String(length=200), nullable=True),
        sa.Column("runbook_digest", sa.String(length=128), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.CheckConstraint("kind IN ('gameday', 'monkey')", name=op.f("ck_runs_kind")),
        sa.CheckConstraint(f"state IN ({_one_of(STATES)})", name=op.f("ck_runs_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("schedule", "planned_at", name=op.f("uq_runs_schedule_planned_at")),
    )
    op.create_index(op.f("ix_runs_planned_at_id"), "runs", ["planned_at", "id"])
    op.create_index(op.f("ix_runs_state_planned_at"), "runs", ["state", "planned_at"])

    op.create_table(
        "run_events",
        sa.Column("run_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_events_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_run_events")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
        op.execute(PG_APPEND_ONLY_TRIGGER)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)

    op.create_table(
        "approvals",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("run_id", _id(), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.CheckConstraint("decision IN ('approve', 'reject')", name=op.f("ck_approvals_decision")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_approvals_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("run_id", "user", name=op.f("uq_approvals_run_id_user")),
    )
    op.create_table(
        "notes",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("run_id", _id(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_notes_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_run_id"), "notes", ["run_id"])

    op.create_table(
        "controls",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("changed_at", _time(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "name", name=op.f("pk_controls")),
    )

    op.create_table(
        "outbox",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("ordering_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", _json(), nullable=True),
        sa.Column("run_id", _id(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=True),
        sa.Column("delivered_at", _time(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_outbox_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        op.f("ix_outbox_delivered_at_ordering_key_id"),
        "outbox",
        ["delivered_at", "ordering_key", "id"],
    )
    op.create_index(op.f("ix_outbox_run_id_channel"), "outbox", ["run_id", "channel"])

    op.create_table(
        "journals",
        sa.Column("run_id", _id(), nullable=False),
        sa.Column("journal", _json(), nullable=False),
        sa.Column("stored_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_journals_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_journals")),
    )


def downgrade() -> None:
    op.drop_table("journals")
    op.drop_index(op.f("ix_outbox_run_id_channel"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_delivered_at_ordering_key_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("controls")
    op.drop_index(op.f("ix_notes_run_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_table("approvals")
    op.drop_table("run_events")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS run_events_append_only()")
    op.drop_index(op.f("ix_runs_state_planned_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_planned_at_id"), table_name="runs")
    op.drop_table("runs")
