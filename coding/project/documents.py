"""Use cases on documents and cases: speaker settings, ingest, participants sheets, and
reading documents back (their text, turns, sentences and spoken words)."""

import sys

import pandas as pd
from sqlalchemy import func, select

from ..errors import CodingError, StoreError
from ..readers import participants as case_sheets
from ..readers.speakers import SpeakerRules
from ..readers.transcripts import expand_paths, ingest_file
from ..records import PARTICIPANT, DocumentInfo, IngestResult, count_words, COUNTED_STATUSES
from ..storage.backup import auto_backup, backups, erase_freed, sqlite_file
from ..storage.schema import (AttributeRow, CaseRow, CodingRow, DocumentRow, EventRow, ProjectRow,
                              TurnRow, utcnow)
from ..storage.store import Store
from ..suggestions.pipeline import analyse
from .lookup import CaseOwners
from .removal import Deletion, delete_document_rows, document_record, purge_text
from .writing import document_named, drop_empty_stem_cases, store_parsed, turn_records

GROUP_FILES, GROUP_CHARACTERS = 200, 5_000_000  # files stored per transaction by ingest


def say(message):
    """Where notes go when the caller gave no `warn`: standard error, never nowhere."""
    print(f"Warning: {message}", file=sys.stderr)


class DocumentUseCases:
    """Mixed into Project (self.store, self.coder)."""

    # -- settings ---------------------------------------------------------------------------
    @property
    def settings(self):
        with self.store.reading() as session:
            return dict(session.scalars(select(ProjectRow)).one().settings or {})

    def set_speaker_rules(self, patterns=None, roles=None):
        """Add speaker label patterns and label -> role entries for files ingested from now on."""
        settings = self.settings
        if patterns is not None:
            settings["speaker_patterns"] = list(patterns)
        if roles is not None:
            settings["roles"] = {**settings.get("roles", {}), **dict(roles)}
        SpeakerRules.from_settings(settings)  # validates the patterns before saving them
        with self.store.transaction() as session:
            row = session.scalars(select(ProjectRow)).one()
            row.settings = settings
            self.store.log(session, self.coder, "settings", "project", row.id, settings=settings)
        return settings

    def speaker_rules(self):
        return SpeakerRules.from_settings(self.settings)

    # -- ingest -----------------------------------------------------------------------------
    def ingest(self, paths, cases=None, on_file=None, warn=None):
        """Ingest transcript files and folders; returns one IngestResult per file.

        A bad file is reported in its result and stored nothing; the good ones are stored.
        With `cases`, the participants sheet is imported first (`warn` gets what its reading
        chose or repaired). `on_file(result)` is called after each file (for progress bars).
        Files are stored a group at a time (up to GROUP_FILES files or GROUP_CHARACTERS of
        text per transaction): ten thousand one-answer files would otherwise spend most of
        their time beginning and committing transactions.
        """
        if cases is not None:
            self.import_cases(cases, warn=warn)
        rules = self.speaker_rules()
        owners = CaseOwners()
        results, group, size = [], [], 0

        def store_group():
            for index, (result, _) in zip([i for i, _, _ in group], self._store_documents(
                    [(parsed, path, ()) for _, parsed, path in group], owners)):
                results[index] = result
                if on_file:
                    on_file(result)
            group.clear()

        for path in expand_paths(paths):
            results.append(None)
            try:
                parsed = ingest_file(path, rules)
            except CodingError as exc:
                results[-1] = IngestResult(path=str(path), status="failed", error=str(exc))
                if on_file:
                    on_file(results[-1])
                continue
            group.append((len(results) - 1, parsed, path))
            size += len(parsed.text)
            if len(group) >= GROUP_FILES or size >= GROUP_CHARACTERS:
                store_group()
                size = 0
        if group:
            store_group()
        return results

    def _store_documents(self, items, owners):
        """Store parsed documents [(parsed, path, suggestions)] in one transaction: each unless
        a document of the same name and content is already here, with its suggestions.
        Returns [(IngestResult, new suggestions)]. The cost of a file does not grow with the
        documents already stored: documents are found through the name and sha256 indexes,
        cases through `owners`."""
        with self.store.transaction() as session:
            return [store_parsed(session, self.store, self.coder, parsed, path, suggestions,
                                 owners) for parsed, path, suggestions in items]

    # -- cases ------------------------------------------------------------------------------
    def import_cases(self, sheet, warn=None):
        """Import a participants sheet: create or update cases and their attributes, and link
        documents already in the project to the cases that own them. `warn` is told what
        reading the sheet chose or repaired (an encoding, a separator). Returns the case
        count."""
        notes = []
        entries = case_sheets.read_case_sheet(sheet, notes)
        for note in notes:
            (warn or say)(note)
        with self.store.transaction() as session:
            for entry in entries:
                case = session.scalars(select(CaseRow).where(CaseRow.name == entry.name)).first()
                if case is None:
                    case = CaseRow(name=entry.name)
                    session.add(case)
                case.files = list(entry.files)
                current = {a.name: a for a in case.attributes}
                for name, (kind, value) in entry.attributes.items():
                    if name in current:
                        current[name].type, current[name].value = kind, value
                    else:
                        case.attributes.append(AttributeRow(name=name, type=kind, value=value))
            session.flush()
            for document in session.scalars(select(DocumentRow)):
                owner = next((c for c in entries if c.owns(document.name)), None)
                if owner is not None:
                    document.case = session.scalars(select(CaseRow).where(
                        CaseRow.name == owner.name)).one()
            session.flush()
            drop_empty_stem_cases(session)
            self.store.log(session, self.coder, "import_cases", "case", None, sheet=str(sheet),
                           cases=[e.name for e in entries])
        return len(entries)

    def cases(self):
        """A DataFrame: one row per case, with documents and one column per attribute."""
        with self.store.reading() as session:
            rows = []
            counts = dict(session.execute(select(DocumentRow.case_id, func.count()).group_by(
                DocumentRow.case_id)).all())
            for case in session.scalars(select(CaseRow).order_by(CaseRow.name)):
                row = {"case": case.name, "documents": counts.get(case.id, 0)}
                row.update({a.name: case_sheets.typed_value(a.type, a.value)
                            for a in case.attributes})
                rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else ["case", "documents"])

    # -- documents --------------------------------------------------------------------------
    def documents(self):
        """Every document with its case, word and turn counts and counted codings."""
        with self.store.reading() as session:
            turns = dict(session.execute(select(TurnRow.document_id, func.count()).group_by(
                TurnRow.document_id)).all())
            codings = dict(session.execute(
                select(CodingRow.document_id, func.count())
                .where(CodingRow.status.in_(COUNTED_STATUSES))
                .group_by(CodingRow.document_id)).all())
            return [DocumentInfo(id=d.id, name=d.name, format=d.format,
                                 case=d.case.name if d.case else None, words=d.words,
                                 turns=turns.get(d.id, 0), sha256=d.sha256,
                                 codings=codings.get(d.id, 0))
                    for d in session.scalars(select(DocumentRow).order_by(DocumentRow.name))]

    def document_text(self, name):
        with self.store.reading() as session:
            return document_named(session, name, self.store.label).text

    def turns(self, name):
        """A DataFrame of a document's turns: seq, speaker, role, start, end, times, text."""
        with self.store.reading() as session:
            document = document_named(session, name, self.store.label)
            return pd.DataFrame(
                [{"seq": t.seq, "speaker": t.speaker, "role": t.role, "start": t.start,
                  "end": t.end, "time_start": t.time_start, "time_end": t.time_end,
                  "text": document.text[t.start:t.end]} for t in document.turns],
                columns=["seq", "speaker", "role", "start", "end", "time_start", "time_end",
                         "text"])

    def case_words(self, role=PARTICIPANT):
        """Spoken words per case in turns of `role` (all roles when None): the denominator of
        'percent of the case's participant words'."""
        with self.store.reading() as session:
            texts = dict(session.execute(select(DocumentRow.id, DocumentRow.text)).all())
            cases = dict(session.execute(select(DocumentRow.id, CaseRow.name).join(
                CaseRow, DocumentRow.case_id == CaseRow.id)).all())
            query = select(TurnRow.document_id, TurnRow.start, TurnRow.end)
            if role is not None:
                query = query.where(TurnRow.role == role)
            words = {}
            for doc_id, start, end in session.execute(query):
                case = cases.get(doc_id)
                words[case] = words.get(case, 0) + count_words(texts[doc_id][start:end])
        return words

    def turn_records(self, name):
        """A document's turns as Turn records (start, end, speaker, role, times)."""
        with self.store.reading() as session:
            return turn_records(document_named(session, name, self.store.label))

    def sentences(self, name, seq):
        """(start, end, text) of each sentence of turn `seq` of a document, in document
        offsets: what the app offers to code inside a turn (spaCy's sentence splitter)."""
        with self.store.reading() as session:
            document = document_named(session, name, self.store.label)
            turns = turn_records(document)
            text = document.text
        if not 0 <= seq < len(turns):
            raise StoreError(f"'{name}' has no turn {seq} (it has {len(turns)})",
                             path=self.store.label)
        return [(u.start, u.end, text[u.start:u.end])
                for _, units in analyse(text, [turns[seq]], "sentence", roles=None)
                for u in units]

    # -- renaming, deleting and purging documents (issue 16, item 8) ------------------------
    def rename_document(self, name, new_name):
        """Give a document another name; logged, and undo gives the old one back. Returns the
        new name."""
        new_name = str(new_name).strip()
        if not new_name:
            raise StoreError("give the document a name (it cannot be empty)")
        with self.store.transaction() as session:
            document = document_named(session, name, self.store.label)
            if new_name == document.name:
                return new_name
            if session.scalar(select(DocumentRow.id).where(DocumentRow.name == new_name)):
                raise StoreError(f"another document is already named '{new_name}'; choose "
                                 "another name", path=self.store.label)
            previous, document.name = document.name, new_name
            self.store.log(session, self.coder, "rename_document", "document", document.id,
                           previous=previous, name=new_name)
        return new_name

    def delete_document(self, name):
        """Delete a document with its turns, codings and the memos on it and its codings, in
        one logged action, after an automatic backup. The event keeps all of it, so undo
        brings it back as it was. Returns a removal.Deletion."""
        auto_backup(self.store, "delete")
        with self.store.transaction() as session:
            document = document_named(session, name, self.store.label)
            record = document_record(session, document)
            self.store.log(session, self.coder, "delete_document", "document", document.id,
                           **record)
            delete_document_rows(session, document, record)
        return Deletion(record["document"]["name"], len(record["turns"]),
                        len(record["codings"]), len(record["memos"]))

    def purge_document(self, name, clean_backups=True):
        """Remove a document for good, when a participant withdraws consent: its text, turns,
        codings and memos leave the project (with any other document holding the same text,
        and a document deleted earlier under that name), the event log keeps no trace of them
        (see removal.purge_text), and the file is rebuilt so their bytes are gone too. The
        automatic and manual backups in the project's backup folder are purged the same way;
        any that cannot be (damaged, read-only, of a newer version) are listed in
        `backups_left` for you to delete. One `purge_document` event records that a purge
        happened; it cannot be undone. Returns a removal.Purge."""
        with self.store.reading() as session:
            live = session.scalar(select(DocumentRow.sha256).where(DocumentRow.name == name))
            deleted = [e.detail["document"]["sha256"] for e in session.scalars(
                select(EventRow).where(EventRow.action == "delete_document").order_by(
                    EventRow.id.desc())) if e.detail.get("document", {}).get("name") == name]
        sha256 = live or next(iter(deleted), None)
        if sha256 is None:
            raise StoreError(f"no document named '{name}' in this project, nor one deleted "
                             "from it; give the exact name the documents list shows",
                             path=self.store.label)
        when = utcnow()
        purge = self._purge_text(sha256, when)
        path = sqlite_file(self.store)
        for found in (backups(path) if clean_backups and path else []):
            try:
                copy = type(self)(Store.open(found.path), coder=self.coder)
                try:
                    if copy._purge_text(sha256, when, self_contained=True) is not None:
                        purge.backups_cleaned.append(found.path)
                finally:
                    copy.close()
            except CodingError as exc:
                purge.backups_left.append((found.path, str(exc)))
        return purge

    def _purge_text(self, sha256, when, self_contained=False):
        with self.store.transaction() as session:
            purge = purge_text(session, sha256, self.coder, self.store, when)
        if purge is not None and not erase_freed(self.store, self_contained):
            purge.notes.append("The database server may keep the deleted rows in its files "
                               "until they are reclaimed: run VACUUM FULL on it (PostgreSQL), "
                               "and delete its dumps made before the purge.")
        return purge

