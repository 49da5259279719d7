"""Writing REFI-QDA files (QDA-XML 1.0): the codebook as a .qdc (`export_qdc`) and the whole
project as a .qdpx (`export_qdpx`: a zip holding `project.qde`, `sources/<guid>.txt`, each our
stored document text in UTF-8, and `coding.json`, our code ids by GUID, which other tools
ignore). Positions are our offsets unchanged (code points), or with `positions="utf16"` in
UTF-16 code units, as NVivo for Windows counts them (`offsets.to_utf16`; the project's origin
says so, so our own import reads them back right). GUIDs are valid and stable across exports
(`common.Guids`); selection and coding GUIDs kept from an import are written again. Code and
document groups are written as Sets. Both write to a path (atomically) or into a binary file
object, so the app builds a download in memory:

>>> buffer = io.BytesIO()
>>> export_qdpx(project, buffer)
"""

import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import PurePath

from ...errors import RefiError
from ...files import write_to
from ...records import COUNTED_STATUSES, SUGGESTED, Codebook
from .common import DECIMAL, Guids, describe_code, quote_name, valid_date, valid_guid
from .offsets import CODE_POINTS, UNIT_NAMES, UTF16, to_utf16

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
    groups: int = 0
    positions: str = CODE_POINTS  # the unit of selection positions: CODE_POINTS or UTF16
    warnings: list = field(default_factory=list)


def export_qdc(project, target):
    """Write the current codebook as a REFI-QDA codebook (.qdc) to `target`, a path or a binary
    file object; returns an ExportReport."""
    codebook = project.codebook()
    guids = Guids.of_project(project.project_row())
    root = ET.Element("CodeBook", {"xmlns": NS_CODEBOOK, "origin": _origin()})
    _code_elements(root, codebook, guids, notes={})
    current = {code.id for code in codebook.codes}
    sets = [(g, [guids.code(key) for key in g.members if key in current])
            for g in project.groups("code")]
    sets = [(group, members) for group, members in sets if members]
    if sets:  # the codebook schema names a member by `guid`, the project schema `targetGUID`
        sets_el = _el(root, "Sets")
        for group, members in sets:
            set_el = _el(sets_el, "Set", guid=guids.set("code", group.name), name=group.name)
            if group.description:
                _el(set_el, "Description", text=group.description)
            for member in members:
                _el(set_el, "MemberCode", guid=member)
    _write(target, _xml_bytes(root))
    return ExportReport(path=_name(target), codes=len(codebook.codes), groups=len(sets))


def export_qdpx(project, target, include_suggestions=False, positions=CODE_POINTS):
    """Write the project as a REFI-QDA project (.qdpx) to `target`, a path or a binary file
    object; returns an ExportReport.

    Codings exported are accepted and manual ones; with include_suggestions, pending
    suggestions too (their score and rationale in the selection's Description). Positions
    are code points (REFI-QDA's characters, what ATLAS.ti, MAXQDA, QualCoder and we read), or
    with positions="utf16" UTF-16 code units, for NVivo for Windows.
    """
    if positions not in UNIT_NAMES:
        raise RefiError(f"positions must be {' or '.join(map(repr, UNIT_NAMES))}, not "
                        f"{positions!r}")
    statuses = COUNTED_STATUSES + ((SUGGESTED,) if include_suggestions else ())
    data = _read_project(project, statuses)
    report = ExportReport(path=_name(target), positions=positions)
    plan = _ExportPlan(data, report)
    guids = data.guids
    origin = _origin() + (" (positions in UTF-16 code units)" if positions == UTF16 else "")
    root = ET.Element("Project", _attrs({
        "xmlns": NS_PROJECT, "name": data.name, "origin": origin,
        "creatingUserGUID": guids.user(data.first_coder) if data.first_coder else None,
        "creationDateTime": _iso(data.created_at), "modifiedDateTime": _iso(data.modified_at)}))
    users = sorted(data.coders | data.kept_users)
    if users:
        users_el = _el(root, "Users")
        for name in users:
            _el(users_el, "User", guid=guids.user(name), name=name)
    if data.codebook is not None:
        _code_elements(_el(root, "CodeBook"), data.codebook, guids,
                       notes={key: plan.note_refs.get(("code", guid), [])
                              for key, guid in plan.code_guid.items()})
    _case_elements(root, data, plan)
    files = _source_elements(root, data, plan, report, positions)
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
    report.groups = _set_elements(root, data, plan)
    for note in plan.note_refs.get(("project", None), []):
        _el(root, "NoteRef", targetGUID=note)

    buffer = io.BytesIO()
    stamp = _zip_time(data.modified_at or data.created_at)
    # Our code ids, by GUID: a new project importing this file keeps them (REFI has no field
    # for them, and they stay out of the researcher's descriptions: issue 15, item 5).
    ids = json.dumps({"format": 1, "codes": {guid: key for key, guid in
                                              sorted(plan.code_guid.items())}},
                     indent=1, sort_keys=True).encode("utf-8")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("project.qde", _xml_bytes(root)), *files.items(),
                              ("coding.json", ids)]:
            info = zipfile.ZipInfo(name, date_time=stamp)  # same project, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    _write(target, buffer.getvalue())
    report.documents, report.memos, report.cases = (len(data.documents), len(plan.notes),
                                                    len(plan.case_guid))
    report.codes, report.users = len(plan.code_guid), len(users)
    return report


