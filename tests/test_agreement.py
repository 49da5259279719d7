"""Agreement statistics against Krippendorff's own worked examples and hand-computed cases, and
the unit x coder data built from real codings in a real project."""

from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

import coding
from coding import StoreError
from coding.analysis import agreement
from coding.cli import main

NAN = np.nan


def exact_nominal_alpha(matrix):
    """Krippendorff's alpha from the coincidence matrix, in exact fractions (the 2011 paper's
    recipe): alpha = 1 - (n - 1) * sum(o_ck, c != k) / sum(n_c * n_k, c != k)."""
    values = sorted({v for row in matrix for v in row if v == v})
    o = {(c, k): Fraction(0) for c in values for k in values}
    for unit in zip(*matrix):
        seen = [v for v in unit if v == v]
        m = len(seen)
        if m < 2:
            continue
        for i, c in enumerate(seen):
            for j, k in enumerate(seen):
                if i != j:
                    o[(c, k)] += Fraction(1, m - 1)
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())
    disagree = sum(o[(c, k)] for c in values for k in values if c != k)
    expected = sum(n_c[c] * n_c[k] for c in values for k in values if c != k)
    return 1 - (n - 1) * disagree / expected


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example A (binary, two
# observers, no missing data) and example C (nominal, four observers, missing data).
EXAMPLE_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
             [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
EXAMPLE_C = [[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
             [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
             [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
             [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]]


def test_krippendorffs_published_examples():
    a = agreement.krippendorff_alpha(np.array(EXAMPLE_A, dtype=float))
    assert a == pytest.approx(float(exact_nominal_alpha(EXAMPLE_A)), abs=1e-9)
    assert a == pytest.approx(2 / 21, abs=1e-9) and round(a, 3) == 0.095  # as published
    c = agreement.krippendorff_alpha(np.array(EXAMPLE_C, dtype=float))
    assert c == pytest.approx(float(exact_nominal_alpha(EXAMPLE_C)), abs=1e-9)
    assert round(c, 3) == 0.743  # as published


def test_kappa_and_percent_agreement_by_hand():
    a, b = np.array(EXAMPLE_A, dtype=float)
    # agree on 6 of 10; chance: 0.2 x 0.4 + 0.8 x 0.6 = 0.56; kappa = (0.6 - 0.56) / 0.44
    assert agreement.cohen_kappa(a, b) == pytest.approx(0.04 / 0.44, abs=1e-9)
    assert agreement.percent_agreement(np.array(EXAMPLE_A, dtype=float)) == 0.6
    b_missing = b.copy()
    b_missing[0] = NAN  # a unit one coder did not see: left out of kappa
    assert agreement.cohen_kappa(a, b_missing) == pytest.approx(
        float(_kappa(a[1:], b[1:])), abs=1e-9)


def _kappa(a, b):
    n = len(a)
    observed = Fraction(int(sum(x == y for x, y in zip(a, b))), n)
    pa, pb = Fraction(int(sum(a)), n), Fraction(int(sum(b)), n)
    expected = pa * pb + (1 - pa) * (1 - pb)
    return (observed - expected) / (1 - expected)


DOC1 = ("Interviewer: Tell me.\nAnn: We walk on Mondays. Funding is short. Staff listen to us. "
        "The garden helps.\n")
DOC2 = "Interviewer: And you?\nBo: The group is good. We share the work.\n"
BOOK = """
codes:
  - id: walking
    name: Walking
  - id: money
    name: Money
"""


def two_documents(tmp_path, book, name):
    """A project of d1.txt and d2.txt coded with `book` (YAML text), made by "lead"."""
    (tmp_path / "book.yaml").write_text(book)
    (tmp_path / "d1.txt").write_text(DOC1)
    (tmp_path / "d2.txt").write_text(DOC2)
    project = coding.init_project(tmp_path / name, coder="lead")
    project.import_codebook(tmp_path / "book.yaml")
    project.ingest([tmp_path / "d1.txt", tmp_path / "d2.txt"])
    return project


def code_quote(project, coder, document, code_id, quote):
    """`coder` codes the first occurrence of `quote` in `document` with `code_id`."""
    start = project.document_text(document).index(quote)
    project.add_coding(document, code_id, start, start + len(quote), coder=coder)


@pytest.fixture
def team(tmp_path):
    project = two_documents(tmp_path, BOOK, "team.db")

    def code(coder, document, code_id, quote):
        code_quote(project, coder, document, code_id, quote)

    code("amy", "d1.txt", "walking", "We walk on Mondays.")
    code("amy", "d1.txt", "money", "Funding is short.")
    code("ben", "d1.txt", "walking", "We walk on Mondays.")
    code("ben", "d1.txt", "walking", "The garden helps.")
    code("amy", "d2.txt", "walking", "The group is good.")  # ben never coded d2: missing
    yield project
    project.close()


def test_unit_data_from_spans_with_unseen_documents_missing(team):
    data = team.agreement_data(["amy", "ben"], unit="sentence")
    assert data.units[["document", "start", "end"]].shape == (6, 3)  # 4 + 2 sentences
    walking, money = data.values["walking"], data.values["money"]
    assert walking[0].tolist() == [1, 0, 0, 0, 1, 0]
    assert walking[1, :4].tolist() == [1, 0, 0, 1] and np.isnan(walking[1, 4:]).all()
    assert money[0].tolist() == [0, 1, 0, 0, 0, 0] and money[1, :4].tolist() == [0, 0, 0, 0]


def test_agreement_table_and_coded_only_by_hand(team):
    table = team.agreement(["amy", "ben"], unit="sentence").set_index(["variant", "code"])
    walking = table.loc[("all units", "walking")]
    # 4 units both saw: amy 1 0 0 0, ben 1 0 0 1 -> 3 of 4 agree
    assert walking["units"] == 4 and walking["agreement"] == 0.75
    assert walking["kappa"] == pytest.approx(float(_kappa([1, 0, 0, 0], [1, 0, 0, 1])))
    assert walking["alpha"] == pytest.approx(float(exact_nominal_alpha(
        [[1, 0, 0, 0], [1, 0, 0, 1]])), abs=1e-9)
    money = table.loc[("all units", "money")]
    assert money["agreement"] == 0.75 and money["coded_units"] == 1
    assert "unstable" in money["warning"]
    # coded only: unit 3 ("Staff listen to us.") nobody coded with anything, so it goes
    coded = table.loc[("coded only", "walking")]
    assert coded["units"] == 3 and coded["agreement"] == pytest.approx(2 / 3)
    pooled = table.loc[("all units", "ALL")]
    assert pooled["units"] == 8 and pooled["agreement"] == 0.75  # 6 of 8 unit x code pairs
    assert table.loc[("coded only", "ALL"), "units"] == 6


def test_char_units_count_characters(team):
    table = team.agreement(["amy", "ben"], unit="char", codes=["walking"],
                           coded_only=False).set_index("code")
    text = team.document_text("d1.txt")
    turn = team.turns("d1.txt").iloc[1]
    garden = len("The garden helps.")
    assert table.loc["walking", "units"] == turn["end"] - turn["start"]
    assert table.loc["walking", "agreement"] == pytest.approx(
        1 - garden / (turn["end"] - turn["start"]))
    assert "We walk" in text


def test_machine_coders_and_clear_errors(team):
    team.suggest(rules=False, model=True, min_score=0.0, warn=lambda m: None)
    table = team.agreement(["amy", "model"], unit="sentence", coded_only=False)
    assert set(table["code"]) == {"walking", "money", "ALL"}
    with pytest.raises(StoreError, match="no codings by zed"):
        team.agreement(["amy", "zed"])
    with pytest.raises(StoreError, match="at least two coders"):
        team.agreement(["amy"])


def test_disagreements_resolve_into_consensus_codings(team):
    data = team.agreement_data(["amy", "ben"])
    differ = agreement.disagreements(data, "walking")
    assert len(differ) == 1
    unit = differ.iloc[0]
    text = team.document_text(unit["document"])
    assert text[unit["start"]:unit["end"]] == "The garden helps."
    assert (unit["amy"], unit["ben"]) == (0, 1)
    ids = team.resolve("walking", unit["document"], unit["start"], unit["end"], "keep_b",
                       ("amy", "ben"))
    frame = team.codings_frame().set_index("coding_id")
    assert frame.loc[ids[0], ["coder", "quote", "status"]].tolist() == [
        "consensus", "The garden helps.", "accepted"]
    assert team.resolved_units("walking") == [(unit["document"], unit["start"], unit["end"])]
    assert team.events().iloc[-1]["detail"]["decision"] == "keep_b"
    neither = team.resolve("money", "d1.txt", 0, 5, "neither", ("amy", "ben"))
    assert team.codings_frame(statuses=["rejected"]).set_index("coding_id").loc[
        neither[0], "coder"] == "consensus"


def test_merge_another_coders_copy_keeps_both_and_is_idempotent(team, tmp_path):
    import sqlite3

    copy = tmp_path / "copy.db"  # each coder codes a copy (the SQLite backup API copies it)
    with sqlite3.connect(team.store.label) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with coding.open_project(copy, coder="cat") as theirs:
        text = theirs.document_text("d2.txt")
        start = text.index("We share the work.")
        theirs.add_coding("d2.txt", "money", start, start + 18)
        cat_id = theirs.codings_frame().query("coder == 'cat'")["coding_id"].iloc[0]
        theirs.add_memo("shared labour", "coding", cat_id)
    added, skipped, matched = team.merge_codings_from(copy)
    assert (added, matched) == (1, 2) and skipped == 5  # the five already here
    frame = team.codings_frame()
    assert sorted(set(frame["coder"])) == ["amy", "ben", "cat"]
    assert team.merge_codings_from(copy)[0] == 0  # again: nothing new
    memos = team.memos()
    assert "shared labour" in memos["text"].tolist()


def test_cli_agreement_prints_and_exports(team, tmp_path):
    db = team.store.label
    result = CliRunner().invoke(main, ["agreement", db, "--coders", "amy", "ben",
                                       "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assert "walking" in result.output and "unstable" in result.output
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0].startswith("code,variant,units") and len(lines) == 7
    bad = CliRunner().invoke(main, ["agreement", db, "--coders", "amy", "--unit", "page"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


# -- the children of a parent as one variable (issue 18) ----------------------------------------

SCALE_BOOK = """
codes:
  - id: intensity
    name: Intensity
    ordered: true
    children:
      - id: low
        name: Low
      - id: medium
        name: Medium
      - id: high
        name: High
  - id: topic
    name: Topic
    children:
      - id: walking
        name: Walking
      - id: money
        name: Money
"""


@pytest.fixture
def scale(tmp_path):
    """amy and ben rate the intensity of each participant sentence with the children of
    `intensity`; ben gives one sentence two of them and never opens d2.txt."""
    project = two_documents(tmp_path, SCALE_BOOK, "scale.db")

    def code(coder, document, code_id, quote):
        code_quote(project, coder, document, code_id, quote)

    for coder, document, code_id, quote in [
            ("amy", "d1.txt", "low", "We walk on Mondays."),
            ("amy", "d1.txt", "high", "Funding is short."),
            ("amy", "d1.txt", "medium", "Staff listen to us."),
            ("amy", "d2.txt", "high", "The group is good."),
            ("ben", "d1.txt", "low", "We walk on Mondays."),
            ("ben", "d1.txt", "medium", "Funding is short."),
            ("ben", "d1.txt", "medium", "Staff listen to us."),
            ("ben", "d1.txt", "high", "Staff listen to us."),
            ("ben", "d1.txt", "low", "The garden helps.")]:
        code(coder, document, code_id, quote)
    yield project
    project.close()


def test_children_of_a_parent_as_one_variable(scale):
    found = scale.category_ratings("intensity", ["amy", "ben"])
    assert [[v if isinstance(v, str) else None for v in row]
            for row in found.table.to_numpy().tolist()] == [
        ["low", "low"], ["high", "medium"], ["medium", "(several)"], ["(none)", "low"],
        ["high", None], ["(none)", None]]  # ben never opened d2.txt: missing, not "none"
    assert (found.several, found.coded) == (1, 5)
    assert found.table.index[0].startswith("d1.txt [")


def test_category_alpha_is_the_one_computed_by_hand(scale):
    # pairable units: (low, low), (high, medium), (medium, several), (none, low): n = 8,
    # n_low = 3, n_medium = 2, n_high = n_several = n_none = 1; 6 disagreeing pairs;
    # D_e = 8^2 - (9 + 4 + 1 + 1 + 1) = 48; alpha = 1 - 7 x 6 / 48 = 0.125
    found = scale.category_reliability("intensity", ["amy", "ben"])
    result = {r.metric: r for r in found.results}
    assert result["alpha"].value == pytest.approx(0.125, abs=1e-12)
    assert result["alpha"].units == 4 and result["alpha"].categories == 5
    assert found.warnings[:2] == (
        "1 of 5 coded units got several children of intensity from a coder (20%); (several) "
        "is a value of its own",
        "more than 10 % of the coded units got several children of intensity: --categories is "
        "meant for children that exclude each other; read the per-code figures instead")
    assert result["cohen"].value == pytest.approx(float(_kappa_labels(
        ["low", "high", "medium", "(none)"], ["low", "medium", "(several)", "low"])))


def _kappa_labels(a, b):
    n = len(a)
    observed = Fraction(sum(x == y for x, y in zip(a, b)), n)
    expected = sum(Fraction(a.count(v), n) * Fraction(b.count(v), n) for v in set(a) | set(b))
    return (observed - expected) / (1 - expected)


def test_ordered_children_give_ordinal_and_interval_alpha(scale):
    from test_reliability import exact_alpha

    # none < low < medium < high scored 1..4; ben's "several" is left out, so the unit
    # (medium, several) is no longer pairable
    pairs = [[2, 2], [4, 3], [1, 2]]
    for level in ("ordinal", "interval"):
        found = scale.category_reliability("intensity", ["amy", "ben"], level=level,
                                           metrics=["alpha"])
        assert found.results[0].value == pytest.approx(float(exact_alpha(pairs, level)))
        assert "left out as missing at this level" in found.warnings[0]
    with pytest.raises(StoreError) as info:
        scale.category_reliability("topic", ["amy", "ben"], level="ordinal")
    assert str(info.value) == ("code 'topic' does not declare its children ordered: add "
                               "'ordered: true' to it in the codebook (children lowest first) "
                               "for the ordinal statistics")
    with pytest.raises(StoreError, match="code 'low' has 0 child codes"):
        scale.category_ratings("low", ["amy", "ben"])


def test_ordered_is_kept_in_the_project_and_its_files(scale, tmp_path):
    book = scale.codebook()
    assert book.get("intensity").ordered and not book.get("topic").ordered
    assert scale.import_codebook(tmp_path / "book.yaml")[1] is False  # unchanged
    scale.update_code("low", name="Low intensity")  # an edit keeps the flag
    assert scale.codebook().get("intensity").ordered
    scale.export_codebook(tmp_path / "out.yaml")
    assert "ordered: true" in (tmp_path / "out.yaml").read_text()
    assert coding.load_codebook(tmp_path / "out.yaml").get("intensity").ordered
    (tmp_path / "bad.yaml").write_text(SCALE_BOOK.replace("ordered: true", "ordered: maybe"))
    with pytest.raises(coding.CodebookError) as info:
        coding.load_codebook(tmp_path / "bad.yaml")
    assert str(info.value) == (f"{tmp_path / 'bad.yaml'}:5: 'ordered' of code 'intensity' must "
                               "be true or false (true: its children are a scale, lowest "
                               "first), not 'maybe'")


def test_cli_agreement_categories(scale, tmp_path):
    import json

    db = scale.store.label
    result = CliRunner().invoke(main, ["agreement", db, "--coders", "amy", "ben",
                                       "--categories", "intensity", "--metric", "alpha",
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["value"] == pytest.approx(0.125)
    assert "1 of 5 coded units got several children" in result.stderr
    report = tmp_path / "intensity.md"
    result = CliRunner().invoke(main, ["agreement", db, "--coders", "amy", "ben",
                                       "--categories", "intensity", "--level", "ordinal",
                                       "--bootstrap", "1000", "--seed", "2", "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "Krippendorff's alpha (ordinal)" in result.output
    text = report.read_text()
    assert "Two coders (amy and ben) independently coded 6 sentences of participant turns in 2 " \
        "documents." in text and "1,000 bootstrap samples" in text
    misused = CliRunner().invoke(main, ["agreement", db, "--coders", "amy", "ben", "--level",
                                        "ordinal"])
    assert misused.exit_code == 2 and "--level goes with --categories" in misused.output
