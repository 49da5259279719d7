"""Backups of SQLite projects with SQLite's online backup API (never a file copy: a project in
WAL mode keeps recent changes in its -wal file, and a copy taken while someone writes is torn).

Backups live beside the project, in `<project file>.backups/`, named
`<stem>-<UTC time>-e<newest event id>-<reason>.db`. Automatic ones (reason `auto-...`: before
a schema upgrade, a batch, an import or a merge) are rotated, the newest KEEP kept, and skipped
when the newest one already holds the same data (same newest event). Manual backups and the
one `restore` takes of the state it replaces are never rotated. A backup is one
self-contained file (rollback journal, not WAL), a project like any other: `coding restore`
puts it back, and `coding summary BACKUP` reads it.

PostgreSQL projects are backed up with PostgreSQL's own tools (pg_dump / pg_restore).
"""

import os
import re
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from ..errors import StoreError
from ..files import output_target
from ..records import sha256_text
from .schema import SCHEMA_VERSION, EventRow
from .store import Store, is_sqlite_path

KEEP = 5  # automatic backups kept per project
AUTO = "auto-"
BEFORE_RESTORE = "before-restore"
NAME = re.compile(r"^(?P<stem>.+)-(?P<when>\d{8}-\d{6}-\d{6})-e(?P<event>\d+)-"
                  r"(?P<reason>[a-z0-9_-]+)\.db$")


@dataclass(frozen=True)
class Backup:
    """A backup file and what its name says."""

    path: Path
    when: datetime
    event: int    # the newest event id it holds: its data version
    reason: str   # manual, before-restore, auto-batch, auto-upgrade, ...

    @property
    def automatic(self):
        return self.reason.startswith(AUTO)


def sqlite_file(store):
    """The project's file, or None when it is not a SQLite file (PostgreSQL, in memory)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def folder(path):
    """Where a project's backups go: `study.db` -> `study.db.backups/`."""
    path = Path(path)
    return path.with_name(path.name + ".backups")


def backups(path):
    """The backups in a project's backup folder, oldest first."""
    found = []
    where = folder(path)
    for file in (where.iterdir() if where.is_dir() else ()):
        match = NAME.match(file.name)
        if match:
            when = datetime.strptime(match["when"], "%Y%m%d-%H%M%S-%f").replace(
                tzinfo=timezone.utc)
            found.append(Backup(file, when, int(match["event"]), match["reason"]))
    return sorted(found, key=lambda b: (b.when, b.path.name))


def backup(store, to=None, reason="manual"):
    """Back up a SQLite project to `to`, or into its backup folder; returns the file written.
    A PostgreSQL project is a StoreError saying to use pg_dump."""
    path = sqlite_file(store)
    if path is None:
        raise StoreError(_not_sqlite(store), path=_shown(store))
    target = Path(to) if to is not None else _new_name(path, _data_version(store), reason)
    if target.exists() and target.is_dir():
        raise StoreError("is a folder; give a file name for the backup", path=target)
    if target.resolve() == path.resolve():
        raise StoreError("is the project itself; back it up to another file", path=target)
    copy_database(path, target)
    return target


def before_upgrade(store):
    """The backup `Store.open` takes before it upgrades a project's schema."""
    return auto_backup(store, "upgrade")


def auto_backup(store, reason):
    """The automatic backup taken before a risky change (an upgrade, a batch, an import):
    skipped for PostgreSQL and in-memory projects, for a project with nothing in it yet, and
    when the newest automatic backup already holds this data (the same newest event); older automatic backups beyond KEEP are deleted. Returns the file or None."""
    path = sqlite_file(store)
    if path is None or not path.exists():
        return None
    version = _data_version(store)
    automatic = [b for b in backups(path) if b.automatic]
    if not version or (automatic and automatic[-1].event == version):
        return None  # nothing stored yet, or nothing changed since the last one
    target = _new_name(path, version, AUTO + reason)
    copy_database(path, target)
    for old in [b for b in backups(path) if b.automatic][:-KEEP]:
        old.path.unlink(missing_ok=True)
    return target


