"""`coding check`: find damage already done, change nothing (issue 13).

Earlier versions could change a project without a word: a memo moved to a new coding that got
a removed coding's id, UTF-8 transcripts were stored as mojibake, codings files were applied to
a document found by its stem, and the app could code a span across turns after the text
changed under it. `check_project` looks for each of these (and runs the database's own
integrity check) and returns what it found; it never writes.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text

from ..readers.codings_file import read_codings_file
from ..readers.text import sha256_text
from ..storage.schema import CodingRow, DocumentRow, EventRow, MemoRow, TurnRow
from .lookup import find_document

_SHOWN = 5  # examples named per finding


@dataclass(frozen=True)
class Finding:
    """One kind of damage: what it is, how many rows, and where (the first few, named)."""

    check: str
    count: int
    message: str


def check_project(project):
    """Everything that looks damaged in `project`, as Findings (empty: nothing found)."""
    findings = []
    with project.store.reading() as session:
        findings += _integrity(session)
        documents = {d.id: d for d in session.scalars(select(DocumentRow))}
        findings += _altered_texts(documents)
        findings += _mojibake(documents)
        findings += _memos_older_than_their_coding(session)
        findings += _memos_on_missing_codings(session)
        findings += _codings_across_turns(session, documents)
        findings += _codings_files_by_stem(session)
    return findings


def _integrity(session):
    if session.bind.dialect.name != "sqlite":
        return []  # PostgreSQL checks its pages itself (amcheck is the administrator's tool)
    rows = [row[0] for row in session.execute(text("PRAGMA integrity_check"))]
    if rows == ["ok"]:
        return []
    return [Finding("integrity", len(rows), "SQLite's integrity check failed: "
                    + "; ".join(rows[:_SHOWN]) + " (restore a backup: `coding backup PROJECT "
                    "--list`, then `coding restore`)")]


def _altered_texts(documents):
    altered = [d.name for d in documents.values() if sha256_text(d.text) != d.sha256]
    return _found("altered text", altered,
                  f"{_count(altered, 'document')} whose text no longer matches the checksum "
                  f"taken at ingest (changed outside coding; its codings may point at other "
                  f"words): {_names(altered)}")


# A run of characters that are the Windows-1252 or Mac-Roman reading of UTF-8 bytes: decoding
# it back gives fewer, valid characters ("cafÃ©" -> "café", "It‚Äôs" -> "It’s").
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def mojibake_examples(text, limit=3):
    """[(shown, meant, encoding)] of runs in `text` that read like UTF-8 decoded as
    Windows-1252 or Mac-Roman."""
    found = []
    for match in _NON_ASCII_RUN.finditer(text):
        run = match.group(0)
        for encoding, name in (("cp1252", "Windows-1252"), ("mac_roman", "Mac-Roman")):
            try:
                meant = run.encode(encoding).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if len(meant) < len(run):
                found.append((run, meant, name))
                break
        if len(found) >= limit:
            break
    return found


def _mojibake(documents):
    hits = []
    for document in documents.values():
        examples = mojibake_examples(document.text, limit=1)
        if examples:
            shown, meant, encoding = examples[0]
            hits.append(f"{document.name} ('{shown}' for '{meant}': UTF-8 read as {encoding})")
    return _found("mojibake", hits,
                  f"{_count(hits, 'document')} whose text looks like UTF-8 decoded with the "
                  f"wrong encoding; ingest the original file again with this version and "
                  f"move the codings: {_names(hits)}")


def _memos_older_than_their_coding(session):
    rows = session.execute(
        select(MemoRow.id, MemoRow.created_at, CodingRow.id, CodingRow.created_at)
        .join(CodingRow, (MemoRow.target_type == "coding") & (MemoRow.target_id == CodingRow.id))
        .order_by(MemoRow.id)).all()
    older = [f"memo {memo} on coding {coding}" for memo, memo_at, coding, coding_at in rows
             if _naive(memo_at) < _naive(coding_at)]
    return _found("memo on a reused id", older,
                  f"{_count(older, 'memo')} written before the coding it is attached to was "
                  "made: most likely written on an earlier coding that was removed and whose "
                  f"id was given to a new one (fixed in this version): {_names(older)}")


def _memos_on_missing_codings(session):
    orphans = list(session.scalars(
        select(MemoRow.id).where(MemoRow.target_type == "coding",
                                 ~MemoRow.target_id.in_(select(CodingRow.id)))
        .order_by(MemoRow.id)))
    return _found("memo on a removed coding", orphans,
                  f"{_count(orphans, 'memo')} on codings that no longer exist: "
                  f"{_names([f'memo {i}' for i in orphans])}")


def _codings_across_turns(session, documents):
    """Codings that start in one turn and end in another, other than whole turns (a range
    of turns coded on purpose starts at a turn's start and ends at a turn's end), or that lie
    outside their document's text."""
    turns = {}
    for document_id, start, end in session.execute(
            select(TurnRow.document_id, TurnRow.start, TurnRow.end).order_by(
                TurnRow.document_id, TurnRow.start)):
        turns.setdefault(document_id, []).append((start, end))
    bad = []
    for coding_id, document_id, start, end in session.execute(
            select(CodingRow.id, CodingRow.document_id, CodingRow.start, CodingRow.end)
            .order_by(CodingRow.id)):
        document = documents.get(document_id)
        if document is None:
            continue
        if not 0 <= start < end <= len(document.text):
            bad.append(f"coding {coding_id} in {document.name} [{start}, {end}) outside the text")
            continue
        spans = turns.get(document_id, [])
        inside = [s for s in spans if s[0] < end and start < s[1]]
        if len(inside) > 1 and not (start == inside[0][0] and end == inside[-1][1]):
            bad.append(f"coding {coding_id} in {document.name} [{start}, {end}) across "
                       f"{len(inside)} turns")
    return _found("coding across turns", bad,
                  f"{_count(bad, 'coding')} that cross a turn boundary mid-turn or lie "
                  f"outside the text (a span computed on text that changed): {_names(bad)}")


