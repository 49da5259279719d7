"""The xlsx writer: every value read back by openpyxl and pandas is the value written, text
that XML or Excel cannot hold is made safe, and large tables keep their rows in order."""

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
from defusedxml import ElementTree

from coding.interchange import xlsx
from coding.readers.sheets import undo_neutralise

AWKWARD_TEXT = [
    "plain", "  spaces kept  ", "line one\nline two", "<b>bold</b> & \"quoted\" 'text'",
    "=SUM(A1:A2)", "+44 7700", "-2+3", "@home", "\tTabbed", "bell\x07 and nul\x00 gone",
    "'=already marked", "'quoted' and plain", "emoji \U0001F600 and \u00e9\u0301", "not a character \uffff gone", "x" * 40_000, "",
]


def read_back(data, sheet=0):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return book, [list(row) for row in book.worksheets[sheet].values]


def test_text_is_escaped_neutralised_and_cut_at_excels_limit():
    frame = pd.DataFrame({"n": range(len(AWKWARD_TEXT)), "text": AWKWARD_TEXT})
    data = xlsx.workbook({"Quotes": frame})
    _, rows = read_back(data)
    assert rows[0] == ["n", "text"]
    assert [row[0] for row in rows[1:]] == list(range(len(AWKWARD_TEXT)))
    got = [row[1] for row in rows[1:]]
    assert got[:4] == AWKWARD_TEXT[:4]
    assert got[4:9] == ["'=SUM(A1:A2)", "'+44 7700", "'-2+3", "'@home", "'\tTabbed"]
    assert got[9] == "bell and nul gone"
    assert got[10:12] == ["''=already marked", "'quoted' and plain"]  # one more apostrophe
    assert [undo_neutralise(text) for text in got[4:12]] == AWKWARD_TEXT[4:9] + [
        "bell and nul gone", "'=already marked", "'quoted' and plain"]  # exactly undone
    assert got[12] == "emoji \U0001F600 and \u00e9\u0301"
    assert got[13] == "not a character  gone"
    assert got[14] == "x" * 32_767
    assert got[15] is None  # an empty string is an empty cell, as openpyxl writes it
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    root = ElementTree.fromstring(sheet_xml)  # well-formed XML
    assert b"<b>" not in sheet_xml and b"&lt;b&gt;bold" in sheet_xml
    assert not root.findall(".//{*}f")  # no formula anywhere


def test_numbers_booleans_missing_values_and_mixed_columns_keep_their_types():
    frame = pd.DataFrame({
        "int": [1, -2, 30_000_000_000],
        "float": [0.5, np.nan, np.inf],
        "nullable": pd.array([7, None, 9], dtype="Int64"),
        "flag": [True, False, True],
        "mixed": [42, "staff", None],
        "mixed flags": [True, 2.5, "no"],
        "when": pd.to_datetime(["2026-11-29 10:00:00", None, "2025-01-02 03:04:05"]),
    })
    _, rows = read_back(xlsx.workbook({"Cases": frame}))
    assert rows == [
        ["int", "float", "nullable", "flag", "mixed", "mixed flags", "when"],
        [1, 0.5, 7, True, 42, True, "2026-11-29 10:00:00"],
        [-2, None, None, False, "staff", 2.5, None],
        [30_000_000_000, None, 9, True, None, "no", "2025-01-02 03:04:05"],
    ]


def test_index_becomes_frozen_first_column_with_bold_header_and_widths():
    matrix = pd.DataFrame({"ann": [5, 6], "bo": [2, 0]},
                          index=pd.Index(["Alpha", "Beta"], name="code"))
    book, rows = read_back(xlsx.workbook({"Code x case: words/all": matrix,
                                          "Codebook": pd.DataFrame({"id": ["a"]})}))
    assert book.sheetnames == ["Code x case  words all", "Codebook"]
    assert rows == [["code", "ann", "bo"], ["Alpha", 5, 2], ["Beta", 6, 0]]
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "B2" and book.worksheets[1].freeze_panes == "A2"
    assert sheet["A1"].font.bold and not sheet["A2"].font.bold
    assert sheet.column_dimensions["A"].width == 8


def test_many_rows_span_chunks_in_order_and_read_back_with_pandas():
    count = xlsx.ROWS_PER_CHUNK * 2 + 7
    frame = pd.DataFrame({"n": np.arange(count), "quote": [f"quote {i}" for i in range(count)]})
    data = xlsx.workbook({"Codings": frame})
    back = pd.read_excel(io.BytesIO(data))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    last = list(sheet.iter_rows(min_row=count + 1, max_row=count + 1, values_only=True))
    assert last == [(count - 1, f"quote {count - 1}")]


def test_empty_table_is_a_header_only_sheet():
    _, rows = read_back(xlsx.workbook({"Codings": pd.DataFrame(columns=["a", "b"])}))
    assert rows == [["a", "b"]]


def test_duplicate_names_odd_headers_and_sheet_names_are_written_not_crashed():
    same_names = pd.DataFrame([[1, 2]], columns=["Other", "Other"],
                              index=pd.Index(["Other"], name="code"))
    index_like_column = pd.DataFrame({"code": [3]}, index=pd.Index(["ann"], name="code"))
    odd_header = pd.DataFrame({"age\x0bgroup": [40], "\U0001F600" * 20_000: ["x"]})
    book, rows = read_back(xlsx.workbook({"Co-occurrence": same_names,
                                          "Code x case": index_like_column,
                                          "bad\x01name " + "\U0001F600" * 40: odd_header}))
    assert rows == [["code", "Other", "Other"], ["Other", 1, 2]]
    assert [list(r) for r in book.worksheets[1].values] == [["code", "code"], ["ann", 3]]
    header = [list(r) for r in book.worksheets[2].values][0]
    assert header[0] == "agegroup" and len(header[1].encode("utf-16-le")) == 2 * 32_766
    name = book.sheetnames[2]
    assert name.startswith("badname ") and len(name.encode("utf-16-le")) <= 2 * 31


def test_carriage_returns_long_emoji_text_and_odd_objects_read_back_exactly():
    from decimal import Decimal

    frame = pd.DataFrame({
        "text": ["a\r\nb", "a\rb", "\rr", "\U0001F600" * 20_000, "ok"],
        "objects": [2**70, 2**53 + 1, Decimal("1.25"), np.timedelta64(5, "s"), "text"],
        "complex": [1 + 2j] * 5,
        "when": pd.to_datetime(["2024-03-01 12:00:00.123+01:00"] * 4 + [None], utc=True),
    })
    _, rows = read_back(xlsx.workbook({"S": frame}))
    texts = [row[0] for row in rows[1:]]
    assert texts[:3] == ["a\r\nb", "a\rb", "'\rr"] and texts[4] == "ok"
    assert len(texts[3].encode("utf-16-le")) == 2 * 32_766  # a whole emoji less than 32,767
    assert [row[1] for row in rows[1:]] == [2**70, 2**53 + 1, 1.25, "5 seconds", "text"]
    assert rows[1][2] == "(1+2j)"
    assert rows[1][3] == "2024-03-01 11:00:00.123+00:00" and rows[5][3] is None
