"""Exports: the numbers in every written file equal the matrices worked out by hand for the
two-case fixture (see conftest.two_cases and test_analysis); text is made safe."""

import csv

import docx
import openpyxl
import pytest
from click.testing import CliRunner

import coding
from coding.interchange import exports
from coding.cli import main
from coding.interchange.report import write_report


def xlsx_rows(path, sheet=None):
    book = openpyxl.load_workbook(path)
    return [list(row) for row in (book[sheet] if sheet else book.worksheets[0]).values]


def test_code_by_case_in_every_format(two_cases, tmp_path):
    result = exports.tables(two_cases, "code-by-case", exports.Options(value="words"))
    assert list(result) == ["Code x case (words)", "Codebook", "Quotes"]
    for fmt in ("xlsx", "csv", "tex", "md", "png", "svg"):
        assert exports.write(result, tmp_path / f"m.{fmt}") == fmt
    assert xlsx_rows(tmp_path / "m.xlsx") == [["code", "ann", "bo"], ["Alpha", 5, 2],
                                              ["Beta", 6, 0]]
    book = openpyxl.load_workbook(tmp_path / "m.xlsx")
    assert book.sheetnames == ["Code x case (words)", "Codebook", "Quotes"]
    assert book.worksheets[0].freeze_panes == "B2"
    assert book.worksheets[0]["A1"].font.bold
    with open(tmp_path / "m.csv", newline="") as handle:
        assert list(csv.reader(handle)) == [["code", "ann", "bo"], ["Alpha", "5", "2"],
                                            ["Beta", "6", "0"]]
    latex = (tmp_path / "m.tex").read_text()
    assert "\\toprule" in latex and "\\bottomrule" in latex and "Alpha & 5 & 2 \\\\" in latex
    assert "code & ann & bo \\\\" in latex  # the corner names the rows, as in Markdown
    assert (tmp_path / "m.md").read_text().splitlines()[2] == "| Alpha | 5 | 2 |"
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "m.svg").read_bytes()[:500]
    assert b"<!-- Code x case (words) -->" in (tmp_path / "m.svg").read_bytes()  # its title
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_presence_percent_attribute_cooccurrence_and_framework(two_cases, tmp_path):
    def main_table(what, **options):
        result = exports.tables(two_cases, what, exports.Options(**options))
        exports.write(result, tmp_path / f"{what}.xlsx")
        return xlsx_rows(tmp_path / f"{what}.xlsx")

    assert main_table("code-by-case", value="presence")[1:] == [["Alpha", 1, 1], ["Beta", 1, 0]]
    assert main_table("code-by-case", value="percent")[1:] == [["Alpha", 55.56, 100],
                                                               ["Beta", 66.67, 0]]
    assert main_table("code-by-attribute", attribute="group") == [
        ["code", "service user (codings)", "staff (codings)", "service user (cases)",
         "staff (cases)"], ["Alpha", 1, 2, 1, 1], ["Beta", 0, 2, 0, 1]]
    assert main_table("cooccurrence")[1:] == [["Alpha", 2, 1], ["Beta", 1, 2]]
    assert main_table("cooccurrence", mode="overlap")[1:] == [["Alpha", 3, 1], ["Beta", 1, 2]]
    assert main_table("code-by-case", include_suggestions=True)[1:] == [["Alpha", 2, 1],
                                                                       ["Beta", 2, 1]]
    two_cases.set_framework_summary("ann", "b", "Ann counts <to nine>.")
    framework = main_table("framework", exemplars=1)
    assert framework[0] == ["case", "Alpha", "Beta"]
    ann = framework[1]
    assert ann[0] == "ann" and ann[2].startswith("Ann counts <to nine>.\n\u201csix seven")
    assert ann[1] == "\u201ctwo three. four five.\u201d (ann.txt, turn 1)"  # longest first
    codings = main_table("codings")  # the columns a reader scans and import-codings needs
    assert codings[0] == ["coding_id", "document", "case", "turn", "speaker", "code",
                          "code_path", "start", "end", "quote", "coder", "status", "memo"]
    assert [row[9] for row in codings[1:]] == ["one two three.", "two three. four five.",
                                               "four five.", "six seven eight nine.",
                                               "ten eleven."]
    assert openpyxl.load_workbook(tmp_path / "codings.xlsx").sheetnames == [
        "Codings", "Cases", "Codebook"]
    exports.write(exports.tables(two_cases, "codings"), tmp_path / "codings.csv")
    with open(tmp_path / "codings.csv", newline="") as handle:
        header = next(csv.reader(handle))  # csv gets the whole tidy frame, attributes too
    assert header[:7] == ["coding_id", "document", "case", "turn", "speaker", "role", "code"]
    assert "group" in header and "score" in header


