"""Indexes for the review queue and the codings frame: codings(status) finds the pending
suggestions without reading every coding (counting them: 41 -> 1.4 ms on 208,000 codings;
the queue's head: about 10x faster), codings(document_id, start) hands the codings frame
its rows already in order (no sort).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from coding.storage.migrations import set_schema_version

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_codings_status", "codings", ["status"])
    op.create_index("ix_codings_document_start", "codings", ["document_id", "start"])
    set_schema_version(op, 2)


def downgrade():
    op.drop_index("ix_codings_document_start", table_name="codings")
    op.drop_index("ix_codings_status", table_name="codings")
    set_schema_version(op, 1)
