"""What several use cases write, once: inside the caller's transaction (`session`), logged with
`store.log` under `coder`. The use-case modules call these instead of each other's methods.

- `store_parsed`: a parsed document, its turns and suggestions (ingest, batch);
- `store_suggestions`: suggestions merged per span and code, never over an existing coding;
- `add_codings`: codings with the one rule for "already there" (imports, merges, Word
  comments, REFI);
- `write_codebook`: a codebook as the current codes plus a version record;
- `document_named`, `turn_records`, `drop_empty_stem_cases`: lookups and upkeep they share.
"""

from sqlalchemy import insert, select

from ..errors import StoreError
from ..records import SUGGESTED, IngestResult, Turn
from ..storage.schema import (CaseRow, CodebookVersionRow, CodeRow, CodingRow, DocumentRow,
                              MemoRow, TurnRow, utcnow)
from .lookup import find_document, free_name, match_document

# One coding is already there when a coding of the same document, code, span, coder and status
# is stored (issue 14: this rule was written four times).
CODING_KEY = ("document_id", "code_id", "start", "end", "coder", "status")


def store_parsed(session, store, coder, parsed, path, suggestions, owners):
    """Store a parsed document unless a document of the same name and content is already here,
    and its suggestions. Returns (IngestResult, new suggestions). The cost of a file does not
    grow with the documents already stored: documents are found through the name and sha256
    indexes, cases through `owners` (lookup.CaseOwners)."""
    existing, notes = match_document(session, parsed.name, parsed.sha256)
    if existing is not None:
        added = store_suggestions(session, store, coder, existing.id, suggestions)
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
    store.log(session, coder, "ingest", "document", document_id, name=name,
              sha256=parsed.sha256, case=case_name, turns=len(parsed.turns))
    added = store_suggestions(session, store, coder, document_id, suggestions)
    return IngestResult(path=str(path), status="added", document=name, case=case_name,
                        turns=len(parsed.turns), words=parsed.words,
                        warnings=(*parsed.warnings, *notes)), added


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
