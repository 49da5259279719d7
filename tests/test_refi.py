"""REFI-QDA: exports valid against the XSDs, round trips, other tools' files, hostile files."""

import ast
import io
import unicodedata
import zipfile
from pathlib import Path

import pytest

import coding
from coding import CodingError, RefiError
from coding.readers.archive import parse_xml
from coding.interchange.refi import (describe_code, export_qdc, export_qdpx, import_qdc, import_qdpx,
                         import_refi, parse_description)
from coding.readers.text import normalise

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data_samples"
CODEBOOK = ROOT / "codebooks" / "gcph_asset_based.yaml"
QDE = "urn:QDA-XML:project:1.0"
QDC = "urn:QDA-XML:codebook:1.0"
XXE = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
          + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
          + f']>\n<CodeBook xmlns="{QDC}"><Codes><Code guid="00000000-0000-4000-8000-'
          '000000000001" name="&lol9;" isCodable="true"/></Codes></CodeBook>')


@pytest.fixture
def study(tmp_path):
    """The sample study: GCPH codebook, 12 transcripts with participants, gold codings, memos."""
    with coding.init_project(tmp_path / "study.db", coder="tester") as project:
        project.import_codebook(CODEBOOK)
        project.ingest([SAMPLES / "transcripts"], cases=SAMPLES / "participants.csv")
        project.import_codings(SAMPLES / "gold_codings.csv")
        project.add_memo("What the study is for.", title="Plan")
        project.add_memo("Long pauses before the answers.", "document", "p02_service_manager.txt")
        project.add_memo("Recruited through the walking group.", "case", "P03",
                         title="Recruitment")
        project.add_memo("Often double-coded with trust.", "code", "relationships")
        yield project


@pytest.fixture
def fresh(tmp_path):
    with coding.init_project(tmp_path / "fresh.db", coder="importer") as project:
        yield project


def qde_of(path):
    with zipfile.ZipFile(path) as archive:
        return archive.read("project.qde")


def make_qdpx(path, qde, files=(), qde_name="project.qde"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if qde is not None:
            archive.writestr(qde_name, qde)
        for name, data in files:
            archive.writestr(name, data)
    return path


def guid(n):
    return f"00000000-0000-4000-8000-{n:012d}"


def project_xml(body, users='<User guid="00000000-0000-4000-8000-000000000001" name="Ann"/>'):
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{QDE}" name="Other">'
            f"<Users>{users}</Users>{body}</Project>")


def codebook_rows(project):
    return {(c.id, c.name, c.parent, c.colour, c.definition, c.inclusion, c.exclusion,
             c.examples) for c in project.codebook().codes}


def codings_of(project):
    frame = project.codings_frame()
    return sorted(zip(frame["document"], frame["code"], frame["start"], frame["end"],
                      frame["coder"]))


def memos_of(project):
    names = {"document": {d.id: d.name for d in project.documents()},
             "code": {}, "case": {}, "coding": {}}
    frame = project.codings_frame()
    names["coding"] = {row.coding_id: (row.document, row.code, row.start, row.end)
                       for row in frame.itertuples()}
    with project.store.reading() as session:
        from coding.storage.schema import CaseRow, CodeRow
        names["code"] = {c.id: c.key for c in session.query(CodeRow)}
        names["case"] = {c.id: c.name for c in session.query(CaseRow)}
    return sorted((m.target_type, str(names.get(m.target_type, {}).get(m.target_id)), m.coder,
                   m.title, m.text) for m in project.memos().itertuples())


def cases_of(project):
    """case -> {attribute: (type, stored text)}, read from the store as it is."""
    from coding.storage.schema import CaseRow

    with project.store.reading() as session:
        return {case.name: {a.name: (a.type, a.value) for a in case.attributes}
                for case in session.query(CaseRow)}


def state(project):
    """Everything an import could change, to check a refused file stored nothing."""
    return (project.summary(), codings_of(project), memos_of(project), project.settings)


def guids_in(qde, tag):
    root = parse_xml(qde, "project.qde")
    return sorted(e.get("guid") for e in root.iter(f"{{{QDE}}}{tag}"))


# -- export -----------------------------------------------------------------------------------

def test_qdc_export_is_valid_nested_and_stable(study, tmp_path, shared):
    import xmlschema

    path = export_qdc(study, tmp_path / "gcph.qdc").path
    xmlschema.XMLSchema(str(shared / "refi-qda/Codebook.xsd")).validate(path)
    root = parse_xml(Path(path).read_bytes(), path)
    top = root.find(f"{{{QDC}}}Codes")
    assert len(list(root.iter(f"{{{QDC}}}Code"))) == 22
    parents = {code.get("name"): [c.get("name") for c in code.findall(f"{{{QDC}}}Code")]
               for code in top}
    expected = study.codebook()
    assert parents["Building relationships and partnerships"] == [
        c.name for c in expected.children("relationships")]
    relationships = top[0]
    assert relationships.get("color") == expected.get("relationships").colour.upper()
    assert relationships.get("isCodable") == "true"
    description = relationships.find(f"{{{QDC}}}Description").text
    assert parse_description(description)["inclusion"] == expected.get("relationships").inclusion
    again = export_qdc(study, tmp_path / "again.qdc").path
    assert Path(again).read_bytes() == Path(path).read_bytes()  # GUIDs stable across exports


