"""Search the transcripts and code the hits (issue 16, item 3).

A search looks in the turns' text only (never a speaker label), each turn on its own, by
- words: any of the words given, whole words ("support*" for any word starting so);
- phrase: the words in that order, with any white space between them;
- lemma: any of the words in any of its forms ("support" finds "supported", "supports"),
  looked up in the lemma index (`lemmas` table, revisions 0004 and 0005) instead of analysing the text
  again. `batch` indexes the documents it stores (reusing its analysis); the others are
  indexed once, on the first lemma search (`index_lemmas`). Plain ingest does not index: the
  NLP pass took an 89 x 9,000-word ingest from 0.7 s to 20 s (benchmarks/bench_search.py);
- regex: a Python regular expression (`^` and `$` are the turn's start and end).
Words, phrases and regexes ignore case unless asked not to. Hits can be limited to documents,
speaker roles, cases with attribute values, and passages coded with a code; they come back as
a keyword-in-context frame (HIT_COLUMNS). `code_hits` codes them, each as the hit itself, its
sentence or its turn, in one logged action that undo reverses (history.py, `code_hits`).
"""

import bisect
import json
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import exists, select

from ..errors import CodingError, StoreError
from ..records import COUNTED_STATUSES, MANUAL, Turn
from ..storage.schema import (AttributeRow, CaseRow, CodeRow, CodingRow, DocumentRow, LemmaRow,
                              TurnRow)
from ..suggestions.pipeline import analyse, lemma_spans, word_lemmas
from .writing import add_codings, document_named, store_lemmas

MODES = ("words", "phrase", "lemma", "regex")
HIT_UNITS = ("hit", "sentence", "turn")
HIT_COLUMNS = ["document", "case", "turn", "speaker", "role", "start", "end", "left", "hit",
               "right"]
CONTEXT = 50  # characters of context each side of a hit, within its turn
INDEX_GROUP = 50  # documents indexed per transaction when the index is built late
_WORD = re.compile(r"\w")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class CodedHits:
    """What code_hits did: the new codings' ids, and how many spans were coded already."""

    ids: tuple
    skipped: int

    @property
    def added(self):
        return len(self.ids)


@dataclass(frozen=True)
class _Document:
    id: int
    name: str
    case: str | None
    text: str
    sha256: str
    turns: tuple  # (seq, start, end, speaker, role), in order


