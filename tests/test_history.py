"""The audit trail and undo on a real project: each undoable change, undone, leaves every
table exactly as it was; undo is per coder, all or nothing, logged, and never redoes."""

import pandas as pd
import pytest
from click.testing import CliRunner

import coding
from coding import StoreError
from coding.cli import main

BOOK = """
codes:
  - id: walking
    name: Walking
    keywords: [walking group]
  - id: money
    name: Money
    keywords: [funding]
  - id: places
    name: Places
"""

DOC1 = ("Interviewer: Tell me about it.\n"
        "Ann: The walking group is great. The funding is short. I like my walking group pals.\n")
DOC2 = ("Interviewer: And you?\n"
        "Bo: Our walking group meets on Monday. We walk by the river. Funding was cut.\n")
TABLES = ("codings", "memos", "codes", "codebook_versions")


@pytest.fixture
def queued(tmp_path):
    """Two transcripts, a codebook and five rule suggestions, all by coder ann."""
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "d1.txt").write_text(DOC1)
    (tmp_path / "d2.txt").write_text(DOC2)
    with coding.init_project(tmp_path / "p.db", coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "d1.txt", tmp_path / "d2.txt"])
        assert project.suggest(rules=True, model=False) == 5
        yield project


def snapshot(project):
    """Every row of the tables undo touches, and the codings and memos as the API shows them."""
    rows = {name: pd.read_sql(f"SELECT * FROM {name} ORDER BY id", project.store.engine)
            for name in TABLES}
    return rows, project.codings_frame(statuses=None), project.memos()


def assert_same(before, after):
    for old, new in zip([*before[0].values(), *before[1:]], [*after[0].values(), *after[1:]]):
        pd.testing.assert_frame_equal(old, new)


def as_coder(project, coder):
    return coding.open_project(project.store.label, coder=coder)


def quote_span(project, document, quote):
    start = project.document_text(document).index(quote)
    return start, start + len(quote)


def last_event(project):
    return project.events().iloc[-1]


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_undo_of_a_review_decision_restores_the_exact_state(queued, decision):
    before = snapshot(queued)
    coding_id = int(queued.pending()["coding_id"].iloc[0])
    queued.review(decision, ids=[coding_id])
    assert queued.pending_count() == 4
    done = queued.undo()
    assert done == [(done[0][0], decision, f"{decision}ed 1 suggestion ({coding_id})")]
    assert_same(before, snapshot(queued))
    undo = last_event(queued)
    assert (undo["action"], undo["coder"], undo["detail"]["undone"]) == ("undo", "ann",
                                                                         done[0][0])


def test_undo_of_a_bulk_accept_puts_every_suggestion_back_with_its_coder(queued):
    before = snapshot(queued)
    accepted = queued.review("accept", code="walking")
    assert len(accepted) == 3
    frame = queued.codings_frame(statuses=None).set_index("coding_id")
    assert set(frame.loc[accepted, "coder"]) == {"ann"}  # the reviewer answers for them
    (event_id, action, what), = queued.undo()
    assert action == "accept" and what.startswith("accepted 3 suggestions")
    assert_same(before, snapshot(queued))
    frame = queued.codings_frame(statuses=None).set_index("coding_id")
    assert set(frame.loc[accepted, "coder"]) == {"rule"} and queued.pending_count() == 5


def test_undo_of_add_and_remove_coding_and_memo(queued):
    start, end = quote_span(queued, "d2.txt", "We walk by the river.")
    empty = snapshot(queued)
    coding_id = queued.add_coding("d2.txt", "places", start, end)
    queued.add_memo("by the water", "coding", coding_id)
    with_memo = snapshot(queued)
    queued.remove_coding(coding_id)
    assert coding_id not in set(queued.codings_frame()["coding_id"])
    assert [a for _, a, _ in queued.undo()] == ["remove_coding"]
    assert_same(with_memo, snapshot(queued))  # the same id, times and memo link
    assert [a for _, a, _ in queued.undo(steps=2)] == ["add_memo", "add_coding"]
    assert_same(empty, snapshot(queued))


def test_undo_of_remove_coding_restores_a_reviewed_suggestion_exactly(queued):
    coding_id = int(queued.pending()["coding_id"].iloc[0])
    queued.review("accept", ids=[coding_id])
    before = snapshot(queued)
    queued.remove_coding(coding_id)
    queued.undo()
    assert_same(before, snapshot(queued))  # score, rationale, origin, reviewer, times


