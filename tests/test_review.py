"""Suggestions as a review queue in a real project: no duplicates, review by id/code/score,
reviewed spans never come back, evaluation against a coder."""

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
    examples: ["We go on a walk every Monday", "The walking group meets at the park"]
  - id: money
    name: Money
    keywords: [funding]
    examples: ["The funding ran out in March", "Money is always tight for the service"]
"""

DOC1 = ("Interviewer: Tell me about it.\n"
        "Ann: The walking group is great. The funding is short. I like my walking group pals.\n")
DOC2 = ("Interviewer: And you?\n"
        "Bo: Our walking group meets on Monday. We walk by the river. Funding was cut.\n")


@pytest.fixture
def queued(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "d1.txt").write_text(DOC1)
    (tmp_path / "d2.txt").write_text(DOC2)
    project = coding.init_project(tmp_path / "p.db", coder="ann")
    project.import_codebook(tmp_path / "book.yaml")
    project.ingest([tmp_path / "d1.txt", tmp_path / "d2.txt"])
    yield project
    project.close()


def test_suggest_queues_rule_suggestions_once(queued):
    added = queued.suggest(rules=True, model=False)
    pending = queued.pending(order="document")
    assert added == len(pending) == 5
    assert pending[["document", "code", "quote"]].values.tolist() == [
        ["d1.txt", "walking", "The walking group is great."],
        ["d1.txt", "money", "The funding is short."],
        ["d1.txt", "walking", "I like my walking group pals."],
        ["d2.txt", "walking", "Our walking group meets on Monday."],
        ["d2.txt", "money", "Funding was cut."]]
    assert set(pending["status"]) == {"suggested"} and set(pending["origin"]) == {"rule:keywords"}
    assert queued.suggest(rules=True, model=False) == 0  # rerun: nothing duplicated


def test_rules_and_model_on_the_same_span_merge_into_one_suggestion(queued):
    queued.suggest(rules=True, model=True, min_score=0.0)
    pending = queued.pending(order="document")
    key = pending[["document", "code", "start", "end"]]
    assert not key.duplicated().any()
    merged = pending[pending["origin"].str.startswith("rule:")]
    assert len(merged) and merged["origin"].str.match(
        r"rule:keywords\+model:tfidf-logreg@\w+\+semantic:semantic-logreg@\w+$").all()
    assert (merged["rationale"].str.contains("keywords: ") &
            merged["rationale"].str.contains("model: ") &
            merged["rationale"].str.contains("meaning: ")).all()


def test_review_by_id_code_and_score_and_reviewed_spans_stay_reviewed(queued):
    queued.suggest(rules=True, model=False)
    pending = queued.pending(order="document")
    first = int(pending.iloc[0]["coding_id"])
    queued.coder = "bea"
    assert queued.review("reject", ids=[first]) == [first]
    accepted = queued.review("accept", code="walking", min_score=0.5)
    assert len(accepted) == 2  # the third walking suggestion was rejected above
    assert queued.pending()["code"].tolist() == ["money", "money"]
    assert queued.suggest(rules=True, model=False) == 0  # reviewed spans are not re-suggested
    frame = queued.codings_frame()  # accepted count in analysis, with the reviewer as coder
    assert set(frame["status"]) == {"accepted"} and set(frame["coder"]) == {"bea"}
    assert len(queued.codings_frame(statuses=["rejected"])) == 1  # kept: training data, audit
    events = queued.events()
    assert events["action"].tolist()[-2:] == ["reject", "accept"]
    with pytest.raises(StoreError, match="not pending suggestions: 99999"):
        queued.review("accept", ids=[99999])


def test_uncertainty_order_puts_scores_near_half_first(queued):
    queued.suggest(rules=False, model=True, min_score=0.0)
    pending = queued.pending()
    distance = (pending["score"] - 0.5).abs().tolist()
    assert distance == sorted(distance)


def test_training_uses_accepted_and_rejected_and_changes_version(queued):
    cold = queued.train()
    assert cold["cold_start"] is True
    queued.suggest(rules=True, model=False)
    queued.review("accept", code="walking")
    queued.review("reject", code="money")
    warm = queued.train()
    assert warm["cold_start"] is False and warm["version"] != cold["version"]
    assert warm["positive_units"] == 3


def test_evaluate_against_a_coder_on_a_tiny_fixture(queued, tmp_path):
    gold = tmp_path / "gold.csv"
    gold.write_text("document,code,coder,quote\n"
                    "d1.txt,walking,Gold,The walking group is great.\n"
                    "d1.txt,money,Gold,The funding is short.\n"
                    "d2.txt,walking,Gold,We walk by the river.\n"
                    "d2.txt,money,Gold,Funding was cut.\n")
    queued.import_codings(gold)
    table = queued.evaluate("Gold", folds=2).set_index(["suggester", "code"])
    # 6 participant sentences. Rules flag walking in 3 (2 not gold: "pals", "Monday"; the
    # gold "We walk by the river" has no "walking group"), money in 2 (both gold).
    assert table.loc[("rules", "walking"), ["tp", "fp", "fn", "tn"]].tolist() == [1, 2, 1, 2]
    assert table.loc[("rules", "money"), ["tp", "fp", "fn", "tn"]].tolist() == [2, 0, 0, 4]
    assert table.loc[("rules", "ALL"), ["tp", "fp", "fn", "tn"]].tolist() == [3, 2, 1, 6]
    assert table.loc[("rules", "ALL"), "units"] == 12
    with pytest.raises(StoreError, match="coder 'Nobody' has no accepted or manual codings"):
        queued.evaluate("Nobody")


def test_cli_suggest_review_train_evaluate(queued, tmp_path):
    queued.close()
    runner = CliRunner()
    project = str(tmp_path / "p.db")
    result = runner.invoke(main, ["suggest", project, "--rules"])
    assert result.exit_code == 0 and result.stdout.startswith("5 new suggestions; 5 pending")
    listing = runner.invoke(main, ["review", project, "--order", "document"])
    assert "5 pending suggestions (showing 5, by document)" in listing.stdout
    gated = runner.invoke(main, ["--coder", "cy", "review", project, "--accept", "money"])
    assert gated.exit_code == 1 and " ".join(gated.output.split()) == (
        "Error: not accepted: no reviewed suggestions of 'money' score 0 to 0.45 (as the "
        "waiting ones): review at least 30 one by one first; or use --force to accept them "
        "anyway")  # the two waiting: one keyword each (0.45)
    accept = runner.invoke(main, ["--coder", "cy", "review", project, "--accept", "money",
                                  "--force"])
    assert accept.stdout == "accepted 2 suggestions\n"
    train = runner.invoke(main, ["train", project])
    assert train.exit_code == 0 and "Trained model" in train.stdout
    gold = tmp_path / "g.csv"
    gold.write_text("document,code,coder,quote\nd1.txt,walking,G,The walking group is great.\n"
                    "d2.txt,walking,G,We walk by the river.\n")
    runner.invoke(main, ["import-codings", project, str(gold)])
    out = tmp_path / "eval.csv"
    evaluation = runner.invoke(main, ["evaluate", project, "--coder", "G", "--folds", "2",
                                      "-o", str(out)])
    assert evaluation.exit_code == 0, evaluation.output
    assert "Against G, 2-fold by document, per sentence" in evaluation.stdout
    assert out.read_text().startswith("suggester,code,units,support,predicted,tp,fp,fn,tn,")
    bad = runner.invoke(main, ["review", project, "--accept", "12345"])
    assert bad.exit_code == 1 and bad.output == "Error: not pending suggestions: 12345\n"


def test_bad_inputs_get_clear_messages_and_sensible_fallbacks(tmp_path):
    runner = CliRunner()
    project = str(tmp_path / "p.db")
    (tmp_path / "d1.txt").write_text(DOC1)
    runner.invoke(main, ["init", project])
    runner.invoke(main, ["ingest", project, str(tmp_path / "d1.txt")])
    no_book = runner.invoke(main, ["suggest", project])
    assert no_book.exit_code == 1
    assert no_book.output == (f"Error: {project}: has no codebook yet; import one with "
                              "`coding codebook import`\n")
    (tmp_path / "thin.yaml").write_text(
        "codes:\n  - {id: walking, name: Walking, keywords: [walking group]}\n"
        "  - {id: care, name: Care, examples: ['They really cared about me']}\n")
    runner.invoke(main, ["codebook", "import", project, str(tmp_path / "thin.yaml")])
    cold = runner.invoke(main, ["train", project])  # no codings, one example for one code
    assert cold.exit_code == 0
    assert "on the codebook only (no codings yet): 2 codes" in cold.stdout
    rules_only = runner.invoke(main, ["suggest", project, "--rules"])
    assert rules_only.exit_code == 0
    assert ("Warning: 1 codes have no keywords or patterns, so rules use words of their "
            "names, definitions and inclusion text instead: care") in " ".join(
        rules_only.stderr.split())
    assert rules_only.stdout.startswith("2 new suggestions")


def test_recode_rejects_the_suggestion_and_accepts_the_new_code(queued):
    queued.suggest(rules=True, model=False)
    first = queued.pending(order="document").iloc[0]  # d1 walking, "The walking group is great."
    new_id = queued.recode(int(first["coding_id"]), "money")
    frame = queued.codings_frame(statuses=None).set_index("coding_id")
    assert frame.loc[int(first["coding_id"]), "status"] == "rejected"
    assert frame.loc[new_id, ["code", "status", "coder", "quote"]].tolist() == [
        "money", "accepted", "ann", "The walking group is great."]
    assert frame.loc[new_id, "origin"] == "recode:rule:keywords"
    with pytest.raises(StoreError, match="is not a pending suggestion"):
        queued.recode(int(first["coding_id"]), "money")  # already reviewed


def test_respan_widens_to_the_turn_and_narrows_back_to_the_sentence(queued):
    queued.suggest(rules=True, model=False)
    pending = queued.pending(order="document")
    last = pending[pending["quote"] == "I like my walking group pals."].iloc[0]
    coding_id = int(last["coding_id"])
    text = queued.document_text("d1.txt")
    start, end = queued.respan(coding_id, "turn")
    assert text[start:end] == ("The walking group is great. The funding is short. "
                               "I like my walking group pals.")
    start, end = queued.respan(coding_id, "sentence")  # narrowing undoes the widening
    assert text[start:end] == "I like my walking group pals."
    money = pending[pending["quote"] == "The funding is short."].iloc[0]
    queued.respan(int(money["coding_id"]), "turn")
    queued.respan(coding_id, "turn")
    with pytest.raises(StoreError, match="that turn already has this code"):
        queued.respan(int(first_walking(pending)), "turn")  # the same code on the same turn
    events = queued.events()
    assert events["action"].tolist().count("respan") == 4


def test_remove_coding_deletes_it_and_logs_what_it_was(queued):
    coding_id = queued.add_coding("d1.txt", "money", 0, 11)
    assert queued.remove_coding(coding_id) == coding_id
    assert queued.codings_frame(statuses=None).empty
    event = queued.events().iloc[-1]
    assert event["action"] == "remove_coding" and event["detail"]["start"] == 0
    with pytest.raises(StoreError, match="no coding"):
        queued.remove_coding(coding_id)


def test_refresh_suggestions_retrains_and_rescores_pending_model_suggestions(queued):
    queued.suggest(rules=True, model=True, min_score=0.0)
    before = queued.pending()
    model_rows = before[before["origin"].str.contains("model:")]
    assert len(model_rows)
    queued.review("accept", code="walking")
    queued.review("reject", code="money", max_score=0.99)
    waiting = queued.pending()
    done = queued.refresh_suggestions(min_score=0.0, warn=lambda message: None)
    summary, after = done.model, queued.pending()
    assert summary["cold_start"] is False and done.after == len(after)
    assert (done.before, done.dropped) == (len(waiting),
                                           int(waiting["origin"].str.contains("model:").sum()))
    versions = after[after["origin"].str.contains("model:")]["origin"].str.split("@").str[-1]
    assert set(versions) <= {summary["version"]}  # no suggestion of the old model is left
    reviewed = queued.codings_frame(statuses=["accepted", "rejected"])
    assert set(reviewed["coding_id"]).isdisjoint(after["coding_id"])  # reviewed stay reviewed


def first_walking(pending):
    return pending[pending["quote"] == "The walking group is great."].iloc[0]["coding_id"]