class SearchUseCases:
    """Mixed into Project (self.store, self.coder)."""

    def search(self, pattern, mode="words", documents=None, roles=None, attributes=None,
               in_code=None, context=CONTEXT, case_sensitive=False, warn=print):
        """Find `pattern` in the turns of every document (or of `documents`, names), as a
        DataFrame of hits in keyword-in-context form (HIT_COLUMNS), in document order.

        `mode` is words, phrase, lemma or regex (see the module docstring); `roles` keeps
        turns of those speaker roles, `attributes` ({name: value or [values]}) documents whose
        case has those attribute values, `in_code` hits overlapping a passage coded with that
        code (accepted or manual codings). A lemma search first indexes any document not yet
        indexed, telling `warn` so.

        >>> project.search("support", mode="lemma", roles="participant")
        """
        regex, lemmas = _query(pattern, mode, case_sensitive)
        if mode == "lemma":
            self.index_lemmas(warn=warn)
        with self.store.reading() as session:
            found = _documents(session, self.store.label, documents, attributes)
            role_set = _roles(session, roles)
            coded = _coded(session, in_code, found) if in_code is not None else None
            spans = _lemma_hits(session, lemmas, found, documents is None and not attributes) \
                if mode == "lemma" else None
        if spans is None:
            bounded = mode != "regex"
            spans = {doc.id: [span for _, start, end, _, _ in doc.turns
                              for span in _turn_matches(regex, doc.text, start, end, bounded)]
                     for doc in found.values()}
        frame = _hit_frame(found, spans, role_set, coded, max(0, int(context)))
        frame.attrs["search"] = {"pattern": pattern, "mode": mode}
        return frame

    def code_hits(self, hits, code, unit="hit"):
        """Code search hits with `code`: each hit itself, its sentence or its turn (`unit`),
        as this coder's manual codings, in one logged action that undo reverses. `hits` is a
        frame from `search` (or rows of it: document, start, end and optionally hit, the text
        that was shown, which must still be there). Hits in one sentence or turn make one
        coding; spans this coder has coded with `code` already are skipped. Returns CodedHits.

        >>> project.code_hits(project.search("support", mode="lemma"), "support", "sentence")
        """
        if unit not in HIT_UNITS:
            raise StoreError(f"code hits as one of {', '.join(HIT_UNITS)}, not '{unit}'")
        rows = _hit_rows(hits)
        if not rows:
            raise StoreError("no hits to code: search first, or pick some hits")
        with self.store.reading() as session:
            code_row = session.scalars(select(CodeRow).where(CodeRow.key == str(code))).first()
            if code_row is None:
                raise StoreError(f"no code '{code}' in the codebook", path=self.store.label)
            ids = {name: document_named(session, name, self.store.label).id
                   for name in sorted({document for document, _, _, _ in rows})}
            found = _read_documents(session, set(ids.values()))
        spans = _unit_spans(rows, {name: found[i] for name, i in ids.items()}, unit)  # NLP (sentences) outside the transaction
        query = getattr(hits, "attrs", {}).get("search") or {}
        with self.store.transaction() as session:
            now = dict(session.execute(select(DocumentRow.id, DocumentRow.sha256).where(
                DocumentRow.id.in_([doc.id for doc in found.values()]))).all())
            changed = sorted(doc.name for doc in found.values() if now.get(doc.id) != doc.sha256)
            if changed:
                raise StoreError(f"{', '.join(changed)} changed while the hits were coded; "
                                 "search again (nothing was stored)", path=self.store.label)
            ids, added = add_codings(session, [
                dict(document_id=document_id, code_id=code_row.id, start=start, end=end,
                     coder=self.coder, status=MANUAL, origin="search")
                for document_id, start, end in spans])
            new = [coding for coding, fresh in zip(ids, added) if fresh]
            if new:
                self.store.log(session, self.coder, "code_hits", "coding", None,
                               code=code_row.key, unit=unit, hits=len(rows), ids=new,
                               skipped=len(ids) - len(new), **query)
        return CodedHits(ids=tuple(new), skipped=len(ids) - len(new))

    def index_lemmas(self, warn=None):
        """Build the lemma index of every document that has none (batch indexes the documents
        it stores; this covers the rest, once). `warn` is told first how many.
        Returns how many documents were indexed. A read-only project is left as it is (each
        lemma search then analyses its unindexed documents itself)."""
        with self.store.reading() as session:
            missing = list(session.scalars(_unindexed().order_by(DocumentRow.id)))
        if not missing or self.store.read_only:
            return 0
        if warn:
            warn(f"building the lemma index of {_plural(len(missing), 'document')} (once: "
                 "later searches use it)")
        indexed = 0
        for first in range(0, len(missing), INDEX_GROUP):
            group = missing[first:first + INDEX_GROUP]
            with self.store.reading() as session:
                spans = {doc.id: lemma_spans(doc.text, [Turn(s, e, role=r) for _, s, e, _, r
                                                        in doc.turns])
                         for doc in _read_documents(session, group).values()}
            with self.store.transaction() as session:  # another session may have done some
                for document_id in session.scalars(_unindexed().where(
                        DocumentRow.id.in_(list(spans)))):
                    store_lemmas(session, document_id, spans[document_id])
                    indexed += 1
        return indexed