def _codings_files_by_stem(session):
    """Codings files applied to a document found by a looser name than the one they gave: as
    logged by this version, or, for imports by earlier versions, found by reading the logged
    file again when it is still there."""
    hits = []
    for event_id, detail in session.execute(
            select(EventRow.id, EventRow.detail).where(EventRow.action == "import_codings")
            .order_by(EventRow.id)):
        detail = detail or {}
        loose = detail.get("loose_names")
        if loose is None:
            loose = _loose_names_in(session, detail.get("file"))
        hits += [f"{detail.get('file')} (event {event_id}): '{given}' -> '{name}'"
                 for given, name in sorted(loose.items())]
    return _found("codings applied by stem", hits,
                  f"{_count(hits, 'codings file name')} applied to a document with another "
                  f"name (check they belong there): {_names(hits)}")


def _loose_names_in(session, file):
    if not file or not Path(file).is_file():
        return {}
    try:
        rows = read_codings_file(file, warnings=[])
    except Exception:  # noqa: BLE001 - a file changed since is no evidence either way
        return {}
    loose = {}
    for name in sorted({row.document for row in rows}):
        document, note = find_document(session, name)
        if note:  # earlier versions took the first of several matches too
            loose[name] = document.name if document is not None else "one of several"
    return loose


def _found(check, items, message):
    """[Finding] for what a check found, or [] when it found nothing."""
    return [Finding(check, len(items), message)] if items else []


def _naive(when):
    return when.replace(tzinfo=None) if when is not None and when.tzinfo else when


def _count(items, noun):
    return f"{len(items)} {noun}" + ("" if len(items) == 1 else "s")


def _names(items):
    shown = "; ".join(map(str, items[:_SHOWN]))
    return shown + (f"; and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")