class _ExportPlan:
    """The GUIDs of what a .qdpx holds, and where each memo goes."""

    def __init__(self, data, report):
        guids = data.guids
        current = {code.id for code in data.codebook.codes} if data.codebook else set()
        self.code_guid = {key: guids.code(key) for key in current}
        self.doc_guid = {doc.id: guids.document(doc) for doc in data.documents}
        self.case_guid = {case.id: guids.case(case.name) for case in _real_cases(data)}
        kept = {doc.id: (doc.meta or {}).get("refi_selections") or {} for doc in data.documents}
        self.selections, seen, retired = {}, Counter(), 0
        spans, used = {}, set()  # a kept selection GUID's span; coding GUIDs written
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
            selection = guids.content("selection", *content, suffix)
            coding_guid = guids.content("coding", *content, suffix)
            # GUIDs an import kept are written again, as long as they still fit: a selection
            # holds one span (several codings may share it), a coding GUID is used once.
            kept_selection, kept_coding = [valid_guid(g) for g in
                                           kept[coding.document_id].get(str(coding.id))
                                           or (None, None)]
            span = (coding.document_id, coding.start, coding.end)
            if kept_selection and spans.setdefault(kept_selection, span) == span:
                selection = kept_selection
            if kept_coding and kept_coding not in used:
                coding_guid = kept_coding
            used.add(coding_guid)
            self.selections[coding.id] = (selection, coding_guid)
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
    cases = [case for case in data.cases if case.id in plan.case_guid]
    variables = _variables(cases, data.guids)
    if variables:
        variables_el = _el(root, "Variables")
        for name, (guid, kind) in variables.items():
            _el(variables_el, "Variable", guid=guid, name=name, typeOfVariable=kind)
    if not cases:
        return
    documents_of = {}
    for doc in data.documents:
        documents_of.setdefault(doc.case_id, []).append(doc)
    cases_el = _el(root, "Cases")
    for case in cases:
        case_el = _el(cases_el, "Case", guid=plan.case_guid[case.id], name=case.name)
        for attribute in case.attributes:
            _variable_value(case_el, attribute, variables)
        for doc in documents_of.get(case.id, []):
            _el(case_el, "SourceRef", targetGUID=plan.doc_guid[doc.id])