def test_undo_of_recode_and_respan(queued):
    before = snapshot(queued)
    pending = queued.pending(order="document")
    first, second = (int(i) for i in pending["coding_id"].iloc[:2])
    new_id = queued.recode(first, "places")
    queued.respan(second, "turn")
    assert [a for _, a, _ in queued.undo(steps=2)] == ["respan", "recode"]
    assert_same(before, snapshot(queued))
    assert new_id not in set(queued.codings_frame(statuses=None)["coding_id"])


def test_undo_of_a_consensus_decision(queued):
    start, end = quote_span(queued, "d1.txt", "The walking group is great.")
    queued.add_coding("d1.txt", "walking", start, end)
    with as_coder(queued, "bo") as bo:
        bo.add_coding("d1.txt", "walking", start, end + 5)
    before = snapshot(queued)
    ids = queued.resolve("walking", "d1.txt", start, end, "keep_a", ["ann", "bo"])
    assert set(queued.codings_frame(ids=ids)["coder"]) == {"consensus"}
    (_, action, what), = queued.undo()
    assert action == "resolve" and "keep_a" in what
    assert_same(before, snapshot(queued))


@pytest.mark.parametrize("edit", ["add", "update", "move"])
def test_undo_of_a_codebook_edit_brings_the_previous_version_back(queued, edit):
    before, book = snapshot(queued), queued.codebook()
    if edit == "add":
        queued.add_code("river", "River", parent="places")
    elif edit == "update":
        queued.update_code("money", name="Funding", definition="Money for services.")
    else:
        queued.move_code("money", "walking")
    assert queued.codebook() != book
    (_, action, _), = queued.undo()
    assert action == f"{edit}_code"
    assert queued.codebook() == book
    assert_same(before, snapshot(queued))


def test_undo_of_a_merge_moves_codings_back_and_restores_dropped_duplicates(queued):
    start, end = quote_span(queued, "d2.txt", "Funding was cut.")
    queued.add_coding("d2.txt", "walking", start, end)
    queued.add_coding("d2.txt", "money", start, end)  # a duplicate once merged
    other = quote_span(queued, "d1.txt", "The funding is short.")
    queued.add_coding("d1.txt", "money", *other)
    before, book = snapshot(queued), queued.codebook()
    assert queued.merge_codes("money", "walking") == 3  # two suggestions and a manual coding
    assert queued.codebook().get("money") is None
    (_, action, what), = queued.undo()
    assert action == "merge_codes" and what == "merged code money into walking (3 codings moved)"
    assert queued.codebook() == book
    assert_same(before, snapshot(queued))


