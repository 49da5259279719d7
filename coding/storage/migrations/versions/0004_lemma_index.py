"""An index of lemmas for lemma search (issue 16, item 3): where each lemma occurs in each
document's turns, so "support" finds "supported" without analysing every transcript again.

The table starts empty: the lemmas are derived from the text, and a migration imports only the
schema (no NLP). Documents batch-coded from now on are indexed as they are stored; the others
(ingested, imported, restored, and every document of an upgraded project) are indexed once, on
the first lemma search (project/search.py).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from coding.storage.migrations import set_schema_version

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lemmas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("lemma", sa.String(length=100), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_lemmas_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lemmas")),
        sa.UniqueConstraint("document_id", "lemma", name=op.f("uq_lemmas_document_id")),
        sqlite_autoincrement=True)
    op.create_index("ix_lemmas_lemma", "lemmas", ["lemma"])
    set_schema_version(op, 4)


def downgrade():
    op.drop_index("ix_lemmas_lemma", table_name="lemmas")
    op.drop_table("lemmas")
    set_schema_version(op, 3)
