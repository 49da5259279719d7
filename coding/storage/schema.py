"""The schema: every table of a project as SQLAlchemy models, and its version. Migrations
(`migrations/`) import this and nothing else of coding's storage; `store.py` opens projects.
"""

from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, MetaData,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = 7  # the Alembic head revision's number: migrations/versions/0007_*.py

# Stable constraint names, so later migrations (Alembic) can address them on any backend.
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}


# SQLite hands the highest id out again once its row is deleted (a new coding would inherit
# the removed one's memo, an undo act on the wrong row); AUTOINCREMENT never reuses an id, as
# PostgreSQL's sequences never do (issue 13, revision 0003).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def utcnow():
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ProjectRow(Base):
    __tablename__ = "project"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    files: Mapped[list] = mapped_column(JSON, default=list)  # file names or globs it owns
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attributes: Mapped[list["AttributeRow"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="AttributeRow.id")


class AttributeRow(Base):
    """A typed case attribute; `value` is text, `type` says how to read it (text, number, ...)."""

    __tablename__ = "attributes"
    __table_args__ = (UniqueConstraint("case_id", "name"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), default="text")
    value: Mapped[str | None] = mapped_column(Text)
    case: Mapped[CaseRow] = relationship(back_populates="attributes")


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), index=True)
    format: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # not unique: two respondents may both answer "Not sure." (a document is name + content)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    words: Mapped[int] = mapped_column(Integer, default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    case: Mapped[CaseRow | None] = relationship()
    turns: Mapped[list["TurnRow"]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="TurnRow.seq")


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("document_id", "seq"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    time_start: Mapped[float | None] = mapped_column(Float)
    time_end: Mapped[float | None] = mapped_column(Float)
    document: Mapped[DocumentRow] = relationship(back_populates="turns")


class CodebookVersionRow(Base):
    """A snapshot of a codebook as imported or edited: the codes' full content as JSON."""

    __tablename__ = "codebook_versions"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(500), default="")
    content: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CodeRow(Base):
    __tablename__ = "codes"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    definition: Mapped[str] = mapped_column(Text, default="")
    inclusion: Mapped[str] = mapped_column(Text, default="")
    exclusion: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list] = mapped_column(JSON, default=list)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    patterns: Mapped[list] = mapped_column(JSON, default=list)
    colour: Mapped[str | None] = mapped_column(String(7))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    parent: Mapped["CodeRow | None"] = relationship(remote_side="CodeRow.id")


class CodingRow(Base):
    __tablename__ = "codings"
    __table_args__ = (Index("ix_codings_document_code", "document_id", "code_id"),
                      Index("ix_codings_status", "status"),  # revision 0002
                      Index("ix_codings_document_start", "document_id", "start"),
                      NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    coder: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(200), default="manual")
    score: Mapped[float | None] = mapped_column(Float)
    rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    document: Mapped[DocumentRow] = relationship()
    code: Mapped[CodeRow] = relationship()


class MemoRow(Base):
    """Free text on the project, a document, a case, a code or a coding (target_id None = project)."""

    __tablename__ = "memos"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int | None] = mapped_column(Integer)
    coder: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelRow(Base):
    """A trained suggestion model as plain data (vocabulary, idf, coefficients): never a pickle."""

    __tablename__ = "models"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventRow(Base):
    """Append-only audit trail: who changed what, when, with enough detail to undo it."""

    __tablename__ = "events"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    coder: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class LemmaRow(Base):
    """A document's lemma index, for lemma search (project/search.py, revision 0005): `spans`
    maps each lemma of its turns' words to [start, end, start, end, ...] in document offsets.
    Derived from the text, so built again when missing: a document without a row is not
    indexed yet. One row a document (not one a lemma): 430,000 rows took 20 s to store."""

    __tablename__ = "lemmas"
    __table_args__ = (UniqueConstraint("document_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    spans: Mapped[dict] = mapped_column(JSON, default=dict)


class FullyCodedRow(Base):
    """A coder's word that they coded a document completely (issue 17, revision 0006): every
    passage they did not code there is a known miss, so suggesters' recall and kappa can be
    measured on it (project/validation.py)."""

    __tablename__ = "fully_coded"
    __table_args__ = (UniqueConstraint("document_id", "coder"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(200))
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LlmRunRow(Base):
    """A run of the language-model coder (issue 19, revision 0007) and its provenance: the
    model and the digest of its weights where the server says it (Ollama), the server, the
    prompt template (its text and hash), the codebook as sent (hash), temperature and seed;
    `summary` holds the run's counts. `documents` holds ids only: a purge leaves no name."""

    __tablename__ = "llm_runs"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # suggest or evaluate
    model: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))  # without user name and password
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    template_path: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(Text)
    template_sha256: Mapped[str] = mapped_column(String(64))
    codebook_sha256: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))
    context_tokens: Mapped[int] = mapped_column(Integer)
    temperature: Mapped[float] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(Integer)
    parallel: Mapped[int] = mapped_column(Integer, default=1)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)


class LlmCallRow(Base):
    """One call to a language model (issue 19, revision 0007): the request sent (prompt
    included) and the raw answer received, for audit and export. A valid answer is also the
    cache: `cache_key` hashes everything that shaped it, so the same question is not asked
    twice. It goes with its document (a purge leaves none of its words here)."""

    __tablename__ = "llm_calls"
    __table_args__ = (Index("ix_llm_calls_cache_key", "cache_key"),
                      Index("ix_llm_calls_document_id", "document_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("llm_runs.id", ondelete="SET NULL"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    cache_key: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str | None] = mapped_column(String(200))
    codes: Mapped[str] = mapped_column(Text)  # the group of codes asked about
    unit_start: Mapped[int] = mapped_column(Integer)
    unit_end: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)  # 2: the retry of a malformed one
    status: Mapped[str] = mapped_column(String(16))  # ok, invalid or error
    error: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict] = mapped_column(JSON)
    response: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
