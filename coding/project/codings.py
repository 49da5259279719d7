"""Use cases on codings and memos: code a span, remove a coding, import codings files and
Word comments, the codings frame every table is made from, and memos."""

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from ..errors import CodingsFileError, StoreError
from ..readers import participants as case_sheets
from ..readers.codings_file import locate_quotes, read_codings_file, same_words
from ..records import COUNTED_STATUSES, MANUAL, STATUSES, SUGGESTED
from ..storage.backup import auto_backup
from ..storage.schema import (AttributeRow, CaseRow, CodeRow, CodingRow, DocumentRow, MemoRow,
                              TurnRow, utcnow)
from .documents import say
from .lookup import find_document
from .selection import snap_to_words, split_by_turns
from .word_comments import import_word_comments
from .writing import add_codings, document_named

MEMO_TARGETS = ("project", "document", "case", "code", "coding")
MEMO_COLUMNS = ["memo_id", "target_type", "target_id", "coder", "title", "text", "created_at",
                "updated_at", "about"]
QUOTE_SHOWN = 60  # characters of a quote that name what a memo is on
CODING_COLUMNS = ["coding_id", "document", "case", "turn", "speaker", "role", "code", "code_name",
                  "code_path", "start", "end", "quote", "coder", "status", "origin", "score",
                  "rationale", "created_at"]


