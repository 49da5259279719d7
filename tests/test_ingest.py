"""Each format gives the right turns, speakers, roles, times and offsets (asserted as slices)."""

import docx
import pytest

from coding import SpeakerRules, TranscriptError, ingest_file


def spoken(document):
    """(speaker, role, text) per turn, read back through the offsets."""
    return [(t.speaker, t.role, document.text[t.start:t.end]) for t in document.turns]


def test_txt_labels_give_turns_and_roles(tmp_path):
    path = tmp_path / "p01.txt"
    path.write_text("Interview 1, March\n\nInterviewer: How did it start?\n\n"
                    "Morag: It started with a walk.\nThen a second one.\n\n"
                    "INT: And then?\nP01: More walks.\n", encoding="utf-8")
    document = ingest_file(path)
    assert spoken(document) == [
        ("Interviewer", "interviewer", "How did it start?"),
        ("Morag", "participant", "It started with a walk.\nThen a second one."),
        ("INT", "interviewer", "And then?"),
        ("P01", "participant", "More walks."),
    ]
    assert document.format == "txt" and document.metadata["encoding"] == "utf-8"


def test_tab_separated_labels_as_word_tables_save_them(tmp_path):
    path = tmp_path / "p05.txt"
    path.write_text("Carers study, P05\nDate\t18 March 2024\nInterviewer\tThanks for coming.\n"
                    "Isobel\tYes, of course.\tI look after Bill.\n"
                    "[00:03:12]\tInterviewer\tAnd then?\nIsobel\tThen the cafe.\n",
                    encoding="utf-8")
    assert spoken(ingest_file(path)) == [  # "Date" labels one line: header text, not a speaker
        ("Interviewer", "interviewer", "Thanks for coming."),
        ("Isobel", "participant", "Yes, of course.\tI look after Bill."),
        ("Interviewer", "interviewer", "And then?"),
        ("Isobel", "participant", "Then the cafe."),
    ]


