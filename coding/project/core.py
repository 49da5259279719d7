"""The Project facade: one object over a stored project, stamped with the coder who makes its
changes, whose methods are the use cases of this package (documents, codings, codebook,
suggestions, team), plus the project as a whole: opening and creating it, history and undo,
backups, checks and summaries.

Interfaces (CLI, app, notebooks) call these; each change runs in one transaction together with
its event-log record, so a failure leaves the project as it was.
"""

import getpass
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from ..records import STATUSES
from ..errors import StoreError
from ..storage.backup import (backup, backups, before_upgrade, copy_database, restore,
                              sqlite_file)
from ..storage.schema import (AttributeRow, CaseRow, CodebookVersionRow, CodeRow, CodingRow,
                              DocumentRow, EventRow, MemoRow, ProjectRow, TurnRow)
from ..storage.store import Store
from .check import check_project
from .codebook import CodebookUseCases
from .codings import CodingUseCases
from .documents import DocumentUseCases
from .evaluation import EvaluationUseCases
from .groups import GroupUseCases
from .history import history, undo
from .llm import LlmUseCases
from .search import SearchUseCases
from .snapshot import read_snapshot
from .suggestions import SuggestionUseCases
from .team import TeamUseCases
from .validation import ValidationUseCases
from .words import WordUseCases


def default_coder():
    return os.environ.get("CODING_CODER") or getpass.getuser() or "coder"


def init_project(project, name=None, coder=None):
    """Create a new project (a SQLite file path or a SQLAlchemy URL) and open it."""
    return Project(Store.create(project, name=name), coder=coder)


def open_project(project, coder=None, create=False):
    """Open an existing project; with create=True, make it first when it does not exist."""
    if create and "://" not in str(project) and not Path(project).exists():
        return init_project(project, coder=coder)
    return Project(Store.open(project, before_upgrade), coder=coder)


def restore_project(project, backup, coder=None):
    """Replace a SQLite project's content with a backup (see backup.restore): refuses a file
    that is not a coding project, backs up the current state first and returns that file."""
    return restore(project, backup, coder or default_coder())


class Project(DocumentUseCases, CodingUseCases, CodebookUseCases, SuggestionUseCases,
              TeamUseCases, GroupUseCases, SearchUseCases, WordUseCases, LlmUseCases,
              EvaluationUseCases, ValidationUseCases):
    """One coding project. `coder` is stamped on every change made through it."""

    def __init__(self, store, coder=None):
        self.store = store
        self.coder = coder or default_coder()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.store.close()

    # -- history, undo, backups and checks (project/history.py, storage/backup.py) ----------
    def history(self, coder=None, limit=None):
        """The event log, newest first, one row per change: event_id, at, coder, action, what
        (in words), undone_by (the id of the undo event that reversed it, else <NA>)."""
        return history(self, coder=coder, limit=limit)

    def undo(self, steps=1):
        """Reverse this coder's last `steps` changes (not other coders'), newest first, all or
        nothing; each undo is logged. Returns [(event id, action, what)] of the changes undone.
        A change that cannot be undone (an ingest, say) is a StoreError naming it."""
        return undo(self, steps)

    def backup(self, to=None):
        """Back up a SQLite project (to `to`, else into `<project>.backups/`); returns the
        file. For PostgreSQL, a StoreError saying to use pg_dump."""
        return backup(self.store, to)

    def backups(self):
        """The backups in the project's backup folder, oldest first (backup.Backup records)."""
        path = sqlite_file(self.store)
        return backups(path) if path else []

    def check(self):
        """Look for damage earlier versions could do without a word (see coding/check.py):
        a list of check.Finding, empty when nothing was found. Changes nothing."""
        return check_project(self)

    # -- the project as a whole -------------------------------------------------------------
    @contextmanager
    def scratch_copy(self):
        """A throwaway copy of this SQLite project (the same coder), deleted on leaving `with`:
        for trying an import before storing it (`coding import --dry-run`). A PostgreSQL
        project is a StoreError."""
        path = sqlite_file(self.store)
        if path is None:
            raise StoreError("a dry run copies the project, which only works for a SQLite "
                             "file; for PostgreSQL, import into a copy restored from pg_dump",
                             path=self.store.label)
        with tempfile.TemporaryDirectory(prefix="coding-dry-run-") as folder:
            copy = Project(Store.open(copy_database(path, Path(folder) / path.name)),
                           coder=self.coder)
            try:
                yield copy
            finally:
                copy.close()

    def project_row(self):
        """The project's own row, read-only: its name, creation time and settings."""
        with self.store.reading() as session:
            return session.scalars(select(ProjectRow)).one()

    def snapshot(self, statuses=()):
        """Everything stored, read at once (project/snapshot.py): for writers that need it all."""
        return read_snapshot(self.store, statuses)

    def data_version(self):
        """A number that changes whenever anything in the project changes (the newest event id:
        every change writes one), for caches to key on."""
        with self.store.reading() as session:
            return session.scalar(select(func.max(EventRow.id))) or 0

    def events(self):
        with self.store.reading() as session:
            return pd.DataFrame(
                [{"event_id": e.id, "at": e.at, "coder": e.coder, "action": e.action,
                  "entity": e.entity, "entity_id": e.entity_id, "detail": e.detail}
                 for e in session.scalars(select(EventRow).order_by(EventRow.id))],
                columns=["event_id", "at", "coder", "action", "entity", "entity_id", "detail"])

    def summary(self):
        """Counts of everything in the project, as a dict."""
        with self.store.reading() as session:
            count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
            statuses = dict(session.execute(select(CodingRow.status, func.count()).group_by(
                CodingRow.status)).all())
            roles = dict(session.execute(select(TurnRow.role, func.count()).group_by(
                TurnRow.role)).all())
            project = session.scalars(select(ProjectRow)).one()
            coders = sorted(session.scalars(select(CodingRow.coder).distinct()))
            return {
                "project": project.name, "location": self.store.label,
                "documents": count(DocumentRow),
                "words": session.scalar(select(func.coalesce(func.sum(DocumentRow.words), 0))),
                "turns": count(TurnRow), "turns_by_role": roles,
                "cases": count(CaseRow),
                "attributes": sorted(set(session.scalars(select(AttributeRow.name)))),
                "codes": session.scalar(select(func.count()).select_from(CodeRow).where(
                    CodeRow.retired.is_(False))),
                "codebook_versions": count(CodebookVersionRow),
                "codings": count(CodingRow),
                "codings_by_status": {s: statuses.get(s, 0) for s in STATUSES},
                "coders": coders, "memos": count(MemoRow), "events": count(EventRow),
            }
