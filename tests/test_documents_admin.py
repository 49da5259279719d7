"""Renaming, deleting and purging documents (issue 16, item 8) on real SQLite projects: a
delete is backed up first and undone to the same rows; a purge leaves no byte of the text or
its memos in the project file, its write-ahead log or its backups, records that it happened,
and cannot be undone."""

import pandas as pd
import pytest
from sqlalchemy import text

import coding
from coding import StoreError
from coding.storage.backup import folder

SECRET = "Quillfeather Marmalade Lane"  # words only the withdrawn participant said
MEMO = "Zanzibar-otter remark"          # a memo on the withdrawn participant's words
BOOK = "codes:\n  - id: trust\n    name: Trust\n    keywords: [nurse]\n"
ANN = f"Interviewer: Where?\nAnn: I live on {SECRET}. The nurse comes on Mondays.\n"
BO = "Interviewer: And you?\nBo: The nurse comes to us too, we trust her.\n"
TABLES = ("documents", "turns", "codings", "memos", "cases")


@pytest.fixture
def study(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "ann.txt").write_text(ANN)
    (tmp_path / "bo.txt").write_text(BO)
    with coding.init_project(tmp_path / "study.db", coder="tess") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.txt", tmp_path / "bo.txt"])
        project.suggest(rules=True, model=False)
        start = ANN.index(SECRET)
        coding_id = project.add_coding("ann.txt", "trust", start, start + len(SECRET))
        memo = project.add_memo(f"first {MEMO}", "coding", coding_id)
        project.update_memo(memo, f"second {MEMO}")
        project.add_memo(f"document {MEMO}", "document", "ann.txt")
        yield project


def rows(project):
    return {name: pd.read_sql(f"SELECT * FROM {name} ORDER BY id", project.store.engine)
            for name in TABLES}


def test_delete_document_takes_a_backup_and_undo_brings_every_row_back(study):
    before = rows(study)
    deletion = study.delete_document("ann.txt")
    assert deletion.summary() == ("Deleted ann.txt with its 2 turns, 2 codings and 2 memos. "
                                  "Undo brings it back; a backup was taken first.")
    assert [d.name for d in study.documents()] == ["bo.txt"]
    assert study.memos().empty and set(study.codings_frame(None)["document"]) == {"bo.txt"}
    assert [b.reason for b in study.backups()] == ["auto-delete"]
    assert study.history(limit=1)["what"].tolist() == [
        "deleted document ann.txt with its 2 turns, 2 codings and 2 memos"]
    study.undo()
    after = rows(study)
    for name in TABLES:
        pd.testing.assert_frame_equal(before[name], after[name])


def test_rename_document_is_logged_undone_and_refuses_a_taken_name(study):
    assert study.rename_document("ann.txt", "p01.txt") == "p01.txt"
    assert [d.name for d in study.documents()] == ["bo.txt", "p01.txt"]
    assert study.history(limit=1)["what"].tolist() == ["renamed document ann.txt to p01.txt"]
    with pytest.raises(StoreError) as info:
        study.rename_document("p01.txt", "bo.txt")
    assert str(info.value) == (f"{study.store.label}: another document is already named "
                               "'bo.txt'; choose another name")
    study.undo()
    assert [d.name for d in study.documents()] == ["ann.txt", "bo.txt"]


def files_holding(project, *texts):
    """Every file of the project (the database, its -wal and -shm, every backup) whose bytes
    hold any of `texts`."""
    path = project.store.engine.url.database
    candidates = [f for f in folder(path).parent.iterdir() if f.name.startswith("study.db")]
    candidates += list(folder(path).iterdir()) if folder(path).is_dir() else []
    words = {w.lower().encode() for t in texts for w in t.split() if len(w) > 7}
    return sorted(f.name for f in candidates if f.is_file()  # the words alone too (lemmas)
                  and any(w in f.read_bytes().lower() for w in words))


