"""The lemma index as one row a document ({lemma: [start, end, ...]}) instead of one row a
lemma: storing 430,000 rows for 89 long transcripts took 20 s, and a search parsed every row.
The index is derived from the text, so the old rows are dropped, not converted: the first
lemma search builds it again, once, and says so.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from coding.storage.migrations import set_schema_version

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _lemmas_table(*columns, unique):
    op.create_table(
        "lemmas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_lemmas_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lemmas")),
        sa.UniqueConstraint(*unique, name=op.f("uq_lemmas_document_id")),
        sqlite_autoincrement=True)


def upgrade():
    op.drop_index("ix_lemmas_lemma", table_name="lemmas")
    op.drop_table("lemmas")
    _lemmas_table(unique=["document_id"])
    set_schema_version(op, 5)


def downgrade():
    op.drop_table("lemmas")
    _lemmas_table(sa.Column("lemma", sa.String(length=100), nullable=False),
                  unique=["document_id", "lemma"])
    op.create_index("ix_lemmas_lemma", "lemmas", ["lemma"])
    set_schema_version(op, 4)