# -- the query ----------------------------------------------------------------------------------
def _query(pattern, mode, case_sensitive):
    """(compiled regex, None) for a text search, (None, lemmas) for a lemma search."""
    if mode not in MODES:
        raise CodingError(f"search mode must be one of {', '.join(MODES)}, not '{mode}'")
    text = "" if pattern is None else str(pattern)
    if not text.strip():
        raise CodingError("the search is empty: type a word, a phrase or a pattern to find")
    if mode == "lemma":
        lemmas = sorted(set(word_lemmas(text)))
        if not lemmas:
            raise CodingError(f"'{text}' has no words to look up by lemma")
        return None, lemmas
    flags = 0 if case_sensitive else re.IGNORECASE
    if mode == "regex":
        try:
            return re.compile(text, flags), None
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise CodingError(f"the regular expression '{text}' is not valid: {exc.msg}"
                              f"{where}") from None
    words = [w for w in re.split(r"[\s,;]+" if mode == "words" else r"\s+", text.strip()) if w]
    parts = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "") for w in words]
    if not all(w.rstrip("*") for w in words):
        raise CodingError(f"'{text}': a * must follow the start of a word ('support*')")
    body = "(?:" + "|".join(sorted(set(parts), key=len, reverse=True)) + ")" \
        if mode == "words" else r"\s+".join(parts)
    # the word's start is checked by _turn_matches: a pattern that starts with a literal is
    # found by re's fast prefix scan, one that starts with (?<!\w) tried at every character
    # (three to four times slower over 800k words)
    return re.compile(body + r"(?!\w)", flags), None


def _turn_matches(regex, text, start, end, bounded):
    """Non-empty matches of `regex` in one turn, with spans in document offsets; `bounded`:
    only those that start a word."""
    piece, at = text[start:end], 0
    while at <= len(piece):
        match = regex.search(piece, at)
        if match is None:
            return
        first, last = match.span()
        if last == first or (bounded and first and _WORD.match(piece, first - 1)):
            at = first + 1  # another match may start inside this one
            continue
        yield start + first, start + last
        at = last


# -- what to search -----------------------------------------------------------------------------
def _documents(session, label, names, attributes):
    """{id: _Document} of the documents to search: all, or those named; of cases with the
    attribute values given."""
    ids = None
    if names is not None:
        names = [names] if isinstance(names, str) else list(names)
        ids = [document_named(session, name, label).id for name in names]
    if attributes:
        ids = _with_attributes(session, attributes, ids)
    return _read_documents(session, ids)


def _read_documents(session, ids=None):
    query = select(DocumentRow.id, DocumentRow.name, DocumentRow.text, DocumentRow.sha256,
                   CaseRow.name).outerjoin(CaseRow, DocumentRow.case_id == CaseRow.id)
    turns = select(TurnRow.document_id, TurnRow.seq, TurnRow.start, TurnRow.end,
                   TurnRow.speaker, TurnRow.role).order_by(TurnRow.document_id, TurnRow.seq)
    if ids is not None:
        query = query.where(DocumentRow.id.in_(list(ids)))
        turns = turns.where(TurnRow.document_id.in_(list(ids)))
    by_document = {}
    for document_id, *turn in session.execute(turns):
        by_document.setdefault(document_id, []).append(tuple(turn))
    return {id_: _Document(id_, name, case, text, sha256, tuple(by_document.get(id_, ())))
            for id_, name, text, sha256, case in session.execute(query.order_by(
                DocumentRow.name))}


def _with_attributes(session, attributes, ids):
    """The ids (among `ids`, when given) of documents whose case has every attribute value
    asked for; an attribute no case has is an error naming those there are."""
    values = {}
    for case_id, name, value in session.execute(select(AttributeRow.case_id, AttributeRow.name,
                                                       AttributeRow.value)):
        values.setdefault(name, {})[case_id] = value
    cases = None
    for name, wanted in attributes.items():
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise CodingError(f"no case has an attribute '{name}' (the attributes are: {known})")
        wanted = [wanted] if isinstance(wanted, str) or not hasattr(wanted, "__iter__") \
            else list(wanted)
        having = {case_id for case_id, value in values[name].items()
                  if any(_same_value(value, w) for w in wanted)}
        cases = having if cases is None else cases & having
    query = select(DocumentRow.id).where(DocumentRow.case_id.in_(sorted(cases)))
    if ids is not None:
        query = query.where(DocumentRow.id.in_(ids))
    return list(session.scalars(query))