def test_qdpx_export_is_valid_with_exact_texts_and_positions(study, tmp_path, shared):
    import xmlschema

    path = tmp_path / "study.qdpx"
    report = export_qdpx(study, path)
    assert (report.documents, report.codes, report.codings, report.memos, report.cases,
            report.users) == (12, 22, 259, 42, 12, 2)
    qde = qde_of(path)
    xmlschema.XMLSchema(str(shared / "refi-qda/Project.xsd")).validate(qde.decode("utf-8"))
    root = parse_xml(qde, "project.qde")
    texts = {d.name: study.document_text(d.name) for d in study.documents()}
    quotes = {(row.document, row.start, row.end): row.quote
              for row in study.codings_frame().itertuples()}
    with zipfile.ZipFile(path) as archive:
        for source in root.iter(f"{{{QDE}}}TextSource"):
            member = source.get("plainTextPath").replace("internal://", "sources/")
            text = archive.read(member).decode("utf-8")
            assert text == texts[source.get("name")]
            for selection in source.iter(f"{{{QDE}}}PlainTextSelection"):
                start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
                assert text[start:end] == quotes[(source.get("name"), start, end)]
    users = {u.get("name"): u.get("guid") for u in root.iter(f"{{{QDE}}}User")}
    assert set(users) == {"tester", "Aileen Murray"}
    creators = {c.get("creatingUser") for c in root.iter(f"{{{QDE}}}Coding")}
    assert creators == {users["Aileen Murray"]}
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.iter(f"{{{QDE}}}Variable")}
    assert variables == {"role": "Text", "service": "Text", "area": "Text",
                         "years_in_post": "Integer", "gender": "Text", "interview_date": "Date"}
    again = tmp_path / "again.qdpx"
    export_qdpx(study, again)
    assert again.read_bytes() == path.read_bytes()


def test_suggestions_are_exported_only_on_request(study, tmp_path, shared):
    import xmlschema

    text = study.document_text("p02_service_manager.txt")
    start = text.index("asset")
    study.add_coding("p02_service_manager.txt", "asset_framing", start, start + 5,
                     status="suggested", origin="rule:keywords", score=0.45, rationale="asset")
    plain = export_qdpx(study, tmp_path / "plain.qdpx")
    with_suggestions = export_qdpx(study, tmp_path / "all.qdpx", include_suggestions=True)
    assert (plain.codings, with_suggestions.codings) == (259, 260)
    qde = qde_of(tmp_path / "all.qdpx")
    xmlschema.XMLSchema(str(shared / "refi-qda/Project.xsd")).validate(qde.decode("utf-8"))
    assert b"Suggestion (rule:keywords, score 0.45): asset" in qde


def test_export_into_a_binary_file_writes_what_a_path_gets(study, tmp_path):
    path, buffer = tmp_path / "study.qdpx", io.BytesIO()
    on_disk, in_memory = export_qdpx(study, path), export_qdpx(study, buffer)
    assert (in_memory.path, on_disk.path) == ("", str(path))
    assert {**vars(in_memory), "path": ""} == {**vars(on_disk), "path": ""}
    with zipfile.ZipFile(path) as disk, zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as memory:
        assert memory.namelist() == disk.namelist()
        assert memory.namelist()[0] == "project.qde" and len(memory.namelist()) == 14
        assert memory.namelist()[-1] == "coding.json"  # our code ids, by GUID
        for name in disk.namelist():  # the project XML and every source text, byte for byte
            assert memory.read(name) == disk.read(name), name
    codebook = io.BytesIO()
    export_qdc(study, codebook)
    export_qdc(study, tmp_path / "book.qdc")
    assert codebook.getvalue() == (tmp_path / "book.qdc").read_bytes()


def test_export_to_a_missing_folder_names_the_file(study, tmp_path):
    target = tmp_path / "no" / "such" / "study.qdpx"
    with pytest.raises(CodingError) as info:
        export_qdpx(study, target)
    assert str(info.value).startswith(f"{target}: cannot write this file")


