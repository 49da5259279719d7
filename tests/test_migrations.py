"""Schema upgrades with Alembic: a project made by the first released schema (revision 0001,
with data written straight into its tables) opens in this coding, upgraded after a backup,
with every row kept and the new indexes in use; newer schemas are refused; a failed upgrade
changes nothing."""

import sqlite3
import subprocess
import sys
from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, text

import coding
from coding import StoreError
from coding.storage import migrations
from coding.storage.schema import SCHEMA_VERSION, Base

TEXT = ("Interviewer: What helped?\n"
        "Ann: The walking group helped. The funding was cut last year.\n")
WALKING = TEXT.index("The walking group helped.")
FUNDING = TEXT.index("The funding was cut last year.")
WHEN = datetime(2024, 5, 1, 9, 30, 15, 123456)
HEAD = migrations.revision_name(SCHEMA_VERSION)


def alembic(url, *steps):
    """Run Alembic commands (("upgrade", "0001"), ...) on the database at `url`."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for name, revision in steps:
            getattr(command, name)(migrations.config(connection), revision)
    engine.dispose()


def fill(url):
    """The kind of data the first release stored, written with plain SQL into its tables."""
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    codes = [{"name": "walking", "definition": "Walking groups"},
             {"name": "money", "definition": "Funding"}]
    rows = {
        "project": [dict(id=1, name="study", created_at=WHEN, settings={"roles": {"Ann": "participant"}})],
        "cases": [dict(id=1, name="P01", files=["p01*"], created_at=WHEN)],
        "attributes": [dict(id=1, case_id=1, name="role", type="text", value="staff")],
        "documents": [dict(id=1, name="p01.txt", format="txt", text=TEXT, sha256="a" * 64,
                           words=10, case_id=1, meta={"source": "p01.txt"}, created_at=WHEN)],
        "turns": [dict(id=1, document_id=1, seq=0, speaker="Interviewer", role="interviewer",
                       start=13, end=25, time_start=None, time_end=None),
                  dict(id=2, document_id=1, seq=1, speaker="Ann", role="participant",
                       start=31, end=len(TEXT) - 1, time_start=1.5, time_end=9.0)],
        "codebook_versions": [dict(id=1, codebook_id="book", name="Book", version="1",
                                   description="", source="", origin="book.yaml",
                                   content={"codes": [
                                       dict(id=c["name"], name=c["name"].title(), parent=None,
                                            definition=c["definition"], inclusion="",
                                            exclusion="", examples=[], keywords=[],
                                            patterns=[], colour=None) for c in codes]},
                                   created_by="ann", created_at=WHEN)],
        "codes": [dict(id=i + 1, key=c["name"], name=c["name"].title(), parent_id=None,
                       position=i, definition=c["definition"], inclusion="", exclusion="",
                       examples=[], keywords=[], patterns=[], colour=None, retired=False)
                  for i, c in enumerate(codes)],
        "codings": [
            dict(id=1, document_id=1, code_id=1, start=WALKING, end=WALKING + 25, coder="ann",
                 status="manual", origin="manual", score=None, rationale=None,
                 created_at=WHEN, reviewed_by=None, reviewed_at=None),
            dict(id=2, document_id=1, code_id=2, start=FUNDING, end=FUNDING + 30,
                 coder="rule", status="suggested", origin="rule:keywords", score=0.6,
                 rationale="keywords: funding", created_at=WHEN, reviewed_by=None,
                 reviewed_at=None),
            dict(id=3, document_id=1, code_id=1, start=FUNDING, end=FUNDING + 30,
                 coder="bo", status="accepted", origin="model:abc", score=0.7,
                 rationale="model", created_at=WHEN, reviewed_by="bo", reviewed_at=WHEN)],
        "memos": [dict(id=1, target_type="coding", target_id=1, coder="ann", title="",
                       text="a good example", created_at=WHEN, updated_at=WHEN)],
        "models": [dict(id=1, name="tfidf", version="abc", unit="sentence",
                        state={"version": "abc"}, summary={"units": 2}, created_by="ann",
                        created_at=WHEN)],
        # bo's accept, logged the way the first release did: no previous coders
        "events": [dict(id=1, at=WHEN, coder="ann", action="ingest", entity="document",
                        entity_id=1, detail={"name": "p01.txt"}),
                   dict(id=2, at=WHEN, coder="bo", action="accept", entity="coding",
                        entity_id=None, detail={"ids": [3], "previous_status": "suggested"})],
    }
    with engine.begin() as connection:
        for name, values in rows.items():
            connection.execute(t[name].insert(), values)
    engine.dispose()


def dump(path):
    """Every row of every table but alembic_version, as plain tuples."""
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version' "
            "ORDER BY name")]
        return {name: connection.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall()
                for name in names}


def _highest_ids(tables):
    """What revision 0003 seeds sqlite_sequence with: each table's highest id."""
    return sorted((name, max(row[0] for row in rows)) for name, rows in tables.items()
                  if rows and name not in ("meta", "sqlite_sequence"))