def _same_value(stored, wanted):
    """An attribute's stored text against a value asked for: the same text ignoring case, or
    the same number ('34' and 34.0)."""
    if stored is None:
        return False
    if str(stored).strip().casefold() == str(wanted).strip().casefold():
        return True
    try:
        return float(stored) == float(wanted)
    except (TypeError, ValueError):
        return False


def _roles(session, roles):
    """The roles to keep (None: all); a role no turn has is an error naming those there are."""
    if roles is None:
        return None
    roles = {roles} if isinstance(roles, str) else set(roles)
    there = set(session.scalars(select(TurnRow.role).distinct()))
    unknown = sorted(roles - there)
    if unknown:
        raise CodingError(f"no turn has the speaker role {', '.join(unknown)} (the roles "
                          f"are: {', '.join(sorted(there)) or 'none'})")
    return roles


def _coded(session, code, found):
    """{document id: sorted disjoint [start, end) spans} coded with `code` (accepted, manual)."""
    row = session.scalars(select(CodeRow).where(CodeRow.key == str(code))).first()
    if row is None:
        raise StoreError(f"no code '{code}' in the codebook")
    spans = {}
    for document_id, start, end in session.execute(
            select(CodingRow.document_id, CodingRow.start, CodingRow.end).where(
                CodingRow.code_id == row.id, CodingRow.status.in_(COUNTED_STATUSES))
            .order_by(CodingRow.document_id, CodingRow.start)):
        merged = spans.setdefault(document_id, [])
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return {document_id: [tuple(s) for s in merged] for document_id, merged in spans.items()
            if document_id in found}


def _unindexed():
    """Documents with no lemma index."""
    return select(DocumentRow.id).where(~exists().where(LemmaRow.document_id == DocumentRow.id))


