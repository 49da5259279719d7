"""Exploring the codings (issue 16, item 6): every quote of a selection, a page at a time; a
theme with its sub-codes' codings; counts rolled up the code tree, which shows full names; the
words each case or attribute value used (lemmas, no stop words) and a word cloud; memos under
their quotes (item 7). The API on a small project worked out by hand, the pages by AppTest."""

import html
import time

import coding
from coding.analysis.words import cloud_sizes, side_by_side, word_frequencies
from coding.ui.pages_codebook import rolled_up
from test_app import db, displayed, open_app, run, sample_db, stored, texts  # noqa: F401

BOOK = """
codes:
  - id: support
    name: Support
  - id: family
    name: Support from family
    parent: support
  - id: money
    name: Money
"""
ANN = ("Interviewer: Who helps?\n"
       "Ann: My sister supported me. My sisters support the garden, and the gardens grow.\n")
BO = "Interviewer: And you?\nBo: The council cut the money. Money was the worry.\n"


def small_project(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "people.csv").write_text("case,group\nann,carer\nbo,resident\n")
    (tmp_path / "ann.txt").write_text(ANN)
    (tmp_path / "bo.txt").write_text(BO)
    project = coding.init_project(tmp_path / "p.db", coder="tess")
    project.import_codebook(tmp_path / "book.yaml")
    project.ingest([tmp_path / "ann.txt", tmp_path / "bo.txt"], cases=tmp_path / "people.csv")
    for document, code, quote in (("ann.txt", "family", "My sister supported me."),
                                  ("bo.txt", "money", "The council cut the money.")):
        start = project.document_text(document).index(quote)
        project.add_coding(document, code, start, start + len(quote))
    return project


def test_words_by_case_are_lemmas_without_stop_words(tmp_path):
    """"supported" counts as "support", "sisters" as "sister"; "my", "me", "the", "and" and
    the interviewer's questions are not counted."""
    with small_project(tmp_path) as project:
        assert project.words(by="case").values.tolist() == [
            ["ann", "garden", 2, 285.7], ["ann", "sister", 2, 285.7],
            ["ann", "support", 2, 285.7], ["ann", "grow", 1, 142.9],
            ["bo", "money", 2, 400.0], ["bo", "council", 1, 200.0], ["bo", "cut", 1, 200.0],
            ["bo", "worry", 1, 200.0]]


def test_words_of_a_code_by_attribute_value(tmp_path):
    with small_project(tmp_path) as project:
        assert project.words(by="group", codes=["support", "family"]).values.tolist() == [
            ["carer", "sister", 1, 500.0], ["carer", "support", 1, 500.0]]
        assert project.words(by="group", codes=["money"], top=1).values.tolist() == [
            ["resident", "council", 1, 333.3]]


def test_word_tables_and_cloud_sizes():
    frequencies = word_frequencies({"a": ["x", "y", "x", "z", "x"], "b": ["y"]}, top=2)
    assert frequencies.values.tolist() == [["a", "x", 3, 600.0], ["a", "y", 1, 200.0],
                                           ["b", "y", 1, 1000.0]]
    table = side_by_side(frequencies)
    assert table.to_dict("list") == {"a": ["x (3)", "y (1)"], "b": ["y (1)", ""]}
    assert list(table.index) == [1, 2]
    assert cloud_sizes({"b": 1, "a": 4, "c": 9}) == {"a": 1.7, "b": 0.8, "c": 2.6}


def test_counts_roll_up_the_code_tree(tmp_path):
    with small_project(tmp_path) as project:
        counts = project.codings_frame()["code"].value_counts().to_dict()
        assert rolled_up(project.codebook(), counts) == {
            "support": (0, 1), "family": (1, 1), "money": (1, 1)}


