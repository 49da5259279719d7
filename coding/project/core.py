"""Use cases over a project: ingest, cases, codebooks, codings, memos, summaries.

Interfaces (CLI, app, notebooks) call these; each change runs in one transaction together with
its event-log record, so a failure leaves the project as it was.
"""

import getpass
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select

from ..errors import CodingError, CodingsFileError, StoreError
from ..files import write_atomic  # noqa: F401 - refi imports it here
from ..readers import participants as case_sheets
from ..readers.codebooks import dump_codebook, load_codebook
from ..readers.codings_file import locate_quote, read_codings_file
from ..readers.speakers import SpeakerRules
from ..readers.transcripts import expand_paths, ingest_file
from ..records import (COUNTED_STATUSES, MANUAL, PARTICIPANT, STATUSES,
                       DocumentInfo, IngestResult, count_words)
from ..storage.backup import auto_backup, backup, backups, before_upgrade, restore, sqlite_file
from ..storage.schema import (AttributeRow, CaseRow, CodebookVersionRow, CodeRow, CodingRow,
                              DocumentRow, EventRow, MemoRow, ProjectRow, TurnRow, utcnow)
from ..storage.store import Store
from .check import check_project
from .codebook import CodebookUseCases, read_codebook
from .history import history, undo
from .lookup import CaseOwners, find_document, free_name, match_document
from .suggestions import SuggestionUseCases
from .team import TeamUseCases
from .word_comments import import_word_comments

MEMO_TARGETS = ("project", "document", "case", "code", "coding")
GROUP_FILES, GROUP_CHARACTERS = 200, 5_000_000  # files stored per transaction by ingest
CODING_COLUMNS = ["coding_id", "document", "case", "turn", "speaker", "role", "code", "code_name",
                  "code_path", "start", "end", "quote", "coder", "status", "origin", "score",
                  "rationale", "created_at"]


def _say(message):
    """Where notes go when the caller gave no `warn`: standard error, never nowhere."""
    print(f"Warning: {message}", file=sys.stderr)


def default_coder():
    return os.environ.get("CODING_CODER") or getpass.getuser() or "coder"


def init_project(project, name=None, coder=None):
    """Create a new project (a SQLite file path or a SQLAlchemy URL) and open it."""
    return Project(Store.create(project, name=name), coder=coder)


def open_project(project, coder=None, create=False):
    """Open an existing project; with create=True, make it first when it does not exist."""
    if create and "://" not in str(project) and not Path(project).exists():
        return init_project(project, coder=coder)
    return Project(Store.open(project, before_upgrade), coder=coder)


def restore_project(project, backup, coder=None):
    """Replace a SQLite project's content with a backup (see backup.restore): refuses a file
    that is not a coding project, backs up the current state first and returns that file."""
    return restore(project, backup, coder or default_coder())


