"""Backups of SQLite projects with the online backup API: a round trip through restore, changes
still in the WAL, rotation of automatic backups, backups before batches, imports and merges,
refusals; PostgreSQL projects are pointed to pg_dump."""

import shutil
import sqlite3

import pandas as pd
import pytest
from click.testing import CliRunner

import coding
from coding import StoreError
from coding.storage.backup import KEEP, auto_backup
from coding.cli import main
from coding.storage.schema import SCHEMA_VERSION

BOOK = """
codes:
  - id: walking
    name: Walking
    keywords: [walking group]
  - id: money
    name: Money
    keywords: [funding]
"""
DOC = ("Interviewer: Tell me about it.\n"
       "Ann: The walking group is great. The funding is short. I like my walking group pals.\n")
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def study(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "d1.txt").write_text(DOC)
    with coding.init_project(tmp_path / "study.db", coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "d1.txt"])
        text = project.document_text("d1.txt")
        start = text.index("The walking group")
        project.add_coding("d1.txt", "walking", start, start + 27)
        project.add_memo("groups matter", "document", "d1.txt")
        yield project


def contents(project):
    return (project.codings_frame(statuses=None), project.memos(),
            project.codebook(), project.documents())


def assert_same(a, b):
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert a[2:] == b[2:]


def count(path, table):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def newest(project):
    return project.backups()[-1]


def test_backup_and_restore_round_trip(study, tmp_path):
    before = contents(study)
    written = study.backup(tmp_path / "kept.db")
    assert written == tmp_path / "kept.db" and not (tmp_path / "kept.db-wal").exists()
    with sqlite3.connect(written) as connection:  # one self-contained file
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    last = int(study.events()["event_id"].max())
    study.remove_coding(int(before[0]["coding_id"].iloc[0]))
    study.add_memo("after the backup")
    changed = contents(study)

    saved = coding.restore_project(study.store.label, written, coder="ann")
    assert_same(contents(study), before)  # an open project (the app) sees the restored state
    with coding.open_project(saved) as replaced:  # the state the restore replaced is kept
        assert_same(contents(replaced), changed)
    assert saved.parent == tmp_path / "study.db.backups" and saved.name.endswith(
        "-before-restore.db")
    event = study.events().iloc[-1]
    assert (event["action"], event["coder"]) == ("restore", "ann")
    assert event["event_id"] > last + 2  # above every id either state used


def test_backup_holds_changes_still_in_the_wal(study, tmp_path):
    wal = tmp_path / "study.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # recent changes live in the WAL
    copied = tmp_path / "copied.db"
    shutil.copy(tmp_path / "study.db", copied)  # what a file copy would keep
    written = study.backup(tmp_path / "kept.db")
    assert count(written, "codings") == 1 and count(written, "memos") == 1
    with sqlite3.connect(f"file:{copied}?mode=ro", uri=True) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "events" not in tables or count(copied, "events") < count(written, "events")


def test_automatic_backups_rotate_and_skip_unchanged_data(study, tmp_path):
    manual = study.backup()
    made = []
    for n in range(KEEP + 2):
        study.add_memo(f"note {n}")
        made.append(auto_backup(study.store, "import_codings"))
    assert auto_backup(study.store, "import_codings") is None  # nothing changed since the last one
    automatic = [b for b in study.backups() if b.automatic]
    assert [b.path for b in automatic] == made[-KEEP:]
    assert all(not b.exists() for b in made[:-KEEP])
    assert [b.event for b in automatic] == sorted(b.event for b in automatic)
    assert manual.exists()  # manual backups are never rotated
    assert {b.reason for b in automatic} == {"auto-import_codings"}


