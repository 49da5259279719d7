"""Transcript formats researchers get (issue 15, items 9-11): .odt, .sbv, SRT without cue
numbers, and meeting transcripts (Teams .vtt and .docx, Zoom .vtt). Every file is built here,
in the layout its tool writes (LibreOffice's package parts; Teams and Zoom as their public
documentation and exported files show them), and the exact text, turns and times are asserted."""

import io
import zipfile

import docx
import pytest

from coding import TranscriptError, ingest_file

from test_ingest import spoken


def turns(document):
    """(speaker, role, text, time_start, time_end) per turn, read back through the offsets."""
    return [(t.speaker, t.role, document.text[t.start:t.end], t.time_start, t.time_end)
            for t in document.turns]


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# == .odt =====================================================================================
# The parts as LibreOffice Writer 7 writes them: `mimetype` first and stored, then content.xml,
# styles.xml, meta.xml and the manifest; paragraph text on one line, automatic styles (P1, T1)
# in content.xml, common styles (Heading 1, Strong Emphasis) in styles.xml.

NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:loext="urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0" '
    'office:version="1.3"')
BOLD = ('<style:text-properties fo:font-weight="bold" style:font-weight-asian="bold" '
        'style:font-weight-complex="bold"/>')
STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<office:document-styles {NAMESPACES}><office:font-face-decls/><office:styles>'
    '<style:default-style style:family="paragraph"><style:paragraph-properties '
    'fo:hyphenation-ladder-count="no-limit"/></style:default-style>'
    '<style:style style:name="Standard" style:family="paragraph" style:class="text"/>'
    '<style:style style:name="Heading" style:family="paragraph" style:parent-style-name='
    '"Standard" style:next-style-name="Text_20_body" style:class="text"/>'
    '<style:style style:name="Text_20_body" style:display-name="Text body" style:family='
    '"paragraph" style:parent-style-name="Standard" style:class="text"/>'
    '<style:style style:name="Title" style:family="paragraph" style:parent-style-name='
    '"Heading" style:next-style-name="Subtitle" style:class="chapter"/>'
    '<style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family='
    '"paragraph" style:parent-style-name="Heading" style:next-style-name="Text_20_body" '
    'style:default-outline-level="1" style:class="text"/>'
    '<style:style style:name="Table_20_Contents" style:display-name="Table Contents" '
    'style:family="paragraph" style:parent-style-name="Standard" style:class="extra"/>'
    '<style:style style:name="Strong_20_Emphasis" style:display-name="Strong Emphasis" '
    f'style:family="text">{BOLD}</style:style>'
    '</office:styles><office:automatic-styles/><office:master-styles/>'
    '</office:document-styles>')
AUTOMATIC_STYLES = (
    '<office:automatic-styles>'
    '<style:style style:name="Table1" style:family="table"><style:table-properties '
    'style:width="17cm" table:align="margins"/></style:style>'
    '<style:style style:name="P1" style:family="paragraph" style:parent-style-name='
    '"Heading_20_1"/>'
    '<style:style style:name="P2" style:family="paragraph" style:parent-style-name="Standard">'
    '<style:paragraph-properties fo:margin-top="0.2cm"/></style:style>'
    f'<style:style style:name="T1" style:family="text">{BOLD}</style:style>'
    '<style:style style:name="T2" style:family="text"><style:text-properties '
    'fo:font-style="italic"/></style:style>'
    '</office:automatic-styles>')
