"""Taking documents out of a project (issue 16, item 8), inside the caller's transaction.

- `document_record` / `delete_document_rows` / `restore_document`: a deleted document is
  logged whole (text, turns, codings, memos), so undo puts it back with the same ids;
- `purge_text`: when a participant withdraws consent, every document with that text goes with
  its turns, codings and memos, the event log forgets them (each event that held any of it
  keeps only a note that a purge removed its details), the suggestion models that learned
  its words are dropped, and one `purge_document` event records that a purge happened. It
  cannot be undone; the file's freed pages are erased afterwards (backup.erase_freed).
"""

from dataclasses import dataclass, field

from sqlalchemy import delete, select

from ..storage.schema import (CaseRow, CodeRow, CodingRow, DocumentRow, EventRow, MemoRow, ModelRow,
                              TurnRow)

DOCUMENT_FIELDS = ("id", "name", "format", "text", "sha256", "words", "case_id", "meta",
                   "created_at")
TURN_FIELDS = ("id", "seq", "speaker", "role", "start", "end", "time_start", "time_end")
CODING_FIELDS = ("id", "code_id", "start", "end", "coder", "status", "origin", "score",
                 "rationale", "created_at", "reviewed_by", "reviewed_at")
MEMO_FIELDS = ("id", "target_type", "target_id", "coder", "title", "text", "created_at",
               "updated_at")
PURGED = "purged"  # the key an event scrubbed by a purge keeps: the purge's time


@dataclass(frozen=True)
class Deletion:
    """What deleting a document took with it."""

    document: str
    turns: int
    codings: int
    memos: int

    def summary(self):
        return (f"Deleted {self.document} with its {_plural(self.turns, 'turn')}, "
                f"{_plural(self.codings, 'coding')} and {_plural(self.memos, 'memo')}. "
                "Undo brings it back; a backup was taken first.")


@dataclass
class Purge:
    """What a purge removed: the documents' names, and counts."""

    documents: list = field(default_factory=list)
    turns: int = 0
    codings: int = 0
    memos: int = 0
    events: int = 0    # events whose details were removed or trimmed
    models: int = 0    # suggestion models dropped (they learned the text's words)
    backups_cleaned: list = field(default_factory=list)  # backups purged the same way
    backups_left: list = field(default_factory=list)     # (backup, why): delete them by hand
    notes: list = field(default_factory=list)            # what else to do by hand


    def summary(self):
        """What was purged, in words, and which backups to delete by hand."""
        text = (f"Purged {', '.join(self.documents)}: the text, "
                f"{_plural(self.turns, 'turn')}, {_plural(self.codings, 'coding')} and "
                f"{_plural(self.memos, 'memo')} are gone from the project and from "
                f"{_plural(self.events, 'entry', 'entries')} of its log")
        if self.models:
            text += "; the suggestion model, which had learned its words, will be retrained"
        if self.backups_cleaned:
            text += f"; purged from {_plural(len(self.backups_cleaned), 'backup')} too"
        text += ". This cannot be undone."
        for note in self.notes:
            text += f"\n{note}"
        for path, why in self.backups_left:
            text += f"\nDelete this backup yourself, it could not be purged: {path} ({why})"
        return text


def document_record(session, document):
    """Everything a deleted document takes with it, as plain data for the event log: the
    document row, its turns, its codings and the memos on it and on its codings."""
    codings = list(session.scalars(select(CodingRow).where(
        CodingRow.document_id == document.id).order_by(CodingRow.id)))
    memos = _memos_on(session, [document.id], [c.id for c in codings])
    return {"document": _fields(document, DOCUMENT_FIELDS),
            "turns": [_fields(t, TURN_FIELDS) for t in document.turns],
            "codings": [_fields(c, CODING_FIELDS) for c in codings],
            "memos": [_fields(m, MEMO_FIELDS) for m in memos]}


def delete_document_rows(session, document, record):
    """Delete a document, its turns, codings and memos (those listed in `record`)."""
    memo_ids = [m["id"] for m in record["memos"]]
    if memo_ids:
        session.execute(delete(MemoRow).where(MemoRow.id.in_(memo_ids)))
    session.execute(delete(CodingRow).where(CodingRow.document_id == document.id))
    session.delete(document)  # its turns (and any lemma index rows) go with it
    session.flush()


def restore_document(session, record, when):
    """Put a deleted document back from its record, under the same ids. `when` turns a time
    the log kept as text back into a datetime."""
    times = {"created_at", "updated_at", "reviewed_at"}

    def row(model, values, **extra):
        return model(**{k: when(v) if k in times else v for k, v in values.items()}, **extra)

    document = dict(record["document"])
    if document["case_id"] is not None and session.get(CaseRow, document["case_id"]) is None:
        document["case_id"] = None  # its case went meanwhile (a sheet re-imported)
    session.add(row(DocumentRow, document))
    session.flush()
    session.add_all([row(TurnRow, turn, document_id=document["id"])
                     for turn in record["turns"]])
    session.add_all([row(CodingRow, coding, document_id=document["id"])
                     for coding in record["codings"]])
    session.flush()
    session.add_all([row(MemoRow, memo) for memo in record["memos"]])