def test_purge_leaves_no_trace_in_the_file_its_log_or_its_backups(study):
    study.remove_coding(int(study.codings_frame()["coding_id"].iloc[0]))  # memo text in the log
    study.undo()
    study.backup()  # a manual backup, then an automatic one with the text in it
    study.rename_document("bo.txt", "p02.txt")
    study.delete_document("p02.txt")
    study.undo()
    assert files_holding(study, SECRET, MEMO)  # the text is everywhere before
    kept_backups = len(study.backups())
    other = study.codings_frame(None)
    other = other[other["document"] == "p02.txt"]

    purge = study.purge_document("ann.txt")
    assert purge.summary().startswith(
        "Purged ann.txt: the text, 2 turns, 2 codings and 2 memos are gone from the project "
        "and from ")
    assert purge.summary().endswith(f"; purged from {kept_backups} backups too. This cannot "
                                    "be undone.")
    assert files_holding(study, SECRET, MEMO) == []
    assert [d.name for d in study.documents()] == ["p02.txt"]
    assert study.memos().empty
    pd.testing.assert_frame_equal(  # the other document's codings are untouched
        study.codings_frame(None).reset_index(drop=True), other.reset_index(drop=True))
    log = study.history()
    assert log["what"].iloc[0] == ("purged ann.txt (consent withdrawn): its text, 2 turns, "
                                   "2 codings and 2 memos removed for good")
    assert "ingest (its details were removed by a purge)" in set(log["what"])
    assert not any("ann.txt" in what for what in log["what"].iloc[1:])
    event = int(log["event_id"].iloc[0])
    with pytest.raises(StoreError) as info:
        study.undo()
    assert str(info.value) == (
        f"{study.store.label}: cannot undo event {event} (purged ann.txt (consent withdrawn): "
        "its text, 2 turns, 2 codings and 2 memos removed for good): a purge removes a "
        "withdrawn participant's words for good, and what came before it cannot be undone "
        "either; nothing was undone")
    for backup in study.backups():  # each backup is still a project, without the text
        with coding.open_project(backup.path) as old:
            assert "ann.txt" not in {d.name for d in old.documents()}


def test_purge_finds_a_document_deleted_earlier(study):
    study.delete_document("ann.txt")
    assert files_holding(study, SECRET)
    purge = study.purge_document("ann.txt")
    assert purge.documents == ["ann.txt"] and purge.codings == 2 and purge.memos == 2
    assert files_holding(study, SECRET, MEMO) == []
    with pytest.raises(StoreError) as info:
        study.purge_document("ann.txt")
    assert str(info.value) == (f"{study.store.label}: no document named 'ann.txt' in this "
                               "project, nor one deleted from it; give the exact name the "
                               "documents list shows")


def test_documents_command_renames_deletes_and_purges(study, run):
    db = study.store.engine.url.database
    study.close()
    result = run("documents", db, "--rename", "bo.txt", "p02.txt")
    assert (result.exit_code, result.output) == (0, "Renamed bo.txt to p02.txt.\n")
    result = run("documents", db, "--delete", "p02.txt")
    assert (result.exit_code, result.output) == (
        0, "Deleted p02.txt with its 2 turns, 1 coding and 0 memos. Undo brings it back; a "
           "backup was taken first.\n")
    result = run("documents", db, "--purge", "ann.txt")  # no answer to "Go on?": aborted
    assert result.exit_code == 1 and "Aborted!" in result.output and result.output.endswith(
        "leave the project, its log and its backups for good. Go on? [y/N]: ")
    with coding.open_project(db) as project:
        assert "ann.txt" in {d.name for d in project.documents()}
    result = run("documents", db, "--purge", "ann.txt", "--yes")
    assert result.exit_code == 0 and result.output.startswith("Purged ann.txt: the text, ")
    result = run("documents", db, "--delete", "nobody.txt")
    assert (result.exit_code, result.output) == (
        1, f"Error: {db}: no document named 'nobody.txt' in this project\n")


# -- the Documents page (AppTest on a copy of the sample study) --------------------------------
from test_app import db, displayed, open_app, run, sample_db  # noqa: E402, F401


def listed(at):
    return list(at.dataframe[0].value["document"])


def test_documents_page_lists_an_upload_at_once_with_its_suggestions(db):
    at = open_app("Documents")
    at = run(at.file_uploader(key="upload_files").set_value([
        ("p50.txt", b"Interviewer: Hello.\nP50: The walking group and the community garden "
                    b"keep me going.\n", "text/plain")]))
    at = run(at.button(key="upload").click())
    assert "p50.txt" in listed(at)  # in the same run, no reload needed
    with coding.open_project(db) as project:
        waiting = len(project.pending(document="p50.txt"))
    assert waiting > 0
    assert [displayed(i.value) for i in at.info] == [
        f"{waiting} suggestions for the new documents wait on the Review page."]


