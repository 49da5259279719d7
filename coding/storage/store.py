"""The Store: opening and creating projects, transactions and locking (the tables are in
`schema.py`); the only module that opens a transaction.

One code path for SQLite (default, a file) and PostgreSQL (a URL): no SQLite-only SQL. SQLite
connections get foreign keys, WAL and a busy timeout when they open; a write transaction takes
SQLite's write lock when it begins, so concurrent writers take turns (issue 8).
"""

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..errors import StoreError
from . import migrations
from .schema import SCHEMA_VERSION, Base, EventRow, Meta, ProjectRow


def database_url(project):
    """A SQLAlchemy URL for PROJECT: a URL as given, else a SQLite file path."""
    text = str(project)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


def is_sqlite_path(project):
    return "://" not in str(project)


# How long a write waits for another process's write to finish (SQLite's busy_timeout), and the
# pauses after which it waits that long again: about two minutes in all before a write gives up.
BUSY_TIMEOUT_MS = 30_000
LOCKED_RETRY_PAUSES = (0.25, 1.0, 4.0)
LOCK_POLL = 0.001  # seconds between tries for the write lock (see _sqlite_begin)
WRITE = {"coding_begin": "IMMEDIATE"}  # execution option read by _sqlite_begin


def _sqlite_pragmas(dbapi_connection, _record):
    # The sqlite3 module would BEGIN only before an INSERT/UPDATE/DELETE, so the reads a
    # transaction makes first would see other writers' changes; _sqlite_begin begins instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection):
    """Reads BEGIN DEFERRED (a snapshot, no lock); writes BEGIN IMMEDIATE, taking the write lock
    at once. A deferred transaction that reads and then writes fails at once with "database is
    locked", without waiting, when another process wrote in between
    (https://www.sqlite.org/lang_transaction.html); an immediate one never does.

    A write polls for the lock every millisecond up to busy_timeout rather than leave the wait
    to SQLite, whose busy handler sleeps up to 100 ms between tries: a process writing one
    transaction after another leaves the lock free only for moments between them, which those
    sleeps miss, so the other process would wait a second or more for a turn (issue 8)."""
    if connection.get_execution_options().get("coding_begin") != "IMMEDIATE":
        connection.exec_driver_sql("BEGIN")
        return
    driver = connection.connection.driver_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    driver.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "database is locked" not in str(exc) or time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            time.sleep(LOCK_POLL)
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")


def _sqlite_read_only_pragmas(dbapi_connection, _record):
    dbapi_connection.isolation_level = None
    dbapi_connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_project(path):
    """Refuse, without changing it, a file that is not a coding project: missing, empty, not
    SQLite, or another program's database (read through a read-only connection). Returns why
    the project must be opened read-only (its file or folder cannot be written), else None."""
    if not path.exists():
        raise StoreError("does not exist; create it with `coding init`", path=path)
    if not path.is_file():
        raise StoreError("is not a file: a project is one SQLite file", path=path)
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    if not header:
        raise StoreError("is empty (0 bytes), not a coding project; left as it is. Remove it, "
                         "or create a project with `coding init`", path=path)
    if header != SQLITE_HEADER:
        raise StoreError("is not a coding project (not a SQLite database); left as it is",
                         path=path)
    read_only = _why_read_only(path)
    try:
        uri = _read_only_uri(path) if read_only else f"{path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            has_meta = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                          "AND name = 'meta'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StoreError(f"is not a readable project database: {exc}", path=path) from exc
    if not has_meta:
        raise StoreError("is a SQLite database of another program, not a coding project (no "
                         "schema version found); left as it is", path=path)
    return read_only


def _why_read_only(path):
    """Why a project file cannot be changed (its file or folder is not writable, or its file
    system is mounted read-only), else None."""
    folder = path.resolve().parent
    if not os.access(path, os.W_OK) or _read_only_file_system(folder):
        return "opened read-only: its file cannot be written"
    if not os.access(folder, os.W_OK):
        return "opened read-only: its folder cannot be written"
    return None


def _read_only_uri(path):
    """A SQLite URI that reads `path` without writing anything beside it. A WAL database
    needs its -shm file, which a read-only folder cannot get; with none, nobody has the
    project open for writing, so it is read as an unchanging (immutable) file."""
    shared = path.with_name(path.name + "-shm").exists()
    return f"{path.resolve().as_uri()}?mode=ro" + ("" if shared else "&immutable=1")