def erase_freed(store, self_contained=False):
    """After a purge: rebuild a SQLite project's file (VACUUM) and empty its write-ahead log,
    so the bytes of the rows deleted are gone from the file, not only marked free. With
    `self_contained` (a backup), the file is left in rollback-journal mode, one file as
    backups are. Returns False for a database that is not a SQLite file (PostgreSQL keeps
    deleted rows until its own VACUUM FULL)."""
    path = sqlite_file(store)
    if path is None:
        return False
    store.engine.dispose()  # its pooled connections would keep the log in use
    try:
        with _connect(path) as connection:
            if self_contained:
                connection.execute("PRAGMA journal_mode=DELETE")
            connection.execute("VACUUM")
            for pause in (0.1, 0.5, 2.0, None):
                busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    break
                if pause is None:
                    raise StoreError("the purge is done, but another program has the project "
                                     "open, so its write-ahead log (the -wal file beside it) "
                                     "still holds the purged rows until every program has "
                                     "closed the project; close them", path=path)
                time.sleep(pause)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot rebuild the file after the purge: {exc}", path=path) from exc
    return True


_PART = re.compile(r"^\..+\.part(?P<pid>\d+)(-journal)?$")


def clean_stray_parts(where):
    """Remove the temporary files (`.NAME.partPID` and its `-journal`) that a backup killed
    mid-copy left in folder `where`, unless their process still runs. Returns what went."""
    removed = []
    for file in (Path(where).iterdir() if Path(where).is_dir() else ()):
        match = _PART.match(file.name)
        if match and not _running(int(match["pid"])):
            file.unlink(missing_ok=True)
            removed.append(file)
    return removed


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def copy_database(source, target):
    """Copy a SQLite database page by page with the online backup API, into a temporary file
    renamed over `target` only when complete; the copy uses a rollback journal, so it is one
    file."""
    target = output_target(target)  # through a symlink to its file; never over a device
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot make the backup folder: {exc.strerror or exc}",
                         path=target.parent) from exc
    temporary = target.with_name(f".{target.name}.part{os.getpid()}")
    clean_stray_parts(target.parent)
    try:
        with _connect(source) as src, _connect(temporary) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        os.replace(temporary, target)
    except sqlite3.Error as exc:
        raise StoreError(f"backup failed: {exc}", path=source) from exc
    except OSError as exc:
        raise StoreError(f"cannot write the backup: {exc.strerror or exc}", path=target) from exc
    finally:
        temporary.unlink(missing_ok=True)
    return target


def check_backup(path):
    """Refuse a file that is not a readable coding project (of a schema this coding reads).
    Returns its schema version."""
    path = Path(path)
    if not path.is_file():
        raise StoreError("does not exist", path=path)
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise StoreError("is not a coding project backup (not a SQLite database)", path=path)
    try:
        with _connect(path, read_only=True) as connection:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"meta", "documents", "codings", "events"} <= tables:
                raise StoreError("is not a coding project backup (no coding tables)", path=path)
            version = connection.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"is not a readable project database: {exc}", path=path) from exc
    if check != "ok":
        raise StoreError(f"is damaged (quick_check: {check})", path=path)
    if version is None or not str(version[0]).isdigit():
        raise StoreError("is not a coding project backup (no schema version)", path=path)
    if int(version[0]) > SCHEMA_VERSION:
        raise StoreError(f"was written by a newer version of coding (schema {version[0]}; this "
                         f"one reads {SCHEMA_VERSION}); upgrade coding", path=path)
    return int(version[0])


