"""REFI-QDA interchange (QDA-XML 1.0): .qdc codebooks and .qdpx projects, written and read.

Export writes the current codebook (`export_qdc`) or the whole project (`export_qdpx`: a zip
holding `project.qde` and `sources/<guid>.txt`, each our stored document text in UTF-8). Import
(`import_qdc`, `import_qdpx`, which also takes a bare `.qde`) reads files from ATLAS.ti, NVivo,
MAXQDA, QualCoder and us. Archives and XML are read through `archive.py`: members in memory,
no DTDs or entities, zip bombs and unsafe member names refused before anything is read.

Offsets. REFI positions count Unicode characters; we write and read them as code points
(Python `str` indices), which is what our offsets already are. Exported sources are exactly
our frozen text, so exported positions are our offsets unchanged. Imported source text is
normalised by ingest (byte-order mark dropped, `\\r\\n` and `\\r` to `\\n`, NFC), so each
selection is mapped from the source's characters to the stored text's characters through an
offset map built while normalising (or, failing that, a difflib alignment): the imported span
covers the same words. Tools that count UTF-16 code units differ from us only after a
character outside the Basic Multilingual Plane (an emoji) in a source.

GUIDs. Every GUID we write is stable across exports: uuid5 of the project (its name and
creation time) and the object (a code's id, a document's SHA-256, a case's or variable's
name; users by name alone, so a person has one GUID in every project). Selections, codings
and notes get uuid5 of their content (document, code, span, coder; a memo's target and
text), so a re-exported import keeps them. GUIDs read from an import are kept (documents in
their `meta["refi_guid"]`; codes, cases, variables and users in the project's
`settings["refi"]`) and reused by the next export.

What a round trip through REFI keeps: document texts and names, the code tree with ids,
names, colours, definitions, inclusion/exclusion and examples (written into each code's
Description, ending with a 'Code id:' line, and read back from it), cases with typed
attributes and their documents, accepted and manual codings (document, code, span, coder,
time) and memos (target, coder, title, text, time; a case's memos are Notes linked to the
case, as a Case cannot hold a NoteRef). What it loses: document formats and turns (sources
are plain text; turns are re-segmented on import, so a .vtt's cue times go), case file
patterns, code keywords and regex patterns (kept when a code is matched to an existing one),
coding status (everything imports as `manual`, origin `refi`), suggestion scores and
rationales, and times below one second.
"""

import bisect
import codecs
import difflib
import io
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlalchemy import insert, inspect, select

from ...errors import CodebookError, RefiError, TranscriptError
from ...files import write_atomic
from ...project.lookup import CaseOwners, free_name, match_document
from ...readers.archive import SafeArchive, parse_xml
from ...readers.codebooks import code_id_from_name, dump_codebook, parse_codebook
from ...readers.codings_file import locate_quote
from ...readers.text import decode_bytes
from ...readers.transcripts import MAX_FILE_BYTES, parse_bytes
from ...records import COUNTED_STATUSES, MANUAL, SUGGESTED, Code, Codebook
from ...storage.schema import (AttributeRow, CaseRow, CodeRow, CodingRow, DocumentRow, EventRow,
                              MemoRow, ProjectRow, TurnRow)

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
SETTINGS_KEY = "refi"
MAX_CODE_DEPTH = 50  # GCPH has 2 levels; the codebook module walks trees recursively
ORIGIN = "refi"  # the origin of imported codings
# Our namespace for uuid5 GUIDs; fixed forever, or every export's GUIDs change.
GUID_NAMESPACE = uuid.UUID("5f0e7a4c-3b1d-5c8e-9a2f-6d4b8e1c7a30")

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COLOUR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_GENERIC_NAME = re.compile(r"^(quotation|selection|segment)\s*[\d:.\s]*$", re.I)
_STATED_ID = re.compile(r"\n\nCode id: ([A-Za-z][A-Za-z0-9_.-]*)$")
_SECTION = re.compile(r"\n\n(?=(?:Inclusion: |Exclusion: |Examples:\n))")
_TEXT_SOURCES = {"TextSource"}
_OTHER_SOURCES = {"PDFSource": "PDF", "PictureSource": "picture", "AudioSource": "audio",
                  "VideoSource": "video"}
_VARIABLE_TYPES = {"Text": "text", "Boolean": "boolean", "Integer": "number", "Float": "number",
                   "Date": "date", "DateTime": "text"}