def test_documents_page_renames_deletes_after_confirming_and_undoes(db):
    at = open_app("Documents")
    name = listed(at)[0]
    at = run(at.selectbox(key="manage_doc").set_value(name))
    at.text_input(key="rename_to").input("renamed.txt")
    at = run(at.button(key="rename").click())
    assert [displayed(s.value) for s in at.success] == [f"Renamed {name} to renamed.txt."]
    assert "renamed.txt" in listed(at) and name not in listed(at)
    assert at.button(key="delete_doc").disabled  # not before the box is ticked
    with coding.open_project(db) as project:
        before = rows(project)
        info = next(d for d in project.documents() if d.name == "renamed.txt")
    at = run(at.checkbox(key="delete_ok_renamed.txt").check())
    at = run(at.button(key="delete_doc").click())
    shown = [displayed(s.value) for s in at.success]
    assert len(shown) == 1 and shown[0].startswith(
        f"Deleted renamed.txt with its {info.turns} turns, ")
    assert "renamed.txt" not in listed(at)
    at = run(at.sidebar.button(key="undo").click())
    assert "renamed.txt" in listed(at)
    with coding.open_project(db) as project:
        after = rows(project)
    for table in TABLES:
        pd.testing.assert_frame_equal(before[table], after[table])


def test_documents_page_purges_only_after_the_name_is_typed(db):
    at = open_app("Documents")
    name = "p99_markup.txt"
    at = run(at.selectbox(key="manage_doc").set_value(name))
    assert at.button(key="purge_doc").disabled
    at.text_input(key="purge_confirm").input("p99")
    at = run(at)
    assert at.button(key="purge_doc").disabled
    at.text_input(key="purge_confirm").input(name)
    at = run(at)
    at = run(at.button(key="purge_doc").click())
    shown = [displayed(s.value) for s in at.success]
    assert len(shown) == 1 and shown[0].startswith(f"Purged {name}: the text, 2 turns, ")
    assert name not in listed(at)
    assert b"alert(1)" not in db.read_bytes()


def test_undo_passes_over_changes_to_a_purged_document(study):
    with coding.open_project(study.store.label, coder="bo") as bo:
        memo = bo.add_memo("bo's own note", "project")
        start = ANN.index("nurse")
        bo.add_coding("ann.txt", "trust", start, start + 5)  # then ann.txt is purged
        study.purge_document("ann.txt")
        assert bo.undo() == [(int(bo.events().query("action == 'add_memo'")["event_id"]
                                 .iloc[-1]), "add_memo", f"memo {memo} on the project")]


def test_purge_in_memory_says_what_is_left_to_do_by_hand(tmp_path):
    """A project that is not a SQLite file (here in memory; PostgreSQL alike) has no file to
    rebuild and no backup folder: the summary says what to do instead."""
    (tmp_path / "ann.txt").write_text(ANN)
    with coding.init_project("sqlite://", coder="tess") as project:
        project.ingest([tmp_path / "ann.txt"])
        purge = project.purge_document("ann.txt")
        assert purge.summary() == (
            "Purged ann.txt: the text, 2 turns, 0 codings and 0 memos are gone from the project "
            "and from 1 entry of its log. This cannot be undone.\nThe database server may keep "
            "the deleted rows in its files until they are reclaimed: run VACUUM FULL on it "
            "(PostgreSQL), and delete its dumps made before the purge.")
        assert project.documents() == []


def test_delete_undo_and_purge_on_postgresql(postgres_url, tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "ann.txt").write_text(ANN)
    (tmp_path / "bo.txt").write_text(BO)
    with coding.init_project(postgres_url, coder="tess") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.txt", tmp_path / "bo.txt"])
        start = ANN.index(SECRET)
        coding_id = project.add_coding("ann.txt", "trust", start, start + len(SECRET))
        memo = project.add_memo(f"first {MEMO}", "coding", coding_id)
        project.update_memo(memo, f"second {MEMO}")
        before = rows(project)
        project.delete_document("ann.txt")
        project.undo()
        after = rows(project)
        for name in TABLES:
            pd.testing.assert_frame_equal(before[name], after[name])
        purge = project.purge_document("ann.txt")
        assert purge.documents == ["ann.txt"] and purge.memos == 1
        with project.store.reading() as session:
            dumped = " ".join(str(row) for table in ("documents", "codings", "memos", "events")
                              for row in session.execute(text(f"SELECT * FROM {table}")))
        assert SECRET not in dumped and MEMO not in dumped
        assert [d.name for d in project.documents()] == ["bo.txt"]