def _lemma_hits(session, lemmas, found, every):
    """{document id: [(start, end)]} of the lemmas' occurrences in the documents `found` (all
    of them when `every`); a document with no index (only in a read-only project) is
    analysed here. The database picks each lemma's spans out of the index (SQLite's
    json_extract, PostgreSQL's ->), so only those reach Python: parsing the whole index of
    800k words took 0.7 s, this 0.06 s."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    # SQLite compares a JSON path's key with the stored label as written, and json.dumps wrote
    # "café" as "caf\u00e9"; a key holding a quote or a backslash the path cannot name at all
    query = select(LemmaRow.document_id, *(
        [LemmaRow.spans[json.dumps(lemma)[1:-1] if sqlite else lemma] for lemma in lemmas]
        if not any('"' in lemma or "\\" in lemma for lemma in lemmas) else [LemmaRow.spans]))
    if not every:
        query = query.where(LemmaRow.document_id.in_(list(found)))
    spans = {}
    for document_id, *columns in session.execute(query):
        if len(columns) == 1 and isinstance(columns[0], dict):
            columns = [columns[0].get(lemma) for lemma in lemmas]
        pairs = spans.setdefault(document_id, [])
        for flat in columns:
            if flat:
                pairs.extend(zip(flat[::2], flat[1::2]))
    missing = set(session.scalars(_unindexed())) & set(found)
    wanted = set(lemmas)
    for document_id in missing:
        doc = found[document_id]
        spans[document_id] = [(s, e) for s, e, lemma in lemma_spans(
            doc.text, [Turn(s, e, role=r) for _, s, e, _, r in doc.turns]) if lemma in wanted]
    return spans


# -- hits as a keyword-in-context frame ---------------------------------------------------------
def _hit_frame(found, spans, roles, coded, context):
    rows = []
    for doc in found.values():
        hits = sorted(set(spans.get(doc.id) or ()))
        if not hits:
            continue
        starts = [turn[1] for turn in doc.turns]
        kept = coded.get(doc.id, []) if coded is not None else None
        kept_starts = [s for s, _ in kept] if kept is not None else None
        text = doc.text
        for start, end in hits:
            index = bisect.bisect_right(starts, start) - 1
            if index < 0:
                continue
            seq, turn_start, turn_end, speaker, role = doc.turns[index]
            if end > turn_end or (roles is not None and role not in roles):
                continue
            if kept is not None:
                before = bisect.bisect_left(kept_starts, end) - 1  # the last coded span
                if before < 0 or kept[before][1] <= start:        # starting before the hit's end
                    continue
            rows.append((doc.name, doc.case, seq, speaker, role, start, end,
                         _left(text, turn_start, start, context), text[start:end],
                         _right(text, turn_end, end, context)))
    frame = pd.DataFrame.from_records(rows, columns=HIT_COLUMNS)
    return frame.astype({"turn": "int64", "start": "int64", "end": "int64"})


def _left(text, turn_start, start, context):
    """Up to `context` characters before a hit, within its turn, without a word cut in two
    at the far end (unless it is one word)."""
    first = max(turn_start, start - context)
    left = text[first:start]
    if first > turn_start and not text[first - 1].isspace() and not text[first].isspace():
        cut = _SPACE.search(left)
        left = left[cut.end():] if cut else left
    return _flat(left)


def _right(text, turn_end, end, context):
    """Up to `context` characters after a hit, within its turn, without a word cut in two."""
    last = min(turn_end, end + context)
    right = text[end:last]
    if last < turn_end and not text[last - 1].isspace() and not text[last].isspace():
        cut = max(right.rfind(c) for c in " \n\t")
        right = right[:cut] if cut >= 0 else right
    return _flat(right)


def _flat(context):
    """Context on one line (str.translate took half of a 26,000-hit search)."""
    return context.replace("\n", " ").replace("\r", " ").replace("\t", " ")


# -- coding hits --------------------------------------------------------------------------------
def _hit_rows(hits):
    """[(document, start, end, shown hit or None)] from a frame of hits or records."""
    if isinstance(hits, pd.DataFrame):
        records = hits.to_dict("records")
    else:
        records = [dict(h) if not isinstance(h, (tuple, list)) else
                   dict(zip(("document", "start", "end", "hit"), h)) for h in hits]
    try:
        return [(str(r["document"]), int(r["start"]), int(r["end"]), r.get("hit"))
                for r in records]
    except KeyError as exc:
        raise StoreError(f"each hit needs a document, a start and an end (missing {exc})") \
            from None


def _unit_spans(rows, by_name, unit):
    """Sorted distinct (document id, start, end) to code for the hits, as `unit`."""
    spans, sentences = set(), {}
    for name, start, end, shown in rows:
        doc = by_name[name]
        if not 0 <= start < end <= len(doc.text) or (shown is not None and
                                                     doc.text[start:end] != shown):
            raise StoreError(f"{doc.name}: the hit at [{start}, {end}) is not in the "
                             "transcript as it was found; search again (nothing was stored)")
        starts = [turn[1] for turn in doc.turns]
        index = bisect.bisect_right(starts, start) - 1
        if index < 0 or end > doc.turns[index][2]:
            raise StoreError(f"{doc.name}: the hit at [{start}, {end}) is not inside one turn")
        _, turn_start, turn_end, speaker, role = doc.turns[index]
        if unit == "turn":
            start, end = turn_start, turn_end
        elif unit == "sentence":
            key = (doc.id, index)
            if key not in sentences:
                sentences[key] = [(u.start, u.end) for _, units in analyse(
                    doc.text, [Turn(turn_start, turn_end, speaker, role)], "sentence",
                    roles=None) for u in units]
            around = [(s, e) for s, e in sentences[key] if s < end and start < e]
            if around:
                start, end = around[0][0], around[-1][1]
        spans.add((doc.id, start, end))
    return sorted(spans)


def _plural(n, noun):
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