def restore(project, source, coder):
    """Replace a SQLite project's content with a backup's, through the online backup API (so
    an app that has the project open sees the restored state, not a torn file). The backup is
    checked first: a readable coding project whose every document text still matches its
    SHA-256 (a text altered after the fact is refused). The current state is backed up first
    (reason before-restore); a project file that does not exist yet is created.

    The backup is first copied into a scratch file, brought up to this coding's schema, and
    given the "restore" event, whose id is above every id either state used (so caches keyed
    on the data version never mistake the restored state for an earlier one); that file is
    then copied into the project in one step, so the restored data and its event arrive
    together or not at all (a kill -9 can never leave a restore without its record).
    Returns the backup of the replaced state (None when there was none)."""
    if not is_sqlite_path(project) and not str(project).startswith("sqlite:///"):
        raise StoreError("is not a SQLite project; restore PostgreSQL dumps with pg_restore",
                         path=project)
    check_backup(source)
    check_texts(source)
    target = Path(str(project).removeprefix("sqlite:///")).expanduser()
    if target.exists() and target.resolve() == Path(source).resolve():
        raise StoreError("is the project itself; restore another file", path=source)
    saved, before = None, 0
    if target.exists() and target.stat().st_size:
        current = Store.open(target, before_upgrade)  # refuses a file that is not a project
        try:
            if current.read_only:
                raise StoreError(f"{current.read_only}; cannot restore into it", path=target)
            saved = backup(current, reason=BEFORE_RESTORE)
            before = _data_version(current)
        finally:
            current.close()
    with tempfile.TemporaryDirectory(prefix="coding-restore-") as scratch:
        staged = copy_database(source, Path(scratch) / "restored.db")
        store = Store.open(staged)  # upgrades a backup of an older schema, in the scratch copy
        try:
            with store.transaction() as session:
                newest = max(before, _data_version(store, session))
                session.add(EventRow(id=newest + 1, coder=coder, action="restore",
                                     entity="project", entity_id=None,
                                     detail={"file": str(source),
                                             "saved": str(saved) if saved else None}))
        finally:
            store.close()
        try:
            with _connect(staged, read_only=True) as src, _connect(target) as dst:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise StoreError(f"restore failed, the project is unchanged: {exc}",
                             path=target) from exc
    return saved


def check_texts(path):
    """Refuse a backup in which a document's text no longer matches the SHA-256 stored with it
    when it was ingested (the text was altered outside coding)."""
    with _connect(path, read_only=True) as connection:
        altered = [name for name, text, sha256 in connection.execute(
            "SELECT name, text, sha256 FROM documents ORDER BY id")
            if sha256_text(text) != sha256]
    if altered:
        shown = ", ".join(altered[:5]) + (f" and {len(altered) - 5} more" if len(altered) > 5
                                          else "")
        raise StoreError(f"the text of {len(altered)} document{'s' if len(altered) != 1 else ''}"
                         f" ({shown}) no longer matches the checksum taken when it was "
                         "ingested: the backup was changed outside coding; nothing restored",
                         path=path)


def _data_version(store, session=None):
    if session is not None:
        return session.scalar(select(func.max(EventRow.id))) or 0
    with store.reading() as reading:
        return reading.scalar(select(func.max(EventRow.id))) or 0


def _new_name(path, version, reason):
    when = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    return folder(path) / f"{path.stem}-{when}-e{version}-{reason}.db"


def _connect(path, read_only=False):
    """A plain sqlite3 connection that closes on leaving `with` (sqlite3's own context manager
    only commits) and waits for writers like the project's connections do."""
    if read_only:
        connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=30)
    else:
        connection = sqlite3.connect(path, timeout=30)
    return closing(connection)


def _shown(store):
    return store.engine.url.render_as_string(hide_password=True)


def _not_sqlite(store):
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        name = url.database or "DATABASE"
        return (f"is a PostgreSQL database: back it up with pg_dump, e.g. `pg_dump "
                f"--format=custom --file={name}.dump {name}`, and restore it with "
                f"`pg_restore --clean --dbname={name} {name}.dump`")
    return (f"is a {url.get_backend_name()} database, not a SQLite file: back it up with that "
            "database's own tools")
