"""Search and code the hits (issue 16, item 3): each mode finds exactly its hits, inside turns
only; filters by document, speaker role, case attribute and code; hits in keyword-in-context
form; code_hits stores the hit, its sentence or its turn in one logged action that undo
reverses; the lemma index is filled by batch and built once, on the first lemma search, for the
rest; the CLI."""

import json
import re
import sqlite3

import pytest
from alembic import command
from sqlalchemy import create_engine

import coding
from coding import CodingError, StoreError
from coding.records import Turn
from coding.storage import migrations
from coding.suggestions.pipeline import PIECE, lemma_spans, word_lemmas

ANN = ("Interviewer: Who supported you?\n"
       "Ann: My sister supported me.\nSupport groups helped a lot.\n"
       "Interviewer: And money?\n"
       "Ann: The support worker found funding. We were supporting each other.\n")
BO = ("Interviewer: What helps?\n"
      "Bo: Nobody supports us here. A support group, maybe. Café 😀 support!\n")
BOOK = """
codes:
  - id: support
    name: Support
  - id: money
    name: Money
"""


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path):
    """Two interviews, two cases with attributes, a two-code codebook."""
    write(tmp_path / "book.yaml", BOOK)
    write(tmp_path / "people.csv", "case,file,area,age\nann,ann.txt,Govan,34\nbo,bo.txt,"
                                   "Partick,51\n")
    with coding.init_project(tmp_path / "study.db", coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([write(tmp_path / "ann.txt", ANN), write(tmp_path / "bo.txt", BO)],
                       cases=tmp_path / "people.csv")
        yield project


def found(frame):
    """(document, turn, hit, start) of each hit."""
    return list(zip(frame["document"], frame["turn"], frame["hit"], frame["start"]))


def at(text, word, nth=0):
    """The offset of the nth occurrence of `word` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return start


def lemma_rows(path):
    """(document id, how many lemmas) of each indexed document."""
    with sqlite3.connect(path) as connection:
        return [(document, len(json.loads(spans))) for document, spans in connection.execute(
            "SELECT document_id, spans FROM lemmas ORDER BY document_id")]


def test_search_columns_are_keyword_in_context(study):
    hits = study.search("helped")
    assert list(hits.columns) == ["document", "case", "turn", "speaker", "role", "start", "end",
                                  "left", "hit", "right"]
    start = at(ANN, "helped")
    assert hits.to_dict("records") == [{
        "document": "ann.txt", "case": "ann", "turn": 1, "speaker": "Ann",
        "role": "participant", "start": start, "end": start + 6,
        "left": "My sister supported me. Support groups ", "hit": "helped", "right": " a lot."}]
    assert hits.attrs["search"] == {"pattern": "helped", "mode": "words"}
    (short,) = study.search("helped", context=10).itertuples()
    assert (short.left, short.right) == ("groups ", " a lot.")  # not "rt groups "
    (line_end,) = study.search("Support", context=5, case_sensitive=True).itertuples()
    assert (line_end.left, line_end.right) == (" me. ", "")  # on one line; not " grou"


def test_search_words_finds_any_of_the_whole_words_ignoring_case(study):
    hits = study.search("support, MONEY")
    assert found(hits) == [
        ("ann.txt", 1, "Support", at(ANN, "Support")),
        ("ann.txt", 2, "money", at(ANN, "money")),
        ("ann.txt", 3, "support", at(ANN, "support worker")),
        ("bo.txt", 1, "support", at(BO, "support group")),
        ("bo.txt", 1, "support", at(BO, "support!"))]


def test_search_words_with_a_star_finds_every_ending(study):
    assert [hit for _, _, hit, _ in found(study.search("support*"))] == [
        "supported", "supported", "Support", "support", "supporting", "supports", "support",
        "support"]


def test_search_words_case_sensitive(study):
    assert found(study.search("Support", case_sensitive=True)) == [
        ("ann.txt", 1, "Support", at(ANN, "Support"))]


def test_search_phrase_finds_the_words_in_order_across_white_space(study):
    assert [hit for _, _, hit, _ in found(study.search("support   group"))] == [
        "Support", "support", "support", "group", "support"]  # words: either word
    assert found(study.search("support group", mode="phrase")) == [
        ("bo.txt", 1, "support group", at(BO, "support group"))]
    assert found(study.search("me. support", mode="phrase")) == [
        ("ann.txt", 1, "me.\nSupport", at(ANN, "me.\nSupport"))]


def test_search_lemma_finds_every_form(study):
    expected = [
        ("ann.txt", 0, "supported", at(ANN, "supported")),
        ("ann.txt", 1, "supported", at(ANN, "supported", 1)),
        ("ann.txt", 1, "Support", at(ANN, "Support")),
        ("ann.txt", 3, "support", at(ANN, "support worker")),
        ("ann.txt", 3, "supporting", at(ANN, "supporting")),
        ("bo.txt", 1, "supports", at(BO, "supports")),
        ("bo.txt", 1, "support", at(BO, "support group")),
        ("bo.txt", 1, "support", at(BO, "support!"))]
    assert found(study.search("support", mode="lemma")) == expected
    assert found(study.search("Supported", mode="lemma")) == expected
    assert [hit for _, _, hit, _ in found(study.search("group helps", mode="lemma"))] == [
        "groups", "helped", "helps", "group"]


def test_search_lemma_counts_offsets_in_code_points(study):
    (hit,) = study.search("café", mode="lemma").itertuples()
    assert (hit.hit, hit.start, hit.right) == ("Café", at(BO, "Café"), " 😀 support!")
    last = study.search("support", mode="lemma", documents="bo.txt").iloc[-1]
    assert BO[last["start"]:last["end"]] == "support" and last["left"].endswith("Café 😀 ")


def test_search_lemma_with_a_quote_or_backslash(tmp_path, study):
    text = 'Interviewer: Where?\nDi: Saved in C:\\Users, printed 5"x7" and café.\n'
    study.ingest([write(tmp_path / "di.txt", text)])
    assert found(study.search("c:\\users", mode="lemma")) == [
        ("di.txt", 1, "C:\\Users", at(text, "C:"))]
    assert found(study.search('5"x7 café', mode="lemma", documents="di.txt")) == [
        ("di.txt", 1, '5"x7', at(text, "5")), ("di.txt", 1, "café", at(text, "café"))]


def test_search_regex_is_python_per_turn(study):
    assert found(study.search(r"support(ed|s)\b", mode="regex")) == [
        ("ann.txt", 0, "supported", at(ANN, "supported")),
        ("ann.txt", 1, "supported", at(ANN, "supported", 1)),
        ("bo.txt", 1, "supports", at(BO, "supports"))]
    # ^ is a turn's start, never a speaker label's; empty matches are no hits
    assert [hit for _, _, hit, _ in found(study.search(r"^\w+", mode="regex"))] == [
        "Who", "My", "And", "The", "What", "Nobody"]
    assert found(study.search("x*", mode="regex")) == []


def test_search_never_finds_speaker_labels(study):
    assert found(study.search("Interviewer")) == []
    assert found(study.search("Ann: My", mode="phrase")) == []


def test_search_filters_by_document_role_attribute_and_code(study):
    def words(**filters):
        return [hit for _, _, hit, _ in found(study.search("support*", **filters))]

    assert words(documents="bo.txt") == ["supports", "support", "support"]
    assert words(documents=["ann.txt"], roles="interviewer") == ["supported"]
    assert words(roles=["participant"]) == ["supported", "Support", "support", "supporting",
                                            "supports", "support", "support"]
    assert words(attributes={"area": "partick"}) == ["supports", "support", "support"]
    assert words(attributes={"age": 34.0}) == words(documents="ann.txt")
    assert words(attributes={"area": ["Govan", "Partick"], "age": "51"}) == words(
        documents="bo.txt")
    sentence = "The support worker found funding."
    start = at(ANN, sentence)
    study.add_coding("ann.txt", "money", start, start + len(sentence))
    study.add_coding("bo.txt", "money", 0, 5, status="suggested")  # not counted
    assert words(in_code="money") == ["support"]
    assert words(in_code="support") == []


def test_search_errors_say_what_is_wrong(study):
    cases = [(dict(pattern="  "), "the search is empty: type a word, a phrase or a pattern "
                                  "to find"),
             (dict(pattern="[a", mode="regex"), "the regular expression '[a' is not valid: "
                                                "unterminated character set at position 0"),
             (dict(pattern="a", mode="fuzzy"), "search mode must be one of words, phrase, "
                                               "lemma, regex, not 'fuzzy'"),
             (dict(pattern="?!", mode="lemma"), "'?!' has no words to look up by lemma"),
             (dict(pattern="*"), "'*': a * must follow the start of a word ('support*')"),
             (dict(pattern="a", roles="chair"), "no turn has the speaker role chair (the roles "
                                                "are: interviewer, participant)"),
             (dict(pattern="a", attributes={"site": "x"}), "no case has an attribute 'site' "
                                                           "(the attributes are: age, area)")]
    for arguments, message in cases:
        with pytest.raises(CodingError) as info:
            study.search(**arguments)
        assert str(info.value) == message
    with pytest.raises(StoreError, match="no code 'trust' in the codebook"):
        study.search("a", in_code="trust")
    with pytest.raises(StoreError, match="no document named 'cy.txt'"):
        study.search("a", documents="cy.txt")


def test_code_hits_as_hits_sentences_and_turns_in_one_undoable_event(study):
    hits = study.search("support", mode="lemma", documents="ann.txt", roles="participant")
    assert len(hits) == 4
    events = len(study.events())
    done = study.code_hits(hits, "support", "hit")
    assert (done.added, done.skipped) == (4, 0) and len(study.events()) == events + 1
    frame = study.codings_frame()
    assert list(zip(frame["quote"], frame["origin"], frame["coder"])) == [
        ("supported", "search", "ann"), ("Support", "search", "ann"),
        ("support", "search", "ann"), ("supporting", "search", "ann")]
    assert study.history().iloc[0]["what"] == (
        f"coded 4 search hits for \"support\" (lemma) as hits with support (codings "
        f"{', '.join(map(str, done.ids))})")

    sentences = study.code_hits(hits, "money", "sentence")  # two hits in one sentence: one coding
    turns = study.code_hits(hits, "support", "turn")
    frame = study.codings_frame().sort_values(["code", "start", "end"])
    assert frame[frame["code"] == "money"]["quote"].tolist() == [
        "My sister supported me.", "Support groups helped a lot.",
        "The support worker found funding.", "We were supporting each other."]
    assert sentences.added == 4 and turns.added == 2
    assert frame[(frame["code"] == "support") & frame["coding_id"].isin(turns.ids)][
        "quote"].tolist() == ["My sister supported me.\nSupport groups helped a lot.",
                              "The support worker found funding. We were supporting each other."]

    again = study.code_hits(hits, "support", "turn")  # already coded: nothing, no event
    assert (again.added, again.skipped) == (0, 2)
    assert [action for _, action, _ in study.undo(steps=3)] == ["code_hits"] * 3
    assert study.codings_frame().empty


def test_code_hits_selected_rows_and_records(study):
    hits = study.search("support")
    study.code_hits(hits.iloc[[0, 2]], "support")
    start = at(BO, "support group")
    done = study.code_hits([("bo.txt", start, start + 7)], "money")
    done_records = study.code_hits([{"document": "bo.txt", "start": start, "end": start + 7,
                                     "hit": "support"}], "money")
    assert (done.added, done_records.skipped) == (1, 1)
    frame = study.codings_frame()
    assert list(zip(frame["quote"], frame["code"])) == [
        ("Support", "support"), ("support", "support"), ("support", "money")]


def test_code_hits_refuses_what_it_cannot_code(study):
    hits = study.search("money")
    cases = [((hits, "money", "paragraph"), "code hits as one of hit, sentence, turn, not "
                                            "'paragraph'"),
             ((hits.iloc[0:0], "money"), "no hits to code: search first, or pick some hits"),
             ((hits, "trust"), f"{study.store.label}: no code 'trust' in the codebook"),
             ((hits.assign(hit="honey"), "money"),
              f"ann.txt: the hit at [{at(ANN, 'money')}, {at(ANN, 'money') + 5}) is not in the "
              "transcript as it was found; search again (nothing was stored)"),
             (([("ann.txt", 0, 5)], "money"), "ann.txt: the hit at [0, 5) is not inside one "
                                               "turn"),
             (([{"document": "ann.txt", "start": 0}], "money"),
              "each hit needs a document, a start and an end (missing 'end')")]
    for arguments, message in cases:
        with pytest.raises(StoreError) as info:
            study.code_hits(*arguments)
        assert str(info.value) == message
    assert study.codings_frame().empty and "code_hits" not in set(study.events()["action"])


def test_undo_of_code_hits_refuses_when_a_coding_got_a_memo(study):
    done = study.code_hits(study.search("money"), "money")
    memo = coding.Project(study.store, coder="bo").add_memo("why", "coding", done.ids[0])
    with pytest.raises(StoreError) as info:
        study.undo()
    assert str(info.value) == (
        f"cannot undo event {study.events().iloc[-2]['event_id']} (coded 1 search hit for "
        f"\"money\" (words) as hits with money (codings {done.ids[0]})): memo {memo} was "
        "written on it since; remove it first; nothing was undone")
    assert study.codings_frame()["quote"].tolist() == ["money"]


def test_the_first_lemma_search_builds_the_index_once_and_batch_fills_it(tmp_path, study):
    notes = []
    assert lemma_rows(tmp_path / "study.db") == []  # ingest leaves it to the first search
    assert found(study.search("support*", mode="words", warn=notes.append)) and notes == []
    expected = found(study.search("support", mode="lemma", warn=notes.append))
    assert notes == ["building the lemma index of 2 documents (once: later searches use it)"]
    assert lemma_rows(tmp_path / "study.db") == [(1, 20), (2, 11)]
    assert found(study.search("supports", mode="lemma", warn=notes.append)) == expected
    assert len(notes) == 1

    (tmp_path / "batch").mkdir()
    write(tmp_path / "batch" / "cy.txt", "Interviewer: Supported?\nCy: Supporting, yes.\n")
    study.batch([tmp_path / "batch"], rules=True, model=False, warn=notes.append)
    assert found(study.search("support", mode="lemma", documents="cy.txt",
                              warn=notes.append)) == [("cy.txt", 0, "Supported", 13),
                                                      ("cy.txt", 1, "Supporting", 28)]
    assert not [n for n in notes[1:] if "lemma index" in n]  # batch indexed it
    assert lemma_rows(tmp_path / "study.db")[-1] == (3, 2)  # support, yes


def test_an_upgraded_project_keeps_every_row_and_lemma_search_indexes_it(tmp_path, study):
    path = tmp_path / "study.db"
    study.index_lemmas()
    study.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.downgrade(migrations.config(connection), "0003")
    engine.dispose()

    def rows():
        with sqlite3.connect(path) as connection:
            return {name: connection.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall()
                    for name in ("documents", "turns", "codes", "cases", "attributes")}

    before = rows()
    with coding.open_project(path, coder="ann") as project:
        assert rows() == before and lemma_rows(path) == []
        notes = []
        assert [hit for _, _, hit, _ in found(project.search("support", mode="lemma",
                                                             warn=notes.append))][:2] == [
            "supported", "supported"]
        assert notes == ["building the lemma index of 2 documents (once: later searches use it)"]


def test_a_project_with_the_per_lemma_index_of_0004_is_upgraded_and_reindexed(tmp_path, study):
    path = tmp_path / "study.db"
    study.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.downgrade(migrations.config(connection), "0004")
    engine.dispose()
    with sqlite3.connect(path) as connection:  # 0004 stored one row a lemma
        connection.execute("INSERT INTO lemmas (document_id, lemma, spans) VALUES (1, 'support', "
                           "'[0, 3]')")
    with coding.open_project(path, coder="ann") as project:
        assert lemma_rows(path) == []  # derived data: dropped, not converted
        notes = []
        assert found(project.search("supports", mode="lemma", documents="ann.txt",
                                    warn=notes.append))[0][2] == "supported"
        assert notes == ["building the lemma index of 2 documents (once: later searches use it)"]
        assert [document for document, _ in lemma_rows(path)] == [1, 2]


def test_a_deleted_document_takes_its_index_and_undo_reindexes_it(tmp_path, study):
    assert study.index_lemmas() == 2
    study.delete_document("bo.txt")
    assert lemma_rows(tmp_path / "study.db") == [(1, 20)]
    study.undo()
    notes = []
    assert [d for d, _, _, _ in found(study.search("support", mode="lemma",
                                                   warn=notes.append))][-1] == "bo.txt"
    assert notes == ["building the lemma index of 1 document (once: later searches use it)"]


def test_lemma_spans_reuses_analysed_docs_and_splits_long_turns():
    from coding.suggestions.pipeline import analyse

    text = "Q: Supported?\nA: We were helping. Groups!\n"
    turns = [Turn(3, 13, "Q", "interviewer"), Turn(17, len(text) - 1, "A")]
    expected = [(3, 12, "support"), (17, 19, "we"), (20, 24, "be"), (25, 32, "help"),
                (34, 40, "group")]
    assert lemma_spans(text, turns) == expected
    analysed = list(analyse(text, turns, "sentence"))  # participants only, as batch does
    assert lemma_spans(text, turns, analysed, ("participant",)) == expected
    assert word_lemmas("Supported, helping") == ["support", "help"]
    long = ("word " * (PIECE // 5 + 10)) + "supported"
    spans = lemma_spans(long, [Turn(0, len(long))])
    assert spans[-1] == (len(long) - 9, len(long), "support") and len(spans) == PIECE // 5 + 11


def test_search_and_code_hits_on_postgres(postgres_url, tmp_path):
    write(tmp_path / "book.yaml", BOOK)
    with coding.init_project(postgres_url, coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([write(tmp_path / "ann.txt", ANN), write(tmp_path / "bo.txt", BO)])
        notes = []
        hits = project.search("support", mode="lemma", warn=notes.append)
        assert [hit for _, _, hit, _ in found(hits)] == [
            "supported", "supported", "Support", "support", "supporting", "supports", "support",
            "support"]
        assert notes == ["building the lemma index of 2 documents (once: later searches use it)"]
        assert found(project.search("support group", mode="phrase")) == [
            ("bo.txt", 1, "support group", at(BO, "support group"))]
        assert found(project.search("café", mode="lemma", documents="bo.txt")) == [
            ("bo.txt", 1, "Café", at(BO, "Café"))]
        done = project.code_hits(hits, "support", "sentence")
        assert done.added == 8 and project.undo()[0][1] == "code_hits"
        assert project.codings_frame().empty


# -- the command line -------------------------------------------------------------------------
def test_cli_search_lists_hits_in_context(tmp_path, study, run):
    study.close()
    result = run("search", tmp_path / "study.db", "support", "--mode", "lemma", "--role",
                 "participant", "--document", "bo.txt", "--context", "12")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "building the lemma index of 2 documents (once: later searches use it)",  # stderr
        "3 hits for 'support' (lemma) in 1 document",
        "     Nobody [supports] us here. A   bo.txt turn 1 Bo",
        " us here. A [support] group,       bo.txt turn 1 Bo",  # no word cut in two
        "    Café 😀 [support]!" + " " * 11 + "  bo.txt turn 1 Bo"]  # an emoji: two columns


def test_cli_search_filters_and_writes_hits(tmp_path, study, run):
    study.close()
    result = run("search", tmp_path / "study.db", "support*", "--attribute", "area=Govan",
                 "--attribute", "area=Partick", "--attribute", "age=34", "-o",
                 tmp_path / "hits.csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "5 hits for 'support*' (words) in 1 document"
    assert (tmp_path / "hits.csv").read_text(encoding="utf-8").splitlines()[0] == \
        "document,case,turn,speaker,role,start,end,left,hit,right"


def test_cli_search_apply_codes_the_hits_and_undo_reverses_them(tmp_path, study, run):
    study.close()
    db = tmp_path / "study.db"
    result = run("search", db, "money", "--apply", "money", "--as", "sentence")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"Coded 1 sentence with money (undo: coding " \
                                             f"undo {db})"
    result = run("search", db, "money", "--apply", "money", "--as", "sentence")
    assert result.output.splitlines()[-1] == "Coded 0 sentences with money; 1 was coded so " \
                                             "already"
    with coding.open_project(db, coder="cli-tester") as project:
        assert project.codings_frame()["quote"].tolist() == ["And money?"]
        assert project.undo()[0][1] == "code_hits" and project.codings_frame().empty


def test_cli_search_errors(tmp_path, study, run):
    study.close()
    db = tmp_path / "study.db"
    result = run("search", db, "(", "--mode", "regex")
    assert (result.exit_code, result.output) == (
        1, "Error: the regular expression '(' is not valid: missing ), unterminated subpattern"
           " at position 0\n")
    result = run("search", db, "money", "--as", "turn")
    assert result.exit_code == 2 and "Error: --as goes with --apply CODE" in result.output
    result = run("search", db, "money", "--attribute", "area")
    assert result.exit_code == 2 and "--attribute takes NAME=VALUE, not 'area'" in result.output
    result = run("search", db, "money", "--apply", "trust")
    assert result.exit_code == 1 and result.output.endswith(
        f"Error: {db}: no code 'trust' in the codebook\n")


# -- the app's Search page ----------------------------------------------------------------------
HOSTILE = "Interviewer: Any?\nCy: <img src=x onerror=alert(1)> support ![x](http://e.example/x.png)\n"


@pytest.fixture
def app(tmp_path, study, monkeypatch):
    """The study (plus a transcript holding HTML and Markdown) as the app's project."""
    study.ingest([write(tmp_path / "cy.txt", HOSTILE)])
    monkeypatch.setenv("CODING_PROJECT", str(tmp_path / "study.db"))
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["coder"], at.query_params["page"] = "ann", "Search"
    return ran(at.run())


def ran(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def searched(at, pattern, mode="words"):
    at.text_input(key="search_pattern").set_value(pattern)
    at.radio(key="search_mode").set_value(mode)
    return ran(at.button(key="search_go").click().run())


def test_app_search_lists_hits_in_context_as_text(app, tmp_path):
    assert app.title[0].value == "Search"
    at = searched(app, "support", "lemma")
    assert [i.value for i in at.info] == ["Built the lemma index of 3 documents; later searches "
                                          "use it."]
    assert at.subheader[0].value == "9 hits in 3 documents"
    rows = [m.value for m in at.main.markdown if "**" in m.value]
    assert rows[1] == "My sister **supported** me\\. Support groups helped a lot\\."
    assert rows[-1] == ("\\<img src\\=x onerror\\=alert\\(1\\)\\> **support** \\!\\[x\\]\\(http\\:"
                        "\u2060\\/\\/e\\.example\\/x\\.png\\)")  # text, never an image
    assert at.caption[1].value == "ann\\.txt · turn 1 · Ann"
    at = searched(at, "(", "regex")
    assert [re.sub(r"\\(.)", r"\1", e.value) for e in at.error] == [
        "the regular expression '(' is not valid: missing ), unterminated subpattern at "
        "position 0"]


def test_app_search_opens_a_hit_in_its_transcript(app):
    at = searched(app, "money")
    at = ran(at.button(key="open-hit-1-0").click().run())
    assert (at.session_state["page"], at.session_state["doc"], at.session_state["focus_turn"]) \
        == ("Transcript", "ann.txt", 2)


def test_app_search_codes_all_or_ticked_hits_and_undo_reverses(app, tmp_path):
    at = searched(app, "support", "lemma")
    at.selectbox(key="search_code").set_value("support")
    at.radio(key="search_unit").set_value("sentence")
    at = ran(at.checkbox(key="pick-1-1").check().run())
    assert at.button(key="search_code_picked").label == "Code the 1 ticked"
    at = ran(at.button(key="search_code_picked").click().run())
    assert [s.value for s in at.success] == ["Coded 1 sentence with Support\\. Undo in the "
                                             "sidebar reverses it\\."]
    assert not at.checkbox(key="pick-1-1").value  # untick after coding
    with coding.open_project(tmp_path / "study.db") as project:
        assert project.codings_frame()["quote"].tolist() == ["My sister supported me."]
    at.radio(key="search_unit").set_value("hit")
    at = ran(at.button(key="search_code_all").click().run())
    with coding.open_project(tmp_path / "study.db") as project:
        frame = project.codings_frame()
        assert len(frame) == 10 and set(frame["coder"]) == {"ann"}
        assert project.history().iloc[0]["what"].startswith(
            "coded 9 search hits for \"support\" (lemma) as hits with support")
    at = ran(at.sidebar.button(key="undo").click().run())
    with coding.open_project(tmp_path / "study.db") as project:
        assert project.codings_frame()["quote"].tolist() == ["My sister supported me."]
