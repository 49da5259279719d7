"""Memos edited and deleted (issue 16, item 7): only by their author, logged, undone back to
exactly what they were, and each named by what it is on (the quote, not an id)."""

import time

import pandas as pd
import pytest

import coding
from coding import StoreError
from coding.storage.schema import MemoRow

BOOK = "codes:\n  - id: trust\n    name: Trust\n"
TEXT = "Interviewer: Why?\nAnn: We trust the nurse who comes on Mondays, she listens.\n"
TABLES = ("memos", "codings")


@pytest.fixture
def memo_project(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "ann.txt").write_text(TEXT)
    with coding.init_project(tmp_path / "p.db", coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.txt"])
        start = TEXT.index("We trust")
        coding_id = project.add_coding("ann.txt", "trust", start, start + len("We trust the "
                                                                               "nurse"))
        yield project, coding_id


def rows(project):
    return {name: pd.read_sql(f"SELECT * FROM {name} ORDER BY id", project.store.engine)
            for name in TABLES}


def same(before, after):
    for name in TABLES:
        pd.testing.assert_frame_equal(before[name], after[name])


def test_memo_edit_is_logged_and_undone_to_the_old_text(memo_project):
    project, coding_id = memo_project
    memo_id = project.add_memo("first thought", "coding", coding_id)
    before = rows(project)
    assert project.update_memo(memo_id, "second thought", title="Nurse") == memo_id
    memo = project.memos().iloc[0]
    assert (memo["text"], memo["title"], memo["coder"]) == ("second thought", "Nurse", "ann")
    assert memo["updated_at"] > memo["created_at"]
    assert memo["about"] == "\u201cWe trust the nurse\u201d (Trust, ann.txt)"
    assert project.history(limit=1)["what"].tolist() == [f"edited memo {memo_id} on coding "
                                                         f"{coding_id}"]
    assert project.undo() == [(project.events()["event_id"].iloc[-2], "update_memo",
                               f"edited memo {memo_id} on coding {coding_id}")]
    same(before, rows(project))


def test_memo_delete_is_logged_and_undone_with_its_id_author_and_times(memo_project):
    project, coding_id = memo_project
    memo_id = project.add_memo("on the document", "document", "ann.txt")
    project.update_memo(memo_id, "on the document, edited")
    before = rows(project)
    assert project.remove_memo(memo_id) == memo_id
    assert project.memos().empty
    assert project.history(limit=1)["what"].tolist() == [f"deleted memo {memo_id} on ann.txt"]
    project.undo()
    same(before, rows(project))
    assert project.memos()["about"].tolist() == ["document ann.txt"]


def test_only_the_author_edits_or_deletes_a_memo(memo_project):
    project, _ = memo_project
    memo_id = project.add_memo("mine", "project")
    with coding.open_project(project.store.label, coder="bo") as other:
        for action, verb in ((lambda: other.update_memo(memo_id, "theirs"), "edit"),
                             (lambda: other.remove_memo(memo_id), "delete")):
            with pytest.raises(StoreError) as info:
                action()
            assert str(info.value) == (f"{project.store.label}: this memo is ann's; only its "
                                       f"author can {verb} it (write a memo of your own "
                                       "beside it)")
    with pytest.raises(StoreError) as info:
        project.update_memo(999, "x")
    assert str(info.value) == f"{project.store.label}: no memo 999 in this project (removed " \
                              "meanwhile?)"
    assert project.memos()["text"].tolist() == ["mine"]


def test_undo_of_a_memo_edit_refuses_when_the_memo_changed_since(memo_project):
    project, _ = memo_project
    memo_id = project.add_memo("one", "project")
    project.update_memo(memo_id, "two")
    event = int(project.events()["event_id"].iloc[-1])
    with project.store.transaction() as session:  # changed behind the log's back
        session.get(MemoRow, memo_id).text = "three"
    with pytest.raises(StoreError) as info:
        project.undo()
    assert str(info.value) == (f"cannot undo event {event} (edited memo {memo_id} on the "
                               f"project): memo {memo_id} was changed since; nothing was "
                               "undone")


def test_memos_are_labelled_by_what_they_are_on(memo_project):
    project, coding_id = memo_project
    project.add_memo("p", "project")
    project.add_memo("c", "case", "ann")
    project.add_memo("k", "code", "trust")
    project.add_memo("q", "coding", coding_id)
    project.remove_coding(coding_id)
    project.undo()  # the coding and its memo come back
    assert project.memos()["about"].tolist() == [
        "the project", "case ann", "code Trust", "\u201cWe trust the nurse\u201d (Trust, "
                                                 "ann.txt)"]


def test_memos_appear_in_the_word_report_by_what_they_are_on(memo_project, tmp_path):
    import docx

    from coding.interchange.report import write_report

    project, coding_id = memo_project
    (tmp_path / "people.csv").write_text("case,group\nann,carer\n")
    project.import_cases(tmp_path / "people.csv")
    project.add_memo("Nurses keep coming up.", "project", title="Early idea")
    memo = project.add_memo("trust in the nurse", "coding", coding_id)
    time.sleep(0.01)  # an edit is an updated_at later than created_at
    project.update_memo(memo, "trust in the nurse who listens")
    project.add_memo("Ann was tired", "document", "ann.txt")
    write_report(project, tmp_path / "r.docx")
    texts = [p.text for p in docx.Document(tmp_path / "r.docx").paragraphs]
    memos = project.memos().set_index("memo_id")
    created = memos.loc[memo, "created_at"]
    day = f"{created.day} {created:%B %Y}"
    start = texts.index("Memos")
    assert texts[start:texts.index("Appendix: codebook")] == [
        "Memos",
        "On the project", "Early idea", "Nurses keep coming up.", f"\u2014 ann, {day}",
        "On documents", "document ann.txt", "Ann was tired", f"\u2014 ann, {day}",
        "On coded passages", "\u201cWe trust the nurse\u201d (Trust, ann.txt)",
        "trust in the nurse who listens", f"\u2014 ann, {day} (edited)", ""]