@dataclass
class ExportReport:
    """What an export wrote; `warnings` lists what was left out and why."""

    path: str
    documents: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    cases: int = 0
    users: int = 0
    warnings: list = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import added (counts of new rows) and every warning, each naming the file."""

    path: str
    users: list = field(default_factory=list)  # coder names found in the file
    documents: int = 0
    documents_present: int = 0  # the same text was already in the project
    codes: int = 0
    codes_retired: int = 0  # a .qdc replaces the codebook: codes not in it are retired
    codings: int = 0
    codings_present: int = 0
    memos: int = 0
    cases: int = 0
    warnings: list = field(default_factory=list)

    def summary(self):
        """One line for a person: '2 documents, 14 codes, 16 codings, ... added; 3 warnings'."""
        parts = [f"{self.documents} documents", f"{self.codes} codes",
                 f"{self.codings} codings", f"{self.memos} memos", f"{self.cases} cases"]
        present = [f"{n} {what}" for n, what in ((self.documents_present, "documents"),
                                                  (self.codings_present, "codings")) if n]
        line = ", ".join(parts) + " added"
        if present:
            line += f" ({', '.join(present)} already present)"
        if self.codes_retired:
            line += f"; {self.codes_retired} codes not in the file retired"
        return line + f"; {len(self.users)} users; {len(self.warnings)} warnings"


# == export ===================================================================================

def export_qdc(project, path):
    """Write the current codebook as a REFI-QDA codebook (.qdc); returns an ExportReport."""
    codebook = project.codebook()
    with project.store.reading() as session:
        guids = _Guids.of(session)
    root = ET.Element("CodeBook", {"xmlns": NS_CODEBOOK, "origin": _origin()})
    _code_elements(root, codebook, guids, notes={})
    _write(path, _xml_bytes(root))
    return ExportReport(path=str(path), codes=len(codebook.codes))


def export_qdpx(project, path, include_suggestions=False):
    """Write the project as a REFI-QDA project (.qdpx); returns an ExportReport.

    Codings exported are accepted and manual ones; with include_suggestions, pending
    suggestions too (their score and rationale in the selection's Description).
    """
    statuses = COUNTED_STATUSES + ((SUGGESTED,) if include_suggestions else ())
    data = _read_project(project, statuses)
    report = ExportReport(path=str(path))
    plan = _ExportPlan(data, report)
    guids = data.guids
    root = ET.Element("Project", _attrs({
        "xmlns": NS_PROJECT, "name": data.name, "origin": _origin(),
        "creatingUserGUID": guids.user(data.first_coder) if data.first_coder else None,
        "creationDateTime": _iso(data.created_at), "modifiedDateTime": _iso(data.modified_at)}))
    users = sorted(data.coders)
    if users:
        users_el = _el(root, "Users")
        for name in users:
            _el(users_el, "User", guid=guids.user(name), name=name)
    if data.codebook is not None:
        _code_elements(_el(root, "CodeBook"), data.codebook, guids,
                       notes={key: plan.note_refs.get(("code", guid), [])
                              for key, guid in plan.code_guid.items()})
    _case_elements(root, data, plan)
    files = _source_elements(root, data, plan, report)
    if plan.notes:
        notes_el = _el(root, "Notes")
        for note_guid, memo in plan.notes:
            note = _el(notes_el, "Note", guid=note_guid, name=memo.title or None,
                       creatingUser=guids.user(memo.coder),
                       creationDateTime=_iso(memo.created_at))
            _el(note, "PlainTextContent", text=memo.text)
    if plan.links:  # a Case cannot hold a NoteRef: its memos are Notes linked to it
        links_el = _el(root, "Links")
        for link_guid, origin, target in plan.links:
            _el(links_el, "Link", guid=link_guid, name="Case memo", direction="OneWay",
                originGUID=origin, targetGUID=target)
    for note in plan.note_refs.get(("project", None), []):
        _el(root, "NoteRef", targetGUID=note)

    buffer = io.BytesIO()
    stamp = _zip_time(data.modified_at or data.created_at)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("project.qde", _xml_bytes(root)), *files.items()]:
            info = zipfile.ZipInfo(name, date_time=stamp)  # same project, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    _write(path, buffer.getvalue())
    report.documents, report.memos, report.cases = (len(data.documents), len(plan.notes),
                                                    len(data.cases))
    report.codes, report.users = len(plan.code_guid), len(users)
    return report


class _ExportPlan:
    """The GUIDs of what a .qdpx holds, and where each memo goes."""

    def __init__(self, data, report):
        guids = data.guids
        current = {code.id for code in data.codebook.codes} if data.codebook else set()
        self.code_guid = {key: guids.code(key) for key in current}
        self.doc_guid = {doc.id: guids.document(doc) for doc in data.documents}
        self.case_guid = {case.id: guids.case(case.name) for case in data.cases}
        self.selections, seen, retired = {}, Counter(), 0
        for coding in data.codings:
            key = data.code_keys[coding.code_id]
            if key not in current:
                retired += 1
                continue
            content = (self.doc_guid[coding.document_id], self.code_guid[key], coding.start,
                       coding.end, coding.coder)
            seen[content] += 1
            suffix = f"#{seen[content]}" if seen[content] > 1 else ""
            # From content, not the project: a re-export of an import gives the same GUIDs.
            self.selections[coding.id] = (guids.content("selection", *content, suffix),
                                          guids.content("coding", *content, suffix))
        if retired:
            report.warnings.append(f"{retired} codings of retired codes were left out")
        self.notes, self.links, self.note_refs, left_out = [], [], {}, 0
        for memo in data.memos:
            target = self._memo_target(memo, data)
            if target is None and memo.target_type != "project":
                left_out += 1
                continue
            content = ("note", memo.target_type, target or "", memo.coder, memo.title,
                       memo.text)
            seen[content] += 1
            note_guid = guids.content(*content, f"#{seen[content]}" if seen[content] > 1
                                      else "")
            self.notes.append((note_guid, memo))
            if memo.target_type == "case":
                self.links.append((guids.content("link", note_guid), target, note_guid))
            else:
                self.note_refs.setdefault((memo.target_type, target), []).append(note_guid)
        if left_out:
            report.warnings.append(f"{left_out} memos on codings, documents or codes that are "
                                   "not exported were left out")

    def _memo_target(self, memo, data):
        kind, target = memo.target_type, memo.target_id
        if kind == "document":
            return self.doc_guid.get(target)
        if kind == "code":
            return self.code_guid.get(data.code_keys.get(target))
        if kind == "coding":
            return self.selections.get(target, (None,))[0]
        if kind == "case":
            return self.case_guid.get(target)
        return None


def _case_elements(root, data, plan):
    variables = _variables(data.cases, data.guids)
    if variables:
        variables_el = _el(root, "Variables")
        for name, (guid, kind) in variables.items():
            _el(variables_el, "Variable", guid=guid, name=name, typeOfVariable=kind)
    if not data.cases:
        return
    documents_of = {}
    for doc in data.documents:
        documents_of.setdefault(doc.case_id, []).append(doc)
    cases_el = _el(root, "Cases")
    for case in data.cases:
        case_el = _el(cases_el, "Case", guid=plan.case_guid[case.id], name=case.name)
        for attribute in case.attributes:
            _variable_value(case_el, attribute, variables)
        for doc in documents_of.get(case.id, []):
            _el(case_el, "SourceRef", targetGUID=plan.doc_guid[doc.id])


def _source_elements(root, data, plan, report):
    """TextSources with their selections; returns the archive's sources/ files."""
    if not data.documents:
        return {}
    guids, files, by_document = data.guids, {}, {}
    for coding in data.codings:
        if coding.id in plan.selections:
            by_document.setdefault(coding.document_id, []).append(coding)
    sources_el = _el(root, "Sources")
    for doc in data.documents:
        guid = plan.doc_guid[doc.id]
        creator = data.creators.get(doc.id)
        source = _el(sources_el, "TextSource", guid=guid, name=doc.name,
                     plainTextPath=f"internal://{guid}.txt",
                     creatingUser=guids.user(creator) if creator else None,
                     creationDateTime=_iso(doc.created_at))
        for coding in by_document.get(doc.id, []):
            selection_guid, coding_guid = plan.selections[coding.id]
            selection = _el(source, "PlainTextSelection", guid=selection_guid,
                            name=_quote_name(doc.text[coding.start:coding.end]),
                            startPosition=coding.start, endPosition=coding.end,
                            creatingUser=guids.user(coding.coder),
                            creationDateTime=_iso(coding.created_at))
            if coding.status == SUGGESTED:
                _el(selection, "Description",
                    text=f"Suggestion ({coding.origin}, score {coding.score or 0:.2f}): "
                         f"{coding.rationale or ''}".strip())
            coding_el = _el(selection, "Coding", guid=coding_guid,
                            creatingUser=guids.user(coding.coder),
                            creationDateTime=_iso(coding.created_at))
            _el(coding_el, "CodeRef",
                targetGUID=plan.code_guid[data.code_keys[coding.code_id]])
            for note in plan.note_refs.get(("coding", selection_guid), []):
                _el(selection, "NoteRef", targetGUID=note)
            report.codings += 1
        for note in plan.note_refs.get(("document", guid), []):
            _el(source, "NoteRef", targetGUID=note)
        files[f"sources/{guid}.txt"] = doc.text.encode("utf-8")  # exactly our frozen text
    return files


def describe_code(code):
    """A code's REFI Description: definition, then Inclusion/Exclusion/Examples paragraphs and
    a last 'Code id: ...' line (read back by `parse_description`).

    REFI has no field for our code ids; the line keeps them through other tools, and lets a
    reader there follow guidance such as "use `relationship_focused`".
    """
    parts = [code.definition] if code.definition else []
    if code.inclusion:
        parts.append("Inclusion: " + code.inclusion)
    if code.exclusion:
        parts.append("Exclusion: " + code.exclusion)
    if code.examples:
        parts.append("Examples:\n" + "\n".join("- " + " ".join(example.split())
                                               for example in code.examples))
    parts.append(f"Code id: {code.id}")
    return "\n\n".join(parts)


def parse_description(text):
    """The fields of a Description written by `describe_code`; any other text is all definition.

    >>> parse_description("Trust between people.\\n\\nInclusion: talk of trust")
    {'definition': 'Trust between people.', 'inclusion': 'talk of trust', ..., 'id': None}
    """
    text = (text or "").strip()
    stated = _STATED_ID.search("\n\n" + text)
    code_id = None
    if stated:
        code_id, text = stated.group(1), ("\n\n" + text)[:stated.start()].strip()
    fields = _description_fields(text)
    fields["id"] = code_id
    return fields


def _description_fields(text):
    fields = {"definition": "", "inclusion": "", "exclusion": "", "examples": ()}
    chunks = _SECTION.split("\n\n" + text)
    fields["definition"] = chunks[0].strip()
    order = []
    for chunk in chunks[1:]:
        for key, label in (("inclusion", "Inclusion: "), ("exclusion", "Exclusion: ")):
            if chunk.startswith(label):
                fields[key] = chunk[len(label):].strip()
                order.append(key)
        if chunk.startswith("Examples:\n"):
            lines = chunk[len("Examples:\n"):].split("\n")
            if not all(line.startswith("- ") for line in lines):
                return {**fields, "definition": text, "inclusion": "", "exclusion": "",
                        "examples": ()}
            fields["examples"] = tuple(line[2:].strip() for line in lines if line[2:].strip())
            order.append("examples")
    expected = [k for k in ("inclusion", "exclusion", "examples") if k in order]
    if order != expected:  # sections out of order or repeated: not ours, keep the text whole
        return {"definition": text, "inclusion": "", "exclusion": "", "examples": ()}
    return fields


# -- export helpers ---------------------------------------------------------------------------

class _Guids:
    """Stable GUIDs: ones kept from an import, else uuid5 of the project seed and the object."""

    def __init__(self, seed, kept, document_guids=None):
        self.seed = seed
        self.kept = kept
        self.document_guids = document_guids or {}

    @classmethod
    def of(cls, session):
        project = session.scalars(select(ProjectRow)).one()
        created = project.created_at
        if created is not None and created.tzinfo is not None:
            created = created.astimezone(timezone.utc).replace(tzinfo=None)
        created = created.isoformat() if created is not None else ""
        return cls(f"{project.name}|{created}", dict((project.settings or {}).get(
            SETTINGS_KEY) or {}))

    def content(self, *parts):
        return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(map(str, parts)))).upper()

    def derived(self, kind, *parts):
        return self.content(self.seed, kind, *parts)

    def code(self, key):
        return self.kept.get("codes", {}).get(key) or self.derived("code", key)

    def case(self, name):
        return self.kept.get("cases", {}).get(name) or self.derived("case", name)

    def variable(self, name):
        return self.kept.get("variables", {}).get(name) or self.derived("variable", name)

    def user(self, name):
        return self.kept.get("users", {}).get(name) or self.content("user", name)

    def document(self, doc):
        return (doc.meta or {}).get("refi_guid") or self.derived("document", doc.sha256)