@pytest.fixture(params=["0001", "before migrations"])
def old_project(request, tmp_path):
    """A project file at revision 0001 with data; or, as the first release made it, the same
    without Alembic's version table."""
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    alembic(url, ("upgrade", "0001"))
    fill(url)
    if request.param == "before migrations":
        with sqlite3.connect(path) as connection:
            connection.execute("DROP TABLE alembic_version")
    return path


def test_revisions_run_from_the_first_release_to_the_schema_version():
    assert migrations.revisions() == ["0001", "0002", "0003", "0004", "0005", "0006", "0007"]
    assert migrations.revisions()[-1] == migrations.revision_name(SCHEMA_VERSION)


def test_upgrading_an_old_project_keeps_every_row_and_backs_it_up_first(old_project):
    before = dump(old_project)
    assert before["meta"] == [("schema_version", "1")]
    with coding.open_project(old_project, coder="bo") as project:
        after = dump(old_project)
        assert after["meta"] == [("schema_version", str(SCHEMA_VERSION))]
        assert {k: v for k, v in after.items() if k not in ("meta", "events")} == \
            {k: v for k, v in before.items() if k not in ("meta", "events")} | {
                "sqlite_sequence": _highest_ids(after),
                # 0004's index starts empty (the first lemma search fills it), as 0006's marks
                # and 0007's language-model runs and calls
                "lemmas": [], "fully_coded": [], "llm_runs": [], "llm_calls": []}
        assert after["events"][:2] == before["events"]
        upgrade = project.events().iloc[-1]
        assert (upgrade["coder"], upgrade["action"], upgrade["detail"]) == (
            "system", "upgrade", {"from": "0001", "to": HEAD})
        with project.store.engine.connect() as connection:
            assert migrations.current_revision(connection) == HEAD
            indexes = {i["name"] for i in inspect(connection).get_indexes("codings")}
            plan = " ".join(row[3] for row in connection.execute(text(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM codings WHERE status = 'suggested'")))
        assert {"ix_codings_status", "ix_codings_document_start"} <= indexes
        assert "ix_codings_status" in plan  # the review queue's count reads the index

        (backup,) = project.backups()
        assert backup.reason == "auto-upgrade" and backup.event == 2
        assert dump(backup.path) == before  # the backup is the project as it was

        # the data reads as before, and what this version adds works on it
        frame = project.codings_frame(statuses=None).set_index("coding_id")
        assert frame.loc[1, "quote"] == "The walking group helped."
        assert frame.loc[3, ["code", "status", "coder"]].tolist() == ["walking", "accepted",
                                                                      "bo"]
        assert project.memos()["text"].tolist() == ["a good example"]
        assert project.pending()["coding_id"].tolist() == [2]
        project.review("accept", ids=[2])
        assert [a for _, a, _ in project.undo(steps=2)] == ["accept", "accept"]
        frame = project.codings_frame(statuses=None).set_index("coding_id")
        # the first release's accept kept no previous coder: the suggester's name comes back
        assert frame.loc[[2, 3], "coder"].tolist() == ["rule", "model"]
        assert project.history(coder="bo")["action"].tolist()[:2] == ["undo", "undo"]
    with coding.open_project(old_project) as project:  # once upgraded, opening changes nothing
        assert len(project.backups()) == 1 and project.events()["action"].tolist().count(
            "upgrade") == 1


def test_a_fresh_project_and_an_upgraded_one_have_the_same_schema(old_project, tmp_path):
    coding.open_project(old_project).close()
    coding.init_project(tmp_path / "new.db").close()
    for path in (old_project, tmp_path / "new.db"):
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           Base.metadata)
            assert migrations.current_revision(connection) == HEAD
        engine.dispose()
        assert differences == [], path


def test_alembic_alone_builds_a_project_this_coding_opens(tmp_path):
    path = tmp_path / "made_by_alembic.db"
    alembic(f"sqlite:///{path}", ("upgrade", "head"))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta").fetchall() == [
            (str(SCHEMA_VERSION),)]
        connection.execute("INSERT INTO project (name, created_at, settings) "
                           "VALUES ('study', '2024-01-01', '{}')")
    with coding.open_project(path) as project:
        assert project.summary()["documents"] == 0 and project.backups() == []


def test_downgrade_then_upgrade_round_trips(tmp_path):
    path = tmp_path / "study.db"
    with coding.init_project(path, coder="ann") as project:
        project.add_memo("kept")
    alembic(f"sqlite:///{path}", ("downgrade", "0001"))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta").fetchall() == [("1",)]
    with coding.open_project(path) as project:
        assert project.memos()["text"].tolist() == ["kept"]
        assert project.backups()[-1].reason == "auto-upgrade"


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "study.db"
    coding.init_project(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        coding.open_project(path)
    assert str(info.value) == (f"{path}: was written by a newer version of coding (schema "
                               f"{SCHEMA_VERSION}, "
                               f"revision 0099; this one reads {SCHEMA_VERSION}); upgrade coding")
    assert path.read_bytes() == before and not (tmp_path / "study.db.backups").exists()


def test_a_failed_upgrade_changes_nothing(tmp_path):
    path = tmp_path / "old.db"
    alembic(f"sqlite:///{path}", ("upgrade", "0001"))
    fill(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:  # in the way of 0002's second index
        connection.execute("CREATE INDEX ix_codings_document_start ON codings (coder)")
    before = dump(path)
    with pytest.raises(StoreError) as info:
        coding.open_project(path)
    assert str(info.value).startswith(f"{path}: could not be upgraded from schema 0001 to "
                                      f"{HEAD}, so it is unchanged: index ix_codings_document_start"
                                      " already exists")
    assert dump(path) == before
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0001",)]
        indexes = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_codings_status" not in indexes  # the first index of 0002 was rolled back too


def test_postgres_project_is_stamped_and_upgraded(postgres_url):
    with coding.init_project(postgres_url, coder="ann") as project:
        project.add_memo("kept")
    alembic(postgres_url, ("downgrade", "0001"))
    with coding.open_project(postgres_url) as project:
        assert project.memos()["text"].tolist() == ["kept"]
        assert project.events()["action"].tolist() == ["add_memo", "upgrade"]
        with project.store.engine.connect() as connection:
            assert migrations.current_revision(connection) == HEAD
            indexes = {i["name"] for i in inspect(connection).get_indexes("codings")}
        assert {"ix_codings_status", "ix_codings_document_start"} <= indexes


def test_several_processes_opening_an_old_project_at_once_upgrade_it_once(tmp_path):
    path = tmp_path / "old.db"
    alembic(f"sqlite:///{path}", ("upgrade", "0001"))
    fill(f"sqlite:///{path}")
    opener = "import sys, coding; coding.open_project(sys.argv[1]).close()"
    processes = [subprocess.Popen([sys.executable, "-c", opener, str(path)],
                                  stderr=subprocess.PIPE) for _ in range(3)]
    for process in processes:
        assert process.wait(timeout=300) == 0, process.stderr.read().decode()
    with coding.open_project(path) as project:
        assert project.events()["action"].tolist().count("upgrade") == 1
        assert [b.reason for b in project.backups()] == ["auto-upgrade"]