def test_undo_of_a_first_codebook_import_empties_the_codebook(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    with coding.init_project(tmp_path / "p.db", coder="ann") as project:
        before = snapshot(project)
        project.import_codebook(tmp_path / "book.yaml")
        project.undo()
        assert project.codebook_or_none() is None
        assert_same(before, snapshot(project))


def test_undo_only_reverses_the_current_coders_changes(queued):
    mine, theirs = (int(i) for i in queued.pending()["coding_id"].iloc[:2])
    queued.review("accept", ids=[mine])
    with as_coder(queued, "bo") as bo:
        bo.review("reject", ids=[theirs])
        queued.undo()
        statuses = queued.codings_frame(statuses=None).set_index("coding_id")["status"]
        assert (statuses[mine], statuses[theirs]) == ("suggested", "rejected")
        bo.undo()
        with pytest.raises(StoreError, match="nothing to undo: bo has no changes left"):
            bo.undo()  # bo made no other change
    assert queued.pending_count() == 5


def test_an_undone_change_is_skipped_and_undo_is_never_redone(queued):
    first, second = (int(i) for i in queued.pending()["coding_id"].iloc[:2])
    queued.review("accept", ids=[first])
    queued.review("reject", ids=[second])
    assert queued.undo()[0][1] == "reject"
    assert queued.undo()[0][1] == "accept"  # not a redo of the reject
    assert queued.pending_count() == 5
    with pytest.raises(StoreError) as info:
        queued.undo()  # next back is the ingest: it says so and changes nothing
    assert "cannot undo 'ingest'" in str(info.value) and "coding restore" in str(info.value)
    history = queued.history(coder="ann")
    undone = history.set_index("event_id")["undone_by"].dropna()
    assert len(undone) == 2 and set(history["action"].head(2)) == {"undo"}


def test_undo_passes_over_the_queue_upkeep_the_app_runs_between_decisions(queued):
    coding_id = int(queued.pending()["coding_id"].iloc[0])
    queued.review("accept", ids=[coding_id])
    queued.refresh_suggestions(warn=lambda message: None)  # train, drop, suggest: all by ann
    (_, action, _), = queued.undo()
    assert action == "accept"
    row = queued.codings_frame(statuses=None).set_index("coding_id").loc[coding_id]
    assert (row["status"], row["coder"]) == ("suggested", "rule")


def test_several_steps_are_all_or_nothing(queued):
    start, end = quote_span(queued, "d2.txt", "We walk by the river.")
    queued.add_coding("d2.txt", "places", start, end)
    queued.add_memo("a thought")
    before = snapshot(queued)
    with pytest.raises(StoreError) as info:
        queued.undo(steps=3)
    assert "cannot undo 'ingest'" in str(info.value)
    assert "Nothing was undone; your 2 newer changes can be undone with --steps 2" \
        in str(info.value)
    assert_same(before, snapshot(queued))
    assert len(queued.undo(steps=2)) == 2


def test_undo_refuses_to_undo_what_another_coder_built_on(queued):
    accepted = int(queued.pending()["coding_id"].iloc[0])
    queued.review("accept", ids=[accepted])
    review = int(last_event(queued)["event_id"])
    with as_coder(queued, "bo") as bo:
        bo.remove_coding(accepted)
    before = snapshot(queued)
    with pytest.raises(StoreError) as info:
        queued.undo()
    assert str(info.value) == (f"cannot undo event {review} (accepted 1 suggestion "
                               f"({accepted})): coding {accepted} was removed since; nothing "
                               "was undone")
    assert_same(before, snapshot(queued))


def test_undo_refuses_to_delete_a_coding_another_coder_wrote_a_memo_on(queued):
    start, end = quote_span(queued, "d2.txt", "We walk by the river.")
    coding_id = queued.add_coding("d2.txt", "places", start, end)
    with as_coder(queued, "bo") as bo:
        memo = bo.add_memo("is this a place?", "coding", coding_id)
    before = snapshot(queued)
    with pytest.raises(StoreError, match=f"memo {memo} was written on it since; remove it "
                                         "first; nothing was undone"):
        queued.undo()
    assert_same(before, snapshot(queued))


def test_history_describes_changes_in_words(queued):
    start, end = quote_span(queued, "d2.txt", "We walk by the river.")
    coding_id = queued.add_coding("d2.txt", "places", start, end)
    queued.add_memo("a thought", "document", "d1.txt")
    history = queued.history(limit=2)
    assert history["what"].tolist() == [
        f"memo {queued.memos()['memo_id'].iloc[-1]} on d1.txt",
        f"coded \u201cWe walk by the river.\u201d in d2.txt as places (coding {coding_id})"]
    assert list(history.columns) == ["event_id", "at", "coder", "action", "what", "undone_by"]
    whole = queued.history()
    assert whole["action"].tolist()[-1] == "import_codebook"
    assert not whole["what"].str.contains("=").any()  # every action has its own words


def test_cli_log_and_undo(queued):
    runner, path = CliRunner(), queued.store.label
    coding_id = int(queued.pending()["coding_id"].iloc[0])
    result = runner.invoke(main, ["--coder", "Bo", "review", path, "--accept", str(coding_id)])
    assert result.exit_code == 0, result.output
    wide = {"COLUMNS": "200"}
    result = runner.invoke(main, ["log", path, "--coder", "Bo"], env=wide)
    assert result.exit_code == 0, result.output
    assert "Newest 1 changes by Bo" in result.output
    assert f"accepted 1 suggestion ({coding_id})" in result.output
    result = runner.invoke(main, ["--coder", "Bo", "undo", path], env=wide)
    assert result.exit_code == 0, result.output
    event_id = int(queued.history(coder="Bo", limit=2)["event_id"].iloc[1])
    assert result.output == f"undid #{event_id}: accepted 1 suggestion ({coding_id})\n"
    result = runner.invoke(main, ["log", path, "--limit", "2"], env=wide)
    assert f"(undone by #{event_id + 1})" in result.output and "undo" in result.output
    result = runner.invoke(main, ["--coder", "Bo", "undo", path])
    assert result.exit_code == 1
    assert result.output == f"Error: {path}: nothing to undo: Bo has no changes left to undo " \
                            "here\n"