def test_codings_spreadsheet_imports_back_into_another_project(two_cases, tmp_path):
    (tmp_path / "cy.txt").write_text("Interviewer: Hi.\nCy: -2+3 was it.\n"
                                     "Interviewer: Again?\nCy: Yes, -2+3 was it.\n"
                                     "Interviewer: Whose?\nCy: - the carers'\n"
                                     "Interviewer: Blank?\nCy: '-' for none.\n")
    two_cases.ingest([tmp_path / "cy.txt"])
    text = two_cases.document_text("cy.txt")
    second = text.rindex("-2+3 was it.")  # the quote's second occurrence, neutralised in xlsx
    two_cases.add_coding("cy.txt", "b", second, second + len("-2+3 was it."), coder="cy")
    carers = text.index("- the carers'")  # neutralised, and ends in an apostrophe itself
    coding_id = two_cases.add_coding("cy.txt", "a", carers, carers + len("- the carers'"),
                                     coder="cy")
    two_cases.add_memo("=Asked twice.", "coding", coding_id)  # neutralised in the xlsx
    two_cases.add_memo("Whose carers?", "coding", coding_id)
    dash = text.index("'-' for none.")  # starts with an apostrophe of its own
    dash_id = two_cases.add_coding("cy.txt", "b", dash, dash + len("'-' for none."), coder="cy")
    two_cases.add_memo("'+1 to this", "coding", dash_id)
    exports.write(exports.tables(two_cases, "codings"), tmp_path / "codings.xlsx")

    def spans(project):
        frame = project.codings_frame()
        return sorted(frame[["document", "code", "start", "end", "coder"]]
                      .itertuples(index=False, name=None))

    with coding.init_project(tmp_path / "copy.db", coder="someone else") as copy:
        copy.import_codebook(tmp_path / "book.yaml")
        copy.ingest([tmp_path / name for name in ("ann.txt", "bo.txt", "cy.txt")])
        assert copy.import_codings(tmp_path / "codings.xlsx") == (8, 0)
        assert spans(copy) == spans(two_cases)
        assert sorted(copy.memos()["text"]) == ["'+1 to this", "=Asked twice.\n\nWhose carers?"]
        assert copy.import_codings(tmp_path / "codings.xlsx") == (0, 8)
        # a start a little off still picks the nearest copy of a repeated quote
        first = text.index("-2+3 was it.")
        (tmp_path / "off.csv").write_text(
            f"document,code,coder,quote,start,end\ncy.txt,a,off,-2+3 was it.,{first + 2},\n")
        assert copy.import_codings(tmp_path / "off.csv") == (1, 0)
        assert ("cy.txt", "a", first, first + 12, "off") in spans(copy)


def test_spreadsheet_never_runs_transcript_text_as_a_formula(two_cases, tmp_path):
    (tmp_path / "cy.txt").write_text("Interviewer: Hi.\nCy: =HYPERLINK(\"http://x\",\"y\")\n"
                                     "Interviewer: And?\nCy: -2+3 and @home and +44\n")
    two_cases.ingest([tmp_path / "cy.txt"])
    text = two_cases.document_text("cy.txt")
    for quote in ('=HYPERLINK("http://x","y")', "-2+3 and @home and +44"):
        start = text.index(quote)
        two_cases.add_coding("cy.txt", "a", start, start + len(quote))
    exports.write(exports.tables(two_cases, "codings"), tmp_path / "c.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").worksheets[0]
    quotes = [row[9].value for row in sheet.iter_rows(min_row=2)]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in quotes and "'-2+3 and @home and +44" in quotes
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_docx_report_holds_counts_quotes_and_the_codebook(two_cases, tmp_path):
    assert write_report(two_cases, tmp_path / "r.docx", group="group", exemplars=2) == 2
    document = docx.Document(tmp_path / "r.docx")
    texts = [p.text for p in document.paragraphs]
    assert "Alpha" in texts and "Beta" in texts and "Appendix: codebook" in texts
    assert "\u201ctwo three. four five.\u201d" in texts  # Alpha's longest quote
    assert "\u2014 ann (group: staff); ann.txt, turn 1" in texts
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    assert tables[0] == [["group", "codings", "cases with the theme"],
                         ["service user", "1", "1 of 1"], ["staff", "2", "1 of 1"]]
    assert tables[1][2] == ["staff", "2", "1 of 1"] and tables[1][1] == ["service user", "0",
                                                                         "0 of 1"]


def test_cli_export_writes_files_and_explains_bad_requests(two_cases, tmp_path):
    db = two_cases.store.label
    run = CliRunner().invoke
    result = run(main, ["export", db, "code-by-case", "--value", "presence",
                        "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.csv").read_text().splitlines() == ["code,ann,bo", "Alpha,1,1",
                                                              "Beta,1,0"]
    result = run(main, ["export", db, "report", "--attribute", "group",
                        "-o", str(tmp_path / "r.docx")])
    assert result.exit_code == 0 and "Report on 2 themes" in result.output
    bad = run(main, ["export", db, "code-by-case", "-o", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and "unknown format for" in bad.output
    missing = run(main, ["export", db, "code-by-attribute", "--attribute", "age",
                         "-o", str(tmp_path / "a.csv")])
    assert missing.exit_code == 1 and "no case attribute 'age'" in missing.output
    assert "Traceback" not in bad.output + missing.output


@pytest.mark.parametrize("what", ["code-by-case", "framework"])
def test_an_empty_project_has_nothing_to_count(coded_project, tmp_path, what):
    with pytest.raises(exports.ExportError, match="no codings"):
        exports.tables(coded_project, what)
