"""Storing a REFI-QDA file into a project: a .qdc as the new codebook version (`import_qdc`),
a .qdpx or .qde project's documents, codes, cases, codings and memos (`import_qdpx`), each in
one transaction with its events, after `reader` has read and checked the whole file.

What a round trip through REFI keeps and loses is listed in the package docstring; GUIDs read
from a file are kept in the project (`common.Guids`) for the next export.
"""

import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...errors import CodebookError, RefiError
from ...project.lookup import CaseOwners, code_ids, project_row
from ...project.writing import (add_codings, add_memos, drop_empty_stem_cases, existing_cases,
                                merge_settings, set_case_of, store_case, store_document,
                                update_case_attributes_of, write_codebook)
from ...readers.codebooks import code_id_from_name, dump_codebook, parse_codebook
from ...records import MANUAL, Code, Codebook
from ...storage.backup import auto_backup
from .common import SETTINGS_KEY, Guids, counted, parse_description, quote_name
from .reader import RefiSelection, Warnings, read_codebook, read_project

ORIGIN = "refi"  # the origin of imported codings


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
    report = ImportReport(path=str(path))
    warn = Warnings(path, report.warnings)
    codes, origin = read_codebook(path, warn)
    existing = project.codebook_or_none()
    auto_backup(project.store, "import_refi")
    with project.store.transaction() as session:
        plan = _CodebookPlan(session, existing, codes, path)
        codebook = plan.codebook(replace_all=True, header_name=path.stem, source=origin)
        _save_codebook(session, project, plan, codebook, path, report)
        merge_settings(session, SETTINGS_KEY, {"codes": plan.kept_guids()})
        project.store.log(session, project.coder, "import_refi", "codebook", None,
                          file=str(path), codes=report.codes, retired=report.codes_retired)
    warn.flush()
    return report


def import_qdpx(project, path):
    """Import a REFI-QDA project (.qdpx, or a bare .qde) into the project; all or nothing.

    Users become coder names; the codebook's codes are added to the current codebook
    (matched ones updated, see `import_qdc`); text sources become documents (their plain
    text from `internal://` in the archive, `relative://` or `file://` paths, or else their
    `.docx` rich text), each selection mapped onto the stored text (`offsets`);
    cases and variables become cases with typed attributes, linked to their documents;
    codings become `manual` codings with origin `refi` by the creating user; notes become
    memos on what refers to them (project, document, code, coding, case). Sources that cannot
    be read, non-text sources (PDF, picture, audio, video) and unsupported elements are
    skipped with a warning. Importing the same file again adds nothing.
    A broken or hostile file raises RefiError and stores nothing.
    """
    path = Path(path)
    report = ImportReport(path=str(path))
    warn = Warnings(path, report.warnings)
    qde = read_project(path, project.speaker_rules(), warn)
    _store_project(project, qde, path, report, warn)
    warn.flush()
    return report


class _CodebookPlan:
    """REFI codes matched to our code ids (a GUID kept from an import, our own export's GUID,
    the 'Code id:' line of its description, or its name under the same parent), else given
    a new id: the stated one, or one made from the name."""

    def __init__(self, session, existing, codes, path):
        self.codes, self.path, self.existing = codes, path, existing
        self.guids = Guids.of_project(project_row(session))
        all_keys = set(code_ids(session))
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
    write_codebook(session, project.store, project.coder, codebook, str(path))
    session.flush()