BODY = (
    '<text:p text:style-name="Title">Carers study: P05</text:p>'
    '<text:h text:style-name="P1" text:outline-level="1">Interview 5: Isobel</text:h>'
    '<table:table table:name="Table1" table:style-name="Table1">'
    '<table:table-column table:number-columns-repeated="3"/>'
    '<table:table-row><table:table-cell office:value-type="string"><text:p text:style-name='
    '"Table_20_Contents">Participant</text:p></table:table-cell><table:table-cell '
    'table:number-columns-spanned="2" office:value-type="string"><text:p text:style-name='
    '"Table_20_Contents">Isobel</text:p></table:table-cell><table:covered-table-cell/>'
    '</table:table-row>'
    '<table:table-row><table:table-cell office:value-type="string"><text:p text:style-name='
    '"Table_20_Contents">Date</text:p></table:table-cell><table:table-cell office:value-type='
    '"string"><text:p text:style-name="Table_20_Contents">18 March</text:p><text:p '
    'text:style-name="Table_20_Contents">2024</text:p></table:table-cell><table:table-cell '
    'office:value-type="string"><text:p text:style-name="Table_20_Contents">Home</text:p>'
    '</table:table-cell></table:table-row></table:table>'
    '<text:p text:style-name="P2"><text:span text:style-name="T1">Interviewer</text:span>'
    '<text:tab/>How are you<text:note text:id="ftn1" text:note-class="footnote"><text:note-'
    'citation>1</text:note-citation><text:note-body><text:p text:style-name="Footnote">Asked '
    'twice.</text:p></text:note-body></text:note>?</text:p>'
    '<text:p text:style-name="P2"><text:span text:style-name="Strong_20_Emphasis">Isobel:'
    '</text:span> Tired, <text:s text:c="2"/>but <text:span text:style-name="T2">ok</text:span>'
    '.<text:line-break/>We manage.</text:p>'
    '<text:list><text:list-item><text:p text:style-name="P2">Walking on Mondays<office:'
    'annotation><dc:creator>Ann</dc:creator><text:p>code: routine</text:p></office:annotation>'
    '</text:p></text:list-item></text:list>'
    '<text:p text:style-name="P2">Interviewer: Thanks, <text:a xlink:type="simple" '
    'xlink:href="https://example.org">see you</text:a> soon.</text:p>'
    '<text:h text:style-name="P1" text:outline-level="1">Section 2: Leadership</text:h>'
    '<text:p text:style-name="P2">Q: Who leads?</text:p>'
    '<text:p text:style-name="P2"><draw:frame draw:name="Image1"><draw:image xlink:href='
    '"Pictures/1.png"/></draw:frame>A: Nobody, really.</text:p>')
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest="urn:oasis:'
    'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type='
    '"application/vnd.oasis.opendocument.text"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
    '</manifest:manifest>')
META = ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3">'
        '<office:meta><meta:generator>LibreOffice/7.6.4.1$Linux_X86_64 LibreOffice_project/'
        'e19e193f88cd6c0525a17fb7a176ed8e6a3e2aa1</meta:generator></office:meta>'
        '</office:document-meta>')


def content_xml(body=BODY):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<office:document-content {NAMESPACES}><office:scripts/><office:font-face-decls/>'
            f'{AUTOMATIC_STYLES}<office:body><office:text><text:sequence-decls><text:sequence-'
            'decl text:display-outline-level="0" text:name="Table"/></text:sequence-decls>'
            f'{body}</office:text></office:body></office:document-content>')


