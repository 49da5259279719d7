"""Use cases that change the codebook from the app or a notebook: add, edit, move, merge codes.

Every edit stores a new codebook version (so history is kept) in one transaction with its event.
"""

from sqlalchemy import delete, select, update

from . import codebook_edit
from .store import CodeRow, CodingRow


class CodebookUseCases:
    """Mixed into Project; needs self.store, self.coder, self.codebook(), self._write_codebook."""

    def add_code(self, code_id, name, parent=None, **fields):
        codebook = codebook_edit.add_code(self.codebook(), code_id, name, parent, **fields)
        self._save_edit(codebook, "add_code", code=code_id)
        return codebook.get(code_id.strip())

    def update_code(self, code_id, **fields):
        """Edit name, definition, inclusion, exclusion, examples, keywords, patterns, colour."""
        codebook = codebook_edit.update_code(self.codebook(), code_id, **fields)
        self._save_edit(codebook, "update_code", code=code_id, fields=sorted(fields))
        return codebook.get(code_id)

    def move_code(self, code_id, parent=None):
        codebook = codebook_edit.move_code(self.codebook(), code_id, parent)
        self._save_edit(codebook, "move_code", code=code_id, parent=parent)
        return codebook.get(code_id)

    def merge_codes(self, source, target):
        """Move every coding of `source` to `target` (dropping exact duplicates), then retire
        `source`. Returns how many codings moved."""
        codebook = codebook_edit.merge_codes(self.codebook(), source, target)
        self._auto_backup("merge_codes")
        with self.store.transaction() as session:
            ids = dict(session.execute(select(CodeRow.key, CodeRow.id).where(
                CodeRow.key.in_([source, target]))).all())
            fields = (CodingRow.document_id, CodingRow.start, CodingRow.end, CodingRow.coder,
                      CodingRow.status)
            existing = set(session.execute(select(*fields).where(
                CodingRow.code_id == ids[target])).all())
            moving = session.execute(select(CodingRow.id, *fields).where(
                CodingRow.code_id == ids[source])).all()
            duplicates = [row.id for row in moving if tuple(row[1:]) in existing]
            dropped = [_coding_record(row) for row in session.scalars(
                select(CodingRow).where(CodingRow.id.in_(duplicates)))] if duplicates else []
            if duplicates:
                session.execute(delete(CodingRow).where(CodingRow.id.in_(duplicates)))
            moved = session.execute(update(CodingRow).where(CodingRow.code_id == ids[source])
                                    .values(code_id=ids[target])).rowcount
            self._write_codebook(session, codebook, origin=f"merge {source} into {target}")
            self.store.log(session, self.coder, "merge_codes", "code", ids[target],
                           source=source, target=target, moved=moved,
                           duplicates_dropped=len(duplicates),
                           moved_ids=[row.id for row in moving if row.id not in duplicates],
                           dropped=dropped)
        return moved

    def _save_edit(self, codebook, action, **detail):
        with self.store.transaction() as session:
            self._write_codebook(session, codebook, origin=action)
            self.store.log(session, self.coder, action, "codebook", None, **detail)


def _coding_record(row):
    """Every column of a coding, as the event log keeps it (so undo can put it back)."""
    return {column.key: getattr(row, column.key) for column in CodingRow.__table__.columns}
