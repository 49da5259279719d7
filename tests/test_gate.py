"""Issue 17, item 4: the validation gate. Precision of suggestions above a score, estimated from
the reviewed ones as the lower bound of a 95 % Wilson interval, decides whether a bulk accept
goes ahead (API, CLI with --force); codes no better than chance are marked; a code's
suggestions can be switched off; merging codes carries the decisions; documents marked fully
coded feed recall and kappa."""

import pytest

import coding
from coding.project.validation import suggester_of, wilson_lower
from coding.project.writing import store_suggestions
from coding.records import Suggestion

TEXT = "Interviewer: Tell me.\n" + "".join(f"Ann: Sentence number {i} is here.\n"
                                          for i in range(80))
BOOK = """
codes:
  - {id: walking, name: Walking, keywords: [walking]}
  - {id: money, name: Money, keywords: [money]}
  - {id: cash, name: Cash}
"""
ORIGIN = "model:tfidf-logreg@aaa+semantic:semantic-logreg@bbb"


def spans(text):
    """[start, end) of each answer's text."""
    found, at = [], 0
    for line in text.splitlines(keepends=True):
        if line.startswith("Ann: "):
            found.append((at + 5, at + len(line.rstrip("\n"))))
        at += len(line)
    return found


@pytest.fixture
def gated(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "ann.txt").write_text(TEXT)
    with coding.init_project(tmp_path / "g.db", coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.txt"])
        places = spans(TEXT)
        # 80 suggestions of walking scored 0.20 ... 0.99, and 4 of money
        made = [Suggestion(s, e, "walking", round(0.2 + i * 0.01, 2), "model", ORIGIN)
                for i, (s, e) in enumerate(places)]
        made += [Suggestion(s, e, "money", 0.9, "keywords", "rule:keywords")
                 for s, e in places[:4]]
        with project.store.transaction() as session:
            assert store_suggestions(session, project.store, "ann", 1, made) == 84
        yield project


def ids_of(project, code, low, high=1.0):
    pending = project.pending(code=code)
    return pending[(pending["score"] >= low) & (pending["score"] < high)]["coding_id"].tolist()


def test_wilson_lower_bound_matches_the_published_formula():
    from statsmodels.stats.proportion import proportion_confint

    for accepted, reviewed in ((27, 30), (40, 40), (5, 10), (0, 12)):
        low, _ = proportion_confint(accepted, reviewed, alpha=0.05, method="wilson")
        assert wilson_lower(accepted, reviewed) == pytest.approx(low, abs=1e-9)
    assert wilson_lower(27, 30) == pytest.approx(0.7438, abs=1e-4)  # by hand: z = 1.96
    assert wilson_lower(40, 40) == pytest.approx(0.9124, abs=1e-4)
    assert wilson_lower(0, 0) == 0.0


def test_suggester_of_names_the_suggesters_in_an_origin():
    assert suggester_of("rule:keywords") == "rules"
    assert suggester_of("rule:derived") == "rules"
    assert suggester_of(f"rule:keywords+{ORIGIN}") == "rules+model+semantic"
    assert suggester_of("semantic:semantic-logreg@1") == "semantic"
    assert suggester_of("llm:llama3.1:8b@run3") == "llm:llama3.1:8b"


def test_the_gate_refuses_below_target_and_allows_above(gated):
    # reviewed above 0.6: 40 suggestions (0.60-0.99); 39 accepted, 1 rejected
    high = ids_of(gated, "walking", 0.6)
    assert len(high) == 40
    gated.review("reject", ids=high[:1])
    gated.review("accept", ids=high[1:29])  # 29 reviewed: too few
    gate = gated.gate("walking", 0.6, suggester="model+semantic")
    assert (gate.reviewed, gate.accepted, gate.pending) == (29, 28, 11)
    assert not gate.passes and "1 more reviewed (the estimate needs 30)" in gate.explain()
    with pytest.raises(coding.StoreError, match="not accepted: 28 of 29 reviewed suggestions "
                                                "of 'walking' scoring 0.6 to 0.99"):
        gated.accept_validated("walking", 0.6)
    gated.review("accept", ids=high[29:39])  # 39 reviewed, 38 accepted: lower bound 0.869
    gate = gated.gate("walking", 0.6)
    assert gate.lower == pytest.approx(wilson_lower(38, 39)) and gate.lower < 0.9
    assert "a lower bound of 90%" in gate.explain()
    assert gated.gate("walking", 0.6, target=0.85).passes
    gate, accepted = gated.accept_validated("walking", 0.6, target=0.85)
    assert accepted == high[39:] and gate.passes
    # below 0.6 nothing is reviewed: refused, and --force (force=True) goes ahead
    with pytest.raises(coding.StoreError, match="no reviewed rules suggestions of 'walking' "
                                                "score 0.3 or more"):
        gated.accept_validated("walking", 0.3, suggester="rules")
    _, forced = gated.accept_validated("walking", 0.5, force=True)
    assert len(forced) == 10


def test_cli_review_accept_is_gated_and_force_overrides(gated, run, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the gate's table on one line a row
    gated.review("accept", ids=ids_of(gated, "walking", 0.5))  # 50 reviewed, all accepted
    gated.close()
    db = tmp_path / "g.db"
    refused = run("review", db, "--accept", "walking", "--min-score", "0.3")
    assert refused.exit_code == 1  # the 50 reviewed all score above the 20 waiting ones
    assert " ".join(refused.output.split()) == (
        "Error: not accepted: no reviewed suggestions of 'walking' score 0.3 to 0.49 (as the "
        "waiting ones): review at least 30 one by one first; or use --force to accept them "
        "anyway")
    lower = run("review", db, "--accept", "walking", "--min-score", "0.5")
    assert lower.exit_code == 0 and lower.stdout == "accepted 0 suggestions\n"
    money = run("review", db, "--accept", "money")
    assert money.exit_code == 1 and "review at least 30 one by one first" in money.output
    forced = run("review", db, "--accept", "money", "--force")
    assert forced.exit_code == 0 and forced.stdout == "accepted 4 suggestions\n"
    assert "accepted with --force although" in forced.stderr
    gate = run("review", db, "--gate", "--min-score", "0.5")
    assert gate.exit_code == 0 and "Validation gate (scores >= 0.5)" in gate.stdout
    rows = {line.split("│")[1].strip(): line for line in gate.stdout.splitlines()
            if line.startswith("│")}
    assert " allowed " in rows["walking"] and "not yet" in rows["money"]


def test_validation_marks_codes_no_better_than_chance_and_switches_codes_off(gated):
    walking = ids_of(gated, "walking", 0.0)
    gated.review("accept", ids=walking[:40])
    gated.review("reject", ids=walking[40:])
    money = ids_of(gated, "money", 0.0)
    gated.review("reject", ids=money)
    table = gated.validation().set_index(["code", "suggester"])
    # walking: 40 of 80 accepted, lower bound 0.39 > prevalence 40 codings / 80 turns? no
    assert table.loc[("walking", "model+semantic"), "reviewed"] == 80
    assert table.loc[("walking", "model+semantic"), "lower_95"] == pytest.approx(
        wilson_lower(40, 80))
    assert not table.loc[("walking", "model+semantic"), "better_than_chance"]
    assert table.loc[("money", "rules"), "accepted"] == 0
    assert table.loc[("money", "rules"), "better_than_chance"] is None  # 4 reviewed
    assert gated.switch_suggestions("money", on=False) == ["money"]
    assert gated.suggestions_off() == ["money"]
    assert gated.validation().set_index("code").loc["money", "off"]
    with pytest.raises(coding.StoreError, match="no code 'nope'"):
        gated.switch_suggestions("nope", on=False)
    assert gated.suggest(rules=True, model=False) == 0  # money's keyword is off
    assert gated.switch_suggestions("money", on=True) == []


def test_merging_codes_carries_their_decisions(gated):
    money = ids_of(gated, "money", 0.0)
    gated.review("accept", ids=money[:3])
    gated.review("reject", ids=money[3:])
    gated.merge_codes("money", "cash")
    gate = gated.gate("cash", 0.0)
    assert (gate.reviewed, gate.accepted) == (4, 3)


def test_fully_coded_marks_are_per_coder_and_logged(gated, run, tmp_path):
    assert gated.mark_fully_coded("ann.txt") is True
    assert gated.mark_fully_coded("ann.txt") is False  # already marked
    marks = gated.fully_coded()
    assert marks[["document", "coder"]].values.tolist() == [["ann.txt", "ann"]]
    assert gated.events()["action"].iloc[-1] == "fully_coded"
    with pytest.raises(coding.StoreError, match="marked 1 document"):
        gated.evaluate("ann", fully_coded=True)
    assert gated.mark_fully_coded("ann.txt", done=False) is True
    assert gated.fully_coded().empty


def test_marks_and_switches_are_undone_and_never_block_undo(gated):
    walking = ids_of(gated, "walking", 0.0)[:2]
    gated.review("accept", ids=walking)
    gated.mark_fully_coded("ann.txt")
    gated.switch_suggestions("money", on=False)
    log = gated.history(limit=2)
    assert list(log["what"]) == ["switched off the suggestions of money",
                                 "marked ann.txt as coded completely"]
    assert [action for _, action, _ in gated.undo(steps=3)] == [
        "suggestions_off", "fully_coded", "accept"]
    assert gated.suggestions_off() == [] and gated.fully_coded().empty
    assert set(gated.codings_frame(statuses=None).set_index("coding_id").loc[
        walking, "status"]) == {"suggested"}
    gated.mark_fully_coded("ann.txt")
    gated.mark_fully_coded("ann.txt", done=False)
    gated.undo()  # taking the mark back, undone: marked again
    assert gated.fully_coded()["document"].tolist() == ["ann.txt"]
