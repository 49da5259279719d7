"""Nothing silently corrupted (issue 13): text decoded as it was written and every choice said,
ids never handed out twice (and an upgrade that keeps every row), a document is its name and
its content, codings files never land on a guessed document, restores that check what they
restore and log themselves atomically, projects opened without being changed, and
`coding check` for damage earlier versions did."""

import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest
from alembic import command
from sqlalchemy import create_engine, event

import coding
from coding import CaseSheetError, CodingsFileError, StoreError, TranscriptError
from coding.storage import migrations
from coding.storage.backup import clean_stray_parts
from coding.readers.transcripts import ingest_file

from conftest import CODEBOOK, ROOT, SAMPLES

FILES = ROOT / "tests" / "files"
INTERVIEW = "Interviewer: What helped?\nAnn: The walking group helped. We trust each other.\n"


def write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def dump(path):
    """Every row of every table, as plain tuples."""
    with closing(sqlite3.connect(path)) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: connection.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall()
                for name in names}


# -- 1. text decoded as it was written ---------------------------------------------------------

MOSTLY_UTF8 = (b"Interviewer: How much?\nAnn: About \xc2\xa35 \xe2\x80\x93 caf\xc3\xa9. "
               b"It\x92s fine.\n")


def test_mostly_utf8_transcript_is_utf8_with_the_stray_byte_repaired_and_named(project,
                                                                                 tmp_path):
    path = write(tmp_path / "m.txt", MOSTLY_UTF8)
    (result,) = project.ingest([path])
    assert result.status == "added"
    assert project.document_text("m.txt") == \
        "Interviewer: How much?\nAnn: About £5 – café. It’s fine.\n"
    assert result.warnings == (f"{path}: read as UTF-8, but 1 byte is not UTF-8 and was read "
                               "as Windows-1252: line 2 (byte 0x92 as '’')",)
    turns = project.turns("m.txt")
    assert turns["text"].tolist() == ["How much?", "About £5 – café. It’s fine."]


def test_a_legacy_encoding_is_detected_and_said(tmp_path):
    text = ("Interviewer: Où étiez-vous?\nAnn: À la maison, près du café. Très agréable, "
            "déjà vu, naïve élève.\n")
    path = write(tmp_path / "fr.txt", text.encode("cp1252"))
    parsed = ingest_file(path)
    assert parsed.text == text
    assert parsed.metadata["encoding"] == "cp1252"
    assert parsed.warnings == (f"{path}: not UTF-8; read as Windows-1252 (detected from its "
                               "bytes); if characters look wrong, save the file as UTF-8 and "
                               "ingest it again",)


LEGACY = [  # (code page, text): how Windows in each region saves a transcript as "ANSI"
    ("cp1252", "Interviewer: How much?\nAnn: About £5 – it’s fine, “really”.\n"),
    ("cp1252", "Interviewer: Où étiez-vous?\nAnn: À la maison, près du café. Très agréable, "
               "déjà vu, naïve élève.\n"),
    ("cp1252", "Interviewer: ¿Qué tal? Él está aquí y allá.\nAnn: Sí, señor. Mañana a las "
               "5 €.\n"),
    ("cp1252", "Interviewer: Würden Sie das erklären?\nAnn: Ja, natürlich. Die Größe ist "
               "schön und gemütlich.\n"),
    ("cp1250", "Interviewer: Jak było?\nAnn: Mały przykład, żółć, źdźbło, łódź. Dziękuję "
               "bardzo, to było dobre.\n"),
    ("cp1250", "Interviewer: Jak to bylo?\nAnn: Příklad, žluťoučký kůň úpěl ďábelské ódy. "
               "Děkuji.\n"),
    ("cp1251", "Interviewer: Как дела?\nAnn: Хорошо, спасибо. Мы работаем вместе.\n"),
    ("cp1253", "Interviewer: Τι έγινε;\nAnn: Καλά, ευχαριστώ πολύ. Δουλεύουμε μαζί.\n"),
]


@pytest.mark.parametrize("encoding, text", LEGACY, ids=[f"{e}-{t[13:20]}" for e, t in LEGACY])
def test_legacy_code_pages_are_read_right(encoding, text, tmp_path):
    """The detector alone read French as Windows-1257, Polish as Windows-1252 and Russian as
    Mac Cyrillic; the reading with fewest oddities among its close candidates is right."""
    parsed = ingest_file(write(tmp_path / "t.txt", text.encode(encoding)))
    assert (parsed.metadata["encoding"], parsed.text) == (encoding, text)