def test_code_description_parses_back_into_its_fields(coded_project):
    code = coded_project.codebook().get("relationships")
    description = describe_code(code)
    assert "Code id" not in description  # the researcher's text only (issue 15, item 5)
    fields = parse_description(description)
    assert fields == {"definition": code.definition, "inclusion": code.inclusion,
                      "exclusion": code.exclusion, "examples": code.examples, "id": None}
    # exports before issue 15 ended with a 'Code id:' line: it still gives the id
    assert parse_description(description + "\n\nCode id: relationships") == \
        {**fields, "id": "relationships"}
    assert parse_description("Free text.\n\nExamples:\nnot a list")["definition"] == \
        "Free text.\n\nExamples:\nnot a list"


# -- round trip -------------------------------------------------------------------------------

def test_qdpx_round_trip_keeps_texts_codes_codings_cases_and_memos(study, fresh, tmp_path):
    path = tmp_path / "study.qdpx"
    export_qdpx(study, path)
    report = import_qdpx(fresh, path)
    assert report.summary() == ("12 documents, 22 codes, 259 codings, 42 memos, 12 cases "
                                "added; 2 users (1 with no codings: tester); 0 warnings")
    assert {d.name: fresh.document_text(d.name) for d in fresh.documents()} == \
        {d.name: study.document_text(d.name) for d in study.documents()}
    assert {d.name: d.case for d in fresh.documents()} == \
        {d.name: d.case for d in study.documents()}
    # REFI-QDA has no speaker turns: they are found again from the labels in the text. Only
    # the .docx heading "Section 3: Leadership and influence" reads as a label in plain text.
    turns = {d.name: (d.turns, d.words) for d in study.documents()}
    turns_back = {d.name: (d.turns, d.words) for d in fresh.documents()}
    assert {name for name in turns if turns[name] != turns_back[name]} == {
        "p07_health_improvement_lead.docx"}
    assert turns_back["p07_health_improvement_lead.docx"][0] == \
        turns["p07_health_improvement_lead.docx"][0] + 1
    assert codebook_rows(fresh) == codebook_rows(study)
    assert [c.id for c in fresh.codebook().walk()] == [c.id for c in study.codebook().walk()]
    assert codings_of(fresh) == codings_of(study)
    assert memos_of(fresh) == memos_of(study)
    assert cases_of(fresh) == cases_of(study)
    again = tmp_path / "again.qdpx"
    export_qdpx(fresh, again)
    for tag in ("Code", "TextSource", "PlainTextSelection", "Coding", "Case", "Variable"):
        assert guids_in(qde_of(again), tag) == guids_in(qde_of(path), tag), tag
    assert set(guids_in(qde_of(path), "User")) < set(guids_in(qde_of(again), "User"))


def test_importing_the_same_qdpx_twice_adds_nothing(study, fresh, tmp_path):
    path = tmp_path / "study.qdpx"
    export_qdpx(study, path)
    import_qdpx(fresh, path)
    before = state(fresh)
    report = import_qdpx(fresh, path)
    assert report.summary() == ("0 documents, 0 codes, 0 codings, 0 memos, 0 cases added "
                                "(12 documents, 259 codings already present); 2 users (1 with "
                                "no codings: tester); 0 warnings")
    after = state(fresh)
    assert after[1:] == before[1:]
    assert {k: v for k, v in after[0].items() if k != "events"} == \
        {k: v for k, v in before[0].items() if k != "events"}
    second = import_qdpx(study, path)  # into the project it came from: all recognised
    assert (second.documents, second.codes, second.codings, second.memos) == (0, 0, 0, 0)
    assert study.summary()["codebook_versions"] == 1


def test_qdc_round_trip_and_reimport_into_its_project(study, fresh, tmp_path):
    path = tmp_path / "gcph.qdc"
    export_qdc(study, path)
    report = import_qdc(fresh, path)
    assert (report.codes, report.codes_retired, report.warnings) == (22, 0, [])
    # A .qdc has no room for our code ids outside the researcher's descriptions (issue 15,
    # item 5), so a new project names them after the codes; all else is the same.
    names = {c.id: c.name for c in fresh.codebook().codes}
    assert {(c.name, names.get(c.parent), c.colour, c.definition, c.inclusion, c.exclusion,
             c.examples) for c in fresh.codebook().codes} == \
        {(c.name, study.codebook().get(c.parent).name if c.parent else None, c.colour,
          c.definition, c.inclusion, c.exclusion, c.examples) for c in study.codebook().codes}
    assert all(not c.keywords for c in fresh.codebook().codes)  # keywords are not in REFI
    again = import_qdc(study, path)
    assert (again.codes, again.codes_retired) == (0, 0)
    assert study.summary()["codebook_versions"] == 1
    assert study.codebook().get("relationships").keywords  # kept for a matched code


