"""The project store: create, reopen with everything kept, schema version checks, SQLite setup."""

import sqlite3

import pytest
from sqlalchemy import text

import coding
from coding import StoreError
from coding.storage.schema import SCHEMA_VERSION


def test_reopening_a_project_keeps_everything(tmp_path):
    path = tmp_path / "study.db"
    transcript = tmp_path / "p01.txt"
    transcript.write_text("Interviewer: What helped?\nAnn: The walking group.\n")
    with coding.init_project(path, coder="ann") as project:
        project.ingest([transcript])
        project.add_memo("Start with the walking groups", title="plan")
        before = (project.summary(), project.turns("p01.txt").to_dict("records"))
    with coding.open_project(path) as project:
        after = (project.summary(), project.turns("p01.txt").to_dict("records"))
        assert project.memos()["text"].tolist() == ["Start with the walking groups"]
    assert after == before
    assert after[0]["documents"] == 1 and after[0]["turns"] == 2


def test_sqlite_project_uses_wal_and_foreign_keys(project):
    with project.store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_init_refuses_an_existing_project(tmp_path):
    path = tmp_path / "study.db"
    coding.init_project(path).close()
    with pytest.raises(StoreError, match="already exists"):
        coding.init_project(path)


def test_open_missing_project_says_how_to_create_it(tmp_path):
    path = tmp_path / "none.db"
    with pytest.raises(StoreError) as info:
        coding.open_project(path)
    assert str(info.value) == f"{path}: does not exist; create it with `coding init`"


def test_unknown_schema_version_is_a_clear_error(tmp_path):
    path = tmp_path / "study.db"
    coding.init_project(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError) as info:
        coding.open_project(path)
    assert f"written by a newer version of coding (schema 99; this one reads {SCHEMA_VERSION})" \
        in str(info.value)


def test_a_file_that_is_not_a_project_is_refused_and_left_unchanged(tmp_path):
    """Opening must not modify it (issue 13): no 4 KB database made of an empty file, no switch
    of another program's database to WAL, no -wal or -shm file left beside it."""
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    text_file = tmp_path / "notes.db"
    text_file.write_text("hello, this is not a database at all" * 100)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    cases = [(other, "is a SQLite database of another program, not a coding project (no "
                     "schema version found); left as it is"),
             (text_file, "is not a coding project (not a SQLite database); left as it is"),
             (empty, "is empty (0 bytes), not a coding project; left as it is. Remove it, or "
                     "create a project with `coding init`")]
    for path, message in cases:
        before = path.read_bytes()
        with pytest.raises(StoreError) as info:
            coding.open_project(path)
        assert str(info.value) == f"{path}: {message}"
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "notes.db", "other.db"]
    with sqlite3.connect(other) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_every_change_is_in_the_event_log(project, tmp_path):
    transcript = tmp_path / "p01.txt"
    transcript.write_text("Interviewer: What helped?\nAnn: The walking group.\n")
    project.ingest([transcript])
    project.add_memo("a memo")
    events = project.events()
    assert events["action"].tolist() == ["ingest", "add_memo"]
    assert set(events["coder"]) == {"tester"}
