"""Suggesters: one contract for both, rules find exact spans, the model learns, metrics add up."""

import json

import numpy as np
import pytest

from coding import SuggesterError, parse_codebook
from coding.analysis.evaluation import binary_metrics, evaluation_table
from coding.records import Turn
from coding.suggestions.rules import KeywordSuggester
from coding.suggestions.suggester import Suggester
from coding.suggestions.tfidf import TfidfSuggester

CODEBOOK = parse_codebook("""
codes:
  - id: trust
    name: Trust
    keywords: [build trust, trust]
    examples: ["I trust the staff now", "They built trust with us over months"]
  - id: walking
    name: Walking
    keywords: [walking group, walk]
    patterns: ['\\bpaths? for all\\b']
    examples: ["We go on a walk every Monday", "The walking group meets at the park"]
  - id: money
    name: Money
    keywords: [funding, trust fund]
    examples: ["The funding ran out in March", "Money is always tight for the service"]
""")

TEXT = ("Interviewer: Do you trust them?\n"
        "Ann: Building trust took years. Then I joined the walking group. "
        "Paths for All trained me.\n")


def turns_of(text):
    first = text.index("Do")
    second = text.index("Building")
    return [Turn(first, text.index("\n"), "Interviewer", "interviewer"),
            Turn(second, len(text.rstrip()), "Ann", "participant")]


SUGGESTERS = [KeywordSuggester, TfidfSuggester]


@pytest.mark.parametrize("make", SUGGESTERS)
def test_suggester_contract(make):
    suggester = make()
    assert isinstance(suggester, Suggester)  # the Protocol every suggester meets
    with pytest.raises(SuggesterError, match="call fit"):
        suggester.suggest(TEXT, turns_of(TEXT))
    assert suggester.fit(CODEBOOK) is suggester
    first = suggester.suggest(TEXT, turns_of(TEXT))
    assert first == make().fit(CODEBOOK).suggest(TEXT, turns_of(TEXT))  # deterministic
    assert {s.code for s in first} <= {c.id for c in CODEBOOK.codes}
    for s in first:
        assert 0 <= s.score <= 1 and s.rationale and s.origin


def test_rules_find_sentences_with_lemma_matches_in_participant_turns():
    suggestions = KeywordSuggester().fit(CODEBOOK).suggest(TEXT, turns_of(TEXT))
    found = [(TEXT[s.start:s.end], s.code, s.score, s.rationale) for s in suggestions]
    assert found == [
        ("Building trust took years.", "trust", 0.8075,
         'keywords: "build trust" ("Building trust"), "trust"'),
        ("Then I joined the walking group.", "walking", 0.8075,
         'keywords: "walking group", "walk" ("walking")'),
        ("Paths for All trained me.", "walking", 0.6,
         'keywords: "/\\bpaths? for all\\b/" ("Paths for All")'),
    ]
    assert all(s.origin == "rule:keywords" for s in suggestions)


def test_rules_by_turn_and_for_all_roles():
    by_turn = KeywordSuggester(unit="turn", roles=None).fit(CODEBOOK).suggest(TEXT, turns_of(TEXT))
    spans = {(TEXT[s.start:s.end][:18], s.code) for s in by_turn}
    assert spans == {("Do you trust them?", "trust"), ("Building trust too", "trust"),
                     ("Building trust too", "walking")}


def test_a_phrase_shared_by_codes_weighs_less():
    book = parse_codebook("codes:\n  - {id: a, name: A, keywords: [group]}\n"
                          "  - {id: b, name: B, keywords: [group]}\n"
                          "  - {id: c, name: C, keywords: [walking group]}\n")
    text = "Ann: The walking group.\n"
    scores = {s.code: s.score for s in KeywordSuggester().fit(book).suggest(
        text, [Turn(5, len(text) - 1, "Ann")])}
    assert scores == {"a": 0.225, "b": 0.225, "c": 0.65}