def test_tab_separated_table_rows_in_an_essay_are_not_speakers(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("The service opened in 2019.\n\nStaff numbers rose.\n\n"
                    "Table 1\t2019\t2020\nStaff\t12\t18\nStaff\t13\t19\n\nThe end.\n",
                    encoding="utf-8")
    assert [speaker for speaker, _, _ in spoken(ingest_file(path))] == [None] * 4


def test_crlf_and_bom_are_normalised_and_offsets_count_code_points(tmp_path):
    path = tmp_path / "p02.txt"
    text = "Interviewer: Caf\u00e9 or tea?\r\nR: Tea \u2013 always \U0001F600 tea.\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    document = ingest_file(path)
    assert "\r" not in document.text and "\ufeff" not in document.text
    assert spoken(document)[1] == ("R", "participant", "Tea \u2013 always \U0001F600 tea.")
    emoji = document.text.index("\U0001F600")
    assert document.text[emoji:emoji + 1] == "\U0001F600"  # one code point, not two


def test_nfc_normalisation_makes_combining_accents_one_code_point(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Interviewer: Cafe\u0301?\nAnna: Yes.\n", encoding="utf-8")
    assert spoken(ingest_file(path))[0][2] == "Caf\u00e9?"


def test_cp1252_text_is_detected(tmp_path):
    path = tmp_path / "p04.txt"
    text = ("[00:03:12] I: How much did the caf\u00e9 cost?\n"
            "[00:03:40] P: About \u00a33 \u2013 \u201ccheap\u201d, they said, and it\u2019s "
            "where I met everyone in the group for the first time.\n")
    path.write_bytes(text.encode("cp1252"))
    document = ingest_file(path)
    assert document.metadata["encoding"] == "cp1252"
    assert [(t.speaker, t.role, t.time_start) for t in document.turns] == [
        ("I", "interviewer", 192.0), ("P", "participant", 220.0)]
    assert spoken(document)[1][2].startswith("About \u00a33 \u2013 \u201ccheap\u201d")


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes("Interviewer: Hello?\nJo: Hi there.\n".encode("utf-16"))
    document = ingest_file(path)
    assert spoken(document)[1] == ("Jo", "participant", "Hi there.")
    assert document.metadata["encoding"] == "utf-16"


def test_markdown_bold_labels(tmp_path):
    path = tmp_path / "p06.md"
    path.write_text("# Peer support\n\n**Interviewer:** Why volunteer?\n\n"
                    "**Davie:** Because somebody did it for me.\n", encoding="utf-8")
    assert spoken(ingest_file(path)) == [
        ("Interviewer", "interviewer", "Why volunteer?"),
        ("Davie", "participant", "Because somebody did it for me.")]


def test_bracketed_labels_and_transcriber_notes(shared):
    document = ingest_file(shared / "samples/transcripts/qualcoder_transcript.txt")
    speakers = [t.speaker for t in document.turns]
    assert speakers[:3] == ["id1", "id2", "id3"] and set(speakers) == {"id1", "id2", "id3"}
    assert spoken(document)[1][2].startswith("I am struggling with the lecture slides.")


def test_laughs_in_brackets_is_not_a_speaker(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Interviewer: Was it fun?\nAnn: Oh yes.\n[laughs] It really was.\n")
    assert spoken(ingest_file(path))[1] == ("Ann", "participant",
                                            "Oh yes.\n[laughs] It really was.")


def test_label_alone_on_its_line_starts_turn_below(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("INTERVIEWER:\nWhat helped?\n\nRESPONDENT:\nThe group.\n")
    assert spoken(ingest_file(path)) == [("INTERVIEWER", "interviewer", "What helped?"),
                                         ("RESPONDENT", "participant", "The group.")]


def test_document_without_speakers_has_one_turn_per_paragraph(tmp_path):
    path = tmp_path / "policy.txt"
    path.write_text("First paragraph about assets.\nStill the first.\n\nSecond one.\n")
    assert spoken(ingest_file(path)) == [
        (None, "participant", "First paragraph about assets.\nStill the first."),
        (None, "participant", "Second one.")]


def test_role_map_and_patterns_are_configurable(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Researcher: What helped?\n>> Ann << The group.\n")
    rules = SpeakerRules.from_settings({"roles": {"Researcher": "interviewer"},
                                        "speaker_patterns": [r">> (?P<speaker>\w+) << "]})
    assert spoken(ingest_file(path, rules)) == [("Researcher", "interviewer", "What helped?"),
                                                ("Ann", "participant", "The group.")]


def write_docx(path, build):
    document = docx.Document()
    build(document)
    document.save(path)
    return path


def test_docx_bold_labels_tables_and_headings_in_body_order(tmp_path):
    def build(document):
        document.add_heading("Interview 5", level=1)
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Participant", "Isobel"
        table.cell(1, 0).text, table.cell(1, 1).text = "Date", "18 March"
        for speaker, words in [("Interviewer", "\tHow are you?"), ("Isobel", "\tTired, but ok.")]:
            paragraph = document.add_paragraph()
            paragraph.add_run(speaker).bold = True
            paragraph.add_run(words)
        document.add_paragraph("And a second paragraph.")
        grid = document.add_table(rows=1, cols=2)
        grid.cell(0, 0).text, grid.cell(0, 1).text = "Monday", "Walking group"
        paragraph = document.add_paragraph()
        paragraph.add_run("Interviewer: ").bold = True
        paragraph.add_run("Thanks.")
        document.add_paragraph("Q: Plain label?")

    document = ingest_file(write_docx(tmp_path / "p05.docx", build))
    assert document.text.split("\n")[:3] == ["Interview 5", "Participant | Isobel",
                                             "Date | 18 March"]
    assert spoken(document) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Isobel", "participant", "Tired, but ok.\nAnd a second paragraph.\nMonday | Walking group"),
        ("Interviewer", "interviewer", "Thanks."),
        ("Q", "interviewer", "Plain label?"),
    ]


def test_docx_heading_is_not_speech(tmp_path):
    def build(document):
        document.add_paragraph("Q: First?")
        document.add_paragraph("A: Answer.")
        document.add_heading("Section 3: Leadership", level=2)
        document.add_paragraph("Q: Next?")

    document = ingest_file(write_docx(tmp_path / "p07.docx", build))
    assert spoken(document) == [("Q", "interviewer", "First?"), ("A", "participant", "Answer."),
                                ("Q", "interviewer", "Next?")]


VTT = """WEBVTT

NOTE made by an auto-captioner

1
00:00:03.120 --> 00:00:07.880
<v Interviewer>How did you find the group?

2
00:00:08.000 --> 00:00:11.500
<v Jean>Nervous at first &amp; then

00:00:11.500 --> 00:00:14.250
<v Jean>I made <i>friends</i>.</v>

00:00:15.000 --> 00:00:16.000
<v Interviewer>Great.
"""


def test_vtt_voice_tags_merge_cues_and_keep_times(tmp_path):
    path = tmp_path / "p03.vtt"
    path.write_text(VTT, encoding="utf-8")
    document = ingest_file(path)
    assert spoken(document) == [("Interviewer", "interviewer", "How did you find the group?"),
                                ("Jean", "participant", "Nervous at first & then I made friends."),
                                ("Interviewer", "interviewer", "Great.")]
    assert [(t.time_start, t.time_end) for t in document.turns] == [
        (3.12, 7.88), (8.0, 14.25), (15.0, 16.0)]


def test_vtt_name_prefixes_and_srt(tmp_path):
    srt = ("1\r\n00:00:01,200 --> 00:00:05,900\r\nInterviewer: What do you do?\r\n\r\n"
           "2\r\n00:00:06,000 --> 00:00:09,000\r\nTom: District nursing,\r\nmostly.\r\n\r\n"
           "3\r\n00:00:09,000 --> 00:00:12,500\r\nand some clinics.\r\n")
    path = tmp_path / "p12.srt"
    path.write_bytes(srt.encode("utf-8"))
    document = ingest_file(path)
    assert spoken(document) == [("Interviewer", "interviewer", "What do you do?"),
                                ("Tom", "participant", "District nursing, mostly. and some clinics.")]
    assert (document.turns[1].time_start, document.turns[1].time_end) == (6.0, 12.5)


def test_real_vtt_with_bom_and_no_speakers(shared):
    document = ingest_file(shared / "samples/transcripts/webvttpy_captions_with_bom.vtt")
    assert [document.text[t.start:t.end] for t in document.turns][:2] == ["Caption text #1",
                                                                         "Caption text #2"]
    assert document.turns[0].time_start == 0.5 and document.turns[0].time_end == 7.0


def test_real_srt_in_cp1252_with_crlf(shared):
    document = ingest_file(shared / "samples/transcripts/pysrt_windows-1252.srt")
    assert document.metadata["encoding"] == "cp1252"
    assert "\u00c9V\u00c9NEMENTS" in document.text and "\r" not in document.text


def minimal_pdf(lines):
    """A one-page PDF with a text layer, written by hand (no PDF writer dependency)."""
    stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               "/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = "%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


def test_pdf_text_layer(tmp_path):
    path = tmp_path / "p.pdf"
    path.write_bytes(minimal_pdf(["Interviewer: What helped?", "Ann: The walking group."]))
    assert spoken(ingest_file(path)) == [("Interviewer", "interviewer", "What helped?"),
                                         ("Ann", "participant", "The walking group.")]


def test_same_content_gives_same_hash_whatever_the_encoding(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes("Interviewer: Caf\u00e9?\nJo: Yes.\n".encode("utf-8"))
    b.write_bytes("Interviewer: Caf\u00e9?\r\nJo: Yes.\r\n".encode("cp1252"))
    assert ingest_file(a).sha256 == ingest_file(b).sha256


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "is empty (no text to code)"),
    ("blank.txt", b"  \n\t\n", "is empty (no text to code)"),
    ("nul.txt", b"Interviewer: hi\x00there\nA: x\n", "contains NUL bytes"),
    ("garbage.txt", bytes(range(256)) * 20, "binary"),
    ("renamed.txt", b"PK\x03\x04" + b"\x00" * 40, "is a zip archive (a .docx?) saved with a "
                                                 "text extension"),
    ("notes.rtf", b"{\\rtf1 hello}", "unsupported file type '.rtf'"),
    ("broken.docx", b"PK\x03\x04 truncated", "is not a readable .docx"),
    ("plain.docx", b"Interviewer: not a zip\n", "is not a readable .docx"),
    ("bad.vtt", b"WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nhi\n", "holds no VTT cues"),
    ("bad.pdf", b"%PDF-1.4 garbage", "is not a readable PDF"),
    ("odd.txt", b"\xff\xfeI\x00:\x00 \x00h", "starts with a utf-16 byte-order mark but is not "
                                             "valid utf-16"),
])
def test_bad_files_give_one_clear_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TranscriptError) as info:
        ingest_file(path)
    assert str(info.value).startswith(f"{path}: ") or str(info.value).startswith(f"{path}:")
    assert message in str(info.value)


def test_bad_cue_timing_names_the_line(tmp_path):
    path = tmp_path / "p.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v A>fine\n\n"
                    "00:00:03.000 --> 00:0x:04.000\n<v A>broken\n")
    with pytest.raises(TranscriptError) as info:
        ingest_file(path)
    assert str(info.value) == (f"{path}:6: bad cue timing '00:00:03.000 --> 00:0x:04.000' "
                               "(expected '00:00:01.000 --> 00:00:04.000')")


def test_truncated_real_docx_is_refused(tmp_path):
    whole = write_docx(tmp_path / "whole.docx", lambda d: d.add_paragraph("Q: hi?"))
    cut = tmp_path / "cut.docx"
    cut.write_bytes(whole.read_bytes()[:2000])
    with pytest.raises(TranscriptError, match="is not a readable .docx"):
        ingest_file(cut)