def _fold_name(name):
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _store_project(project, qde, path, report, warn):
    """Store what the reader found in one transaction (documents, codebook, cases, codings,
    memos, kept GUIDs) together with its events."""
    report.users = sorted(set(qde.users.values()))
    existing = project.codebook_or_none()
    auto_backup(project.store, "import_refi")
    with project.store.transaction() as session:
        guid_ids, kept_codes = {}, {}
        if qde.codes:
            plan = _CodebookPlan(session, existing, qde.codes, path)
            codebook = plan.codebook(replace_all=False, header_name=qde.name or path.stem,
                                     source=qde.origin)
            _save_codebook(session, project, plan, codebook, path, report)
            keys = code_ids(session)
            guid_ids = {guid: keys[key] for guid, key in plan.keys.items()}
            kept_codes = plan.kept_guids()
        documents = {}
        for source in qde.sources:
            documents[source.guid] = _store_document(session, project, source, path, report)
        case_ids = _store_cases(session, qde, documents, report, warn)
        codings = _store_codings(session, project, qde, documents, guid_ids, report, warn)
        _store_memos(session, project, qde, documents, guid_ids, codings, case_ids, report,
                     warn)
        merge_settings(session, SETTINGS_KEY, {
            "codes": kept_codes,
            "users": {name: guid for guid, name in qde.users.items()},
            "cases": {case.name: case.guid for case in qde.cases},
            "variables": {name: guid for guid, (name, _) in qde.variables.items()}})
        project.store.log(session, project.coder, "import_refi", "project", None,
                          file=str(path), users=report.users, documents=report.documents,
                          codes=report.codes, codings=report.codings, memos=report.memos,
                          cases=report.cases, warnings=len(report.warnings))


def _store_document(session, project, source, path, report):
    """A source's text as a document, unless it is here (by name and content, or by content
    alone when only one document has it). Returns project.writing.StoredDocument."""
    stored = store_document(session, project.store, project.coder, source.parsed,
                            f"{path}: {source.name}", CaseOwners(), by_content=True,
                            meta={"refi_guid": source.guid}, refi=str(path))
    report.warnings.extend(stored.notes)
    if stored.added:
        report.documents += 1
    else:
        report.documents_present += 1
    return stored


def _store_cases(session, qde, documents, report, warn):
    used_variables = {guid for case in qde.cases for guid, _ in case.values}
    case_ids, owner, made = {}, {}, set()
    for case in qde.cases:
        values = dict(case.values)
        for guid in used_variables:
            values.setdefault(guid, (qde.variables[guid][1], None))
        case_id, new = store_case(session, case.name,
                                  {qde.variables[g][0]: v for g, v in values.items()},
                                  keep_known=True)
        if new:
            made.add(case.guid)
        for source_guid in case.sources:
            document = documents.get(source_guid)
            if document is None:
                continue
            if source_guid in owner:
                warn(f"source '{document.name}' belongs to cases '{owner[source_guid]}' "
                     f"and '{case.name}'; a document has one case here, so it stays "
                     f"with '{owner[source_guid]}'")
                continue
            owner[source_guid] = case.name
            set_case_of(session, document.id, case_id)
        case_ids[case.guid] = case_id
    for source in qde.sources:
        if source.values:
            update_case_attributes_of(session, documents[source.guid].id,
                                      {qde.variables[g][0]: v for g, v in source.values},
                                      keep_known=True)
    session.flush()
    drop_empty_stem_cases(session)
    kept = existing_cases(session, case_ids.values())
    case_ids = {guid: case_id for guid, case_id in case_ids.items() if case_id in kept}
    report.cases = len(made & set(case_ids))
    return case_ids


# -- codings ----------------------------------------------------------------------------------
# One function, on its own, so the project's one codings writer (issue 14, item 3) can take
# its place: the rule for "already there" is the same document, code, span, coder and status.

def _store_codings(session, project, qde, documents, guid_ids, report, warn):
    """Selections' codings as manual codings, each unless already there (project.writing's
    one rule); returns {selection or coding guid: [coding ids]} for the memos on them."""
    rows, guids, unknown_codes = [], [], 0
    for source in qde.sources:
        document = documents[source.guid]
        whole = RefiSelection(guid="", name="", start=0, end=len(document.text), user=None,
                              created=None, codings=source.whole_codings, notes=[],
                              description="")
        for selection in [*source.selections, whole]:
            for coding_guid, code_guid, user, created, _notes in selection.codings:
                code_id = guid_ids.get(code_guid)
                if code_id is None:
                    unknown_codes += 1
                    continue
                coder = qde.user(user) or qde.user(selection.user) or project.coder
                rows.append(dict(document_id=document.id, code_id=code_id,
                                 start=selection.start, end=selection.end, coder=coder,
                                 status=MANUAL, origin=ORIGIN, created_at=created))
                guids.append((coding_guid, selection.guid))
    if unknown_codes:
        warn(f"skipped {counted(unknown_codes, 'coding')} of codes not in the codebook")
    coding_ids, added = add_codings(session, rows)
    report.codings = sum(added)
    report.codings_present += len(added) - sum(added)
    ids = {}
    for coding_id, pair in zip(coding_ids, guids):
        for guid in pair:
            if guid:
                ids.setdefault(guid, []).append(coding_id)
    return ids


