"""Use cases over a real SQLite project: dedup, cases, codings files, bad input changes nothing."""

import openpyxl
import pytest

from coding import CaseSheetError, CodingsFileError, StoreError

INTERVIEW = "Interviewer: What helped?\nAnn: The walking group helped. I trust them now.\n"


def write(path, content):
    path.write_text(content, encoding="utf-8")
    return path


def snapshot(project):
    """Counts plus every coding, to compare a project before and after a failed change."""
    frame = project.codings_frame(statuses=None)
    return project.summary() | {"codings_rows": frame.drop(columns="created_at").to_dict("records")}


def test_reingesting_identical_content_is_a_reported_no_op(project, tmp_path):
    first = write(tmp_path / "p01.txt", INTERVIEW)
    copy = tmp_path / "copy"
    copy.mkdir()  # the same file saved again with Windows line ends: the same text
    (copy / "p01.txt").write_bytes(INTERVIEW.replace("\n", "\r\n").encode("utf-8"))
    assert [r.status for r in project.ingest([first])] == ["added"]
    results = project.ingest([first, copy])
    assert [(r.status, r.document) for r in results] == [("duplicate", "p01.txt"),
                                                        ("duplicate", "p01.txt")]
    assert project.summary()["documents"] == 1


def test_the_same_text_under_another_name_is_its_own_document_and_said_so(project, tmp_path):
    """Two survey respondents who both answered "Not sure." are two documents (issue 13)."""
    write(tmp_path / "r01.txt", "Not sure.\n")
    write(tmp_path / "r02.txt", "Not sure.\n")
    first, second = project.ingest([tmp_path / "r01.txt", tmp_path / "r02.txt"])
    assert (first.status, first.warnings) == ("added", ())
    assert (second.status, second.document) == ("added", "r02.txt")
    assert second.warnings == ("'r02.txt' has the same text as 'r01.txt'; stored as a "
                               "document of its own",)
    assert [(d.name, d.case) for d in project.documents()] == [("r01.txt", "r01"),
                                                               ("r02.txt", "r02")]
    again = project.ingest([tmp_path / "r01.txt", tmp_path / "r02.txt"])
    assert [(r.status, r.document) for r in again] == [("duplicate", "r01.txt"),
                                                      ("duplicate", "r02.txt")]
    assert project.summary()["documents"] == 2


def test_another_text_under_a_taken_name_is_stored_under_a_free_name_and_said_so(
        project, tmp_path):
    write(tmp_path / "p01.txt", INTERVIEW)
    project.ingest([tmp_path / "p01.txt"])
    other = tmp_path / "other"
    other.mkdir()
    write(other / "p01.txt", "Interviewer: Another day?\nAnn: Another answer.\n")
    (result,) = project.ingest([other / "p01.txt"])
    assert (result.status, result.document) == ("added", "p01 (2).txt")
    assert result.warnings == (f"{other / 'p01.txt'}: another document is already named "
                               "'p01.txt' with other text; this one is stored as "
                               "'p01 (2).txt'",)