def test_automatic_backup_before_batch_imports_and_merges(study, tmp_path):
    from coding.interchange import refi

    def changes(action, reason):
        version = study.data_version()
        action()
        backup = newest(study)
        assert (backup.reason, backup.event) == (f"auto-{reason}", version)
        return backup

    codings = tmp_path / "codings.csv"
    codings.write_text("document,code,quote\nd1.txt,money,The funding is short.\n")
    backup = changes(lambda: study.import_codings(codings), "import_codings")
    assert count(backup.path, "codings") == 1 and len(study.codings_frame()) == 2
    (tmp_path / "book2.yaml").write_text(BOOK + "  - id: places\n    name: Places\n")
    changes(lambda: study.import_codebook(tmp_path / "book2.yaml"), "import_codebook")
    changes(lambda: study.merge_codes("money", "walking"), "merge_codes")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "d2.txt").write_text("Interviewer: Hi.\nBo: Funding was cut.\n")
    backup = changes(lambda: study.batch([tmp_path / "more"], rules=True, model=False,
                                         warn=lambda message: None), "batch")
    assert count(backup.path, "documents") == 1 and len(study.documents()) == 2
    refi.export_qdc(study, tmp_path / "book.qdc")
    study.add_memo("a change since the last backup")
    changes(lambda: refi.import_refi(study, tmp_path / "book.qdc"), "import_refi")


def test_a_refused_import_takes_no_backup(study, tmp_path):
    bad = tmp_path / "codings.csv"
    bad.write_text("document,code,quote\nnowhere.txt,money,The funding is short.\n")
    with pytest.raises(coding.CodingsFileError):
        study.import_codings(bad)
    assert study.backups() == []


def test_restore_refuses_what_is_not_a_coding_project(study, tmp_path):
    before = contents(study)
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database " * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    newer = study.backup(tmp_path / "newer.db")
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    cases = [(garbage, "is not a coding project backup (not a SQLite database)"),
             (other, "is not a coding project backup (no coding tables)"),
             (tmp_path / "missing.db", "does not exist"),
             (newer, "was written by a newer version of coding (schema 99; this one reads "
                     f"{SCHEMA_VERSION})")]
    for source, message in cases:
        with pytest.raises(StoreError) as info:
            coding.restore_project(study.store.label, source)
        assert str(info.value).startswith(f"{source}: {message}")
    assert_same(contents(study), before)
    assert study.backups() == []  # refused before anything was taken or changed
    garbage_before = garbage.read_bytes()
    with pytest.raises(StoreError, match=r"is not a coding project \(not a SQLite database\); "
                                         "left as it is"):
        coding.restore_project(garbage, study.backup(tmp_path / "good.db"))  # onto no project
    assert garbage.read_bytes() == garbage_before


def test_restore_into_a_new_file_makes_a_copy_of_the_project(study, tmp_path):
    written = study.backup()
    assert coding.restore_project(tmp_path / "copy.db", written) is None
    with coding.open_project(tmp_path / "copy.db") as copy:
        assert_same(contents(copy), contents(study))


def test_cli_backup_list_and_restore(study, tmp_path):
    runner, path = CliRunner(), study.store.label
    result = runner.invoke(main, ["backup", path, "--to", str(tmp_path / "kept.db")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Backed up to {tmp_path / 'kept.db'} (")
    result = runner.invoke(main, ["backup", path])
    assert result.exit_code == 0 and "study.db.backups" in result.output
    result = runner.invoke(main, ["backup", path, "--list"], env=WIDE)
    assert "1 backups" in result.output and "manual" in result.output
    study.add_memo("later")
    result = runner.invoke(main, ["--coder", "ann", "restore", path, str(tmp_path / "kept.db")])
    assert result.exit_code == 0, result.output
    assert "the state it replaced is kept in" in result.output and len(study.memos()) == 1
    (tmp_path / "garbage.db").write_text("garbage")
    result = runner.invoke(main, ["restore", path, str(tmp_path / "garbage.db")])
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'garbage.db'}: is not a coding project "
                             "backup (not a SQLite database)\n")


def test_postgres_project_backup_points_to_pg_dump(postgres_url):
    with coding.init_project(postgres_url, coder="ann") as project:
        assert auto_backup(project.store, "batch") is None and project.backups() == []
    result = CliRunner().invoke(main, ["backup", postgres_url])
    assert result.exit_code == 1
    assert "is a PostgreSQL database: back it up with pg_dump" in result.output
    assert ":coding@" not in result.output  # the password is not printed