def test_utf8_text_gives_no_warning(tmp_path):
    parsed = ingest_file(write(tmp_path / "ok.txt", "Interviewer: Café?\nAnn: Oui, £5.\n"))
    assert parsed.warnings == ()


def test_codings_csv_with_a_stray_byte_keeps_its_memos_right(coded_project, tmp_path):
    coded_project.ingest([write(tmp_path / "p01.txt", INTERVIEW)])
    path = write(tmp_path / "codings.csv",
                 b"document,code,coder,quote,memo\n"
                 b"p01.txt,relationships,Ann,We trust each other.,caf\xc3\xa9 \xe2\x80\x93 "
                 b"it\x92s trust\n")
    warnings = []
    assert coded_project.import_codings(path, warn=warnings.append) == (1, 0)
    assert coded_project.memos()["text"].tolist() == ["café – it’s trust"]
    assert warnings == [f"{path}: read as UTF-8, but 1 byte is not UTF-8 and was read as "
                        "Windows-1252: line 2 (byte 0x92 as '’')"]


def test_participants_sheet_saved_as_excel_unicode_text_is_read(project, tmp_path):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, columns separated by tabs."""
    sheet = write(tmp_path / "people.txt",
                  "case\trole\tarea\r\nP01\tstaff\tGlasgow North\r\nP02\tmanager\tGöteborg\r\n"
                  .encode("utf-16"))
    warnings = []
    assert project.import_cases(sheet, warn=warnings.append) == 2
    cases = project.cases().set_index("case")
    assert cases.loc["P02", ["role", "area"]].tolist() == ["manager", "Göteborg"]
    assert warnings == []
    csv_sheet = write(tmp_path / "people.csv", "case\trole\r\nP03\tstaff\r\n".encode("utf-16"))
    assert project.import_cases(csv_sheet, warn=warnings.append) == 1
    assert warnings == [f"{csv_sheet}: columns are separated by tabs, not commas; read that way"]


def test_a_byte_order_mark_never_shows_in_a_header_message(project, tmp_path):
    sheet = write(tmp_path / "people.csv", "\ufeffname,role\nP01,staff\n".encode("utf-8"))
    with pytest.raises(CaseSheetError) as info:
        project.import_cases(sheet)
    assert str(info.value) == (f"{sheet}:1: has no case id column (one of: case_id, case id, "
                               "case, participant_id, participant id); found columns: name, "
                               "role")
    assert "\ufeff" not in str(info.value)


def test_a_header_naming_a_column_twice_is_an_error(coded_project, tmp_path):
    sheet = write(tmp_path / "people.csv", "case,role,Role\nP01,staff,manager\n")
    with pytest.raises(CaseSheetError) as info:
        coded_project.import_cases(sheet)
    assert str(info.value) == (f"{sheet}:1: column 'Role' appears twice in the header "
                               "(columns 2 and 3); rename or remove one")
    codings = write(tmp_path / "codings.csv", "document,code,coder,quote,code\nx,y,z,w,v\n")
    with pytest.raises(CodingsFileError) as info:
        coded_project.import_codings(codings)
    assert str(info.value) == (f"{codings}:1: column 'code' appears twice in the header "
                               "(columns 2 and 5); rename or remove one")


def test_password_protected_office_files_are_named_as_such(project):
    """Made with msoffcrypto-tool 6.1.0 (password "secret"); see tests/files/README.md."""
    (result,) = project.ingest([FILES / "encrypted.docx"])
    assert result.error == (f"{FILES / 'encrypted.docx'}: is a password-protected .docx "
                            "(encrypted by Office): open it, remove the password (File > Info "
                            "> Protect Document > Encrypt with Password), save it and try "
                            "again")
    with pytest.raises(CaseSheetError) as info:
        project.import_cases(FILES / "encrypted.xlsx")
    assert str(info.value) == (f"{FILES / 'encrypted.xlsx'}: is a password-protected .xlsx "
                               "workbook (encrypted by Office): remove the password, save it "
                               "and try again")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_being_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(TranscriptError) as info:
        ingest_file(fifo)  # would block for ever if it were opened
    assert str(info.value) == f"{fifo}: is not a regular file but a named pipe (FIFO); " \
        "nothing was read"


# -- 2. ids are never handed out twice ---------------------------------------------------------

def test_a_removed_codings_id_is_never_reused_and_its_memo_goes_with_it(coded_project,
                                                                        tmp_path):
    project = coded_project
    project.ingest([write(tmp_path / "p01.txt", INTERVIEW)])
    text = project.document_text("p01.txt")
    start = text.index("We trust")
    first = project.add_coding("p01.txt", "relationships", start, start + 8)
    memo = project.add_memo("Trust as the base of it", "coding", first)
    project.remove_coding(first)
    assert project.memos().empty  # removed with its coding, in the same action
    second = project.add_coding("p01.txt", "people_skills", start, start + 8)
    assert second > first
    assert project.memos().empty  # the new coding inherits nothing

    from coding.interchange import exports

    exports.write(exports.tables(project, "codings", exports.Options()), tmp_path / "c.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").worksheets[0]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]
    assert [(r["coding_id"], r["code"], r["memo"]) for r in rows] == [
        (second, "people_skills", None)]

    undone = project.undo(steps=2)  # the new coding, then the removal: the memo comes back
    assert [action for _, action, _ in undone] == ["add_coding", "remove_coding"]
    memos = project.memos()
    assert memos[["memo_id", "target_type", "target_id", "text"]].values.tolist() == [
        [memo, "coding", first, "Trust as the base of it"]]
    assert project.codings_frame()["coding_id"].tolist() == [first]
    history = project.history()
    assert history.loc[history["action"] == "remove_coding", "what"].tolist() == [
        f"removed coding {first}: relationships on \u201cWe trust\u201d in p01.txt and its 1 memo"]


def test_ids_of_every_table_are_never_reused(coded_project, tmp_path):
    project = coded_project
    project.ingest([write(tmp_path / "a.txt", INTERVIEW)])
    memo = project.add_memo("first")
    project.undo()  # deletes memo `memo`
    assert project.add_memo("second") == memo + 1
    with sqlite3.connect(tmp_path / "study.db") as connection:
        sql = " ".join(row[0] for row in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name NOT IN "
            "('meta', 'alembic_version', 'sqlite_sequence')"))
        tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                    "AND name NOT IN ('meta', 'alembic_version', "
                                    "'sqlite_sequence')").fetchone()[0]
    # lemmas since 0004, fully_coded since 0006, llm_runs and llm_calls since 0007
    assert sql.count("AUTOINCREMENT") == tables == 15


@pytest.fixture
def populated(tmp_path):
    """The sample study with gold codings, suggestions, memos and a removed coding."""
    path = tmp_path / "populated.db"
    with coding.init_project(path, coder="Aileen Murray") as project:
        project.import_codebook(CODEBOOK)
        project.ingest([SAMPLES / "transcripts"], cases=SAMPLES / "participants.csv")
        project.import_codings(SAMPLES / "gold_codings.csv")
        project.suggest(rules=True, model=False, warn=lambda _: None)
        frame = project.codings_frame()
        project.add_memo("On the first coding", "coding", int(frame["coding_id"].iloc[0]))
        project.add_memo("On a document", "document", frame["document"].iloc[0])
        project.remove_coding(int(frame["coding_id"].iloc[-1]))
    return path


def test_upgrading_a_populated_project_keeps_every_row_of_every_table(populated, tmp_path):
    """0002 -> head on a copy of a real project (the rebuild of parent tables must not cascade
    into their children), every table compared row by row."""
    engine = create_engine(f"sqlite:///{populated}")
    with engine.begin() as connection:
        command.downgrade(migrations.config(connection), "0002")
    engine.dispose()
    copy = Path(shutil.copy(populated, tmp_path / "copy.db"))
    with closing(sqlite3.connect(copy)) as connection, connection:
        connection.execute("DELETE FROM sqlite_sequence")  # as revision 0002 made them: none
    before = dump(copy)
    assert before["meta"] == [("schema_version", "2")] and before["sqlite_sequence"] == []
    assert "AUTOINCREMENT" not in str(before)
    assert len(before["codings"]) > 500 and len(before["turns"]) > 400
    with coding.open_project(copy, coder="bo") as project:
        after = dump(copy)
        same = set(before) - {"meta", "events", "alembic_version", "sqlite_sequence"}
        assert {name: after[name] for name in same} == {name: before[name] for name in same}
        assert after["events"][:-1] == before["events"]
        assert after["events"][-1][3:6] == ("upgrade", "project", None)
        highest = dict(after["sqlite_sequence"])
        assert highest["codings"] == max(row[0] for row in before["codings"])
        assert highest["events"] == after["events"][-1][0]
        newest = max(row[0] for row in before["codings"])
        quote = project.codings_frame(statuses=None).set_index("coding_id").loc[newest]
        project.remove_coding(newest)
        again = project.add_coding(quote["document"], quote["code"], int(quote["start"]),
                                   int(quote["end"]))
        assert again == newest + 1
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_rebuild_refuses_to_run_with_foreign_keys_on(populated):
    engine = create_engine(f"sqlite:///{populated}")
    with engine.begin() as connection:
        command.downgrade(migrations.config(connection), "0002")
    engine.dispose()
    before = dump(populated)
    engine = create_engine(f"sqlite:///{populated}")
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
    with pytest.raises(RuntimeError, match="must run with SQLite's foreign keys off"):
        with engine.begin() as connection:
            command.upgrade(migrations.config(connection), "head")
    engine.dispose()
    assert dump(populated) == before


# -- 6. subtitle timings -----------------------------------------------------------------------

def test_an_impossible_cue_time_is_an_error_naming_the_line(tmp_path):
    path = write(tmp_path / "p01.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Int>Hi\n\n"
                                       "00:75:01.000 --> 00:76:00.000\n<v Ann>Lost speech\n")
    with pytest.raises(TranscriptError) as info:
        ingest_file(path)
    assert str(info.value) == (f"{path}:6: impossible time '00:75:01.000' in cue timing "
                               "'00:75:01.000 --> 00:76:00.000' (minutes and seconds go up to "
                               "59); the cue would be lost")


def test_an_arrow_inside_srt_speech_is_speech(tmp_path):
    path = write(tmp_path / "p01.srt", "1\n00:00:01,000 --> 00:00:04,000\nInterviewer: Then "
                                       "what --> changed?\n\n2\n00:00:04,500 --> 00:00:08,000\n"
                                       "Ann: Cost --> care.\nMore --> here.\n")
    parsed = ingest_file(path)
    assert parsed.text == "Interviewer: Then what --> changed?\nAnn: Cost --> care. More --> here."


# -- 7. codings land on the document they name ------------------------------------------------

def test_a_codings_file_reaches_another_document_only_by_a_unique_reported_stem(coded_project,
                                                                                 tmp_path):
    project = coded_project
    project.ingest([write(tmp_path / "p01.md", INTERVIEW)])
    codings = write(tmp_path / "codings.csv", "document,code,coder,quote\n"
                                              "p01.docx,relationships,Ann,We trust each other.\n"
                                              "p01.docx,relationships,Bo,We trust each other.\n")
    warnings = []
    assert project.import_codings(codings, warn=warnings.append) == (2, 0)
    assert warnings == [f"{codings}:2: 'p01.docx' is not a document name; matched 'p01.md' by "
                        "its name without extension"]
    assert project.events()["detail"].iloc[-1]["loose_names"] == {"p01.docx": "p01.md"}
    (finding,) = project.check()
    assert (finding.check, finding.count) == ("codings applied by stem", 1)

    project.ingest([write(tmp_path / "p01.txt", INTERVIEW.replace("helped", "mattered"))])
    before = project.codings_frame()
    more = write(tmp_path / "more.csv", "document,code,coder,quote\n"
                                        "p01.md,relationships,Cy,We trust each other.\n"
                                        "p01.docx,relationships,Cy,We trust each other.\n"
                                        "p09.txt,relationships,Cy,We trust each other.\n")
    with pytest.raises(CodingsFileError) as info:
        project.import_codings(more)
    assert str(info.value) == (
        "2 of 3 rows cannot be applied; nothing was imported:\n"
        f"{more}:3: 'p01.docx' could be any of 'p01.md', 'p01.txt'; give the full document "
        "name\n"
        f"{more}:4: no document 'p09.txt' in the project")
    assert project.codings_frame().equals(before)


# -- 8 (merge side). a coder's copy matches by name and content -------------------------------

def test_merging_a_coders_copy_matches_identical_texts_by_name(coded_project, tmp_path):
    project = coded_project
    for name in ("r01.txt", "r02.txt"):
        write(tmp_path / name, "Interviewer: Anything else?\nAnn: Not sure.\n")
    project.ingest([tmp_path / "r01.txt", tmp_path / "r02.txt"])
    project.backup(tmp_path / "theirs.db")
    with coding.open_project(tmp_path / "theirs.db", coder="Bo") as theirs:
        start = theirs.document_text("r02.txt").index("Not sure.")
        theirs.add_coding("r02.txt", "relationships", start, start + 9)
    assert project.merge_codings_from(tmp_path / "theirs.db") == (1, 0, 1)
    frame = project.codings_frame()
    assert frame[["document", "coder"]].values.tolist() == [["r02.txt", "Bo"]]


# -- 18. a very long turn ----------------------------------------------------------------------

def test_a_turn_over_a_million_characters_is_analysed_in_pieces(coded_project, tmp_path):
    project = coded_project
    long_text = "Interviewer: Tell me.\nAnn: " + "We built trust with the community. " * 30_000
    assert len(long_text) > 1_000_000
    write(tmp_path / "long.txt", long_text)
    write(tmp_path / "short.txt", INTERVIEW)
    report = project.batch([tmp_path / "long.txt", tmp_path / "short.txt"], rules=True,
                           model=False, warn=lambda _: None)
    assert (sorted(report.added), report.failed) == (["long.txt", "short.txt"], [])
    pending = project.pending()
    long_ones = pending[pending["document"] == "long.txt"]
    assert len(long_ones) >= 30_000  # a suggestion for every sentence, none lost at a cut
    text = project.document_text("long.txt")
    assert all(text[s:e] == "We built trust with the community."
               for s, e in zip(long_ones["start"], long_ones["end"]))


# -- 10. restore -------------------------------------------------------------------------------

def test_a_backup_with_an_altered_transcript_is_not_restored(coded_project, tmp_path):
    project = coded_project
    project.ingest([write(tmp_path / "p01.txt", INTERVIEW)])
    backup = project.backup(tmp_path / "b.db")
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE documents SET text = replace(text, 'trust', 'distrust')")
    before = dump(tmp_path / "study.db")
    with pytest.raises(StoreError) as info:
        coding.restore_project(tmp_path / "study.db", backup)
    assert str(info.value) == (f"{backup}: the text of 1 document (p01.txt) no longer matches "
                               "the checksum taken when it was ingested: the backup was "
                               "changed outside coding; nothing restored")
    assert dump(tmp_path / "study.db") == before


def _restore_state(path):
    """(documents, whether the newest event is a restore) as a reader sees the project."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        newest = connection.execute("SELECT action FROM events ORDER BY id DESC LIMIT 1")
        return documents, newest.fetchone()[0]


