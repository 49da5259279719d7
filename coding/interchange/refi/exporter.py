"""Writing REFI-QDA files (QDA-XML 1.0): the codebook as a .qdc (`export_qdc`) and the whole
project as a .qdpx (`export_qdpx`: a zip holding `project.qde` and `sources/<guid>.txt`, each
our stored document text in UTF-8, so exported positions are our offsets unchanged). GUIDs are
stable across exports (`common.Guids`). Both write to a path (atomically) or into a binary file
object, so the app builds a download in memory:

>>> buffer = io.BytesIO()
>>> export_qdpx(project, buffer)
"""

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata

from ...errors import RefiError
from ...files import write_to
from ...records import COUNTED_STATUSES, SUGGESTED, Codebook
from .common import DECIMAL, Guids, describe_code, quote_name, valid_date

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass
class ExportReport:
    """What an export wrote; `warnings` lists what was left out and why."""

    path: str  # the path written; for a file object its name, or "" (io.BytesIO)
    documents: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    cases: int = 0
    users: int = 0
    warnings: list = field(default_factory=list)


def export_qdc(project, target):
    """Write the current codebook as a REFI-QDA codebook (.qdc) to `target`, a path or a binary
    file object; returns an ExportReport."""
    codebook = project.codebook()
    guids = Guids.of_project(project.project_row())
    root = ET.Element("CodeBook", {"xmlns": NS_CODEBOOK, "origin": _origin()})
    _code_elements(root, codebook, guids, notes={})
    _write(target, _xml_bytes(root))
    return ExportReport(path=_name(target), codes=len(codebook.codes))


def export_qdpx(project, target, include_suggestions=False):
    """Write the project as a REFI-QDA project (.qdpx) to `target`, a path or a binary file
    object; returns an ExportReport.

    Codings exported are accepted and manual ones; with include_suggestions, pending
    suggestions too (their score and rationale in the selection's Description).
    """
    statuses = COUNTED_STATUSES + ((SUGGESTED,) if include_suggestions else ())
    data = _read_project(project, statuses)
    report = ExportReport(path=_name(target))
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
        for link_guid, case_guid, note_guid in plan.links:
            _el(links_el, "Link", guid=link_guid, name="Case memo", direction="OneWay",
                originGUID=case_guid, targetGUID=note_guid)
    for note in plan.note_refs.get(("project", None), []):
        _el(root, "NoteRef", targetGUID=note)

    buffer = io.BytesIO()
    stamp = _zip_time(data.modified_at or data.created_at)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("project.qde", _xml_bytes(root)), *files.items()]:
            info = zipfile.ZipInfo(name, date_time=stamp)  # same project, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    _write(target, buffer.getvalue())
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
                            name=quote_name(doc.text[coding.start:coding.end]),
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


@dataclass
class _Snapshot:
    guids: Guids
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
    snapshot = project.snapshot(statuses)
    codings, memos, events = snapshot.codings, snapshot.memos, snapshot.events
    coders = {c.coder for c in codings} | {m.coder for m in memos} | {e[0] for e in events}
    creators = {entity_id: coder for coder, _, action, entity, entity_id in events
                if action == "ingest" and entity == "document"}
    row = snapshot.project
    return _Snapshot(guids=Guids.of_project(row), name=row.name, created_at=row.created_at,
                     modified_at=events[-1][1] if events else None,
                     first_coder=events[0][0] if events else None, codebook=snapshot.codebook,
                     code_keys=snapshot.code_keys, documents=snapshot.documents,
                     cases=snapshot.cases, codings=codings, memos=memos,
                     coders={c for c in coders if c}, creators=creators)


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
        if kinds == {"number"} and all(DECIMAL.match(v) for v in present):
            kind = "Integer" if all(_INTEGER.match(v) for v in present) else "Float"
        elif kinds == {"boolean"}:
            kind = "Boolean"
        elif kinds == {"date"} and all(valid_date(v) for v in present):
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


def _write(target, content):
    try:
        write_to(target, content)  # raises CodingError naming a path when it cannot write
    except OSError as exc:
        raise RefiError(f"cannot write this file: {exc.strerror or exc}",
                        path=_name(target) or None) from exc


def _name(target):
    """A path as text; a file object's name (an open file's path), or "" for a buffer."""
    return str(getattr(target, "name", "")) if hasattr(target, "write") else str(target)

