"""connection sid: a socket's presence row is found by its sid through an index

Every heartbeat (each candidate every 15 s) and every disconnect looked its row up by sid, a
scan of all the exam's connections.

Revision ID: 0010_connection_sid
Revises: 0009_deadline
Create Date: 2026-12-08 02:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0010_connection_sid"
down_revision = "0009_deadline"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("candidate_connection", schema=None) as batch_op:
        batch_op.create_index("ix_candidate_connection_sid", ["sid"], unique=False)


def downgrade():
    with op.batch_alter_table("candidate_connection", schema=None) as batch_op:
        batch_op.drop_index("ix_candidate_connection_sid")