def test_qdc_from_another_tool_nests_slugs_and_warns(fresh, tmp_path):
    path = tmp_path / "other.qdc"
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="{QDC}" origin="QualCoder">'
        f'<Codes><Code guid="{{{guid(1)}}}" name="Mabêl feelings" isCodable="false" color="#F08">'
        f'<Description>How Mabel feels.</Description>'
        f'<Code guid="{guid(2)}" name="Happy" isCodable="true"/>'
        f'<Code guid="{guid(3)}" name="happy" isCodable="true" color="red"/></Code>'
        f'<Code guid="{guid(4)}" name="2nd wave" isCodable="true"/>'
        f'<Code guid="{guid(4).lower()}" name="again" isCodable="true"/></Codes>'
        f'<Sets><Set guid="{guid(5)}" name="s"/></Sets></CodeBook>', encoding="utf-8")
    report = import_refi(fresh, path)
    codes = {c.id: (c.name, c.parent, c.colour, c.definition) for c in fresh.codebook().codes}
    assert codes == {"mabel_feelings": ("Mabêl feelings", None, "#ff0088", "How Mabel feels."),
                     "happy": ("Happy", "mabel_feelings", None, ""),
                     "happy_2": ("happy", "mabel_feelings", None, ""),
                     "c_2nd_wave": ("2nd wave", None, None, "")}
    assert report.warnings == [
        f"{path}: code 'happy': colour 'red' is not #RRGGBB; ignored",
        f"{path}: code 'again' has a repeated guid; skipped with the codes under it"]
    assert fresh.settings["refi"]["codes"]["mabel_feelings"] == guid(1).upper()


def test_qdc_import_retires_codes_it_does_not_hold(coded_project, tmp_path):
    path = tmp_path / "small.qdc"
    path.write_text(f'<CodeBook xmlns="{QDC}"><Codes><Code guid="{guid(1)}" '
                    'name="Building relationships and partnerships" isCodable="true"/>'
                    "</Codes></CodeBook>", encoding="utf-8")
    report = import_qdc(coded_project, path)
    assert (report.codes, report.codes_retired) == (0, 21)
    assert [c.id for c in coded_project.codebook().codes] == ["relationships"]
    assert coded_project.codebook().get("relationships").definition  # kept: no description


# -- other tools' files -----------------------------------------------------------------------

def test_atlas_ti_project_imports_users_codes_and_notes_with_warnings(shared, fresh):
    path = shared / "samples/refi/skyloom_atlas84_TestProject.qdpx"
    report = import_qdpx(fresh, path)
    assert report.users == ["ATLAS.ti", "Friedrich Markgraf", "Sebastian Petrausch"]
    assert (report.documents, report.codes, report.codings, report.memos) == (0, 14, 0, 2)
    summary = fresh.summary()
    assert (summary["codes"], summary["documents"], summary["memos"]) == (14, 0, 2)
    warnings = "\n".join(report.warnings)
    assert all(w.startswith(f"{path}: ") for w in report.warnings)
    assert (f"{path}: source 'Simon.docx': its text is missing (plainTextPath "
            "'internal://C1C745F7-8E4D-48B2-9710-655AFE7E54FA.txt', richTextPath "
            "'internal://D32251E3-04A0-4E0C-87A1-46AC68021F21.docx' not found); skipped "
            "(3 selections and 3 codings not imported)") in report.warnings
    assert (f"{path}: picture source 'cornflakes-n-milk.jpg' skipped (only text sources are "
            "imported): 1 selection ('Quotation 6:1') and 2 codings not imported") \
        in report.warnings
    for kind, name in (("PDF", "Pay de Limón con Base de Granola | Kellogg's ®.pdf"),
                       ("video", "1994 Diet Coke-Diet Coke Break.mp4")):
        assert f"{kind} source '{name}' skipped" in warnings
    assert "23 set members not imported (codes or sources that were skipped) left out of " \
        "their groups" in warnings
    assert "attached to the project instead: 'My favorite Coke ad'" in warnings
    codebook = fresh.codebook()
    assert codebook.get("cornflakes").definition == "breakfast cereal made by Kellogg’s"
    assert codebook.get("milk").colour is None and codebook.get("coke").colour == "#966450"
    assert sorted(fresh.memos()["title"]) == ["My favorite Coke ad", "Research Plan"]


def test_bare_atlas_qde_imports_the_same(shared, fresh):
    report = import_refi(fresh, shared / "samples/refi/skyloom_atlas84_Project.qde")
    assert (len(report.users), report.codes, report.documents, report.memos) == (3, 14, 0, 2)
    assert len(report.warnings) == 15


