"""Reading REFI-QDA files (QDA-XML 1.0) into plain records: a .qdc codebook's codes, a
.qdpx project's (or a bare .qde's) users, codes, variables, cases, text sources with their
selections and codings, notes and links. Pure: no database. Archives and XML are read through
`readers.archive`: members in memory, no DTDs or entities, zip bombs and unsafe member names
refused before anything is read.

Selections are mapped onto the text as ingest stores it (`offsets`), so the records hold
stored-text offsets. What cannot be read or is not supported is skipped with a warning
(`Warnings`); a broken or hostile file raises RefiError.
"""

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

from ...errors import RefiError, TranscriptError
from ...readers.archive import SafeArchive, parse_xml
from ...readers.text import decode_bytes
from ...readers.transcripts import MAX_FILE_BYTES, parse_bytes
from .common import DECIMAL, counted, quote_name, valid_date
from .offsets import docx_span, offset_map, to_stored

MAX_CODE_DEPTH = 50  # GCPH has 2 levels; the codebook module walks trees recursively

_COLOUR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_TEXT_SOURCES = {"TextSource"}
_OTHER_SOURCES = {"PDFSource": "PDF", "PictureSource": "picture", "AudioSource": "audio",
                  "VideoSource": "video"}
_VARIABLE_TYPES = {"Text": "text", "Boolean": "boolean", "Integer": "number", "Float": "number",
                   "Date": "date", "DateTime": "text"}


class Warnings:
    """Warnings for a report, each naming the file, appended to `messages`; unsupported
    elements are counted by name and listed by `flush`."""

    def __init__(self, path, messages):
        self.path, self.messages, self.skipped = path, messages, Counter()

    def __call__(self, message):
        self.messages.append(f"{self.path}: {message}")

    def skip(self, element, where=""):
        self.skipped[(_local(element.tag), where)] += 1

    def flush(self):
        for (name, where), count in sorted(self.skipped.items()):
            plural = "s" if count > 1 else ""
            self(f"skipped {count} <{name}> element{plural}{where} (not supported)")
        self.skipped.clear()


@dataclass
class RefiCode:
    guid: str
    name: str
    parent: str | None
    colour: str | None
    description: str


@dataclass
class RefiSelection:
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
class RefiSource:
    guid: str
    name: str
    parsed: object  # ParsedDocument
    selections: list
    notes: list
    values: list  # (variable guid, (type, value))
    description: str
    whole_codings: list  # codings of the whole source


@dataclass
class RefiCase:
    guid: str
    name: str
    values: list
    sources: list
    description: str


@dataclass
class RefiNote:
    guid: str
    name: str
    text: str
    user: str | None
    created: datetime | None


@dataclass
class RefiProject:
    """Everything a .qde holds that we keep, read and checked before anything is stored."""

    name: str  # the project's name, "" when the file gives none
    origin: str  # the tool that wrote the file, "" when unknown
    users: dict = field(default_factory=dict)  # user guid -> name
    codes: list = field(default_factory=list)  # RefiCode, parents before children
    variables: dict = field(default_factory=dict)  # variable guid -> (name, our type)
    cases: list = field(default_factory=list)  # RefiCase
    sources: list = field(default_factory=list)  # RefiSource (text sources that were read)
    notes: dict = field(default_factory=dict)  # note guid -> RefiNote
    note_refs: list = field(default_factory=list)  # (note guid, target kind, target guid)
    links: list = field(default_factory=list)  # (origin guid, target guid)
    selection_owner: dict = field(default_factory=dict)  # selection guid -> source guid

    def user(self, guid):
        """The name of the user with this GUID, or None."""
        return self.users.get(_guid(guid)) if guid else None