@dataclass
class _Snapshot:
    guids: _Guids
    name: str
    created_at: datetime | None
    modified_at: datetime | None
    first_coder: str | None
    codebook: Codebook | None
    code_keys: dict
    documents: list
    cases: list
    codings: list
    memos: list
    coders: set
    creators: dict


def _read_project(project, statuses):
    codebook = project.codebook_or_none()
    with project.store.reading() as session:
        guids = _Guids.of(session)
        row = session.scalars(select(ProjectRow)).one()
        documents = list(session.scalars(select(DocumentRow).order_by(DocumentRow.name)))
        cases = list(session.scalars(select(CaseRow).order_by(CaseRow.name)))
        for case in cases:
            case.attributes  # noqa: B018 - load them while the session is open
        code_keys = dict(session.execute(select(CodeRow.id, CodeRow.key)).all())
        codings = list(session.scalars(select(CodingRow).where(
            CodingRow.status.in_(list(statuses))).order_by(
            CodingRow.document_id, CodingRow.start, CodingRow.end, CodingRow.id)))
        memos = list(session.scalars(select(MemoRow).order_by(MemoRow.id)))
        events = session.execute(select(EventRow.coder, EventRow.at, EventRow.action,
                                        EventRow.entity, EventRow.entity_id)
                                 .order_by(EventRow.id)).all()
    coders = {c.coder for c in codings} | {m.coder for m in memos} | {e.coder for e in events}
    creators = {e.entity_id: e.coder for e in events
                if e.action == "ingest" and e.entity == "document"}
    return _Snapshot(guids=guids, name=row.name, created_at=row.created_at,
                     modified_at=events[-1].at if events else None,
                     first_coder=events[0].coder if events else None, codebook=codebook,
                     code_keys=code_keys, documents=documents, cases=cases, codings=codings,
                     memos=memos, coders={c for c in coders if c}, creators=creators)


def _code_elements(parent, codebook, guids, notes):
    codes_el = _el(parent, "Codes")

    def add(container, code):
        element = _el(container, "Code", guid=guids.code(code.id), name=code.name,
                      isCodable="true", color=code.colour.upper() if code.colour else None)
        description = describe_code(code)
        if description:
            _el(element, "Description", text=description)
        for note in notes.get(code.id, []):
            _el(element, "NoteRef", targetGUID=note)
        for child in codebook.children(code.id):
            add(element, child)

    for code in codebook.codes:
        if code.parent is None:
            add(codes_el, code)


def _variables(cases, guids):
    """name -> (guid, REFI type) over every case attribute; mixed types become Text."""
    values = {}
    for case in cases:
        for attribute in case.attributes:
            values.setdefault(attribute.name, []).append((attribute.type, attribute.value))
    result = {}
    for name, pairs in values.items():
        kinds = {kind for kind, _ in pairs}
        present = [value for _, value in pairs if value is not None]
        kind = "Text"
        if kinds == {"number"} and all(_DECIMAL.match(v) for v in present):
            kind = "Integer" if all(_INTEGER.match(v) for v in present) else "Float"
        elif kinds == {"boolean"}:
            kind = "Boolean"
        elif kinds == {"date"} and all(_valid_date(v) for v in present):
            kind = "Date"
        result[name] = (guids.variable(name), kind)
    return result


def _variable_value(case_el, attribute, variables):
    if attribute.value is None:
        return
    guid, kind = variables[attribute.name]
    element = _el(case_el, "VariableValue")
    _el(element, "VariableRef", targetGUID=guid)
    value = attribute.value
    if kind == "Boolean":
        value = "true" if value == "true" else "false"
    _el(element, f"{kind}Value", text=value)


def _valid_date(value):
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return bool(_DATE.match(value))


def _el(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, _attrs(attrs))
    if text is not None:
        element.text = _xml_safe(str(text))
    return element


def _attrs(attrs):
    return {key: _xml_safe(str(value)) for key, value in attrs.items() if value is not None}


def _xml_safe(text):
    """XML 1.0 cannot hold most control characters (a PDF's form feed): they become spaces."""
    return _INVALID_XML.sub(" ", text)


def _xml_bytes(root):
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _quote_name(text, limit=80):
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "\u2026"


def _iso(moment):
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _zip_time(moment):
    if moment is None or moment.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return moment.timetuple()[:6]


def _origin():
    try:
        return f"coding {metadata.version('coding')}"
    except metadata.PackageNotFoundError:
        return "coding"


def _write(path, content):
    try:
        write_atomic(path, content)  # raises CodingError naming the file when it cannot write
    except OSError as exc:
        raise RefiError(f"cannot write this file: {exc.strerror or exc}", path=path) from exc


# == import ===================================================================================

def import_refi(project, path):
    """Import a .qdc, .qdpx or .qde file by its extension; returns an ImportReport."""
    suffix = Path(path).suffix.lower()
    if suffix == ".qdc":
        return import_qdc(project, path)
    if suffix in (".qdpx", ".qde"):
        return import_qdpx(project, path)
    raise RefiError(f"is not a REFI-QDA file (expected .qdc, .qdpx or .qde, got "
                    f"'{suffix or '(none)'}')", path=path)