def test_selections_are_mapped_onto_the_normalised_text(fresh, tmp_path):
    # CRLF and lone CR line ends, a decomposed é and an emoji change offsets; the file also
    # starts with a byte-order mark, which is not a character of the text (not counted).
    source = ("Interviewer: Cafe\u0301 or tea?\r\nAnn: The cafe\u0301 group \U0001F600 "
              "helps.\rI trust them now.\r\nInterviewer: Why?\r\nAnn: They listen to me.\r\n")
    words = ["Cafe\u0301 or tea?", "The cafe\u0301 group \U0001F600 helps.\rI trust",
             "trust them now.\r\nInterviewer", "They listen", "listen to me."]
    spans = [(source.index(w), source.index(w) + len(w)) for w in words]
    selections = "".join(
        f'<PlainTextSelection guid="{guid(100 + i)}" startPosition="{s}" endPosition="{e}" '
        f'creatingUser="{guid(1)}"><Coding guid="{guid(200 + i)}" creatingUser="{guid(1)}">'
        f'<CodeRef targetGUID="{guid(50)}"/></Coding></PlainTextSelection>'
        for i, (s, e) in enumerate(spans))
    qde = project_xml(
        f'<CodeBook><Codes><Code guid="{guid(50)}" name="Trust" isCodable="true"/></Codes>'
        f'</CodeBook><Sources><TextSource guid="{guid(10)}" name="ann.txt" '
        f'plainTextPath="internal://{guid(10)}.txt">{selections}</TextSource></Sources>')
    path = make_qdpx(tmp_path / "ann.qdpx", qde,
                     [(f"sources/{guid(10)}.txt", source.encode("utf-8-sig"))])
    report = import_qdpx(fresh, path)
    assert (report.documents, report.codings, report.warnings) == (1, 5, [])
    text = fresh.document_text("ann.txt")
    assert text == normalise(source)
    frame = fresh.codings_frame().sort_values("start")
    for quote, (start, end) in zip(frame["quote"], spans):
        expected = unicodedata.normalize("NFC", source[start:end])
        assert quote.split() == expected.split()
    assert set(frame["coder"]) == {"Ann"} and set(frame["origin"]) == {"refi"}


def test_sources_from_file_paths_and_docx_and_missing_ones(fresh, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "abs.txt").write_text("Interviewer: Hi?\nBo: Absolute path text.\n")
    (tmp_path / "rel.txt").write_text("Interviewer: Hi?\nCy: Relative path text.\n")
    docx = (SAMPLES / "transcripts/p01_community_link_worker.docx").read_bytes()
    docx_text = coding.ingest_file(SAMPLES / "transcripts/p01_community_link_worker.docx").text
    quote = "what matters to you just now"
    start = docx_text.index(quote)
    sources = (
        f'<TextSource guid="{guid(11)}" name="abs.txt" '
        f'plainTextPath="file://{(outside / "abs.txt").as_posix()}"/>'
        f'<TextSource guid="{guid(12)}" name="rel.txt" plainTextPath="relative://rel.txt"/>'
        f'<TextSource guid="{guid(13)}" name="p01.docx" plainTextPath="internal://gone.txt" '
        f'richTextPath="internal://{guid(13)}.docx"><PlainTextSelection guid="{guid(30)}" '
        f'name="{quote}" startPosition="{start + 3}" endPosition="{start + 3 + len(quote)}">'
        f'<Coding guid="{guid(31)}"><CodeRef targetGUID="{guid(50)}"/></Coding>'
        f'</PlainTextSelection></TextSource>'
        f'<TextSource guid="{guid(14)}" name="lost.txt" plainTextPath="internal://lost.txt"/>'
        f'<TextSource guid="{guid(15)}" name="dev.txt" plainTextPath="file:///dev/zero"/>')
    qde = project_xml(f'<CodeBook><Codes><Code guid="{guid(50)}" name="Listening" '
                      f'isCodable="true"/></Codes></CodeBook><Sources>{sources}</Sources>'
                      '<Extra/>')
    path = make_qdpx(tmp_path / "mixed.qdpx", qde, [(f"Sources/{guid(13)}.docx", docx)])
    report = import_qdpx(fresh, path)
    assert sorted(d.name for d in fresh.documents()) == ["abs.txt", "p01.docx", "rel.txt"]
    assert fresh.document_text("abs.txt").endswith("Absolute path text.\n")
    assert fresh.document_text("p01.docx") == docx_text
    frame = fresh.codings_frame()
    # no creatingUser on the coding or its selection: the file's only user made it
    assert list(frame["quote"]) == [quote] and list(frame["coder"]) == ["Ann"]
    assert report.warnings == [
        f"{path}: read {outside / 'abs.txt'} from the file system "
        f"(file://{(outside / 'abs.txt').as_posix()})",
        f"{path}: read {tmp_path / 'rel.txt'} from the file system (relative://rel.txt)",
        f"{path}: source 'p01.docx': plain text missing, read from its .docx; selection "
        "positions were applied to that text and checked against their names where possible",
        f"{path}: source 'lost.txt': its text is missing (plainTextPath 'internal://lost.txt', "
        "richTextPath None not found); skipped (0 selections and 0 codings not imported)",
        f"{path}: source 'dev.txt': its text is missing (plainTextPath 'file:///dev/zero', "
        "richTextPath None not found); skipped (0 selections and 0 codings not imported)",
        f"{path}: skipped 1 <Extra> element (not supported)",
        f"{path}: 1 coding name no creatingUser; credited to 'Ann' (the file's only user)"]