def test_kill_9_during_a_restore_never_leaves_restored_data_without_its_event(tmp_path):
    """The restored data and its restore event arrive in one step: killed at any moment, the
    project is the old state or the restored one with its event, never between."""
    project_file = tmp_path / "study.db"
    with coding.init_project(project_file, coder="setup") as project:
        project.ingest([SAMPLES / "transcripts"])
        backup = project.backup(tmp_path / "twelve.db")
        project.ingest([write(tmp_path / "extra.txt", INTERVIEW)])
    restorer = [sys.executable, "-m", "coding.cli", "--coder", "restorer", "restore",
                str(project_file), str(backup)]
    seen = set()
    for delay in (0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 3.0):
        process = subprocess.Popen(restorer, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = _restore_state(project_file)
        assert state in ((13, "ingest"), (12, "restore")), state
        seen.add(state)
        if state == (12, "restore"):  # back to the 13-document state for the next round
            with coding.open_project(project_file, coder="setup") as project:
                project.ingest([tmp_path / "extra.txt"])
    assert (13, "ingest") in seen


def test_stray_files_of_a_killed_backup_are_cleaned_up(coded_project, tmp_path):
    folder = tmp_path / "study.db.backups"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stray = [folder / f".study-x.db.part{dead.pid}", folder / f".study-x.db.part{dead.pid}"
                                                              "-journal"]
    for path in stray:
        path.write_bytes(b"half a copy")
    alive = write(folder / f".study-y.db.part{os.getpid()}", b"being written")
    written = coded_project.backup()
    assert sorted(p.name for p in folder.iterdir()) == sorted([written.name, alive.name])
    assert clean_stray_parts(folder) == []


# -- 11. opening never changes what is not ours -----------------------------------------------

@pytest.fixture
def read_only_mount(tmp_path):
    """A folder mounted read-only (where even root cannot write); skipped where bind mounts
    are not allowed."""
    source, mount = tmp_path / "source", tmp_path / "mount"
    source.mkdir()
    mount.mkdir()
    made = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {made.stderr.decode().strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)]).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield source, mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)])  # the app may still hold the file