def test_codes_without_keywords_are_listed():
    book = parse_codebook("codes:\n  - {id: a, name: A}\n  - {id: b, name: B, keywords: [x]}\n")
    assert KeywordSuggester().fit(book).codes_without_rules_ == ["a"]


def walk_examples():
    positives = ["we walk by the river every week", "the walking group walk in the park",
                 "a long walk with the group on monday", "walk round the loch with pals"]
    negatives = ["the council cut the budget again", "forms and letters about benefits",
                 "the doctor changed my tablets", "money worries keep me up at night"]
    lemmas = lambda text: tuple(text.split())  # noqa: E731 - already lower-case base forms
    return ([(lemmas(t), {"walking"}, set()) for t in positives] +
            [(lemmas(t), {"money"}, set()) for t in negatives])


def test_model_learns_a_code_and_ranks_a_held_out_positive_first():
    model = TfidfSuggester().fit(CODEBOOK, walk_examples())
    held_out = [("walk", "along", "the", "river", "path"), ("the", "budget", "cut", "letter"),
                ("tablets", "from", "the", "doctor")]
    scores = model.score_units(held_out)[:, model.codes_.index("walking")]
    assert scores[0] > max(scores[1:])
    assert model.origin_.startswith("model:tfidf-logreg@") and len(model.version_) == 12


def test_model_state_is_plain_json_and_round_trips():
    model = TfidfSuggester().fit(CODEBOOK, walk_examples())
    state = json.loads(json.dumps(model.to_state()))
    again = TfidfSuggester.from_state(state)
    units = [("walk", "park"), ("funding", "cut")]
    assert np.allclose(again.score_units(units), model.score_units(units))
    assert again.version_ == model.version_
    suggestion = again.suggest(TEXT, turns_of(TEXT))
    assert all(s.origin == model.origin_ for s in suggestion)
    with pytest.raises(SuggesterError, match="format 99"):
        TfidfSuggester.from_state({**state, "format": 99})


def test_model_version_changes_with_training_data():
    one = TfidfSuggester().fit(CODEBOOK, walk_examples())
    two = TfidfSuggester().fit(CODEBOOK, walk_examples()[:-1])
    assert one.version_ != two.version_
    assert TfidfSuggester().fit(CODEBOOK, walk_examples()).version_ == one.version_


def test_model_rationale_names_strong_features_present():
    model = TfidfSuggester(min_score=0.0).fit(CODEBOOK, walk_examples())
    text = "Ann: I love the walking group.\n"
    suggestion = next(s for s in model.suggest(text, [Turn(5, len(text) - 1, "Ann")])
                      if s.code == "walking")
    assert suggestion.rationale.startswith('model: "walking group" (+') or \
        suggestion.rationale.startswith('model: "walk')


def test_binary_metrics_match_a_hand_computed_confusion_matrix():
    truth, predicted = [1, 1, 0, 0, 1], [1, 0, 1, 0, 1]
    metrics = binary_metrics(truth, predicted)
    # tp=2 fp=1 fn=1 tn=1; po=3/5; pe=(3/5)(3/5)+(2/5)(2/5)=0.52; kappa=(0.6-0.52)/0.48
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == (2, 1, 1, 1)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    assert metrics["kappa"] == pytest.approx(0.08 / 0.48)


def test_evaluation_table_pools_codes_for_the_overall_row():
    truth = np.array([[1, 0], [0, 1], [0, 0]], dtype=bool)
    rules = np.array([[1, 1], [0, 0], [0, 0]], dtype=bool)
    table = evaluation_table(truth, {"rules": rules}, ["a", "b"]).set_index("code")
    assert table.loc["a", ["tp", "fp", "fn", "tn"]].tolist() == [1, 0, 0, 2]
    assert table.loc["b", ["tp", "fp", "fn", "tn"]].tolist() == [0, 1, 1, 1]
    assert table.loc["ALL", ["tp", "fp", "fn", "tn"]].tolist() == [1, 1, 1, 3]
    assert table.loc["ALL", "f1"] == pytest.approx(0.5)