def test_cases_variables_and_notes_from_another_tool(fresh, tmp_path):
    text = "Interviewer: How is it?\nAnn: Good, thanks.\n"
    variables = (f'<Variables><Variable guid="{guid(60)}" name="age" typeOfVariable="Integer"/>'
                 f'<Variable guid="{guid(61)}" name="carer" typeOfVariable="Boolean"/>'
                 f'<Variable guid="{guid(62)}" name="seen" typeOfVariable="DateTime"/>'
                 '</Variables>')
    cases = (f'<Cases><Case guid="{guid(70)}" name="Ann"><Description>Met twice.</Description>'
             f'<VariableValue><VariableRef targetGUID="{guid(60)}"/><IntegerValue>67'
             f'</IntegerValue></VariableValue><VariableValue><VariableRef targetGUID='
             f'"{guid(61)}"/><BooleanValue>1</BooleanValue></VariableValue>'
             f'<SourceRef targetGUID="{guid(10)}"/></Case>'
             f'<Case guid="{guid(71)}" name="Bo"><VariableValue><VariableRef targetGUID='
             f'"{guid(62)}"/><DateTimeValue>2024-03-01T10:00:00Z</DateTimeValue>'
             f'</VariableValue></Case></Cases>')
    start = text.index("Good")
    sources = (f'<Sources><TextSource guid="{guid(10)}" name="ann.txt"><PlainTextContent>'
               f'{text}</PlainTextContent><PlainTextSelection guid="{guid(20)}" '
               f'startPosition="{start}" endPosition="{start + 4}"><Coding guid="{guid(21)}" '
               f'creatingUser="{guid(1)}"><CodeRef targetGUID="{guid(50)}"/><NoteRef '
               f'targetGUID="{guid(80)}"/></Coding></PlainTextSelection><NoteRef targetGUID='
               f'"{guid(81)}"/></TextSource></Sources>')
    notes = (f'<Notes><Note guid="{guid(80)}" name="why" creatingUser="{guid(1)}" '
             f'creationDateTime="2024-03-02T09:30:00Z"><PlainTextContent>Said warmly.'
             f'</PlainTextContent></Note><Note guid="{guid(81)}"><PlainTextContent>A short one.'
             f'</PlainTextContent></Note><Note guid="{guid(82)}"><PlainTextContent>About Ann.'
             f'</PlainTextContent></Note></Notes><Links><Link guid="{guid(90)}" '
             f'originGUID="{guid(82)}" targetGUID="{guid(70)}"/></Links>')
    qde = project_xml(f'<CodeBook><Codes><Code guid="{guid(50)}" name="Wellbeing" '
                      f'isCodable="true"/></Codes></CodeBook>{variables}{cases}{sources}{notes}')
    path = tmp_path / "cases.qde"
    path.write_text(qde, encoding="utf-8")
    report = import_qdpx(fresh, path)
    assert report.summary() == ("1 documents, 1 codes, 1 codings, 4 memos, 2 cases added; "
                                "1 users; 0 warnings")
    assert cases_of(fresh) == {
        "Ann": {"age": ("number", "67"), "carer": ("boolean", "true"), "seen": ("text", None)},
        "Bo": {"age": ("number", None), "carer": ("boolean", None),
               "seen": ("text", "2024-03-01T10:00:00Z")}}
    assert [d.case for d in fresh.documents()] == ["Ann"]
    assert memos_of(fresh) == [
        ("case", "Ann", "importer", "", "About Ann."),
        ("case", "Ann", "importer", "Description", "Met twice."),
        ("coding", "('ann.txt', 'wellbeing', 29, 33)", "Ann", "why", "Said warmly."),
        ("document", "ann.txt", "importer", "", "A short one.")]
    memos = fresh.memos().set_index("title")
    assert str(memos.loc["why", "created_at"])[:16] == "2024-03-02 09:30"


# -- hostile and broken files -----------------------------------------------------------------

@pytest.fixture
def target(coded_project, tmp_path):
    """A project with content, to show a refused file changes nothing."""
    transcript = tmp_path / "p01.txt"
    transcript.write_text("Interviewer: What helped?\nAnn: The walking group helped.\n")
    coded_project.ingest([transcript])
    coded_project.add_coding("p01.txt", "relationships", 30, 50)
    return coded_project


def refused(project, path, importer=import_refi):
    before = state(project)
    with pytest.raises(RefiError) as info:
        importer(project, path)
    assert state(project) == before
    return str(info.value)