class CodingUseCases:
    """Mixed into Project (self.store, self.coder, self.codebook_or_none)."""

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
            doc = document_named(session, document, self.store.label)
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

    def code_selection(self, document, start, end, code, snap=False, turns=None,
                       expected_sha256=None):
        """Code the words a coder selected: [start, end) (code points of the document's text)
        becomes one coding per turn it touches, each without the speaker label, the gap
        between turns or the white space at its edges; `snap` widens each to whole words;
        `turns` (turn numbers) keeps it to the turns the coder could see (a filtered
        transcript). `expected_sha256` is the text the coder saw: refused when the stored
        document is no longer that. One logged action ("code_selection"), undone as one; a
        span this coder already coded so is not stored again. Returns the new codings' ids
        (empty when every span was coded already).

        >>> project.code_selection("p01.txt", 120, 260, "trust", expected_sha256=sha)
        [41, 42]
        """
        with self.store.transaction() as session:
            doc = document_named(session, document, self.store.label)
            code_row = _find_code(session, code)
            if code_row is None:
                raise StoreError(f"no code '{code}' in the codebook", path=self.store.label)
            if expected_sha256 is not None and doc.sha256 != expected_sha256:
                raise StoreError(f"'{doc.name}': the transcript changed since you opened it; "
                                 "reload it and code again (nothing was stored)",
                                 path=self.store.label)
            if not 0 <= start < end <= len(doc.text):
                raise StoreError(f"the selection is outside '{doc.name}' (it has "
                                 f"{len(doc.text):,} characters)", path=self.store.label)
            spans = [(t.seq, t.start, t.end) for t in doc.turns]
            pieces = split_by_turns(doc.text, spans, start, end,
                                    None if turns is None else {int(s) for s in turns})
            if not pieces:
                raise StoreError("the selection holds no words of the transcript (only "
                                 "speaker labels or white space): select words to code",
                                 path=self.store.label)
            if snap:
                edges = {seq: (a, b) for seq, a, b in spans}
                pieces = [(seq, *snap_to_words(doc.text, a, b, *edges[seq]))
                          for seq, a, b in pieces]
            ids, added = add_codings(session, [
                dict(document_id=doc.id, code_id=code_row.id, start=a, end=b,
                     coder=self.coder, status=MANUAL, origin="manual") for _, a, b in pieces])
            new = [(coding_id, piece) for coding_id, piece, fresh in zip(ids, pieces, added)
                   if fresh]
            if new:
                self.store.log(session, self.coder, "code_selection", "coding", new[0][0],
                               document=doc.name, code=code_row.key,
                               ids=[coding_id for coding_id, _ in new],
                               spans=[[a, b] for _, (_, a, b) in new],
                               turns=[seq for _, (seq, _, _) in new], snapped=bool(snap))
            return [coding_id for coding_id, _ in new]

    def recent_codes(self, coder=None, limit=8):
        """The codes `coder` (default: this project's coder) used most recently in codings of
        their own, newest first, as code ids: what a code picker offers first."""
        with self.store.reading() as session:
            newest = func.max(CodingRow.id)
            return list(session.scalars(
                select(CodeRow.key).join(CodingRow, CodingRow.code_id == CodeRow.id)
                .where(CodingRow.coder == (coder or self.coder),
                       CodingRow.status.in_(COUNTED_STATUSES))
                .group_by(CodeRow.key).order_by(newest.desc()).limit(int(limit))))

    def change_code(self, coding_id, code):
        """Give a coding another code (its span, coder, status and memos stay): the transcript's
        "recode" for a coding already made; a pending suggestion is recoded with `recode`,
        which also teaches the model. Logged, undoable. Returns the coding's id."""
        with self.store.transaction() as session:
            row = session.get(CodingRow, int(coding_id))
            if row is None:
                raise StoreError(f"no coding {coding_id} in this project")
            if row.status == SUGGESTED:
                raise StoreError(f"coding {coding_id} is a pending suggestion: accept, reject "
                                 "or recode it as a suggestion")
            code_row = _find_code(session, code)
            if code_row is None:
                raise StoreError(f"no code '{code}' in the codebook", path=self.store.label)
            if code_row.id == row.code_id:
                return row.id
            previous = row.code_id
            row.code_id = code_row.id
            self.store.log(session, self.coder, "change_code", "coding", row.id,
                           code=code_row.key, code_id=code_row.id, previous_code_id=previous)
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
                span, problem = _span_of(row, document)
                if problem:
                    problems.append(where + problem)
                    continue
                planned.append((row, document.id, code.id, span))
        if problems:
            raise CodingsFileError(f"{len(problems)} of {len(rows)} rows cannot be applied; "
                                   "nothing was imported:\n" + "\n".join(problems))
        notes += [f"{path}:{line}: {note}" for _, line, note in loose.values()]
        for note in notes:
            (warn or say)(note)
        auto_backup(self.store, "import_codings")
        with self.store.transaction() as session:
            _, added = add_codings(session, [
                dict(document_id=document_id, code_id=code_id, start=start, end=end,
                     coder=row.coder or self.coder, status=status, origin="import",
                     memos=[dict(coder=row.coder or self.coder, text=row.memo)] if row.memo
                     else [])
                for row, document_id, code_id, (start, end) in planned])
            added, skipped = sum(added), len(added) - sum(added)
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
            now = utcnow()  # one time for both: "edited" is an updated_at after it
            memo = MemoRow(target_type=target_type, target_id=target_id, coder=self.coder,
                           title=title, text=text, created_at=now, updated_at=now)
            session.add(memo)
            session.flush()
            self.store.log(session, self.coder, "add_memo", "memo", memo.id,
                           target_type=target_type, target_id=target_id)
            return memo.id

    def update_memo(self, memo_id, text, title=None):
        """Change a memo's text (and title, when given); only its author may. Logged with the
        text before and after, so undo puts the old text back. Returns the memo's id."""
        with self.store.transaction() as session:
            memo = self._own_memo(session, memo_id, "edit")
            before = dict(text=memo.text, title=memo.title, updated_at=memo.updated_at)
            memo.text = text
            if title is not None:
                memo.title = title
            memo.updated_at = utcnow()
            self.store.log(session, self.coder, "update_memo", "memo", memo.id,
                           target_type=memo.target_type, target_id=memo.target_id,
                           before=before, after=dict(text=memo.text, title=memo.title,
                                                     updated_at=memo.updated_at))
            return memo.id

    def remove_memo(self, memo_id):
        """Delete a memo; only its author may. The event keeps all of it, so undo brings it
        back as it was (the same id, author and times). Returns its id."""
        with self.store.transaction() as session:
            memo = self._own_memo(session, memo_id, "delete")
            self.store.log(session, self.coder, "remove_memo", "memo", memo.id,
                           target_type=memo.target_type, target_id=memo.target_id,
                           memo=dict(coder=memo.coder, title=memo.title, text=memo.text,
                                     created_at=memo.created_at,
                                     updated_at=memo.updated_at))
            session.delete(memo)
            return int(memo_id)

    def _own_memo(self, session, memo_id, verb):
        memo = session.get(MemoRow, int(memo_id), with_for_update=True)
        if memo is None:
            raise StoreError(f"no memo {memo_id} in this project (removed meanwhile?)",
                             path=self.store.label)
        if memo.coder != self.coder:
            raise StoreError(f"this memo is {memo.coder}'s; only its author can {verb} it "
                             "(write a memo of your own beside it)", path=self.store.label)
        return memo

    def _memo_target(self, session, target_type, target):
        if target_type == "project":
            return None
        finders = {"document": lambda: find_document(session, target)[0],
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
        """Every memo, oldest first: memo_id, target_type, target_id, coder (its author),
        title, text, created_at, updated_at, and `about`, what it is on in words: the quote a
        coding memo is on (with its code and document), a document's, case's or code's name,
        or "the project"."""
        with self.store.reading() as session:
            memos = list(session.scalars(select(MemoRow).order_by(MemoRow.id)))
            about = _memo_labels(session, memos)
            return pd.DataFrame(
                [{"memo_id": m.id, "target_type": m.target_type, "target_id": m.target_id,
                  "coder": m.coder, "title": m.title, "text": m.text,
                  "created_at": m.created_at, "updated_at": m.updated_at,
                  "about": about[m.id]} for m in memos],
                columns=MEMO_COLUMNS)


def _memo_labels(session, memos):
    """{memo id: what the memo is on, in words}: '“the quote…” (Code, p01.txt)' for a
    coding, 'document p01.txt', 'case P01', 'code Trust', 'the project'."""
    wanted = {kind: {m.target_id for m in memos if m.target_type == kind}
              for kind in MEMO_TARGETS}
    codings = {row.id: row for row in session.execute(
        select(CodingRow.id, CodingRow.start, CodingRow.end, CodeRow.name,
               DocumentRow.name.label("document"),
               func.substr(DocumentRow.text, CodingRow.start + 1, QUOTE_SHOWN + 1)
               .label("head"))
        .join(CodeRow, CodingRow.code_id == CodeRow.id)
        .join(DocumentRow, CodingRow.document_id == DocumentRow.id)
        .where(CodingRow.id.in_(wanted["coding"])))} if wanted["coding"] else {}
    names = {kind: dict(session.execute(select(model.id, model.name).where(
        model.id.in_(wanted[kind]))).all()) if wanted[kind] else {}
        for kind, model in (("document", DocumentRow), ("case", CaseRow), ("code", CodeRow))}
    labels = {}
    for memo in memos:
        kind, target = memo.target_type, memo.target_id
        if kind == "project" or target is None:
            labels[memo.id] = "the project"
        elif kind == "coding":
            row = codings.get(target)
            labels[memo.id] = "a coding since removed" if row is None else \
                f"\u201c{_short(row.head[:row.end - row.start], QUOTE_SHOWN)}\u201d ({row.name}, " \
                f"{row.document})"
        else:
            name = names[kind].get(target)
            labels[memo.id] = f"{kind} {name}" if name is not None else \
                f"a {kind} since removed"
    return labels


def _span_of(row, document):
    """(span, None) for a codings-file row in `document`, or (None, what is wrong).

    Given start and end are the truth and a quote beside them only a check (white space aside):
    our own exports round-trip exactly, a quote that trails a line end included (issue 15). A
    quote alone must occur once, or `start` picks the nearest copy; it is never silently the
    first of several."""
    text, name = document.text, document.name
    if row.start is not None and row.end is not None:
        start, end = row.start, row.end
        if not 0 <= start < end <= len(text):
            return None, f"span [{start}, {end}) is outside {name} (0..{len(text)})"
        if row.quote and not same_words(text[start:end], row.quote):
            return None, (f"the quote does not match the text at [{start}, {end}) of {name}: "
                          f"the file has \"{_short(row.quote)}\", the document "
                          f"\"{_short(text[start:end])}\"")
        return (start, end), None
    spans = locate_quotes(text, row.quote)
    if not spans:
        return None, f"quote not found in {name}: \"{_short(row.quote)}\""
    if row.start is not None:
        return min(spans, key=lambda span: abs(span[0] - row.start)), None
    if len(spans) > 1:
        shown = ", ".join(str(a) for a, _ in spans[:5]) + (", ..." if len(spans) > 5 else "")
        return None, (f"quote occurs {len(spans)} times in {name} (at {shown}): give start "
                      f"and end to pick one: \"{_short(row.quote)}\"")
    return spans[0], None


def _short(text, limit=70):
    text = " ".join(text.split())
    return text if len(text) < limit else text[:limit - 3] + "..."


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
