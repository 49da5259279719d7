"""Word comments as codings: real .docx files written with python-docx, imported for real."""

import docx
import pytest
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn

from coding import CodingsFileError, StoreError
from coding.project.word_comments import import_word_comments
from coding.readers.word_comments import CommentCoding, read_comment_codings, split_code_names

W14_PARA_ID = "{http://schemas.microsoft.com/office/word/2010/wordml}paraId"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"


def speech(doc, speaker, *pieces):
    """A paragraph like data_samples' .docx transcripts: a bold "Name:" run, then text runs."""
    paragraph = doc.add_paragraph()
    if speaker:
        paragraph.add_run(f"{speaker}:").bold = True
    runs = [paragraph.add_run(piece) for piece in pieces]
    return paragraph, runs


def coded_transcript(path):
    """A transcript coded in Word the ways teams do: a phrase, runs, paragraphs, a table."""
    doc = docx.Document()
    doc.add_heading("Interview 03 – walking group member", level=1)
    speech(doc, "Interviewer", " What did the walking group give you?")
    _, runs = speech(doc, "Ann", " At first I was nervous. ", "They believed in me",
                     ", and now I lead the group myself.")
    doc.add_comment(runs[1], text="empowering", author="Aileen Murray", initials="AM")
    _, runs = speech(doc, "Ann", " I met ", "people", " I ", "trust", " now.")
    doc.add_comment(runs, text="Code: Relationships", author="Bea Scott", initials="BS")
    _, first = speech(doc, "Ann", " We started with short walks.")
    _, second = speech(doc, None, "Then longer ones, and I felt stronger.")
    doc.add_comment([first[0], second[0]], text="Empowering; building confidence",
                    author="Aileen Murray", initials="AM")
    speech(doc, "Interviewer", " And the staff?")
    paragraph, _ = speech(doc, "Ann", " The staff treat you like a person, not a problem.")
    doc.add_comment(paragraph.runs, text="person centred", author="", initials="")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Speaker", "Note"
    table.cell(1, 0).text, table.cell(1, 1).text = "Ann", "I’d go back every week."
    doc.add_comment(table.cell(1, 1).paragraphs[0].runs,
                    text="Creating opportunities and possibilities", author="Bea Scott")
    doc.save(path)
    return path


TRANSCRIPT_QUOTES = [  # (code, quote, coder) in document order, as codings_frame shows them
    ("empowering", "They believed in me", "Aileen Murray"),
    ("relationships", "I met people I trust now.", "Bea Scott"),
    ("empowering", "We started with short walks.\nThen longer ones, and I felt stronger.",
     "Aileen Murray"),
    ("building_confidence",
     "We started with short walks.\nThen longer ones, and I felt stronger.", "Aileen Murray"),
    ("person_centred", "The staff treat you like a person, not a problem.", "tester"),
    ("creating_opportunities", "I’d go back every week.", "Bea Scott"),
]


def stored_rows(project):
    frame = project.codings_frame(statuses=None).sort_values(["start", "coding_id"])
    return frame[["document", "code", "quote", "coder", "origin", "status"]].values.tolist()


def test_comment_codings_read_anchored_text_across_runs_paragraphs_and_cells(tmp_path):
    path = coded_transcript(tmp_path / "p03_coded.docx")
    items = read_comment_codings(path)
    assert [(i.comment_id, i.code, i.quote, i.author, i.paragraph) for i in items] == [
        (0, "empowering", "They believed in me", "Aileen Murray", 2),
        (1, "Relationships", " I met people I trust now.", "Bea Scott", 3),
        (2, "Empowering", " We started with short walks.\nThen longer ones, and I felt stronger.",
         "Aileen Murray", 4),
        (2, "building confidence",
         " We started with short walks.\nThen longer ones, and I felt stronger.",
         "Aileen Murray", 4),
        (3, "person centred", "Ann: The staff treat you like a person, not a problem.", "", 7),
        (4, "Creating opportunities and possibilities", "I’d go back every week.", "Bea Scott",
         9)]
    assert items[0] == CommentCoding(
        comment_id=0, code="empowering", quote="They believed in me", author="Aileen Murray",
        comment="empowering", paragraph=2, position=items[0].position)
    text = coding_text(path)
    assert text[items[0].position:].startswith("They believed in me")
    assert text[items[4].position:].startswith("Ann: The staff")
    assert text[items[5].position:].startswith("Ann | I’d go back")  # a table row's start


def coding_text(path):
    from coding import ingest_file

    return ingest_file(path).text