def odt_bytes(body=BODY, parts=None, mimetype="application/vnd.oasis.opendocument.text"):
    """A .odt package as LibreOffice writes it; `parts` replaces or adds members (None drops
    one)."""
    members = {"mimetype": mimetype, "content.xml": content_xml(body), "styles.xml": STYLES_XML,
               "meta.xml": META, "META-INF/manifest.xml": MANIFEST}
    members.update(parts or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            if data is None:
                continue
            data = data.encode("utf-8") if isinstance(data, str) else data
            archive.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype"
                             else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_odt_paragraphs_tables_headings_and_bold_speakers_in_body_order(tmp_path):
    document = ingest_file(write(tmp_path, "p05.odt", odt_bytes()))
    assert document.format == "odt" and document.metadata["encoding"] == "odt"
    assert document.text == (
        "Carers study: P05\n"
        "Interview 5: Isobel\n"
        "Participant | Isobel\n"  # the merged cell once, as in a .docx
        "Date | 18 March 2024 | Home\n"
        "Interviewer\tHow are you?\n"  # the footnote is not the paragraph's text
        "Isobel: Tired,   but ok.\nWe manage.\n"
        "Walking on Mondays\n"  # nor is the comment
        "Interviewer: Thanks, see you soon.\n"
        "Section 2: Leadership\n"
        "Q: Who leads?\n"
        "A: Nobody, really.")
    assert turns(document) == [
        ("Interviewer", "interviewer", "How are you?", None, None),
        ("Isobel", "participant", "Tired,   but ok.\nWe manage.\nWalking on Mondays", None, None),
        ("Interviewer", "interviewer", "Thanks, see you soon.", None, None),
        ("Q", "interviewer", "Who leads?", None, None),
        ("A", "participant", "Nobody, really.", None, None),
    ]
    first = document.turns[0]
    assert (first.start, first.end) == (99, 111)  # after "Interviewer\t", in code points


def test_odt_contents_lists_and_nested_tables(tmp_path):
    body = ('<text:table-of-content text:name="Contents1"><text:index-body><text:index-title>'
            '<text:p text:style-name="P2">Contents</text:p></text:index-title><text:p '
            'text:style-name="P2">Interviewer: questions<text:tab/>1</text:p></text:index-body>'
            '</text:table-of-content>'
            '<text:section text:name="Section1"><text:p text:style-name="P2">Interviewer: Who '
            'came?</text:p></text:section>'
            '<table:table table:name="Table2"><table:table-header-rows><table:table-row>'
            '<table:table-cell table:number-columns-repeated="2"><text:p>Name</text:p>'
            '</table:table-cell></table:table-row></table:table-header-rows><table:table-row>'
            '<table:table-cell><text:p>Ann</text:p><table:table><table:table-row>'
            '<table:table-cell><text:p>P01</text:p></table:table-cell><table:table-cell>'
            '<text:p>carer</text:p></table:table-cell></table:table-row></table:table>'
            '</table:table-cell><table:table-cell><text:p>group lead</text:p></table:table-cell>'
            '</table:table-row></table:table>'
            '<text:list><text:list-item><text:h text:outline-level="2">Part 2: Later</text:h>'
            '</text:list-item></text:list><text:numbered-paragraph><text:p text:style-name="P2">'
            'Ann: All<text:s text:c="99999999"/>of us.</text:p></text:numbered-paragraph>')
    document = ingest_file(write(tmp_path, "toc.odt", odt_bytes(body)))
    assert document.text == ("Contents\nInterviewer: questions\t1\nInterviewer: Who came?\n"
                             "Name | Name\nAnn P01 | carer | group lead\nPart 2: Later\n"
                             "Ann: All" + " " * 100 + "of us.")  # a repeat count is capped
    assert spoken(document) == [("Interviewer", "interviewer",
                                 "Who came?\nName | Name\nAnn P01 | carer | group lead"),
                                ("Ann", "participant", "All" + " " * 100 + "of us.")]


def test_odt_white_space_is_read_as_odf_says(tmp_path):
    body = ('<text:p text:style-name="P2">\n   Interviewer:\n  What   helped?  </text:p>'
            '<text:p text:style-name="P2">Ann: The <text:span text:style-name="T2"> walking'
            '</text:span>   group.</text:p>')
    document = ingest_file(write(tmp_path, "space.odt", odt_bytes(body)))
    assert document.text == "Interviewer: What helped? \nAnn: The walking group."
    assert spoken(document) == [("Interviewer", "interviewer", "What helped?"),
                                ("Ann", "participant", "The walking group.")]


def test_odt_without_speakers_has_one_turn_per_paragraph(tmp_path):
    body = ('<text:p text:style-name="Standard">The service opened in 2019.</text:p>'
            '<text:p text:style-name="Standard"/>'
            '<text:p text:style-name="Standard">Staff numbers rose.</text:p>')
    document = ingest_file(write(tmp_path, "report.odt", odt_bytes(body, {"styles.xml": None})))
    assert spoken(document) == [(None, "participant", "The service opened in 2019."),
                                (None, "participant", "Staff numbers rose.")]


@pytest.mark.parametrize("name, data, message", [
    ("locked.odt", odt_bytes(parts={
        "content.xml": bytes(range(256)) * 8,
        "META-INF/manifest.xml": MANIFEST.replace(
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/>',
            'manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size='
            '"2048"><manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0#sha256-1k" manifest:checksum="AAAA"><manifest:'
            'algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" '
            'manifest:initialisation-vector="AAAA"/><manifest:key-derivation manifest:key-'
            'derivation-name="PBKDF2" manifest:key-size="32" manifest:iteration-count="100000"'
            ' manifest:salt="AAAA"/></manifest:encryption-data></manifest:file-entry>')}),
     "is a password-protected .odt (encrypted by LibreOffice): open it, save a copy without "
     "the password (File > Save As, untick 'Save with password') and try again"),
    ("sheet.odt", odt_bytes(mimetype="application/vnd.oasis.opendocument.spreadsheet"),
     "is not an OpenDocument text but 'spreadsheet' (application/vnd.oasis.opendocument."
     "spreadsheet); save it from LibreOffice Writer as .odt, or export it as .docx"),
    ("empty_zip.odt", odt_bytes(parts={"content.xml": None}),
     "is not a .odt: the archive has no content.xml"),
    ("dtd.odt", odt_bytes(parts={"content.xml": content_xml().replace(
        "?>\n", '?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', 1)}),
     "part 'content.xml' declares a DTD (<!DOCTYPE>), which LibreOffice never writes and "
     "which allows entity-expansion and external-entity (XXE) attacks; refused"),
    ("broken.odt", odt_bytes(parts={"content.xml": content_xml()[:-30]}),
     "is not a readable .odt: part 'content.xml' at line 2 is not well-formed XML"),
    ("truncated.odt", odt_bytes()[:600], "is not a readable .odt: not a zip archive"),
    ("renamed.odt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
     "is an old Office 97-2003 file (.doc), not a .odt"),
])
def test_bad_odt_gives_one_clear_message(tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    with pytest.raises(TranscriptError) as info:
        ingest_file(path)
    assert str(info.value).startswith(f"{path}: {message}")


# == captions: .sbv and SRT without cue numbers ===============================================

SBV = """0:00:00.599,0:00:04.160
>> ALICE: Hi, my name is Alice Miller
and I run the bakery.

0:00:04.160,0:00:06.770
It has been ten years.

0:00:07.000,0:00:09.500
>> Interviewer: What changed?

0:00:09.500,0:01:02.250
ALICE: The customers &amp; the rents.
"""


def test_sbv_cues_give_turns_with_times(tmp_path):
    document = ingest_file(write(tmp_path, "bakery.sbv", SBV))
    assert document.format == "sbv"
    assert document.text == ("ALICE: Hi, my name is Alice Miller and I run the bakery. It has "
                             "been ten years.\nInterviewer: What changed?\n"
                             "ALICE: The customers & the rents.")
    assert turns(document) == [
        ("ALICE", "participant", "Hi, my name is Alice Miller and I run the bakery. It has been "
                                 "ten years.", 0.599, 6.77),
        ("Interviewer", "interviewer", "What changed?", 7.0, 9.5),
        ("ALICE", "participant", "The customers & the rents.", 9.5, 62.25),
    ]


def test_sbv_without_speakers_has_one_turn_per_cue(tmp_path):
    document = ingest_file(write(tmp_path, "auto.sbv", "0:00:01.000,0:00:02.500\nhello and "
                                                       "welcome\n\n0:00:02.500,0:00:04.000\n"
                                                       "to the channel\n"))
    assert document.text == "hello and welcome\n\nto the channel"
    assert turns(document) == [(None, "participant", "hello and welcome", 1.0, 2.5),
                               (None, "participant", "to the channel", 2.5, 4.0)]


SRT_WITHOUT_NUMBERS = ("00:00:01,200 --> 00:00:05,900\r\nInterviewer: What do you do?\r\n\r\n"
                       "00:00:06,000 --> 00:00:09,000\r\nTom: District nursing --> mostly,\r\n"
                       "\r\n00:00:09,000 --> 00:00:12,500\r\nand some clinics.\r\n\r\n"
                       "00:01:00,000 --> 01:00:02,000\r\nInterviewer: Thanks.\r\n")


def test_srt_without_cue_numbers_keeps_every_cue_and_time(tmp_path):
    document = ingest_file(write(tmp_path, "p12.srt", SRT_WITHOUT_NUMBERS))
    assert document.text == ("Interviewer: What do you do?\nTom: District nursing --> mostly, "
                             "and some clinics.\nInterviewer: Thanks.")
    assert turns(document) == [
        ("Interviewer", "interviewer", "What do you do?", 1.2, 5.9),
        ("Tom", "participant", "District nursing --> mostly, and some clinics.", 6.0, 12.5),
        ("Interviewer", "interviewer", "Thanks.", 60.0, 3602.0),
    ]


def test_srt_with_some_cue_numbers_missing(tmp_path):
    path = write(tmp_path, "mixed.srt", "1\n00:00:01,000 --> 00:00:02,000\nA: one\n\n"
                                        "00:00:02,000 --> 00:00:03,000\nB: two\n\n"
                                        "3\n00:00:03,000 --> 00:00:04,000\nA: three\n")
    assert [(s, text) for s, _, text in spoken(ingest_file(path))] == [
        ("A", "one"), ("B", "two"), ("A", "three")]


@pytest.mark.parametrize("name, content, message", [
    ("impossible.sbv", "0:00:01.000,0:00:02.000\nA: fine\n\n0:00:03.000,0:75:02.000\nA: lost\n",
     "4: impossible time '0:75:02.000' in cue timing '0:00:03.000,0:75:02.000' (minutes and "
     "seconds go up to 59); the cue would be lost"),
    ("seconds.sbv", "0:00:01.000,0:00:62.000\nA: lost\n",
     "1: impossible time '0:00:62.000' in cue timing '0:00:01.000,0:00:62.000'"),
    ("backwards.sbv", "0:00:05.000,0:00:01.000\nA: hi\n",
     "1: cue ends before it starts: '0:00:05.000,0:00:01.000'"),
    ("bad_time.sbv", "0:00:01.000,0:00:02.000\nA: fine\n\n0:00:03,0:00:04.000\nA: broken\n",
     "4: bad cue timing '0:00:03,0:00:04.000' (expected '0:00:01.000,0:00:04.000')"),
    ("orphan.sbv", "0:00:01.000,0:00:02.000\nA: fine\n\nno timing here\n",
     "4: text 'no timing here' is in no cue: every SBV cue starts with its timing "
     "('0:00:01.000,0:00:04.000') after a blank line; this text would be lost"),
    ("impossible.srt", "00:00:01,000 --> 00:00:02,000\nA: fine\n\n"
                       "00:00:03,000 --> 00:75:02,000\nA: lost\n",
     "4: impossible time '00:75:02,000' in cue timing '00:00:03,000 --> 00:75:02,000'"),
    ("not_a_number.srt", "1\n00:00:01,000 --> 00:00:02,000\nA: fine\n\n"
                         "two\n00:00:03,000 --> 00:00:04,000\nA: lost\n",
     "5: cue number 'two' is not a number (an SRT cue starts with a number, or with its "
     "timing)"),
    ("teams.vtt", "WEBVTT\n\n0:0:1.0 --> 0:0:2.0\n<v A>fine</v>\n\n0:75:0.0 --> 0:76:0.0\n"
                  "<v B>lost</v>\n",
     "6: impossible time '0:75:0.0' in cue timing '0:75:0.0 --> 0:76:0.0'"),
])
def test_impossible_and_bad_cue_times_name_the_line(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(TranscriptError) as info:
        ingest_file(path)
    assert str(info.value).startswith(f"{path}:{message}")


# == meeting transcripts: Teams and Zoom ======================================================
# Teams .vtt since 2022 (Stream): a cue identifier "<guid>/<n>-<m>", `<v Name>` over one or
# more lines, names with character references (`Far&#237;as`).
TEAMS_VTT = """WEBVTT

1b502de9-89b4-4bba-a44e-a2aab0b4f293/17-0
00:00:03.122 --> 00:00:06.992
<v Carlos Far&#237;as>Claro,
deja ver si tiene proyectar</v>

1b502de9-89b4-4bba-a44e-a2aab0b4f293/17-1
00:00:06.992 --> 00:00:08.000
<v Carlos Far&#237;as>proyectar este.</v>

1b502de9-89b4-4bba-a44e-a2aab0b4f293/21-0
00:00:08.692 --> 00:00:09.982
<v Interviewer>Se est&#225; viendo?</v>

1b502de9-89b4-4bba-a44e-a2aab0b4f293/22-0
00:00:10.100 --> 00:01:02.500
<v Carlos Far&#237;as>S&#237;.</v>
"""
# Teams .vtt before (and the Graph API's text/vtt examples): no identifiers, every field
# unpadded, milliseconds as a plain number (0:0:6.90 is 6.090 s: it ends at 6.500).
TEAMS_VTT_2021 = """WEBVTT

0:0:0.0 --> 0:0:5.320
<v Lisa Taylor>Hello everyone.</v>

0:0:6.90 --> 0:0:6.500
<v Lisa Taylor>Shall we start?</v>

0:1:3.400 --> 0:1:6.560
<v Jialin Shan>Yes, let us.</v>
"""
# Zoom's cloud recording transcript: numbered cues, "Name: text", display names as typed.
ZOOM_VTT = """WEBVTT

1
00:00:05.790 --> 00:00:13.514
Christina Lopez: Thanks for joining. How did the group start?

2
00:00:14.000 --> 00:00:17.250
jamie o'neil (they/them): It started with a walk.

3
00:00:17.250 --> 00:00:19.000
jamie o'neil (they/them): Then a second one.

4
00:00:20.000 --> 00:00:21.500
Christina Lopez: And then?
"""


def test_teams_vtt_voice_tags_give_one_turn_per_speaker_change(tmp_path):
    document = ingest_file(write(tmp_path, "meeting.vtt", TEAMS_VTT))
    assert document.text == ("Carlos Farías: Claro, deja ver si tiene proyectar proyectar este.\n"
                             "Interviewer: Se está viendo?\nCarlos Farías: Sí.")
    assert turns(document) == [
        ("Carlos Farías", "participant", "Claro, deja ver si tiene proyectar proyectar este.",
         3.122, 8.0),
        ("Interviewer", "interviewer", "Se está viendo?", 8.692, 9.982),
        ("Carlos Farías", "participant", "Sí.", 10.1, 62.5),
    ]


def test_teams_vtt_with_unpadded_times(tmp_path):
    document = ingest_file(write(tmp_path, "meeting_2021.vtt", TEAMS_VTT_2021))
    assert turns(document) == [
        ("Lisa Taylor", "participant", "Hello everyone. Shall we start?", 0.0, 6.5),
        ("Jialin Shan", "participant", "Yes, let us.", 63.4, 66.56),
    ]


def test_zoom_vtt_name_prefixes_give_turns(tmp_path):
    document = ingest_file(write(tmp_path, "GMT20240312-101500_Recording.transcript.vtt",
                                 ZOOM_VTT))
    assert document.text == ("Christina Lopez: Thanks for joining. How did the group start?\n"
                             "jamie o'neil (they/them): It started with a walk. Then a second "
                             "one.\nChristina Lopez: And then?")
    assert turns(document) == [
        ("Christina Lopez", "participant", "Thanks for joining. How did the group start?",
         5.79, 13.514),
        ("jamie o'neil (they/them)", "participant", "It started with a walk. Then a second one.",
         14.0, 19.0),
        ("Christina Lopez", "participant", "And then?", 20.0, 21.5),
    ]


def test_a_colon_in_captions_is_not_a_speaker_unless_names_recur(tmp_path):
    path = write(tmp_path, "lecture.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n"
                                          "the rule is: keep going\n\n"
                                          "00:00:03.000 --> 00:00:05.000\nand then stop\n")
    assert spoken(ingest_file(path)) == [(None, "participant", "the rule is: keep going"),
                                         (None, "participant", "and then stop")]


def teams_docx(tmp_path, name, paragraphs):
    """A .docx with one paragraph per item; an item that is a tuple is one paragraph with line
    breaks between its parts (as Teams' 2021 export has a cue)."""
    document = docx.Document()
    for item in paragraphs:
        if isinstance(item, tuple):
            paragraph = document.add_paragraph()
            for i, part in enumerate(item):
                run = paragraph.add_run(part)
                if i < len(item) - 1:
                    run.add_break()
        else:
            document.add_paragraph(item)
    path = tmp_path / name
    document.save(path)
    return path


# Teams' .docx since 2022: title, date, length, then "Name   m:ss" over the block's paragraphs.
TEAMS_DOCX = ["Carers group-20240312_101500-Meeting Transcript", "12 March 2024, 10:15am",
              "41m 7s", "Ann Smith started transcription",
              "Ann Smith   0:03", "Thanks for joining. How did the group start?",
              "Isobel Reid   0:09", "It started with a walk.", "Then a second one.",
              "Isobel Reid   0:20", "Note: we had a cafe too.",
              "Ann Smith   1:02:03", "Great, thank you.",
              "Ann Smith stopped transcription"]


def test_teams_docx_speaker_and_time_lines_give_turns(tmp_path):
    document = ingest_file(teams_docx(tmp_path, "carers.docx", TEAMS_DOCX))
    assert document.metadata["layout"] == "Microsoft Teams transcript"
    assert document.text == (
        "Carers group-20240312_101500-Meeting Transcript\n12 March 2024, 10:15am\n41m 7s\n"
        "Ann Smith started transcription\n"
        "Ann Smith: Thanks for joining. How did the group start?\n"
        "Isobel Reid: It started with a walk.\nThen a second one.\nNote: we had a cafe too.\n"
        "Ann Smith: Great, thank you.\n"
        "Ann Smith stopped transcription")
    assert turns(document) == [  # this layout gives start times only
        ("Ann Smith", "participant", "Thanks for joining. How did the group start?", 3.0, None),
        ("Isobel Reid", "participant",
         "It started with a walk.\nThen a second one.\nNote: we had a cafe too.", 9.0, None),
        ("Ann Smith", "participant", "Great, thank you.", 3723.0, None),
    ]


def test_teams_docx_with_bold_names_in_the_speaker_lines(tmp_path):
    document = docx.Document()
    for speaker, time, speech in [("Ann Smith", "0:03", "How did it start?"),
                                  ("Isobel Reid", "0:09", "With a walk.")]:
        header = document.add_paragraph()
        header.add_run(speaker).bold = True
        header.add_run(f"   {time}")
        document.add_paragraph(speech)
    document.save(tmp_path / "bold.docx")
    assert turns(ingest_file(tmp_path / "bold.docx")) == [
        ("Ann Smith", "participant", "How did it start?", 3.0, None),
        ("Isobel Reid", "participant", "With a walk.", 9.0, None)]


def test_a_labelled_docx_with_a_few_teams_like_lines_is_read_as_written(tmp_path):
    path = teams_docx(tmp_path, "p07.docx", [
        "Interview started 10:02", "Interviewer: How did it start?", "Ann: With a walk.",
        "Interviewer: And then?", "Ann: A cafe.", "Interview ended 10:47"])
    document = ingest_file(path)
    assert "layout" not in document.metadata
    assert spoken(document) == [("Interviewer", "interviewer", "How did it start?"),
                                ("Ann", "participant", "With a walk."),
                                ("Interviewer", "interviewer", "And then?"),
                                ("Ann", "participant", "A cafe.\nInterview ended 10:47")]


def test_teams_docx_2021_cues_of_timing_speaker_and_speech(tmp_path):
    path = teams_docx(tmp_path, "standup.docx", [
        ("0:0:0.0 --> 0:0:1.510", "Some Body", "OK. Yeah."),
        ("0:0:3.270 --> 0:0:4.250", "James Bond", "Umm."),
        "0:0:4.90 --> 0:0:6.500", "James Bond", "Right then.",
        ("0:1:12.420 --> 0:1:13.250", "Some Body", "Bye.")])
    document = ingest_file(path)
    assert document.text == "Some Body: OK. Yeah.\nJames Bond: Umm. Right then.\nSome Body: Bye."
    assert turns(document) == [("Some Body", "participant", "OK. Yeah.", 0.0, 1.51),
                               ("James Bond", "participant", "Umm. Right then.", 3.27, 6.5),
                               ("Some Body", "participant", "Bye.", 72.42, 73.25)]


def test_teams_docx_impossible_time_is_refused(tmp_path):
    path = teams_docx(tmp_path, "bad.docx", ["Ann Smith   0:03", "Hello.", "Bo Li   0:75",
                                             "Hi."])
    with pytest.raises(TranscriptError) as info:
        ingest_file(path)
    assert str(info.value) == (f"{path}: impossible time '0:75' in the Teams speaker line "
                               "'Bo Li   0:75' (minutes and seconds go up to 59)")


def test_one_name_and_time_line_in_a_docx_is_ordinary_text(tmp_path):
    path = teams_docx(tmp_path, "notes.docx", ["Meeting at 10:30", "Interviewer: Hello?",
                                               "Ann: Hi."])
    assert spoken(ingest_file(path)) == [("Interviewer", "interviewer", "Hello?"),
                                         ("Ann", "participant", "Hi.")]
