"""Finding stored documents: by name and content, by a name given loosely, a free name for a
new one, and the case a new document belongs to. One query per question through the indexes
on documents.name and documents.sha256, so the cost of a file does not grow with the
documents already stored (issue 13)."""

from pathlib import Path

from sqlalchemy import func, insert, select

from ..readers import participants as case_sheets
from ..storage.schema import AttributeRow, CaseRow, CodeRow, DocumentRow, ProjectRow, utcnow


def free_name(session, name):
    """`name`, or `stem (n).ext` with the lowest n not taken; asks only for names that could
    clash (through the name index), not for every document's name."""
    if session.scalar(select(DocumentRow.id).where(DocumentRow.name == name).limit(1)) is None:
        return name  # the usual case: one look in the name index
    stem, suffix = Path(name).stem, Path(name).suffix
    taken = set(session.scalars(select(DocumentRow.name).where(
        (DocumentRow.name == name) | DocumentRow.name.like(f"{_like(stem)} (%){_like(suffix)}",
                                                           escape="\\"))))
    if name not in taken:
        return name
    n = 2
    while f"{stem} ({n}){suffix}" in taken:
        n += 1
    return f"{stem} ({n}){suffix}"


def _like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def match_document(session, name, sha256, by_content=False):
    """The stored document a file of this name and content already is, and notes to report.

    A document is its name and its content (issue 13): the same name and text is the same
    document; the same text under another name is a document of its own (noted, since it may
    be a copy). With `by_content` (REFI re-imports, merging a coder's copy), a document with
    the same text and another name counts when it is the only one with that text (noted).
    Returns (DocumentRow or None, [notes])."""
    same_text = list(session.scalars(select(DocumentRow).where(DocumentRow.sha256 == sha256)
                                     .order_by(DocumentRow.id)))
    for document in same_text:
        if document.name == name:
            return document, []
    if not same_text:
        return None, []
    names = ", ".join(f"'{d.name}'" for d in same_text[:3]) + \
        (f" and {len(same_text) - 3} more" if len(same_text) > 3 else "")
    if by_content and len(same_text) == 1:
        return same_text[0], [f"'{name}' has the same text as {names}, taken as that document"]
    return None, [f"'{name}' has the same text as {names}; stored as a document of its own"]


def find_document(session, name):
    """A document by exact name, else the only one whose name matches ignoring case or
    extension. Returns (DocumentRow or None, note): the note says when a looser match was
    used, or lists the documents an ambiguous name could mean (and the row is None)."""
    name = str(name)
    exact = session.scalars(select(DocumentRow).where(DocumentRow.name == name)
                            .order_by(DocumentRow.id)).first()
    if exact is not None:
        return exact, None
    stem = Path(name).stem.lower()
    candidates = [d for d in session.scalars(select(DocumentRow).where(
        func.lower(DocumentRow.name).like(f"{_like(stem)}%", escape="\\")))
        if d.name.lower() == name.lower() or Path(d.name).stem.lower() == stem]
    if len(candidates) == 1:
        found = candidates[0]
        how = "ignoring case" if found.name.lower() == name.lower() else "by its name without " \
            "extension"
        return found, f"'{name}' is not a document name; matched '{found.name}' {how}"
    if candidates:
        listed = ", ".join(f"'{d.name}'" for d in candidates[:5])
        return None, f"'{name}' could be any of {listed}; give the full document name"
    return None, None


class CaseOwners:
    """Which case a new document belongs to. The cases that own files by a listed name or
    glob, or by an id prefix (cases from a sheet), are read once per ingest run, not once per
    file: a file's cost must not grow with the cases already stored. Any other document goes to
    the case named by its stem, found by name (an index) or made."""

    def __init__(self):
        self._listed = self._prefixed = None

    def case_for(self, session, document_name):
        """(case id, case name) of the case a new document named `document_name` belongs to;
        a case named by its stem is made when no case owns it."""
        if self._listed is None:
            with_attributes = set(session.scalars(select(AttributeRow.case_id).distinct()))
            rows = session.execute(select(CaseRow.id, CaseRow.name, CaseRow.files)
                                   .order_by(CaseRow.id)).all()
            self._listed = [(case_id, case_sheets.CaseEntry(name, tuple(files)))
                            for case_id, name, files in rows if files]
            self._prefixed = [(case_id, case_sheets.CaseEntry(name, ()))
                              for case_id, name, files in rows
                              if not files and case_id in with_attributes]
        for owners in (self._listed, self._prefixed):  # listed names and globs win
            for case_id, entry in owners:
                if entry.owns(document_name):
                    return case_id, entry.name
        stem = Path(document_name).stem
        found = session.scalar(select(CaseRow.id).where(CaseRow.name == stem))
        if found is None:  # a Core insert: an ORM object per file costs a flush
            table = CaseRow.__table__
            found = session.scalar(insert(table).values(name=stem, files=[], created_at=utcnow())
                                   .returning(table.c.id))
        return found, stem


def project_row(session):
    """The project's own row: name, creation time, settings."""
    return session.scalars(select(ProjectRow)).one()


def code_ids(session):
    """{code id: code row id} of every code, retired ones included."""
    return dict(session.execute(select(CodeRow.key, CodeRow.id)).all())
