"""Storing a REFI-QDA file into a project: a .qdc as the new codebook version (`import_qdc`),
a .qdpx or .qde project's documents, codes, cases, codings and memos (`import_qdpx`), each in
one transaction with its events, after `reader` has read and checked the whole file.

What a round trip through REFI keeps and loses is listed in the package docstring; GUIDs read
from a file are kept in the project (`common.Guids`) for the next export. The report says, per
source, how many codings came in and how many were skipped and why (`ImportReport.sources`),
and names the sources none of whose codings came in (`ImportReport.dropped`): a file never
imports wrongly without a word (issue 15).
"""

import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...errors import CodebookError, RefiError
from ...project.groups import store_group
from ...project.lookup import CaseOwners, code_ids, project_row
from ...project.writing import (add_codings, add_memos, drop_empty_stem_cases, existing_cases,
                                merge_document_meta, merge_settings, set_case_of, store_case,
                                store_document, update_case_attributes_of, write_codebook)
from ...readers.codebooks import code_id_from_name, dump_codebook, parse_codebook
from ...records import MANUAL, Code, Codebook
from ...storage.backup import auto_backup
from .common import SETTINGS_KEY, Guids, counted, parse_description, quote_name, valid_guid
from .elements import RefiSelection, Warnings
from .reader import read_codebook, read_project

ORIGIN = "refi"  # the origin of imported codings