def restore_conflict(session, record):
    """Why a deleted document cannot come back now (its name taken, a code gone), or None."""
    name = record["document"]["name"]
    if session.scalar(select(DocumentRow.id).where(DocumentRow.name == name)) is not None:
        return f"a document named '{name}' is in the project again"
    codes = {c["code_id"] for c in record["codings"]}
    known = set(session.scalars(select(CodeRow.id).where(CodeRow.id.in_(codes)))) \
        if codes else set()
    if codes - known:
        return "some of its codes are no longer in the codebook"
    return None


def purge_text(session, sha256, coder, store, when):
    """Remove every document whose text has this SHA-256, live or kept by a delete event,
    with everything made from it (see the module docstring). Returns a Purge, or None when
    the project holds no such text. `when` is the purge's time, stamped on scrubbed events."""
    live = list(session.scalars(select(DocumentRow).where(DocumentRow.sha256 == sha256)))
    kept = [e for e in session.scalars(select(EventRow).where(
        EventRow.action == "delete_document"))
        if ((e.detail or {}).get("document") or {}).get("sha256") == sha256]
    if not live and not kept:
        return None
    documents = {d.id: d.name for d in live}
    codings, memos = set(), set()
    purge = Purge()
    for event in kept:
        record = event.detail
        documents[record["document"]["id"]] = record["document"]["name"]
        codings |= {c["id"] for c in record["codings"]}
        memos |= {m["id"] for m in record["memos"]}
    for document in live:
        record = document_record(session, document)
        codings |= {c["id"] for c in record["codings"]}
        memos |= {m["id"] for m in record["memos"]}
        purge.turns += len(record["turns"])
        delete_document_rows(session, document, record)
    purge.turns += sum(len(e.detail["turns"]) for e in kept
                       if e.detail["document"]["id"] not in {d.id for d in live})
    purge.documents = sorted(set(documents.values()))
    purge.codings, purge.memos = len(codings), len(memos)
    names = set(documents.values()) | {  # the names they had before a rename, too
        (e.detail or {}).get("previous") for e in session.scalars(select(EventRow).where(
            EventRow.action == "rename_document", EventRow.entity_id.in_(list(documents))))}
    purge.events = scrub_events(session, set(documents), names - {None}, codings, memos,
                                when)
    purge.models = len(session.scalars(select(ModelRow.id)).all())
    session.execute(delete(ModelRow))
    store.log(session, coder, "purge_document", "document", None,
              documents=purge.documents, turns=purge.turns, codings=purge.codings,
              memos=purge.memos, events=purge.events, models=purge.models)
    return purge


def scrub_events(session, document_ids, names, coding_ids, memo_ids, when):
    """Forget the purged documents in the event log: an event about them (by entity, by a
    document id or name anywhere in its details, or the undo of such an event) keeps only
    {"purged": when}; a review or merge that also touched other codings loses only the
    purged ids. Returns how many events changed."""
    changed, scrubbed = 0, set()
    for event in session.scalars(select(EventRow).order_by(EventRow.id)):
        detail = event.detail or {}
        if detail.get(PURGED):
            continue
        about = (event.entity == "document" and event.entity_id in document_ids) or \
            (event.entity == "coding" and event.entity_id in coding_ids) or \
            (event.entity == "memo" and event.entity_id in memo_ids) or \
            _mentions(detail, document_ids, names) or \
            (event.action == "undo" and detail.get("undone") in scrubbed)
        if about:
            event.detail = {PURGED: str(when)}
            scrubbed.add(event.id)
            changed += 1
            continue
        trimmed = _trim_ids(detail, coding_ids)
        if trimmed != detail:
            event.detail = trimmed
            changed += 1
    return changed


def _mentions(value, document_ids, names):
    """True when a document id (under a key naming a document) or a name of the purged
    documents occurs anywhere in an event's details."""
    if isinstance(value, dict):
        return any((key in ("document_id", "document") and isinstance(item, int)
                    and item in document_ids)
                   or _mentions(item, document_ids, names) for key, item in value.items()) \
            or any(key in names for key in value)
    if isinstance(value, list):
        return any(_mentions(item, document_ids, names) for item in value)
    return isinstance(value, str) and value in names


def _trim_ids(detail, coding_ids):
    """An event's details without the purged coding ids in its id lists and maps."""
    keep = {str(i) for i in coding_ids}
    trimmed = dict(detail)
    for key in ("ids", "moved_ids"):
        if isinstance(trimmed.get(key), list):
            trimmed[key] = [i for i in trimmed[key] if str(i) not in keep]
    if isinstance(trimmed.get("previous_coders"), dict):
        trimmed["previous_coders"] = {k: v for k, v in trimmed["previous_coders"].items()
                                      if k not in keep}
    return trimmed


def _memos_on(session, document_ids, coding_ids):
    on_documents = (MemoRow.target_type == "document") & MemoRow.target_id.in_(document_ids)
    on_codings = (MemoRow.target_type == "coding") & MemoRow.target_id.in_(coding_ids)
    return list(session.scalars(select(MemoRow).where(on_documents | on_codings)
                                .order_by(MemoRow.id)))


def _fields(row, names):
    return {name: getattr(row, name) for name in names}


def _plural(n, noun, nouns=None):
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"

