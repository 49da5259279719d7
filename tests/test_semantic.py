"""Issue 17: the semantic suggester (word vectors from the wordllama wheel, nothing downloaded),
rules derived from definitions, thresholds calibrated on a project's decisions, and what
`coding evaluate` reports (each suggester, the default, the names baseline, micro and macro,
the learning curve), on real files: the themes study in data_samples/themes_study."""

import socket
from pathlib import Path

import numpy as np
import pytest

import coding
from coding.records import Code, Codebook, Turn
from coding.suggestions import vectors
from coding.suggestions.calibration import best_threshold, calibrate, threshold_of
from coding.suggestions.rules import KeywordSuggester
from coding.suggestions.semantic import SemanticSuggester

ROOT = Path(__file__).resolve().parent.parent
THEMES = ROOT / "data_samples" / "themes_study"
THEMES_BOOK = ROOT / "codebooks" / "gcph_themes.yaml"

BOOK = Codebook("b", "B", (
    Code("relationships", "Relationships", definition="Trusting relationships between staff "
         "and the people they support; being listened to and treated as a person.",
         examples=("She always made time to talk to me.",)),
    Code("money", "Money and funding", definition="Budgets, funding cuts, grants and costs.",
         examples=("The grant ran out in March.",)),
    Code("transport", "Getting there", definition="Buses, travel, distance to services.",
         examples=("There is no bus after six.",))))


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt fails, as on a machine with no internet; the vectors are
    loaded afresh inside the test."""
    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vectors.load_vectors.cache_clear()
    yield
    vectors.load_vectors.cache_clear()


def test_vectors_load_from_the_wheel_with_the_network_blocked(no_network):
    found = vectors.embed(["she listened to me", "", "the bus was late"])
    assert found.shape == (3, 256) and found.dtype == np.float32
    assert np.allclose(np.linalg.norm(found[[0, 2]], axis=1), 1.0) and not found[1].any()


def test_semantic_ranks_a_held_out_paraphrase_above_unrelated_units(no_network):
    examples = [("The nurse sat with me and we just talked for an hour.", {"relationships"},
                 set()),
                ("They cut our budget by a third this year.", {"money"}, set()),
                ("I need two buses to get to the clinic.", {"transport"}, set())]
    model = SemanticSuggester(unit="turn").fit(BOOK, examples)
    held_out = ["Honestly she listened to me like nobody else ever had.",  # no shared words
                "The council spreadsheet is due on Friday.",
                "It rained all weekend so we stayed in."]
    scores = model.score_texts(held_out)
    column = model.codes_.index("relationships")
    assert scores[0, column] > scores[1, column] and scores[0, column] > scores[2, column]
    assert model.origin_.startswith("semantic:semantic-logreg@")
    state = model.to_state()  # plain data, loaded back the same
    again = SemanticSuggester.from_state(state)
    assert np.allclose(again.score_texts(held_out), scores)


def test_semantic_cold_start_learns_from_the_codebook_alone(no_network):
    model = SemanticSuggester(unit="turn").fit(BOOK)
    scores = model.score_texts(["Funding for the project got slashed and the grant ended."])
    assert model.codes_[int(np.argmax(scores[0]))] == "money"
    text = "Interviewer: And money?\nAnn: Funding for the project got slashed.\n"
    turns = [Turn(13, 23, speaker="Interviewer", role="interviewer"),
             Turn(29, len(text) - 1, speaker="Ann", role="participant")]
    found = SemanticSuggester(unit="turn", min_score=0.0).fit(BOOK).suggest(text, turns)
    money = [s for s in found if s.code == "money"]
    assert money and text[money[0].start:money[0].end] == "Funding for the project got slashed."
    assert money[0].rationale.startswith("meaning: close to the code's \"")


def test_derived_rules_fire_on_a_definition_only_codebook():
    book = coding.load_codebook(THEMES_BOOK)
    assert all(not c.keywords and not c.patterns for c in book.codes)
    rules = KeywordSuggester(unit="turn").fit(book)
    assert set(rules.derived_) == {c.id for c in book.codes}
    shared = {"community", "people", "service"} & set().union(
        *(set(terms) for terms in rules.derived_.values()))
    assert not shared  # words in many codes' texts say little and are dropped
    text = ("Interviewer: Go on.\nMo: The manager gave us permission to try something new, "
            "and she backed us when it went wrong.\n")
    turns = [Turn(13, 19, speaker="Interviewer", role="interviewer"),
             Turn(24, len(text) - 1, speaker="Mo", role="participant")]
    found = rules.suggest(text, turns)
    assert found and all(s.origin == "rule:derived" for s in found)
    assert all("(derived: the code has no keywords)" in s.rationale for s in found)
    assert "leadership" in {s.code for s in found}
    assert not KeywordSuggester(unit="turn", derive=False).fit(book).suggest(text, turns)


def test_thresholds_are_calibrated_exactly_on_a_small_fixture():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2])
    truth = np.array([1, 1, 0, 1, 0, 0], bool)
    # 0.325-0.6: tp 3, fp 1 -> precision 0.75, recall 1, F1 6/7 (ties: the highest, 0.6);
    # 0.625-0.8: 2 of 2 -> precision 1, recall 2/3, F1 0.8
    threshold, precision, recall, f1 = best_threshold(scores, truth)
    assert threshold == 0.6 and precision == 0.75 and recall == 1.0
    assert f1 == pytest.approx(6 / 7)
    assert best_threshold(scores, truth, target_precision=0.9)[:3] == (0.8, 1.0, 2 / 3)
    assert best_threshold(scores, truth, target_precision=1.01) is None
    many = np.tile(scores, 12)[:, None].repeat(2, axis=1)  # 36 positives for code a
    labels = np.stack([np.tile(truth, 12), np.zeros(72, bool)], axis=1)
    labels[:3, 1] = True  # code b: 3 positives, too few for its own threshold
    found = calibrate(many, labels, ["a", "b"], min_positives=30)
    assert found["codes"] == {"a": 0.6} and found["positives"] == {"a": 36, "b": 3}
    assert threshold_of(found, "a") == 0.6 and threshold_of(found, "b") == found["shared"]
    assert threshold_of(None, "a", 0.4) == 0.4


@pytest.fixture(scope="module")
def themes(tmp_path_factory):
    path = tmp_path_factory.mktemp("themes") / "t.db"
    with coding.init_project(path, coder="loader") as project:
        project.import_codebook(THEMES_BOOK)
        project.ingest([THEMES / "transcripts"], cases=THEMES / "participants.csv")
        added, _ = project.import_codings(THEMES / "codings.csv")
        assert added == 179
    return path


def test_evaluate_reports_each_suggester_the_default_and_the_names_baseline(themes):
    with coding.open_project(themes, coder="me") as project:
        table, curve = project.evaluate("theme-coder", unit="turn", curve=True)
    pooled = table[table["code"].isin(["ALL", "MACRO"])].set_index(["suggester", "code"])["f1"]
    assert list(table["suggester"].unique()) == ["rules", "model", "semantic", "default",
                                                 "names"]
    assert set(table["code"]) == {"relationships", "people_skills", "shifting_balance",
                                  "conditions", "leadership", "ALL", "MACRO"}
    # the targets on a definition-only codebook: rules suggest, default beats names
    assert pooled["rules", "ALL"] > 0.2
    assert pooled["default", "MACRO"] > pooled["names", "MACRO"] + 0.2
    assert pooled["default", "ALL"] > pooled["model", "ALL"]
    macro = table[(table["suggester"] == "semantic") & ~table["code"].isin(["ALL", "MACRO"])]
    assert pooled["semantic", "MACRO"] == pytest.approx(macro["f1"].mean())
    assert list(curve["documents"]) == [1, 2, 4, 8] and (curve["units"].diff()[1:] > 0).all()
    assert curve["f1_micro"].between(0, 1).all()


def test_training_stores_calibrated_thresholds_and_suggest_uses_them(themes, tmp_path):
    copy = tmp_path / "t.db"
    copy.write_bytes(Path(themes).read_bytes())
    with coding.open_project(copy, coder="me") as project:
        summary = project.train(unit="turn")
        assert summary["calibrated"] and summary["positive_units"] == 153
        calibration = project.calibration("turn")
        assert set(calibration) == {"model", "semantic", "model+semantic"}
        shared = calibration["model+semantic"]["shared"]
        assert 0.05 <= shared <= 0.95 and calibration["model+semantic"]["codes"] == {}
        notes = []
        added = project.suggest(unit="turn", warn=notes.append)
        pending = project.pending()
        assert added == len(pending) > 0 and not notes  # no derived rules once trained
        assert (pending["score"] >= shared - 1e-9).all()
        assert pending["origin"].str.match(
            r"model:tfidf-logreg@\w+\+semantic:semantic-logreg@\w+$").all()
