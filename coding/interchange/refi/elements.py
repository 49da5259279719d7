"""The records a REFI-QDA file is read into (plain dataclasses, no database) and the small
helpers for reading its XML elements, shared by `reader` (the project and its codebook) and
`sources` (text sources and their selections)."""

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .common import counted, valid_guid
from .offsets import UNIT_NAMES


class Warnings:
    """Warnings for a report, each naming the file, appended to `messages`; unsupported
    elements are counted by name and listed by `flush`."""

    def __init__(self, path, messages):
        self.path, self.messages, self.skipped = path, messages, Counter()

    def __call__(self, message):
        self.messages.append(f"{self.path}: {message}")

    def skip(self, element, where=""):
        self.skipped[(local(element.tag), where)] += 1

    def flush(self):
        for (name, where), count in sorted(self.skipped.items()):
            plural = "s" if count > 1 else ""
            self(f"skipped {count} <{name}> element{plural}{where} (not supported)")
        self.skipped.clear()


@dataclass
class SourceTally:
    """What became of one source's codings: how many the file gives it, the document it
    became, the unit its positions were read in, how many codings were stored new or found
    already there, and how many were skipped, by reason (issue 15, item 2)."""

    name: str
    codings: int
    document: str | None = None
    unit: str = ""
    imported: int = 0
    present: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> codings

    @property
    def dropped(self):
        """Whether the file gives this source codings and none of them came in."""
        return self.codings > 0 and self.imported + self.present == 0

    def line(self):
        """'source 'a.txt' -> document 'a.txt': 10 of 12 codings imported (...), 2 skipped
        (2: codes not in the codebook)'."""
        into = f" -> document '{self.document}'" if self.document else " (not imported)"
        kept = f"{self.imported + self.present} of {counted(self.codings, 'coding')} imported"
        if self.present:
            kept += f" ({self.present} already present)"
        if self.unit:
            kept += f", positions in {UNIT_NAMES[self.unit]}"
        skipped = sum(self.skipped.values())
        if skipped:
            kept += f"; {skipped} skipped (" + "; ".join(
                f"{n}: {reason}" for reason, n in self.skipped.items()) + ")"
        return f"source '{self.name}'{into}: {kept}"


@dataclass
class RefiSet:
    """A Set: a named group of codes and of sources (ATLAS.ti's code and document groups,
    NVivo's sets), by GUID."""

    guid: str
    name: str
    description: str
    codes: list
    sources: list
    notes: int  # MemberNotes: groups of notes are not kept


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
    user: str | None  # its creatingUser, as written
    created: datetime | None
    codings: list  # (coding guid, code guid, creatingUser as written, created, [note guids])
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
    tally: SourceTally = None


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
    sets: list = field(default_factory=list)  # RefiSet
    tallies: list = field(default_factory=list)  # SourceTally of every source, read or not
    declared: set = field(default_factory=set)  # the GUIDs of <Users>
    undeclared: Counter = field(default_factory=Counter)  # user GUID not in <Users> -> uses
    code_ids: dict = field(default_factory=dict)  # code guid -> our code id (coding.json)

    def user(self, guid):
        """The name of the user with this GUID, or None."""
        return self.users.get(guid_of(guid)) if guid else None

    def credit(self, *guids):
        """The coder of the first of `guids` given (a coding's creatingUser, then its
        selection's): the user's name, or 'user XXXXXXXX' for a GUID the file does not declare
        in <Users> (then kept as a user, and counted in `undeclared`); None when none is given.
        Codings are credited as the file has it, never to one user for all (issue 15, item 4)."""
        for guid in guids:
            guid = guid_of(guid)
            if not guid:
                continue
            if guid not in self.users:
                self.users[guid] = free_user_name(f"user {guid[:8]}", self.users)
            if guid not in self.declared:
                self.undeclared[guid] += 1
            return self.users[guid]
        return None


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(element, name=None):
    return [child for child in element if isinstance(child.tag, str)
            and (name is None or local(child.tag) == name)]


def first_child(element, name):
    found = children(element, name)
    return found[0] if found else None


def clean_name(value):
    """A name as we store names: NFC (ATLAS.ti on macOS writes decomposed accents), trimmed."""
    return unicodedata.normalize("NFC", value or "").strip()


def guid_of(value):
    """A GUID as we compare them (upper case, no braces); an id that is not a GUID (`c001`)
    as it is written, so every reference to it still finds it."""
    if not value or not value.strip():
        return None
    return valid_guid(value) or value.strip()


def free_user_name(name, users):
    taken = set(users.values())
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def text_of(element):
    return element.text or "" if element is not None else ""


def moment(value):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
