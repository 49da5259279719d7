"""The language-model coder's runs and calls (issue 19): each run's provenance (model and its
digest, server, prompt template and its hash, codebook hash, temperature, seed) and every call
it made, the prompt sent and the raw answer received, kept for audit and export; valid answers
double as the cache, keyed by what shaped them. Both tables start empty.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from coding.storage.migrations import set_schema_version

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "llm_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("template_path", sa.Text(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=False),
        sa.Column("codebook_sha256", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("context_tokens", sa.Integer(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("parallel", sa.Integer(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_runs")),
        sqlite_autoincrement=True)
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=True),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.Column("unit_start", sa.Integer(), nullable=False),
        sa.Column("unit_end", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_llm_calls_document_id_documents")),
        sa.ForeignKeyConstraint(["run_id"], ["llm_runs.id"], ondelete="SET NULL",
                                name=op.f("fk_llm_calls_run_id_llm_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_calls")),
        sqlite_autoincrement=True)
    op.create_index("ix_llm_calls_cache_key", "llm_calls", ["cache_key"])
    op.create_index("ix_llm_calls_document_id", "llm_calls", ["document_id"])
    set_schema_version(op, 7)


def downgrade():
    op.drop_index("ix_llm_calls_document_id", table_name="llm_calls")
    op.drop_index("ix_llm_calls_cache_key", table_name="llm_calls")
    op.drop_table("llm_calls")
    op.drop_table("llm_runs")
    set_schema_version(op, 6)