class Project(SuggestionUseCases, CodebookUseCases, TeamUseCases):
    """One coding project. `coder` is stamped on every change made through it."""

    def __init__(self, store, coder=None):
        self.store = store
        self.coder = coder or default_coder()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.store.close()

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

    def _store_document(self, parsed, path, suggestions=(), owners=None):
        """Store one parsed document with its suggestions (see _store_documents). Returns
        (IngestResult, new suggestions)."""
        return self._store_documents([(parsed, path, suggestions)], owners or CaseOwners())[0]

    def _store_documents(self, items, owners):
        """Store parsed documents [(parsed, path, suggestions)] in one transaction: each unless
        a document of the same name and content is already here, with its suggestions.
        Returns [(IngestResult, new suggestions)]. The cost of a file does not grow with the
        documents already stored: documents are found through the name and sha256 indexes,
        cases through `owners`."""
        with self.store.transaction() as session:
            return [self._store_one(session, parsed, path, suggestions, owners)
                    for parsed, path, suggestions in items]

    def _store_one(self, session, parsed, path, suggestions, owners):
        existing, notes = match_document(session, parsed.name, parsed.sha256)
        if existing is not None:
            added = self._store_suggestions(session, existing.id, suggestions)
            return IngestResult(path=str(path), status="duplicate", document=existing.name,
                                case=existing.case.name if existing.case else None,
                                warnings=parsed.warnings), added
        name = free_name(session, parsed.name)
        if name != parsed.name:
            notes.append(f"{path}: another document is already named '{parsed.name}' "
                         f"with other text; this one is stored as '{name}'")
        case_id, case_name = owners.case_for(session, name)
        # Core inserts: an ORM object per document (and per turn) costs a flush each
        documents = DocumentRow.__table__
        document_id = session.scalar(insert(documents).values(
            name=name, format=parsed.format, text=parsed.text, sha256=parsed.sha256,
            words=parsed.words, case_id=case_id, created_at=utcnow(),
            meta={**parsed.metadata, "source": str(path)}).returning(documents.c.id))
        if parsed.turns:
            session.execute(insert(TurnRow.__table__), [
                dict(document_id=document_id, seq=i, speaker=t.speaker, role=t.role,
                     start=t.start, end=t.end, time_start=t.time_start, time_end=t.time_end)
                for i, t in enumerate(parsed.turns)])
        self.store.log(session, self.coder, "ingest", "document", document_id, name=name,
                       sha256=parsed.sha256, case=case_name, turns=len(parsed.turns))
        added = self._store_suggestions(session, document_id, suggestions)
        return IngestResult(path=str(path), status="added", document=name, case=case_name,
                            turns=len(parsed.turns), words=parsed.words,
                            warnings=(*parsed.warnings, *notes)), added

    # -- cases ------------------------------------------------------------------------------
    def import_cases(self, sheet, warn=None):
        """Import a participants sheet: create or update cases and their attributes, and link
        documents already in the project to the cases that own them. `warn` is told what
        reading the sheet chose or repaired (an encoding, a separator). Returns the case
        count."""
        notes = []
        entries = case_sheets.read_case_sheet(sheet, notes)
        for note in notes:
            (warn or _say)(note)
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
            self._drop_empty_stem_cases(session)
            self.store.log(session, self.coder, "import_cases", "case", None, sheet=str(sheet),
                           cases=[e.name for e in entries])
        return len(entries)

    def _drop_empty_stem_cases(self, session):
        """A case made from a file name stem goes once its document belongs to a sheet case."""
        used = set(session.scalars(select(DocumentRow.case_id)))
        for case in session.scalars(select(CaseRow)):
            if case.id not in used and not case.files and not case.attributes:
                session.delete(case)

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
            return self._document(session, name).text

    def turns(self, name):
        """A DataFrame of a document's turns: seq, speaker, role, start, end, times, text."""
        with self.store.reading() as session:
            document = self._document(session, name)
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

    def _document(self, session, name):
        document, note = find_document(session, name)
        if document is None:
            raise StoreError(note or f"no document named '{name}' in this project",
                             path=self.store.label)
        return document

    # -- codebook ---------------------------------------------------------------------------
    def import_codebook(self, path):
        """Validate a codebook file and store it as a new codebook version.

        Codes are matched by id: existing ones are updated, new ones added, and codes missing
        from the new version are retired (kept, with their codings, but hidden).
        Returns (codebook, changed): changed is False when the content was already current.
        """
        codebook = load_codebook(path)
        self._auto_backup("import_codebook")
        return codebook, self.save_codebook(codebook, origin=str(path))

    def save_codebook(self, codebook, origin=""):
        """Store a Codebook as the current version; returns False when nothing changed."""
        if self.codebook_or_none() == codebook:
            return False
        with self.store.transaction() as session:
            self._write_codebook(session, codebook, origin)
        return True

    def _write_codebook(self, session, codebook, origin):
        """Store the codebook's codes and a version record inside an open transaction."""
        self._write_codes(session, codebook)
        version = CodebookVersionRow(
            codebook_id=codebook.id, name=codebook.name, version=codebook.version,
            description=codebook.description, source=codebook.source, origin=origin,
            content={"codes": [vars(code) | {"examples": list(code.examples),
                                             "keywords": list(code.keywords),
                                             "patterns": list(code.patterns)}
                               for code in codebook.codes]},
            created_by=self.coder)
        session.add(version)
        session.flush()
        self.store.log(session, self.coder, "import_codebook", "codebook_version",
                       version.id, codebook=codebook.id, origin=origin,
                       codes=len(codebook.codes))

    def _write_codes(self, session, codebook):
        """Make the codes table hold `codebook`: rows matched by id updated, new ones added,
        the rest retired."""
        rows = {row.key: row for row in session.scalars(select(CodeRow))}
        for position, code in enumerate(codebook.walk()):
            row = rows.get(code.id) or CodeRow(key=code.id)
            row.name, row.position, row.colour, row.retired = (code.name, position,
                                                               code.colour, False)
            row.definition, row.inclusion, row.exclusion = (code.definition, code.inclusion,
                                                            code.exclusion)
            row.examples, row.keywords, row.patterns = (list(code.examples),
                                                        list(code.keywords),
                                                        list(code.patterns))
            rows[code.id] = row
            session.add(row)
        session.flush()
        keep = {code.id for code in codebook.codes}
        for key, row in rows.items():
            row.parent_id = rows[codebook.get(key).parent].id if key in keep and \
                codebook.get(key).parent else None
            if key not in keep:
                row.retired = True
        session.flush()

    def codebook_or_none(self):
        with self.store.reading() as session:
            return read_codebook(session)

    def codebook(self):
        """The current codebook; StoreError when none has been imported."""
        codebook = self.codebook_or_none()
        if codebook is None:
            raise StoreError("has no codebook yet; import one with `coding codebook import`",
                             path=self.store.label)
        return codebook

    def export_codebook(self, path):
        """Write the current codebook as YAML (atomically: temporary file, then rename)."""
        write_atomic(path, dump_codebook(self.codebook()))

    # -- codings ----------------------------------------------------------------------------
    def add_coding(self, document, code, start, end, status=MANUAL, origin="manual",
                   score=None, rationale=None, coder=None, expected_text=None,
                   expected_sha256=None):
        """Code [start, end) of a document; returns the new coding's id.

        An interface that shows the text before the coder picks a span passes what it showed:
        `expected_text` (the text of the span) and/or `expected_sha256` (the document's); the
        coding is refused when the stored document is no longer that (a backup restored or a
        file re-ingested under the same name meanwhile), so it never lands on other text.
        """
        if status not in STATUSES:
            raise StoreError(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
        with self.store.transaction() as session:
            doc = self._document(session, document)
            code_row = _find_code(session, code)
            if code_row is None:
                raise StoreError(f"no code '{code}' in the codebook", path=self.store.label)
            if not 0 <= start < end <= len(doc.text):
                raise StoreError(f"span [{start}, {end}) is outside '{doc.name}' "
                                 f"(0..{len(doc.text)})", path=self.store.label)
            if (expected_sha256 is not None and doc.sha256 != expected_sha256) or \
                    (expected_text is not None and doc.text[start:end] != expected_text):
                raise StoreError(f"'{doc.name}': the transcript changed since you opened it; "
                                 "reload it and code again (nothing was stored)",
                                 path=self.store.label)
            row = CodingRow(document_id=doc.id, code_id=code_row.id, start=start, end=end,
                            coder=coder or self.coder, status=status, origin=origin,
                            score=score, rationale=rationale)
            session.add(row)
            session.flush()
            self.store.log(session, self.coder, "add_coding", "coding", row.id,
                           document=doc.name, code=code_row.key, start=start, end=end,
                           status=status, for_coder=row.coder)
            return row.id

    def remove_coding(self, coding_id):
        """Delete a coding and the memos written on it, in one action; the event log keeps
        what they were, so undo brings both back. Returns its id."""
        with self.store.transaction() as session:
            row = session.get(CodingRow, int(coding_id))
            if row is None:
                raise StoreError(f"no coding {coding_id} in this project")
            memos = list(session.scalars(select(MemoRow).where(
                MemoRow.target_type == "coding", MemoRow.target_id == row.id)))
            detail = dict(document_id=row.document_id, code_id=row.code_id, start=row.start,
                          end=row.end, for_coder=row.coder, status=row.status, origin=row.origin,
                          score=row.score, rationale=row.rationale, created_at=row.created_at,
                          reviewed_by=row.reviewed_by, reviewed_at=row.reviewed_at,
                          memos=[dict(id=m.id, coder=m.coder, title=m.title, text=m.text,
                                      created_at=m.created_at, updated_at=m.updated_at)
                                 for m in memos])
            for memo in memos:
                session.delete(memo)
            session.delete(row)
            self.store.log(session, self.coder, "remove_coding", "coding", int(coding_id),
                           **detail)
        return int(coding_id)

    def import_codings(self, path, status=MANUAL, warn=None):
        """Load a codings file (document, code, coder, quote or start/end) as codings.

        All rows are checked first; any row that cannot be applied (an unknown or ambiguous
        document, an unknown code, a quote not found) fails the whole import with every such
        row named, and nothing is stored. A document named without its exact name is taken
        only when one document matches (ignoring case or extension) and `warn` is told, once
        per name. Rows already present are skipped, so importing twice adds nothing.
        Returns (added, skipped).
        """
        notes = []
        rows = read_codings_file(path, notes)
        problems, planned, loose = [], [], {}
        with self.store.reading() as session:
            documents, codes = {}, {}
            for row in rows:
                where = f"{path}:{row.line}: "
                if row.document not in documents:
                    documents[row.document] = find_document(session, row.document)
                if row.code not in codes:
                    codes[row.code] = _find_code(session, row.code)
                (document, note), code = documents[row.document], codes[row.code]
                if document is None:
                    problems.append(where + (note or f"no document '{row.document}' in the "
                                                      "project"))
                    continue
                if note:
                    loose.setdefault(row.document, (document.name, row.line, note))
                if code is None:
                    problems.append(where + f"no code '{row.code}' in the codebook")
                    continue
                if row.quote:  # near where start says, when the file has it (quotes repeat)
                    near = None if row.start is None else max(0, row.start - len(row.quote))
                    span = (near is not None and locate_quote(document.text, row.quote, near)) \
                        or locate_quote(document.text, row.quote)
                    if span is None:
                        short = row.quote if len(row.quote) < 70 else row.quote[:67] + "..."
                        problems.append(where + f"quote not found in {document.name}: "
                                                f"\"{short}\"")
                        continue
                else:
                    span = (row.start, row.end)
                    if not 0 <= span[0] < span[1] <= len(document.text):
                        problems.append(where + f"span [{span[0]}, {span[1]}) is outside "
                                                f"{document.name} (0..{len(document.text)})")
                        continue
                planned.append((row, document.id, code.id, span))
        if problems:
            raise CodingsFileError(f"{len(problems)} of {len(rows)} rows cannot be applied; "
                                   "nothing was imported:\n" + "\n".join(problems))
        notes += [f"{path}:{line}: {note}" for _, line, note in loose.values()]
        for note in notes:
            (warn or _say)(note)
        self._auto_backup("import_codings")
        added = skipped = 0
        with self.store.transaction() as session:
            existing = set(session.execute(select(
                CodingRow.document_id, CodingRow.code_id, CodingRow.start, CodingRow.end,
                CodingRow.coder, CodingRow.status)).all())
            for row, document_id, code_id, (start, end) in planned:
                coder = row.coder or self.coder
                key = (document_id, code_id, start, end, coder, status)
                if key in existing:
                    skipped += 1
                    continue
                existing.add(key)
                coding = CodingRow(document_id=document_id, code_id=code_id, start=start,
                                   end=end, coder=coder, status=status, origin="import")
                session.add(coding)
                if row.memo:
                    session.flush()
                    session.add(MemoRow(target_type="coding", target_id=coding.id, coder=coder,
                                        text=row.memo))
                added += 1
            self.store.log(session, self.coder, "import_codings", "coding", None,
                           file=str(path), added=added, skipped=skipped,
                           **({"loose_names": {given: name for given, (name, _, _)
                                               in loose.items()}} if loose else {}))
        return added, skipped

    def import_word_comments(self, path, status=MANUAL):
        """A transcript coded in Word: ingest the .docx (once) and turn each comment (its text
        names codes, its anchored text is the quote) into codings, all or nothing.
        Returns (added, skipped, document name); see coding/word_comments.py."""
        return import_word_comments(self, path, status)

    def codings_frame(self, statuses=COUNTED_STATUSES, documents=None, ids=None):
        """A tidy DataFrame, one row per coding: document, case and its attributes, speaker,
        role, code id/name/path and levels, quote, coder, status, origin, score, rationale.

        An attribute named like a fixed column gets a `case_` prefix (`role` -> `case_role`).

        By default only accepted and manual codings; pass statuses=None for all,
        documents=[names] for some documents only, ids=[coding ids] for those codings only.
        """
        with self.store.reading() as session:
            query = select(CodingRow.id, CodingRow.document_id, CodingRow.code_id,
                           CodingRow.start, CodingRow.end, CodingRow.coder, CodingRow.status,
                           CodingRow.origin, CodingRow.score, CodingRow.rationale,
                           CodingRow.created_at).order_by(CodingRow.document_id,
                                                          CodingRow.start, CodingRow.id)
            if statuses is not None:
                query = query.where(CodingRow.status.in_(list(statuses)))
            if documents is not None:
                query = query.join(DocumentRow).where(DocumentRow.name.in_(list(documents)))
            if ids is not None:
                query = query.where(CodingRow.id.in_([int(i) for i in ids]))
            codings = _columns(session.execute(query).all(), [
                "coding_id", "document_id", "code_id", "start", "end", "coder", "status",
                "origin", "score", "rationale", "created_at"])
            if codings.empty:
                return pd.DataFrame(columns=CODING_COLUMNS)
            doc_ids = sorted(set(codings["document_id"].tolist()))
            docs = {d.id: d for d in session.execute(
                select(DocumentRow.id, DocumentRow.name, DocumentRow.text, DocumentRow.case_id)
                .where(DocumentRow.id.in_(doc_ids)))}
            turns = _columns(session.execute(
                select(TurnRow.document_id, TurnRow.seq, TurnRow.start, TurnRow.speaker,
                       TurnRow.role).where(TurnRow.document_id.in_(doc_ids))
                .order_by(TurnRow.document_id, TurnRow.start)).all(),
                ["document_id", "seq", "start", "speaker", "role"])
            case_names = dict(session.execute(select(CaseRow.id, CaseRow.name)).all())
            attributes = {}
            for attribute in session.scalars(select(AttributeRow)):
                attributes.setdefault(attribute.case_id, {})[attribute.name] = \
                    case_sheets.typed_value(attribute.type, attribute.value)
            all_codes = {row.id: (row.key, row.name) for row in session.scalars(select(CodeRow))}
        codebook = self.codebook_or_none()
        paths = {code_id: codebook.path(key) if codebook and codebook.get(key) else key
                 for code_id, (key, _) in all_codes.items()}
        # Built column by column (not row by row): 200,000 codings take about a second.
        doc_case = {doc_id: d.case_id for doc_id, d in docs.items()}
        texts = {doc_id: d.text for doc_id, d in docs.items()}
        case_ids = codings["document_id"].map(doc_case)
        frame = pd.DataFrame({
            "coding_id": codings["coding_id"],
            "document": codings["document_id"].map({i: d.name for i, d in docs.items()}),
            "case": case_ids.map(case_names)})
        turn_index = _turn_indexes(codings, turns)
        for column, source in (("turn", "seq"), ("speaker", "speaker"), ("role", "role")):
            values = turns[source].to_numpy(dtype=object)
            frame[column] = [values[i] if i >= 0 else None for i in turn_index]
        frame["code"] = codings["code_id"].map({i: key for i, (key, _) in all_codes.items()})
        frame["code_name"] = codings["code_id"].map({i: n for i, (_, n) in all_codes.items()})
        frame["code_path"] = codings["code_id"].map(paths)
        frame["start"], frame["end"] = codings["start"], codings["end"]
        frame["quote"] = [texts[d][a:b] for d, a, b in zip(codings["document_id"],
                                                           codings["start"], codings["end"])]
        for column in ("coder", "status", "origin", "score", "rationale", "created_at"):
            frame[column] = codings[column]
        names = sorted({name for values in attributes.values() for name in values})
        for name in names:  # an attribute named like a fixed column: role -> case_role
            values = {case_id: values.get(name) for case_id, values in attributes.items()}
            frame[f"case_{name}" if name in CODING_COLUMNS else name] = case_ids.map(values)
        depth = max(path.count("/") for path in paths.values()) + 1
        for level in range(depth):  # per code, then mapped: cheaper than splitting each row
            parts = {code_id: (path.split("/") + [None] * depth)[level]
                     for code_id, path in paths.items()}
            frame[f"level_{level + 1}"] = codings["code_id"].map(parts)
        used = [f"level_{n + 1}" for n in range(depth) if frame[f"level_{n + 1}"].notna().any()]
        return frame.drop(columns=[f"level_{n + 1}" for n in range(depth)
                                   if f"level_{n + 1}" not in used])

    def data_version(self):
        """A number that changes whenever anything in the project changes (the newest event id:
        every change writes one), for caches to key on."""
        with self.store.reading() as session:
            return session.scalar(select(func.max(EventRow.id))) or 0

    def coding_counts(self):
        """Codings per document and status: {document name: {status: n}}. Accepted codings
        made by recoding a suggestion are left out (the suggestion counts, as rejected), so
        these are the figures a review progress bar needs."""
        with self.store.reading() as session:
            rows = session.execute(
                select(DocumentRow.name, CodingRow.status, func.count())
                .join(DocumentRow, CodingRow.document_id == DocumentRow.id)
                .where(CodingRow.origin.not_like("recode:%"))
                .group_by(DocumentRow.name, CodingRow.status)).all()
        counts = {}
        for document, status, n in rows:
            counts.setdefault(document, {})[status] = n
        return counts

    # -- memos ------------------------------------------------------------------------------
    def add_memo(self, text, target_type="project", target=None, title=""):
        """Attach a memo to the project, a document/case/code (by name or id) or a coding (id)."""
        if target_type not in MEMO_TARGETS:
            raise StoreError(f"memo target must be one of {', '.join(MEMO_TARGETS)}")
        with self.store.transaction() as session:
            target_id = self._memo_target(session, target_type, target)
            memo = MemoRow(target_type=target_type, target_id=target_id, coder=self.coder,
                           title=title, text=text)
            session.add(memo)
            session.flush()
            self.store.log(session, self.coder, "add_memo", "memo", memo.id,
                           target_type=target_type, target_id=target_id)
            return memo.id

    def _memo_target(self, session, target_type, target):
        if target_type == "project":
            return None
        finders = {"document": lambda: _find_document(session, target),
                   "case": lambda: session.scalars(select(CaseRow).where(
                       CaseRow.name == str(target))).first(),
                   "code": lambda: _find_code(session, target),
                   "coding": lambda: session.get(CodingRow, int(target))}
        row = finders[target_type]()
        if row is None:
            raise StoreError(f"no {target_type} '{target}' to attach the memo to")
        return row.id

    def set_framework_summary(self, case, theme, text):
        """The analyst's summary of one framework-matrix cell (a case and a theme), kept as a
        memo on the case titled `framework:<theme>`; the newest one counts."""
        if self.codebook().get(theme) is None:
            raise StoreError(f"no code '{theme}' in the codebook")
        return self.add_memo(text, "case", case, title=f"framework:{theme}")

    def framework_summaries(self):
        """{(case name, theme id): summary text}, the newest memo for each cell."""
        with self.store.reading() as session:
            names = dict(session.execute(select(CaseRow.id, CaseRow.name)).all())
            rows = session.execute(select(MemoRow.target_id, MemoRow.title, MemoRow.text)
                                   .where(MemoRow.target_type == "case",
                                          MemoRow.title.like("framework:%"))
                                   .order_by(MemoRow.id)).all()
        return {(names.get(target), title.split(":", 1)[1]): text
                for target, title, text in rows if target in names}

    def memos(self):
        with self.store.reading() as session:
            return pd.DataFrame(
                [{"memo_id": m.id, "target_type": m.target_type, "target_id": m.target_id,
                  "coder": m.coder, "title": m.title, "text": m.text,
                  "created_at": m.created_at} for m in session.scalars(select(MemoRow))],
                columns=["memo_id", "target_type", "target_id", "coder", "title", "text",
                         "created_at"])

    # -- history, undo and backups (coding/history.py, coding/backup.py) ---------------------
    def history(self, coder=None, limit=None):
        """The event log, newest first, one row per change: event_id, at, coder, action, what
        (in words), undone_by (the id of the undo event that reversed it, else <NA>)."""
        return history(self, coder=coder, limit=limit)

    def undo(self, steps=1):
        """Reverse this coder's last `steps` changes (not other coders'), newest first, all or
        nothing; each undo is logged. Returns [(event id, action, what)] of the changes undone.
        A change that cannot be undone (an ingest, say) is a StoreError naming it."""
        return undo(self, steps)

    def backup(self, to=None):
        """Back up a SQLite project (to `to`, else into `<project>.backups/`); returns the
        file. For PostgreSQL, a StoreError saying to use pg_dump."""
        return backup(self.store, to)

    def backups(self):
        """The backups in the project's backup folder, oldest first (backup.Backup records)."""
        path = sqlite_file(self.store)
        return backups(path) if path else []

    def _auto_backup(self, reason):
        """Back up before a change that is hard to reverse (see backup.auto_backup)."""
        return auto_backup(self.store, reason)

    def check(self):
        """Look for damage earlier versions could do without a word (see coding/check.py):
        a list of check.Finding, empty when nothing was found. Changes nothing."""
        return check_project(self)

    # -- history and summary ----------------------------------------------------------------
    def events(self):
        with self.store.reading() as session:
            return pd.DataFrame(
                [{"event_id": e.id, "at": e.at, "coder": e.coder, "action": e.action,
                  "entity": e.entity, "entity_id": e.entity_id, "detail": e.detail}
                 for e in session.scalars(select(EventRow).order_by(EventRow.id))],
                columns=["event_id", "at", "coder", "action", "entity", "entity_id", "detail"])

    def summary(self):
        """Counts of everything in the project, as a dict."""
        with self.store.reading() as session:
            count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
            statuses = dict(session.execute(select(CodingRow.status, func.count()).group_by(
                CodingRow.status)).all())
            roles = dict(session.execute(select(TurnRow.role, func.count()).group_by(
                TurnRow.role)).all())
            project = session.scalars(select(ProjectRow)).one()
            coders = sorted(session.scalars(select(CodingRow.coder).distinct()))
            return {
                "project": project.name, "location": self.store.label,
                "documents": count(DocumentRow),
                "words": session.scalar(select(func.coalesce(func.sum(DocumentRow.words), 0))),
                "turns": count(TurnRow), "turns_by_role": roles,
                "cases": count(CaseRow),
                "attributes": sorted(set(session.scalars(select(AttributeRow.name)))),
                "codes": session.scalar(select(func.count()).select_from(CodeRow).where(
                    CodeRow.retired.is_(False))),
                "codebook_versions": count(CodebookVersionRow),
                "codings": count(CodingRow),
                "codings_by_status": {s: statuses.get(s, 0) for s in STATUSES},
                "coders": coders, "memos": count(MemoRow), "events": count(EventRow),
            }


def _find_document(session, name):
    """By exact name, else a unique match ignoring case or extension (see find_document)."""
    return find_document(session, name)[0]


def _find_code(session, key):
    return session.scalars(select(CodeRow).where(CodeRow.key == str(key))).first()


def _columns(rows, names):
    """Result rows as a DataFrame, built column-wise (pandas inspects each Row object
    otherwise, which costs a second per 200,000 rows)."""
    columns = list(zip(*rows)) if rows else [()] * len(names)
    return pd.DataFrame({name: list(values) for name, values in zip(names, columns)})


def _turn_indexes(codings, turns):
    """For each coding, the row in `turns` (sorted by document, start) of the turn holding its
    start, else the last turn before it; -1 when there is none."""
    result = np.full(len(codings), -1)
    offsets = turns.groupby("document_id").indices  # document -> row numbers in turns
    starts = turns["start"].to_numpy()
    for document_id, rows in codings.groupby("document_id").indices.items():
        turn_rows = offsets.get(document_id)
        if turn_rows is None:
            continue
        found = np.searchsorted(starts[turn_rows], codings["start"].to_numpy()[rows],
                                side="right") - 1
        result[rows] = np.where(found >= 0, turn_rows[np.maximum(found, 0)], -1)
    return result