def read_codebook(path, warn):
    """The codes of a .qdc codebook (or of a project file's CodeBook) and the file's origin:
    (codes, origin). Raises RefiError when the file is not one or holds no codes."""
    path = Path(path)
    root = parse_xml(_read_file(path), path)
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
    return codes, root.get("origin") or ""


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
        if _local(root.tag) != "Project":
            raise RefiError(f"is not a REFI-QDA project: the root element is "
                            f"<{_local(root.tag)}>, expected <Project>", path=qde_label, line=1)
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
            codes.append(RefiCode(guid=guid, name=_name(element.get("name")) or guid,
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
    """Reads a .qde's root element into a RefiProject, element by element."""

    def __init__(self, root, path, archive, rules, warn):
        self.root, self.path, self.archive, self.rules, self.warn = (root, path, archive,
                                                                     rules, warn)
        self.base_path = root.get("basePath") or ""
        self.project = RefiProject(name=root.get("name") or "",
                                   origin=root.get("origin") or "")

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
        return self.project

    def _users(self, element):
        for user in _children(element):
            if _local(user.tag) != "User" or not user.get("guid"):
                self.warn.skip(user, " in Users")
                continue
            name = _name(user.get("name") or user.get("id"))
            guid = _guid(user.get("guid"))
            self.project.users[guid] = name or f"user {guid[:8]}"

    def _codebook(self, element):
        self.project.codes = _read_codes(element, self.warn)
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
            self.project.variables[_guid(variable.get("guid"))] = (
                _name(variable.get("name")) or _guid(variable.get("guid")),
                _VARIABLE_TYPES.get(kind, "text"))

    def _values(self, element, where):
        values = []
        for value_el in _children(element, "VariableValue"):
            ref = _child(value_el, "VariableRef")
            guid = _guid(ref.get("targetGUID")) if ref is not None else None
            if guid not in self.project.variables:
                self.warn(f"{where}: a value of an undeclared variable was skipped")
                continue
            typed = [c for c in _children(value_el) if _local(c.tag) != "VariableRef"]
            values.append((guid, _typed_value(typed[0]) if typed else
                           (self.project.variables[guid][1], None)))
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
            self.project.cases.append(RefiCase(
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
            self.project.notes[guid] = RefiNote(guid=guid, name=name, text=text,
                                     user=self.project.user(note.get("creatingUser")),
                                     created=_datetime(note.get("creationDateTime")))

    def _links(self, element):
        for link in _children(element):
            origin, target = _guid(link.get("originGUID")), _guid(link.get("targetGUID"))
            if _local(link.tag) == "Link" and origin and target:
                self.project.links.append((origin, target))
            else:
                self.warn.skip(link, " in Links")

    def _note_ref(self, element, kind, target):
        guid = _guid(element.get("targetGUID"))
        if guid:
            self.project.note_refs.append((guid, kind, target))

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
        names = [repr(quote_name(_name(s.get("name")), 40)) for s in selections[:3]]
        more = ", ..." if len(selections) > 3 else ""
        listed = f" ({', '.join(names)}{more})" if names else ""
        name = _name(source.get("name")) or source.get("guid")
        self.warn(f"{kind} source '{name}' skipped (only text sources are imported): "
                  f"{counted(len(selections), 'selection')}{listed} and "
                  f"{counted(len(codings), 'coding')} not imported")
        for selection in selections:
            self.project.selection_owner[_guid(selection.get("guid"))] = None

    def _text_source(self, source):
        guid = _guid(source.get("guid"))
        name = _name(source.get("name")) or f"{guid}.txt"
        label = f"source '{name}'"
        selections = _children(source, "PlainTextSelection")
        codings = sum(len(_children(s, "Coding")) for s in selections)
        lost = (f"skipped ({counted(len(selections), 'selection')} and "
                f"{counted(codings, 'coding')} not imported)")
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
            convert = lambda s, e, n: docx_span(parsed.text, s, e, n)  # noqa: E731
            length = None
        else:
            starts, ends = offset_map(original, parsed.text)
            convert = lambda s, e, n: to_stored(starts, ends, s, e)  # noqa: E731
            length = len(original)
        result = RefiSource(guid=guid, name=name, parsed=parsed, selections=[],
                         notes=[_guid(r.get("targetGUID")) for r in _children(source, "NoteRef")],
                         values=self._values(source, label),
                         description=_text_of(_child(source, "Description")).strip(),
                         whole_codings=[self._coding(c) for c in _children(source, "Coding")])
        for selection in selections:
            item = self._selection(selection, convert, length, label)
            if item is not None:
                result.selections.append(item)
                self.project.selection_owner[item.guid] = guid
        for child in _children(source):
            if _local(child.tag) not in ("Description", "PlainTextContent", "PlainTextSelection",
                                         "Coding", "NoteRef", "VariableValue"):
                self.warn.skip(child, " in a text source")
        self.project.sources.append(result)

    def _selection(self, element, convert, length, label):
        guid = _guid(element.get("guid"))
        name = _name(element.get("name"))
        where = f"{label}: selection '{quote_name(name, 40) or guid}'"
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
        return RefiSelection(guid=guid, name=name, start=span[0], end=span[1],
                          user=self.project.user(element.get("creatingUser")),
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


def _typed_value(element):
    kind, text = _local(element.tag), (element.text or "").strip()
    if not text:
        return (_VARIABLE_TYPES.get(kind.removesuffix("Value"), "text"), None)
    if kind == "BooleanValue":
        return ("boolean", "true" if text.lower() in ("true", "1") else "false")
    if kind in ("IntegerValue", "FloatValue") and DECIMAL.match(text):
        return ("number", text)
    if kind == "DateValue" and valid_date(text[:10]):
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
