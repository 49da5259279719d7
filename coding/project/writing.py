"""What several use cases write, once: inside the caller's transaction (`session`), logged with
`store.log` under `coder`. The use-case modules call these instead of each other's methods.

- `store_parsed`: a parsed document, its turns, suggestions and lemmas (ingest, batch);
- `store_lemmas`: a document's lemma index (batch, the first lemma search);
- `store_suggestions`: suggestions merged per span and code, never over an existing coding;
- `add_codings`: codings with the one rule for "already there" (imports, merges, Word
  comments, REFI);
- `write_codebook`: a codebook as the current codes plus a version record;
- `document_named`, `turn_records`, `drop_empty_stem_cases`: lookups and upkeep they share.
"""

from dataclasses import dataclass

from sqlalchemy import insert, select

from ..errors import StoreError
from ..records import SUGGESTED, IngestResult, Turn
from ..storage.schema import (AttributeRow, CaseRow, CodebookVersionRow, CodeRow, CodingRow,
                              DocumentRow, LemmaRow, MemoRow, ProjectRow, TurnRow, utcnow)
from .lookup import find_document, free_name, match_document

# One coding is already there when a coding of the same document, code, span, coder and status
# is stored (issue 14: this rule was written four times).
CODING_KEY = ("document_id", "code_id", "start", "end", "coder", "status")


@dataclass(frozen=True)
class StoredDocument:
    """What store_document did: the document's id, name and text, and whether it was added."""

    id: int
    name: str
    text: str
    case: str | None
    added: bool
    notes: tuple = ()


def store_parsed(session, store, coder, parsed, path, suggestions, owners, lemmas=None):
    """Store a parsed document (see store_document), its suggestions and, when given, its
    lemma index (`lemmas`: pipeline.lemma_spans of its text). Returns (IngestResult, new
    suggestions)."""
    stored = store_document(session, store, coder, parsed, path, owners)
    added = store_suggestions(session, store, coder, stored.id, suggestions)
    if stored.added and lemmas is not None:
        store_lemmas(session, stored.id, lemmas)
    if not stored.added:
        return IngestResult(path=str(path), status="duplicate", document=stored.name,
                            case=stored.case, warnings=parsed.warnings), added
    return IngestResult(path=str(path), status="added", document=stored.name, case=stored.case,
                        turns=len(parsed.turns), words=parsed.words,
                        warnings=(*parsed.warnings, *stored.notes)), added


def store_document(session, store, coder, parsed, path, owners, by_content=False, meta=None,
                   **logged):
    """Store a parsed document unless a document of the same name and content (with
    `by_content`, the only one with that content) is already here. `meta` is added to the
    document's metadata, `logged` to its ingest event. The cost of a file does not grow with
    the documents already stored: documents are found through the name and sha256 indexes,
    cases through `owners` (lookup.CaseOwners). Returns a StoredDocument."""
    existing, notes = match_document(session, parsed.name, parsed.sha256, by_content)
    if existing is not None:
        return StoredDocument(existing.id, existing.name, existing.text,
                              existing.case.name if existing.case else None, False,
                              tuple(notes))
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
        meta={**parsed.metadata, "source": str(path), **(meta or {})})
        .returning(documents.c.id))
    if parsed.turns:
        session.execute(insert(TurnRow.__table__), [
            dict(document_id=document_id, seq=i, speaker=t.speaker, role=t.role,
                 start=t.start, end=t.end, time_start=t.time_start, time_end=t.time_end)
            for i, t in enumerate(parsed.turns)])
    store.log(session, coder, "ingest", "document", document_id, name=name,
              sha256=parsed.sha256, case=case_name, turns=len(parsed.turns), **logged)
    return StoredDocument(document_id, name, parsed.text, case_name, True, tuple(notes))


