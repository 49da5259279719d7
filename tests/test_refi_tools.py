"""REFI-QDA files as other tools write them (issue 15, items 1-6), each built here to reproduce
what those tools do: NVivo for Windows' UTF-16 positions, qc's plainTextPath without a scheme
and TextSources without names, coders from creatingUser, codebooks whose ids are not GUIDs,
and Sets. Every export is validated against the REFI-QDA schemas."""

import re
import zipfile
from hashlib import md5
from uuid import UUID

import pytest

import coding
from coding.interchange import transfer
from coding.interchange.refi import export_qdc, export_qdpx, import_qdc, import_qdpx
from coding.readers.archive import parse_xml

from conftest import CODEBOOK

QDE = "urn:QDA-XML:project:1.0"
QDC = "urn:QDA-XML:codebook:1.0"
NVIVO = "NVivo for Windows 12.6"

# -- building files as the tools write them ---------------------------------------------------

NVIVO_USERS = [("8ca3a2c1-8b7a-41c3-a9dd-a8fb46caa645", "Aileen Murray"),
               ("2f6d1e0b-3c4a-4b5e-9f70-81a2b3c4d5e6", "Ben Ross"),
               ("c0ffee00-1234-4abc-8def-0123456789ab", "Cara Lind")]  # Cara coded nothing
NVIVO_CODES = [("3c51efbb-071f-43a7-9f32-228b89668e8d", "Wellbeing", None),
               ("4d62f0cc-182f-44b8-a043-339c90779e9e", "Activity", "3c51efbb-071f-43a7-9f32-"
                "228b89668e8d"),
               ("5e73a1dd-293a-45c9-b154-44ad81880faf", "Trust", None),
               ("6f84b2ee-3a4b-46da-8265-55be92991fb0", "Money worries", None)]
PHRASES = ["The walking group helps me \U0001F600 every single week.",
           "I trust the link worker now.",
           "We laughed a lot \U0001F44D at the caf\u00e9 afterwards.",
           "My daughter drives me there on Tuesdays.",
           "Money is tight \U0001F4B8 this winter, very tight.",
           "The staff there really listen to me.",
           "My family \U0001F469\u200D\U0001F469\u200D\U0001F467 came along once."]


def units16(text):
    """The length of `text` in UTF-16 code units, as NVivo for Windows counts."""
    return len(text.encode("utf-16-le")) // 2


def nvivo_source(turns):
    """A transcript as NVivo for Windows writes its plain text (CRLF), and each participant
    sentence with its [start, end) in UTF-16 code units."""
    text, sentences = "", []
    for question, answer in turns:
        text += f"Interviewer: {question}\r\nP: "
        for n, phrase in enumerate(answer):
            if n:
                text += " "
            sentences.append((phrase, units16(text), units16(text) + units16(phrase)))
            text += phrase
        text += "\r\n"
    return text, sentences