def import_qdc(project, path):
    """Import a REFI-QDA codebook (.qdc) as the project's new codebook version.

    Like a YAML codebook import, the file's codes become the current codebook and codes not
    in it are retired (kept with their codings). A code matched to an existing one (by the
    GUID kept from an earlier import, our own export's GUID, the 'Code id:' line that
    `export_qdc` writes into its description, else its name under the same parent) keeps its
    id, so its codings stay; its keywords and patterns (not in REFI) are kept too. New codes
    get the stated id or one made from their name. Descriptions written by `export_qdc` are
    split back into definition, inclusion, exclusion and examples; any other description
    becomes the definition. The REFI GUIDs are kept in the project's settings and reused by
    the next export. Returns an ImportReport.
    """
    path = Path(path)
    data = _read_file(path)
    root = parse_xml(data, path)
    report = ImportReport(path=str(path))
    warn = _Warnings(report, path)
    name = _local(root.tag)
    if name == "Project":
        codebook_el = _child(root, "CodeBook")
        if codebook_el is None:
            raise RefiError("is a REFI-QDA project with no CodeBook", path=path)
    elif name == "CodeBook":
        codebook_el = root
    else:
        raise RefiError(f"is not a REFI-QDA codebook: the root element is <{name}>, expected "
                        "<CodeBook>", path=path, line=1)
    codes = _read_codes(codebook_el, warn)
    if not codes:
        raise RefiError("holds no codes (CodeBook/Codes/Code)", path=path)
    existing = project.codebook_or_none()
    project._auto_backup("import_refi")
    with project.store.transaction() as session:
        plan = _CodebookPlan(session, existing, codes, path)
        codebook = plan.codebook(replace_all=True, header_name=path.stem,
                                 source=root.get("origin") or "")
        _save_codebook(session, project, plan, codebook, path, report)
        _remember(session, {"codes": plan.kept_guids()})
        project.store.log(session, project.coder, "import_refi", "codebook", None,
                          file=str(path), codes=report.codes, retired=report.codes_retired)
    warn.flush()
    return report


def import_qdpx(project, path):
    """Import a REFI-QDA project (.qdpx, or a bare .qde) into the project; all or nothing.

    Users become coder names; the codebook's codes are added to the current codebook
    (matched ones updated, see `import_qdc`); text sources become documents (their plain
    text from `internal://` in the archive, `relative://` or `file://` paths, or else their
    `.docx` rich text), each selection mapped onto the stored text (module docstring);
    cases and variables become cases with typed attributes, linked to their documents;
    codings become `manual` codings with origin `refi` by the creating user; notes become
    memos on what refers to them (project, document, code, coding, case). Sources that cannot
    be read, non-text sources (PDF, picture, audio, video) and unsupported elements are
    skipped with a warning. Importing the same file again adds nothing.
    A broken or hostile file raises RefiError and stores nothing.
    """
    path = Path(path)
    if path.suffix.lower() == ".qde":
        data, archive = _read_file(path), None
        qde_label = path
    else:
        archive = SafeArchive(path, kind=".qdpx project")
    try:
        if archive is not None:
            qde = _find_qde(archive, path)
            data, qde_label = archive.read(qde), f"{path}/{qde}"
        root = parse_xml(data, qde_label)
        if _local(root.tag) != "Project":
            raise RefiError(f"is not a REFI-QDA project: the root element is "
                            f"<{_local(root.tag)}>, expected <Project>", path=qde_label, line=1)
        report = ImportReport(path=str(path))
        warn = _Warnings(report, path)
        reader = _ProjectReader(root, path, archive, project.speaker_rules(), warn)
        reader.read()
    finally:
        if archive is not None:
            archive.close()
    _store_project(project, reader, path, report)
    warn.flush()
    return report


# -- reading ----------------------------------------------------------------------------------

class _Warnings:
    """Warnings for the report, each naming the file; unsupported elements counted by name."""

    def __init__(self, report, path):
        self.report, self.path, self.skipped = report, path, Counter()

    def __call__(self, message):
        self.report.warnings.append(f"{self.path}: {message}")

    def skip(self, element, where=""):
        self.skipped[(_local(element.tag), where)] += 1

    def flush(self):
        for (name, where), count in sorted(self.skipped.items()):
            plural = "s" if count > 1 else ""
            self(f"skipped {count} <{name}> element{plural}{where} (not supported)")
        self.skipped.clear()


@dataclass
class _RefiCode:
    guid: str
    name: str
    parent: str | None
    colour: str | None
    description: str


@dataclass
class _Selection:
    guid: str
    name: str
    start: int  # in the stored text
    end: int
    user: str | None
    created: datetime | None
    codings: list  # (coding guid, code guid, user guid, created, [note guids])
    notes: list
    description: str


@dataclass
class _Source:
    guid: str
    name: str
    parsed: object  # ParsedDocument
    selections: list
    notes: list
    values: list  # (variable guid, (type, value))
    description: str
    whole_codings: list  # codings of the whole source


@dataclass
class _Case:
    guid: str
    name: str
    values: list
    sources: list
    description: str


@dataclass
class _Note:
    guid: str
    name: str
    text: str
    user: str | None
    created: datetime | None


def _read_file(path):
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES * 4:
            raise RefiError(f"is {size / 1e6:.0f} MB, too large for a REFI-QDA XML file",
                            path=path)
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise RefiError("does not exist", path=path) from exc
    except OSError as exc:
        raise RefiError(f"cannot be read: {exc.strerror or exc}", path=path) from exc


def _find_qde(archive, path):
    """The one .qde at the archive's root (ATLAS.ti calls it Project.qde)."""
    found = [m.name for m in archive.members if "/" not in m.name.replace("\\", "/")
             and m.name.lower().endswith(".qde")]
    if not found:
        raise RefiError("has no .qde project file at its root (is it a REFI-QDA .qdpx?)",
                        path=path)
    if len(found) > 1:
        raise RefiError(f"has {len(found)} .qde project files at its root "
                        f"({', '.join(sorted(found))}); expected one", path=path)
    return found[0]


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name=None):
    return [child for child in element if isinstance(child.tag, str)
            and (name is None or _local(child.tag) == name)]


def _child(element, name):
    found = _children(element, name)
    return found[0] if found else None


def _name(value):
    """A name as we store names: NFC (ATLAS.ti on macOS writes decomposed accents), trimmed."""
    return unicodedata.normalize("NFC", value or "").strip()


def _guid(value):
    return value.strip().strip("{}").upper() if value else None


def _text_of(element):
    return element.text or "" if element is not None else ""


def _datetime(value):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _read_codes(codebook_el, warn):
    """The codes of a CodeBook, parents before children; nesting deeper than MAX_CODE_DEPTH
    is refused (a hostile file could otherwise exhaust recursion further on)."""
    codes, seen = [], set()

    def visit(container, parent, depth):
        if depth > MAX_CODE_DEPTH:
            raise RefiError(f"codes are nested more than {MAX_CODE_DEPTH} levels deep; refused",
                            path=warn.path)
        for element in _children(container):
            name = _local(element.tag)
            if name != "Code":
                if name not in ("Description", "NoteRef"):
                    warn.skip(element, " in a code")
                continue
            guid = _guid(element.get("guid"))
            if not guid or guid in seen:
                warn(f"code '{_name(element.get('name'))}' has "
                     f"{'a repeated' if guid else 'no'} guid; skipped with the codes under it")
                continue
            seen.add(guid)
            colour = (element.get("color") or "").strip()
            if colour and not _COLOUR.match(colour):
                warn(f"code '{_name(element.get('name'))}': colour {colour!r} is not #RRGGBB; "
                     "ignored")
                colour = ""
            codes.append(_RefiCode(guid=guid, name=_name(element.get("name")) or guid,
                                   parent=parent, colour=_colour(colour),
                                   description=_text_of(_child(element, "Description"))))
            visit(element, guid, depth + 1)

    codes_el = _child(codebook_el, "Codes")
    if codes_el is not None:
        visit(codes_el, None, 1)
    for element in _children(codebook_el):
        if _local(element.tag) != "Codes":
            warn.skip(element, " in the codebook")
    return codes