def test_word_comments_import_stores_each_code_on_its_quote(coded_project, tmp_path):
    path = coded_transcript(tmp_path / "p03_coded.docx")
    assert import_word_comments(coded_project, path) == (6, 0, "p03_coded.docx")
    assert stored_rows(coded_project) == [
        ["p03_coded.docx", code, quote, coder, "word-comment", "manual"]
        for code, quote, coder in TRANSCRIPT_QUOTES]
    frame = coded_project.codings_frame().sort_values("start")
    assert frame["speaker"].tolist() == ["Ann"] * 6  # the label is not part of any span
    assert [d.name for d in coded_project.documents()] == ["p03_coded.docx"]
    event = coded_project.events().iloc[-1]
    assert (event["action"], event["detail"]["added"]) == ("import_word_comments", 6)


def test_word_comments_import_twice_adds_nothing(coded_project, tmp_path):
    path = coded_transcript(tmp_path / "p03_coded.docx")
    assert import_word_comments(coded_project, path) == (6, 0, "p03_coded.docx")
    assert import_word_comments(coded_project, path) == (0, 6, "p03_coded.docx")
    assert len(coded_project.codings_frame()) == 6
    assert coded_project.summary()["documents"] == 1


def test_word_comments_on_a_transcript_already_ingested_use_that_document(coded_project,
                                                                          tmp_path):
    path = coded_transcript(tmp_path / "p03_coded.docx")
    coded_project.ingest([path])
    copy = tmp_path / "copy of p03.docx"
    copy.write_bytes(path.read_bytes())
    assert import_word_comments(coded_project, copy, status="accepted") == (
        6, 0, "p03_coded.docx")
    assert set(coded_project.codings_frame()["status"]) == {"accepted"}
    assert coded_project.summary()["documents"] == 1


def test_word_comment_on_a_repeated_phrase_codes_the_marked_one(coded_project, tmp_path):
    doc = docx.Document()
    speech(doc, "Interviewer", " How was it?")
    speech(doc, "Ann", " I trust them. It was hard at first.")
    speech(doc, "Interviewer", " And now?")
    _, runs = speech(doc, "Ann", " Now? ", "I trust them", ".")
    doc.add_comment(runs[1], text="relationships", author="Bea")
    path = tmp_path / "repeat.docx"
    doc.save(path)
    import_word_comments(coded_project, path)
    text = coded_project.document_text("repeat.docx")
    frame = coded_project.codings_frame()
    assert frame[["quote", "start"]].values.tolist() == [["I trust them",
                                                          text.rindex("I trust them")]]
    assert frame["turn"].tolist() == [3]


def test_word_comment_across_two_cells_reads_as_the_table_row(coded_project, tmp_path):
    doc = docx.Document()
    speech(doc, "Interviewer", " Tell me about the notes.")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Volunteers", "lead the walks now"
    doc.add_comment([table.cell(0, 0).paragraphs[0].runs[0],
                     table.cell(0, 1).paragraphs[0].runs[0]], text="leadership", author="Bea")
    path = tmp_path / "table.docx"
    doc.save(path)
    assert [i.quote for i in read_comment_codings(path)] == ["Volunteers | lead the walks now"]
    assert import_word_comments(coded_project, path) == (1, 0, "table.docx")
    assert stored_rows(coded_project) == [["table.docx", "leadership",
                                           "Volunteers | lead the walks now", "Bea",
                                           "word-comment", "manual"]]


def test_word_comment_replies_are_discussion_not_codes(coded_project, tmp_path):
    doc = docx.Document()
    _, runs = speech(doc, "Ann", " The volunteers ", "made me welcome", ".")
    parent = doc.add_comment(runs[1], text="relationships", author="Aileen")
    reply = doc.add_comment(runs[1], text="Agreed - maybe trust too?", author="Bea")
    mark_reply(doc, parent, reply)
    path = tmp_path / "replies.docx"
    doc.save(path)
    assert [(i.comment_id, i.code) for i in read_comment_codings(path)] == [
        (0, "relationships")]
    assert import_word_comments(coded_project, path) == (1, 0, "replies.docx")