def test_a_project_on_a_read_only_file_system_opens_read_only(read_only_mount, tmp_path):
    source, mount = read_only_mount
    with coding.init_project(source / "study.db", coder="setup") as project:
        project.ingest([write(tmp_path / "p01.txt", INTERVIEW)])
    before = dump(source / "study.db")
    with coding.open_project(mount / "study.db", coder="ann") as project:
        assert project.store.read_only == "opened read-only: its file cannot be written"
        assert [d.name for d in project.documents()] == ["p01.txt"]
        with pytest.raises(StoreError) as info:
            project.add_memo("no")
        assert str(info.value) == (f"{mount / 'study.db'}: opened read-only: its file cannot "
                                   "be written: nothing can be changed; copy the project to a "
                                   "folder you can write to")
    assert dump(source / "study.db") == before
    assert sorted(p.name for p in source.iterdir()) == ["study.db"]


# -- coding check ------------------------------------------------------------------------------

def test_check_finds_what_earlier_versions_left_and_changes_nothing(coded_project, tmp_path):
    project = coded_project
    project.ingest([write(tmp_path / "p01.txt", INTERVIEW),
                    write(tmp_path / "p02.txt", "Interviewer: And?\nBo: It\u00e2\u20ac\u2122s "
                                                "the caf\u00c3\u00a9.\nInterviewer: Ok.\n")])
    text = project.document_text("p01.txt")
    start = text.index("The walking")
    kept = project.add_coding("p01.txt", "relationships", start, start + 11)
    across = project.add_coding("p01.txt", "people_skills", start - 12, start + 3)
    turns = project.turns("p01.txt")
    whole = project.add_coding("p01.txt", "leadership", int(turns["start"].iloc[0]),
                               int(turns["end"].iloc[-1]))
    project.add_memo("written on a coding that was removed", "coding", kept)
    with sqlite3.connect(tmp_path / "study.db") as connection:  # as a reused id left it
        connection.execute("UPDATE memos SET created_at = '2020-01-01 00:00:00.000000'")
    assert project.check() != []
    path = tmp_path / "study.db"
    before = path.read_bytes()
    found = {f.check: f for f in project.check()}
    assert sorted(found) == ["coding across turns", "memo on a reused id", "mojibake"]
    assert found["mojibake"].message == (
        "1 document whose text looks like UTF-8 decoded with the wrong encoding; ingest the "
        "original file again with this version and move the codings: p02.txt ('â€™' for '’': "
        "UTF-8 read as Windows-1252)")
    assert found["coding across turns"].message.endswith(
        f"coding {across} in p01.txt [{start - 12}, {start + 3}) across 2 turns")
    assert f"coding {whole} " not in found["coding across turns"].message  # whole turns
    assert found["coding across turns"].count == 1
    assert found["memo on a reused id"].count == 1
    assert path.read_bytes() == before