def _store_memos(session, project, qde, documents, guid_ids, codings, case_ids, report,
                 warn):
    """Notes as memos on whatever refers to them (one memo per reference); descriptions of
    sources, selections and cases as memos too."""
    source_of_selection = qde.selection_owner
    targets = {}  # note guid -> [(target_type, target_id)]
    unplaced = []

    def target_of(kind, guid):
        if kind == "project":
            return ("project", None)
        if kind == "source" and guid in documents:
            return ("document", documents[guid].id)
        if kind == "code" and guid in guid_ids:
            return ("code", guid_ids[guid])
        if kind in ("selection", "coding") and codings.get(guid):
            return ("coding", codings[guid][0])
        if kind == "selection" and source_of_selection.get(guid) in documents:
            return ("document", documents[source_of_selection[guid]].id)
        if kind == "case" and guid in case_ids:
            return ("case", case_ids[guid])
        return None

    refs = list(qde.note_refs)
    for source in qde.sources:
        refs += [(note, "source", source.guid) for note in source.notes]
        for selection in source.selections:
            refs += [(note, "selection", selection.guid) for note in selection.notes]
            for coding_guid, *_rest, notes in selection.codings:
                refs += [(note, "coding", coding_guid) for note in notes]
    kinds = {**{g: "source" for g in documents}, **{g: "code" for g in guid_ids},
             **{g: "case" for g in case_ids}, **{g: "selection" for g in codings},
             **{g: "selection" for g in source_of_selection}}
    other_links = 0
    for origin, other in qde.links:  # a Link between a note and something, either way
        if origin not in qde.notes:
            origin, other = other, origin
        if origin in qde.notes:
            refs.append((origin, kinds.get(other, "?"), other))
        else:
            other_links += 1
    if other_links:
        warn(f"skipped {other_links} <Link> elements that do not link a note "
             "(not supported)")
    for note, kind, target in refs:
        if note not in qde.notes:
            continue
        found = target_of(kind, target)
        if found is None:
            unplaced.append(qde.notes[note].name or note)
            found = ("project", None)
        targets.setdefault(note, []).append(found)
    if unplaced:
        warn("notes linked to objects that were not imported (non-text sources, "
             "skipped selections) are attached to the project instead: "
             + ", ".join(repr(n) for n in unplaced))
    memos = []
    for note in qde.notes.values():
        for target_type, target_id in dict.fromkeys(targets.get(note.guid, [("project", None)])):
            memos.append((target_type, target_id, note.user or project.coder, note.name,
                          note.text, note.created))
    for source in qde.sources:
        if source.description:
            memos.append(("document", documents[source.guid].id, project.coder, "Description",
                          source.description, None))
        for selection in source.selections:
            if selection.description:
                target = target_of("selection", selection.guid)
                memos.append((*target, qde.user(selection.user) or project.coder,
                              quote_name(selection.name, 60), selection.description,
                              selection.created))
    for case in qde.cases:
        if case.description and case.guid in case_ids:
            memos.append(("case", case_ids[case.guid], project.coder, "Description",
                          case.description, None))
    report.memos += add_memos(session, [
        dict(target_type=target_type, target_id=target_id, coder=coder, title=title, text=text,
             created_at=created)
        for target_type, target_id, coder, title, text, created in memos])