def test_folder_with_one_bad_file_ingests_the_good_ones(project, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.txt", INTERVIEW)
    (folder / "b.txt").write_bytes(b"")
    write(folder / "c.md", "**Interviewer:** Hi?\n**Bo:** Hello.\n")
    results = project.ingest([folder])
    assert [(r.status, r.error) for r in results] == [
        ("added", None), ("failed", f"{folder / 'b.txt'}: is empty (no text to code)"),
        ("added", None)]
    assert [d.name for d in project.documents()] == ["a.txt", "c.md"]


def test_case_sheet_links_files_with_typed_attributes(project, tmp_path):
    for name in ("p01_nurse.txt", "p02_carer.txt", "other.txt"):
        write(tmp_path / name, INTERVIEW.replace("Ann", name[:3].title()))
    sheet = write(tmp_path / "participants.csv",
                  "case_id,file,role,years_in_post,volunteer,interviewed\n"
                  "P01,p01_*.txt,staff,6,yes,2024-03-04\n"
                  "P02,p02_carer.txt,service user,,no,2024-03-06\n")
    results = project.ingest([tmp_path / n for n in ("p01_nurse.txt", "p02_carer.txt",
                                                     "other.txt")], cases=sheet)
    assert [r.case for r in results] == ["P01", "P02", "other"]
    cases = project.cases().set_index("case")
    assert cases.loc["P01", "years_in_post"] == 6 and cases.loc["P01", "volunteer"] == True  # noqa: E712
    assert cases.loc["P02", "role"] == "service user" and cases.loc["P02", "interviewed"] == "2024-03-06"
    assert cases.loc["other", "documents"] == 1


def test_sheet_imported_later_relinks_documents(project, tmp_path):
    write(tmp_path / "p01_nurse.txt", INTERVIEW)
    project.ingest([tmp_path / "p01_nurse.txt"])
    assert project.documents()[0].case == "p01_nurse"
    sheet = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Participant", "Role", "Years in post"])
    book.active.append(["P01", "staff", 6])
    book.save(sheet)
    assert project.import_cases(sheet) == 1
    assert project.documents()[0].case == "P01"  # no file column: id prefix of the file name
    assert project.cases()["case"].tolist() == ["P01"]  # the stem case is gone


def test_case_sheet_without_case_column_is_refused_and_nothing_changes(project, tmp_path):
    write(tmp_path / "p01.txt", INTERVIEW)
    project.ingest([tmp_path / "p01.txt"])
    before = snapshot(project)
    sheet = write(tmp_path / "bad.csv", "name,file,role\nAnn,p01.txt,staff\n")
    with pytest.raises(CaseSheetError) as info:
        project.ingest([tmp_path / "p01.txt"], cases=sheet)
    assert str(info.value) == (f"{sheet}:1: has no case id column (one of: case_id, case id, "
                               "case, participant_id, participant id); found columns: name, "
                               "file, role")
    assert snapshot(project) == before


def test_case_sheet_duplicate_ids_name_the_row(tmp_path, project):
    sheet = write(tmp_path / "dup.csv", "case,role\nP1,a\nP1,b\n")
    with pytest.raises(CaseSheetError, match=r"dup.csv:3: case 'P1' appears twice \(first on line 2\)"):
        project.import_cases(sheet)


@pytest.fixture
def interview(coded_project, tmp_path):
    coded_project.ingest([write(tmp_path / "p01.txt", INTERVIEW)])
    return coded_project


def test_codings_file_with_quotes_and_offsets(interview, tmp_path):
    text = interview.document_text("p01.txt")
    start = text.index("I trust")
    codings = write(tmp_path / "gold.csv",
                    "document,code,coder,quote,start,end,memo\n"
                    "p01.txt,community_connections,Aileen,The walking group helped.,,,\n"
                    f"p01.txt,relationships,Aileen,,{start},{start + 14},trust named\n"
                    "p01.txt,relationships,Aileen,“the  WALKING group”,,,\n")
    assert interview.import_codings(codings) == (3, 0)
    frame = interview.codings_frame()
    assert frame[["code", "quote", "coder", "status", "speaker", "role", "level_1"]].values.tolist() == [
        ["community_connections", "The walking group helped.", "Aileen", "manual", "Ann",
         "participant", "asset_features"],
        ["relationships", "The walking group", "Aileen", "manual", "Ann", "participant",
         "relationships"],
        ["relationships", "I trust them n", "Aileen", "manual", "Ann", "participant",
         "relationships"]]
    assert interview.memos()["text"].tolist() == ["trust named"]
    assert interview.import_codings(codings) == (0, 3)  # idempotent


def test_codings_file_rows_that_cannot_be_applied_are_all_named(interview, tmp_path):
    before = snapshot(interview)
    codings = write(tmp_path / "gold.csv",
                    "document,code,coder,quote\n"
                    "p01.txt,relationships,A,The walking group helped.\n"
                    "p01.txt,relationships,A,Words nobody said.\n"
                    "p09.txt,relationships,A,The walking group helped.\n"
                    "p01.txt,friendship,A,The walking group helped.\n")
    with pytest.raises(CodingsFileError) as info:
        interview.import_codings(codings)
    assert str(info.value).splitlines() == [
        "3 of 4 rows cannot be applied; nothing was imported:",
        f"{codings}:3: quote not found in p01.txt: \"Words nobody said.\"",
        f"{codings}:4: no document 'p09.txt' in the project",
        f"{codings}:5: no code 'friendship' in the codebook"]
    assert snapshot(interview) == before


def test_codings_file_from_xlsx(interview, tmp_path):
    path = tmp_path / "codings.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["document", "code", "coder", "quote"])
    book.active.append(["p01.txt", "relationships", "Bea", "I trust them now."])
    book.save(path)
    assert interview.import_codings(path) == (1, 0)
    assert interview.codings_frame()["coder"].tolist() == ["Bea"]


def test_codings_file_missing_columns(interview, tmp_path):
    path = write(tmp_path / "c.csv", "doc,code\nx,y\n")
    with pytest.raises(CodingsFileError) as info:
        interview.import_codings(path)
    assert str(info.value) == (f"{path}:1: needs columns document, code, coder and either quote "
                               "or start/end; found: doc, code")


def test_add_coding_checks_span_and_code(interview):
    coding_id = interview.add_coding("p01.txt", "relationships", 0, 11)
    assert interview.codings_frame()["coding_id"].tolist() == [coding_id]
    with pytest.raises(StoreError, match=r"span \[5, 999\) is outside 'p01.txt'"):
        interview.add_coding("p01.txt", "relationships", 5, 999)
    with pytest.raises(StoreError, match="no code 'nope'"):
        interview.add_coding("p01.txt", "nope", 0, 5)


def test_memos_attach_to_documents_cases_codes(interview):
    interview.add_memo("doc memo", "document", "p01.txt")
    interview.add_memo("code memo", "code", "relationships")
    memos = interview.memos()
    assert memos[["target_type", "text"]].values.tolist() == [["document", "doc memo"],
                                                              ["code", "code memo"]]
    with pytest.raises(StoreError, match="no case 'P99'"):
        interview.add_memo("x", "case", "P99")