def test_on_postgresql_identical_texts_are_two_documents_and_ids_are_not_reused(postgres_url,
                                                                                 tmp_path):
    with coding.init_project(postgres_url, coder="ann") as project:
        project.import_codebook(CODEBOOK)
        answer = "Interviewer: And?\nAnn: Not sure.\n"
        results = project.ingest([write(tmp_path / "r01.txt", answer),
                                  write(tmp_path / "r02.txt", answer)])
        assert [r.status for r in results] == ["added", "added"]
        first = project.add_coding("r01.txt", "relationships", 23, 32)
        project.add_memo("on the first", "coding", first)
        project.remove_coding(first)
        assert project.add_coding("r02.txt", "relationships", 23, 32) > first
        assert project.memos().empty


# -- the command line says it all ----------------------------------------------------------------

def test_cli_prints_every_choice_and_check_exits_1_on_damage(tmp_path):
    from click.testing import CliRunner

    from coding.cli import main

    project = tmp_path / "study.db"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(project)]).exit_code == 0
    path = write(tmp_path / "m.txt", MOSTLY_UTF8)
    result = runner.invoke(main, ["ingest", str(project), str(path)])
    assert result.exit_code == 0, result.output
    assert (f"Warning: {path}: read as UTF-8, but 1 byte is not UTF-8 and was read as "
            "Windows-1252: line 2 (byte 0x92 as '’')") in result.output
    same = write(tmp_path / "n.txt", MOSTLY_UTF8)
    result = runner.invoke(main, ["ingest", str(project), str(same)])
    assert "Warning: 'n.txt' has the same text as 'm.txt'; stored as a document of its own" in \
        result.output
    assert "1 added, 0 already in the project, 0 failed" in result.output

    result = runner.invoke(main, ["check", str(project)])
    assert (result.exit_code, result.output) == (0, f"{project}: nothing found\n")
    with closing(sqlite3.connect(project)) as connection, connection:
        connection.execute("UPDATE documents SET text = 'Interviewer: How much?\\nAnn: caf"
                           "\u00c3\u00a9' WHERE name = 'n.txt'")
    before = project.read_bytes()
    result = runner.invoke(main, ["check", str(project)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "altered text: 1 document whose text no longer matches the checksum taken at ingest "
        "(changed outside coding; its codings may point at other words): n.txt",
        "mojibake: 1 document whose text looks like UTF-8 decoded with the wrong encoding; "
        "ingest the original file again with this version and move the codings: n.txt ('Ã©' "
        "for 'é': UTF-8 read as Windows-1252)",
        f"Error: {project}: 2 problems found in 2 checks; nothing was changed"]
    assert project.read_bytes() == before


def test_a_backup_never_replaces_a_device_and_goes_through_a_symlink(coded_project, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    with pytest.raises(coding.CodingError) as info:
        coded_project.backup(device)
    assert str(info.value) == (f"{device}: is a character device, not a regular file; nothing "
                               "was written (choose another file name)")
    assert stat.S_ISCHR(device.stat().st_mode)
    real, link = tmp_path / "real.db", tmp_path / "link.db"
    link.symlink_to(real)
    coded_project.backup(link)
    assert link.is_symlink() and real.stat().st_size > 0


def test_heatmaps_draw_names_holding_dollar_signs_as_text(tmp_path):
    """Names are text: "$\\frac{$" once crashed matplotlib's mathtext, "$x^2$" drew a formula."""
    import matplotlib
    import pandas as pd

    from coding.interchange.exports import heatmap

    matrix = pd.DataFrame([[1, 2], [3, 4]], index=["$\\frac{$", "cost $5 and $10"],
                          columns=["$x^2$", "plain"])
    matrix.index.name = "code"
    for fmt in ("png", "svg"):
        assert heatmap(matrix, fmt, "Code x $\\frac{$ case")[:4] in (b"\x89PNG", b"<?xm")
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text kept as text in the SVG
        svg = heatmap(matrix, "svg").decode()
    assert "$x^2$" in svg and "cost $5 and $10" in svg


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_sheets_named_like_fifos_are_refused_through_the_api(project, tmp_path):
    """The CLI checks its arguments; the API must not hang on a FIFO either."""
    for name in ("people.csv", "people.xlsx"):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        with pytest.raises(CaseSheetError) as info:
            project.import_cases(fifo)
        assert str(info.value) == (f"{fifo}: is not a regular file but a named pipe (FIFO); "
                                   "nothing was read")


def test_the_app_says_a_read_only_project_is_read_only(read_only_mount, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    source, mount = read_only_mount
    with coding.init_project(source / "study.db", coder="setup") as project:
        project.ingest([write(tmp_path / "p01.txt", INTERVIEW)])
    monkeypatch.setenv("CODING_PROJECT", str(mount / "study.db"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["coder"] = "ann"
    at.run()
    assert not at.exception
    shown = [w.value.replace("\\", "") for w in at.sidebar.warning]
    assert shown == ["opened read-only: its file cannot be written: you can read and export, "
                     "but not change anything"]
    assert "p01.txt" in at.dataframe[0].value["document"].tolist()
