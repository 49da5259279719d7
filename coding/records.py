"""Plain records passed between the layers: no I/O, no database."""

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

INTERVIEWER = "interviewer"
PARTICIPANT = "participant"

# The transcript files ingest reads: extension -> format (coding.readers.transcripts).
TRANSCRIPT_FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
                      ".docx": "docx", ".odt": "odt", ".vtt": "vtt", ".srt": "srt", ".sbv": "sbv",
                      ".pdf": "pdf"}

# Statuses a coding moves through: suggested -> accepted or rejected; manual when a person codes.
SUGGESTED, ACCEPTED, REJECTED, MANUAL = "suggested", "accepted", "rejected", "manual"
STATUSES = (SUGGESTED, ACCEPTED, REJECTED, MANUAL)
COUNTED_STATUSES = (ACCEPTED, MANUAL)  # what analysis counts unless asked otherwise
WITH_SUGGESTIONS = (ACCEPTED, MANUAL, SUGGESTED)  # "include suggestions": never rejected ones


@dataclass(frozen=True)
class Turn:
    """One speaker turn: [start, end) in code points of the document text, label excluded."""

    start: int
    end: int
    speaker: str | None = None
    role: str = PARTICIPANT
    time_start: float | None = None  # seconds, from timestamps or subtitle cues
    time_end: float | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """A transcript read from a file, before it is stored: frozen text plus turns."""

    name: str
    format: str
    text: str
    turns: tuple[Turn, ...]
    sha256: str
    metadata: dict = field(default_factory=dict, hash=False, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)  # what was chosen or repaired

    @cached_property  # counted once, where the document is parsed (a batch worker)
    def words(self):
        """Spoken words: the words inside turns, so labels and headers do not count."""
        return sum(count_words(self.text[t.start:t.end]) for t in self.turns)


@dataclass(frozen=True)
class Code:
    """A code of a codebook; `parent` is the parent's id or None for a top-level code."""

    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    colour: str | None = None
    ordered: bool = False  # its children are a scale, lowest first (issue 18: --level ordinal)


@dataclass(frozen=True)
class Codebook:
    """A set of codes in file order (parents before their children)."""

    id: str
    name: str
    codes: tuple[Code, ...]
    version: str = ""
    description: str = ""
    source: str = ""

    def get(self, code_id):
        return self._by_id().get(code_id)

    def walk(self):
        """Codes depth-first, each parent before its children, siblings in file order."""
        children = {}
        for code in self.codes:
            children.setdefault(code.parent, []).append(code)

        def visit(parent):
            for code in children.get(parent, ()):
                yield code
                yield from visit(code.id)

        return list(visit(None))

    def path(self, code_id):
        """'asset_features/person_centred' for a child, its id for a top-level code."""
        by_id, parts, seen = self._by_id(), [], set()
        while code_id is not None and code_id not in seen:
            seen.add(code_id)
            parts.append(code_id)
            code_id = by_id[code_id].parent if code_id in by_id else None
        return "/".join(reversed(parts))

    def children(self, code_id):
        return [code for code in self.codes if code.parent == code_id]

    def _by_id(self):
        return {code.id: code for code in self.codes}


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document as the API lists it."""

    id: int
    name: str
    format: str
    case: str | None
    words: int
    turns: int
    sha256: str
    codings: int = 0


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file: 'added', 'duplicate' (same content already stored) or 'failed'."""

    path: str
    status: str
    document: str | None = None
    case: str | None = None
    turns: int = 0
    words: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()  # an encoding detected, bytes repaired, a near-duplicate


def sha256_text(text):
    """The SHA-256 of a document's frozen text: what identifies its content."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count_words(text):
    """Whitespace-separated tokens that hold a letter or digit."""
    return sum(1 for token in text.split()  # isalnum() first: most tokens are plain words
               if token.isalnum() or any(ch.isalnum() for ch in token))


@dataclass(frozen=True)
class Suggestion:
    """A suggested coding: span, code, score in [0, 1], why, and which suggester (with version)."""

    start: int
    end: int
    code: str
    score: float
    rationale: str
    origin: str
