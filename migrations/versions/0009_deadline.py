"""deadline: each running sitting's deadline stored and indexed, so an answer is checked and
the scheduler finds the overdue sittings without building every running sitting's clock

Revision ID: 0009_deadline
Revises: 0008_retakes
Create Date: 2026-11-23 01:03:53.108725

"""
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from alembic import op
import sqlalchemy as sa

from examsvc.delivery.clock import Clock


# revision identifiers, used by Alembic.
revision = "0009_deadline"
down_revision = '0008_retakes'
branch_labels = None
depends_on = None


def _aware(moment):
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value or []


def upgrade():
    with op.batch_alter_table('sitting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_sitting_state_deadline_at', ['state', 'deadline_at'], unique=False)

    # Parts in progress during the upgrade get their deadline now; later the app keeps it.
    conn = op.get_bind()
    sitting = sa.table(
        "sitting", sa.column("id"), sa.column("deadline_at", sa.DateTime(timezone=True))
    )
    rows = conn.execute(
        sa.text(
            "SELECT id, duration_minutes, extra_ratio, extensions, pauses, started_at"
            " FROM sitting WHERE state = 'in_progress' AND started_at IS NOT NULL"
        )
    ).all()
    for id_, minutes, ratio, extensions, pauses, started_at in rows:
        clock = Clock(
            duration=timedelta(minutes=minutes),
            started_at=_aware(started_at),
            extensions=tuple(timedelta(seconds=s) for s in _json(extensions)),
            extra_ratio=Decimal(str(ratio or 0)),
            pauses=tuple(
                (_aware(start), _aware(end) if end else None) for start, end in _json(pauses)
            ),
        )
        conn.execute(
            sitting.update()
            .where(sitting.c.id == id_)
            .values(deadline_at=clock.running_deadline())
        )


def downgrade():
    with op.batch_alter_table('sitting', schema=None) as batch_op:
        batch_op.drop_index('ix_sitting_state_deadline_at')
        batch_op.drop_column('deadline_at')