class IncompleteImportError(RefiError):
    """A project import that was stored, but none of the codings of some source came in: the
    interfaces report it as an error (exit status 1) rather than as a success (issue 15)."""

    def __init__(self, report):
        self.report = report
        names = ", ".join(f"'{s.name}'" for s in report.dropped)
        super().__init__(f"{report.summary()}. The rest of the file is stored, but no coding of "
                         f"{names} was imported (the warnings above say why): fix the file and "
                         "import it again (nothing is added twice), or restore the backup "
                         "taken before this import", path=report.path)


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
    groups: int = 0  # code and document groups made or added to (from Sets)
    warnings: list = field(default_factory=list)
    sources: list = field(default_factory=list)  # reader.SourceTally per source in the file
    idle_users: list = field(default_factory=list)  # users of the file with no codings in it

    @property
    def dropped(self):
        """The sources the file gives codings, none of which came in: [SourceTally]."""
        return [source for source in self.sources if source.dropped]

    def details(self):
        """One line per source of the file: the document it became, the unit of its
        positions, its codings imported and skipped, and why (SourceTally.line)."""
        return [source.line() for source in self.sources]

    def summary(self):
        """One line for a person: '2 documents, 14 codes, 16 codings, ... added; 3 warnings'."""
        parts = [f"{self.documents} documents", f"{self.codes} codes",
                 f"{self.codings} codings", f"{self.memos} memos", f"{self.cases} cases"]
        if self.groups:
            parts.append(counted(self.groups, "group"))
        present = [f"{n} {what}" for n, what in ((self.documents_present, "documents"),
                                                  (self.codings_present, "codings")) if n]
        line = ", ".join(parts) + " added"
        if present:
            line += f" ({', '.join(present)} already present)"
        if self.codes_retired:
            line += f"; {self.codes_retired} codes not in the file retired"
        line += f"; {len(self.users)} users"
        if self.idle_users:
            line += f" ({len(self.idle_users)} with no codings: {', '.join(self.idle_users)})"
        line += f"; {len(self.warnings)} warnings"
        if self.dropped:
            line += (f"; NO codings imported from {counted(len(self.dropped), 'source')} that "
                     "has them: " + ", ".join(f"'{s.name}' ({s.codings})" for s in self.dropped))
        return line


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
    GUID or id kept from an earlier import, our own export's GUID, a 'Code id:' line that
    exports before issue 15 wrote into descriptions, else its name under the same parent)
    keeps its id, so its codings stay; its keywords and patterns (not in REFI) are kept too.
    New codes get the stated id or one made from their name. Descriptions written by
    `export_qdc` are split back into definition, inclusion, exclusion and examples; any other
    description becomes the definition. The REFI GUIDs are kept in the project's settings and
    reused by the next export; ids that are not GUIDs (`c001`) are kept for matching, and
    exports write GUIDs made for them. Sets of codes become code groups. Returns an
    ImportReport.
    """
    path = Path(path)
    report = ImportReport(path=str(path))
    warn = Warnings(path, report.warnings)
    codes, origin, sets = read_codebook(path, warn)
    existing = project.codebook_or_none()
    auto_backup(project.store, "import_refi")
    with project.store.transaction() as session:
        plan = _CodebookPlan(session, existing, codes, path)
        codebook = plan.codebook(replace_all=True, header_name=path.stem, source=origin)
        _save_codebook(session, project, plan, codebook, path, report)
        kept = plan.kept(warn)
        _store_sets(session, sets, plan.keys, {}, kept, report, warn)
        merge_settings(session, SETTINGS_KEY, kept)
        project.store.log(session, project.coder, "import_refi", "codebook", None,
                          file=str(path), codes=report.codes, retired=report.codes_retired,
                          groups=report.groups)
    warn.flush()
    return report


def import_qdpx(project, path):
    """Import a REFI-QDA project (.qdpx, or a bare .qde) into the project; all or nothing.

    Users become coder names; the codebook's codes are added to the current codebook
    (matched ones updated, see `import_qdc`); text sources become documents (their plain
    text from `internal://` in the archive, `relative://` or `file://` paths, or else their
    `.docx` rich text), each selection mapped onto the stored text (`offsets`);
    cases and variables become cases with typed attributes, linked to their documents;
    codings become `manual` codings with origin `refi`, each by its own or its selection's
    creating user as the file has it (a GUID not among the file's users becomes a user named
    'user XXXXXXXX'); notes become memos on what refers to them (project, document, code,
    coding, case); Sets become code and document groups. Sources that cannot be read, non-text
    sources (PDF, picture, audio, video) and unsupported elements are skipped with a warning,
    and the report counts, per source, the codings imported and skipped and why. Importing the
    same file again adds nothing. A broken or hostile file raises RefiError and stores nothing.
    """
    path = Path(path)
    report = ImportReport(path=str(path))
    warn = Warnings(path, report.warnings)
    qde = read_project(path, project.speaker_rules(), warn)
    _store_project(project, qde, path, report, warn)
    report.sources = qde.tallies
    warn.flush()
    return report


class _CodebookPlan:
    """REFI codes matched to our code ids (a GUID or id kept from an import, our own export's
    GUID, the id our export wrote beside it in coding.json, the 'Code id:' line older exports
    wrote into its description, or its name under the same parent), else given a new id: the
    one coding.json or the description states, or one made from the name."""

    def __init__(self, session, existing, codes, path, stated_ids=None):
        self.codes, self.path, self.existing = codes, path, existing
        self.guids = Guids.of_project(project_row(session))
        all_keys = set(code_ids(session))
        by_guid = {}
        for kind in ("ids", "codes"):  # the file's own ids, then GUIDs kept or made for them
            by_guid.update({_fold_id(guid): key for key, guid in
                            self.guids.kept.get(kind, {}).items() if key in all_keys})
        by_guid.update({self.guids.derived("code", key): key for key in all_keys})
        current = self.existing.codes if self.existing else ()
        by_name = {}
        for code in current:
            by_name.setdefault((_fold_name(code.name), code.parent), code.id)
        taken, used = set(all_keys), set()
        self.keys, self.new = {}, set()
        for code in codes:  # parents come before their children
            parent = self.keys.get(code.parent) if code.parent else None
            stated = (stated_ids or {}).get(code.guid) or \
                parse_description(code.description)["id"]
            candidates = (by_guid.get(_fold_id(code.guid)), stated if stated in all_keys
                          else None, by_name.get((_fold_name(code.name), parent)))
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

    def kept(self, warn):
        """The settings to keep: {"codes": {code id: GUID}, "ids": {code id: the file's id}}.
        A file id that is not a GUID (`c001`) is kept under "ids", so the file imports onto
        the same codes again, and given a GUID made for it, which exports write (issue 15,
        item 5: our re-export of such a codebook must be valid)."""
        codes, ids = {}, {}
        for guid, key in self.keys.items():
            codes[key] = valid_guid(guid) or self.guids.derived("code", key)
            if valid_guid(guid) is None:
                ids[key] = guid
        if ids:
            shown = ", ".join(f"'{i}'" for i in list(ids.values())[:3]) + \
                (", ..." if len(ids) > 3 else "")
            warn(f"{counted(len(ids), 'code id')} {'is' if len(ids) == 1 else 'are'} not "
                 f"GUIDs ({shown}); exports write GUIDs made for them, kept in the project "
                 "with the ids, so this file imports onto the same codes again")
        return {"codes": codes, "ids": ids}


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


def _fold_id(value):
    """A file's id as matched: a GUID in upper case; any other id as written, upper case too
    (projects imported before issue 15 kept 'c001' as 'C001')."""
    return valid_guid(value) or str(value).strip().upper()


def _store_project(project, qde, path, report, warn):
    """Store what the reader found in one transaction (documents, codebook, cases, codings,
    memos, groups, kept GUIDs) together with its events."""
    existing = project.codebook_or_none()
    auto_backup(project.store, "import_refi")
    with project.store.transaction() as session:
        guid_ids, code_keys, kept = {}, {}, {}
        if qde.codes:
            plan = _CodebookPlan(session, existing, qde.codes, path, qde.code_ids)
            codebook = plan.codebook(replace_all=False, header_name=qde.name or path.stem,
                                     source=qde.origin)
            _save_codebook(session, project, plan, codebook, path, report)
            keys = code_ids(session)
            code_keys = plan.keys
            guid_ids = {guid: keys[key] for guid, key in plan.keys.items()}
            kept = plan.kept(warn)
        documents = {}
        for source in qde.sources:
            documents[source.guid] = _store_document(session, project, source, path, report)
            source.tally.document = documents[source.guid].name
        case_ids = _store_cases(session, qde, documents, report, warn)
        codings, coders = _store_codings(session, project, qde, documents, guid_ids, report,
                                         warn)
        _store_memos(session, project, qde, documents, guid_ids, codings, case_ids, report,
                     warn)
        _store_sets(session, qde.sets, code_keys, documents, kept, report, warn)
        _undeclared_users(qde, warn)
        report.users = sorted(set(qde.users.values()))
        report.idle_users = sorted(qde.users[g] for g in qde.declared
                                   if qde.users[g] not in coders)
        merge_settings(session, SETTINGS_KEY, {
            **kept,
            "users": {name: valid_guid(guid) for guid, name in qde.users.items()
                      if valid_guid(guid)},
            "cases": {case.name: case.guid for case in qde.cases},
            "variables": {name: guid for guid, (name, _) in qde.variables.items()}})
        project.store.log(session, project.coder, "import_refi", "project", None,
                          file=str(path), users=report.users, documents=report.documents,
                          codes=report.codes, codings=report.codings, memos=report.memos,
                          cases=report.cases, groups=report.groups,
                          warnings=len(report.warnings))


def _undeclared_users(qde, warn):
    for guid, uses in qde.undeclared.items():
        warn(f"creatingUser {guid} is not among the file's users; its "
             f"{counted(uses, 'coding or note')} are credited to '{qde.users[guid]}'")


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
    one rule), credited to the coding's creatingUser, else its selection's. Counts go to each
    source's tally; the selection and coding GUIDs of every coding are kept in its document's
    meta for the next export. Returns ({selection or coding guid: [coding ids]} for the memos
    on them, the coders credited)."""
    rows, origins, unknown_codes, anonymous = [], [], 0, 0
    declared = sorted(qde.declared)
    # A file that names no creator of a coding: its only user made it, if it has one.
    fallback = qde.users[declared[0]] if len(declared) == 1 else project.coder
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
                    source.tally.skipped["codes not in the codebook"] += 1
                    continue
                coder = qde.credit(user, selection.user)
                if coder is None:
                    coder, anonymous = fallback, anonymous + 1
                rows.append(dict(document_id=document.id, code_id=code_id,
                                 start=selection.start, end=selection.end, coder=coder,
                                 status=MANUAL, origin=ORIGIN, created_at=created))
                origins.append((source, coding_guid, selection.guid))
    if unknown_codes:
        warn(f"skipped {counted(unknown_codes, 'coding')} of codes not in the codebook")
    if anonymous:
        whom = "the file's only user" if len(declared) == 1 else "the importing coder"
        warn(f"{counted(anonymous, 'coding')} name no creatingUser; credited to "
             f"'{fallback}' ({whom})")
    coding_ids, added = add_codings(session, rows)
    report.codings = sum(added)
    report.codings_present += len(added) - sum(added)
    ids, kept = {}, {}
    for coding_id, new, (source, coding_guid, selection_guid) in zip(coding_ids, added,
                                                                     origins):
        if new:
            source.tally.imported += 1
        else:
            source.tally.present += 1
        for guid in (coding_guid, selection_guid):
            if guid:
                ids.setdefault(guid, []).append(coding_id)
        pair = [valid_guid(selection_guid), valid_guid(coding_guid)]
        if any(pair):
            kept.setdefault(documents[source.guid].id, {}).setdefault(str(coding_id), pair)
    for document_id, mapping in kept.items():
        merge_document_meta(session, document_id, "refi_selections", mapping)
    return ids, {row["coder"] for row in rows}


def _store_sets(session, sets, code_keys, documents, kept, report, warn):
    """Sets as groups: their codes as a code group, their sources as a document group (both
    under the set's name; a group already there keeps its members and gains these). Members
    that were not imported, and notes, are counted in a warning. The set's GUID is kept."""
    missing, notes, guids = 0, 0, {}
    for refi_set in sets:
        codes = [code_keys[g] for g in refi_set.codes if g in code_keys]
        sources = [documents[g].id for g in refi_set.sources if g in documents]
        missing += len(refi_set.codes) - len(codes) + len(refi_set.sources) - len(sources)
        notes += refi_set.notes
        for kind, members in (("code", codes), ("document", sources)):
            if members:
                before, after = store_group(session, kind, refi_set.name, members,
                                            refi_set.description or None, merge=True)
                report.groups += before != after
                if valid_guid(refi_set.guid):
                    guids[f"{kind}:{refi_set.name}"] = valid_guid(refi_set.guid)
    if missing:
        warn(f"{counted(missing, 'set member')} not imported (codes or sources that were "
             "skipped) left out of their groups")
    if notes:
        warn(f"{counted(notes, 'note')} in sets not grouped (groups hold codes and "
             "documents)")
    if guids:
        kept["sets"] = guids


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
                memos.append((*target, qde.credit(selection.user) or project.coder,
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