def test_xxe_in_project_qde_is_refused(target, tmp_path):
    path = make_qdpx(tmp_path / "xxe.qdpx", XXE + f'<Project xmlns="{QDE}" name="x">&e;'
                     "</Project>")
    message = refused(target, path)
    assert message == (f"{path}/project.qde:2: XML with a DTD or entity declarations is "
                       "refused (they allow external entity and entity-expansion attacks): "
                       "<!DOCTYPE x>")


def test_xxe_in_qdc_is_refused(target, tmp_path):
    path = tmp_path / "xxe.qdc"
    path.write_text(XXE + f'<CodeBook xmlns="{QDC}"><Codes><Code guid="{guid(1)}" name="&e;" '
                    'isCodable="true"/></Codes></CodeBook>')
    assert refused(target, path) == (f"{path}:2: XML with a DTD or entity declarations is "
                                     "refused (they allow external entity and entity-expansion "
                                     "attacks): <!DOCTYPE x>")


def test_billion_laughs_qdc_is_refused(target, tmp_path):
    path = tmp_path / "laughs.qdc"
    path.write_text(LAUGHS)
    assert refused(target, path) == (f"{path}:2: XML with a DTD or entity declarations is "
                                     "refused (they allow external entity and entity-expansion "
                                     "attacks): <!DOCTYPE lolz>")


