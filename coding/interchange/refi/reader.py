"""Reading REFI-QDA files (QDA-XML 1.0) into plain records: a .qdc codebook's codes, a
.qdpx project's (or a bare .qde's) users, codes, variables, cases, text sources with their
selections and codings, notes and links. Pure: no database. Archives and XML are read through
`readers.archive`: members in memory, no DTDs or entities, zip bombs and unsafe member names
refused before anything is read.

Selections are mapped onto the text as ingest stores it (`offsets`), each source's positions
read in the unit its producer counts (code points, or NVivo's UTF-16 code units: `offsets.
choose_unit`), so the records hold stored-text offsets. What cannot be read or is not supported
is skipped with a warning (`Warnings`), and each source's tally (`SourceTally`) says how many of
its codings were read and why any were skipped; a broken or hostile file raises RefiError.
"""

import json
import re
from pathlib import Path

from ...errors import RefiError, TranscriptError
from ...readers.archive import SafeArchive, parse_xml
from ...readers.transcripts import MAX_FILE_BYTES
from .common import DECIMAL, valid_date
from .elements import (RefiCase, RefiCode, RefiNote, RefiProject, RefiSet, children,
                       clean_name, first_child, free_user_name, guid_of, local, moment,
                       text_of)
from .offsets import origin_is_ours, unit_of_origin
from .sources import SourceReading, decode

MAX_CODE_DEPTH = 50  # GCPH has 2 levels; the codebook module walks trees recursively

_COLOUR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_SLUG = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,199}")  # our code ids (fullmatch)
_VARIABLE_TYPES = {"Text": "text", "Boolean": "boolean", "Integer": "number", "Float": "number",
                   "Date": "date", "DateTime": "text"}


def read_codebook(path, warn):
    """The codes of a .qdc codebook (or of a project file's CodeBook), the file's origin and
    its code Sets: (codes, origin, sets). Raises RefiError when the file is not one or holds
    no codes."""
    path = Path(path)
    root = parse_xml(_read_file(path), path)
    name = local(root.tag)
    if name == "Project":
        codebook_el = first_child(root, "CodeBook")
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
    sets_el = first_child(codebook_el, "Sets")
    sets = _read_sets(sets_el, warn) if sets_el is not None else []
    return codes, root.get("origin") or "", sets


def read_project(path, rules, warn):
    """A REFI-QDA project (.qdpx, or a bare .qde) as a RefiProject; text sources are split
    into turns with the speaker `rules` (readers.speakers.SpeakerRules), as ingest would.
    Raises RefiError for a broken or hostile file."""
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
        if local(root.tag) != "Project":
            raise RefiError(f"is not a REFI-QDA project: the root element is "
                            f"<{local(root.tag)}>, expected <Project>", path=qde_label, line=1)
        return _ProjectReader(root, path, archive, rules, warn).read()
    finally:
        if archive is not None:
            archive.close()


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


def _read_codes(codebook_el, warn):
    """The codes of a CodeBook, parents before children; nesting deeper than MAX_CODE_DEPTH
    is refused (a hostile file could otherwise exhaust recursion further on)."""
    codes, seen = [], set()

    def visit(container, parent, depth):
        if depth > MAX_CODE_DEPTH:
            raise RefiError(f"codes are nested more than {MAX_CODE_DEPTH} levels deep; refused",
                            path=warn.path)
        for element in children(container):
            name = local(element.tag)
            if name != "Code":
                if name not in ("Description", "NoteRef"):
                    warn.skip(element, " in a code")
                continue
            guid = guid_of(element.get("guid"))
            if not guid or guid in seen:
                warn(f"code '{clean_name(element.get('name'))}' has "
                     f"{'a repeated' if guid else 'no'} guid; skipped with the codes under it")
                continue
            seen.add(guid)
            colour = (element.get("color") or "").strip()
            if colour and not _COLOUR.match(colour):
                warn(f"code '{clean_name(element.get('name'))}': colour {colour!r} is not #RRGGBB; "
                     "ignored")
                colour = ""
            codes.append(RefiCode(guid=guid, name=clean_name(element.get("name")) or guid,
                                   parent=parent, colour=_colour(colour),
                                   description=text_of(first_child(element, "Description"))))
            visit(element, guid, depth + 1)

    codes_el = first_child(codebook_el, "Codes")
    if codes_el is not None:
        visit(codes_el, None, 1)
    for element in children(codebook_el):
        if local(element.tag) not in ("Codes", "Sets"):
            warn.skip(element, " in the codebook")
    return codes