def nvivo_qdpx(path, sources=3, turns=17, origin=NVIVO, units=units16):
    """An NVivo for Windows 12-style project: lowercase GUIDs, names without extensions,
    `internal://` texts with emoji and CRLF, every participant sentence coded, positions in
    UTF-16 code units (`units`: how a producer counts). Returns (path, [(source, quote)]) of
    what each coding should cover."""
    users = "".join(f'<User guid="{g}" name="{n}"/>' for g, n in NVIVO_USERS)

    def code_xml(parent):
        return "".join(f'<Code guid="{g}" name="{n}" isCodable="true">{code_xml(g)}</Code>'
                       for g, n, p in NVIVO_CODES if p == parent)

    expected, files, xml_sources = [], [], []
    for s in range(sources):
        guid = str(UUID(int=0xA0000000_0000_4000_8000_000000000000 + s))
        name = f"Interview {s + 1:02d}"
        plan = [(f"How was week {t + 1}?", [PHRASES[(s + t + k) % len(PHRASES)]
                                           for k in range(3)]) for t in range(turns)]
        text, sentences = nvivo_source(plan)
        if units is not units16:  # another producer's count of the same spans
            sentences = [(q, units(text[:_cp(text, a)]), units(text[:_cp(text, b)]))
                         for q, a, b in sentences]
        selections = []
        for n, (quote, start, end) in enumerate(sentences):
            user = NVIVO_USERS[n % 2][0]
            code = NVIVO_CODES[n % len(NVIVO_CODES)][0]
            selections.append(
                f'<PlainTextSelection guid="{UUID(int=(s + 1) << 64 | n)}" name="" '
                f'startPosition="{start}" endPosition="{end}" creatingUser="{user}" '
                f'creationDateTime="2024-05-0{1 + n % 9}T10:00:00Z"><Coding '
                f'guid="{UUID(int=(s + 1) << 80 | n)}" creatingUser="{user}">'
                f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')
            expected.append((name, quote))
        xml_sources.append(
            f'<TextSource guid="{guid}" name="{name}" richTextPath="internal://{guid}.docx" '
            f'plainTextPath="internal://{guid}.txt" creatingUser="{NVIVO_USERS[0][0]}" '
            f'creationDateTime="2024-04-30T09:00:00Z">{"".join(selections)}</TextSource>')
        files.append((f"Sources/{guid}.txt", text.encode("utf-8")))
    qde = (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns:xsd="http://www.w3.org/2001/'
           f'XMLSchema" name="Wellbeing study" origin="{origin}" creatingUserGUID='
           f'"{NVIVO_USERS[0][0]}" creationDateTime="2024-04-30T09:00:00Z" basePath="" '
           f'xmlns="{QDE}"><Users>{users}</Users><CodeBook><Codes>{code_xml(None)}</Codes>'
           f'</CodeBook><Sources>{"".join(xml_sources)}</Sources></Project>')
    return zipped(path, qde, files), expected


def _cp(text, index16):
    """The code point index of a UTF-16 index of `text`."""
    return len(text.encode("utf-16-le")[:index16 * 2].decode("utf-16-le"))


def qc_guid(name):
    """A GUID as qc makes one (md5 of the name, its first 16 hex digits as the 16 bytes)."""
    return str(UUID(bytes=md5(name.encode("utf8")).hexdigest()[:16].encode("utf8")))


QC_DOCUMENTS = {"board_2017.txt": 40, "board_2018.txt": 35, "interviews/staff_01.txt": 30}
QC_CODES = {"governance": ["budget", "minutes"], "people": ["staff", "volunteers"]}


def qc_qdpx(path):
    """A project exported by qc (cproctor/qualitative-coding): TextSources with no name and a
    plainTextPath without a scheme (the corpus file's path, also its place under sources/),
    one selection per coded line named 'line:N', codings by coder, no creatingUser on
    selections, and a user ('eve') who coded nothing. Returns (path, {(document, line text,
    code, coder)})."""
    coders = ["chris", "dana", "eve"]
    users = "".join(f'<User name="{c}" guid="{qc_guid(c)}"/>' for c in coders)
    codes = "".join(f'<Code name="{parent}" guid="{qc_guid(parent)}" isCodable="true">'
                    + "".join(f'<Code name="{child}" guid="{qc_guid(parent + "." + child)}" '
                              'isCodable="true"/>' for child in children) + "</Code>"
                    for parent, children in QC_CODES.items())
    guid_of = {child: qc_guid(parent + "." + child)
               for parent, children in QC_CODES.items() for child in children}
    leaves = list(guid_of)
    expected, files, sources = set(), [], []
    for d, (file, lines) in enumerate(QC_DOCUMENTS.items()):
        text_lines = [f"Line {n} of the {file.split('/')[-1][:-4]} notes: item {n * 7 % 11}.\n"
                      for n in range(lines)]
        files.append((f"sources/{file}", "".join(text_lines).encode("utf-8")))
        selections, position = [], 0
        for n, line in enumerate(text_lines):
            start, position = position, position + len(line)
            if n % 3 == 2:
                continue  # an uncoded line
            codings = [(leaves[(n + d) % 4], "chris")]
            if n % 2 == 0:
                codings.append((leaves[(n + d + 1) % 4], "dana"))
            inner = "".join(f'<Coding guid="{qc_guid(f"{file}:{n}:{coder}:{code}")}" '
                            f'creatingUser="{qc_guid(coder)}"><CodeRef targetGUID='
                            f'"{guid_of[code]}"/></Coding>' for code, coder in codings)
            selections.append(f'<PlainTextSelection guid="{qc_guid(f"{file}:{n}")}" '
                              f'name="line:{n}" startPosition="{start}" endPosition="{position}">'
                              f'{inner}</PlainTextSelection>')
            expected |= {(file.split("/")[-1], line, code, coder) for code, coder in codings}
        sources.append(f'<TextSource plainTextPath="{file}" guid="{qc_guid(file)}">'
                       f'{"".join(selections)}</TextSource>')
    qde = (f'<Project xmlns="{QDE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'origin="qc 2.1.2" name="qc project"><Users>{users}</Users><CodeBook><Codes>{codes}'
           f'</Codes></CodeBook><Sources>{"".join(sources)}</Sources></Project>')
    return zipped(path, qde, files), expected


def zipped(path, qde, files=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for name, data in files:
            archive.writestr(name, data)
    return path


def quotes_of(project):
    frame = project.codings_frame()
    return sorted(zip(frame["document"], frame["quote"]))


def wrong_codings(project, expected):
    """How many of the codings the file holds are not stored on the text they should cover
    (stored elsewhere, or not stored at all)."""
    stored = {}
    for document, quote in quotes_of(project):
        stored.setdefault((document, quote), 0)
        stored[(document, quote)] += 1
    wrong = 0
    for key in expected:
        if stored.get(key):
            stored[key] -= 1
        else:
            wrong += 1
    return wrong


def validate(shared, path):
    """The .qdpx's project.qde (or a .qdc) valid against the REFI-QDA schema; the XML root."""
    import xmlschema

    if str(path).endswith(".qdc"):
        data = path.read_bytes()
        xmlschema.XMLSchema(str(shared / "refi-qda/Codebook.xsd")).validate(data.decode("utf-8"))
    else:
        with zipfile.ZipFile(path) as archive:
            data = archive.read("project.qde")
        xmlschema.XMLSchema(str(shared / "refi-qda/Project.xsd")).validate(data.decode("utf-8"))
    return parse_xml(data, str(path))


def positions_of(root):
    return [(int(s.get("startPosition")), int(s.get("endPosition")))
            for s in root.iter(f"{{{QDE}}}PlainTextSelection")]


@pytest.fixture
def fresh(tmp_path):
    with coding.init_project(tmp_path / "fresh.db", coder="importer") as project:
        yield project


@pytest.fixture
def other(tmp_path):
    with coding.init_project(tmp_path / "other.db", coder="importer") as project:
        yield project


# -- 1. positions in the producer's unit ------------------------------------------------------

def test_nvivo_utf16_positions_land_on_their_words(fresh, tmp_path):
    path, expected = nvivo_qdpx(tmp_path / "nvivo.qdpx", turns=34)
    report = import_qdpx(fresh, path)
    assert (report.documents, report.codings, len(expected)) == (3, 306, 306)
    # read as code points (before issue 15), 303 of these 306 landed on the wrong text
    assert wrong_codings(fresh, expected) == 0
    assert [w.removeprefix(f"{path}: ") for w in report.warnings] == [
        f"source 'Interview 0{n}': positions read as UTF-16 code units, as 'NVivo for Windows "
        f"12.6' counts them (100% of selection boundaries on word edges; {share}% as code "
        "points)" for n, share in ((1, 50), (2, 45), (3, 36))]
    assert report.details()[0] == ("source 'Interview 01' -> document 'Interview 01': 102 of "
                                   "102 codings imported, positions in UTF-16 code units")


@pytest.mark.parametrize("origin", ["ATLAS.ti 9.1.7", ""])
def test_the_text_overrules_an_origin_that_counts_otherwise(fresh, tmp_path, origin):
    path, expected = nvivo_qdpx(tmp_path / "other.qdpx", origin=origin)
    report = import_qdpx(fresh, path)
    assert wrong_codings(fresh, expected) == 0
    said = f"its origin '{origin}'" if origin else "REFI-QDA"
    assert report.warnings[0] == (
        f"{path}: source 'Interview 01': positions read as UTF-16 code units, not code points "
        f"as {said} implies: 100% of selection boundaries fall on word edges that way, 47% "
        "the other")


def test_nvivo_file_counting_code_points_is_read_as_code_points(fresh, tmp_path):
    path, expected = nvivo_qdpx(tmp_path / "mac.qdpx", origin="NVivo 14", units=len)
    report = import_qdpx(fresh, path)
    assert wrong_codings(fresh, expected) == 0
    assert report.warnings[0].endswith(
        "source 'Interview 01': positions read as code points, not UTF-16 code units as its "
        "origin 'NVivo 14' implies: 100% of selection boundaries fall on word edges that way, "
        "45% the other")


def test_selections_that_fit_neither_reading_are_reported_not_stored(fresh, tmp_path, run):
    path, _ = nvivo_qdpx(tmp_path / "shifted.qdpx", sources=1)
    with zipfile.ZipFile(path) as archive:  # the text edited after coding: 3 characters in
        qde = archive.read("project.qde").decode("utf-8")
        members = [(n, archive.read(n)) for n in archive.namelist() if n != "project.qde"]
    members = [(n, b"Ah. " + data[:20] + data[21:]) for n, data in members]
    path = zipped(tmp_path / "edited.qdpx", qde, members)
    report = import_qdpx(fresh, path)
    assert (report.documents, report.codings) == (1, 0)
    assert report.warnings == [
        f"{path}: source 'Interview 01': its selections do not fit its text (of 102 "
        "selection boundaries, 38% read as code points, 23% as UTF-16 code units fall on word "
        "edges; a right reading has nearly all there): 51 selections and 51 codings not "
        "imported, rather than stored on the wrong words. Was the text changed after coding?"]
    assert [s.name for s in report.dropped] == ["Interview 01"]
    assert report.summary().endswith("; NO codings imported from 1 source that has them: "
                                     "'Interview 01' (51)")
    assert report.details() == ["source 'Interview 01' -> document 'Interview 01': 0 of 51 "
                                "codings imported; 51 skipped (51: its selections do not fit "
                                "its text)"]


def test_unit_choice_is_per_source_and_spares_unspaced_scripts():
    from coding.interchange.refi.offsets import CODE_POINTS, UTF16, choose_unit

    text = "我们每周一起散步\U0001F600。她很开心。"
    spans = [(0, 4), (4, 9), (11, 15)]  # UTF-16 units: the last is after the emoji
    choice = choose_unit(text, spans, UTF16)
    assert (choice.unit, choice.fits) == (UTF16, True)  # no word edges to tell: the origin
    assert choose_unit("no emoji here at all", [(0, 2), (3, 8)], UTF16).differs is False
    short = choose_unit("Half a word \U0001F600 or two", [(1, 3)], CODE_POINTS)
    assert (short.fits, short.scores[CODE_POINTS]) == (True, 0)  # too few to judge


def exported_quotes(path, unit):
    """(source name, the text each selection covers) of an exported .qdpx, its positions read
    in `unit` (code points: Python indices; utf16: UTF-16 code units)."""
    with zipfile.ZipFile(path) as archive:
        root = parse_xml(archive.read("project.qde"), "qde")
        quotes = []
        for source in root.iter(f"{{{QDE}}}TextSource"):
            text = archive.read(source.get("plainTextPath").replace("internal://", "sources/"))
            text = text.decode("utf-8")
            for start, end in positions_of(source):
                quotes.append((source.get("name"), text[start:end] if unit == "codepoints" else
                               text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")))
    return sorted(quotes)


def test_export_positions_in_utf16_for_nvivo_and_back(fresh, other, tmp_path, shared):
    path, expected = nvivo_qdpx(tmp_path / "nvivo.qdpx")
    import_qdpx(fresh, path)
    plain, utf16 = tmp_path / "points.qdpx", tmp_path / "units.qdpx"
    assert export_qdpx(fresh, plain).positions == "codepoints"
    assert export_qdpx(fresh, utf16, positions="utf16").positions == "utf16"
    validate(shared, plain)
    root = validate(shared, utf16)
    assert exported_quotes(plain, "codepoints") == exported_quotes(utf16, "utf16") == \
        sorted(expected)
    assert positions_of(root) != positions_of(validate(shared, plain))
    assert root.get("origin").endswith("(positions in UTF-16 code units)")
    report = import_qdpx(other, utf16)  # our own UTF-16 export reads back right
    assert wrong_codings(other, expected) == 0 and report.codings == len(expected)
    with pytest.raises(coding.RefiError, match="positions must be 'codepoints' or 'utf16'"):
        export_qdpx(fresh, tmp_path / "x.qdpx", positions="bytes")


# -- 2 and 3. qc's plainTextPath without a scheme, sources without names ----------------------

def test_qc_project_imports_every_document_and_coding(fresh, tmp_path):
    path, expected = qc_qdpx(tmp_path / "qc.qdpx")
    report = import_qdpx(fresh, path)
    # before issue 15: 0 documents and 0 of 106 codings, and a clean exit
    assert (report.documents, report.codings, report.warnings, report.dropped) == \
        (3, 106, [], [])
    assert sorted(d.name for d in fresh.documents()) == ["board_2017.txt", "board_2018.txt",
                                                        "staff_01.txt"]
    frame = fresh.codings_frame()
    stored = {(row.document, row.quote, row.code, row.coder) for row in frame.itertuples()}
    assert stored == expected
    assert report.details() == [
        "source 'board_2017.txt' -> document 'board_2017.txt': 40 of 40 codings imported, "
        "positions in code points",
        "source 'board_2018.txt' -> document 'board_2018.txt': 36 of 36 codings imported, "
        "positions in code points",
        "source 'staff_01.txt' -> document 'staff_01.txt': 30 of 30 codings imported, "
        "positions in code points"]


def test_source_names_come_from_name_else_the_file(fresh, tmp_path):
    text = "Interviewer: Hi?\nAnn: Hello there.\n"
    sources = (f'<TextSource guid="{UUID(int=1)}" name="Named one" plainTextPath="a.txt"/>'
               f'<TextSource guid="{UUID(int=2)}" plainTextPath="internal://sub/b%20c.txt"/>'
               f'<TextSource guid="{UUID(int=3)}"><PlainTextContent>{text}x'
               '</PlainTextContent></TextSource>')
    path = zipped(tmp_path / "names.qdpx", f'<Project xmlns="{QDE}" name="n"><Sources>'
                  f'{sources}</Sources></Project>',
                  [("Sources/A.TXT", text.encode()), ("sources/sub/b c.txt", b"B: b\n")])
    import_qdpx(fresh, path)
    assert sorted(d.name for d in fresh.documents()) == [
        "00000000-0000-0000-0000-000000000003.txt", "Named one", "b c.txt"]


def test_a_source_whose_codings_are_all_dropped_is_named(fresh, tmp_path, run):
    path, _ = qc_qdpx(tmp_path / "qc.qdpx")
    with zipfile.ZipFile(path) as archive:
        members = [(n, archive.read(n)) for n in archive.namelist()]
    path = zipped(tmp_path / "lost.qdpx", members[0][1],
                  [m for m in members[1:] if "2018" not in m[0]])
    report = import_qdpx(fresh, path)
    assert (report.documents, report.codings) == (2, 70)
    assert [(s.name, s.codings) for s in report.dropped] == [("board_2018.txt", 36)]
    assert report.summary() == (
        "2 documents, 6 codes, 70 codings, 0 memos, 0 cases added; 3 users (1 with no "
        "codings: eve); 1 warnings; NO codings imported from 1 source that has them: "
        "'board_2018.txt' (36)")
    # the command line: what came in is stored, and the exit status says it is not all
    db = tmp_path / "cli.db"
    coding.init_project(db).close()
    preview = run("import", db, path, "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "NO codings imported from 1 source that has them: 'board_2018.txt' (36)" \
        in preview.output
    result = run("import", db, path)
    assert result.exit_code == 1
    assert "its text is missing (plainTextPath 'board_2018.txt'" in result.output
    assert result.output.rstrip().endswith(
        "NO codings imported from 1 source that has them: 'board_2018.txt' (36). The rest of "
        "the file is stored, but no coding of 'board_2018.txt' was imported (the warnings "
        "above say why): fix the file and import it again (nothing is added twice), or "
        "restore the backup taken before this import")
    with coding.open_project(db) as project:
        assert len(project.codings_frame()) == 70


# -- 4. coders ------------------------------------------------------------------------------

def test_codings_are_credited_as_the_file_has_it(fresh, tmp_path, shared):
    path, _ = qc_qdpx(tmp_path / "qc.qdpx")
    report = import_qdpx(fresh, path)
    frame = fresh.codings_frame()
    assert frame["coder"].value_counts().to_dict() == {"chris": 71, "dana": 35}
    assert (report.users, report.idle_users) == (["chris", "dana", "eve"], ["eve"])
    assert set(fresh.settings["refi"]["users"]) == {"chris", "dana", "eve"}
    again = tmp_path / "again.qdpx"
    export_qdpx(fresh, again)  # eve, who coded nothing, is still a user of the project
    users = {u.get("name"): u.get("guid") for u in validate(shared, again).iter(f"{{{QDE}}}User")}
    assert users["eve"] == qc_guid("eve").upper()


def test_undeclared_and_namesake_users_keep_their_own_codings(fresh, tmp_path):
    text = "Interviewer: How is it?\nAnn: Good, thanks. Fine.\n"
    spans = [(text.index("Good"), text.index("Good") + 4),
             (text.index("Fine"), text.index("Fine") + 4), (0, 11)]
    users = [str(UUID(int=10)), str(UUID(int=11)), "deadbeef-0000-4000-8000-000000000000"]
    selections = "".join(
        f'<PlainTextSelection guid="{UUID(int=20 + i)}" startPosition="{a}" endPosition="{b}" '
        f'creatingUser="{users[i]}"><Coding guid="{UUID(int=30 + i)}"><CodeRef targetGUID='
        f'"{UUID(int=50)}"/></Coding></PlainTextSelection>' for i, (a, b) in enumerate(spans))
    qde = (f'<Project xmlns="{QDE}" name="n"><Users><User guid="{users[0]}" name="Sam"/>'
           f'<User guid="{users[1]}" name="Sam"/></Users><CodeBook><Codes><Code guid='
           f'"{UUID(int=50)}" name="Wellbeing" isCodable="true"/></Codes></CodeBook><Sources>'
           f'<TextSource guid="{UUID(int=1)}" name="ann.txt"><PlainTextContent>{text}'
           f'</PlainTextContent>{selections}</TextSource></Sources></Project>')
    report = import_qdpx(fresh, zipped(tmp_path / "users.qdpx", qde))
    frame = fresh.codings_frame().sort_values("start")
    assert list(zip(frame["quote"], frame["coder"])) == [
        ("Interviewer", "user DEADBEEF"), ("Good", "Sam"), ("Fine", "Sam (2)")]
    assert report.warnings[-1].endswith(
        "creatingUser DEADBEEF-0000-4000-8000-000000000000 is not among the file's users; its "
        "1 coding or note are credited to 'user DEADBEEF'")


# -- 5. exports valid after a lenient import ----------------------------------------------------

C001 = (f'<CodeBook xmlns="{QDC}" origin="a script"><Codes>'
        '<Code guid="c001" name="Barriers" isCodable="false"><Description>What gets in the way.'
        '</Description><Code guid="c002" name="Cost" isCodable="true"/>'
        '<Code guid="c003" name="Transport" isCodable="true"/></Code>'
        '<Code guid="{c004}" name="Trust" isCodable="true"/></Codes></CodeBook>')


def test_codebook_with_ids_that_are_not_guids_exports_valid(fresh, tmp_path, shared):
    path = tmp_path / "ids.qdc"
    path.write_text(C001, encoding="utf-8")
    report = import_qdc(fresh, path)
    assert report.codes == 4
    assert report.warnings == [
        f"{path}: 4 code ids are not GUIDs ('c001', 'c002', 'c003', ...); exports write GUIDs "
        "made for them, kept in the project with the ids, so this file imports onto the same "
        "codes again"]
    kept = fresh.settings["refi"]
    assert kept["ids"] == {"barriers": "c001", "cost": "c002", "transport": "c003",
                           "trust": "{c004}"}
    assert all(re.fullmatch(r"[0-9A-F-]{36}", guid) for guid in kept["codes"].values())
    assert fresh.codebook().get("barriers").definition == "What gets in the way."
    book, project = tmp_path / "out.qdc", tmp_path / "out.qdpx"
    export_qdc(fresh, book)
    export_qdpx(fresh, project)
    exported = {c.get("name"): c.get("guid") for c in validate(shared, book).iter(
        f"{{{QDC}}}Code")}
    assert exported == {key.title(): guid for key, guid in kept["codes"].items()}
    root = validate(shared, project)
    assert [d.text for d in root.iter(f"{{{QDE}}}Description")] == ["What gets in the way."]
    again = import_qdc(fresh, path)  # the same file again: the same codes, nothing new
    assert (again.codes, again.codes_retired) == (0, 0)
    assert fresh.summary()["codebook_versions"] == 1


def test_an_older_projects_kept_ids_are_not_written(fresh, tmp_path, shared):
    from coding.project.writing import merge_settings

    path = tmp_path / "ids.qdc"
    path.write_text(C001, encoding="utf-8")
    import_qdc(fresh, path)
    with fresh.store.transaction() as session:  # what imports before issue 15 kept
        merge_settings(session, "refi", {"codes": {"cost": "C002"}})
    export_qdc(fresh, tmp_path / "out.qdc")
    assert "C002" not in (tmp_path / "out.qdc").read_text()
    validate(shared, tmp_path / "out.qdc")


def test_selection_and_coding_guids_are_kept(fresh, tmp_path, shared):
    path, _ = qc_qdpx(tmp_path / "qc.qdpx")
    import_qdpx(fresh, path)
    export_qdpx(fresh, tmp_path / "again.qdpx")
    with zipfile.ZipFile(path) as archive:
        given = parse_xml(archive.read("project.qde"), "qde")
    again = validate(shared, tmp_path / "again.qdpx")
    for tag in ("PlainTextSelection", "Coding"):
        assert sorted(e.get("guid").upper() for e in given.iter(f"{{{QDE}}}{tag}")) == \
            sorted(e.get("guid") for e in again.iter(f"{{{QDE}}}{tag}")), tag
    # a selection coded twice (by chris and dana) is one selection with two codings again
    assert max(len(s.findall(f"{{{QDE}}}Coding"))
               for s in again.iter(f"{{{QDE}}}PlainTextSelection")) == 2


def test_no_case_is_invented_per_document(fresh, tmp_path, shared):
    for name in ("p01.txt", "p02.txt"):
        (tmp_path / name).write_text("Interviewer: Hi?\nAnn: Hello.\n" + name)
    fresh.ingest([tmp_path / "p01.txt", tmp_path / "p02.txt"])
    assert len(fresh.cases()) == 2  # ingest gives each file a case named after it
    root = validate(shared, tmp_path / "plain.qdpx") if export_qdpx(
        fresh, tmp_path / "plain.qdpx").cases == 0 else pytest.fail("cases were written")
    assert root.find(f"{{{QDE}}}Cases") is None
    fresh.add_memo("Met at the clinic.", "case", "p01")  # a case with something of its own
    assert export_qdpx(fresh, tmp_path / "memo.qdpx").cases == 1


def test_code_ids_travel_to_a_new_project_outside_the_descriptions(study_like, other,
                                                                   tmp_path):
    path = tmp_path / "study.qdpx"
    export_qdpx(study_like, path)
    with zipfile.ZipFile(path) as archive:
        assert b"Code id" not in archive.read("project.qde")
    import_qdpx(other, path)
    assert [c.id for c in other.codebook().walk()] == [c.id for c in study_like.codebook().walk()]


@pytest.fixture
def study_like(tmp_path):
    with coding.init_project(tmp_path / "study.db", coder="tester") as project:
        project.import_codebook(CODEBOOK)
        yield project


# -- 6. Sets: code and document groups --------------------------------------------------------

SETS = [("5e7a0000-0000-4000-8000-000000000001", "Barriers", "What gets in the way.",
         ["Trust", "Money worries"], [], 0),
        ("5e7a0000-0000-4000-8000-000000000002", "First visits", "", [],
         ["Interview 01", "Interview 02", "a scan"], 0),
        ("5e7a0000-0000-4000-8000-000000000003", "Mixed", "", ["Activity"], ["Interview 03"],
         1)]


def with_sets(path, target):
    """The NVivo-style project of `path` with a PDF source and the Sets of SETS added, as
    ATLAS.ti and NVivo write them (MemberCode, MemberSource, MemberNote by targetGUID)."""
    with zipfile.ZipFile(path) as archive:
        qde = archive.read("project.qde").decode("utf-8")
        members = [(n, archive.read(n)) for n in archive.namelist() if n != "project.qde"]
    guids = {n: g for g, n, _ in NVIVO_CODES}
    guids.update(dict(re.findall(r'<TextSource guid="([^"]+)" name="([^"]+)"', qde)[i][::-1]
                      for i in range(3)))
    guids["a scan"] = str(UUID(int=99))
    sets = "".join(
        f'<Set guid="{g}" name="{name}">' + (f"<Description>{d}</Description>" if d else "")
        + "".join(f'<MemberCode targetGUID="{guids[c]}"/>' for c in codes)
        + "".join(f'<MemberSource targetGUID="{guids[s]}"/>' for s in sources)
        + "".join(f'<MemberNote targetGUID="{UUID(int=77)}"/>' for _ in range(notes))
        + "</Set>" for g, name, d, codes, sources, notes in SETS)
    qde = qde.replace("</Sources>", f'<PDFSource guid="{guids["a scan"]}" name="a scan" '
                      'path="internal://scan.pdf"/></Sources>').replace(
        "</Project>", f"<Sets>{sets}</Sets></Project>")
    return zipped(target, qde, members)


def groups_of(project):
    return {(g.kind, g.name): (sorted(g.members), g.description) for g in project.groups()}


def test_sets_import_as_code_and_document_groups_and_export_back(fresh, other, tmp_path,
                                                                 shared):
    path, _ = nvivo_qdpx(tmp_path / "nvivo.qdpx")
    path = with_sets(path, tmp_path / "sets.qdpx")
    report = import_qdpx(fresh, path)
    assert report.groups == 4
    assert "4 groups added" in report.summary()
    assert f"{path}: 1 set member not imported (codes or sources that were skipped) left out " \
        "of their groups" in report.warnings
    assert f"{path}: 1 note in sets not grouped (groups hold codes and documents)" \
        in report.warnings
    expected = {("code", "Barriers"): (["money_worries", "trust"], "What gets in the way."),
                ("code", "Mixed"): (["activity"], ""),
                ("document", "First visits"): (["Interview 01", "Interview 02"], ""),
                ("document", "Mixed"): (["Interview 03"], "")}
    assert groups_of(fresh) == expected
    assert import_qdpx(fresh, path).groups == 0  # the same file again changes nothing

    again = tmp_path / "again.qdpx"
    assert export_qdpx(fresh, again).groups == 4
    root = validate(shared, again)
    sets = {s.get("name"): (s.get("guid"), len(s.findall(f"{{{QDE}}}MemberCode")),
                            len(s.findall(f"{{{QDE}}}MemberSource")))
            for s in root.iter(f"{{{QDE}}}Set")}
    assert sets == {"Barriers": (SETS[0][0].upper(), 2, 0),
                    "First visits": (SETS[1][0].upper(), 0, 2),
                    "Mixed": (SETS[2][0].upper(), 1, 1)}  # one Set again, as it came
    import_qdpx(other, again)
    assert groups_of(other) == expected


def test_code_groups_in_a_codebook_file_both_ways(fresh, tmp_path, shared):
    path = tmp_path / "sets.qdc"
    path.write_text(C001.replace("</Codes>", '</Codes><Sets><Set guid="5e7a0000-0000-4000-8000-'
                                 '000000000009" name="Practical"><MemberCode guid="c002"/>'
                                 '<MemberCode guid="c003"/></Set></Sets>'), encoding="utf-8")
    assert import_qdc(fresh, path).groups == 1
    assert groups_of(fresh) == {("code", "Practical"): (["cost", "transport"], "")}
    out = tmp_path / "out.qdc"
    assert export_qdc(fresh, out).groups == 1
    root = validate(shared, out)
    kept = fresh.settings["refi"]["codes"]
    assert [m.get("guid") for m in root.iter(f"{{{QDC}}}MemberCode")] == \
        [kept["cost"], kept["transport"]]


@pytest.fixture
def grouped(tmp_path):
    """A project from the NVivo-style file, with groups from its Sets and pending suggestions
    in every document."""
    path, _ = nvivo_qdpx(tmp_path / "nvivo.qdpx")
    db = tmp_path / "grouped.db"
    with coding.init_project(db, coder="importer") as project:
        import_qdpx(project, with_sets(path, tmp_path / "sets.qdpx"))
        for document in project.documents():
            text = project.document_text(document.name)
            for n, code in enumerate(("trust", "activity")):
                start = text.index("P: ") + 3 + n
                project.add_coding(document.name, code, start, start + 10, status="suggested",
                                   origin="rule:keywords", score=0.5, rationale="test")
    return db


def test_groups_filter_the_analysis_exports(grouped, tmp_path, run):
    import pandas as pd

    with coding.open_project(grouped) as project:
        out = tmp_path / "barriers.csv"
        transfer.export(project, "code-by-case", out,
                        options=transfer.Options(code_group="Barriers"))
        assert list(pd.read_csv(out, index_col=0).index) == ["Trust", "Money worries"]
        first = tmp_path / "first.csv"
        transfer.export(project, "codings", first,
                        options=transfer.Options(document_group="First visits"))
        assert set(pd.read_csv(first)["document"]) == {"Interview 01", "Interview 02"}
        both = transfer.export(project, "code-by-case", tmp_path / "both.csv",
                               options=transfer.Options(code_group="Mixed",
                                                        document_group="Mixed"))
        assert both.startswith("code-by-case (1 rows)")
        with pytest.raises(coding.CodingError, match="code and document groups limit the "
                                                     "tables"):
            transfer.export(project, "qdpx", tmp_path / "x.qdpx",
                            options=transfer.Options(code_group="Barriers"))
    result = run("export", grouped, "cooccurrence", "--code-group", "Barriers", "-o", "c.md")
    assert result.exit_code == 0, result.output
    result = run("export", grouped, "codings", "--document-group", "Nope", "-o", "c.csv")
    assert result.exit_code == 1
    assert "no document group named 'Nope' (the document groups: 'First visits', 'Mixed')" \
        in result.output
    result = run("export", grouped, "qdpx", "--positions", "utf16", "-o", "n.qdpx")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("4 groups, positions in UTF-16 code units")
    result = run("export", grouped, "codings", "--positions", "utf16", "-o", "c.csv")
    assert "Error: positions in utf16 are for a qdpx project, not codings" in result.output


def test_groups_filter_the_themes_and_review_pages(grouped, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT

    monkeypatch.setenv("CODING_PROJECT", str(grouped))

    def checked(at):
        at = at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["coder"], at.query_params["page"] = "Tess", "Themes"
    at = checked(at)
    assert list(at.dataframe[0].value.index) == ["Wellbeing", "Activity", "Trust",
                                                 "Money worries"]
    at = checked(at.selectbox(key="themes_code_group").set_value("Barriers"))
    assert list(at.dataframe[0].value.index) == ["Trust", "Money worries"]
    at = checked(at.selectbox(key="themes_document_group").set_value("First visits"))
    assert list(at.dataframe[0].value.columns) == ["Interview 01", "Interview 02"]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["coder"], at.query_params["page"] = "Tess", "Review"
    at = checked(at)
    assert len([b for b in at.button if b.key and b.key.startswith("accept-")]) == 6
    at = checked(at.selectbox(key="review_document_group").set_value("Mixed"))
    assert len([b for b in at.button if b.key and b.key.startswith("accept-")]) == 2
    at = checked(at.selectbox(key="review_code_group").set_value("Barriers"))
    assert len([b for b in at.button if b.key and b.key.startswith("accept-")]) == 1


@pytest.mark.parametrize("content", [b"[" * 100_000, b"\xff\xfe not json",
                                     b'{"codes": {"%s": "x y", "%s": "fine"}}'])
def test_a_hostile_coding_json_gives_no_ids(fresh, tmp_path, content):
    guids = (str(UUID(int=50)), str(UUID(int=51)))
    qde = (f'<Project xmlns="{QDE}" name="n"><CodeBook><Codes><Code guid="{guids[0]}" '
           f'name="Wellbeing" isCodable="true"/></Codes></CodeBook></Project>')
    content = content.replace(b"%s", guids[0].encode(), 1).replace(b"%s", guids[1].encode(), 1)
    report = import_qdpx(fresh, zipped(tmp_path / "j.qdpx", qde, [("coding.json", content)]))
    assert [c.id for c in fresh.codebook().codes] == ["wellbeing"]  # from the name
    if not content.startswith(b"{"):
        assert report.warnings == [f"{tmp_path / 'j.qdpx'}: coding.json is not what our "
                                   "exports write; ignored"]


def test_groups_are_set_checked_removed_and_undone(grouped):
    from coding import StoreError
    from coding.project.groups import Group

    with coding.open_project(grouped, coder="Tess") as project:
        group = project.set_group("code", "  Feelings ", ["wellbeing", "trust"], "How it felt")
        assert group == Group("code", "Feelings", ("wellbeing", "trust"), "How it felt")
        with pytest.raises(StoreError) as info:
            project.set_group("code", "Feelings", ["wellbeing", "joy", "fear"])
        assert str(info.value) == f"{grouped}: no codes 'joy', 'fear' in this project"
        with pytest.raises(StoreError) as info:
            project.set_group("document", "Later", ["Interview 09"])
        assert str(info.value) == f"{grouped}: no document 'Interview 09' in this project"
        with pytest.raises(StoreError) as info:
            project.group("document", "Later")
        assert str(info.value) == (f"{grouped}: no document group named 'Later' (the document "
                                   "groups: 'First visits', 'Mixed')")
        with pytest.raises(StoreError, match="kind must be 'code' or 'document', not 'case'"):
            project.group("case", "x")
        project.set_group("document", "First visits", ["Interview 03"])
        project.remove_group("code", "Barriers")
        assert [h for h in project.history(limit=3)["what"]] == [
            "removed the code group 'Barriers'",
            "changed the document group 'First visits' (1 member)",
            "made the code group 'Feelings' (2 members)"]
        project.undo(2)
        assert project.group("code", "Barriers").members == ("trust", "money_worries")
        assert project.group("document", "First visits").members == ("Interview 01",
                                                                     "Interview 02")


@pytest.mark.parametrize("origin", [None, "ATLAS.ti 23.1"])
def test_selections_off_word_edges_are_kept_when_the_unit_is_not_in_doubt(other, fresh, tmp_path,
                                                                          origin):
    """Researchers select mid-word too. Our own export (its unit known) keeps every coding,
    emoji or not; another tool's file with no emoji before a selection has no unit to doubt.
    (The word-edge check once dropped every coding of such files.)"""
    texts = {"a.txt": "Interviewer: Why?\nAnn: The walking group helps \U0001F600 every week.\n",
             "b.txt": "Interviewer: And?\nBo: Money was short and the bus stopped running.\n"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    other.import_codebook(CODEBOOK)
    other.ingest([tmp_path / "a.txt", tmp_path / "b.txt"])
    expected = []
    for name in texts:
        text = other.document_text(name) if origin is None or name == "b.txt" else None
        if text is None:
            continue
        for start in range(20, len(text) - 8, 3):  # every third position: mostly mid-word
            other.add_coding(name, "relationships", start, start + 7)
            expected.append((name, text[start:start + 7]))
    path = tmp_path / "mid.qdpx"
    export_qdpx(other, path)
    if origin is not None:  # the same file as if another tool had written it
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
        members["project.qde"] = re.sub(rb'origin="[^"]*"', f'origin="{origin}"'.encode(),
                                        members["project.qde"], count=1)
        path = zipped(tmp_path / "other.qdpx", members.pop("project.qde"), members.items())
    fresh.import_codebook(CODEBOOK)
    report = import_qdpx(fresh, path)
    assert report.codings == len(expected) > 10
    assert wrong_codings(fresh, expected) == 0