def _colour(value):
    if not value:
        return None
    digits = value[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits.lower()


class _ProjectReader:
    """Everything a .qde holds that we keep, read and checked before anything is stored."""

    def __init__(self, root, path, archive, rules, warn):
        self.root, self.path, self.archive, self.rules, self.warn = (root, path, archive,
                                                                     rules, warn)
        self.base_path = root.get("basePath") or ""
        self.users, self.codes, self.variables = {}, [], {}
        self.cases, self.sources, self.notes = [], [], {}
        self.note_refs = []  # (note guid, target kind, target guid)
        self.links = []  # (origin guid, target guid)
        self.selection_owner = {}  # selection guid -> source guid

    def read(self):
        handlers = {"Users": self._users, "CodeBook": self._codebook,
                    "Variables": self._variables, "Cases": self._cases,
                    "Sources": self._sources, "Notes": self._notes, "Links": self._links,
                    "Description": lambda element: None}
        for element in _children(self.root):
            name = _local(element.tag)
            if name == "NoteRef":
                self._note_ref(element, "project", None)
            elif name in handlers:
                handlers[name](element)
            else:
                self.warn.skip(element)
        self.warn.flush()

    def _users(self, element):
        for user in _children(element):
            if _local(user.tag) != "User" or not user.get("guid"):
                self.warn.skip(user, " in Users")
                continue
            name = _name(user.get("name") or user.get("id"))
            self.users[_guid(user.get("guid"))] = name or f"user {_guid(user.get('guid'))[:8]}"

    def user(self, guid):
        return self.users.get(_guid(guid)) if guid else None

    def _codebook(self, element):
        self.codes = _read_codes(element, self.warn)
        for code_el in element.iter():
            if _local(code_el.tag) == "Code":
                for ref in _children(code_el, "NoteRef"):
                    self._note_ref(ref, "code", _guid(code_el.get("guid")))

    def _variables(self, element):
        for variable in _children(element):
            if _local(variable.tag) != "Variable" or not variable.get("guid"):
                self.warn.skip(variable, " in Variables")
                continue
            kind = variable.get("typeOfVariable") or "Text"
            self.variables[_guid(variable.get("guid"))] = (
                _name(variable.get("name")) or _guid(variable.get("guid")),
                _VARIABLE_TYPES.get(kind, "text"))

    def _values(self, element, where):
        values = []
        for value_el in _children(element, "VariableValue"):
            ref = _child(value_el, "VariableRef")
            guid = _guid(ref.get("targetGUID")) if ref is not None else None
            if guid not in self.variables:
                self.warn(f"{where}: a value of an undeclared variable was skipped")
                continue
            typed = [c for c in _children(value_el) if _local(c.tag) != "VariableRef"]
            values.append((guid, _typed_value(typed[0]) if typed else
                           (self.variables[guid][1], None)))
        return values

    def _cases(self, element):
        for case in _children(element):
            if _local(case.tag) != "Case" or not case.get("guid"):
                self.warn.skip(case, " in Cases")
                continue
            guid = _guid(case.get("guid"))
            name = _name(case.get("name")) or guid
            for child in _children(case):
                if _local(child.tag) not in ("Description", "VariableValue", "SourceRef"):
                    self.warn.skip(child, " in a case")
            self.cases.append(_Case(
                guid=guid, name=name, values=self._values(case, f"case '{name}'"),
                sources=[_guid(ref.get("targetGUID")) for ref in _children(case, "SourceRef")],
                description=_text_of(_child(case, "Description")).strip()))

    def _notes(self, element):
        for note in _children(element):
            if _local(note.tag) != "Note" or not note.get("guid"):
                self.warn.skip(note, " in Notes")
                continue
            guid = _guid(note.get("guid"))
            name = _name(note.get("name"))
            content = _child(note, "PlainTextContent")
            if content is not None:
                text = content.text or ""
            else:
                found = self._source_bytes(note.get("plainTextPath"), ".txt")
                try:
                    text = _decode(found[0], found[1]) if found else ""
                except TranscriptError as exc:
                    found, text = None, ""
                    self.warn(f"note '{name or guid}': {exc.message}")
                if not found:
                    self.warn(f"note '{name or guid}': its text cannot be found; "
                              "imported with its description only")
            description = _text_of(_child(note, "Description")).strip()
            if description:
                text = f"{description}\n\n{text.strip()}" if text.strip() else description
            for child in _children(note):
                if _local(child.tag) not in ("Description", "PlainTextContent", "NoteRef",
                                             "PlainTextSelection", "VariableValue"):
                    self.warn.skip(child, " in a note")
            self.notes[guid] = _Note(guid=guid, name=name, text=text,
                                     user=self.user(note.get("creatingUser")),
                                     created=_datetime(note.get("creationDateTime")))

    def _links(self, element):
        for link in _children(element):
            origin, target = _guid(link.get("originGUID")), _guid(link.get("targetGUID"))
            if _local(link.tag) == "Link" and origin and target:
                self.links.append((origin, target))
            else:
                self.warn.skip(link, " in Links")

    def _note_ref(self, element, kind, target):
        guid = _guid(element.get("targetGUID"))
        if guid:
            self.note_refs.append((guid, kind, target))

    # -- sources --------------------------------------------------------------------------
    def _sources(self, element):
        for source in _children(element):
            name = _local(source.tag)
            if name in _TEXT_SOURCES:
                self._text_source(source)
            elif name in _OTHER_SOURCES:
                self._other_source(source, _OTHER_SOURCES[name])
            else:
                self.warn.skip(source, " in Sources")

    def _other_source(self, source, kind):
        selections = [e for e in source.iter() if _local(e.tag).endswith("Selection")]
        codings = [e for e in source.iter() if _local(e.tag) == "Coding"]
        names = [repr(_quote_name(_name(s.get("name")), 40)) for s in selections[:3]]
        more = ", ..." if len(selections) > 3 else ""
        listed = f" ({', '.join(names)}{more})" if names else ""
        name = _name(source.get("name")) or source.get("guid")
        self.warn(f"{kind} source '{name}' skipped (only text sources are imported): "
                  f"{_n(len(selections), 'selection')}{listed} and "
                  f"{_n(len(codings), 'coding')} not imported")
        for selection in selections:
            self.selection_owner[_guid(selection.get("guid"))] = None

    def _text_source(self, source):
        guid = _guid(source.get("guid"))
        name = _name(source.get("name")) or f"{guid}.txt"
        label = f"source '{name}'"
        selections = _children(source, "PlainTextSelection")
        codings = sum(len(_children(s, "Coding")) for s in selections)
        lost = f"skipped ({_n(len(selections), 'selection')} and {_n(codings, 'coding')} " \
            "not imported)"
        content = _child(source, "PlainTextContent")
        original, parsed, via_docx = None, None, False
        try:
            if content is not None:
                original = content.text or ""
            else:
                found = self._source_bytes(source.get("plainTextPath"), ".txt")
                if found is not None:
                    original = _decode(found[0], found[1])
            if original is not None:
                parsed = parse_bytes(original.encode("utf-8"), name, "txt", self.rules,
                                     path=f"{self.path}: {label}")
            else:
                found = self._source_bytes(source.get("richTextPath"), ".docx")
                if found is None:
                    self.warn(f"{label}: its text is missing (plainTextPath "
                              f"{source.get('plainTextPath')!r}, richTextPath "
                              f"{source.get('richTextPath')!r} not found); {lost}")
                    return
                parsed = parse_bytes(found[0], name, "docx", self.rules,
                                     path=f"{self.path}: {label}")
                via_docx = True
                if selections:
                    self.warn(f"{label}: plain text missing, read from its .docx; selection "
                              "positions were applied to that text and checked against "
                              "their names where possible")
        except TranscriptError as exc:
            self.warn(f"{label}: cannot be read ({exc.message}); {lost}")
            return
        if via_docx:
            convert = lambda s, e, n: _docx_span(parsed.text, s, e, n)  # noqa: E731
            length = None
        else:
            starts, ends = _offset_map(original, parsed.text)
            convert = lambda s, e, n: _to_stored(starts, ends, s, e)  # noqa: E731
            length = len(original)
        result = _Source(guid=guid, name=name, parsed=parsed, selections=[],
                         notes=[_guid(r.get("targetGUID")) for r in _children(source, "NoteRef")],
                         values=self._values(source, label),
                         description=_text_of(_child(source, "Description")).strip(),
                         whole_codings=[self._coding(c) for c in _children(source, "Coding")])
        for selection in selections:
            item = self._selection(selection, convert, length, label)
            if item is not None:
                result.selections.append(item)
                self.selection_owner[item.guid] = guid
        for child in _children(source):
            if _local(child.tag) not in ("Description", "PlainTextContent", "PlainTextSelection",
                                         "Coding", "NoteRef", "VariableValue"):
                self.warn.skip(child, " in a text source")
        self.sources.append(result)

    def _selection(self, element, convert, length, label):
        guid = _guid(element.get("guid"))
        name = _name(element.get("name"))
        where = f"{label}: selection '{_quote_name(name, 40) or guid}'"
        try:
            start, end = int(element.get("startPosition")), int(element.get("endPosition"))
        except (TypeError, ValueError):
            self.warn(f"{where}: startPosition/endPosition are not whole numbers; skipped")
            return None
        if not 0 <= start < end or (length is not None and end > length):
            self.warn(f"{where}: [{start}, {end}) is not a span of the source text "
                      f"(0..{length if length is not None else '?'}); skipped")
            return None
        span = convert(start, end, name)
        if span is None:
            self.warn(f"{where}: [{start}, {end}) covers no text once the source is "
                      "normalised (or was not found in the .docx text); skipped")
            return None
        for child in _children(element):
            if _local(child.tag) not in ("Description", "Coding", "NoteRef"):
                self.warn.skip(child, " in a selection")
        return _Selection(guid=guid, name=name, start=span[0], end=span[1],
                          user=self.user(element.get("creatingUser")),
                          created=_datetime(element.get("creationDateTime")),
                          codings=[self._coding(c) for c in _children(element, "Coding")],
                          notes=[_guid(r.get("targetGUID"))
                                 for r in _children(element, "NoteRef")],
                          description=_text_of(_child(element, "Description")).strip())

    def _coding(self, element):
        ref = _child(element, "CodeRef")
        return (_guid(element.get("guid")), _guid(ref.get("targetGUID")) if ref is not None
                else None, element.get("creatingUser"),
                _datetime(element.get("creationDateTime")),
                [_guid(r.get("targetGUID")) for r in _children(element, "NoteRef")])

    def _source_bytes(self, location, suffix):
        """(bytes, where) of a source file named by a REFI path, or None when it is missing.

        internal:// is a member of the archive's sources/ folder (beside a bare .qde: a
        sources/ folder there); relative:// is under the project's basePath or beside the
        file; file:// is absolute (also looked for by name beside the file). Files outside an
        archive are read only from the folder holding the project file (or below it), and only
        regular files with the expected suffix (.txt, .docx) under the size limit.
        """
        if not location:
            return None
        location = location.strip()
        scheme, separator, rest = location.partition("://")
        if not separator:
            scheme, rest = "relative", location
        scheme = scheme.lower()
        if scheme == "internal":
            name = unquote(rest).lstrip("/")
            if self.archive is not None:
                member = self.archive.find(f"sources/{name}")
                return (self.archive.read(member.name), f"{self.path}/{member.name}") \
                    if member else None
            if "/" in name or "\\" in name or ".." in name:
                return None
            candidates = [self.path.parent / folder / name for folder in ("sources", "Sources")]
        elif scheme == "relative":
            relative = unquote(rest).lstrip("/")
            bases = [Path(self.base_path)] if self.base_path else []
            candidates = [base / relative for base in bases + [self.path.parent]]
        elif scheme == "file":  # the same file name beside the project file, if it is there
            candidates = [Path(unquote(urlparse(location).path)),
                          self.path.parent / Path(unquote(urlparse(location).path)).name]
        else:
            return None
        folder = self.path.parent.resolve()
        for candidate in candidates:
            try:
                # A project file names paths itself: read only files in the folder it came in,
                # never elsewhere on this machine (a hostile file could name any local file).
                if not candidate.resolve().is_relative_to(folder):
                    continue
                if candidate.suffix.lower() == suffix and candidate.is_file() and \
                        candidate.stat().st_size <= MAX_FILE_BYTES:
                    data = candidate.read_bytes()
                    self.warn(f"read {candidate} from the file system ({location})")
                    return data, str(candidate)
            except OSError:
                continue
        return None


def _n(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _typed_value(element):
    kind, text = _local(element.tag), (element.text or "").strip()
    if not text:
        return (_VARIABLE_TYPES.get(kind.removesuffix("Value"), "text"), None)
    if kind == "BooleanValue":
        return ("boolean", "true" if text.lower() in ("true", "1") else "false")
    if kind in ("IntegerValue", "FloatValue") and _DECIMAL.match(text):
        return ("number", text)
    if kind == "DateValue" and _valid_date(text[:10]):
        return ("date", text[:10])
    return ("text", text)


def _decode(data, where="source"):
    """REFI text is UTF-8; a byte-order mark is not a character of the text (not counted)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = decode_bytes(data, where).text
        return text.lstrip("\ufeff")


# -- offsets ----------------------------------------------------------------------------------

def _offset_map(source, stored):
    """For each character of `stored`: the [start, end) of `source` it comes from.

    Ingest normalises text (drops byte-order marks, makes `\\r\\n` and `\\r` into `\\n`,
    NFC); the map follows those steps. When the result is not exactly `stored`, a difflib
    alignment of the two texts is used instead.
    """
    mapped = _normalise_with_map(source)
    if mapped is not None and mapped[0] == stored:
        return mapped[1], mapped[2]
    return _diff_map(source, stored)


def _normalise_with_map(source):
    chars, starts, ends = [], [], []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\r":
            step = 2 if source.startswith("\r\n", i) else 1
            chars.append("\n")
            starts.append(i)
            ends.append(i + step)
            i += step
            continue
        if ch != "\ufeff":
            chars.append(ch)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    text = "".join(chars)
    if unicodedata.is_normalized("NFC", text):
        return text, starts, ends
    # NFC segment by segment, each starting at a character of combining class 0.
    out, out_starts, out_ends = [], [], []
    bounds = [k for k, ch in enumerate(text) if unicodedata.combining(ch) == 0] + [len(text)]
    if bounds[0] != 0:
        bounds.insert(0, 0)
    for a, b in zip(bounds, bounds[1:]):
        piece = text[a:b]
        normal = unicodedata.normalize("NFC", piece)
        if normal == piece:
            out.append(piece)
            out_starts.extend(starts[a:b])
            out_ends.extend(ends[a:b])
        else:
            out.append(normal)
            out_starts.extend([starts[a]] * len(normal))
            out_ends.extend([ends[b - 1]] * len(normal))
    result = "".join(out)
    if result != unicodedata.normalize("NFC", text):
        return None  # a composition across segments (Hangul jamo): let difflib align it
    return result, out_starts, out_ends


def _diff_map(source, stored):
    starts, ends = [0] * len(stored), [0] * len(stored)
    matcher = difflib.SequenceMatcher(None, source, stored, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for j in range(j1, j2):
            if tag == "equal":
                starts[j], ends[j] = i1 + (j - j1), i1 + (j - j1) + 1
            else:
                starts[j], ends[j] = i1, i2
    return starts, ends


def _to_stored(starts, ends, start, end):
    """The stored-text span of source characters [start, end), or None when it is empty."""
    first = bisect.bisect_right(ends, start)
    stop = bisect.bisect_left(starts, end)
    return (first, stop) if first < stop else None


def _docx_span(text, start, end, name):
    """A span in text read from a .docx, when the tool's plain text is missing: its positions,
    moved to where the selection's name (the quoted words, as ATLAS.ti writes) is found."""
    quote = (name or "").strip().rstrip("\u2026").strip()
    truncated = (name or "").strip().endswith("\u2026")
    if len(quote) >= 8 and not _GENERIC_NAME.match(quote):
        found = locate_quote(text, quote, max(0, start - 200)) or locate_quote(text, quote)
        if found is not None:
            return (found[0], min(len(text), found[0] + (end - start))) if truncated \
                else found
    end = min(end, len(text))
    return (start, end) if start < end else None


# -- storing ----------------------------------------------------------------------------------

class _CodebookPlan:
    """REFI codes matched to our code ids (a GUID kept from an import, our own export's GUID,
    the 'Code id:' line of its description, or its name under the same parent), else given
    a new id: the stated one, or one made from the name."""

    def __init__(self, session, existing, codes, path):
        self.codes, self.path, self.existing = codes, path, existing
        self.guids = _Guids.of(session)
        all_keys = set(session.scalars(select(CodeRow.key)))
        by_guid = {guid.upper(): key for key, guid in self.guids.kept.get("codes", {}).items()
                   if key in all_keys}
        by_guid.update({self.guids.derived("code", key): key for key in all_keys})
        current = self.existing.codes if self.existing else ()
        by_name = {}
        for code in current:
            by_name.setdefault((_fold_name(code.name), code.parent), code.id)
        taken, used = set(all_keys), set()
        self.keys, self.new = {}, set()
        for code in codes:  # parents come before their children
            parent = self.keys.get(code.parent) if code.parent else None
            stated = parse_description(code.description)["id"]
            candidates = (by_guid.get(code.guid), stated if stated in all_keys else None,
                          by_name.get((_fold_name(code.name), parent)))
            key = next((k for k in candidates if k and k not in used), None)
            if key is None:
                key = stated if stated and stated not in taken else \
                    code_id_from_name(code.name, taken)
                self.new.add(key)
            taken.add(key)
            used.add(key)
            self.keys[code.guid] = key

    def codebook(self, replace_all, header_name, source=""):
        existing = {code.id: code for code in self.existing.codes} if self.existing else {}
        imported = []
        for code in self.codes:
            key = self.keys[code.guid]
            fields = parse_description(code.description)
            del fields["id"]
            old = existing.get(key)
            if old is not None and not any(fields.values()):
                fields = {k: getattr(old, k) for k in fields}
            imported.append(Code(
                id=key, name=code.name, parent=self.keys.get(code.parent) if code.parent
                else None, colour=code.colour or (old.colour if old else None),
                keywords=old.keywords if old else (), patterns=old.patterns if old else (),
                **fields))
        if replace_all or self.existing is None:
            codes = tuple(imported)
        else:
            by_key = {code.id: code for code in imported}
            codes = tuple(by_key.pop(code.id, code) for code in self.existing.codes) + \
                tuple(by_key.values())
        if self.existing is not None:
            header = replace(self.existing, codes=codes)
        else:
            header = Codebook(id=code_id_from_name(header_name, set()), name=header_name,
                              source=source, codes=codes)
        try:
            return parse_codebook(dump_codebook(header), path=self.path)
        except CodebookError as exc:
            raise RefiError(f"its codebook cannot be stored: {exc}", path=self.path) from exc

    def kept_guids(self):
        return {key: guid for guid, key in self.keys.items()}


def _save_codebook(session, project, plan, codebook, path, report):
    report.codes = len(plan.new)
    if plan.existing is not None and codebook == plan.existing:
        return
    if plan.existing is not None:
        kept = {code.id for code in codebook.codes}
        report.codes_retired = sum(1 for code in plan.existing.codes if code.id not in kept)
    project._write_codebook(session, codebook, origin=str(path))
    session.flush()


def _fold_name(name):
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _remember(session, kept):
    """Merge REFI GUIDs read from a file into settings['refi'] for the next export."""
    row = session.scalars(select(ProjectRow)).one()
    settings = dict(row.settings or {})
    refi = {k: dict(v) for k, v in (settings.get(SETTINGS_KEY) or {}).items()}
    for kind, mapping in kept.items():
        if mapping:
            refi[kind] = {**refi.get(kind, {}), **mapping}
    row.settings = {**settings, SETTINGS_KEY: refi}


def _store_project(project, reader, path, report):
    """Store what the reader found in one transaction (documents, codebook, cases, codings,
    memos, kept GUIDs) together with its events."""
    report.users = sorted(set(reader.users.values()))
    existing = project.codebook_or_none()
    project._auto_backup("import_refi")
    with project.store.transaction() as session:
        code_ids, kept_codes = {}, {}
        if reader.codes:
            plan = _CodebookPlan(session, existing, reader.codes, path)
            codebook = plan.codebook(replace_all=False,
                                     header_name=reader.root.get("name") or path.stem,
                                     source=reader.root.get("origin") or "")
            _save_codebook(session, project, plan, codebook, path, report)
            keys = dict(session.execute(select(CodeRow.key, CodeRow.id)).all())
            code_ids = {guid: keys[key] for guid, key in plan.keys.items()}
            kept_codes = plan.kept_guids()
        documents = {}
        for source in reader.sources:
            documents[source.guid] = _store_document(session, project, source, path, report)
        case_ids = _store_cases(session, project, reader, documents, report)
        codings = _store_codings(session, project, reader, documents, code_ids, report)
        _store_memos(session, project, reader, documents, code_ids, codings, case_ids, report)
        _remember(session, {
            "codes": kept_codes,
            "users": {name: guid for guid, name in reader.users.items()},
            "cases": {case.name: case.guid for case in reader.cases},
            "variables": {name: guid for guid, (name, _) in reader.variables.items()}})
        project.store.log(session, project.coder, "import_refi", "project", None,
                          file=str(path), users=report.users, documents=report.documents,
                          codes=report.codes, codings=report.codings, memos=report.memos,
                          cases=report.cases, warnings=len(report.warnings))


def _store_document(session, project, source, path, report):
    """Like Project._store_document, inside the import's transaction. Returns the row."""
    parsed = source.parsed
    existing, notes = match_document(session, parsed.name, parsed.sha256, by_content=True)
    report.warnings.extend(notes)
    if existing is not None:
        report.documents_present += 1
        return existing
    name = free_name(session, parsed.name)
    case_id, case_name = CaseOwners().case_for(session, name)
    document = DocumentRow(name=name, format=parsed.format, text=parsed.text,
                           sha256=parsed.sha256, words=parsed.words, case_id=case_id,
                           meta={**parsed.metadata, "source": f"{path}: {source.name}",
                                 "refi_guid": source.guid})
    session.add(document)
    session.flush()
    if parsed.turns:
        session.execute(insert(TurnRow), [
            dict(document_id=document.id, seq=i, speaker=t.speaker, role=t.role,
                 start=t.start, end=t.end, time_start=t.time_start, time_end=t.time_end)
            for i, t in enumerate(parsed.turns)])
    project.store.log(session, project.coder, "ingest", "document", document.id, name=name,
                      sha256=parsed.sha256, case=case_name, turns=len(parsed.turns),
                      refi=str(path))
    report.documents += 1
    return document


def _store_cases(session, project, reader, documents, report):
    used_variables = {guid for case in reader.cases for guid, _ in case.values}
    case_ids, owner = {}, {}
    rows, new = {}, set()
    for case in reader.cases:
        row = session.scalars(select(CaseRow).where(CaseRow.name == case.name)).first()
        if row is None:
            row = CaseRow(name=case.name, files=[])
            session.add(row)
            new.add(case.guid)
        values = dict(case.values)
        for guid in used_variables:
            values.setdefault(guid, (reader.variables[guid][1], None))
        _set_attributes(row, {reader.variables[g][0]: v for g, v in values.items()})
        for source_guid in case.sources:
            document = documents.get(source_guid)
            if document is None:
                continue
            if source_guid in owner:
                reader.warn(f"source '{document.name}' belongs to cases '{owner[source_guid]}' "
                            f"and '{case.name}'; a document has one case here, so it stays "
                            f"with '{owner[source_guid]}'")
                continue
            owner[source_guid] = case.name
            document.case = row
        rows[case.guid] = row
    for source in reader.sources:
        document = documents[source.guid]
        if source.values and document.case is not None:
            _set_attributes(document.case, {reader.variables[g][0]: v for g, v in source.values})
    session.flush()
    project._drop_empty_stem_cases(session)
    session.flush()
    for guid, row in rows.items():
        if not inspect(row).was_deleted:
            case_ids[guid] = row.id
    report.cases = len(new & set(case_ids))
    return case_ids


def _set_attributes(case, values):
    current = {a.name: a for a in case.attributes}
    for name, (kind, value) in values.items():
        if name in current:
            if value is not None or current[name].value is None:
                current[name].type, current[name].value = kind, value
        else:
            case.attributes.append(AttributeRow(name=name, type=kind, value=value))


def _store_codings(session, project, reader, documents, code_ids, report):
    """Selections' codings as manual codings; returns {selection or coding guid: [ids]}."""
    existing = {tuple(row[1:]): row[0] for row in session.execute(select(
        CodingRow.id, CodingRow.document_id, CodingRow.code_id, CodingRow.start, CodingRow.end,
        CodingRow.coder, CodingRow.status))}
    added, unknown_codes, ids = [], 0, {}
    for source in reader.sources:
        document = documents[source.guid]
        whole = _Selection(guid="", name="", start=0, end=len(document.text), user=None,
                           created=None, codings=source.whole_codings, notes=[],
                           description="")
        for selection in [*source.selections, whole]:
            for coding_guid, code_guid, user, created, _notes in selection.codings:
                code_id = code_ids.get(code_guid)
                if code_id is None:
                    unknown_codes += 1
                    continue
                coder = reader.user(user) or reader.user(selection.user) or project.coder
                key = (document.id, code_id, selection.start, selection.end, coder, MANUAL)
                if key in existing:
                    report.codings_present += 1
                    row_id = existing[key]
                else:
                    row = CodingRow(document_id=document.id, code_id=code_id,
                                    start=selection.start, end=selection.end, coder=coder,
                                    status=MANUAL, origin=ORIGIN,
                                    **({"created_at": created} if created else {}))
                    session.add(row)
                    added.append((row, key))
                    existing[key] = row
                    row_id = row
                for guid in (coding_guid, selection.guid):
                    if guid:
                        ids.setdefault(guid, []).append(row_id)
    if unknown_codes:
        reader.warn(f"skipped {_n(unknown_codes, 'coding')} of codes not in the codebook")
    session.flush()  # the import's one event records the counts, as import_codings does
    report.codings = len(added)
    return {guid: [r if isinstance(r, int) else r.id for r in rows] for guid, rows in ids.items()}


def _store_memos(session, project, reader, documents, code_ids, codings, case_ids, report):
    """Notes as memos on whatever refers to them (one memo per reference); descriptions of
    sources, selections and cases as memos too."""
    source_of_selection = reader.selection_owner
    targets = {}  # note guid -> [(target_type, target_id)]
    unplaced = []

    def target_of(kind, guid):
        if kind == "project":
            return ("project", None)
        if kind == "source" and guid in documents:
            return ("document", documents[guid].id)
        if kind == "code" and guid in code_ids:
            return ("code", code_ids[guid])
        if kind in ("selection", "coding") and codings.get(guid):
            return ("coding", codings[guid][0])
        if kind == "selection" and source_of_selection.get(guid) in documents:
            return ("document", documents[source_of_selection[guid]].id)
        if kind == "case" and guid in case_ids:
            return ("case", case_ids[guid])
        return None

    refs = list(reader.note_refs)
    for source in reader.sources:
        refs += [(note, "source", source.guid) for note in source.notes]
        for selection in source.selections:
            refs += [(note, "selection", selection.guid) for note in selection.notes]
            for coding_guid, *_rest, notes in selection.codings:
                refs += [(note, "coding", coding_guid) for note in notes]
    kinds = {**{g: "source" for g in documents}, **{g: "code" for g in code_ids},
             **{g: "case" for g in case_ids}, **{g: "selection" for g in codings},
             **{g: "selection" for g in source_of_selection}}
    other_links = 0
    for origin, other in reader.links:  # a Link between a note and something, either way
        if origin not in reader.notes:
            origin, other = other, origin
        if origin in reader.notes:
            refs.append((origin, kinds.get(other, "?"), other))
        else:
            other_links += 1
    if other_links:
        reader.warn(f"skipped {other_links} <Link> elements that do not link a note "
                    "(not supported)")
    for note, kind, target in refs:
        if note not in reader.notes:
            continue
        found = target_of(kind, target)
        if found is None:
            unplaced.append(reader.notes[note].name or note)
            found = ("project", None)
        targets.setdefault(note, []).append(found)
    if unplaced:
        reader.warn("notes linked to objects that were not imported (non-text sources, "
                    "skipped selections) are attached to the project instead: "
                    + ", ".join(repr(n) for n in unplaced))
    existing = set(session.execute(select(MemoRow.target_type, MemoRow.target_id,
                                          MemoRow.coder, MemoRow.title, MemoRow.text)).all())
    memos = []
    for note in reader.notes.values():
        for target_type, target_id in dict.fromkeys(targets.get(note.guid, [("project", None)])):
            memos.append((target_type, target_id, note.user or project.coder, note.name,
                          note.text, note.created))
    for source in reader.sources:
        if source.description:
            memos.append(("document", documents[source.guid].id, project.coder, "Description",
                          source.description, None))
        for selection in source.selections:
            if selection.description:
                target = target_of("selection", selection.guid)
                memos.append((*target, reader.user(selection.user) or project.coder,
                              _quote_name(selection.name, 60), selection.description,
                              selection.created))
    for case in reader.cases:
        if case.description and case.guid in case_ids:
            memos.append(("case", case_ids[case.guid], project.coder, "Description",
                          case.description, None))
    for target_type, target_id, coder, title, text, created in memos:
        key = (target_type, target_id, coder, title, text)
        if key in existing or not text.strip():
            continue
        existing.add(key)
        memo = MemoRow(target_type=target_type, target_id=target_id, coder=coder, title=title,
                       text=text)
        if created is not None:
            memo.created_at = memo.updated_at = created
        session.add(memo)
        report.memos += 1
