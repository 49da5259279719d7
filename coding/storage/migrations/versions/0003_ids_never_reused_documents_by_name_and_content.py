"""Ids are never handed out twice, and a document is its name and its content (issue 13).

- SQLite gave a deleted row's id to the next insert, so a new coding inherited the memo of a
  removed one. Every table with an integer id is rebuilt with AUTOINCREMENT, which remembers the
  highest id ever used (in sqlite_sequence, seeded by the copy). PostgreSQL's sequences never
  reused ids, so nothing changes there.
- documents.sha256 loses its unique constraint (two respondents who both answered "Not sure."
  are two documents) and becomes a plain index; documents.name gets an index, since documents
  are now found by name and content.

A table is rebuilt by copying it (Alembic's batch mode: create, copy, drop, rename). Dropping a
parent table while SQLite enforces foreign keys would cascade into its children (dropping
`documents` deletes every turn and coding), so `migrations.upgrade` runs this with foreign keys
off, as SQLite's own procedure for altering tables says, and checks them before committing;
this revision refuses to run with them on.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
from sqlalchemy import text

from coding.storage.migrations import set_schema_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# parents before children, so each copy finds the rows it refers to
TABLES = ("project", "cases", "attributes", "documents", "turns", "codebook_versions",
          "codes", "codings", "memos", "models", "events")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _refuse_with_foreign_keys_on()
        for name in TABLES:
            with op.batch_alter_table(name, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": True}) as batch:
                if name == "documents":
                    batch.drop_constraint("uq_documents_sha256", type_="unique")
    else:
        op.drop_constraint("uq_documents_sha256", "documents", type_="unique")
    op.create_index("ix_documents_sha256", "documents", ["sha256"])
    op.create_index("ix_documents_name", "documents", ["name"])
    set_schema_version(op, 3)


def downgrade():
    op.drop_index("ix_documents_name", table_name="documents")
    op.drop_index("ix_documents_sha256", table_name="documents")
    if op.get_bind().dialect.name == "sqlite":
        _refuse_with_foreign_keys_on()
        for name in TABLES:
            with op.batch_alter_table(name, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": False}) as batch:
                if name == "documents":
                    batch.create_unique_constraint("uq_documents_sha256", ["sha256"])
    else:
        op.create_unique_constraint("uq_documents_sha256", "documents", ["sha256"])
    set_schema_version(op, 2)


def _refuse_with_foreign_keys_on():
    if op.get_bind().execute(text("PRAGMA foreign_keys")).scalar():
        raise RuntimeError("revision 0003 rebuilds tables and must run with SQLite's foreign "
                           "keys off (PRAGMA foreign_keys=OFF before the transaction), or "
                           "dropping a parent table deletes its children's rows")