def mark_reply(doc, parent, reply):
    """What Word writes for a threaded reply: each comment's last paragraph gets a w14:paraId,
    and word/commentsExtended.xml links the reply's paraId to its parent's."""
    for comment, para_id in ((parent, "1A2B3C01"), (reply, "1A2B3C02")):
        comment._comment_elm.findall(qn("w:p"))[-1].set(W14_PARA_ID, para_id)
    blob = (f'<w15:commentsEx xmlns:w15="{W15}">'
            '<w15:commentEx w15:paraId="1A2B3C01" w15:done="0"/>'
            '<w15:commentEx w15:paraId="1A2B3C02" w15:paraIdParent="1A2B3C01" w15:done="0"/>'
            '</w15:commentsEx>').encode()
    part = Part(PackURI("/word/commentsExtended.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml"
                ".commentsExtended+xml", blob, doc.part.package)
    doc.part.relate_to(part, "http://schemas.microsoft.com/office/2011/relationships/"
                             "commentsExtended")


def test_word_comments_that_cannot_be_applied_are_all_named(coded_project, tmp_path):
    doc = docx.Document()
    speech(doc, "Interviewer", " What helped?")
    _, runs = speech(doc, "Ann", " ", "The walking group helped.", " ", "I trust them now.")
    doc.add_comment(runs[1], text="empowering", author="Aileen")
    doc.add_comment(runs[3], text="Resilience; building confidence", author="Aileen")
    doc.add_comment(runs[1], text="Relationship", author="Bea")
    doc.add_comment(runs[3], text="  \n ", author="Bea")
    path = tmp_path / "p04_coded.docx"
    doc.save(path)
    before = coded_project.summary()
    with pytest.raises(CodingsFileError) as info:
        import_word_comments(coded_project, path)
    assert str(info.value).splitlines() == [
        f"{path}: 3 of 4 comments cannot be applied; nothing was imported:",
        '  comment 1 ("Resilience; building confidence"): no code "Resilience" in the codebook',
        '  comment 2 ("Relationship"): no code "Relationship" in the codebook; did you mean '
        '"relationships"?',
        '  comment 3 (""): names no code']
    assert coded_project.summary() == before  # not even the transcript was stored
    assert coded_project.summary()["documents"] == 0


def test_word_comment_that_marks_no_body_text_is_named(coded_project, tmp_path):
    doc = docx.Document()
    _, runs = speech(doc, "Ann", " The walking group helped.")
    doc.add_comment(runs[0], text="relationships", author="Aileen")
    for marker in doc.element.body.xpath("//w:commentRangeStart | //w:commentRangeEnd"):
        marker.getparent().remove(marker)  # as when the marked text sits in a footnote
    path = tmp_path / "unanchored.docx"
    doc.save(path)
    assert [(i.code, i.quote, i.paragraph, i.position) for i in read_comment_codings(path)] == [
        ("relationships", "", None, None)]
    with pytest.raises(CodingsFileError) as info:
        import_word_comments(coded_project, path)
    assert str(info.value).splitlines()[1:] == [
        '  comment 0 ("relationships"): marks no text of the transcript (is it on a header, a '
        "footnote or a text box?)"]


def test_word_comments_need_a_codebook(project, tmp_path):
    path = coded_transcript(tmp_path / "p03_coded.docx")
    with pytest.raises(StoreError) as info:
        import_word_comments(project, path)
    assert str(info.value) == (f"{tmp_path / 'study.db'}: has no codebook yet; import one with "
                               "`coding codebook import`")
    assert project.summary()["documents"] == 0


def test_word_comment_first_words_are_shortened(coded_project, tmp_path):
    doc = docx.Document()
    _, runs = speech(doc, "Ann", " The walking group helped.")
    doc.add_comment(runs[0], text="This passage is about feeling at home in the group, "
                                  "check with Bea", author="Aileen")
    path = tmp_path / "note.docx"
    doc.save(path)
    with pytest.raises(CodingsFileError) as info:
        import_word_comments(coded_project, path)
    assert str(info.value).splitlines()[1] == (
        '  comment 0 ("This passage is about feeling at home in...")'
        ': no code "This passage is about feeling at home in the group, check with Bea" in '
        "the codebook")


def test_docx_without_comments_is_refused_with_its_name(coded_project, tmp_path):
    doc = docx.Document()
    speech(doc, "Ann", " The walking group helped.")
    path = tmp_path / "plain.docx"
    doc.save(path)
    with pytest.raises(CodingsFileError) as info:
        import_word_comments(coded_project, path)
    assert str(info.value) == (f"{path}: has no Word comments to import; in Word, select a "
                               "passage and add a comment (Review > New Comment) naming its "
                               "code")
    assert coded_project.summary()["documents"] == 0


def test_truncated_docx_is_refused_with_its_name(coded_project, tmp_path):
    whole = coded_transcript(tmp_path / "whole.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(CodingsFileError) as info:
        import_word_comments(coded_project, path)
    assert str(info.value).startswith(f"{path}: is not a readable .docx (damaged or truncated "
                                      "zip: ")
    assert coded_project.summary()["documents"] == 0


def test_word_comments_from_a_doc_file_are_refused(tmp_path):
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0 not a docx")
    with pytest.raises(CodingsFileError) as info:
        read_comment_codings(path)
    assert str(info.value) == (f"{path}: Word comments are read from .docx files, not '.doc'; "
                               "save it as a Word Document (.docx)")


def test_comment_text_rule_splits_on_semicolons_and_lines():
    assert split_code_names("Code: Empowering") == ["Empowering"]
    assert split_code_names("Empowering; building confidence") == ["Empowering",
                                                                   "building confidence"]
    assert split_code_names("codes: trust\nCODE:  person   centred;empowering; Trust") == [
        "trust", "person centred", "empowering"]
    assert split_code_names("Flexible, sensitive and responsive") == [
        "Flexible, sensitive and responsive"]
    assert split_code_names(" ; \n") == []