def test_zip_slip_entry_is_refused(target, tmp_path):
    path = make_qdpx(tmp_path / "slip.qdpx", project_xml(""), [("../evil.txt", b"gotcha")])
    assert refused(target, path) == (f"{path}: holds an entry with an unsafe path "
                                     "'../evil.txt' (absolute or with '..'); refused")
    absolute = make_qdpx(tmp_path / "abs.qdpx", project_xml(""), [("/etc/evil.txt", b"x")])
    assert "unsafe path '/etc/evil.txt'" in refused(target, absolute)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_zip_bomb_is_refused_before_reading(target, tmp_path):
    path = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("project.qde", project_xml(""))
        with archive.open("sources/bomb.txt", "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(200):  # 200 MB of zeros, ~200 KB packed
                member.write(block)
    message = refused(target, path)
    assert message.startswith(f"{path}: entry 'sources/bomb.txt' would unpack from ")
    assert message.endswith("bytes to 210 MB (a zip bomb?); refused")


def test_broken_archives_are_one_clear_error(target, tmp_path):
    good = make_qdpx(tmp_path / "good.qdpx", project_xml(""))
    truncated = tmp_path / "truncated.qdpx"
    truncated.write_bytes(good.read_bytes()[:-30])
    assert refused(target, truncated).startswith(
        f"{truncated}: is not a readable .qdpx project: not a zip archive, or damaged or "
        "truncated (")
    not_zip = tmp_path / "text.qdpx"
    not_zip.write_text("hello")
    assert refused(target, not_zip) == (f"{not_zip}: is not a readable .qdpx project: not a "
                                        "zip archive, or damaged or truncated (File is not a "
                                        "zip file)")
    crc = tmp_path / "crc.qdpx"
    data = bytearray(make_qdpx(tmp_path / "plain.qdpx", project_xml("<Description>"
                     + "words " * 50 + "</Description>"), []).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("project.qde")
    body = info.header_offset + 30 + len(info.filename) + 5
    data[body] ^= 0xFF
    crc.write_bytes(bytes(data))
    assert refused(target, crc).startswith(
        f"{crc}: is not a readable .qdpx project: member 'project.qde' is damaged (")


def test_archive_needs_exactly_one_qde_at_its_root(target, tmp_path):
    none = make_qdpx(tmp_path / "none.qdpx", None, [("sources/a.txt", b"x"),
                                                     ("inner/project.qde", b"<Project/>")])
    assert refused(target, none) == (f"{none}: has no .qde project file at its root (is it a "
                                     "REFI-QDA .qdpx?)")
    two = make_qdpx(tmp_path / "two.qdpx", project_xml(""), [("Other.qde", project_xml(""))])
    assert refused(target, two) == (f"{two}: has 2 .qde project files at its root (Other.qde, "
                                    "project.qde); expected one")


def test_malformed_xml_names_file_and_line(target, tmp_path):
    path = make_qdpx(tmp_path / "bad.qdpx", f'<Project xmlns="{QDE}" name="x">\n<Users>\n'
                     "</Project>", qde_name="Project.qde")
    assert refused(target, path) == (f"{path}/Project.qde:3: is not well-formed XML: "
                                     "mismatched tag")
    wrong = tmp_path / "wrong.qdc"
    wrong.write_text("<Project/>")
    assert refused(target, wrong) == f"{wrong}: is a REFI-QDA project with no CodeBook"
    assert refused(target, tmp_path / "missing.qdpx") == \
        f"{tmp_path / 'missing.qdpx'}: does not exist"
    assert refused(target, tmp_path / "file.refi") == (
        f"{tmp_path / 'file.refi'}: is not a REFI-QDA file (expected .qdc, .qdpx or .qde, "
        "got '.refi')")


def test_bad_selections_and_unknown_codes_are_skipped_with_warnings(fresh, tmp_path):
    text = "Interviewer: How is it?\nAnn: Good, thanks.\n"
    selection = ('<PlainTextSelection guid="{g}" name="{n}" startPosition="{s}" endPosition="{e}">'
                 '<Coding guid="{c}"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')
    selections = "".join(selection.format(g=guid(20 + i), n=n, s=s, e=e, c=guid(40 + i), code=code)
                         for i, (n, s, e, code) in enumerate([
                             ("far", 10, 99, guid(50)), ("odd", "x", 3, guid(50)),
                             ("ghost", 29, 33, guid(59)), ("good", 29, 33, guid(50))]))
    qde = project_xml(f'<CodeBook><Codes><Code guid="{guid(50)}" name="Wellbeing" '
                      f'isCodable="true"/></Codes></CodeBook><Sources><TextSource '
                      f'guid="{guid(10)}" name="ann.txt"><PlainTextContent>{text}'
                      f'</PlainTextContent>{selections}</TextSource></Sources>')
    path = make_qdpx(tmp_path / "bad.qdpx", qde)
    report = import_qdpx(fresh, path)
    assert report.warnings == [
        f"{path}: source 'ann.txt': selection 'odd': startPosition/endPosition are not whole "
        "numbers; skipped",
        f"{path}: source 'ann.txt': selection 'far': [10, 99) is not a span of the source text "
        "(0..43); skipped",
        f"{path}: skipped 1 coding of codes not in the codebook",
        f"{path}: 1 coding name no creatingUser; credited to 'Ann' (the file's only user)"]
    assert report.details() == [
        "source 'ann.txt' -> document 'ann.txt': 1 of 4 codings imported, positions in code "
        "points; 3 skipped (1: positions not whole numbers; 1: outside the text; 1: codes not "
        "in the codebook)"]
    assert list(fresh.codings_frame()["quote"]) == ["Good"]


def test_codes_nested_too_deep_are_refused(target, tmp_path):
    path = tmp_path / "deep.qdc"
    nested = "".join(f'<Code guid="{guid(i)}" name="c{i}" isCodable="true">' for i in range(60))
    path.write_text(f'<CodeBook xmlns="{QDC}"><Codes>{nested}{"</Code>" * 60}</Codes>'
                    "</CodeBook>")
    assert refused(target, path) == (f"{path}: codes are nested more than 50 levels deep; "
                                     "refused")


def test_a_project_file_cannot_pull_in_files_from_elsewhere_on_this_machine(fresh, tmp_path):
    folder = tmp_path / "received"
    folder.mkdir()
    secret = tmp_path / "secret.txt"  # outside the folder the project file came in
    secret.write_text("Interviewer: Hi?\nEve: my password is hunter2\n")
    qde = project_xml(
        f'<Sources><TextSource guid="{guid(16)}" name="secret.txt" '
        f'plainTextPath="file://{secret.as_posix()}"/>'
        f'<TextSource guid="{guid(17)}" name="up.txt" plainTextPath="relative://../secret.txt"/>'
        '</Sources>')
    path = make_qdpx(folder / "hostile.qdpx", qde)
    report = import_qdpx(fresh, path)
    assert fresh.documents() == []
    assert all("hunter2" not in warning for warning in report.warnings)
    assert sum("its text is missing" in warning for warning in report.warnings) == 2


def test_refi_reader_and_offsets_touch_no_database():
    """reader, offsets and common import nothing of SQLAlchemy, the project or the storage,
    directly or through the modules of ours they import (issue 14: the reader is pure)."""
    package = ROOT / "coding"

    def imports_of(name):
        file = package.parent / (name.replace(".", "/") + ".py")
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = name.split(".")[:-node.level] if node.level else []
                yield ".".join([*base, node.module] if node.module else base)

    seen, todo = set(), [f"coding.interchange.refi.{m}" for m in ("reader", "offsets", "common")]
    while todo:
        name = todo.pop()
        for imported in imports_of(name):
            if imported.startswith("coding.") and imported not in seen and \
                    (package.parent / (imported.replace(".", "/") + ".py")).is_file():
                seen.add(imported)
                todo.append(imported)
            seen.add(imported)
    assert sorted(m for m in seen if m.split(".")[0] == "sqlalchemy"
                  or m.startswith(("coding.project", "coding.storage"))) == []
    assert "coding.readers.archive" in seen  # the walk did follow our own imports