def _read_only_file_system(folder):
    """True on a file system mounted read-only (where even root cannot write)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _locked(exc):
    return "database is locked" in str(exc.orig)  # SQLITE_BUSY, after waiting busy_timeout


class Store:
    """A project database. Use `Store.create(project)` or `Store.open(project)`."""

    WRITE = WRITE  # the execution options of a write transaction (migrations use them too)

    def __init__(self, engine, label):
        self.engine = engine
        self.label = label
        self.read_only = None  # why changes are refused (a read-only file or folder), or None
        self._writing = threading.local()  # this thread's transaction() is open

    @classmethod
    def _engine(cls, project, read_only=False):
        url = database_url(project)
        if read_only:
            url = f"sqlite:///{_read_only_uri(Path(url.removeprefix('sqlite:///')))}&uri=true"
        try:
            engine = create_engine(url)
        except (ArgumentError, ImportError, SQLAlchemyError) as exc:
            raise StoreError(f"cannot use this database URL: {exc}", path=project) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_read_only_pragmas if read_only
                         else _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        return engine

    @classmethod
    def create(cls, project, name=None, settings=None):
        """Create the tables of a new project; refuse an existing project or an unrelated file."""
        if is_sqlite_path(project) and Path(project).exists() and Path(project).stat().st_size:
            raise StoreError("already exists; open it, or choose a new file name", path=project)
        if is_sqlite_path(project):
            Path(project).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = cls._engine(project)
        try:
            if inspect(engine).has_table("meta"):
                raise StoreError("already holds a coding project", path=project)
            with engine.begin() as connection:
                Base.metadata.create_all(connection)
                migrations.stamp_head(connection)
            with Session(engine) as session, session.begin():
                session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
                session.add(ProjectRow(name=name or Path(str(project)).stem,
                                       settings=settings or {}))
        except (OperationalError, DatabaseError) as exc:
            raise StoreError(f"cannot create the project: {exc.orig}", path=project) from exc
        return cls(engine, str(project))

    @classmethod
    def open(cls, project, before_upgrade=None):
        """Open an existing project, checking it is one and that its schema is known; an older
        schema is upgraded (after `before_upgrade(store)`, the caller's backup), a newer one
        refused.

        A SQLite file is looked at read-only first, so an empty file or another program's
        database is refused unchanged (opening it for writing would turn it into a database
        or switch it to WAL). A project whose file or folder cannot be written opens
        read-only: `read_only` says why, and a change is refused with that message."""
        read_only = None
        if is_sqlite_path(project):
            read_only = _check_sqlite_project(Path(project))
        engine = cls._engine(project, read_only=read_only is not None)
        try:
            with engine.connect() as connection:
                if not inspect(connection).has_table("meta"):
                    raise StoreError("is not a coding project (no schema version found)",
                                     path=project)
                row = connection.execute(select(Meta.value).where(
                    Meta.key == "schema_version")).scalar()
                revision = migrations.current_revision(connection)
        except (OperationalError, DatabaseError) as exc:
            engine.dispose()
            raise StoreError(f"is not a readable project database: {exc.orig}",
                             path=project) from exc
        store = cls(engine, str(project))
        store.read_only = read_only
        try:  # an older schema is upgraded (after a backup); a newer or unknown one refused
            if read_only is not None and not migrations.is_current(row, revision):
                raise StoreError(f"{read_only}, and its schema needs an upgrade first; copy it "
                                 "to a folder you can write to", path=project)
            migrations.bring_up_to_date(store, row, revision, before_upgrade)
        except StoreError:
            engine.dispose()
            raise
        return store

    @contextmanager
    def transaction(self):
        """A session whose changes commit together at the end, or not at all.

        On SQLite it holds the write lock from the start: what it reads stays true until it
        commits, and writers in other processes wait their turn instead of failing."""
        if getattr(self._writing, "open", False):  # a bug: it would wait for its own lock
            raise RuntimeError("transaction() inside another transaction() of the same store")
        if self.read_only:
            raise StoreError(f"{self.read_only}: nothing can be changed; copy the project to a "
                             "folder you can write to", path=self.label)
        session, begun = self._begin_writing()
        self._writing.open = True
        try:
            with session:
                try:
                    with begun:
                        yield session
                except (OperationalError, DatabaseError) as exc:
                    raise StoreError(f"database error: {exc.orig}", path=self.label) from exc
        finally:
            self._writing.open = False

    def _begin_writing(self):
        """A session with its transaction begun (on SQLite, with the write lock). When another
        process holds the lock past busy_timeout (a long import), wait again after a pause:
        nothing has been done in the transaction yet, so trying again is safe."""
        for pause in (*LOCKED_RETRY_PAUSES, None):
            session = Session(self.engine, expire_on_commit=False)
            begun = session.begin()
            try:
                session.connection(execution_options=WRITE)
                return session, begun
            except DatabaseError as exc:
                session.close()
                if not _locked(exc):
                    raise StoreError(f"database error: {exc.orig}", path=self.label) from exc
                if pause is None:
                    waited = round(BUSY_TIMEOUT_MS / 1000 * (len(LOCKED_RETRY_PAUSES) + 1))
                    raise StoreError(f"is busy: another process has been writing to it for "
                                     f"over {waited} s; try again when it has finished",
                                     path=self.label) from exc
            time.sleep(pause)

    @contextmanager
    def reading(self):
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def log(self, session, coder, action, entity, entity_id=None, **detail):
        """Append an event in the caller's transaction (so the change and its record agree)."""
        session.add(EventRow(coder=coder, action=action, entity=entity, entity_id=entity_id,
                             detail=json.loads(json.dumps(detail, default=str))))

    def close(self):
        self.engine.dispose()