def store_suggestions(session, store, coder, document_id, suggestions):
    """Merge rule and model suggestions for the same span and code; skip any span and code
    that already has a coding of any status. Returns how many were added."""
    if not suggestions:
        return 0
    codes = dict(session.execute(select(CodeRow.key, CodeRow.id)).all())
    taken = set(session.execute(select(CodingRow.code_id, CodingRow.start, CodingRow.end)
                                .where(CodingRow.document_id == document_id)).all())
    merged = {}
    for s in suggestions:
        key = (codes.get(s.code), s.start, s.end)
        if key[0] is None or key in taken:
            continue
        if key in merged:
            old = merged[key]
            merged[key] = (max(old[0], s.score), f"{old[1]}; {s.rationale}",
                           f"{old[2]}+{s.origin}")
        else:
            merged[key] = (s.score, s.rationale, s.origin)
    if merged:  # one executemany instead of an ORM object per suggestion
        session.execute(insert(CodingRow), [
            dict(document_id=document_id, code_id=code_id, start=start, end=end,
                 coder=origin.split(":")[0], status=SUGGESTED, origin=origin, score=score,
                 rationale=rationale)
            for (code_id, start, end), (score, rationale, origin) in merged.items()])
        store.log(session, coder, "suggest", "document", document_id, added=len(merged))
    return len(merged)


def store_lemmas(session, document_id, spans):
    """Store a document's lemma index from [(start, end, lemma)]: {lemma: [start, end, ...]}."""
    where = {}
    for start, end, lemma in spans:
        where.setdefault(lemma, []).extend((start, end))
    session.execute(insert(LemmaRow.__table__).values(document_id=document_id, spans=where))


def add_codings(session, rows):
    """Store codings, each unless one with the same CODING_KEY is stored or came earlier in
    `rows`. A row is a dict of coding fields (document_id, code_id, start, end, coder, status,
    origin; optionally score, rationale, created_at, reviewed_by, reviewed_at) with an optional
    "memos" list of memo fields (coder, text; optionally title, created_at, updated_at) to
    attach to a new coding. Returns (ids, added): for each row the id of its coding, new or
    already there, and whether it was added."""
    if not rows:
        return [], []
    documents = sorted({row["document_id"] for row in rows})
    existing = {tuple(found[1:]): found[0] for found in session.execute(
        select(CodingRow.id, *(getattr(CodingRow, field) for field in CODING_KEY))
        .where(CodingRow.document_id.in_(documents)))}
    codings, added = [], []
    for row in rows:
        key = tuple(row[field] for field in CODING_KEY)
        if key in existing:
            codings.append(existing[key])
            added.append(False)
            continue
        fields = {k: v for k, v in row.items() if k != "memos"
                  and not (k == "created_at" and v is None)}
        coding = CodingRow(**fields)
        session.add(coding)
        if row.get("memos"):
            session.flush()
            for memo in row["memos"]:
                session.add(MemoRow(target_type="coding", target_id=coding.id,
                                    **{k: v for k, v in memo.items() if v is not None}))
        existing[key] = coding
        codings.append(coding)
        added.append(True)
    session.flush()
    return [c if isinstance(c, int) else c.id for c in codings], added


def write_codebook(session, store, coder, codebook, origin):
    """Store the codebook's codes and a version record inside an open transaction."""
    write_codes(session, codebook)
    version = CodebookVersionRow(
        codebook_id=codebook.id, name=codebook.name, version=codebook.version,
        description=codebook.description, source=codebook.source, origin=origin,
        content={"codes": [vars(code) | {"examples": list(code.examples),
                                         "keywords": list(code.keywords),
                                         "patterns": list(code.patterns)}
                           for code in codebook.codes]},
        created_by=coder)
    session.add(version)
    session.flush()
    store.log(session, coder, "import_codebook", "codebook_version", version.id,
              codebook=codebook.id, origin=origin, codes=len(codebook.codes))


def write_codes(session, codebook):
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


def document_named(session, name, label):
    """The stored document called `name` (or the one document its name loosely matches), else
    a StoreError naming the project at `label`."""
    document, note = find_document(session, name)
    if document is None:
        raise StoreError(note or f"no document named '{name}' in this project", path=label)
    return document