def _source_elements(root, data, plan, report, positions):
    """TextSources with their selections (codings that share a selection GUID in one
    selection); returns the archive's sources/ files."""
    if not data.documents:
        return {}
    guids, files, by_document = data.guids, {}, {}
    for coding in data.codings:
        if coding.id in plan.selections:
            selection_guid = plan.selections[coding.id][0]
            by_document.setdefault(coding.document_id, {}).setdefault(
                selection_guid, []).append(coding)
    sources_el = _el(root, "Sources")
    for doc in data.documents:
        guid = plan.doc_guid[doc.id]
        creator = data.creators.get(doc.id)
        unit = to_utf16(doc.text) if positions == UTF16 else (lambda offset: offset)
        source = _el(sources_el, "TextSource", guid=guid, name=doc.name,
                     plainTextPath=f"internal://{guid}.txt",
                     creatingUser=guids.user(creator) if creator else None,
                     creationDateTime=_iso(doc.created_at))
        for selection_guid, codings in by_document.get(doc.id, {}).items():
            first = codings[0]
            selection = _el(source, "PlainTextSelection", guid=selection_guid,
                            name=quote_name(doc.text[first.start:first.end]),
                            startPosition=unit(first.start), endPosition=unit(first.end),
                            creatingUser=guids.user(first.coder),
                            creationDateTime=_iso(first.created_at))
            if first.status == SUGGESTED:
                _el(selection, "Description",
                    text=f"Suggestion ({first.origin}, score {first.score or 0:.2f}): "
                         f"{first.rationale or ''}".strip())
            for coding in codings:
                coding_el = _el(selection, "Coding", guid=plan.selections[coding.id][1],
                                creatingUser=guids.user(coding.coder),
                                creationDateTime=_iso(coding.created_at))
                _el(coding_el, "CodeRef",
                    targetGUID=plan.code_guid[data.code_keys[coding.code_id]])
                report.codings += 1
            for note in dict.fromkeys(plan.note_refs.get(("coding", selection_guid), [])):
                _el(selection, "NoteRef", targetGUID=note)
        for note in plan.note_refs.get(("document", guid), []):
            _el(source, "NoteRef", targetGUID=note)
        files[f"sources/{guid}.txt"] = doc.text.encode("utf-8")  # exactly our frozen text
    return files


def _set_elements(root, data, plan):
    """Code and document groups as Sets (one Set for a code group and a document group of
    the same name); returns how many groups were written."""
    doc_guid = {doc.name: plan.doc_guid[doc.id] for doc in data.documents}
    sets, written = {}, 0
    for group in data.groups:
        if group.kind == "code":
            members = [plan.code_guid[key] for key in group.members if key in plan.code_guid]
        else:
            members = [doc_guid[name] for name in group.members if name in doc_guid]
        if members:
            entry = sets.setdefault(group.name, {"code": [], "document": [], "guid": None,
                                                 "description": group.description})
            entry[group.kind] = members
            entry["guid"] = entry["guid"] or data.guids.set(group.kind, group.name)
            written += 1
    if sets:
        sets_el = _el(root, "Sets")
        for name, entry in sets.items():
            set_el = _el(sets_el, "Set", guid=entry["guid"], name=name)
            if entry["description"]:
                _el(set_el, "Description", text=entry["description"])
            for member in entry["code"]:
                _el(set_el, "MemberCode", targetGUID=member)
            for member in entry["document"]:
                _el(set_el, "MemberSource", targetGUID=member)
    return written


def _real_cases(data):
    """The cases worth writing: not the one-document case ingest makes from a file's name
    with nothing of its own (no attributes, files, memos; not from an import), which other
    tools would show as an invented case per document (issue 15, item 5)."""
    documents_of, with_memos = Counter(doc.case_id for doc in data.documents), set()
    stems = {doc.case_id: PurePath(doc.name).stem for doc in data.documents}
    for memo in data.memos:
        if memo.target_type == "case":
            with_memos.add(memo.target_id)
    kept = data.guids.kept.get("cases", {})
    return [case for case in data.cases
            if case.attributes or case.files or case.id in with_memos or case.name in kept
            or documents_of[case.id] != 1 or stems.get(case.id) != case.name]


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
    kept_users: set
    groups: list


def _read_project(project, statuses):
    snapshot = project.snapshot(statuses)
    codings, memos, events = snapshot.codings, snapshot.memos, snapshot.events
    coders = {c.coder for c in codings} | {m.coder for m in memos} | {e[0] for e in events}
    creators = {entity_id: coder for coder, _, action, entity, entity_id in events
                if action == "ingest" and entity == "document"}
    row = snapshot.project
    guids = Guids.of_project(row)
    return _Snapshot(guids=guids, name=row.name, created_at=row.created_at,
                     modified_at=events[-1][1] if events else None,
                     first_coder=events[0][0] if events else None, codebook=snapshot.codebook,
                     code_keys=snapshot.code_keys, documents=snapshot.documents,
                     cases=snapshot.cases, codings=codings, memos=memos,
                     coders={c for c in coders if c}, creators=creators,
                     kept_users=set(guids.kept.get("users", {})), groups=list(snapshot.groups))


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

