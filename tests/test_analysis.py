"""Theme matrices against values worked out by hand for a two-case fixture."""

import pandas as pd

from coding.analysis import matrices as analysis
from coding.ui.render import highlight, transcript_table


def test_code_by_case_counts_presence_words_and_percent(two_cases):
    project = two_cases
    frame, book = project.codings_frame(), project.codebook()
    cases = ["ann", "bo"]
    count = analysis.code_by_case(frame, "count", cases, codebook=book)
    assert count.loc["a"].tolist() == [2, 1] and count.loc["b"].tolist() == [2, 0]
    presence = analysis.code_by_case(frame, "presence", cases, codebook=book)
    assert presence.values.tolist() == [[1, 1], [1, 0]]
    words = analysis.code_by_case(frame, "words", cases, codebook=book)
    assert words.values.tolist() == [[5, 2], [6, 0]]  # overlapping a-codings count once
    assert project.case_words() == {"ann": 9, "bo": 2}
    percent = analysis.code_by_case(frame, "percent", cases, project.case_words(), book)
    assert percent.values.tolist() == [[55.56, 100.0], [66.67, 0.0]]
    with_suggestions = project.codings_frame(statuses=None)
    assert analysis.code_by_case(with_suggestions, "count", cases).loc["b", "bo"] == 1


def test_code_by_attribute_and_cooccurrence(two_cases):
    frame, book = two_cases.codings_frame(), two_cases.codebook()
    codings, cases = analysis.code_by_attribute(frame, "group", book)
    assert codings.loc["a", "staff"] == 2 and codings.loc["a", "service user"] == 1
    assert codings.loc["b", "staff"] == 2 and codings.loc["b", "service user"] == 0
    assert cases.loc["a"].to_dict() == {"service user": 1, "staff": 1}
    assert cases.loc["b"].to_dict() == {"service user": 0, "staff": 1}
    values = analysis.attribute_values(two_cases.cases(), "group")
    assert values == ["service user", "staff"]
    codings, cases = analysis.code_by_attribute(frame, "group", book, ["manager", *values])
    assert list(codings.columns) == ["manager", "service user", "staff"]
    assert codings["manager"].tolist() == [0, 0] and cases["manager"].tolist() == [0, 0]
    assert analysis.attribute_values(pd.DataFrame({"age": [40, None, 40, 3, 11.5]}), "age") == [
        "3", "11.5", "40", "(missing)"]
    by_turn = analysis.cooccurrence(frame, "turn", book)
    assert by_turn.values.tolist() == [[2, 1], [1, 2]]
    by_overlap = analysis.cooccurrence(frame, "overlap", book)
    assert by_overlap.values.tolist() == [[3, 1], [1, 2]]
    quotes = analysis.quotes_for(frame, code="b", case="ann")
    assert quotes["quote"].tolist() == ["four five.", "six seven eight nine."]
    assert analysis.quotes_for(frame, attribute="group", value="service user")[
        "quote"].tolist() == ["ten eleven."]
    frequencies = analysis.code_frequencies(frame, book)
    assert frequencies[["code", "codings", "documents", "cases"]].values.tolist() == [
        ["a", 3, 2, 2], ["b", 2, 1, 1]]


def test_transcript_html_is_escaped_and_highlighted():
    text = 'I typed <script>alert("x")</script> & <b>bold</b>'
    span = (100 + text.index("<script>"), 100 + text.index("</script>") + len("</script>"))
    html = highlight(text, 100, [(*span, "a", False)], {"a": "#fde68a"})
    assert "<script>" not in html and "<b>" not in html
    assert '">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</mark>' in html
    assert html.count("<mark") == 1 and "background:#fde68a" in html
    turns = [{"seq": 0, "speaker": "<i>Ann</i>", "role": "participant", "start": 100,
              "end": 100 + len(text), "text": text}]
    table = transcript_table(turns, [{"start": span[0], "end": span[1], "code": "a",
                                      "status": "accepted"}], {"a": "#fde68a"},
                             {"a": "Alpha <script>"})
    assert "<i>" not in table and "&lt;i&gt;Ann&lt;/i&gt;" in table
    assert "Alpha &lt;script&gt;" in table  # code names are escaped too
