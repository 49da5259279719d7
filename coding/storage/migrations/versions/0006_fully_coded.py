"""Documents a coder marks as fully coded (issue 17, item 4): there every passage the coder did
not code is a known miss, so the validation gate can measure suggesters' recall and kappa.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from coding.storage.migrations import set_schema_version

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fully_coded",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_fully_coded_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fully_coded")),
        sa.UniqueConstraint("document_id", "coder", name=op.f("uq_fully_coded_document_id")),
        sqlite_autoincrement=True)
    set_schema_version(op, 6)


def downgrade():
    op.drop_table("fully_coded")
    set_schema_version(op, 5)