# -- the pages ---------------------------------------------------------------------------------
def test_codebook_page_shows_the_tree_with_full_names_and_rolled_up_counts(db):
    at = open_app("Codebook")
    tree = at.html[0].value
    counts = stored(db)["code"].value_counts()
    themed = counts[[c for c in counts.index if c in (
        "person_centred", "empowering", "flexible_responsive", "sharing_power",
        "relationship_focused", "building_confidence", "creating_opportunities",
        "community_connections")]].sum()
    assert f'Asset-based features <span class="count">(0 codings, {themed} with its ' \
           'sub-codes)</span>' in tree
    assert f'Empowering and supportive <span class="count">({counts["empowering"]} ' \
           'codings)</span>' in tree
    assert tree.index("Asset-based features") < tree.index("Empowering and supportive")
    assert not at.expander  # no code blocks, no names cut to a line


def quotes(at, frame):
    """The quotes shown (not the memos under them)."""
    known = set(frame["quote"])
    return [t.value for t in at.text if t.value in known]


def test_quotes_of_a_theme_include_its_sub_codes_and_come_a_page_at_a_time(db):
    frame = stored(db)
    at = open_app("Themes")
    at = run(at.selectbox(key="quotes_code").set_value("asset_features"))
    themed = frame[frame["code_path"].str.startswith("asset_features/")]
    pages = -(-len(themed) // 20)
    assert f"{len(themed)} quotes · 1–20 shown, page 1 of {pages}" in texts(at)
    assert quotes(at, frame) == themed["quote"].tolist()[:20]
    at = run(at.number_input(key="quotes_page").set_value(pages))
    last = len(themed) - (pages - 1) * 20
    assert f"{len(themed)} quotes · {len(themed) - last + 1}–{len(themed)} shown, page " \
           f"{pages} of {pages}" in texts(at)
    assert quotes(at, frame) == themed["quote"].tolist()[-last:]
    at = run(at.toggle(key="quotes_children").set_value(False))
    assert "0 quotes" in texts(at)  # the theme itself has no codings of its own
    at = run(at.selectbox(key="quotes_code").set_value("empowering"))
    assert at.toggle(key="quotes_children").disabled  # a code without sub-codes
    assert f"{(frame['code'] == 'empowering').sum()} quotes" in texts(at)


def test_themes_words_tab_compares_values_and_draws_a_cloud(db):
    at = open_app("Themes")
    at = run(at.selectbox(key="words_by").set_value("role"))
    with coding.open_project(db) as project:
        expected = project.words(by="role", top=30)
    table = next(d.value for d in at.dataframe if list(d.value.columns) == list(
        dict.fromkeys(expected["group"])))
    first = expected[expected["group"] == expected["group"].iloc[0]]
    assert table.iloc[:, 0].tolist()[:len(first)] == [f"{w} ({n})" for w, n in
                                                      zip(first["word"], first["count"])]
    cloud = next(h.value for h in at.html if "word-cloud" in h.value)
    for word, count in zip(first["word"], first["count"]):  # every word, as text
        assert f'title="{count}">{html.escape(word)}</span>' in cloud
    at = run(at.selectbox(key="words_code").set_value("empowering"))
    with coding.open_project(db) as project:
        quoted = project.words(by="role", codes=["empowering"], top=30)
    assert next(h.value for h in at.html if "word-cloud" in h.value).count("<span") == len(
        quoted[quoted["group"] == quoted["group"].iloc[0]])


def test_themes_shows_memos_under_their_quotes_with_author_and_time(db):
    frame = stored(db)
    row = frame[frame["code"] == "empowering"].iloc[0]
    with coding.open_project(db, coder="Morag") as project:
        memo = project.add_memo("A clear case of <b>agency</b>", "coding", int(row["coding_id"]))
        time.sleep(0.01)  # an edit is an updated_at later than created_at
        project.update_memo(memo, "A clear case of <b>agency</b>, edited")
        created = project.memos().iloc[-1]["created_at"]
    at = open_app("Themes")
    at = run(at.selectbox(key="quotes_code").set_value("empowering"))
    from coding.ui.pages_themes import when
    assert f"Memo by Morag, {when(created)} (edited)" in [displayed(c.value)
                                                          for c in at.caption]
    assert "A clear case of <b>agency</b>, edited" in [t.value for t in at.text]
