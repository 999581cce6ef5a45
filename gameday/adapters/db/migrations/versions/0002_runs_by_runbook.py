"""Index runs by runbook and planned time: a postmortem's trend reads a runbook's last runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_runs_runbook_planned_at"), "runs", ["runbook", "planned_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_runs_runbook_planned_at"), table_name="runs")