def turn_records(document):
    """A stored document's turns (TurnRow, ordered) as Turn records: the one conversion."""
    return tuple(Turn(t.start, t.end, t.speaker, t.role, t.time_start, t.time_end)
                 for t in document.turns)


def drop_empty_stem_cases(session):
    """A case made from a file name stem goes once its document belongs to a sheet case."""
    used = set(session.scalars(select(DocumentRow.case_id)))
    for case in session.scalars(select(CaseRow)):
        if case.id not in used and not case.files and not case.attributes:
            session.delete(case)


def store_case(session, name, attributes, keep_known=False):
    """The case called `name` (made when new) with `attributes` ({name: (type, value)}) set;
    with `keep_known`, a None value never replaces a known one. Returns (case id, made)."""
    case = session.scalars(select(CaseRow).where(CaseRow.name == name)).first()
    made = case is None
    if made:
        case = CaseRow(name=name, files=[])
        session.add(case)
    set_attributes(case, attributes, keep_known)
    session.flush()
    return case.id, made


def set_attributes(case, attributes, keep_known=False):
    """Set a case's (CaseRow) attributes from {name: (type, value)}."""
    current = {a.name: a for a in case.attributes}
    for name, (kind, value) in attributes.items():
        if name in current:
            if not keep_known or value is not None or current[name].value is None:
                current[name].type, current[name].value = kind, value
        else:
            case.attributes.append(AttributeRow(name=name, type=kind, value=value))


def set_case_of(session, document_id, case_id):
    """Give a document to a case."""
    session.get(DocumentRow, document_id).case_id = case_id


def update_case_attributes_of(session, document_id, attributes, keep_known=False):
    """Set attributes on the case a document belongs to (nothing when it has none)."""
    document = session.get(DocumentRow, document_id)
    if document.case_id is not None:
        set_attributes(session.get(CaseRow, document.case_id), attributes, keep_known)


def existing_cases(session, case_ids):
    """The ids among `case_ids` that still exist (drop_empty_stem_cases may have removed some)."""
    session.flush()
    return set(session.scalars(select(CaseRow.id).where(CaseRow.id.in_(list(case_ids))))) \
        if case_ids else set()


def add_memos(session, memos):
    """Store memos (dicts: target_type, target_id, coder, title, text; optionally created_at),
    each unless an identical one (target, coder, title, text) is there or came before, and
    none without text. Returns how many were added."""
    existing = set(session.execute(select(MemoRow.target_type, MemoRow.target_id,
                                          MemoRow.coder, MemoRow.title, MemoRow.text)).all())
    added = 0
    for memo in memos:
        key = (memo["target_type"], memo["target_id"], memo["coder"], memo["title"],
               memo["text"])
        if key in existing or not memo["text"].strip():
            continue
        existing.add(key)
        row = MemoRow(**{k: v for k, v in memo.items() if k != "created_at"})
        if memo.get("created_at") is not None:
            row.created_at = row.updated_at = memo["created_at"]
        session.add(row)
        added += 1
    return added


def merge_settings(session, key, updates):
    """Merge {kind: {name: value}} into the project's settings[key] (each kind merged)."""
    row = session.scalars(select(ProjectRow)).one()
    settings = dict(row.settings or {})
    merged = {k: dict(v) for k, v in (settings.get(key) or {}).items()}
    for kind, mapping in updates.items():
        if mapping:
            merged[kind] = {**merged.get(kind, {}), **mapping}
    row.settings = {**settings, key: merged}


def merge_document_meta(session, document_id, key, mapping):
    """Merge `mapping` into a document's meta[key] (a dict), keeping what is there: REFI
    selection and coding GUIDs kept for the next export."""
    document = session.get(DocumentRow, document_id)
    meta = dict(document.meta or {})
    meta[key] = {**mapping, **(meta.get(key) or {})}
    document.meta = meta