def _read_sets(sets_el, warn):
    """The Sets of a project or codebook. A member names its target by `targetGUID` (the
    project schema) or `guid` (the codebook schema)."""
    sets = []
    for element in children(sets_el):
        if local(element.tag) != "Set" or not element.get("guid"):
            warn.skip(element, " in Sets")
            continue
        members = {"MemberCode": [], "MemberSource": [], "MemberNote": []}
        for member in children(element):
            kind = local(member.tag)
            target = guid_of(member.get("targetGUID") or member.get("guid"))
            if kind in members and target:
                members[kind].append(target)
            elif kind != "Description":
                warn.skip(member, " in a set")
        name = clean_name(element.get("name")) or guid_of(element.get("guid"))
        sets.append(RefiSet(guid=guid_of(element.get("guid")), name=name,
                            description=text_of(first_child(element, "Description")).strip(),
                            codes=list(dict.fromkeys(members["MemberCode"])),
                            sources=list(dict.fromkeys(members["MemberSource"])),
                            notes=len(members["MemberNote"])))
    return sets


def _colour(value):
    if not value:
        return None
    digits = value[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits.lower()


class _ProjectReader(SourceReading):
    """Reads a .qde's root element into a RefiProject, element by element."""

    def __init__(self, root, path, archive, rules, warn):
        self.root, self.path, self.archive, self.rules, self.warn = (root, path, archive,
                                                                     rules, warn)
        self.base_path = root.get("basePath") or ""
        self.project = RefiProject(name=root.get("name") or "",
                                   origin=root.get("origin") or "")
        self.prior = unit_of_origin(self.project.origin)
        self.certain = origin_is_ours(self.project.origin)

    def read(self):
        handlers = {"Users": self._users, "CodeBook": self._codebook,
                    "Variables": self._variables, "Cases": self._cases,
                    "Sources": self._sources, "Notes": self._notes, "Links": self._links,
                    "Sets": self._sets, "Description": lambda element: None}
        for element in children(self.root):
            name = local(element.tag)
            if name == "NoteRef":
                self._note_ref(element, "project", None)
            elif name in handlers:
                handlers[name](element)
            else:
                self.warn.skip(element)
        self._code_ids()
        self.warn.flush()
        return self.project

    def _users(self, element):
        for user in children(element):
            if local(user.tag) != "User" or not user.get("guid"):
                self.warn.skip(user, " in Users")
                continue
            name = clean_name(user.get("name") or user.get("id"))
            guid = guid_of(user.get("guid"))
            if guid in self.project.users:
                continue
            # Two people may share a name; each keeps their own codings (issue 15, item 4).
            self.project.users[guid] = free_user_name(name or f"user {guid[:8]}",
                                                       self.project.users)
            self.project.declared.add(guid)

    def _sets(self, element):
        self.project.sets.extend(_read_sets(element, self.warn))

    def _code_ids(self):
        """Our code ids, from the `coding.json` member our own exports write: {GUID: id} for
        the file's codes (ids that are not slugs are ignored)."""
        if self.archive is None or self.archive.find("coding.json") is None:
            return
        try:
            data = json.loads(self.archive.read("coding.json"))
            ids = data.get("codes") if isinstance(data, dict) else None
        except (ValueError, RecursionError):  # not JSON, or nested to exhaust the parser
            ids = None
        if not isinstance(ids, dict):
            self.warn("coding.json is not what our exports write; ignored")
            return
        known = {code.guid for code in self.project.codes}
        self.project.code_ids = {guid_of(guid): key for guid, key in ids.items()
                                 if isinstance(key, str) and _SLUG.fullmatch(key)
                                 and guid_of(guid) in known}

    def _codebook(self, element):
        self.project.codes = _read_codes(element, self.warn)
        for code_el in element.iter():
            if local(code_el.tag) == "Code":
                for ref in children(code_el, "NoteRef"):
                    self._note_ref(ref, "code", guid_of(code_el.get("guid")))

    def _variables(self, element):
        for variable in children(element):
            if local(variable.tag) != "Variable" or not variable.get("guid"):
                self.warn.skip(variable, " in Variables")
                continue
            kind = variable.get("typeOfVariable") or "Text"
            self.project.variables[guid_of(variable.get("guid"))] = (
                clean_name(variable.get("name")) or guid_of(variable.get("guid")),
                _VARIABLE_TYPES.get(kind, "text"))

    def _values(self, element, where):
        values = []
        for value_el in children(element, "VariableValue"):
            ref = first_child(value_el, "VariableRef")
            guid = guid_of(ref.get("targetGUID")) if ref is not None else None
            if guid not in self.project.variables:
                self.warn(f"{where}: a value of an undeclared variable was skipped")
                continue
            typed = [c for c in children(value_el) if local(c.tag) != "VariableRef"]
            values.append((guid, _typed_value(typed[0]) if typed else
                           (self.project.variables[guid][1], None)))
        return values

    def _cases(self, element):
        for case in children(element):
            if local(case.tag) != "Case" or not case.get("guid"):
                self.warn.skip(case, " in Cases")
                continue
            guid = guid_of(case.get("guid"))
            name = clean_name(case.get("name")) or guid
            for child in children(case):
                if local(child.tag) not in ("Description", "VariableValue", "SourceRef"):
                    self.warn.skip(child, " in a case")
            self.project.cases.append(RefiCase(
                guid=guid, name=name, values=self._values(case, f"case '{name}'"),
                sources=[guid_of(ref.get("targetGUID")) for ref in children(case, "SourceRef")],
                description=text_of(first_child(case, "Description")).strip()))

    def _notes(self, element):
        for note in children(element):
            if local(note.tag) != "Note" or not note.get("guid"):
                self.warn.skip(note, " in Notes")
                continue
            guid = guid_of(note.get("guid"))
            name = clean_name(note.get("name"))
            content = first_child(note, "PlainTextContent")
            if content is not None:
                text = content.text or ""
            else:
                found = self._source_bytes(note.get("plainTextPath"), ".txt")
                try:
                    text = decode(found[0], found[1]) if found else ""
                except TranscriptError as exc:
                    found, text = None, ""
                    self.warn(f"note '{name or guid}': {exc.message}")
                if not found:
                    self.warn(f"note '{name or guid}': its text cannot be found; "
                              "imported with its description only")
            description = text_of(first_child(note, "Description")).strip()
            if description:
                text = f"{description}\n\n{text.strip()}" if text.strip() else description
            for child in children(note):
                if local(child.tag) not in ("Description", "PlainTextContent", "NoteRef",
                                             "PlainTextSelection", "VariableValue"):
                    self.warn.skip(child, " in a note")
            self.project.notes[guid] = RefiNote(guid=guid, name=name, text=text,
                                     user=self.project.credit(note.get("creatingUser")),
                                     created=moment(note.get("creationDateTime")))

    def _links(self, element):
        for link in children(element):
            origin, target = guid_of(link.get("originGUID")), guid_of(link.get("targetGUID"))
            if local(link.tag) == "Link" and origin and target:
                self.project.links.append((origin, target))
            else:
                self.warn.skip(link, " in Links")

    def _note_ref(self, element, kind, target):
        guid = guid_of(element.get("targetGUID"))
        if guid:
            self.project.note_refs.append((guid, kind, target))

    # -- sources --------------------------------------------------------------------------

def _typed_value(element):
    kind, text = local(element.tag), (element.text or "").strip()
    if not text:
        return (_VARIABLE_TYPES.get(kind.removesuffix("Value"), "text"), None)
    if kind == "BooleanValue":
        return ("boolean", "true" if text.lower() in ("true", "1") else "false")
    if kind in ("IntegerValue", "FloatValue") and DECIMAL.match(text):
        return ("number", text)
    if kind == "DateValue" and valid_date(text[:10]):
        return ("date", text[:10])
    return ("text", text)

